"""Figure 6: the share of devices with a visit near each kind of sensitive place.

:func:`plot_sensitive` draws the table as horizontal bars; the figure's
title, caption and alt text are computed from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from fewpoints import figures as F
from fewpoints.audit.fig_words import measured, measured_values
from fewpoints.audit.result import Audit


def plot_sensitive(table: pd.DataFrame, *, ax=None) -> Axes:
    """Share of devices with a visit near each kind of sensitive place, as horizontal bars."""
    table = F.need_columns(table, ["kind", "share", "n_devices"], "plot_sensitive")
    ax = F.new_axes(ax)
    t = table.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(t))
    anyrow = t["kind"] == "any sensitive place"
    ax.barh(y, t["share"], color=np.where(anyrow, F.OKABE_ITO["vermillion"], F.OURS), height=0.6,
            zorder=3, gid="sensitive")  # fmt: skip
    for yi, (share, n) in enumerate(zip(t["share"], t["n_devices"], strict=True)):
        ax.text(share, yi, f"  {share:.0%} ({n:,})", va="center", fontsize=8.5)
    ax.set_yticks(y)
    ax.set_yticklabels([k.replace("_", " ") for k in t["kind"]])
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    F.percent_axis(ax, "x", top=min(1.0, float(t["share"].max()) * 1.35 + 0.02))
    ax.set_xlabel("Devices with at least one visit near such a place (share of all devices)")
    F.source_line(ax)
    return ax


def fig_sensitive(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    t = a.sensitive
    anyrow = t[t["kind"] == "any sensitive place"].iloc[0]
    kinds = t[t["kind"] != "any sensitive place"]
    gps = a.about["locations"] != "repeating"
    how = (
        "a fix within 50 m of the place"
        + (" with an accuracy of 50 m or better" if a.about["locations"] == "gps" else "")
        if gps
        else "a record at the location nearest the place (the serving antenna or cell): weak "
        "evidence, since everyone served there shows up"
    )
    return BriefingFigure(
        name="6-sensitive-places",
        title=(
            f"{pct(anyrow['share'])} of the devices in {a.source} show a visit near a "
            "sensitive place (health, worship, legal aid, shelter)."
        ),
        caption=(
            f"{measured(a)}, against the {int(anyrow['n_sensitive_places']):,} sensitive "
            f"places of the public places file: a visit is {how}, away from the device's own "
            f"inferred home and work. {int(anyrow['n_devices']):,} devices "
            f"({pct(anyrow['share'])}) show at least one, "
            + "; ".join(
                f"{int(r.n_devices):,} near {r.kind.replace('_', ' ')}" for r in kinds.itertuples()
            )
            + ". Once a device is singled out and named, each such visit is known about a "
            "person. A visit near a place is a lead, not proof."
        ),
        alt=(
            "Horizontal bar chart of the share of devices with a visit near each kind of "
            "sensitive place, "
            + measured_values(
                a, (f"{r.kind.replace('_', ' ')} {pct(r.share)}" for r in t.itertuples())
            )
        ),
        headline=f"{pct(anyrow['share'])} of devices near a sensitive place",
        draw=lambda ax: plot_sensitive(t, ax=ax),
        result=t,
    )
