"""The briefing pack: each figure as a recipe (world -> analysis -> plot) with its caption and alt text.

:data:`RECIPES` lists the briefing's figures in reading order. A recipe runs
its analysis on a :class:`BriefingContext` (one synthetic world plus the
sizes of the analyses) and returns a :class:`BriefingFigure`: the finding in
one sentence (the title), a caption of a few plain sentences, alt text, and
a ``draw(ax)`` that plots the computed result with :mod:`fewpoints.figures`.
Every number in a caption is read from the computed result, never typed in.

:func:`build_briefing` runs the recipes; :func:`write_briefing` writes each
figure as PNG (300 dpi), SVG (text as text) and PDF (fonts embedded),
``captions.md``, ``results.json``, ``briefing.html`` and the printable
``briefing.pdf`` through the one output writer
(:func:`fewpoints.io.atomic_folder`), so a folder is never half-written and
``--force`` replaces only what fewpoints wrote.

>>> from fewpoints import make_world
>>> from fewpoints.briefing import build_briefing, write_briefing
>>> figures = build_briefing(make_world("tiny", seed=0), seed=0)   # doctest: +SKIP
>>> write_briefing(figures, "briefing-out")                         # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints import figures as F
from fewpoints.schema import FewpointsError

__all__ = [
    "PACK_FILES",
    "RECIPES",
    "BriefingContext",
    "BriefingFigure",
    "KeyNumber",
    "Recipe",
    "RunInfo",
    "Sizes",
    "attack_rng",
    "briefing_html",
    "build_briefing",
    "pack_files",
    "release_settings",
    "results_json",
    "sizes_for",
    "summary_numbers",
    "write_briefing",
]

SYNTHETIC = (
    "All data are synthetic: a simulated city whose people and phones do not exist; "
    "the numbers show what the method does, not a measurement of any real population."
)


# ---------------------------------------------------------------------------
# what a recipe returns, and what it runs on
# ---------------------------------------------------------------------------


@dataclass
class BriefingFigure:
    """One figure of the briefing: its finding, caption, alt text, and how to draw it.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"1-how-few-points"``.
    title : str
        The finding in one sentence.
    caption : str
        Two or three plain sentences, the synthetic-data caveat, and the
        published comparison where one exists.
    alt : str
        Alt text: what the chart shows, with its numbers, for a reader who cannot see it.
    headline : str
        One short line with the headline number (for a terminal).
    draw : callable
        ``draw(ax) -> Axes``: plots the computed result on ``ax``.
    figsize : (float, float)
        Size of the stand-alone figure in inches.
    result : object
        The analysis result the figure draws (a table or a result object).
    seconds : float
        How long its analysis took (set by :func:`build_briefing`).
    facts : dict
        Shares the figure states that others may state too (see :func:`check_consistency`).
    """

    name: str
    title: str
    caption: str
    alt: str
    headline: str
    draw: Callable
    figsize: tuple[float, float] = F.FIGSIZE
    result: object = None
    seconds: float = 0.0
    #: The shares this figure states that another figure or the summary may state too,
    #: by name (``"raw data, 4 points"``): ``{"unicity", "ci_low", "ci_high", "n_targets"}``.
    facts: dict = field(default_factory=dict)

    def figure(self):
        """A new house-style matplotlib Figure with this figure drawn on it."""
        from matplotlib import pyplot as plt

        with F.house_style():
            fig = plt.figure(figsize=self.figsize, layout="constrained")
            self.draw(fig.add_subplot())
        return fig


@dataclass(frozen=True)
class Sizes:
    """How much work each analysis does (more targets: narrower intervals, longer runs).

    Every analysis runs on the whole world. The tests that report the share
    of phones 4 points single out (the unicity curve, the coarsening sweep,
    the privacy-utility comparison) sample the same number of targets,
    ``n_targets``, from the same random state, so the raw data's share is
    one number wherever it appears.
    """

    n_targets: int = 10_000
    curve_points: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10)
    #: Targets per setting of the coarsening sweep (default: ``n_targets``).
    sweep_targets: int | None = None
    #: Antennas per merged group (call records located at antennas, as in the published law).
    sweep_merge: tuple[float, ...] = (1, 2, 4, 8)
    #: Square cells, only for records not located at antennas.
    sweep_cells: tuple[float | None, ...] = (None, 1.0, 2.0, 4.0)
    sweep_bins: tuple[str, ...] = ("1h", "2h", "4h", "8h")
    sweep_points: tuple[int, ...] = (4, 8)
    population_targets: int = 5_000
    extrapolate_to: tuple[float, ...] = (1e6,)
    #: Targets per release in the privacy-utility comparison (default: ``n_targets``).
    other_targets: int | None = None
    #: Kept for old callers; the briefing no longer samples devices (None: all of them).
    max_devices: int | None = None

    @property
    def shared_targets(self) -> tuple[int, int]:
        """Targets of the sweep and of the privacy-utility comparison."""
        return (self.sweep_targets or self.n_targets, self.other_targets or self.n_targets)


def sizes_for(n_people: int) -> Sizes:
    """Analysis sizes that keep a world of ``n_people`` within the demo's time budget.

    Each setting of the coarsening sweep re-indexes the whole table, so a
    large world sweeps a 3 x 3 grid (up to 4 antennas and 4 h) instead of 4 x 4.
    """
    if n_people <= 20_000:
        return Sizes(n_targets=2_000, population_targets=2_000)
    return Sizes(sweep_merge=(1, 2, 4), sweep_cells=(None, 1.0, 2.0), sweep_bins=("1h", "2h", "4h"))


#: The random stream every 4-point test of the raw data starts from (see :func:`attack_rng`).
ATTACK_STREAM = 0


def attack_rng(seed: int) -> np.random.Generator:
    """The generator the briefing's unicity tests of seed ``seed`` start from.

    The unicity curve (4 points first), the coarsening sweep and the
    privacy-utility comparison all draw their first targets from a fresh
    copy of it, so on the same table they pick the same phones and points:
    the raw data's share at p = 4 is the same number in every figure, and
    ``benchmarks/bench_privacy.py`` reproduces the briefing's rows.
    """
    return np.random.default_rng([int(seed), ATTACK_STREAM])


@dataclass
class BriefingContext:
    """A world and what the recipes share: its hourly antenna traces and their index, built once."""

    world: object
    sizes: Sizes = field(default_factory=Sizes)
    seed: int = 0

    def rng(self, stream: int) -> np.random.Generator:
        """An independent random stream per recipe: adding a recipe changes no other figure."""
        return np.random.default_rng([self.seed, stream])

    def attack_rng(self) -> np.random.Generator:
        """A fresh copy of the stream every 4-point test of the raw data starts from."""
        return attack_rng(self.seed)

    @cached_property
    def raw4(self):
        """The 4-point test of the hourly call records: the briefing's one raw-data share."""
        from fewpoints.attacks import unicity

        return unicity(self.hourly_index, 4, n_targets=self.sizes.n_targets, rng=self.attack_rng())

    @property
    def cdr(self) -> pd.DataFrame:
        obs = self.world.observations
        if "cdr" not in obs:
            raise FewpointsError("the briefing needs a world with cdr traces (call records)")
        return obs["cdr"]

    @cached_property
    def hourly(self) -> pd.DataFrame:
        """Call records at antenna x hour, as in "Unique in the Crowd"."""
        from fewpoints.anonymize import coarsen_time

        return coarsen_time(self.cdr, time_bin="1h")

    @cached_property
    def hourly_index(self):
        from fewpoints.attacks import PointIndex

        return PointIndex.from_traces(self.hourly)

    def sample(self, traces: pd.DataFrame, stream: int) -> pd.DataFrame:
        """``traces`` of at most ``sizes.max_devices`` devices, drawn at random (all if fewer)."""
        from fewpoints.anonymize import sample_devices

        n = traces["device_id"].nunique()
        cap = self.sizes.max_devices
        if cap is None or n <= cap:
            return traces
        return sample_devices(traces, keep=cap / n, rng=self.rng(stream))

    @property
    def about(self) -> str:
        """The dataset in a few words, for captions."""
        p = self.world.params
        return (
            f"{self.hourly_index.n_devices:,} phones over {p.days} days "
            f"(call records located at the serving antenna, times rounded to the hour)"
        )


