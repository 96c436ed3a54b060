"""The shape of the package: no import circle, no private name borrowed, no huge module.

These read the source with :mod:`ast` (nothing is imported), so a failure names the file,
the line and the name to fix. ``python tests/test_architecture.py`` prints every finding.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "fewpoints"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(module: str, level: int, here: str, is_package: bool) -> str:
    if level == 0:
        return module
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


@functools.cache
def _tree(path: Path) -> ast.Module:
    """The parsed source of ``path`` (parsed once a session; the checks only read it)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(name: str, path: Path):
    """(line, target module, imported name or None, local alias) for every fewpoints import."""
    tree = _tree(path)
    is_package = path.name == "__init__.py"
    # A module-level __getattr__ keeps an old import path working (with a
    # DeprecationWarning); what it imports lazily is the new home, not a dependency.
    shims = {
        id(n)
        for f in tree.body
        if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
        for n in ast.walk(f)
    }
    for node in ast.walk(tree):
        if id(node) in shims:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    yield node.lineno, alias.name, None, alias.asname or alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node.module or "", node.level, name, is_package)
            if target.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                yield node.lineno, target, alias.name, alias.asname or alias.name


def _edges() -> dict[str, set[str]]:
    """Module -> the fewpoints modules it imports (a name that is a submodule counts as it)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for name, path in MODULES.items():
        for _, target, imported, _alias in _imports(name, path):
            sub = f"{target}.{imported}" if imported else None
            dest = sub if sub in MODULES else target
            if dest in MODULES and dest != name:
                # A package's own __init__ importing its submodules is how packages work.
                if not dest.startswith(name + "."):
                    graph[name].add(dest)
    return graph


def import_cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = _edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def private_borrowings() -> list[str]:
    """Every use of another module's private name: imported, or read as ``module._name``."""
    found = []
    for name, path in MODULES.items():
        module_aliases = {}
        for line, target, imported, alias in _imports(name, path):
            if imported is None:
                module_aliases[alias] = target
                continue
            sub = f"{target}.{imported}"
            if sub in MODULES:
                module_aliases[alias] = sub
                if _is_private(imported.split(".")[-1]) and not sub.startswith(name):
                    found.append(f"{path.relative_to(SRC)}:{line} imports private module {sub}")
                continue
            if _is_private(imported) and target != name:
                found.append(f"{path.relative_to(SRC)}:{line} imports {target}.{imported}")
        for node in ast.walk(_tree(path)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and _is_private(node.attr)
            ):
                target = module_aliases[node.value.id]
                found.append(f"{path.relative_to(SRC)}:{node.lineno} reads {target}.{node.attr}")
    return found


def long_modules() -> list[str]:
    out = []
    for path in MODULES.values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out.append(f"{path.relative_to(SRC)}: {n} lines")
    return out


def test_no_import_cycle():
    assert import_cycles() == []


def test_no_private_name_of_another_module():
    assert private_borrowings() == []


def test_no_module_over_600_lines():
    assert long_modules() == []


if __name__ == "__main__":
    for title, items in (
        ("cycles", [" <-> ".join(c) for c in import_cycles()]),
        ("private names borrowed", private_borrowings()),
        ("long modules", long_modules()),
    ):
        print(f"== {title}: {len(items)}")
        for item in items:
            print("  ", item)
