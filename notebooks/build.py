"""Build both editions of the classroom notebooks from their sources in ``notebooks/source/``.

One Markdown source per lesson gives two notebooks, as ThinkStats builds its student and
solution folders from one source:

* ``notebooks/NN_name.ipynb``, the **student's edition**: after each exercise an empty cell
  for the student's prediction and attempt, then the answer hidden behind a button
  (``fewpoints.reveal.reveal``): "Run All" shows the button, never the answer;
* ``notebooks/teacher/NN_name.ipynb``, the **teacher's edition**: each answer as a plain code
  cell (run, so its output shows) followed by its debrief paragraph.

The source format:

* prose is Markdown; a line holding only ``+++`` ends one Markdown cell and starts the next;
* a fenced block opened with three backticks and ``python`` is a code cell;
* a block opened with ``python solution`` is the answer of the exercise above it;
* a block opened with ``debrief`` (Markdown) follows an answer: the teacher's edition shows it
  after the answer's output, the student's edition leaves it out.

Both editions start with one generated cell that installs fewpoints when, and only when, the
notebook runs in Colab (from the wheel ``make site`` builds, uploaded beside the notebook, or
from ``[tool.fewpoints.notebooks] repository`` in ``pyproject.toml`` when that is set) or in
JupyterLite (from the site's own package index).

The notebooks are written with empty outputs; ``tests/test_notebooks.py`` checks that the
committed ``.ipynb`` files are exactly what this script builds. Edit a source, then run
``make notebooks`` (or ``python notebooks/build.py``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import NamedTuple

import nbformat

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = HERE / "source"
TEACHER = HERE / "teacher"
EDITIONS = ("student", "teacher")

FENCE = re.compile(r"^```(?:python(?:\s+(solution))?|(debrief))\s*$")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
PREDICT = (
    "*Before you look, write your prediction in the empty cell below, as a comment starting "
    "with `#` (and, if you like, try it yourself in code there); then click **Show the "
    "answer** under it.*"
)
TEACHER_BANNER = (
    "> **Teacher's edition.** Answers run and show their output, each followed by a debrief. "
    "The student's edition of this lesson (`notebooks/{name}`) hides every answer until the "
    "student asks for it."
)


class Cell(NamedTuple):
    """One cell of a source: ``kind`` is markdown, code, solution or debrief."""

    kind: str
    text: str
    line: int


def parse(text: str, *, name: str = "source") -> list[Cell]:
    """Cells of a source, in order; a solution must follow an exercise's Markdown."""
    cells: list[Cell] = []
    lines: list[str] = []
    kind, start = "markdown", 1

    def flush() -> None:
        body = "\n".join(lines).strip("\n")
        if body.strip():
            cells.append(Cell(kind, body, start))
        elif kind != "markdown":
            raise ValueError(f"{name}:{start}: empty {kind} block")
        lines.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        if kind != "markdown":
            if line.rstrip() == "```":
                flush()
                kind, start = "markdown", number + 1
            else:
                lines.append(line)
        elif m := FENCE.match(line):
            flush()
            kind = "solution" if m.group(1) else "debrief" if m.group(2) else "code"
            start = number
        elif line.strip() == "+++":
            flush()
            start = number + 1
        else:
            lines.append(line)
    if kind != "markdown":
        raise ValueError(f"{name}:{start}: {kind} block never closed")
    flush()
    for before, cell in zip(cells, cells[1:], strict=False):
        if cell.kind == "debrief" and before.kind != "solution":
            raise ValueError(f"{name}:{cell.line}: a debrief must follow a solution")
        if cell.kind == "solution" and before.kind != "markdown":
            raise ValueError(f"{name}:{cell.line}: a solution must follow its exercise's text")
    return cells


def repository() -> str:
    """The repository address the Colab cell installs from (``pyproject.toml``), or ''."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config.get("tool", {}).get("fewpoints", {}).get("notebooks", {}).get("repository", "")


def install_cell() -> str:
    """The first cell of every lesson: installs fewpoints in Colab or JupyterLite, else nothing."""
    repo = repository()
    if repo:
        colab = f'    %pip install -q "fewpoints[notebooks] @ {repo}"'
    else:
        colab = (
            '    wheel = sorted(glob.glob("fewpoints-*.whl")) or sys.exit('
            '"Upload the fewpoints wheel (see the teacher\'s guide), then run this cell again.")\n'
            "    %pip install -q {wheel[-1]}"
        )
    return (
        "import glob, sys  # In Colab or JupyterLite only: install fewpoints. Elsewhere: nothing.\n"
        'if "google.colab" in sys.modules:\n'
        f"{colab}\n"
        'elif sys.platform == "emscripten":\n'
        "    %pip install fewpoints"
    )


def _reveal_source(code: str, exercise: int, name: str) -> str:
    if '"""' in code or code.endswith("\\"):
        raise ValueError(f'{name}: exercise {exercise}: an answer may not hold """ or end in \\')
    return f'from fewpoints.reveal import reveal\n\nreveal(r"""\n{code}\n""", exercise={exercise})'


def build(source: Path, edition: str = "student") -> nbformat.NotebookNode:
    """One edition (``"student"`` or ``"teacher"``) of a source, outputs empty, cell ids stable."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    cells = parse(source.read_text(), name=source.name)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    out: list[nbformat.NotebookNode] = []
    exercise = 0
    first_code = next(i for i, c in enumerate(cells) if c.kind == "code")
    for i, cell in enumerate(cells):
        if i == first_code:
            out.append(nbformat.v4.new_code_cell(install_cell(), metadata={"tags": ["install"]}))
        following = cells[i + 1] if i + 1 < len(cells) else None
        if cell.kind == "markdown":
            text = cell.text
            if i == 0 and edition == "teacher":
                text += "\n\n" + TEACHER_BANNER.format(name=f"{source.stem}.ipynb")
            if following is not None and following.kind == "solution" and edition == "student":
                text += "\n\n" + PREDICT
            out.append(nbformat.v4.new_markdown_cell(text))
        elif cell.kind == "code":
            out.append(nbformat.v4.new_code_cell(cell.text))
        elif cell.kind == "solution":
            exercise += 1
            if edition == "student":
                out.append(nbformat.v4.new_code_cell("", metadata={"tags": ["prediction"]}))
                out.append(
                    nbformat.v4.new_code_cell(
                        _reveal_source(cell.text, exercise, source.name),
                        metadata={"jupyter": {"source_hidden": True}, "tags": ["solution"]},
                    )
                )
            else:
                out.append(nbformat.v4.new_code_cell(cell.text, metadata={"tags": ["solution"]}))
        elif edition == "teacher":  # a debrief
            out.append(
                nbformat.v4.new_markdown_cell(
                    f"**Debrief.** {cell.text}", metadata={"tags": ["debrief"]}
                )
            )
    for j, cell in enumerate(out):
        cell.id = f"{source.stem[:2]}-{j:03d}"
    nb.cells = out
    nbformat.validate(nb)
    return nb


def target(source: Path, edition: str) -> Path:
    """Where an edition of a source is committed."""
    folder = HERE if edition == "student" else TEACHER
    return folder / f"{source.stem}.ipynb"


def dumps(nb: nbformat.NotebookNode) -> str:
    """The notebook as the JSON text committed to git (what Jupyter itself writes)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else None
    sources = sorted(SOURCES.glob("*.md"))
    if names:
        sources = [s for s in sources if s.stem in names or s.name in names]
    TEACHER.mkdir(exist_ok=True)
    for source in sources:
        for edition in EDITIONS:
            path = target(source, edition)
            text = dumps(build(source, edition))
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
