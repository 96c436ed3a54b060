"""The briefing pack: each figure as a recipe (world -> analysis -> plot) with its caption and alt text.

:data:`RECIPES` lists the briefing's figures in reading order. A recipe runs
its analysis on a :class:`BriefingContext` (one synthetic world plus the
sizes of the analyses) and returns a :class:`BriefingFigure`: the finding in
one sentence (the title), a caption of a few plain sentences, alt text, and
a ``draw(ax)`` that plots the computed result with :mod:`fewpoints.figures`.
Every number in a caption is read from the computed result, never typed in.

:func:`build_briefing` runs the recipes; :func:`write_briefing` writes each
figure as PNG (300 dpi), SVG (text as text) and PDF (fonts embedded),
``captions.md``, ``results.json``, ``briefing.html`` and the printable
``briefing.pdf`` through the one output writer
(:func:`fewpoints.io.atomic_folder`), so a folder is never half-written and
``--force`` replaces only what fewpoints wrote.

>>> from fewpoints import make_world
>>> from fewpoints.briefing import build_briefing, write_briefing
>>> figures = build_briefing(make_world("tiny", rng=0), rng=0)   # doctest: +SKIP
>>> write_briefing(figures, "briefing-out")                         # doctest: +SKIP

The package: :mod:`~fewpoints.briefing.context` (what a recipe runs on and
returns) and :mod:`~fewpoints.briefing.words` (how numbers are stated), the
recipes by family (:mod:`~fewpoints.briefing.unicity`,
:mod:`~fewpoints.briefing.population`, :mod:`~fewpoints.briefing.person`,
:mod:`~fewpoints.briefing.protection`, ordered in
:mod:`~fewpoints.briefing.recipes`), then the layout apart from them: the text
(:mod:`~fewpoints.briefing.document`), the summary page
(:mod:`~fewpoints.briefing.summary`), the page as HTML and PDF
(:mod:`~fewpoints.briefing.page`), the records (:mod:`~fewpoints.briefing.record`)
and the writing of the pack (:mod:`~fewpoints.briefing.pack`).
"""

from __future__ import annotations

from fewpoints.briefing.context import (  # noqa: F401 (re-exported)
    ATTACK_STREAM,
    BriefingContext,
    BriefingFigure,
    Recipe,
    Sizes,
    attack_rng,
    sizes_for,
)
from fewpoints.briefing.document import (  # noqa: F401 (re-exported)
    CONTEXT_SOURCES,
    COVER,
    COVER_TITLE,
    GLOSSARY,
    METHODS,
    REFERENCES,
    RESEARCH_SOURCES,
)
from fewpoints.briefing.pack import (  # noqa: F401 (re-exported)
    PACK_FILES,
    pack_files,
    picture,
    write_briefing,
    write_figures,
    write_page,
    write_record,
)
from fewpoints.briefing.page import (  # noqa: F401 (re-exported)
    CSS,
    briefing_html,
    briefing_pdf,
    cite,
    figure_html,
    page_head,
    pdf_renderer,
)
from fewpoints.briefing.population import (  # noqa: F401 (re-exported)
    FLAT,
    LIVE_SIZES,
    PopulationResult,
)
from fewpoints.briefing.protection import (
    release_settings,
)
from fewpoints.briefing.recipes import (  # noqa: F401 (re-exported)
    HEADLINES,
    RECIPES,
    build_briefing,
)
from fewpoints.briefing.record import (  # noqa: F401 (re-exported)
    RunInfo,
    captions_md,
    jsonable,
    results_json,
)
from fewpoints.briefing.summary import (
    KeyNumber,
    summary_numbers,
)
from fewpoints.briefing.words import (  # noqa: F401 (re-exported)
    FEW,
    SYNTHETIC,
    error_pct,
    fact,
    pct,
)

__all__ = [
    "PACK_FILES",
    "RECIPES",
    "BriefingContext",
    "BriefingFigure",
    "KeyNumber",
    "Recipe",
    "RunInfo",
    "Sizes",
    "attack_rng",
    "briefing_html",
    "build_briefing",
    "pack_files",
    "release_settings",
    "results_json",
    "sizes_for",
    "summary_numbers",
    "write_briefing",
]

# The helper's name before the split, which the tests still read.
_err = error_pct
