"""Writing the briefing pack: each figure's files, the records, the page and the PDF, all or nothing.

:func:`write_briefing` saves every figure as PNG, SVG and PDF, then
``captions.md``, ``results.json``, ``briefing.html`` and ``briefing.pdf``
through the one output writer (:func:`fewpoints.io.atomic_folder`);
:func:`pack_files` names those files before any work is done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from fewpoints import figures as F
from fewpoints.briefing.context import BriefingFigure
from fewpoints.briefing.page import briefing_html, briefing_pdf, pdf_renderer
from fewpoints.briefing.recipes import RECIPES
from fewpoints.briefing.record import RunInfo, captions_md, results_json
from fewpoints.schema import FewpointsError


def picture(fig: BriefingFigure, stem: Path) -> tuple[str, bytes]:
    """The figure as it goes inline into the HTML and the PDF: the SVG, or the PNG if the SVG is heavy."""
    svg = stem.with_suffix(".svg").read_bytes()
    if len(svg) <= 1_500_000:
        return "image/svg+xml", svg
    return "image/png", stem.with_suffix(".png").read_bytes()


def write_figures(
    figs: Sequence[BriefingFigure],
    folder: Path,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, tuple[str, bytes]]:
    """Save each figure as ``NAME.png``, ``NAME.svg`` and ``NAME.pdf`` in ``folder``.

    Returns each figure's :func:`picture` by name, for the page. ``progress``
    hears "writing figures" from 0 to 1.
    """
    from matplotlib import pyplot as plt

    images = {}
    for i, fig in enumerate(figs):
        if progress:
            progress("writing figures", i / len(figs))
        mfig = fig.figure()
        F.save_figure(mfig, folder / fig.name)
        plt.close(mfig)
        images[fig.name] = picture(fig, folder / fig.name)
    if progress:
        progress("writing figures", 1.0)
    return images


def write_record(folder: Path, captions: str, name: str, record: dict) -> None:
    """Write ``captions.md`` and the numbers ``record`` as JSON file ``name`` in ``folder``."""
    import json

    (folder / "captions.md").write_text(captions, encoding="utf-8")
    (folder / name).write_text(
        json.dumps(record, indent=1, allow_nan=False) + "\n",
        encoding="utf-8",
    )


def write_page(folder: Path, stem: str, page: str) -> None:
    """Write the HTML ``page`` as ``STEM.html`` and, laid out for print, ``STEM.pdf``."""
    (folder / f"{stem}.html").write_text(page, encoding="utf-8")
    briefing_pdf(folder / f"{stem}.pdf", page)


#: The pack's files besides each figure's ``NAME.png``, ``NAME.svg`` and ``NAME.pdf``.
PACK_FILES = ("briefing.html", "briefing.pdf", "captions.md", "results.json")


def pack_files(figs: Sequence[BriefingFigure] | None = None) -> list[str]:
    """The names of the files :func:`write_briefing` writes for ``figs``.

    Without ``figs``, those of the figures :data:`RECIPES` would make in this
    build (a figure is named ``N-recipe``, N its place in RECIPES). Known
    before any work, so ``--force`` may replace a pack written before
    manifests existed, and refuse anything else, before the world is made.
    """
    if figs is None:
        names = [f"{i}-{r.name}" for i, r in enumerate(RECIPES, 1) if r.available()]
    else:
        names = [f.name for f in figs]
    return sorted([f"{n}.{ext}" for n in names for ext in ("png", "svg", "pdf")] + list(PACK_FILES))


def write_briefing(
    figs: Sequence[BriefingFigure],
    out,
    *,
    force: bool = False,
    command: str = "fewpoints briefing",
    progress: Callable[[str, float], None] | None = None,
) -> list[Path]:
    """Write the briefing pack to folder ``out``; return the files written.

    Each figure as ``NAME.png`` (300 dpi), ``NAME.svg`` (text as text) and
    ``NAME.pdf`` (TrueType fonts embedded), then ``captions.md``,
    ``results.json`` (the numbers the pack states), ``briefing.html`` (one
    self-contained, accessible page) and ``briefing.pdf`` (the same page laid
    out for print by WeasyPrint, tagged PDF/UA: cover, summary, one page per
    figure, methods, references), all through the one output writer
    (:func:`fewpoints.io.atomic_folder`): nothing half-written is ever seen,
    the folder's manifest lists every file, and an existing non-empty ``out``
    is refused unless ``force``, which replaces only what fewpoints wrote there.
    """
    from fewpoints.io import atomic_folder

    if not figs:
        raise FewpointsError("no figures to write")
    pdf_renderer()  # fail before any work when the PDF cannot be made
    run = RunInfo.now(command)
    out = Path(out)
    with atomic_folder(out, force=force, expect=pack_files(figs)) as tmp:
        images = write_figures(figs, tmp, progress)
        if progress:
            progress("writing briefing.html and briefing.pdf", 0.0)
        write_record(tmp, captions_md(figs, command), "results.json", results_json(figs, run))
        write_page(tmp, "briefing", briefing_html(figs, run, images))
        if progress:
            progress("writing briefing.html and briefing.pdf", 1.0)
        names = sorted(p.name for p in tmp.iterdir())
    return [out / name for name in names]
