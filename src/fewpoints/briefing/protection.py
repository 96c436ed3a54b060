"""Recipe of figure 7: what protects. Every release compared, privacy beside utility.

:func:`release_settings` lists the ways of releasing the call records that
the figure compares (coarsening, merging, noise, sampling, rotation,
suppression, truncation and differentially private counts); the recipe runs
:func:`fewpoints.privacy_utility` on them from the shared attack stream and
states what the least costly protective release costs.
"""

from __future__ import annotations

import pandas as pd

from fewpoints import figures as F
from fewpoints.briefing.context import BriefingContext, BriefingFigure, Recipe
from fewpoints.briefing.words import FEW, SYNTHETIC, error_pct, fact, pct


def release_settings(antennas: pd.DataFrame | None = None) -> list:
    """Every way of releasing the call records that the briefing's last figure compares.

    Raw data; coarsening to square cells and time bins at four strengths
    (including the weakest two that bring unicity under 10% on the city
    world); neighbouring antennas merged by 5 (when ``antennas``, the
    antenna map, is given); Gaussian noise and geo-indistinguishability at
    two strengths each; half the records; half the devices; IDs rotated
    daily; rare points suppressed; the first week only; and differentially
    private counts at epsilon 0.1, 1 and 10. The privacy-utility
    table (docs/results/anonymization.md) is this list, measured by the same call.

    Returns
    -------
    list of fewpoints.defenses.Setting
    """
    from fewpoints.defenses import Setting

    s = [Setting("raw data", "none", "as released")]
    for cell, tb in ((1.0, "1h"), (2.0, "4h"), (5.0, "1h"), (2.0, "12h")):
        words = f"{cell:g} km x {tb.removesuffix('h')} h"
        s.append(
            Setting(f"coarsened to {words}", "coarsen", words, {"cell_km": cell, "time_bin": tb})
        )
    if antennas is not None:
        s.append(
            Setting(
                "antennas merged by 5",
                "merge_antennas",
                "v = 5",
                {"antennas": antennas, "merge_v": 5},
            )
        )
    for sigma, radius in ((100, 0.25), (500, 1.25)):
        s.append(
            Setting(
                f"Gaussian noise, {sigma} m",
                "add_noise",
                f"sigma = {sigma} m, matched within {radius:g} km",
                {"sigma_km": sigma / 1000.0},
                match_km=radius,
            )
        )
    for eps, radius in ((5.0, 1.0), (2.0, 2.0)):
        s.append(
            Setting(
                f"geo-indistinguishability, {eps:g} per km",
                "geo_indistinguishable",
                f"epsilon = {eps:g} per km, matched within {radius:g} km",
                {"epsilon_per_km": eps},
                match_km=radius,
            )
        )
    s += [
        Setting("half the records", "subsample", "keep 50%", {"keep": 0.5}),
        Setting("half the devices", "sample_devices", "keep 50%", {"keep": 0.5}, count_scale=2.0),
        Setting("IDs rotated daily", "pseudonymize", "new ID every day", {"rotate": "1D"}),
        Setting("rare points suppressed (k = 5)", "suppress_rare", "k = 5", {"k": 5}),
        Setting("first 7 days only", "truncate", "7 days", {"days": 7}),
    ]
    for eps in (0.1, 1.0, 10.0):
        s.append(
            Setting(
                f"DP counts, epsilon = {eps:g}",
                "dp_aggregate",
                f"epsilon = {eps:g}",
                {"epsilon": eps, "max_cells_per_device": 50},
            )
        )
    return s