@dataclass(frozen=True)
class Recipe:
    """A briefing figure's recipe: ``make(ctx) -> BriefingFigure``; ``needs``: modules it imports."""

    name: str
    make: Callable[[BriefingContext], BriefingFigure]
    needs: tuple[str, ...] = ()

    def available(self) -> bool:
        """True when every module the recipe needs is installed in this build."""
        return all(importlib.util.find_spec(m) is not None for m in self.needs)


# ---------------------------------------------------------------------------
# recipes: world -> analysis -> plot, with captions written from the result
# ---------------------------------------------------------------------------


def _n(k: int, noun: str) -> str:
    """``1 visit``, ``3 visits``."""
    return f"{k:,} {noun}{'' if k == 1 else 's'}"


def pct(v) -> str:
    """A share in whole percent that never rounds a near-certainty to 100% or a few to 0%."""
    v = float(v)
    if 0.995 <= v < 1:
        return "over 99%"
    if 0 < v < 0.005:
        return "under 1%"
    return f"{v:.0%}"


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
        facts={"raw data, 4 points": _fact(u4)},
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
        n_points=s.sweep_points,
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
            sweep, n_points=s.sweep_points, mark=(mid_level, mid_h), ax=ax
        ),
        result=sweep,
        facts={
            "raw data, 4 points": _fact(at(recorded if merged else np.nan, hours[0], p))
            if hours[0] == 1.0
            else {},
            f"{mid_where} x {mid_slot}, {p} points": _fact(mid),
        },
    )


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
        part = population_table(index, sizes, n_points=[4], n_targets=s.population_targets,
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
            "raw data, 4 points": _fact(whole.iloc[0]),
            f"synthetic region, {N} phones, 4 points": _fact(big),
        },
    )


def _pings(ctx: BriefingContext) -> pd.DataFrame:
    obs = ctx.world.observations
    if "pings" not in obs:
        raise FewpointsError("the briefing needs a world with pings traces (app locations)")
    return obs["pings"]


def _anonymity_sets(ctx: BriefingContext) -> BriefingFigure:
    from fewpoints.attacks import anonymity_table

    pings = _pings(ctx)
    table = anonymity_table(pings, n=(1, 2, 3), unordered=(), places=ctx.world.places)
    hw = table[table["measure"] == "home/work"].dropna(subset=["share_unique"])
    top3 = table[table["measure"] == "top-3"].dropna(subset=["share_unique"])
    fine, coarse = hw.iloc[0], hw.iloc[-1]
    mid = hw.iloc[min(1, len(hw) - 1)]
    t3 = top3.iloc[0]
    grans = ", ".join(dict.fromkeys(table["granularity"]))
    return BriefingFigure(
        name="4-home-work",
        title=(
            f"Home and work alone single out {pct(fine['share_unique'])} of phones when "
            f"located to {fine['granularity']}."
        ),
        caption=(
            f"From app location pings, a buyer infers each phone's most visited places and "
            f"where it spends its nights (home) and weekday days (work); a phone is singled "
            f"out when no other phone has the same places at that precision ({grans}). "
            f"The home and work pair singles out {pct(fine['share_unique'])} of "
            f"{int(fine['n_devices']):,} phones at {fine['granularity']} and "
            f"{pct(mid['share_unique'])} at {mid['granularity']}; its top 3 places single out "
            f"{pct(t3['share_unique'])} at {t3['granularity']}. Only coarse areas "
            f"({coarse['granularity']}: {pct(coarse['share_unique'])}) hide the pair. "
            f"{SYNTHETIC} Published: "
            "Golle and Partridge (2009) found a median of 1 person sharing a home/work pair at "
            "census-block level in the US, 21 at tract level; Zang and Bolot (2011) found the "
            "top 2 or 3 places identify most phone users at cell level."
        ),
        alt=(
            f"Chart of the share of phones singled out by their top 1, 2 or 3 places or by "
            f"home and work, at precisions {grans}. Home and work: "
            + ", ".join(f"{pct(r.share_unique)} at {r.granularity}" for r in hw.itertuples())
            + ". One top place alone singles out few phones; two or three single out most "
            "at fine precision."
        ),
        headline=(
            f"{pct(fine['share_unique'])} singled out by home and work alone "
            f"({fine['granularity']} precision)"
        ),
        draw=lambda ax: F.plot_anonymity_sets(table, ax=ax),
        result=table,
    )


