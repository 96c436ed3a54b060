"""Recipes of figures 1 and 2: how few points single a phone out, and how little coarsening helps.

Both run the 4-point test of the raw call records from the shared attack
stream (:func:`fewpoints.briefing.context.attack_rng`), so their raw-data
share is the briefing's one number; figure 2 repeats the test on the same
phones after merging antennas (or rounding to squares) and rounding times.
"""

from __future__ import annotations

import numpy as np

from fewpoints import figures as F
from fewpoints.briefing.context import BriefingContext, BriefingFigure, Recipe
from fewpoints.briefing.words import SYNTHETIC, fact, pct


def _how_few_points(ctx: BriefingContext) -> BriefingFigure:
    from fewpoints.attacks import unicity_curve

    s = ctx.sizes
    # 4 points first, from the shared attack stream: the curve's p = 4 is ctx.raw4 exactly
    # (unicity_curve calls the generator as unicity does for each p in turn).
    ps = [4, *(p for p in s.curve_points if p != 4)] if 4 in s.curve_points else s.curve_points
    curve = unicity_curve(ctx.hourly_index, ps, n_targets=s.n_targets, rng=ctx.attack_rng())
    curve = curve.sort_values("n_points", ignore_index=True)
    at = curve.set_index("n_points")
    u4, u2 = at.loc[4], at.loc[2]
    n_t = int(at["n_targets"].max())
    return BriefingFigure(
        name="1-how-few-points",
        title=(
            f"Four places and times single out {pct(u4['unicity'])} of phones in a "
            'synthetic city\'s "anonymized" records.'
        ),
        caption=(
            f"Each dot is the share of phones whose known points (antenna and hour, drawn "
            f"from the phone's own record) match no other phone among {ctx.about}. "
            f"Two points already single out {pct(u2['unicity'])}; four single out "
            f"{pct(u4['unicity'])} (95% interval {pct(u4['ci_low'])} to {pct(u4['ci_high'])}, "
            f"{n_t:,} phones sampled). "
            f"{SYNTHETIC} Published: on real call records of 1.5 million people over 15 "
            "months, de Montjoye et al. (2013) found 95% unique with 4 points (diamond)."
        ),
        alt=(
            f"Line chart of the share of phones singled out against the number of points "
            f"known, from {int(curve['n_points'].min())} to {int(curve['n_points'].max())}. "
            f"It rises steeply: {pct(at['unicity'].iloc[0])} with one point, "
            f"{pct(u2['unicity'])} with two, {pct(u4['unicity'])} with four, "
            f"{pct(at['unicity'].iloc[-1])} with {int(curve['n_points'].max())}. "
            "A marker at 4 points shows the published 95% for comparison."
        ),
        headline=f"{pct(u4['unicity'])} of phones singled out by 4 points (antenna x hour)",
        draw=lambda ax: F.plot_unicity_curve(curve, ax=ax),
        result=curve,
        facts={"raw data, 4 points": fact(u4)},
    )


