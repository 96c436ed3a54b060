"""Figures: one house style and a ``plot_*`` function per finding.

Every ``plot_*(result, *, ax=None) -> Axes`` only draws a result computed
elsewhere (an attack's table or result object); none of them runs an
analysis. They share one style, :data:`HOUSE_STYLE`: the Okabe-Ito palette
(safe for colour-blind readers), type sized for a figure printed at A4 text
width, no chart junk, plain-language axis labels with units, the headline
number written on the chart, and a small source line saying the data are
synthetic.

>>> from fewpoints.figures import house_style, plot_unicity_curve
>>> with house_style():                                    # doctest: +SKIP
...     ax = plot_unicity_curve(curve)
"""

from __future__ import annotations

import contextlib
import textwrap

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from matplotlib.transforms import Bbox, offset_copy

from fewpoints.schema import FewpointsError

__all__ = [
    "FIGSIZE",
    "HOUSE_STYLE",
    "OKABE_ITO",
    "SAVE_METADATA",
    "SOURCE_LINE",
    "data_labels",
    "house_style",
    "new_axes",
    "plot_anonymity_sets",
    "plot_device_week",
    "plot_naming",
    "plot_population",
    "plot_privacy_utility",
    "plot_resolution",
    "privacy_utility_size",
    "plot_unicity_curve",
    "save_figure",
    "use_house_style",
]

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
_DATA = {
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
    old = dict(_DATA)
    _DATA.update(source=source, series=series, here=here)
    if recorded is not None:
        _DATA["recorded"] = recorded
    try:
        yield
    finally:
        _DATA.clear()
        _DATA.update(old)


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


# ---------------------------------------------------------------------------
# small drawing helpers shared by the plots
# ---------------------------------------------------------------------------


def percent_axis(ax, axis="y", *, top=1.0) -> None:
    fmt = FuncFormatter(lambda v, _: f"{v:.0%}")
    if axis == "y":
        ax.set_ylim(0, top)
        ax.yaxis.set_major_formatter(fmt)
    else:
        ax.set_xlim(0, top)
        ax.xaxis.set_major_formatter(fmt)


def source_line(ax) -> None:
    """The small "Synthetic data - fewpoints" line at the figure's bottom right (once per figure)."""
    fig = ax.figure
    if any(t.get_gid() == "fewpoints-source" for t in fig.texts):
        return
    fig.supxlabel(_DATA["source"], x=0.995, ha="right", fontsize=8, color=MUTED)
    fig._supxlabel.set_gid("fewpoints-source")


def _headline(ax, text, xy, xytext, *, ha="left", va="center", coords="offset points", arrow=True):
    """The headline number, in bold, with a thin leader to the point it describes."""
    return ax.annotate(
        text,
        xy=xy,
        xytext=xytext,
        textcoords=coords,
        ha=ha,
        va=va,
        fontsize=10,
        fontweight="bold",
        color="#111111",
        arrowprops={"arrowstyle": "-", "color": "#555555", "lw": 0.8, "shrinkB": 4}
        if arrow
        else None,
        gid="headline",
        zorder=6,
    )


def _clear_spot(ax, note, points, lines, candidates) -> None:
    """Move a headline to the candidate spot that hides the fewest data points.

    ``points`` (markers) and ``lines`` (vertices of drawn curves, which
    matter less) are in data coordinates; ``candidates`` are
    ``((x, y), ha, va)`` in axes fraction. Covering the legend costs as
    much as covering markers, in proportion to the area covered.
    """
    # Lay the figure out first: limits and positions are final only then.
    ax.figure.draw_without_rendering()
    renderer = ax.figure.canvas.get_renderer()
    legend = ax.get_legend()
    marks = ax.transData.transform(points) if len(points) else np.empty((0, 2))
    curve = ax.transData.transform(lines) if len(lines) else np.empty((0, 2))

    def inside(xy, box) -> int:
        x_in = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1)
        return int((x_in & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)).sum())

    best = None
    for pos, ha, va in candidates:
        note.set_position(pos)
        note.set_horizontalalignment(ha)
        note.set_verticalalignment(va)
        box = Text.get_window_extent(note, renderer).padded(4)  # the text, not its leader
        cost = 10 * inside(marks, box) + inside(curve, box)
        if legend is not None:
            # Text over the legend is as bad as over markers; a sliver of margin is not.
            both = Bbox.intersection(box, legend.get_window_extent(renderer))
            if both is not None:
                cost += 1000 * both.width * both.height / (box.width * box.height)
        if best is None or cost < best[0]:
            best = (cost, pos, ha, va)
    _, pos, ha, va = best
    note.set_position(pos)
    note.set_horizontalalignment(ha)
    note.set_verticalalignment(va)


def need_columns(table, columns, what) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise FewpointsError(f"{what} needs a DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise FewpointsError(f"{what}: the table lacks column(s) {', '.join(missing)}")
    if table.empty:
        raise FewpointsError(f"{what}: the table is empty")
    return table


def fmt_count(n: float) -> str:
    n = float(n)
    if n >= 1e6:
        v = n / 1e6
        return f"{v:.0f} million" if v >= 10 or v == int(v) else f"{v:.1f} million"
    return f"{n:,.0f}"


def fmt_round(n: float) -> str:
    """A count in words to two significant figures: 9,991,019 -> "10 million", 101,873 -> "100,000"."""
    n = float(n)
    digits = int(np.floor(np.log10(n))) - 1 if n >= 10 else 0
    return fmt_count(round(n / 10**digits) * 10**digits)


def error_bars(table, value="unicity"):
    v = table[value].to_numpy(float)
    return np.vstack([v - table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float) - v])


