"""The classroom notebooks: built from their sources, stripped in git, and run top to bottom.

Each notebook is executed once, in a fresh kernel, with ``MPLBACKEND=Agg`` set on
purpose (the setting that silently drops inline figures): its setup cell must select
the inline backend itself, so figures appear wherever a student opens it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pkgutil
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
_spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in PATHS]
#: Seconds a whole notebook may take; the target is 2 minutes on a quiet 2-core laptop,
#: the budget leaves room for a machine shared with other jobs.
BUDGET_S = float(os.environ.get("FEWPOINTS_NOTEBOOK_TIMEOUT", "300"))


def test_there_are_notebooks_and_each_has_a_source():
    assert PATHS, "no notebooks found in notebooks/"
    sources = {p.stem for p in build.SOURCES.glob("*.md")}
    assert {p.stem for p in PATHS} == sources


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_committed_notebook_is_its_built_source(path):
    built = build.dumps(build.build(build.SOURCES / f"{path.stem}.md"))
    assert path.read_text() == built, f"{path.name} is out of date: run `make notebooks`"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_committed_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name} cell {i} has outputs: strip them"
            assert cell["execution_count"] is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in nb["metadata"], f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_notebook_has_the_shape_of_a_lesson(path):
    nb = nbformat.read(path, as_version=4)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and md[0].startswith("# "), "title first"
    assert re.search(r"you will learn", md[0] + md[1], re.I), "'You will learn' near the top"
    assert "SEED = 0" in code[0].source and "import" in code[0].source, "one setup cell first"
    assert sum("SEED = " in c.source for c in code) == 1, "SEED is set once, in the setup cell"
    assert "%matplotlib inline" in code[0].source, "the setup cell selects inline figures"
    hidden = [c for c in code if c.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden, "at least one exercise with a (collapsed) solution"
    assert any(re.search(r"^#+ .*exercise", m, re.I | re.M) for m in md), "an Exercises section"
    assert any(re.search(r"^#+ Glossary", m, re.M) for m in md), "a Glossary section"
    assert "synthetic" in md[-1].lower(), "a footer saying the data are synthetic"
    lines = sorted(len(c.source.splitlines()) for c in code)
    assert lines[len(lines) // 2] <= 5, "code cells stay short (median lines)"


def _teaching_warnings() -> set[str]:
    """Names of the package's own warning classes (UserWarning subclasses meant to teach)."""
    import fewpoints

    names = set()
    for info in pkgutil.walk_packages(fewpoints.__path__, "fewpoints."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, UserWarning) and obj is not UserWarning:
                names.add(obj.__name__)
    return names


def _stderr_problems(nb, allowed: set[str]) -> list[str]:
    """Stderr outputs other than the package's teaching warnings."""
    problems = []
    warning = re.compile(r"\b(\w+Warning): ")
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                found = set(warning.findall(out.text))
                if not found or not found <= allowed:
                    problems.append(f"cell {i}: {out.text.strip()[:300]}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_notebook_runs_and_shows_its_figures(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the trap: the notebook must undo it itself
    nb = nbformat.read(path, as_version=4)
    deadline = time.monotonic() + BUDGET_S
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        allow_errors=False,
    )
    start = time.monotonic()
    try:
        client.execute()
    except nbclient.exceptions.CellTimeoutError:
        pytest.fail(f"{path.name} did not finish within {BUDGET_S:.0f} s")
    elapsed = time.monotonic() - start
    outputs = [out for cell in nb.cells for out in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no inline figure (is the backend inline?)"
    assert not _stderr_problems(nb, _teaching_warnings())
    print(f"{path.name}: {elapsed:.1f} s")
