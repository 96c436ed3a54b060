"""Build the classroom notebooks (``notebooks/*.ipynb``) from their sources in ``notebooks/source/``.

A source is a Markdown file, one per notebook, easy to read and to review:

* prose is Markdown; a line holding only ``+++`` ends one Markdown cell and starts the next;
* a fenced block opened with three backticks and ``python`` is a code cell;
* a block opened with ``python solution`` is the solution of an exercise: a code cell that
  runs (so CI tests it) but opens collapsed (cell metadata ``jupyter.source_hidden``).

The notebooks are written with empty outputs; ``tests/test_notebooks.py`` checks that the
committed ``.ipynb`` files are exactly what this script builds. Edit a source, then run
``make notebooks`` (or ``python notebooks/build.py``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "source"

FENCE = re.compile(r"^```python(?:\s+(solution))?\s*$")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def parse(text: str, *, name: str = "source") -> list[tuple[str, str, bool]]:
    """Cells of a source as ``(kind, text, hidden)``, kind ``"markdown"`` or ``"code"``."""
    cells: list[tuple[str, str, bool]] = []
    lines: list[str] = []
    in_code, hidden, start = False, False, 0

    def flush(kind: str) -> None:
        body = "\n".join(lines).strip("\n")
        if body.strip():
            cells.append((kind, body, hidden if kind == "code" else False))
        elif kind == "code":
            raise ValueError(f"{name}:{start}: empty code cell")
        lines.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        if in_code:
            if line.rstrip() == "```":
                flush("code")
                in_code = False
            else:
                lines.append(line)
        elif m := FENCE.match(line):
            flush("markdown")
            in_code, hidden, start = True, m.group(1) == "solution", number
        elif line.strip() == "+++":
            flush("markdown")
        else:
            lines.append(line)
    if in_code:
        raise ValueError(f"{name}:{start}: code block never closed")
    flush("markdown")
    return cells


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook for one source file, outputs empty, cell ids stable."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, (kind, text, hidden) in enumerate(parse(source.read_text(), name=source.name)):
        cell_id = f"{source.stem[:2]}-{i:03d}"
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(text, id=cell_id)
        else:
            cell = nbformat.v4.new_code_cell(text, id=cell_id)
            if hidden:
                cell.metadata = {"jupyter": {"source_hidden": True}, "tags": ["solution"]}
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    """The notebook as the JSON text committed to git (what Jupyter itself writes)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else None
    sources = sorted(SOURCES.glob("*.md"))
    if names:
        sources = [s for s in sources if s.stem in names or s.name in names]
    for source in sources:
        target = HERE / f"{source.stem}.ipynb"
        text = dumps(build(source))
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            print(f"wrote {target.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