def _naming(ctx: BriefingContext) -> BriefingFigure:
    from fewpoints.attacks import naming_curve

    w = ctx.world
    # people is the ground truth: it only scores the attack, which never reads it.
    curve = naming_curve(_pings(ctx), w.posts, w.people, n_posts=(1, 2, 3, 5))
    best = curve.loc[curve["share_named"].idxmax()]
    last, first = curve.iloc[-1], curve.iloc[0]
    return BriefingFigure(
        name="5-naming",
        title=(
            f"From pseudonym to name: {int(best['n_posts'])} geotagged public posts link "
            f"{pct(best['share_named'])} of the people who post to their phone's record."
        ),
        caption=(
            f"The buyer takes a person's public posts that carry a place and a time "
            f"(synthetic social media) and looks for the phones that were there then. When "
            f"exactly one phone fits, that pseudonymous record now has a name. With one post "
            f"{pct(first['share_named'])} of {int(first['n_names']):,} posters are named; with "
            f"{int(best['n_posts'])}, {pct(best['share_named'])} (95% interval "
            f"{pct(best['ci_low'])} to {pct(best['ci_high'])}); with {int(last['n_posts'])}, "
            f"{pct(last['share_named'])} of the {int(last['n_names']):,} who posted that often. "
            f"The others match no phone or several, because pings are sparse and posts are "
            f"not always sent where the phone reported. Names are checked against the "
            f"simulation's ground truth, which the attack never reads. {SYNTHETIC} Published: "
            "Kondor et al. (arXiv 1709.05772) matched about 17% of phone users to transit "
            "cards after one week of data "
            "and over 55% after four; Culnane et al. (2019) re-identified travellers from a "
            "couple of known trips."
        ),
        alt=(
            "Line chart of the share of people linked to their phone's record by name "
            "against the number of geotagged posts known: "
            + ", ".join(f"{pct(r.share_named)} with {int(r.n_posts)}" for r in curve.itertuples())
            + "."
        ),
        headline=(
            f"{pct(best['share_named'])} of posters named from {int(best['n_posts'])} "
            "geotagged posts"
        ),
        draw=lambda ax: F.plot_naming(curve, ax=ax),
        result=curve,
    )


_KIND_WORDS = {
    "health": "a health service",
    "worship": "a place of worship",
    "legal aid": "a legal aid office",
    "legal_aid": "a legal aid office",
    "shelter": "a shelter",
}


def _device_week(ctx: BriefingContext) -> BriefingFigure:
    from fewpoints.attacks import explain, sensitive_visits

    w = ctx.world
    pings = _pings(ctx)
    rng = ctx.rng(6)
    # A device a reader can follow: a readable number of records, home and work found, and a
    # visit to a sensitive place. Checked on a few hundred candidates, then explained once.
    from fewpoints.attacks import home_work

    per_device = pings.groupby("device_id", observed=True).size()
    readable = per_device[per_device.between(150, 600)].index
    pool = readable if len(readable) else per_device.index
    order = rng.permutation(np.asarray(pool, dtype=object))[:300]
    sub = pings[pings["device_id"].isin(order)]
    visited = set(sensitive_visits(sub, w.places)["device_id"].astype(str))
    hw = home_work(sub).dropna(subset=["home_x_km", "work_x_km"])
    located = set(hw["device_id"].astype(str))
    fits = [d for d in order if str(d) in visited and str(d) in located]
    chosen = fits[0] if fits else order[0]
    story = explain(w, chosen, model="pings", rng=rng)
    span = "150 to 600 records over the period" if len(readable) else "any number of records"
    why = (
        f"Why this phone: it was drawn at random from the {len(fits):,} of {len(order):,} "
        f"phones checked ({span}) whose record shows a home, a work and at least one visit "
        "to a sensitive place, to show what such a record can reveal; the other phones' "
        "records reveal as much about where they sleep and work, not all a sensitive visit."
        if fits
        else f"Why this phone: the first of {len(order):,} phones checked ({span}); none of "
        "them showed a home, a work and a sensitive visit together."
    )
    n_days = int(w.params.days)
    # The starred place: the one plot_device_week stars.
    top = (
        tuple(F.top_sensitive_place(story.sensitive)[["name", "kind"]])
        if len(story.sensitive)
        else None
    )
    kinds = ", ".join(sorted(set(story.sensitive["kind"]))) if len(story.sensitive) else "none"
    reveal = (
        f"Its trace also shows {_n(len(story.sensitive), 'visit')} to sensitive places over "
        f"{n_days} days ({kinds}), the starred one being {top[0]}, "
        f"{_KIND_WORDS.get(top[1], top[1])}."
        if top
        else "Its trace shows no visit to a sensitive place."
    )
    unique = (
        f"{_n(story.points_to_unique, 'random point')} of its record "
        f"single{'s' if story.points_to_unique == 1 else ''} it out among "
        f"{story.n_devices:,} phones. "
        if story.points_to_unique
        else ""
    )
    named = (
        f"A public directory lists {story.name} (a synthetic name) at the inferred home. "
        if story.name
        else ""
    )
    return BriefingFigure(
        name="6-one-week",
        title=(
            "One week of one pseudonymous phone, as a buyer sees it: where it sleeps, where it "
            "works, and where it goes."
        ),
        caption=(
            f"The dots are the app location pings of phone {story.device_id} during one "
            f"week. The nights give its home, the weekday daytimes its work, from the "
            f"record alone. {unique}{named}{reveal} Each of these is an inference a buyer can "
            f"draw, not a fact about a person. {why} {SYNTHETIC}"
        ),
        alt=(
            f"Map of one synthetic phone's week: blue dots for its {len(story.trace):,} "
            f"location records over {n_days} days (one week shown), an orange triangle at "
            f"its inferred home, a green square at its inferred work"
            + (f", and a red star at {top[0]}, {_KIND_WORDS.get(top[1], top[1])}" if top else "")
            + ", over a faint map of the city's places."
        ),
        headline=(
            f"phone {story.device_id}: home, work and {_n(len(story.sensitive), 'sensitive visit')}"
        ),
        draw=lambda ax: F.plot_device_week(story, places=w.places, ax=ax),
        figsize=(6.3, 5.4),
        result=story,
    )


