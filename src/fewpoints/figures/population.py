"""Figure of dataset size: the share singled out against the number of phones, measured and modelled.

:func:`plot_population` draws the measured points (random subsets, a region
grown town by town, points measured now), the fitted model and the lower
bound continued beyond the data in a shaded band, and the published result of
Farzanehfar et al. (2021) at 60 million phones, labelled as published.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import offset_copy

from fewpoints.figures.labels import (
    annotate_headline,
    error_bars,
    fmt_count,
    fmt_round,
    need_curve,
    percent_axis,
    source_line,
)
from fewpoints.figures.style import MUTED, OKABE_ITO, OURS, PUBLISHED, new_axes

# ---------------------------------------------------------------------------
# 3. bigger crowds do not hide you
# ---------------------------------------------------------------------------


#: Farzanehfar et al. 2021 (firm): 93% unique with 4 points at 60M people.
PUBLISHED_POPULATION = {
    "n_devices": 60e6,
    "n_points": 4,
    "unicity": 0.93,
    "source": "Farzanehfar et al. 2021",
}


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
) -> Axes:
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
    table = need_curve(getattr(curve, "table", None), "n_devices", "unicity", "plot_population")
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
    annotate_headline(
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
