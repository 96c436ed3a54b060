"""Build the lessons as a static website, offline: ``make site`` -> ``build/site/``.

What it writes:

* ``lessons/NN_name.html``: each teacher's edition, executed here (two at a time) and
  rendered with nbconvert's lab template (every output, figure and debrief; formulas
  typeset by a copy of MathJax served by the site itself, so nothing is fetched from a CDN);
* ``index.html`` (the syllabus and the ways in), ``guide.html`` (the teacher's guide,
  ``notebooks/README.md``) and ``references.html`` (``docs/references.md``);
* ``notebooks/`` (the student's and teacher's ``.ipynb`` files, to download or open in
  Colab), ``worksheets/`` (one PDF page per lesson) and the package's wheel
  ``fewpoints-VERSION-py3-none-any.whl`` (what a lesson's first cell installs in Colab);
* ``lite/``: a JupyterLite copy of the student's editions with the wheel in its package
  index (its Pyodide kernel is fetched from a CDN when a notebook opens: the build works
  offline, running it needs that network access).

    python notebooks/site.py --out build/site --mathjax DIR   # DIR holds tex-chtml-full.js
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbclient
import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import TagRemovePreprocessor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEMPLATES = HERE / "site_template"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"notebooks_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load("build")
worksheets = _load("worksheets")

STYLE = """
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
       max-width: 60rem; margin: 0 auto; padding: 0 1.2rem 3rem; }
