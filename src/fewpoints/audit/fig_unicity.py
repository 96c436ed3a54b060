"""Figures 1 and 2: how few points single a device out, as recorded and coarsened.

Each figure's title, caption and alt text are computed from the result;
:func:`plot_coarsening` draws the coarsening table as a grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from fewpoints import figures as F
from fewpoints.audit.coarsening import coarsening_table, hours
from fewpoints.audit.fig_words import about_words, fact, measured
from fewpoints.audit.result import FEW, Audit


def fig_curve(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    c = a.curve
    at = c.set_index("n_points")
    u4 = at.loc[4]
    first, last = c.iloc[0], c.iloc[-1]
    two = f"; two single out {pct(at.loc[2, 'unicity'])}" if 2 in at.index else ""
    n_t = int(u4["n_targets"])
    if first["unicity"] >= 0.5 and u4["unicity"] - first["unicity"] < 0.01:
        title = (
            f"In {a.source}, a single point of a device's own trace (a place and a time to "
            f"{a.about['time_step_words']}) singles out {pct(first['unicity'])} of devices."
        )
    elif first["unicity"] >= 0.5:
        title = (
            f"In {a.source}, {int(first['n_points'])} point of a device's own trace already "
            f"singles out {pct(first['unicity'])} of devices, and 4 points "
            f"{pct(u4['unicity'])}."
        )
    else:
        title = (
            f"In {a.source}, 4 points of a device's own trace single out "
            f"{pct(u4['unicity'])} of devices."
        )
    return BriefingFigure(
        name="1-how-few-points",
        title=title,
        caption=(
            f"{measured(a)}: each dot is the share of sampled devices whose known points "
            f"(a place and a time at the file's own precision, drawn at random from the "
            f"device's trace) match no other device among {about_words(a)}. One point singles "
            f"out {pct(first['unicity'])}{two}; four single out {pct(u4['unicity'])} (95% "
            f"interval {pct(u4['ci_low'])} to {pct(u4['ci_high'])}, {n_t:,} devices "
            "sampled). Points are matched exactly, as an attacker who knows them to the "
            "file's precision would; figure 2 asks the same question of coarser versions of "
            "the file, as of an attacker who knows less. Published: on call records of 1.5 "
            "million people located "
            "at antennas, by the hour, de Montjoye et al. (2013) found 95% unique with 4 "
            "points (diamond)."
        ),
        alt=(
            f"Line chart of the share of devices singled out against the number of points "
            f"known, from {int(first['n_points'])} to {int(last['n_points'])}, measured on "
            f"{a.source}: {pct(first['unicity'])} with {int(first['n_points'])}, "
            f"{pct(u4['unicity'])} with four, {pct(last['unicity'])} with "
            f"{int(last['n_points'])}. A marker at 4 points shows the published 95%."
        ),
        headline=f"{pct(u4['unicity'])} of devices singled out by 4 points (as recorded)",
        draw=lambda ax: F.plot_unicity_curve(c, ax=ax),
        result=c,
        facts={"as recorded, 4 points": fact(u4)},
    )


def plot_coarsening(table: pd.DataFrame, *, mark=None, few: float = FEW, ax=None) -> Axes:
    """The coarsening table as a grid: the share singled out at each square size x time slot.

    Parameters
    ----------
    table : DataFrame
        From :func:`coarsening_table`: ``cell_km`` (NaN: as recorded),
        ``time_bin`` (None: as recorded), ``unicity``, ``ci_low``, ``ci_high``.
    mark : (cell_km or None, time_bin or None), optional
        The setting to ring (the least coarsening under ``few``).
    few : float, default 0.10
        Settings whose 95% interval lies under this share are outlined.
    ax : Axes, optional

    Returns
    -------
    Axes
        Rows from the recorded locations (top) to the largest squares, columns
        from the recorded times to the longest slots; each cell says the share
        singled out, darker where more are.
    """
    from matplotlib.patches import Rectangle

    table = F.need_columns(
        table, ["cell_km", "time_bin", "unicity", "ci_low", "ci_high"], "plot_coarsening"
    )
    cells = list(dict.fromkeys(table["cell_km"].fillna(0.0)))
    bins = list(dict.fromkeys(table["time_bin"].fillna("")))
    cells.sort()
    bins.sort(key=lambda b: 0 if b == "" else pd.Timedelta(b).total_seconds())
    grid = np.full((len(cells), len(bins)), np.nan)
    high = np.full_like(grid, np.nan)
    for r in table.itertuples():
        i = cells.index(0.0 if pd.isna(r.cell_km) else r.cell_km)
        j = bins.index(r.time_bin if isinstance(r.time_bin, str) else "")
        grid[i, j], high[i, j] = r.unicity, r.ci_high
    ax = F.new_axes(ax)
    ax.imshow(grid, cmap="OrRd", vmin=0, vmax=1.25, aspect="auto", zorder=1)
    for i in range(len(cells)):
        for j in range(len(bins)):
            v = grid[i, j]
            if np.isnan(v):
                continue
            text = f"{v:.0%}" if v >= 0.005 or v == 0 else "<1%"
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    fontweight="bold" if high[i, j] < few else "normal",
                    color="white" if v > 0.6 else "#111111", zorder=3)  # fmt: skip
            if high[i, j] < few:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.2,
                                       ec=F.OKABE_ITO["blue"], ls="--", zorder=4))  # fmt: skip
    if mark is not None:
        i = cells.index(0.0 if mark[0] is None else float(mark[0]))
        j = bins.index(mark[1] or "")
        ax.add_patch(Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, lw=2.6,
                               ec="#111111", zorder=5, gid="marked"))  # fmt: skip
    ax.set_xticks(range(len(bins)))
    ax.set_xticklabels(["as recorded" if b == "" else F.hours_label(hours(b)) for b in bins])
    ax.set_yticks(range(len(cells)))
    ax.set_yticklabels(["as recorded" if c == 0 else f"{c:g} km" for c in cells])
    ax.set_xlabel("Times floored to slots of")
    ax.set_ylabel("Locations snapped to squares of")
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=F.OKABE_ITO["blue"], ls="--", lw=1.2)]
    labels = [f"95% interval under {few:.0%} (bold)"]
    if mark is not None:
        handles.append(Line2D([], [], color="#111111", lw=2.6))
        labels.append(f"least coarsening under {few:.0%}")
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
              fontsize=8)  # fmt: skip
    F.source_line(ax)
    return ax


def fig_coarsening(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    p = a.sizes.sweep_points
    r, c = a.release, a.coarsest
    raw = a.raw4
    if r is not None:
        alt_words = f" (or {r['alternatives'][0]})" if r["alternatives"] else ""
        title = (
            f"Only coarsened to {r['words']}{alt_words} do fewer than {FEW:.0%} of devices "
            f"stand out by {p} points ({pct(r['unicity'])}); locations then move "
            f"{r['moved_km']:.1f} km on average."
        )
        mark = (r["cell_km"], r["time_bin"])
        verdict = (
            f"The least coarsening tried whose 95% interval lies under {FEW:.0%} is {r['words']}: "
            f"{pct(r['unicity'])} singled out (95% interval {pct(r['ci_low'])} to "
            f"{pct(r['ci_high'])}). Its cost in precision: every location moved to the centre "
            f"of its square, {r['moved_km']:.2f} km from where it was on average, and every "
            f"time to the start of its slot, {r['shifted_minutes']:.0f} minutes earlier on "
            "average."
            + (
                f" Also under {FEW:.0%}, and not coarser in both space and time: "
                + "; ".join(r["alternatives"])
                + "."
                if r["alternatives"]
                else ""
            )
        )
    else:
        title = (
            f"No coarsening tried brings the share singled out by {p} points under {FEW:.0%}: "
            f"even {c['words']} single out {pct(c['unicity'])}."
        )
        mark = None
        verdict = (
            f"No setting tried, up to {c['words']}, brings it under {FEW:.0%}: the coarsest "
            f"still singles out {pct(c['unicity'])} (95% interval {pct(c['ci_low'])} to "
            f"{pct(c['ci_high'])})."
        )
    t = coarsening_table(a)
    cells = ", ".join(f"{v:g} km" for v in dict.fromkeys(t["cell_km"].dropna()))
    bins = ", ".join(F.hours_label(hours(v)) for v in dict.fromkeys(t["time_bin"].dropna()))
    return BriefingFigure(
        name="2-coarsening",
        title=title,
        caption=(
            f"{measured(a)}: the test of figure 1 with {p} points on coarser versions of the "
            f"file, locations snapped to the centres of squares ({cells}) and times floored "
            f"to slots ({bins}); each cell of the grid is one setting and the share of devices "
            f"it still singles out. As recorded, {p} points single out "
            f"{pct(raw.unicity)}. {verdict} Published: on real call records, de Montjoye "
            "et al. (2013) found that unicity falls only about as the 1/10 power of the "
            "resolution. The table after this figure lists every setting with its interval "
            "and cost."
        ),
        alt=(
            f"Grid of the share of devices singled out by {p} points, with location squares "
            f"from as recorded to {cells.split(', ')[-1] if cells else 'as recorded'} down "
            f"the side and time slots from as recorded to "
            f"{bins.split(', ')[-1] if bins else 'as recorded'} across, measured on "
            f"{a.source}: {pct(raw.unicity)} as recorded; "
            + (
                f"{pct(r['unicity'])} at {r['words']}, the least coarsening under {FEW:.0%}; "
                if r is not None
                else ""
            )
            + f"{pct(c['unicity'])} at the coarsest setting, {c['words']}."
        ),
        headline=(
            f"under {FEW:.0%} only at {r['words']} ({pct(r['unicity'])})"
            if r is not None
            else f"no coarsening tried gets under {FEW:.0%} ({pct(c['unicity'])} at {c['words']})"
        ),
        draw=lambda ax: plot_coarsening(t, mark=mark, ax=ax),
        result=t,
        facts={"as recorded, 4 points": fact(t[t["cell_km"].isna() & t["time_bin"].isna()].iloc[0])}
        if p == 4
        else {},
    )
