"""Figure 5: how the risk spreads over the devices (the fewest points that single each out).

:func:`plot_risk` draws the per-device risk table as bars; the figure's
title, caption and alt text are computed from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from fewpoints import figures as F
from fewpoints.audit.fig_words import measured, measured_values
from fewpoints.audit.result import Audit


def plot_risk(risk: pd.DataFrame, *, ax=None) -> Axes:
    """How the risk spreads: the share of devices the fewest points single out, as bars.

    Parameters
    ----------
    risk : DataFrame
        From :func:`per_device_risk`.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    risk = F.need_columns(
        risk, ["fewest_points", "label", "share", "ci_low", "ci_high"], "plot_risk"
    )
    ax = F.new_axes(ax)
    x = np.arange(len(risk))
    within = (risk["fewest_points"] >= 1) & (
        risk["fewest_points"] <= risk["fewest_points"].max() - 1
    )
    colours = np.where(within, F.OURS, F.FAINT)
    ax.bar(x, risk["share"], color=colours, width=0.7, zorder=3, gid="risk")
    ax.errorbar(
        x, risk["share"], yerr=F.error_bars(risk, "share"), ls="none", color="#333333",
        elinewidth=0.9, capsize=0, zorder=4,
    )  # fmt: skip
    labels = [
        str(k) if 1 <= k <= len(risk) - 2 else ("more" if k > 0 else "never")
        for k in risk["fewest_points"]
    ]
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    top = float(max(risk["ci_high"].max(), 0.05))
    F.percent_axis(ax, top=min(1.04, top * 1.25))
    ax.set_xlabel("Fewest random points of its own trace that single a device out")
    ax.set_ylabel("Devices (share of those sampled)")
    k2 = risk[risk["fewest_points"] == 2]
    if len(k2):
        ax.text(
            0.97, 0.95, f"{float(k2['cumulative'].iloc[0]):.0%} singled out\nby 2 points or fewer",
            transform=ax.transAxes, ha="right", va="top", fontsize=10, fontweight="bold",
            color="#111111", gid="headline", zorder=6,
        )  # fmt: skip
    F.source_line(ax)
    return ax


def fig_risk(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    r = a.risk
    P = a.sizes.risk_points
    by = r.set_index("fewest_points")
    n = int(r["n_targets"].iloc[0])
    one = by.loc[1, "share"]
    two = by.loc[2, "cumulative"] if 2 in by.index else float("nan")
    four = by.loc[4, "cumulative"] if 4 in by.index else float("nan")
    more = by.loc[P + 1, "share"]
    never = by.loc[0, "share"]
    within = r[(r["fewest_points"] >= 1) & (r["fewest_points"] <= P)]
    median_k = None
    if within["n_devices"].sum():
        c = within["cumulative"].to_numpy()
        if c[-1] >= 0.5:
            median_k = int(within["fewest_points"].to_numpy()[np.argmax(c >= 0.5)])
    if one >= 0.5:
        title = (
            f"One random point of its own trace singles out {pct(one)} of the devices in "
            f"{a.source}; {pct(never + more)} are not singled out by {P}."
        )
    elif median_k is not None:
        title = (
            f"Half the devices in {a.source} stand out after {median_k} random points of "
            f"their own; {pct(never + more)} are not singled out by {P}."
        )
    else:
        title = f"Most devices in {a.source} are not singled out by {P} random points of their own."
    return BriefingFigure(
        name="5-per-device-risk",
        title=title,
        caption=(
            f"{measured(a)}: for {n:,} devices drawn at random, their points are revealed "
            f"one by one in a random order until no other device's trace holds them all; "
            f"each bar is the share of devices that many points single out (with its 95% "
            f"interval). One point is enough for {pct(one)}, two or fewer for {pct(two)}, "
            f"four or fewer for {pct(four)}; {pct(more)} need more than {P}, and "
            f"{pct(never)} are never singled out because every point they have is shared "
            "(devices with few records). The report counts devices and never lists which: "
            "no device ID is in any file it writes."
        ),
        alt=(
            f"Bar chart of the share of devices singled out by each number of random points of "
            f"their own, from 1 to {P}, then more than {P}, then never, "
            + measured_values(a, (f"{pct(row.share)} {row.label}" for row in r.itertuples()))
        ),
        headline=f"{pct(two)} of devices singled out by 2 points or fewer",
        draw=lambda ax: plot_risk(r, ax=ax),
        result=r,
    )
