"""Figure of what protects: privacy (phones still singled out) beside utility, one row per release.

:func:`plot_privacy_utility` draws, for each way of releasing the data, the
share of phones that 4 points still single out (with its 95% interval)
beside the error of the released counts; :func:`privacy_utility_size` gives
the figure a readable row per release.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from fewpoints.figures.labels import need_columns, source_line
from fewpoints.figures.style import MUTED, OKABE_ITO, OURS, new_axes

# ---------------------------------------------------------------------------
# 7. what does protect
# ---------------------------------------------------------------------------


def spread_labels(y: np.ndarray, gap: float, lo: float, hi: float) -> np.ndarray:
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


def plot_privacy_utility(table: pd.DataFrame, *, ax=None, error_cap: float = 3.0) -> Axes:
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
