"""Labels and the small drawing helpers every plot shares: words for numbers, axes, the headline.

Numbers in words (:func:`fmt_count`, :func:`fmt_round`), plain words for a
coarsening setting (:func:`space_label`, :func:`space_column`,
:func:`hours_label`), a percent axis, 95% error bars, the small source line,
and the bold headline number (:func:`annotate_headline`), which
:func:`clear_spot` moves to where it hides the fewest data points.
:func:`need_columns` checks the table a plot is given; :func:`band_curve` draws a
share against a count over its 95% band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from fewpoints.figures.style import DATA_WORDS, MUTED
from fewpoints.schema import FewpointsError


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
    fig.supxlabel(DATA_WORDS["source"], x=0.995, ha="right", fontsize=8, color=MUTED)
    fig._supxlabel.set_gid("fewpoints-source")


def annotate_headline(
    ax, text, xy, xytext, *, ha="left", va="center", coords="offset points", arrow=True
):
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


def clear_spot(ax, note, points, lines, candidates) -> None:
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


def need_curve(curve, x: str, y: str, what: str) -> pd.DataFrame:
    """A share ``y`` with its 95% interval (``ci_low``, ``ci_high``) against ``x``, sorted by ``x``."""
    return need_columns(curve, [x, y, "ci_low", "ci_high"], what).sort_values(x)


def band_curve(curve, x: str, y: str, what: str, ax, *, color, alpha: float, gid: str):
    """A share ``y`` against a count ``x``, drawn as dots on a line over its 95% band.

    ``curve`` is checked and sorted (:func:`need_curve`); the band is
    labelled "95% interval", the line names the data (``DATA_WORDS["series"]``).
    Returns the sorted curve, the Axes (``ax``, or new ones) and the ``x`` values.
    """
    from fewpoints.figures.style import new_axes

    curve = need_curve(curve, x, y, what)
    ax = new_axes(ax)
    xs = curve[x].to_numpy()
    ax.fill_between(
        xs, curve["ci_low"], curve["ci_high"], color=color, alpha=alpha, lw=0, label="95% interval"
    )
    ys = curve[y].to_numpy(float)
    ax.plot(xs, ys, "o-", color=color, label=DATA_WORDS["series"], zorder=4, gid=gid)
    return curve, ax, xs


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


def space_label(cell, *, merged: bool = False) -> str:
    """Plain words for a spatial setting: ``cell`` is km squares, or antennas merged."""
    if cell is None or pd.isna(cell) or (merged and cell == 1):
        return DATA_WORDS["recorded"]
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