def _privacy_utility(ctx: BriefingContext) -> BriefingFigure:
    import warnings

    from fewpoints.anonymize import WeakTransformWarning
    from fewpoints.defenses import privacy_utility

    antennas = getattr(ctx.world, "antennas", None)
    with warnings.catch_warnings():
        # Data already at antenna x hour: coarsening to 1 h changes nothing, as intended.
        warnings.simplefilter("ignore", WeakTransformWarning)
        table = privacy_utility(
            ctx.hourly,
            release_settings(antennas),
            n_targets=ctx.sizes.shared_targets[1],
            rng=ctx.attack_rng(),  # its raw row is ctx.raw4
        )
    dp = table[table["unicity"].isna()]
    tr = table[table["unicity"].notna()]
    raw = tr[tr["transform"] == "none"].iloc[0]
    released = tr.drop(raw.name)
    n_tried = len(released)
    safest = released.loc[released["unicity"].idxmin()]
    weakest = released.loc[released["unicity"].idxmax()]
    few = released[released["unicity"] < FEW]
    best_dp = dp.loc[dp["utility_error"].idxmin()] if len(dp) else None
    dp_err = ", ".join(
        f"{error_pct(r.utility_error)} at epsilon = {r.epsilon:g}" for r in dp.itertuples()
    )
    metric = str(table["utility_metric"].iloc[0])
    if len(few):
        cheapest = few.loc[few["utility_error"].idxmin()]
        title = (
            f"Of the {n_tried} releases of traces tried, the {len(few)} that single out fewer "
            f"than {FEW:.0%} of phones make the hourly counts {error_pct(cheapest['utility_error'])} "
            "wrong or worse; differentially private counts single out no one."
        )
        finding = (
            f"{len(few)} of the {n_tried} single out fewer than {FEW:.0%} of phones; the least "
            f"costly of them, {cheapest['setting']}, still singles out "
            f"{pct(cheapest['unicity'])} and makes the counts {error_pct(cheapest['utility_error'])} "
            "wrong on average."
        )
    else:
        cheapest = safest
        title = (
            f"Every one of the {n_tried} releases of traces tried still singles out at least "
            f"{pct(safest['unicity'])} of phones; differentially private counts single out "
            "no one."
        )
        finding = (
            f"The most protective of them, {safest['setting']}, still singles out "
            f"{pct(safest['unicity'])}, with counts {error_pct(safest['utility_error'])} wrong."
        )
    facts = {"raw data, 4 points": fact(raw)}
    facts.update({f"release: {r['setting']}": fact(r) for _, r in released.iterrows()})
    return BriefingFigure(
        name="7-what-protects",
        title=title,
        caption=(
            f"Each row is one way of releasing the same call records of "
            f"{int(raw['n_devices']):,} phones (antenna and hour). Left: the share of phones "
            f"that 4 known points still single out in the release, with its 95% interval. "
            f"Right: how much the release distorts a typical use, counting phones per 1 km "
            f"square and hour ({metric}; 0% is as good as the raw data). Raw data: "
            f"{pct(raw['unicity'])}. Some releases barely change that: {weakest['setting']} "
            f"leaves {pct(weakest['unicity'])}. {finding} Differentially private (DP) counts "
            f"release no traces, so there is nothing to single out; their error is {dp_err}. "
            "Epsilon is the privacy budget of such a release: the smaller it is, the more noise "
            "and the stronger the guarantee. For the noise rows the attacker knows true places "
            f"and times and accepts any record close enough, a lower bound on the risk. {SYNTHETIC}"
        ),
        alt=(
            f"Two-panel chart, one row per release, {n_tried} releases of traces and "
            f"{len(dp)} of differentially private counts. "
            + "; ".join(
                f"{r.setting}: {pct(r.unicity)} singled out, counts {error_pct(r.utility_error)} wrong"
                for r in tr.itertuples()
            )
            + ". Differentially private counts release no traces; their error is "
            f"{dp_err}."
        ),
        headline=(
            f"releases of traces singling out under {FEW:.0%}: counts {error_pct(cheapest['utility_error'])}+ wrong"
            if len(few)
            else f"best trace release still {pct(safest['unicity'])} singled out"
        )
        + (
            f"; DP counts (epsilon = {best_dp['epsilon']:g}): nothing to single out, "
            f"{error_pct(best_dp['utility_error'])} error"
            if best_dp is not None
            else ""
        ),
        draw=lambda ax: F.plot_privacy_utility(table, ax=ax),
        figsize=F.privacy_utility_size(table),
        result=table,
        facts=facts,
    )


#: Figure 7 of the briefing.
WHAT_PROTECTS = Recipe("what-protects", _privacy_utility, needs=("fewpoints.defenses",))