nav { padding: .7rem 0; border-bottom: 1px solid #c9d6e3; margin-bottom: 1rem; }
h1 { font-size: 2rem; margin: 1rem 0 .3rem; } h2 { margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .93rem; }
th, td { border: 1px solid #c9d6e3; padding: .35rem .6rem; vertical-align: top; text-align: left; }
th { background: #eef3f8; } code { font-size: .9em; background: #f3f5f7; padding: 0 .2em; }
pre { background: #f3f5f7; padding: .7rem; overflow-x: auto; }
img { max-width: 100%; } .note { background: #fff8e1; border-left: 4px solid #e69f00; padding: .6rem 1rem; }
.lessons td:first-child { white-space: nowrap; }
"""


def page(title: str, body: str, *, root: str = "") -> str:
    """A plain HTML page of the site, with MathJax from the site itself."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
<script>window.MathJax = {{tex: {{inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true}}}};</script>
<script defer src="{root}mathjax/tex-chtml-full.js"></script>
</head><body>
<nav><a href="{root}index.html">fewpoints lessons</a> &middot; <a href="{root}guide.html">teacher's guide</a>
&middot; <a href="{root}references.html">references</a></nav>
{body}
<p><em>All data in these lessons are synthetic: no real person is in any table.</em></p>
</body></html>
"""


def execute(path: Path) -> nbformat.NotebookNode:
    """Run one notebook in a fresh kernel, as saved (the teacher's edition runs every answer)."""
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(HERE)}}
    ).execute()
    return nb


def _relink(text: str, *, lessons: str) -> str:
    """Links between lessons and to the docs, as pages of the site."""
    text = re.sub(r'href="(?:teacher/)?(\d\d_[a-z_]+)\.ipynb"', rf'href="{lessons}\1.html"', text)
    text = text.replace('href="../docs/references.md"', f'href="{lessons}../references.html"')
    return text.replace('href="docs/references.md"', f'href="{lessons}../references.html"')


WIDGET = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[Sliders appear here when the notebook runs in Jupyter or Colab; a static page has no kernel to move them.]"


def _without_widgets(nb: nbformat.NotebookNode) -> None:
    """Widget views need a live kernel (and a widget manager from a CDN): say so instead."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if WIDGET in out.get("data", {}):
                out["data"] = {"text/plain": WIDGET_NOTE}


def render_lesson(nb: nbformat.NotebookNode) -> str:
    """A lesson page: the executed notebook without its Colab install cell, widgets described."""
    _without_widgets(nb)
    exporter = HTMLExporter(
        template_name="fewpoints",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_anchor_links=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"install"}), enabled=True
    )
    body, _ = exporter.from_notebook_node(nb, resources={"site_root": "../"})
    return _relink(body, lessons="")


def render_markdown(path: Path, title: str, *, links) -> str:
    text = path.read_text()
    for old, new in links:
        text = text.replace(old, new)
    return page(title, _relink(markdown2html_mistune(text), lessons="lessons/"))


def index(lessons: list[dict], wheel: str, lite: bool) -> str:
    rows = "\n".join(
        f'<tr><td>{i["number"]}</td><td><a href="lessons/{i["stem"]}.html">{html.escape(i["title"])}</a></td>'
        f'<td><a href="notebooks/{i["stem"]}.ipynb" download>student\'s</a> &middot; '
        f'<a href="notebooks/teacher/{i["stem"]}.ipynb" download>teacher\'s</a></td>'
        f'<td><a href="worksheets/{i["stem"]}.pdf">worksheet (PDF)</a></td></tr>'
        for i in lessons
    )
    lite_part = (
        '<li><strong>In the browser, with JupyterLite (experimental):</strong> <a href="lite/lab/index.html">'
        "open the student's editions</a>. Its Python kernel is downloaded from a public CDN when a "
        "notebook opens, so it needs internet access beyond this site.</li>"
        if lite
        else ""
    )
    body = f"""
<h1>How few points make "anonymized" location data unique</h1>
<p>Six lessons on one question: does a location dataset without names keep people anonymous?
Each is a short notebook answering it on a synthetic city. The pages below are the
<strong>teacher's editions with every output</strong>: read them without installing anything.</p>
<table class="lessons"><tr><th>#</th><th>lesson (with outputs)</th><th>notebooks</th><th>print</th></tr>
{rows}
</table>
<h2>Ways in</h2>
<ul>
<li><strong>Read:</strong> the lesson pages above, and the <a href="guide.html">teacher's guide</a>
(50-minute plans, answer key, misconceptions, discussion questions).</li>
<li><strong>Run in Colab, nothing to install:</strong> download a student's notebook above and the
package's wheel, <a href="{wheel}" download><code>{wheel}</code></a>. In Colab: File &gt; Upload
notebook, then upload the wheel with the Files pane and run the notebook's first cell (in Colab,
and only there, it installs fewpoints from that wheel).</li>
{lite_part}
<li><strong>On your own machine:</strong> clone the repository and run <code>make lab</code>.</li>
</ul>
<p class="note">In the student's edition every exercise has an empty cell for the prediction and a
<strong>Show the answer</strong> button: "Run All" runs the lesson but never shows an answer.</p>
"""
    return page("fewpoints: the lessons", body)


def build_wheel(out: Path) -> str:
    """The package's wheel, built from this checkout (no network: the build backend is installed)."""
    for old in out.glob("fewpoints-*.whl"):
        old.unlink()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = out.glob("fewpoints-*.whl")
    return wheel.name


def build_lite(out: Path, wheel: Path, notebooks: list[Path]) -> None:
    """JupyterLite with the student's editions and the fewpoints wheel in its package index."""
    work = out.parent / ".lite-work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "contents").mkdir(parents=True)
    for nb in notebooks:
        shutil.copy(nb, work / "contents" / nb.name)
    subprocess.run(
        [sys.executable, "-m", "jupyter", "lite", "build", "--contents", "contents",
         "--piplite-wheels", str(wheel), "--output-dir", str(out), "--log-level", "WARN"],
        cwd=work, check=True,
    )  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--mathjax", type=Path, required=True, help="folder with tex-chtml-full.js")
    parser.add_argument("--no-lite", action="store_true", help="skip the JupyterLite build")
    args = parser.parse_args(argv)
    mathjax = args.mathjax / "tex-chtml-full.js"
    if not mathjax.is_file():
        parser.error(f"no MathJax at {mathjax} (make site installs it)")
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    (out / "lessons").mkdir(parents=True)
    os.environ.pop("MPLBACKEND", None)

    sources = sorted(build.SOURCES.glob("*.md"))
    teacher = [build.target(s, "teacher") for s in sources]
    student = [build.target(s, "student") for s in sources]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        executed = list(pool.map(execute, teacher))
    print(f"executed {len(teacher)} teacher's editions in {time.monotonic() - start:.0f} s")
    lessons = []
    for source, nb in zip(sources, executed, strict=True):
        (out / "lessons" / f"{source.stem}.html").write_text(render_lesson(nb))
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
        lessons.append(
            {"stem": source.stem, "number": int(source.stem[:2]), "title": title.split(". ", 1)[-1]}
        )

    (out / "mathjax" / "output").mkdir(parents=True)
    shutil.copy(mathjax, out / "mathjax" / mathjax.name)
    fonts = args.mathjax / "output" / "chtml" / "fonts"
    if fonts.is_dir():
        shutil.copytree(fonts, out / "mathjax" / "output" / "chtml" / "fonts")
    (out / "notebooks" / "teacher").mkdir(parents=True)
    for s, t in zip(student, teacher, strict=True):
        shutil.copy(s, out / "notebooks" / s.name)
        shutil.copy(t, out / "notebooks" / "teacher" / t.name)
    (out / "worksheets").mkdir()
    for source in sources:
        worksheets.worksheet(source).output(str(out / "worksheets" / f"{source.stem}.pdf"))
    for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (HERE / "README.md").read_text()):
        shutil.copy(HERE / picture, out / picture)
    wheel = build_wheel(out)
    (out / "guide.html").write_text(
        render_markdown(HERE / "README.md", "fewpoints: the teacher's guide", links=[])
    )
    (out / "references.html").write_text(
        render_markdown(ROOT / "docs" / "references.md", "fewpoints: references", links=[])
    )
    if not args.no_lite:
        build_lite(out / "lite", out / wheel, student)
    (out / "index.html").write_text(index(lessons, wheel, lite=not args.no_lite))
    print(f"wrote the site to {out} (open {out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