def _coarsening(ctx: BriefingContext) -> BriefingFigure:
    from fewpoints.attacks import resolution_sweep
    from fewpoints.attacks.resolution import antenna_map

    s = ctx.sizes
    # Call records are coarsened as in the published law: neighbouring antennas
    # merged (v antennas x h hours). Square cells only if the table has no antennas.
    merged = antenna_map(ctx.cdr) is not None
    space = {"merge_v": s.sweep_merge} if merged else {"cell_km": s.sweep_cells}
    sweep = resolution_sweep(
        ctx.cdr,
        **space,
        time_bin=s.sweep_bins,
        n_points_range=s.sweep_points,
        n_targets=s.shared_targets[0],
        rng=ctx.attack_rng(),  # its first setting (as recorded, 1 h, 4 points) is ctx.raw4
    )
    t = sweep.table
    column, _, recorded = F.space_column(t)
    p, more = s.sweep_points[0], s.sweep_points[-1]

    def at(level, h, n):
        same = (t[column].fillna(recorded) == np.nan_to_num(level, nan=recorded)) & (t["h"] == h)
        return t[same & (t["n_points"] == n)].iloc[0]

    t4 = t[t["n_points"] == p]
    vh = t4["v"] * t4["h"]
    finest, coarse = t4.loc[vh.idxmin()], t4.loc[vh.idxmax()]
    # A moderate blur a seller might choose: the second location and time precisions tried.
    levels = sorted({c for c in t[column].dropna() if c != recorded})
    hours = sorted(t["h"].unique())
    mid_level, mid_h = (levels[0] if levels else np.nan), hours[min(1, len(hours) - 1)]
    mid, mid_more = at(mid_level, mid_h, p), at(mid_level, mid_h, more)
    coarse_more = at(coarse[column], coarse["h"], more)
    fit = sweep.fit.set_index("n_points").loc[p]

    def label(level):
        words = F.space_label(level, merged=merged)
        return words.replace("as recorded (antenna)", "single antennas")

    where, slot = label(coarse[column]), F.hours_label(coarse["h"])
    mid_where, mid_slot = label(mid_level), F.hours_label(mid_h)
    biggest = max(levels) if levels else 0
    span = f"{F.hours_label(t['h'].min())} to {F.hours_label(t['h'].max())}"
    if merged:
        how = (
            f"after merging neighbouring antennas into groups of up to {biggest:g} (as the "
            f"published study did) and rounding times to slots of {span}"
        )
        why = (
            " Rounding locations to squares instead would look more protective than it is: "
            "a 1 km square downtown swallows many antennas."
        )
    else:
        how = f"after rounding locations to squares of up to {biggest:g} km and times to slots of {span}"
        why = ""
    return BriefingFigure(
        name="2-coarsening",
        title=(
            f"Blurred to {mid_where} and {mid_slot} time slots, the data still single out "
            f"{pct(mid['unicity'])} of phones with {p} points and {pct(mid_more['unicity'])} "
            f"with {more}."
        ),
        caption=(
            f"The same test on the same phones {how}; each dot is one setting, placed by "
            f"how much coarser it is than the recorded data (locations merged x hours per "
            f"slot). With {p} points, unicity falls from {pct(finest['unicity'])} as recorded "
            f"to {pct(mid['unicity'])} at {mid_where} and {mid_slot}, and to "
            f"{pct(coarse['unicity'])} only at {where} and {slot} slots (with {more} "
            f"points: {pct(coarse_more['unicity'])}).{why} The grey lines are the law of "
            f"de Montjoye et al., unicity = alpha - (v h)^beta, fitted to these points (beta = "
            f"{fit['beta']:.2f} with {p} points). {SYNTHETIC} Published: on real call "
            "records, de Montjoye et al. (2013) found that unicity decays only about as the "
            "1/10 power of resolution (beta = 0.13 with 4 points)."
        ),
        alt=(
            f"Scatter chart of the share of phones singled out against how much coarser the "
            f"data are made (log scale), filled dots for {p} known points and open squares "
            f"for {more}, coloured by location precision, with fitted curves. With {p} points "
            f"the share falls from {pct(finest['unicity'])} as recorded to "
            f"{pct(mid['unicity'])} at {mid_where} and {mid_slot} slots and "
            f"{pct(coarse['unicity'])} at the coarsest setting; with {more} points it is "
            f"{pct(mid_more['unicity'])} and {pct(coarse_more['unicity'])}."
        ),
        headline=(
            f"{pct(mid['unicity'])} singled out by {p} points, {pct(mid_more['unicity'])} by "
            f"{more}, after blurring to {mid_where} and {mid_slot} slots"
        ),
        draw=lambda ax: F.plot_resolution(
            sweep, n_points_range=s.sweep_points, mark=(mid_level, mid_h), ax=ax
        ),
        result=sweep,
        facts={
            "raw data, 4 points": fact(at(recorded if merged else np.nan, hours[0], p))
            if hours[0] == 1.0
            else {},
            f"{mid_where} x {mid_slot}, {p} points": fact(mid),
        },
    )


#: Figures 1 and 2 of the briefing.
HOW_FEW_POINTS = Recipe("how-few-points", _how_few_points)
COARSENING = Recipe("coarsening", _coarsening)
