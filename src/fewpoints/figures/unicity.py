"""Figures of the unicity test: the share singled out by the points known, then after coarsening.

:func:`plot_unicity_curve` draws the share of phones that p random points
single out, against p, beside the published 95% at 4 points (de Montjoye et
al. 2013); :func:`plot_resolution` draws the same share after the data are
made coarser in space and time, with the fitted law of the same paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter

from fewpoints.common import renamed
from fewpoints.figures.labels import (
    annotate_headline,
    band_curve,
    clear_spot,
    error_bars,
    hours_label,
    need_columns,
    percent_axis,
    source_line,
    space_column,
    space_label,
)
from fewpoints.figures.style import CYCLE, DATA_WORDS, MUTED, OURS, PUBLISHED, new_axes
from fewpoints.schema import FewpointsError

# ---------------------------------------------------------------------------
# 1. how many points it takes
# ---------------------------------------------------------------------------

#: de Montjoye et al. 2013 (firm): 4 random spatio-temporal points make 95% of 1.5M people unique.
PUBLISHED_UNICITY = {"n_points": 4, "unicity": 0.95, "source": "de Montjoye et al. 2013"}


def plot_unicity_curve(curve: pd.DataFrame, *, published: bool = True, ax=None) -> Axes:
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
    curve, ax, p = band_curve(
        curve,
        "n_points",
        "unicity",
        "plot_unicity_curve",
        ax,
        color=OURS,
        alpha=0.22,
        gid="unicity",
    )
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
    annotate_headline(
        ax,
        f"{DATA_WORDS['here']}: {row['unicity']:.0%} singled out\nby {at} points",
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


@renamed(n_points="n_points_range")
def plot_resolution(sweep, *, n_points_range=4, mark=None, ax=None) -> Axes:
    """Unicity against how much coarser the data are made, with the fitted law of de Montjoye et al.

    Parameters
    ----------
    sweep : ResolutionSweep
        From :func:`fewpoints.attacks.resolution_sweep` (its ``table`` and ``fit``).
    n_points_range : int or sequence of int, default 4
        Which numbers of known points to draw: the first as filled dots,
        the others as open squares (an attacker who knows more points).
        ``n_points=`` is its deprecated name.
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
    ps = [int(n_points_range)] if np.ndim(n_points_range) == 0 else [int(p) for p in n_points_range]
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
    note = annotate_headline(
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
    clear_spot(
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
