"""Recipe of figure 3: does a bigger crowd hide anyone? Measured subsets, towns, models beyond.

Reads the shipped scale table (a synthetic region measured to 10 million
phones), measures random subsets of the briefing's own world now, and
writes the title, caption and alt text from those numbers and from the
models continued to 60 million phones (:class:`PopulationResult`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from fewpoints import figures as F
from fewpoints.briefing.context import BriefingContext, BriefingFigure, Recipe
from fewpoints.briefing.words import FEW, SYNTHETIC, fact, pct

#: Subset sizes measured live on the briefing's own world (those smaller than it).
LIVE_SIZES = (1_000, 3_000, 10_000, 30_000)
#: "Barely moves": the largest fall, in points of unicity, the population headline calls flat.
FLAT = 0.05


def _scale_rows(measured: pd.DataFrame, axis: str, p: int = 4) -> pd.DataFrame:
    rows = measured[(measured["axis"] == axis) & (measured["n_points"] == p)]
    return rows.sort_values("n_devices").reset_index(drop=True)


@dataclass
class PopulationResult:
    """What figure 3 draws: the region's subsets (fitted), its towns, the live points, the paper's model."""

    curve: object
    towns: pd.DataFrame
    live: pd.DataFrame
    paper: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        """Every point drawn, one row each, ``series`` saying which."""
        cols = ["n_devices", "n_points", "unicity", "ci_low", "ci_high"]
        parts = [
            self.curve.table[cols].assign(series="region: random subsets"),
            self.towns[cols].assign(series="region: grown town by town"),
            self.live[cols].assign(series="this world: random subsets"),
            self.paper[cols].assign(series="published model on the region's marginals"),
        ]
        ex = self.curve.extrapolation
        parts.append(ex.assign(n_points=4, series="extrapolated: fitted model and lower bound"))
        return pd.concat(parts, ignore_index=True)


def _population(ctx: BriefingContext) -> BriefingFigure:
    """Figure 3: the measured scale table (a synthetic region to 10M), live points, the models."""
    from fewpoints.attacks.population import PopulationCurve, population_table, scale_tables

    s = ctx.sizes
    measured, model = scale_tables()
    subsets, towns = _scale_rows(measured, "subsets"), _scale_rows(measured, "towns")
    five = _scale_rows(measured, "subsets", 5)
    curve = PopulationCurve.from_table(subsets, extrapolate_to=(6e7,), fit_from=1e6)
    curve5 = PopulationCurve.from_table(five, extrapolate_to=(6e7,), fit_from=1e6)
    paper = model[model["n_points"] == 4].sort_values("n_devices")
    paper60 = float(paper.loc[paper["n_devices"] == 6e7, "unicity"].iloc[0])
    paper5 = float(model.loc[(model["n_points"] == 5) & (model["n_devices"] == 6e7), "unicity"].iloc[0])  # fmt: skip
    far, far5 = curve.extrapolation.iloc[-1], curve5.extrapolation.iloc[-1]

    # Live: random subsets of this world, and the whole of it, which is figure 1's 4-point
    # test (ctx.raw4, the shared attack stream): the briefing's raw share is one number.
    index = ctx.hourly_index
    n_all = index.n_devices
    sizes = [n for n in LIVE_SIZES if n < 0.8 * n_all]
    raw = ctx.raw4
    whole = pd.DataFrame([{"n_devices": n_all, "n_points": 4, "unicity": raw.value,
                           "ci_low": raw.ci_low, "ci_high": raw.ci_high,
                           "n_targets": raw.n_targets}])  # fmt: skip
    if sizes:
        part = population_table(index, sizes, n_points_range=[4], n_targets=s.population_targets,
                                rng=ctx.rng(3)).table  # fmt: skip
        live = pd.concat([part[whole.columns], whole], ignore_index=True)
    else:
        live = whole

    world = measured["world"].iloc[0]
    people = int(re.search(r"([\d,]+) people", world).group(1).replace(",", ""))
    region = world.replace("region, ", "a synthetic region of ", 1)
    big, small = subsets.iloc[-1], subsets.iloc[0]
    drop = float(small["unicity"] - big["unicity"])
    t_first, t_last = towns.iloc[0], towns.iloc[-1]
    t_drop = float(t_first["unicity"] - t_last["unicity"])
    N, n0 = F.fmt_round(big["n_devices"]), F.fmt_round(small["n_devices"])
    times = big["n_devices"] / small["n_devices"]
    u_big, u_small = pct(big["unicity"]), pct(small["unicity"])
    if big["unicity"] >= 1 - FEW and drop < FLAT:
        title = (
            f"A bigger crowd barely hides anyone: 4 points single out {u_big} of {N} phones in "
            f"a synthetic region, and {u_small} of {n0}."
        )
    elif big["unicity"] >= 1 - FEW and drop < 2 * FLAT:
        title = (
            f"A crowd {times:,.0f} times bigger hides few: 4 points single out {u_big} of {N} "
            f"phones in a synthetic region, against {u_small} of {n0}."
        )
    else:
        title = (
            f"Unicity falls as the crowd grows: 4 points single out {u_small} of {n0} phones "
            f"in a synthetic region and {u_big} of {N}."
        )
    if abs(t_drop) < FLAT:
        towns_move = "barely moves"
    else:
        towns_move = "falls" if t_drop > 0 else "rises"
    gap = F.PUBLISHED_POPULATION["unicity"] - paper60
    side = "below" if gap > 0 else "above"
    paper_text = (
        f"{pct(paper60)} (the published model of Farzanehfar et al. on this region's three "
        "marginals, "
        + (f"within {abs(gap) * 100:.0f} points of" if abs(gap) <= FEW else
           f"{abs(gap) * 100:.0f} points {side}")
        + " their 93%)"
    )  # fmt: skip
    live_sizes = live["n_devices"].iloc[:-1]
    subsets_live = (
        f"subsets of {F.fmt_count(live_sizes.min())} to {F.fmt_count(live_sizes.max())} "
        f"phones and all {n_all:,}"
        if len(live_sizes) > 1
        else (f"a subset of {F.fmt_count(live_sizes.iloc[0])} phones and all {n_all:,}"
              if len(live_sizes) else f"all {n_all:,} phones")
    )  # fmt: skip
    note = (
        f"Filled: measured on a synthetic region of {people:,} people, made by "
        f"{measured['world_command'].iloc[0]} and measured by benchmarks/bench_population.py "
        f"(synthetic_data/population_scale.csv). Hollow: measured now on this briefing's "
        f"{n_all:,} phones."
    )
    denser = (
        f" At the same size the towns start lower ({pct(t_first['unicity'])} against "
        f"{u_small}): whole towns hold everyone in their streets, a "
        f"{small['n_devices'] / big['n_devices']:.0%} subset of the country only a few."
        if abs(t_first["n_devices"] / small["n_devices"] - 1) < 0.2
        and small["unicity"] - t_first["unicity"] >= 0.02
        else ""
    )
    caption = (
        f"Filled dots: the share of phones that 4 known points (antenna and hour) single out in "
        f"random subsets of {region}, a broker with more of the same people: {u_small} of "
        f"{small['n_devices']:,} phones, {u_big} of {big['n_devices']:,}, "
        f"{abs(drop) * 100:.1f} points {'lower' if drop >= 0 else 'higher'} for {times:,.0f} "
        f"times as many ({int(big['n_targets']):,} phones sampled per size, 95% intervals). "
        f"Squares: the region grown town by town, a broker covering more of the country: "
        f"{pct(t_first['unicity'])} of {t_first['n_devices']:,} phones, "
        f"{pct(t_last['unicity'])} of {t_last['n_devices']:,}. Unicity {towns_move} as towns "
        f"are added, because their people are rarely at the antennas of the towns already "
        f"covered; more people in the same streets share a target's points more often, so it "
        f"falls, slowly.{denser} Hollow circles: this briefing's city ({subsets_live}); the "
        f"whole city is {pct(raw.value)}, figure 1's number. Shaded: models only, and they "
        f"disagree. At 60 million phones: {pct(far['model'])} (a convex curve fitted to the "
        f"subsets), {pct(far['lower_bound'])} (the straight-line lower bound) and "
        f"{paper_text}; with 5 points {pct(far5['model'])}, {pct(far5['lower_bound'])} and "
        f"{pct(paper5)}. {SYNTHETIC} Published: Farzanehfar et al. (2021) estimated 93% unique "
        "with 4 points among 60 million people (diamond), lower bound 22% (triangle; 87% with "
        "5 points), from 3 months of real location data."
    )
    alt = (
        f"Chart of the share of phones singled out by 4 points against the number of phones, "
        f"on a log scale from {F.fmt_count(live['n_devices'].min())} to 60 million. Filled "
        f"dots, random subsets of a synthetic region: {u_small} at {n0} phones down to "
        f"{u_big} at {N}. Squares, the region grown town by town: {pct(t_first['unicity'])} "
        f"to {pct(t_last['unicity'])}. Hollow circles, this briefing's city: "
        f"{pct(live['unicity'].iloc[0])} to {pct(raw.value)}. In a shaded band beyond {N}: "
        f"a dashed fitted model reaching {pct(far['model'])} at 60 million, a dotted lower "
        f"bound at {pct(far['lower_bound'])}, the published model on this region's marginals "
        f"at {pct(paper60)}, and markers for the published 93% and its 22% lower bound."
    )
    return BriefingFigure(
        name="3-population",
        title=title,
        caption=caption,
        alt=alt,
        headline=(
            f"{u_big} singled out by 4 points among {N} phones "
            f"(measured, synthetic region; {u_small} among {n0})"
        ),
        draw=lambda ax: F.plot_population(
            curve,
            towns=towns,
            live=live,
            paper_model=paper,
            labels={"live": "measured now: this city, and subsets"},
            note=note,
            headline=f"{pct(big['unicity'])} singled out\namong {N} phones",
            ax=ax,
        ),  # fmt: skip
        figsize=(6.3, 5.0),
        result=PopulationResult(curve=curve, towns=towns, live=live, paper=paper),
        facts={
            "raw data, 4 points": fact(whole.iloc[0]),
            f"synthetic region, {N} phones, 4 points": fact(big),
        },
    )


#: Figure 3 of the briefing.
POPULATION = Recipe("population", _population)
