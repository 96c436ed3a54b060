"""The house style: one look for every figure, and the words that say whose data it shows.

:data:`HOUSE_STYLE` is the one style definition (matplotlib rcParams): the
Okabe-Ito palette (safe for colour-blind readers), type sized for a figure
printed at A4 text width, no chart junk, and saved files that carry no
timestamp. :func:`data_labels` changes, inside a block, the words
(:data:`DATA_WORDS`) with which charts name their data, so that nothing
measured on a user's own file is labelled synthetic. :func:`new_axes` and
:func:`save_figure` open and save a figure in this style.
"""

from __future__ import annotations

import contextlib

import matplotlib as mpl
from matplotlib import pyplot as plt

#: The Okabe-Ito palette (Okabe & Ito 2008), distinguishable with any colour vision.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
#: Order in which series take colours (yellow last: weak on white paper).
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky_blue")]
OURS = OKABE_ITO["blue"]
PUBLISHED = OKABE_ITO["black"]
MUTED = "#6B6B6B"
FAINT = "#BDBDBD"

#: A4 text width is about 16 cm (6.3 in); figures are drawn at that size so 9-10 pt type stays 9-10 pt.
FIGSIZE = (6.3, 3.9)
SOURCE_LINE = "Synthetic data - fewpoints"
#: The words that say whose data a chart shows (see :func:`data_labels`).
DATA_WORDS = {
    "source": SOURCE_LINE,
    "series": "Synthetic city (this run)",
    "here": "This city",
    "recorded": "as recorded (antenna)",
}

#: The single style definition every figure uses (matplotlib rcParams).
HOUSE_STYLE = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.dpi": 300,
    "savefig.facecolor": "white",
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.labelsize": 9.5,
    "axes.labelcolor": "#222222",
    "axes.edgecolor": "#444444",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "grid.color": "#E3E3E3",
    "grid.linewidth": 0.7,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    # Files: text stays text in SVG, fonts are embedded as TrueType in PDF,
    # and SVG element ids are derived from a fixed salt (same figure, same bytes).
    "svg.fonttype": "none",
    "svg.hashsalt": "fewpoints",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
}

#: Metadata written into saved files: no timestamps, no software version, so one seed gives one file.
SAVE_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


def use_house_style() -> None:
    """Apply :data:`HOUSE_STYLE` to matplotlib globally (for a notebook session)."""
    mpl.rcParams.update(HOUSE_STYLE)


@contextlib.contextmanager
def house_style():
    """Context manager: :data:`HOUSE_STYLE` inside the block, the previous style after."""
    with mpl.rc_context(HOUSE_STYLE):
        yield


@contextlib.contextmanager
def data_labels(*, source: str, series: str, here: str, recorded: str | None = None):
    """Inside the block, charts say whose data they show in these words instead of "synthetic city".

    ``source`` is the small line at the bottom right, ``series`` the legend
    entry of the measured curve, ``here`` how a headline names the data
    ("This city: 95% singled out"), ``recorded`` how a coarsening chart names
    the locations as recorded. The audit of a user's own file uses it, so
    that nothing measured on real data is labelled synthetic.
    """
    old = dict(DATA_WORDS)
    DATA_WORDS.update(source=source, series=series, here=here)
    if recorded is not None:
        DATA_WORDS["recorded"] = recorded
    try:
        yield
    finally:
        DATA_WORDS.clear()
        DATA_WORDS.update(old)


def new_axes(ax=None, *, figsize=None):
    """``ax`` if given, else one Axes on a new house-style figure (constrained layout)."""
    if ax is not None:
        return ax
    with mpl.rc_context(HOUSE_STYLE):
        fig = plt.figure(figsize=figsize or FIGSIZE, layout="constrained")
        return fig.add_subplot()


def save_figure(fig, stem, formats=("png", "svg", "pdf")) -> list:
    """Save ``fig`` as ``stem.png`` (300 dpi), ``stem.svg`` (text as text), ``stem.pdf`` (fonts embedded).

    The files carry no timestamp or software version, so the same figure
    always gives the same PNG and SVG bytes.
    """
    from pathlib import Path

    stem = Path(stem)
    written = []
    with mpl.rc_context(HOUSE_STYLE):
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            fig.savefig(path, format=fmt, metadata=SAVE_METADATA[fmt])
            written.append(path)
    return written