# ---------------------------------------------------------------------------
# 1. how many points it takes
# ---------------------------------------------------------------------------

#: de Montjoye et al. 2013 (firm): 4 random spatio-temporal points make 95% of 1.5M people unique.
PUBLISHED_UNICITY = {"n_points": 4, "unicity": 0.95, "source": "de Montjoye et al. 2013"}
#: Farzanehfar et al. 2021 (firm): 93% unique with 4 points at 60M people.
PUBLISHED_POPULATION = {
    "n_devices": 60e6,
    "n_points": 4,
    "unicity": 0.93,
    "source": "Farzanehfar et al. 2021",
}


def plot_unicity_curve(curve: pd.DataFrame, *, published: bool = True, ax=None):
    """Share of phones singled out against the number of points known, with its 95% band.

    Parameters
    ----------
    curve : DataFrame
        From :func:`fewpoints.attacks.unicity_curve`: ``n_points``, ``unicity``,
        ``ci_low``, ``ci_high``.
    published : bool, default True
        Mark the published result (95% at 4 points, de Montjoye et al. 2013),
        labelled as published, not ours.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    curve = need_columns(
        curve, ["n_points", "unicity", "ci_low", "ci_high"], "plot_unicity_curve"
    ).sort_values("n_points")
    ax = new_axes(ax)
    p = curve["n_points"].to_numpy()
    u = curve["unicity"].to_numpy(float)
    ax.fill_between(
        p, curve["ci_low"], curve["ci_high"], color=OURS, alpha=0.22, lw=0, label="95% interval"
    )
    ax.plot(p, u, "o-", color=OURS, label=_DATA["series"], zorder=4, gid="unicity")
    if published:
        pub = PUBLISHED_UNICITY
        ax.plot(
            pub["n_points"],
            pub["unicity"],
            ls="none",
            marker="D",
            ms=7,
            mfc="white",
            mec=PUBLISHED,
            mew=1.6,
            zorder=5,
            label=f"Published: {pub['unicity']:.0%} at {pub['n_points']} points\n"
            f"({pub['source']}, real phone data)",
            gid="published",
        )
    # Headline: the value at 4 points (the published comparison), else the middle of the curve.
    at = 4 if 4 in set(p.tolist()) else int(p[len(p) // 2])
    row = curve[curve["n_points"] == at].iloc[0]
    _headline(
        ax,
        f"{_DATA['here']}: {row['unicity']:.0%} singled out\nby {at} points",
        (at, row["unicity"]),
        (28, -62),
    )
    percent_axis(ax, top=1.04)
    ax.set_xlim(p.min() - 0.4, p.max() + 0.4)
    ax.set_xticks(p)
    ax.set_xlabel("Points known about a phone (place and time)")
    ax.set_ylabel("Phones singled out")
    ax.legend(loc="lower right")
    source_line(ax)
    return ax


# ---------------------------------------------------------------------------
# 2. coarsening barely helps
# ---------------------------------------------------------------------------


def space_label(cell, *, merged: bool = False) -> str:
    """Plain words for a spatial setting: ``cell`` is km squares, or antennas merged."""
    if cell is None or pd.isna(cell) or (merged and cell == 1):
        return _DATA["recorded"]
    return f"groups of {cell:g} antennas" if merged else f"{cell:g} km squares"


def space_column(table: pd.DataFrame) -> tuple[str, bool, float]:
    """Which column of a sweep says how space was coarsened: (column, merged?, its recorded value)."""
    merged = "merge_v" in table.columns and bool(table["merge_v"].notna().any())
    return ("merge_v", True, 1.0) if merged else ("cell_km", False, 0.0)


def hours_label(h: float) -> str:
    if h >= 24 and h % 24 == 0:
        return f"{h / 24:g} day" + ("s" if h > 24 else "")
    if h < 1:
        return f"{h * 60:g} min"
    return f"{h:g} h"


#: Marker shapes of the spatial levels of :func:`plot_resolution` (with the colours).
_SHAPES = ("o", "^", "D", "v", "P", "X")
#: Horizontal spread (a factor on the log axis) between settings with the same v*h.
_DODGE = 1.07


def _tick_groups(vh: np.ndarray) -> list[float]:
    """One tick per cluster of coarsening factors within 25% of each other (their geometric mean)."""
    v = np.sort(np.unique(vh[np.isfinite(vh) & (vh > 0)]))
    if not len(v):
        return []
    groups, cur = [], [v[0]]
    for x in v[1:]:
        if x / cur[0] < 1.25:
            cur.append(x)
        else:
            groups.append(cur)
            cur = [x]
    groups.append(cur)
    return [float(np.exp(np.mean(np.log(g)))) for g in groups]


def plot_resolution(sweep, *, n_points=4, mark=None, ax=None):
    """Unicity against how much coarser the data are made, with the fitted law of de Montjoye et al.

    Parameters
    ----------
    sweep : ResolutionSweep
        From :func:`fewpoints.attacks.resolution_sweep` (its ``table`` and ``fit``).
    n_points : int or sequence of int, default 4
        Which numbers of known points to draw: the first as filled dots,
        the others as open squares (an attacker who knows more points).
    mark : (float or None, float), optional
        ``(space, hours)`` of the setting whose numbers are written on the
        chart; ``space`` is ``cell_km`` for square cells or ``merge_v``
        (antennas per group) for merged antennas, None for the recorded
        locations; default the coarsest.
    ax : Axes, optional

    Returns
    -------
    Axes
        One dot per measured setting (95% interval) at its coarsening factor
        ``v * h`` (original locations merged per coarse location, times hours
        per time slot), coloured by location precision (square cells or
        groups of merged antennas, whichever the sweep used), and the fitted law
        ``unicity = alpha - (v*h)**beta`` as one line per number of points.
    """
    table = need_columns(
        getattr(sweep, "table", None),
        ["cell_km", "v", "h", "n_points", "unicity", "ci_low", "ci_high"],
        "plot_resolution",
    )
    ps = [int(n_points)] if np.ndim(n_points) == 0 else [int(p) for p in n_points]
    have = sorted(table["n_points"].unique())
    for p in ps:
        if p not in have:
            raise FewpointsError(
                f"plot_resolution: no rows for {p} points (the sweep has "
                f"{', '.join(str(v) for v in have)})"
            )
    t = table[table["n_points"].isin(ps)].assign(vh=lambda d: d["v"] * d["h"])
    ax = new_axes(ax)
    column, merged, recorded = space_column(t)
    key = t[column].fillna(recorded)
    cells = sorted(key.unique())
    fit = getattr(sweep, "fit", None)
    grid = np.geomspace(t["vh"].min(), t["vh"].max(), 100)
    from matplotlib.lines import Line2D

    handles, labels = [], []
    for j, p in enumerate(ps):
        filled = j == 0
        for i, cell in enumerate(cells):
            g = t[(key == cell) & (t["n_points"] == p)]
            colour = CYCLE[i % len(CYCLE)]
            shape = _SHAPES[i % len(_SHAPES)]  # shape as well as colour: readable in greyscale
            ax.errorbar(
                g["vh"] * _DODGE ** (i - (len(cells) - 1) / 2),  # settings at one v*h side by side
                g["unicity"],
                yerr=error_bars(g),
                ls="none",
                marker=shape,
                mfc=colour if filled else "white",
                mew=1.3,
                ms=5.5 if filled else 5,
                color=colour,
                elinewidth=1.0,
                zorder=4,
                gid=f"measured-{p}",
            )
            if filled:
                handles.append(Line2D([], [], ls="none", marker=shape, color=colour))
                labels.append(space_label(g[column].iloc[0], merged=merged))
        row = fit[fit["n_points"] == p] if fit is not None and len(fit) else []
        style = "--" if filled else ":"
        law = ""
        if len(row):
            alpha, beta = float(row["alpha"].iloc[0]), float(row["beta"].iloc[0])
            ax.plot(
                grid,
                np.clip(alpha - grid**beta, 0, 1),  # a share: never above 100%
                ls=style,
                lw=1.3,
                color=MUTED,
                zorder=3,
                gid=f"fitted-{p}",
            )
            law = "; law " + ("dashed" if filled else "dotted")
        handles.append(
            Line2D([], [], color=MUTED, ls=style, lw=1.3, marker="o",
                   mfc=MUTED if filled else "white", mec=MUTED)
        )  # fmt: skip
        labels.append(f"{p} points known ({'filled' if filled else 'open'}{law})")
    ax.set_xscale("log")
    ticks = _tick_groups(t["vh"].to_numpy(float))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"×{v:.2g}"))
    percent_axis(ax, top=1.04)
    ax.set_xlabel("How much coarser than the recorded data (locations merged × hours per slot)")
    ax.set_ylabel("Phones singled out" if len(ps) > 1 else f"Phones singled out by {ps[0]} points")
    # Headline: the marked setting (default the coarsest, largest v*h), for each number of points.
    first = t[t["n_points"] == ps[0]]
    if mark is None:
        row = first.loc[first["vh"].idxmax()]
        cell, h, what = row[column], row["h"], "Coarsest"
    else:
        cell, h, what = mark[0], float(mark[1]), "Blurred to"
    at = t[(key == (recorded if cell is None or pd.isna(cell) else cell)) & (t["h"] == h)]
    if at.empty:
        raise FewpointsError(f"plot_resolution: no setting with {column}={cell}, {h:g} h to mark")
    at = at.set_index("n_points")
    where = space_label(cell, merged=merged).replace("as recorded (antenna)", "antennas")
    where = where.replace("as recorded", "locations as recorded")
    values = [f"{at.loc[p, 'unicity']:.0%} by {p} points" for p in ps]
    # Narrow lines, placed where they hide the fewest points (below).
    lines = [f"{what} {where},", f"{hours_label(h)} slots: {values[0]}", *values[1:]]
    note = _headline(
        ax,
        ",\n".join(lines[1:]).join([lines[0] + "\n", ""]),
        (at.loc[ps[0], "vh"], at.loc[ps[0], "unicity"]),
        (0.97, 0.93),
        coords="axes fraction",
        ha="right",
        va="top",
    )
    ax.legend(handles, labels, loc="lower left", fontsize=8)
    laws = [(x, y) for line in ax.get_lines() if line.get_gid() for x, y in line.get_xydata()]
    _clear_spot(
        ax,
        note,
        np.column_stack([t["vh"], t["unicity"]]),
        np.array(laws).reshape(-1, 2),
        [
            ((0.97, 0.95), "right", "top"),
            ((0.97, 0.05), "right", "bottom"),
            ((0.97, 0.55), "right", "center"),
            ((0.97, 0.30), "right", "center"),
            ((0.97, 0.20), "right", "center"),
            ((0.60, 0.95), "center", "top"),
        ],
    )
    source_line(ax)
    return ax


# ---------------------------------------------------------------------------
# 3. bigger crowds do not hide you
# ---------------------------------------------------------------------------


#: Farzanehfar et al. 2021 (firm): the linear lower bounds at 60M people, by number of points.
PUBLISHED_LOWER_BOUND = {4: 0.22, 5: 0.87}

#: Legend text of each series of :func:`plot_population` (the defaults; ``labels=`` overrides).
POPULATION_LABELS = {
    "measured": "measured: random subsets (95% CI)",
    "towns": "measured: region grown town by town",
    "live": "measured now: subsets of this world",
    "model": "model fitted to subsets, continued",
    "lower-bound": "lower bound (last chord, continued)",
    "paper-model": "published model, on these marginals",
    "published": "published: {pct} at 60M (real data)",
    "published-lower-bound": "published lower bound: {pct} at 60M",
    "extrapolated": "shaded: models beyond the data",
}


def plot_population(
    curve,
    *,
    towns: pd.DataFrame | None = None,
    live=None,
    paper_model: pd.DataFrame | None = None,
    labels: dict | None = None,
    note: str | None = None,
    published: bool = True,
    headline: str | None = None,
    ax=None,
):
    """Unicity against the number of phones: measured points, the extrapolation band, the published marks.

    Parameters
    ----------
    curve : PopulationCurve
        The measured series the model and the lower bound are fitted to
        (``table``, ``fit``, ``extrapolation``, ``predict``, ``lower_bound``):
        random subsets of a region (``PopulationCurve.from_table`` of rows of
        the shipped scale table) or of the world at hand
        (:func:`fewpoints.attacks.population_curve`).
    towns : DataFrame, optional
        The same world grown town by town (``n_devices``, ``unicity``,
        ``ci_low``, ``ci_high``), drawn beside the subsets.
    live : PopulationCurve or DataFrame, optional
        Points measured now on a smaller world (hollow circles).
    paper_model : DataFrame, optional
        The published model on the data's marginals (``n_devices``,
        ``unicity``; :func:`fewpoints.attacks.population.marginals_unicity`).
    labels : dict, optional
        Legend text by series (keys of :data:`POPULATION_LABELS`).
    note : str, optional
        A line under the chart saying where the measured points come from.
    published : bool, default True
        Mark 93% at 60 million people with 4 points and the published lower
        bounds (Farzanehfar et al. 2021), labelled as published.
    headline : str, optional
        The bold note at the largest measured point (default: its share).
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    table = need_columns(
        getattr(curve, "table", None),
        ["n_devices", "unicity", "ci_low", "ci_high"],
        "plot_population",
    ).sort_values("n_devices")
    words = {**POPULATION_LABELS, **(labels or {})}
    ex = getattr(curve, "extrapolation", pd.DataFrame())
    ax = new_axes(ax)
    n = table["n_devices"].to_numpy(float)
    p = int(table["n_points"].iloc[0]) if "n_points" in table else None
    n_top = float(ex["n_devices"].max()) if len(ex) else n.max()
    live_t = None
    if live is not None:
        live_t = getattr(live, "table", live).sort_values("n_devices")
    lows = [n.min()] + ([float(live_t["n_devices"].min())] if live_t is not None else [])
    if paper_model is not None:
        paper_model = paper_model.sort_values("n_devices")
        lows.append(float(paper_model["n_devices"].min()))
        n_top = max(n_top, float(paper_model["n_devices"].max()))
    pub = PUBLISHED_POPULATION if published and p == PUBLISHED_POPULATION["n_points"] else None
    lower = PUBLISHED_LOWER_BOUND.get(p) if published else None
    if pub is not None or lower is not None:
        n_top = max(n_top, 60e6)
    edge = n.max() * 1.25  # the band starts just past the largest measurement
    x_min, x_max = min(lows) / 1.6, n_top * (2.2 if n_top > n.max() else 1.6)
    if n_top > n.max():
        x_max = max(x_max, edge * 18)  # room for the band's label
        ax.axvspan(edge, x_max, color="#EBEBEB", lw=0, zorder=0,
                   label=words["extrapolated"], gid="extrapolated")  # fmt: skip
        ax.text(np.sqrt(edge * x_max), 1.015, "beyond the data:\nmodels only",
                ha="center", va="bottom", fontsize=8, color=MUTED, style="italic",
                gid="band-label")  # fmt: skip
    # The fitted model: faint where it runs through the data, dashed beyond them.
    inside = np.geomspace(n.min(), n.max(), 100)
    ax.plot(inside, curve.predict(inside), color=OURS, lw=1.0, alpha=0.5, zorder=3)
    if n_top > n.max():
        beyond = np.geomspace(n.max(), n_top, 100)
        ax.plot(beyond, curve.predict(beyond), color=OURS, lw=1.4, ls="--", zorder=3,
                label=words["model"], gid="model")  # fmt: skip
        ax.plot(beyond, curve.lower_bound(beyond), color=PUBLISHED, lw=1.4, ls=":",
                zorder=3, label=words["lower-bound"], gid="lower-bound")  # fmt: skip
    if paper_model is not None:
        ax.plot(paper_model["n_devices"], paper_model["unicity"], color=OKABE_ITO["purple"],
                lw=1.4, ls="-.", marker="x", ms=5, mew=1.2, zorder=4,
                label=words["paper-model"], gid="paper-model")  # fmt: skip
    if live_t is not None:
        ax.errorbar(live_t["n_devices"], live_t["unicity"], yerr=error_bars(live_t), ls="none",
                    marker="o", ms=5, mfc="white", mec=MUTED, mew=1.2, color=MUTED,
                    elinewidth=0.9, capsize=0, zorder=5, label=words["live"],
                    gid="live")  # fmt: skip
    ax.errorbar(n, table["unicity"], yerr=error_bars(table), ls="-", lw=0.8, marker="o", ms=5,
                color=OURS, capsize=0, elinewidth=1.2, zorder=6, label=words["measured"],
                gid="measured")  # fmt: skip
    if towns is not None:
        tw = towns.sort_values("n_devices")
        ax.errorbar(tw["n_devices"], tw["unicity"], yerr=error_bars(tw), ls="-", lw=0.8,
                    marker="s", ms=5, color=OKABE_ITO["vermillion"], mfc=OKABE_ITO["orange"],
                    capsize=0, elinewidth=1.2, zorder=6, label=words["towns"],
                    gid="towns")  # fmt: skip
    if pub is not None:
        ax.plot(pub["n_devices"], pub["unicity"], ls="none", marker="D", ms=7.5, mfc="white",
                mec=PUBLISHED, mew=1.6, zorder=7,
                label=words["published"].format(pct=f"{pub['unicity']:.0%}"),
                gid="published")  # fmt: skip
    if lower is not None:
        ax.plot(60e6, lower, ls="none", marker="v", ms=7.5, mfc="white", mec=PUBLISHED,
                mew=1.6, zorder=7, label=words["published-lower-bound"].format(pct=f"{lower:.0%}"),
                gid="published-lower-bound")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlim(x_min, x_max)
    # Ticks at 1, 2 and 5 per decade over a short span, at every decade otherwise; no minor labels.
    subs = (1.0, 2.0, 5.0) if np.log10(x_max / x_min) < 2.5 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_count(v).replace(" million", "M")))
    percent_axis(ax, top=1.0)
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_locator(FixedLocator([0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    ax.set_xlabel("Phones in the dataset (log scale)")
    ax.set_ylabel(f"Phones singled out by {p} points" if p else "Phones singled out")
    last = table.iloc[-1]
    _headline(
        ax,
        headline
        or f"{last['unicity']:.0%} singled out\namong {fmt_round(last['n_devices'])} phones",
        (last["n_devices"], last["unicity"]),
        (-14, -44),
        ha="right",
    )
    handles, texts = ax.get_legend_handles_labels()

    def rank(i):
        h = handles[i]
        gid = (h.lines[0] if hasattr(h, "lines") else h).get_gid()
        return _POP_ORDER.index(gid) if gid in _POP_ORDER else len(_POP_ORDER)

    order = sorted(range(len(texts)), key=rank)
    # Below the axis label, whatever the axes' height: an offset in points from its bottom left.
    below = offset_copy(ax.transAxes, fig=ax.figure, x=-40, y=-36, units="points")
    legend = ax.legend([handles[i] for i in order], [texts[i] for i in order], loc="upper left",
                       bbox_to_anchor=(0, 0), bbox_transform=below, ncols=2, fontsize=8,
                       handlelength=2.6, columnspacing=1.0, borderaxespad=0)  # fmt: skip
    if note:
        note = "\n".join(textwrap.wrap(note, 96))
        ax.annotate(note, xy=(0, 0), xycoords=legend, xytext=(0, -5), textcoords="offset points",
                    ha="left", va="top", fontsize=8, color=MUTED, gid="population-note")  # fmt: skip
    source_line(ax)
    return ax


#: Legend order of the population chart, by series.
_POP_ORDER = [
    "measured", "towns", "live", "model", "lower-bound", "paper-model", "published",
    "published-lower-bound", "extrapolated",
]  # fmt: skip


# ---------------------------------------------------------------------------
# 4. home and work are a fingerprint
# ---------------------------------------------------------------------------


#: How the measures of ``anonymity_table`` read on a chart.
MEASURE_WORDS = {
    "top-1": "most visited place",
    "top-2": "top 2 places, in order",
    "top-3": "top 3 places, in order",
    "top-3 (any order)": "top 3 places, any order",
    "home/work": "home and work",
}


#: Line style and marker of each measure of :func:`plot_anonymity_sets` (greyscale-safe).
_MEASURE_LOOK = {
    "top-1": (":", "v"),
    "top-2": ("-.", "s"),
    "top-3": ("--", "^"),
    "top-3 (any order)": ((0, (1, 1, 4, 1)), "D"),
    "home/work": ("-", "o"),
}
_LOOKS = list(_MEASURE_LOOK.values())


def plot_anonymity_sets(table: pd.DataFrame, *, ax=None):
    """Share of phones that their top places (or home and work) single out, by location precision.

    Parameters
    ----------
    table : DataFrame
        From ``fewpoints.attacks.anonymity_table``: ``measure``, ``granularity``,
        ``share_unique``, ``ci_low``, ``ci_high``, ``median_set_size``; rows in
        order from the finest granularity to the coarsest.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    table = need_columns(
        table,
        ["measure", "granularity", "share_unique", "ci_low", "ci_high", "median_set_size"],
        "plot_anonymity_sets",
    )
    ax = new_axes(ax)
    grans = list(dict.fromkeys(table["granularity"]))
    measures = list(dict.fromkeys(table["measure"]))
    pos = {g: i for i, g in enumerate(grans)}
    m = len(measures)
    for i, measure in enumerate(measures):
        g = table[table["measure"] == measure]
        x = g["granularity"].map(pos).to_numpy(float) + (i - (m - 1) / 2) * 0.07
        colour = CYCLE[i % len(CYCLE)]
        # Dash and marker as well as colour: four lines stay apart in greyscale.
        line, marker = _MEASURE_LOOK.get(measure, _LOOKS[i % len(_LOOKS)])
        ax.errorbar(
            x,
            g["share_unique"],
            yerr=error_bars(g, "share_unique"),
            marker=marker,
            ls=line,
            ms=6,
            color=colour,
            capsize=0,
            elinewidth=1.2,
            label=MEASURE_WORDS.get(measure, measure),
            lw=2.2 if measure == "home/work" else 1.5,
            zorder=5 if measure == "home/work" else 4,
            gid=f"measure-{measure}",
        )
    ax.set_xticks(range(len(grans)))
    ax.set_xticklabels(grans)
    ax.set_xlim(-0.4, len(grans) - 0.6)
    percent_axis(ax, top=1.04)
    ax.set_xlabel("Location precision (finest on the left)")
    ax.set_ylabel("Phones singled out")
    key = "home/work" if "home/work" in measures else measures[0]
    rows = table[(table["measure"] == key) & table["share_unique"].notna()]
    row = rows.iloc[0]
    text = f"{MEASURE_WORDS.get(key, key).capitalize()}: {row['share_unique']:.0%} singled out"
    text += (
        "\nwith locations as recorded"
        if str(row["granularity"]).startswith("as recorded")
        else f"\nat {row['granularity']} precision"
    )
    if key == "home/work":
        k = f"{row['median_set_size']:,.0f}"
        text += f" (median {k} phone{'' if k == '1' else 's'} per pair)"
    _headline(
        ax,
        text,
        (pos[row["granularity"]] + (measures.index(key) - (m - 1) / 2) * 0.07, row["share_unique"]),
        (0.35, 0.95),
        coords="axes fraction",
        va="top",
    )
    ax.legend(
        loc="center right",
        bbox_to_anchor=(1.0, 0.55),
        title="What the buyer knows",
        title_fontsize=8.5,
        alignment="left",
    )
    source_line(ax)
    return ax


# ---------------------------------------------------------------------------
# 5. from pseudonym to name
# ---------------------------------------------------------------------------


def plot_naming(curve: pd.DataFrame, *, ax=None):
    """Share of posters whose phone is named, against the number of their geotagged posts known.

    Parameters
    ----------
    curve : DataFrame
        From ``fewpoints.attacks.naming_curve``: ``n_posts``, ``share_named``,
        ``ci_low``, ``ci_high`` (and ``median_set_size``, ``n_names``).
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    curve = need_columns(
        curve, ["n_posts", "share_named", "ci_low", "ci_high"], "plot_naming"
    ).sort_values("n_posts")
    ax = new_axes(ax)
    k = curve["n_posts"].to_numpy()
    ax.fill_between(
        k,
        curve["ci_low"],
        curve["ci_high"],
        color=OKABE_ITO["vermillion"],
        alpha=0.2,
        lw=0,
        label="95% interval",
    )
    ax.plot(
        k,
        curve["share_named"],
        "o-",
        color=OKABE_ITO["vermillion"],
        label=_DATA["series"],
        zorder=4,
        gid="share_named",
    )
    last = curve.loc[curve["share_named"].idxmax()]  # the best the buyer does
    _headline(
        ax,
        f"{last['share_named']:.0%} named\nfrom {int(last['n_posts'])} posts",
        (last["n_posts"], last["share_named"]),
        (-40, 45),
        ha="right",
    )
    percent_axis(ax, top=1.04)
    ax.set_xticks(k)
    ax.set_xlim(k.min() - 0.4, k.max() + 0.4)
    ax.set_xlabel("Geotagged public posts known about a person")
    ax.set_ylabel("Phones linked to the person's name")
    ax.legend(loc="lower right")
    source_line(ax)
    return ax


# ---------------------------------------------------------------------------
# 6. one synthetic person's week
# ---------------------------------------------------------------------------


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def top_sensitive_place(visits: pd.DataFrame) -> pd.Series:
    """The sensitive place a device visited most often (then longest): ``name, kind, x_km, y_km, sum, count``."""
    by_place = visits.groupby(["name", "kind", "x_km", "y_km"], as_index=False)["minutes"]
    table = by_place.agg(["sum", "count"])
    return table.sort_values(["count", "sum", "name"], ascending=[False, False, True]).iloc[0]


def plot_device_week(story, *, places=None, days: int = 7, ax=None):
    """A map of one device's week as a buyer of the data sees it: points, home, work, a sensitive place.

    Parameters
    ----------
    story : DeviceStory
        From ``fewpoints.attacks.explain``: ``device_id``, ``trace``
        (``time``, ``x_km``, ``y_km``), ``home`` and ``work`` (dicts with
        ``x_km``, ``y_km`` or None), ``sensitive`` (visits with ``name``,
        ``kind``, ``x_km``, ``y_km``, ``minutes``), ``name`` (or None).
    places : DataFrame, optional
        The public map (``x_km``, ``y_km``), drawn faintly as a backdrop.
    days : int, default 7
        Days drawn: from the Monday before the first visit to the most
        visited sensitive place (else from the trace's first day).
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    trace = need_columns(
        _get(story, "trace"), ["time", "x_km", "y_km"], "plot_device_week"
    ).sort_values("time")
    n_days = int((trace["time"].max().normalize() - trace["time"].min().normalize()).days) + 1
    ax = new_axes(ax, figsize=(6.3, 5.4))
    home, work = _get(story, "home"), _get(story, "work")
    sens = _get(story, "sensitive")
    marks = [(d["x_km"], d["y_km"]) for d in (home, work) if d]
    top_sens = None
    start = trace["time"].min().normalize()
    if sens is not None and len(sens):
        top_sens = top_sensitive_place(sens)
        marks.append((top_sens["x_km"], top_sens["y_km"]))
        # The week drawn starts on the Monday before the first visit to that place.
        at = sens[sens["name"] == top_sens["name"]]
        if "start" in at:
            first = pd.Timestamp(at["start"].min()).normalize()
            start = max(start, first - pd.Timedelta(days=first.weekday()))
    week = trace[(trace["time"] >= start) & (trace["time"] < start + pd.Timedelta(days=days))]
    end = start + pd.Timedelta(days=days - 1)
    xs, ys = week["x_km"].to_numpy(float), week["y_km"].to_numpy(float)
    allx = np.concatenate([xs, [m[0] for m in marks]])
    ally = np.concatenate([ys, [m[1] for m in marks]])
    # Frame the points the buyer holds (the middle 96%, so one day trip does not shrink the map).
    x0, x1 = np.quantile(allx, [0.01, 0.99]) if len(allx) > 50 else (allx.min(), allx.max())
    y0, y1 = np.quantile(ally, [0.01, 0.99]) if len(ally) > 50 else (ally.min(), ally.max())
    for mx, my in marks:
        x0, x1, y0, y1 = min(x0, mx), max(x1, mx), min(y0, my), max(y1, my)
    span = max(x1 - x0, y1 - y0, 2.0) * 1.3
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - span / 2, cx + span / 2)
    ax.set_ylim(cy - span / 2, cy + span / 2)
    if places is not None and len(places):
        inside = places[
            places["x_km"].between(cx - span / 2, cx + span / 2)
            & places["y_km"].between(cy - span / 2, cy + span / 2)
        ]
        ax.scatter(
            inside["x_km"],
            inside["y_km"],
            s=1.5 if len(inside) < 2000 else 0.6,  # a dense city stays a faint backdrop
            color=FAINT,
            alpha=1.0 if len(inside) < 2000 else 0.5,
            lw=0,
            zorder=1,
        )
    ax.plot(xs, ys, color=OURS, lw=0.5, alpha=0.35, zorder=2)
    ax.scatter(
        xs,
        ys,
        s=14,
        color=OURS,
        alpha=0.6,
        lw=0,
        zorder=3,
        label=f"{len(week):,} records, {start:%a %d %b} to {end:%a %d %b}",
    )
    style = {"s": 110, "edgecolor": "white", "linewidths": 1.2, "zorder": 5}
    if home:
        ax.scatter(
            home["x_km"],
            home["y_km"],
            marker="^",
            color=OKABE_ITO["orange"],
            label="inferred home (where it sleeps)",
            **style,
        )
    if work:
        ax.scatter(
            work["x_km"],
            work["y_km"],
            marker="s",
            color=OKABE_ITO["green"],
            label="inferred work (weekday daytime)",
            **style,
        )
    if top_sens is not None:
        ax.scatter(
            top_sens["x_km"],
            top_sens["y_km"],
            marker="*",
            s=260,
            color=OKABE_ITO["vermillion"],
            edgecolor="white",
            linewidths=1.0,
            zorder=6,
            label=f"sensitive place: {top_sens['kind']}",
        )
        minutes = f", {top_sens['sum']:,.0f} min in all" if top_sens["sum"] >= 1 else ""
        right, upper = top_sens["x_km"] > cx, top_sens["y_km"] > cy
        ax.annotate(
            f"{top_sens['name']}\n{int(top_sens['count'])} visit"
            f"{'' if top_sens['count'] == 1 else 's'} in {n_days} days{minutes}",
            (top_sens["x_km"], top_sens["y_km"]),
            xytext=(-12 if right else 12, -10 if upper else 10),
            textcoords="offset points",
            fontsize=8,
            va="top" if upper else "bottom",
            ha="right" if right else "left",
            color="#222222",
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.85},
            zorder=7,
        )
    name = _get(story, "name")
    lines = [f"Advertising ID {_get(story, 'device_id')}"]
    if name:
        lines.append(f"linked to: {name} (synthetic)")
    found = [w for w, d in (("home", home), ("work", work)) if d]
    if found:
        lines.append(f"{' and '.join(found)} found from the trace alone")
    # Above the map, not over it: who the buyer now knows this pseudonym to be.
    ax.annotate(
        "\n".join(lines),
        (0, 1),
        xycoords="axes fraction",
        xytext=(0, 6),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        gid="headline",
    )
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)
    ax.set_xlabel("West to east (km)")
    ax.set_ylabel("South to north (km)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)
    source_line(ax)
    return ax


# ---------------------------------------------------------------------------
# 7. what does protect
# ---------------------------------------------------------------------------


def _spread_labels(y: np.ndarray, gap: float, lo: float, hi: float) -> np.ndarray:
    """Label positions at least ``gap`` apart within [lo, hi], each as close to its ``y`` as it can."""
    y = np.asarray(y, float)
    order = np.argsort(y, kind="stable")
    out = np.clip(y[order], lo, hi)
    for i in range(1, len(out)):  # push up
        out[i] = max(out[i], out[i - 1] + gap)
    if len(out) and out[-1] > hi:  # then back down from the top
        out[-1] = hi
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    res = np.empty_like(out)
    res[order] = out
    return res


#: Height of one row of :func:`plot_privacy_utility`, and of what surrounds the rows (inches).
_ROW_IN, _FRAME_IN = 0.24, 1.9


def privacy_utility_size(table: pd.DataFrame) -> tuple[float, float]:
    """Figure size that gives each setting of ``table`` a readable row at A4 text width."""
    return (6.3, round(_FRAME_IN + _ROW_IN * max(len(table), 3), 2))


def _error_label(v: float) -> str:
    return f"{v:.0%}"


def plot_privacy_utility(table: pd.DataFrame, *, ax=None, error_cap: float = 3.0):
    """Privacy (phones still singled out) beside utility (error of the released data), per setting.

    Parameters
    ----------
    table : DataFrame
        From ``fewpoints.privacy_utility``: ``setting``, ``transform``,
        ``unicity``, ``ci_low``, ``ci_high`` (NaN for DP aggregates, which
        release no traces), ``utility_error``, ``utility_metric`` (and
        ``epsilon`` for the DP rows).
    ax : Axes, optional
        The left panel; the right one is added beside it, sharing the rows.
    error_cap : float, default 3.0
        Errors above this (300%) are drawn to the edge with their value written.

    Returns
    -------
    Axes
        The left panel: one row per setting (raw data first, then the
        releases of traces from most to least singled out, then the
        differentially private counts), a dot with its 95% interval at the
        share singled out by 4 points, and "no traces released" for the DP
        rows. Its ``utility_axes`` attribute is the right panel: a bar per
        row for the error of the released counts, as a percentage.
    """
    table = need_columns(
        table,
        ["setting", "transform", "unicity", "ci_low", "ci_high", "utility_error", "utility_metric"],
        "plot_privacy_utility",
    )
    frame = new_axes(ax, figsize=privacy_utility_size(table))
    # Two panels sharing the rows, in the place of the Axes given.
    spec = frame.get_subplotspec()
    fig = frame.figure
    if spec is not None:
        frame.remove()
        inner = spec.subgridspec(1, 2, width_ratios=[1.45, 1.0], wspace=0.04)
        ax = fig.add_subplot(inner[0])
        right = fig.add_subplot(inner[1], sharey=ax)
    else:
        frame.set_axis_off()
        ax = frame.inset_axes([0.0, 0.0, 0.58, 1.0])
        right = frame.inset_axes([0.62, 0.0, 0.38, 1.0], sharey=ax)
    ax.utility_axes = right
    dp = table["unicity"].isna()
    raw = table[(table["transform"] == "none") & ~dp]
    rest = table[(table["transform"] != "none") & ~dp].sort_values(
        "unicity", ascending=False, kind="stable"
    )
    rows = pd.concat([raw, rest, table[dp]])
    n = len(rows)
    y = np.arange(n)[::-1].astype(float)  # first row at the top
    is_dp = rows["unicity"].isna().to_numpy()
    traces = rows[~is_dp]
    ty = y[~is_dp]
    # Left: the share singled out, a dot and its interval per release of traces.
    ax.errorbar(
        traces["unicity"],
        ty,
        xerr=np.vstack(
            [
                traces["unicity"] - traces["ci_low"],
                traces["ci_high"] - traces["unicity"],
            ]
        ),
        ls="none",
        marker="o",
        ms=5,
        color=OURS,
        elinewidth=1.2,
        zorder=4,
        gid="traces",
    )
    if is_dp.any():
        band = (y[is_dp].min() - 0.5, y[is_dp].max() + 0.5)
        for a in (ax, right):
            a.axhspan(*band, color="#E4F2EA", lw=0, zorder=0)
        notes = {
            1: ["no traces released; epsilon = privacy budget"],
            2: ["no traces: nothing to single out", "epsilon: privacy budget (smaller: stronger)"],
        }.get(
            int(is_dp.sum()),
            [
                "no traces released: nothing to single out",
                "epsilon = the privacy budget per phone:",
                "smaller = more noise, stronger privacy",
            ],
        )
        for yy, text in zip(y[is_dp], notes, strict=False):
            note = ax.text(0.02, yy, text, va="center", ha="left", fontsize=8, color="#1F5F45",
                           gid="dp-label", clip_on=True)  # fmt: skip
            note.set_in_layout(False)  # inside the panel: never squeezes the layout
        ax.scatter([], [], gid="dp")  # marker for tests: DP rows are drawn apart
    if len(raw):
        ax.axvline(float(raw["unicity"].iloc[0]), color=MUTED, lw=0.8, ls=(0, (2, 2)), zorder=2)
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(y)
    ax.set_yticklabels(rows["setting"])
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#E3E3E3", lw=0.7)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Phones singled out\nby 4 points (95% interval)")
    # Right: the error of the released counts, as a bar per row.
    err = rows["utility_error"].to_numpy(float)
    cap = max(min(error_cap, float(np.nanmax(err)) if np.isfinite(err).any() else 1.0), 0.5)
    shown = np.minimum(err, cap)
    colours = np.where(is_dp, OKABE_ITO["green"], MUTED)
    right.barh(y, shown, height=0.55, color=colours, zorder=3, gid="utility")
    for yy, e, sh in zip(y, err, shown, strict=True):
        if np.isfinite(e):
            over = e > cap
            right.text(
                sh - 0.01 * cap if over else sh + 0.02 * cap,
                yy,
                _error_label(e),
                va="center",
                ha="right" if over else "left",
                fontsize=8,
                color="white" if over else "#222222",
                fontweight="bold" if over else "normal",
                zorder=4,
            )
    right.set_xlim(0, cap * 1.3)
    right.xaxis.set_major_locator(MaxNLocator(4))
    right.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    right.tick_params(axis="y", left=False, labelleft=False)
    right.grid(axis="x", color="#E3E3E3", lw=0.7)
    right.grid(axis="y", visible=False)
    right.spines["left"].set_visible(False)
    right.set_xlabel("Error of hourly counts\n(0% = as good as raw)")
    right.set_axisbelow(True)
    # Headline above the panels (a managed title: clear of every row and label).
    if len(raw):
        r = raw.iloc[0]
        lines = [f"Raw data: {r['unicity']:.0%} of phones singled out by 4 points."]
        if len(rest):
            best = rest.loc[rest["unicity"].idxmin()]
            lines.append(
                f"Most protective release of traces ({best['setting']}): "
                f"{best['unicity']:.0%}, counts {_error_label(best['utility_error'])} wrong."
            )
        text = "\n".join(textwrap.fill(line, 86) for line in lines)
        title = fig.suptitle(text, x=0.01, ha="left", fontsize=9, fontweight="bold")
        title.set_gid("headline")
    ax.utility_metric = str(table["utility_metric"].iloc[0])
    source_line(ax)
    return ax