def release_settings(antennas: pd.DataFrame | None = None) -> list:
    """Every way of releasing the call records that the briefing's last figure compares.

    Raw data; coarsening to square cells and time bins at four strengths
    (including the weakest two that bring unicity under 10% on the city
    world); neighbouring antennas merged by 5 (when ``antennas``, the
    antenna map, is given); Gaussian noise and geo-indistinguishability at
    two strengths each; half the records; half the devices; IDs rotated
    daily; rare points suppressed; the first week only; and differentially
    private counts at epsilon 0.1, 1 and 10. The README's privacy-utility
    table is this list, measured by the same call.

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
                "antennas merged by 5", "merge_antennas", "v = 5", {"antennas": antennas, "v": 5}
            )
        )
    for sigma, radius in ((100, 0.25), (500, 1.25)):
        s.append(
            Setting(
                f"Gaussian noise, {sigma} m",
                "add_noise",
                f"sigma = {sigma} m, matched within {radius:g} km",
                {"sigma_m": float(sigma)},
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


#: Unicity below this share counts as "few singled out" in the last figure's title.
FEW = 0.10


def _err(v) -> str:
    """A relative error as a whole percentage (0.45 -> "45%")."""
    return f"{float(v):.0%}"


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
        f"{_err(r.utility_error)} at epsilon = {r.epsilon:g}" for r in dp.itertuples()
    )
    metric = str(table["utility_metric"].iloc[0])
    if len(few):
        cheapest = few.loc[few["utility_error"].idxmin()]
        title = (
            f"Of the {n_tried} releases of traces tried, the {len(few)} that single out fewer "
            f"than {FEW:.0%} of phones make the hourly counts {_err(cheapest['utility_error'])} "
            "wrong or worse; differentially private counts single out no one."
        )
        finding = (
            f"{len(few)} of the {n_tried} single out fewer than {FEW:.0%} of phones; the least "
            f"costly of them, {cheapest['setting']}, still singles out "
            f"{pct(cheapest['unicity'])} and makes the counts {_err(cheapest['utility_error'])} "
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
            f"{pct(safest['unicity'])}, with counts {_err(safest['utility_error'])} wrong."
        )
    facts = {"raw data, 4 points": _fact(raw)}
    facts.update({f"release: {r['setting']}": _fact(r) for _, r in released.iterrows()})
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
                f"{r.setting}: {pct(r.unicity)} singled out, counts {_err(r.utility_error)} wrong"
                for r in tr.itertuples()
            )
            + ". Differentially private counts release no traces; their error is "
            f"{dp_err}."
        ),
        headline=(
            f"releases of traces singling out under {FEW:.0%}: counts {_err(cheapest['utility_error'])}+ wrong"
            if len(few)
            else f"best trace release still {pct(safest['unicity'])} singled out"
        )
        + (
            f"; DP counts (epsilon = {best_dp['epsilon']:g}): nothing to single out, "
            f"{_err(best_dp['utility_error'])} error"
            if best_dp is not None
            else ""
        ),
        draw=lambda ax: F.plot_privacy_utility(table, ax=ax),
        figsize=F.privacy_utility_size(table),
        result=table,
        facts=facts,
    )


def _fact(row) -> dict:
    """A share stated in the briefing: value, 95% interval and targets, for results.json."""
    keys = ("unicity", "ci_low", "ci_high", "n_targets")
    get = row.get if hasattr(row, "get") else lambda k: getattr(row, k)
    return {k: (float(get(k)) if k != "n_targets" else int(get(k))) for k in keys}


#: The briefing's figures in reading order.
RECIPES: tuple[Recipe, ...] = (
    Recipe("how-few-points", _how_few_points),
    Recipe("coarsening", _coarsening),
    Recipe("population", _population),
    Recipe("home-work", _anonymity_sets, needs=("fewpoints.attacks.top_locations",)),
    Recipe("naming", _naming, needs=("fewpoints.attacks.linkage",)),
    Recipe("one-week", _device_week, needs=("fewpoints.attacks.explain",)),
    Recipe("what-protects", _privacy_utility, needs=("fewpoints.defenses",)),
)

#: Figures whose headline ``make demo`` prints, in order of preference (first three available).
HEADLINES = ("how-few-points", "naming", "what-protects", "coarsening", "population")


def build_briefing(
    world,
    *,
    seed: int = 0,
    sizes: Sizes | None = None,
    recipes: Sequence[Recipe] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> list[BriefingFigure]:
    """Run each available recipe on ``world``; return the figures in reading order.

    Parameters
    ----------
    world : World
        A synthetic world with ``cdr`` traces.
    seed : int, default 0
        Seed of every analysis (each recipe draws from its own stream).
    sizes : Sizes, optional
        Analysis sizes (default: :func:`sizes_for` the world's people).
    recipes : sequence of Recipe, optional
        Default :data:`RECIPES`; recipes whose modules are missing are skipped.
    progress : callable, optional
        ``progress(stage, fraction)``.
    """
    if sizes is None:
        sizes = sizes_for(len(world.people))
    ctx = BriefingContext(world, sizes=sizes, seed=seed)
    recipes = [r for r in (RECIPES if recipes is None else recipes) if r.available()]
    out = []
    for i, recipe in enumerate(recipes, 1):
        stage = f"figure {i}/{len(recipes)}: {recipe.name}"
        if progress:
            progress(stage, 0.0)
        t0 = time.perf_counter()
        fig = recipe.make(ctx)
        fig.seconds = time.perf_counter() - t0
        out.append(fig)
        if progress:
            progress(stage, 1.0)
    return out


# ---------------------------------------------------------------------------
# the document: summary, context, methods, references (one source for HTML and PDF)
# ---------------------------------------------------------------------------

COVER_TITLE = "Few points: how a handful of places and times singles out a phone in “anonymized” location data"

#: Sources of the cover's context, each checked against its primary source: (key, text, address).
CONTEXT_SOURCES = (
    (
        "wsj2020",
        "Tau, B., Hackman, M. (2020, February 7). Federal agencies use cellphone location data "
        "for immigration enforcement. The Wall Street Journal (reports the purchases and "
        "quotes a CBP spokesman).",
        None,
    ),
    (
        "oig2023",
        "US Department of Homeland Security, Office of Inspector General (2023, September 28). "
        "CBP, ICE, and Secret Service did not adhere to privacy policies or develop sufficient "
        "policies before procuring and using commercial telemetry data. Report OIG-23-61.",
        "https://www.oversight.gov/reports/audit/cbp-ice-and-secret-service-did-not-adhere-"
        "privacy-policies-or-develop-sufficient",
    ),
    (
        "carpenter",
        "Carpenter v. United States, 585 U.S. 296 (2018), No. 16-402, decided June 22, 2018.",
        None,
    ),
    (
        "ftc2024",
        "US Federal Trade Commission (2024, December 3). Gravy Analytics, Inc. and Venntel, "
        "Inc.: complaint and proposed consent order; Analysis of Proposed Consent Order to Aid "
        "Public Comment, 89 Fed. Reg. 96986 (December 6, 2024).",
        None,
    ),
    (
        "hr4639",
        "Fourth Amendment Is Not For Sale Act, H.R. 4639, 118th Congress; passed by the House "
        "of Representatives on April 17, 2024, 219-199 (Roll no. 136); Congressional Record "
        "170(67):H2459-H2468.",
        "http://www.gpo.gov/fdsys/pkg/CREC-2024-04-17/html/CREC-2024-04-17-pt1-PgH2459-5.htm",
    ),
)

#: Published research the figures compare with: (key, text).
RESEARCH_SOURCES = (
    (
        "demontjoye2013",
        "de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D. (2013). Unique in "
        "the Crowd: the privacy bounds of human mobility. Scientific Reports 3:1376.",
    ),
    (
        "farzanehfar2021",
        "Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk of "
        "re-identification remains high even in country-scale location datasets. "
        "Patterns 2(3):100204.",
    ),
    (
        "golle2009",
        "Golle, P., Partridge, K. (2009). On the anonymity of home/work location pairs. "
        "Pervasive Computing, LNCS 5538.",
    ),
    (
        "zang2011",
        "Zang, H., Bolot, J. (2011). Anonymization of location data does not work: a "
        "large-scale measurement study. MobiCom 2011.",
    ),
    (
        "kondor2018",
        "Kondor, D., Hashemian, B., de Montjoye, Y.-A., Ratti, C. (2018). Towards matching "
        "user mobility traces in large-scale datasets. IEEE Transactions on Big Data "
        "(arXiv:1709.05772).",
    ),
    (
        "culnane2019",
        "Culnane, C., Rubinstein, B. I. P., Teague, V. (2019). Stop the open data bus, we want "
        "to get off. arXiv:1908.03268.",
    ),
    (
        "andres2013",
        "Andrés, M. E., Bordenabe, N. E., Chatzikokolakis, K., Palamidessi, C. (2013). "
        "Geo-indistinguishability: differential privacy for location-based systems. CCS 2013.",
    ),
    (
        "dwork2006",
        "Dwork, C., McSherry, F., Nissim, K., Smith, A. (2006). Calibrating noise to "
        "sensitivity in private data analysis. Theory of Cryptography Conference, LNCS 3876.",
    ),
    (
        "song2010",
        "Song, C., Koren, T., Wang, P., Barabási, A.-L. (2010). Modelling the scaling "
        "properties of human mobility. Nature Physics 6:818-823.",
    ),
)

#: Every reference in the order the briefing lists them (plain text).
REFERENCES = tuple(t for _, t, _ in CONTEXT_SOURCES) + tuple(t for _, t in RESEARCH_SOURCES)

#: The cover's context: paragraphs with [key] markers that become numbered citations.
COVER = (
    "Data brokers buy the locations that apps on phones report and sell the records "
    "keyed by an advertising ID instead of a name. Such data are often described as "
    "“anonymized”.",
    "US agencies have bought access to such data. The Wall Street Journal reported in "
    "February 2020 that the Department of Homeland Security (DHS) and two of its "
    "components, Immigration and Customs Enforcement (ICE) and Customs and Border "
    "Protection (CBP), had bought licences from the broker Venntel since 2017; a CBP "
    "spokesman told the paper that the information “doesn't include the individual user's "
    "identity” [wsj2020]. In September 2023 the DHS Office of Inspector General reported "
    "that CBP, ICE and the Secret Service did not adhere to DHS privacy policies and the "
    "E-Government Act of 2002, which require an approved privacy impact assessment before "
    "such data are procured, and had not developed sufficient policies for using them "
    "[oig2023].",
    "In Carpenter v. United States (2018) the Supreme Court held that the government's "
    "acquisition of a person's historical cell-site location records from wireless carriers "
    "is a search under the Fourth Amendment, for which it must generally obtain a warrant; "
    "the Court called its decision “a narrow one” [carpenter]. Whether the same reasoning "
    "covers location data that an agency buys from a broker has not been decided by the "
    "Supreme Court. In December 2024 the Federal Trade Commission announced a proposed "
    "order against Gravy Analytics and its subsidiary Venntel, which it alleged had sold "
    "sensitive location data without verifying consumers' consent; the order bars them "
    "from selling sensitive location data except in limited circumstances [ftc2024]. The "
    "proposed Fourth Amendment Is Not For Sale Act, which would bar law enforcement and "
    "intelligence agencies from buying such records without a court order, passed the "
    "House of Representatives in April 2024 and was not taken up by the Senate in that "
    "Congress [hr4639].",
    "The question this briefing answers, on a simulated city: can a location record "
    "without a name still point to one person? Each figure tests one part of that question "
    "with an attack a buyer could run on the data it bought.",
)

GLOSSARY = (
    (
        "Point",
        "One place and one time slot in a phone's record, such as “the antenna on Elm "
        "Street, Tuesday 8 to 9 a.m.”.",
    ),
    (
        "Unique (singled out)",
        "No other phone's record contains all the points known about a phone: those few "
        "points pick out one phone. The share of phones that are unique is called unicity.",
    ),
    (
        "Anonymity set",
        "The phones whose records contain all the known points. A set of one phone means "
        "that phone is singled out; a large set hides it among others.",
    ),
    (
        "Pseudonym",
        "An identifier that stands in for a name, such as a phone's advertising ID. It links "
        "all of one phone's records together without saying whose phone it is.",
    ),
    (
        "Differential privacy",
        "A formal guarantee for published statistics: what is released changes very little "
        "whether or not any one person's data are included, whatever else a reader knows.",
    ),
    (
        "Epsilon (ε)",
        "The privacy budget of a differentially private release: smaller means more noise "
        "and a stronger guarantee. Here it is counted per phone over the whole four weeks.",
    ),
)

METHODS = (
    "Data. fewpoints simulates a city: homes, workplaces, shops, clinics, places of worship "
    "and legal aid; people with households, commutes and leisure habits that follow "
    "published patterns of human mobility (exploration and preferential return, "
    "heavy-tailed travel) [song2010]; and the records their phones leave (call records at "
    "the serving antenna, and app location pings). No real person is in any table.",
    "Unicity. For a sample of phones, p points (a place and a time slot) are drawn at random "
    "from each phone's own record; a phone is singled out when no other phone's record "
    "contains all p. The share singled out is reported with a 95% Wilson interval over the "
    "sampled phones. This is the test of de Montjoye et al. [demontjoye2013]. Every "
    "figure runs on the whole simulated city, and every 4-point test of the raw call "
    "records draws the same phones and points, so the raw data's share is one number "
    "throughout.",
    "Dataset size. Figure 3 draws, beside random subsets of the city measured in this run, "
    "measurements shipped with fewpoints (synthetic_data/population_scale.csv): the same test "
    "on a synthetic country of towns far larger than the city, in random subsets of it and "
    "grown town by town, made with the package's Dask engine by benchmarks/bench_population.py "
    "(its size and the command that made it are printed under the figure). Beyond the "
    "largest measurement the figure shows only models: a convex curve fitted to the "
    "measurements, the straight-line lower bound, and the published model of Farzanehfar et "
    "al. built from the region's three marginal distributions [farzanehfar2021].",
    "Limits. The numbers describe one synthetic city of the chosen size and depend on how "
    "often phones report and how people move in the simulation; a real dataset can be more "
    "or less identifying. Extrapolations to larger populations are models, not "
    "measurements. The attacks here are simple; a buyer with more auxiliary data does at "
    "least as well.",
)


@dataclass
class KeyNumber:
    """One of the summary page's numbers: the share, its interval, and what follows from it."""

    figure: str
    label: str
    value: float
    ci_low: float
    ci_high: float
    statement: str
    follows: str

    def interval(self) -> str:
        return f"95% interval {pct(self.ci_low)} to {pct(self.ci_high)}"


def summary_numbers(figs: Sequence[BriefingFigure]) -> list[KeyNumber]:
    """The summary page's key numbers, read from the figures' results (those available)."""
    by = {f.name.split("-", 1)[1]: (i, f) for i, f in enumerate(figs, 1)}
    out = []
    if "how-few-points" in by:
        i, f = by["how-few-points"]
        r = f.facts["raw data, 4 points"]
        out.append(
            KeyNumber(
                f"Figure {i}",
                "raw data, 4 points",
                r["unicity"],
                r["ci_low"],
                r["ci_high"],
                f"{pct(r['unicity'])} of phones are singled out by 4 places and times from "
                "their own record",
                "For anyone who buys or sells such records: replacing names with an "
                "advertising ID does not make them anonymous, because a few known sightings "
                "of a person pick out their phone and with it the whole record.",
            )
        )
    if "naming" in by:
        i, f = by["naming"]
        c = f.result
        best = c.loc[c["share_named"].idxmax()]
        out.append(
            KeyNumber(
                f"Figure {i}",
                f"named from {int(best['n_posts'])} posts",
                float(best["share_named"]),
                float(best["ci_low"]),
                float(best["ci_high"]),
                f"{pct(best['share_named'])} of the people who post geotagged messages are "
                f"linked by name to their phone's record from {int(best['n_posts'])} of "
                "their posts",
                "For sellers and regulators: public data such as posts and address "
                "directories turn a pseudonymous record into a named person, so a promise "
                "not to re-identify cannot be checked from the data alone.",
            )
        )
    if "what-protects" in by:
        i, f = by["what-protects"]
        t = f.result
        tr = t[t["unicity"].notna() & (t["transform"] != "none")]
        few = tr[tr["unicity"] < FEW]
        row = few.loc[few["utility_error"].idxmin()] if len(few) else tr.loc[tr["unicity"].idxmin()]
        dp = t[t["unicity"].isna()]
        dp_text = ""
        if len(dp):
            d = dp.loc[dp["utility_error"].idxmin()]
            dp_text = (
                f"; differentially private counts release no traces (error "
                f"{_err(d['utility_error'])} at epsilon = {d['epsilon']:g})"
            )
        statement = (
            f"the release of traces that singles out fewer than {FEW:.0%} of phones at the "
            f"least cost ({row['setting']}: {pct(row['unicity'])}) makes the hourly counts "
            f"{_err(row['utility_error'])} wrong"
            if len(few)
            else f"the most protective release of traces tried ({row['setting']}) still "
            f"singles out {pct(row['unicity'])}"
        ) + dp_text
        out.append(
            KeyNumber(
                f"Figure {i}",
                f"release: {row['setting']}",
                float(row["unicity"]),
                float(row["ci_low"]),
                float(row["ci_high"]),
                statement[0].upper() + statement[1:],
                "For regulators: coarsening, noise or sampling either leave most phones "
                "exposed or destroy what the data are for; aggregate counts with a formal "
                "guarantee (differential privacy) remove the risk of singling out, at a cost "
                "in accuracy that can be measured and weighed in the open.",
            )
        )
    return out


# ---------------------------------------------------------------------------
# writing: figures, captions.md, results.json, briefing.html, briefing.pdf
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    """What made the pack: the command, the fewpoints version and the date of the run."""

    command: str
    version: str
    date: str  # ISO date of the run (SOURCE_DATE_EPOCH when set, for reproducible builds)

    @classmethod
    def now(cls, command: str) -> RunInfo:
        import datetime as dt

        from fewpoints import __version__

        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        when = (
            dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
            if epoch and epoch.isdigit()
            else dt.datetime.now(dt.timezone.utc)
        )
        return cls(command=command, version=__version__, date=when.strftime("%Y-%m-%d"))


def _captions_md(figs: Sequence[BriefingFigure], command: str) -> str:
    lines = [
        "# fewpoints briefing: captions and alt text",
        "",
        f"Made with `{command}`. {SYNTHETIC}",
        "",
    ]
    numbers = summary_numbers(figs)
    if numbers:
        lines += ["## Summary: the numbers that matter (synthetic data)", ""]
        for k in numbers:
            lines += [f"- {k.statement} ({k.interval()}; {k.figure}). {k.follows}"]
        lines += [""]
    for i, fig in enumerate(figs, 1):
        lines += [
            f"## Figure {i}. {fig.title}",
            "",
            f"![{fig.alt}]({fig.name}.png)",
            "",
            fig.caption,
            "",
            f"**Alt text.** {fig.alt}",
            "",
            f"Files: `{fig.name}.png` (300 dpi), `{fig.name}.svg`, `{fig.name}.pdf`.",
            "",
        ]
    return "\n".join(lines)


def jsonable(v):
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return None if not np.isfinite(v) else v
    if isinstance(v, (str, int, bool)) or v is None:
        return v
    return str(v)


def results_json(figs: Sequence[BriefingFigure], run: RunInfo) -> dict:
    """What the pack states, as data: each figure's facts and tables, and the summary numbers.

    ``benchmarks/briefing_tables.py`` makes the README's tables from it, and the tests
    check that a share stated twice is the same number.
    """
    out = {
        "run": {"command": run.command, "version": run.version, "date": run.date},
        "summary": [jsonable(vars(k)) for k in summary_numbers(figs)],
        "figures": [],
    }
    for fig in figs:
        entry = {"name": fig.name, "title": fig.title, "headline": fig.headline,
                 "facts": jsonable(fig.facts)}  # fmt: skip
        table = getattr(fig.result, "table", fig.result)
        if isinstance(table, pd.DataFrame) and len(table) <= 500:
            entry["table"] = jsonable(table.to_dict(orient="records"))
        out["figures"].append(entry)
    return out


def cite(text: str, numbers: dict[str, int]) -> str:
    """HTML-escape ``text`` and turn its ``[key]`` markers into linked reference numbers."""
    import html
    import re

    def link(m):
        key = m.group(1)
        if key not in numbers:
            return m.group(0)
        return f'<a class="cite" href="#ref-{key}">[{numbers[key]}]</a>'

    return re.sub(r"\[([a-z0-9]+)\]", link, html.escape(text, quote=False))


#: The stylesheet of briefing.html; the print rules are what briefing.pdf is laid out with.
CSS = """
:root { --ink: #111; --muted: #555; --rule: #d0d0d0; --accent: #0b5394; --dp: #e4f2ea; }
html { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       line-height: 1.5; }
body { margin: 0 auto; max-width: 46rem; padding: 1.5rem 1.25rem 3rem; font-size: 1rem; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .25rem .5rem; }
.kicker { color: var(--muted); font-size: .9rem; margin: 0 0 .5rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: .25rem 0 1rem; }
h2 { font-size: 1.3rem; line-height: 1.3; margin: 2.5rem 0 .75rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.synthetic { border-left: 4px solid var(--accent); padding: .5rem .75rem; background: #f3f6fa; }
.run { color: var(--muted); font-size: .9rem; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .85em; word-break: break-all; }
figure { margin: 1rem 0 0; }
figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: .95rem; margin-top: .5rem; }
.fignum { color: var(--muted); font-size: .9rem; margin: 0; }
.key { list-style: none; padding: 0; }
.key li { border-top: 1px solid var(--rule); padding: .75rem 0; }
.key .value { font-size: 1.6rem; font-weight: bold; display: block; }
.key .follows { display: block; margin-top: .25rem; }
dl.glossary dt { font-weight: bold; margin-top: .5rem; }
dl.glossary dd { margin: 0 0 0 1.25rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-top: 1rem; }
caption { text-align: left; font-weight: bold; padding-bottom: .35rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .4rem; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.dp td { background: var(--dp); }
ol.refs li { margin-bottom: .35rem; font-size: .9rem; }
@media print {
  @page { size: A4; margin: 18mm 20mm 20mm;
          @bottom-left { content: "fewpoints briefing · synthetic data"; font-size: 8pt;
                         color: #555; font-family: "DejaVu Sans", sans-serif; }
          @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt;
                          color: #555; font-family: "DejaVu Sans", sans-serif; } }
  html { font-size: 9.5pt; }
  body { max-width: none; padding: 0; }
  .skip { display: none; }
  h1 { font-size: 17pt; }
  h2 { font-size: 13pt; margin-top: 0; }
  section.page { break-before: page; }
  figure { break-inside: avoid; }
  figure img { width: 6.3in; max-width: 100%; }
  a { color: inherit; text-decoration: none; }
  a.cite { color: #0b5394; }
  table { font-size: 8pt; break-before: page; }
  tr { break-inside: avoid; }
  section.cover p, section.cover li { font-size: 8.8pt; line-height: 1.4; }
  section.cover h3 { margin-top: .8rem; }
  section.cover ol { margin: .3rem 0; }
  #methods p { font-size: 9pt; }
  ol.refs li { font-size: 8pt; margin-bottom: .15rem; }
}
"""


def _data_uri(mime: str, data: bytes) -> str:
    import base64

    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def briefing_html(
    figs: Sequence[BriefingFigure], run: RunInfo, images: dict[str, tuple[str, bytes]]
) -> str:
    """The whole briefing as one self-contained HTML page (figures inline, no network).

    ``images`` maps each figure's name to ``(mime type, bytes)`` of its picture.
    The same page, laid out by its print rules, is briefing.pdf.
    """
    import html

    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    keys = [k for k, _, _ in CONTEXT_SOURCES] + [k for k, _ in RESEARCH_SOURCES]
    numbers = {k: i for i, k in enumerate(keys, 1)}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(COVER_TITLE)} (fewpoints briefing, synthetic data)</title>",
        '<meta name="author" content="fewpoints contributors">',
        f'<meta name="description" content="{esc(SYNTHETIC)}">',
        '<meta name="keywords" content="location data, re-identification, unicity, '
        'synthetic data, privacy">',
        f'<meta name="generator" content="fewpoints {esc(run.version)}">',
        f'<meta name="dcterms.created" content="{esc(run.date)}">',
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#summary">Skip to the summary</a>',
        "<header>",
        '<p class="kicker">fewpoints briefing · synthetic data</p>',
        f"<h1>{esc(COVER_TITLE)}</h1>",
        "</header>",
        "<main>",
        '<section class="cover" aria-labelledby="context-h">',
        '<h2 id="context-h">The question</h2>',
    ]
    parts += [f"<p>{cite(p, numbers)}</p>" for p in COVER]
    parts += ['<h3 id="figures-h">What the figures show</h3>', "<ol>"]
    parts += [f'<li><a href="#{esc(f.name)}">{esc(f.title)}</a></li>' for f in figs]
    parts += [
        "</ol>",
        f'<p class="synthetic">{esc(SYNTHETIC)}</p>',
        f'<p class="run">fewpoints {esc(run.version)}, run on {esc(run.date)}. Reproduce '
        f"with <code>{esc(run.command)}</code>.</p>",
        "</section>",
    ]
    # Summary page.
    numbers_ = summary_numbers(figs)
    parts += [
        '<section class="page" id="summary" aria-labelledby="summary-h">',
        '<h2 id="summary-h">Summary: the numbers that matter</h2>',
        "<p>Measured on the simulated city (synthetic data, not a real population); "
        "each with its 95% interval.</p>",
        '<ol class="key">',
    ]
    for k in numbers_:
        parts.append(
            f'<li><span class="value">{esc(pct(k.value))}</span>'
            f"{esc(k.statement)} ({esc(k.interval())}; "
            f'<a href="#{esc(next(f.name for i, f in enumerate(figs, 1) if f"Figure {i}" == k.figure))}">'
            f'{esc(k.figure)}</a>).<span class="follows">{esc(k.follows)}</span></li>'
        )
    parts += ["</ol>", '<h3 id="glossary-h">Glossary</h3>', '<dl class="glossary">']
    for term, words in GLOSSARY:
        parts += [f"<dt>{esc(term)}</dt>", f"<dd>{esc(words)}</dd>"]
    parts += ["</dl>", "</section>"]
    # One section per figure.
    for i, fig in enumerate(figs, 1):
        parts += figure_html(fig, i, images[fig.name])
        if fig.name.endswith("what-protects") and isinstance(fig.result, pd.DataFrame):
            parts += _release_table(fig.result, i, esc)
        parts.append("</section>")
    # Methods, references.
    parts += [
        '<section class="page" id="methods" aria-labelledby="methods-h">',
        '<h2 id="methods-h">Methods and limits</h2>',
    ]
    parts += [f"<p>{cite(p, numbers)}</p>" for p in METHODS]
    parts += [
        f"<p>Reproduce. fewpoints {esc(run.version)}, run on {esc(run.date)}: "
        f"<code>{esc(run.command)}</code>. The same seed gives the same figures, byte for "
        "byte (PNG and SVG), and the same numbers.</p>",
        '<h2 id="references-h">References</h2>',
        '<ol class="refs">',
    ]
    for key, text, url in CONTEXT_SOURCES:
        link = f' <a href="{esc(url)}">{esc(url)}</a>' if url else ""
        parts.append(f'<li id="ref-{key}">{esc(text)}{link}</li>')
    for key, text in RESEARCH_SOURCES:
        parts.append(f'<li id="ref-{key}">{esc(text)}</li>')
    parts += ["</ol>", "</section>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def figure_html(fig: BriefingFigure, number: int, image: tuple[str, bytes]) -> list[str]:
    """The opening of a figure's page: its number, its finding as heading, the picture, the caption.

    ``image`` is ``(mime type, bytes)``. The caller adds any table and closes
    the ``section`` (the briefing and the audit lay out their figures alike).
    """
    import html

    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    mime, data = image
    return [
        f'<section class="page" id="{esc(fig.name)}" aria-labelledby="{esc(fig.name)}-h">',
        f'<p class="fignum">Figure {number}</p>',
        f'<h2 id="{esc(fig.name)}-h">{esc(fig.title)}</h2>',
        "<figure>",
        f'<img src="{_data_uri(mime, data)}" alt="{esc(fig.alt)}" '
        f'width="{int(fig.figsize[0] * 96)}" height="{int(fig.figsize[1] * 96)}">',
        f"<figcaption>{esc(fig.caption)}</figcaption>",
        "</figure>",
    ]


def _release_table(table: pd.DataFrame, number: int, esc) -> list[str]:
    rows = [
        "<table>",
        f"<caption>Table to figure {number}: every release compared (synthetic data; 4 known "
        "points; 95% intervals)</caption>",
        '<thead><tr><th scope="col">release</th><th scope="col" class="num">phones singled '
        'out</th><th scope="col" class="num">95% interval</th><th scope="col" class="num">'
        "error of hourly counts</th></tr></thead>",
        "<tbody>",
    ]
    for r in table.itertuples():
        if pd.isna(r.unicity):
            u, ci, cls = "no traces released", "", ' class="dp"'
        else:
            u, ci, cls = f"{r.unicity:.1%}", f"{r.ci_low:.1%} to {r.ci_high:.1%}", ""
        rows.append(
            f'<tr{cls}><th scope="row">{esc(r.setting)}</th><td class="num">{esc(u)}</td>'
            f'<td class="num">{esc(ci)}</td><td class="num">{_err(r.utility_error)}</td></tr>'
        )
    rows += ["</tbody>", "</table>"]
    return rows


def pdf_renderer():
    """WeasyPrint's HTML class, or a FewpointsError saying in one line what is missing."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise FewpointsError(
            "briefing.pdf needs WeasyPrint: pip install weasyprint (a dependency of fewpoints)"
        ) from None
    except OSError as exc:  # Pango or its libraries are missing
        raise FewpointsError(
            "briefing.pdf needs the Pango library for WeasyPrint "
            f"(apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}".splitlines()[0]
        ) from None
    return HTML


def briefing_pdf(path: Path, page: str) -> None:
    """Lay out the HTML page as a tagged PDF (PDF/UA-1: structure, alt text, bookmarks)."""
    HTML = pdf_renderer()
    HTML(string=page).write_pdf(path, pdf_variant="pdf/ua-1")


def picture(fig: BriefingFigure, stem: Path) -> tuple[str, bytes]:
    """The figure as it goes inline into the HTML and the PDF: the SVG, or the PNG if the SVG is heavy."""
    svg = stem.with_suffix(".svg").read_bytes()
    if len(svg) <= 1_500_000:
        return "image/svg+xml", svg
    return "image/png", stem.with_suffix(".png").read_bytes()


#: The pack's files besides each figure's ``NAME.png``, ``NAME.svg`` and ``NAME.pdf``.
PACK_FILES = ("briefing.html", "briefing.pdf", "captions.md", "results.json")


def pack_files(figs: Sequence[BriefingFigure] | None = None) -> list[str]:
    """The names of the files :func:`write_briefing` writes for ``figs``.

    Without ``figs``, those of the figures :data:`RECIPES` would make in this
    build (a figure is named ``N-recipe``, N its place in RECIPES). Known
    before any work, so ``--force`` may replace a pack written before
    manifests existed, and refuse anything else, before the world is made.
    """
    if figs is None:
        names = [f"{i}-{r.name}" for i, r in enumerate(RECIPES, 1) if r.available()]
    else:
        names = [f.name for f in figs]
    return sorted([f"{n}.{ext}" for n in names for ext in ("png", "svg", "pdf")] + list(PACK_FILES))


def write_briefing(
    figs: Sequence[BriefingFigure],
    out,
    *,
    force: bool = False,
    command: str = "fewpoints briefing",
    progress: Callable[[str, float], None] | None = None,
) -> list[Path]:
    """Write the briefing pack to folder ``out``; return the files written.

    Each figure as ``NAME.png`` (300 dpi), ``NAME.svg`` (text as text) and
    ``NAME.pdf`` (TrueType fonts embedded), then ``captions.md``,
    ``results.json`` (the numbers the pack states), ``briefing.html`` (one
    self-contained, accessible page) and ``briefing.pdf`` (the same page laid
    out for print by WeasyPrint, tagged PDF/UA: cover, summary, one page per
    figure, methods, references), all through the one output writer
    (:func:`fewpoints.io.atomic_folder`): nothing half-written is ever seen,
    the folder's manifest lists every file, and an existing non-empty ``out``
    is refused unless ``force``, which replaces only what fewpoints wrote there.
    """
    import json

    from matplotlib import pyplot as plt

    from fewpoints.io import atomic_folder

    if not figs:
        raise FewpointsError("no figures to write")
    pdf_renderer()  # fail before any work when the PDF cannot be made
    run = RunInfo.now(command)
    out = Path(out)
    with atomic_folder(out, force=force, expect=pack_files(figs)) as tmp:
        images = {}
        for i, fig in enumerate(figs):
            if progress:
                progress("writing figures", i / len(figs))
            mfig = fig.figure()
            F.save_figure(mfig, tmp / fig.name)
            plt.close(mfig)
            images[fig.name] = picture(fig, tmp / fig.name)
        if progress:
            progress("writing figures", 1.0)
            progress("writing briefing.html and briefing.pdf", 0.0)
        (tmp / "captions.md").write_text(_captions_md(figs, command), encoding="utf-8")
        (tmp / "results.json").write_text(
            json.dumps(results_json(figs, run), indent=1, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        page = briefing_html(figs, run, images)
        (tmp / "briefing.html").write_text(page, encoding="utf-8")
        briefing_pdf(tmp / "briefing.pdf", page)
        if progress:
            progress("writing briefing.html and briefing.pdf", 1.0)
        names = sorted(p.name for p in tmp.iterdir())
    return [out / name for name in names]
