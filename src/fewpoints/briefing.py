"""The briefing pack: each figure as a recipe (world -> analysis -> plot) with its caption and alt text.

:data:`RECIPES` lists the briefing's figures in reading order. A recipe runs
its analysis on a :class:`BriefingContext` (one synthetic world plus the
sizes of the analyses) and returns a :class:`BriefingFigure`: the finding in
one sentence (the title), a caption of a few plain sentences, alt text, and
a ``draw(ax)`` that plots the computed result with :mod:`fewpoints.figures`.
Every number in a caption is read from the computed result, never typed in.

:func:`build_briefing` runs the recipes; :func:`write_briefing` writes each
figure as PNG (300 dpi), SVG (text as text) and PDF (fonts embedded),
``captions.md``, and one printable ``briefing.pdf``, into a temporary folder
renamed into place at the end, so a folder is never half-written.

>>> from fewpoints import make_world
>>> from fewpoints.briefing import build_briefing, write_briefing
>>> figures = build_briefing(make_world("tiny", seed=0), seed=0)   # doctest: +SKIP
>>> write_briefing(figures, "briefing-out")                         # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd

from fewpoints import figures as F
from fewpoints.schema import FewpointsError

__all__ = [
    "RECIPES",
    "BriefingContext",
    "BriefingFigure",
    "Recipe",
    "Sizes",
    "build_briefing",
    "sizes_for",
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

    def figure(self):
        """A new house-style matplotlib Figure with this figure drawn on it."""
        from matplotlib import pyplot as plt

        with F.house_style():
            fig = plt.figure(figsize=self.figsize, layout="constrained")
            self.draw(fig.add_subplot())
        return fig


@dataclass(frozen=True)
class Sizes:
    """How much work each analysis does (more targets: narrower intervals, longer runs)."""

    n_targets: int = 10_000
    curve_points: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10)
    sweep_targets: int = 3_000
    #: Antennas per merged group (call records located at antennas, as in the published law).
    sweep_merge: tuple[float, ...] = (1, 2, 4, 8)
    #: Square cells, only for records not located at antennas.
    sweep_cells: tuple[float | None, ...] = (None, 1.0, 2.0, 4.0)
    sweep_bins: tuple[str, ...] = ("1h", "2h", "4h", "8h")
    sweep_points: tuple[int, ...] = (4, 8)
    population_targets: int = 5_000
    extrapolate_to: tuple[float, ...] = (1e6,)
    other_targets: int = 5_000
    #: Home/work and privacy-utility run on a random sample of at most this many devices.
    max_devices: int | None = 25_000


def sizes_for(n_people: int) -> Sizes:
    """Analysis sizes that keep a world of ``n_people`` within the demo's time budget.

    Each setting of the coarsening sweep re-indexes the whole table, so a
    large world sweeps a 3 x 3 grid (up to 4 antennas and 4 h) instead of 4 x 4.
    """
    if n_people <= 20_000:
        return Sizes(sweep_targets=2_000, population_targets=2_000, other_targets=2_000)
    return Sizes(sweep_merge=(1, 2, 4), sweep_cells=(None, 1.0, 2.0), sweep_bins=("1h", "2h", "4h"))


@dataclass
class BriefingContext:
    """A world and what the recipes share: its hourly antenna traces and their index, built once."""

    world: object
    sizes: Sizes = field(default_factory=Sizes)
    seed: int = 0

    def rng(self, stream: int) -> np.random.Generator:
        """An independent random stream per recipe: adding a recipe changes no other figure."""
        return np.random.default_rng([self.seed, stream])

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


def _pct(v) -> str:
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
    curve = unicity_curve(ctx.hourly_index, s.curve_points, n_targets=s.n_targets, rng=ctx.rng(1))
    at = curve.set_index("n_points")
    u4, u2 = at.loc[4], at.loc[2]
    n_t = int(at["n_targets"].max())
    return BriefingFigure(
        name="1-how-few-points",
        title=(
            f"Four places and times single out {_pct(u4['unicity'])} of phones in a "
            'synthetic city\'s "anonymized" records.'
        ),
        caption=(
            f"Each dot is the share of phones whose known points (antenna and hour, drawn "
            f"from the phone's own record) match no other phone among {ctx.about}. "
            f"Two points already single out {_pct(u2['unicity'])}; four single out "
            f"{_pct(u4['unicity'])} (95% interval {_pct(u4['ci_low'])} to {_pct(u4['ci_high'])}, "
            f"{n_t:,} phones sampled). "
            f"{SYNTHETIC} Published: on real call records of 1.5 million people over 15 "
            "months, de Montjoye et al. (2013) found 95% unique with 4 points (diamond)."
        ),
        alt=(
            f"Line chart of the share of phones singled out against the number of points "
            f"known, from {int(curve['n_points'].min())} to {int(curve['n_points'].max())}. "
            f"It rises steeply: {_pct(at['unicity'].iloc[0])} with one point, "
            f"{_pct(u2['unicity'])} with two, {_pct(u4['unicity'])} with four, "
            f"{_pct(at['unicity'].iloc[-1])} with {int(curve['n_points'].max())}. "
            "A marker at 4 points shows the published 95% for comparison."
        ),
        headline=f"{_pct(u4['unicity'])} of phones singled out by 4 points (antenna x hour)",
        draw=lambda ax: F.plot_unicity_curve(curve, ax=ax),
        result=curve,
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
        n_targets=s.sweep_targets,
        rng=ctx.rng(2),
    )
    t = sweep.table
    column, _, recorded = F._space_column(t)
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
        words = F._space_label(level, merged=merged)
        return words.replace("as recorded (antenna)", "single antennas")

    where, slot = label(coarse[column]), F._hours_label(coarse["h"])
    mid_where, mid_slot = label(mid_level), F._hours_label(mid_h)
    biggest = max(levels) if levels else 0
    span = f"{F._hours_label(t['h'].min())} to {F._hours_label(t['h'].max())}"
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
            f"{_pct(mid['unicity'])} of phones with {p} points and {_pct(mid_more['unicity'])} "
            f"with {more}."
        ),
        caption=(
            f"The same test on the same phones {how}; each dot is one setting, placed by "
            f"how much coarser it is than the recorded data (locations merged x hours per "
            f"slot). With {p} points, unicity falls from {_pct(finest['unicity'])} as recorded "
            f"to {_pct(mid['unicity'])} at {mid_where} and {mid_slot}, and to "
            f"{_pct(coarse['unicity'])} only at {where} and {slot} slots (with {more} "
            f"points: {_pct(coarse_more['unicity'])}).{why} The grey lines are the law of "
            f"de Montjoye et al., unicity = alpha - (v h)^beta, fitted to these points (beta = "
            f"{fit['beta']:.2f} with {p} points). {SYNTHETIC} Published: on real call "
            "records, de Montjoye et al. (2013) found that unicity decays only about as the "
            "1/10 power of resolution (beta = 0.13 with 4 points)."
        ),
        alt=(
            f"Scatter chart of the share of phones singled out against how much coarser the "
            f"data are made (log scale), filled dots for {p} known points and open squares "
            f"for {more}, coloured by location precision, with fitted curves. With {p} points "
            f"the share falls from {_pct(finest['unicity'])} as recorded to "
            f"{_pct(mid['unicity'])} at {mid_where} and {mid_slot} slots and "
            f"{_pct(coarse['unicity'])} at the coarsest setting; with {more} points it is "
            f"{_pct(mid_more['unicity'])} and {_pct(coarse_more['unicity'])}."
        ),
        headline=(
            f"{_pct(mid['unicity'])} singled out by {p} points, {_pct(mid_more['unicity'])} by "
            f"{more}, after blurring to {mid_where} and {mid_slot} slots"
        ),
        draw=lambda ax: F.plot_resolution(
            sweep, n_points=s.sweep_points, mark=(mid_level, mid_h), ax=ax
        ),
        result=sweep,
    )


def _population(ctx: BriefingContext) -> BriefingFigure:
    from fewpoints.attacks import population_curve

    s = ctx.sizes
    curve = population_curve(
        ctx.hourly_index,
        n_points=4,
        n_targets=s.population_targets,
        extrapolate_to=s.extrapolate_to,
        rng=ctx.rng(3),
    )
    t = curve.table
    first, last = t.iloc[0], t.iloc[-1]
    far = curve.extrapolation.iloc[-1]
    big = F._fmt_count(far["n_devices"])
    return BriefingFigure(
        name="3-population",
        title=("A bigger crowd does not hide you: unicity falls only slowly as the dataset grows."),
        caption=(
            f"The 4-point test in random subsets of the synthetic city's phones: from "
            f"{F._fmt_count(first['n_devices'])} to {F._fmt_count(last['n_devices'])} phones, "
            f"unicity moves from {_pct(first['unicity'])} to {_pct(last['unicity'])}. "
            f"Beyond the data (shaded), a convex model fitted to these points gives "
            f"{_pct(far['model'])} at {big} phones, and the straight-line lower bound "
            f"{_pct(far['lower_bound'])}. Both are extrapolations from one synthetic city, "
            f"where extra phones would crowd the same streets: they are not measurements, "
            f"and not a prediction for a country. {SYNTHETIC} Published: Farzanehfar et al. "
            "(2021) estimated 93% unique with 4 points among 60 million people (diamond)."
        ),
        alt=(
            f"Chart of the share singled out against the number of phones on a log scale. "
            f"Measured points fall from {_pct(first['unicity'])} at "
            f"{F._fmt_count(first['n_devices'])} phones to {_pct(last['unicity'])} at "
            f"{F._fmt_count(last['n_devices'])}; a dashed model continues to "
            f"{_pct(far['model'])} at {big}, with a dotted lower bound at "
            f"{_pct(far['lower_bound'])}. A diamond far to the right marks the published 93% at "
            "60 million people."
        ),
        headline=f"{_pct(far['model'])} predicted at {big} phones (model; lower bound {_pct(far['lower_bound'])})",
        draw=lambda ax: F.plot_population(curve, ax=ax),
        result=curve,
    )


def _pings(ctx: BriefingContext) -> pd.DataFrame:
    obs = ctx.world.observations
    if "pings" not in obs:
        raise FewpointsError("the briefing needs a world with pings traces (app locations)")
    return obs["pings"]


def _anonymity_sets(ctx: BriefingContext) -> BriefingFigure:
    from fewpoints.attacks import anonymity_table

    pings = ctx.sample(_pings(ctx), 40)
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
            f"Home and work alone single out {_pct(fine['share_unique'])} of phones when "
            f"located to {fine['granularity']}."
        ),
        caption=(
            f"From app location pings, a buyer infers each phone's most visited places and "
            f"where it spends its nights (home) and weekday days (work); a phone is singled "
            f"out when no other phone has the same places at that precision ({grans}). "
            f"The home and work pair singles out {_pct(fine['share_unique'])} of "
            f"{int(fine['n_devices']):,} phones at {fine['granularity']} and "
            f"{_pct(mid['share_unique'])} at {mid['granularity']}; its top 3 places single out "
            f"{_pct(t3['share_unique'])} at {t3['granularity']}. Only coarse areas "
            f"({coarse['granularity']}: {_pct(coarse['share_unique'])}) hide the pair. "
            f"{SYNTHETIC} Published: "
            "Golle and Partridge (2009) found a median of 1 person sharing a home/work pair at "
            "census-block level in the US, 21 at tract level; Zang and Bolot (2011) found the "
            "top 2 or 3 places identify most phone users at cell level."
        ),
        alt=(
            f"Chart of the share of phones singled out by their top 1, 2 or 3 places or by "
            f"home and work, at precisions {grans}. Home and work: "
            + ", ".join(f"{_pct(r.share_unique)} at {r.granularity}" for r in hw.itertuples())
            + ". One top place alone singles out few phones; two or three single out most "
            "at fine precision."
        ),
        headline=(
            f"{_pct(fine['share_unique'])} singled out by home and work alone "
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
            f"{_pct(best['share_named'])} of the people who post to their phone's record."
        ),
        caption=(
            f"The buyer takes a person's public posts that carry a place and a time "
            f"(synthetic social media) and looks for the phones that were there then. When "
            f"exactly one phone fits, that pseudonymous record now has a name. With one post "
            f"{_pct(first['share_named'])} of {int(first['n_names']):,} posters are named; with "
            f"{int(best['n_posts'])}, {_pct(best['share_named'])} (95% interval "
            f"{_pct(best['ci_low'])} to {_pct(best['ci_high'])}); with {int(last['n_posts'])}, "
            f"{_pct(last['share_named'])} of the {int(last['n_names']):,} who posted that often. "
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
            + ", ".join(f"{_pct(r.share_named)} with {int(r.n_posts)}" for r in curve.itertuples())
            + "."
        ),
        headline=(
            f"{_pct(best['share_named'])} of posters named from {int(best['n_posts'])} "
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
    chosen = next((d for d in order if str(d) in visited and str(d) in located), order[0])
    story = explain(w, chosen, model="pings", rng=rng)
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
            f"draw, not a fact about a person. {SYNTHETIC}"
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


def _privacy_utility(ctx: BriefingContext) -> BriefingFigure:
    import warnings

    from fewpoints.anonymize import WeakTransformWarning
    from fewpoints.defenses import privacy_utility

    with warnings.catch_warnings():
        # Data already at antenna x hour: coarsening to 1 h changes nothing, as intended.
        warnings.simplefilter("ignore", WeakTransformWarning)
        hourly = ctx.sample(ctx.hourly, 70)
        table = privacy_utility(hourly, n_targets=ctx.sizes.other_targets, rng=ctx.rng(7))
    dp = table[table["unicity"].isna()]
    tr = table[table["unicity"].notna()]
    raw = tr[tr["transform"] == "none"].iloc[0]
    safest = tr.loc[tr["unicity"].idxmin()]
    weakest = tr.drop(raw.name).loc[lambda d: d["unicity"].idxmax()]
    dp_err = ", ".join(f"{r.utility_error:.2f} at epsilon = {r.epsilon:g}" for r in dp.itertuples())
    metric = str(table["utility_metric"].iloc[0])
    return BriefingFigure(
        name="7-what-protects",
        title=(
            f"Every release of traces tried leaves at least {_pct(safest['unicity'])} of phones "
            "exposed; only aggregate counts with differential privacy leave nothing to "
            "single out."
        ),
        caption=(
            f"Each dot is one way of releasing the same call records of "
            f"{int(raw['n_devices']):,} phones, placed by how many phones 4 "
            f"points still single out (up) and how much the release distorts a typical use, "
            f"counting phones per 1 km square and hour (right). Raw data: "
            f"{_pct(raw['unicity'])}. Some releases barely change that: "
            f"{weakest['setting']} leaves "
            f"{_pct(weakest['unicity'])}; the most protective trace release, "
            f"{safest['setting']}, still {_pct(safest['unicity'])}, with an error of "
            f"{safest['utility_error']:.2f}. Differentially private counts (green band) "
            f"release no traces at all, with a formal guarantee; their error is {dp_err}. "
            f"Error: {metric}. {SYNTHETIC}"
        ),
        alt=(
            "Scatter chart of privacy against utility error for each release. "
            + "; ".join(
                f"{r.setting}: {_pct(r.unicity)} singled out, error {r.utility_error:.2f}"
                for r in tr.itertuples()
            )
            + ". Differentially private counts, shown on a separate band, release no "
            f"traces; error {dp_err}."
        ),
        headline=(
            f"best trace release still {_pct(safest['unicity'])} singled out; DP counts: "
            "nothing to single out"
        ),
        draw=lambda ax: F.plot_privacy_utility(table, ax=ax),
        figsize=(6.3, 4.6),
        result=table,
    )


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
# writing: figures, captions.md, briefing.pdf
# ---------------------------------------------------------------------------

A4 = (8.27, 11.69)
MARGIN = 1.0  # inches
WRAP = 92  # characters per line of 9.5 pt text across A4 text width

COVER_TITLE = "Few points: why “anonymized” phone location data is not anonymous"
COVER = (
    "Data brokers buy the locations that apps on our phones report, strip the names, "
    "and sell the records keyed by an advertising ID. Buyers call the data “anonymized”. "
    "US agencies have bought such data without a warrant: DHS, ICE and CBP from the broker "
    "Venntel, with CBP stating that it “doesn't include the individual user's identity”. "
    "The DHS inspector general later found that these components used the data without "
    "the privacy assessments their own rules require. Yet in Carpenter v. United States "
    "(2018), the Supreme Court held that the government needs a warrant to obtain a "
    "person's historical cell-site location records: buying comparable records avoids "
    "that step.",
    "The question this briefing answers: can a location record without a name still "
    "point to one person? Each figure below tests one part of the claim on a simulated "
    "city, with the attack a buyer could run on the data it bought.",
)
METHODS = (
    "Data. fewpoints simulates a city: homes, workplaces, shops, clinics, places of worship "
    "and legal aid; people with households, commutes and leisure habits that follow "
    "published patterns of human mobility (exploration and preferential return, heavy-tailed "
    "travel); and the records their phones leave (call records at the serving antenna, "
    "and app location pings). No real person is in any table.",
    "Unicity. For a sample of phones, p points (a place and a time slot) are drawn at "
    "random from each phone's own record; a phone is singled out when no other phone's "
    "record contains all p. The share singled out is reported with a 95% Wilson interval "
    "over the sampled phones. This is the test of de Montjoye et al. (2013).",
    "Limits. The numbers describe one synthetic city of the chosen size and depend on "
    "how often phones report and how people move in the simulation; a real dataset can "
    "be more or less identifying. Extrapolations to larger populations are models, not "
    "measurements. The attacks here are simple; a determined buyer with more auxiliary "
    "data does at least as well.",
    "Reproduce. {command}. The same seed gives the same figures, byte for byte (PNG and SVG).",
)
REFERENCES = (
    "de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D. (2013). Unique in "
    "the Crowd: the privacy bounds of human mobility. Scientific Reports 3:1376.",
    "Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk of "
    "re-identification remains high even in country-scale location datasets. "
    "Patterns 2(3):100204.",
    "Golle, P., Partridge, K. (2009). On the anonymity of home/work location pairs. "
    "Pervasive Computing, LNCS 5538.",
    "Zang, H., Bolot, J. (2011). Anonymization of location data does not work: a "
    "large-scale measurement study. MobiCom 2011.",
    "Andrés, M. E., Bordenabe, N. E., Chatzikokolakis, K., Palamidessi, C. (2013). "
    "Geo-indistinguishability: differential privacy for location-based systems. CCS 2013.",
    "Song, C., Koren, T., Wang, P., Barabási, A.-L. (2010). Modelling the scaling "
    "properties of human mobility. Nature Physics 6:818-823.",
    "Kondor, D., Hashemian, B., de Montjoye, Y.-A., Ratti, C. (2018). Towards matching "
    "user mobility traces in large-scale datasets. IEEE Transactions on Big Data "
    "(arXiv:1709.05772).",
    "Culnane, C., Rubinstein, B. I. P., Teague, V. (2019). Stop the open data bus, we want "
    "to get off. arXiv:1908.03268.",
    "Carpenter v. United States, 585 U.S. 296 (2018).",
    "US Department of Homeland Security, Office of Inspector General (2023). CBP, ICE, "
    "and Secret Service did not adhere to privacy policies or develop sufficient policies "
    "before procuring and using commercial telemetry data. OIG-23-61.",
)


def _wrap(text: str, width: int = WRAP) -> str:
    return "\n".join(textwrap.fill(p, width) for p in text.split("\n"))


class _Page:
    """An A4 page of text laid out top to bottom (inches from the top edge)."""

    def __init__(self, pdf):
        from matplotlib import pyplot as plt

        self.pdf = pdf
        self.fig = plt.figure(figsize=A4)
        self.y = MARGIN

    def text(self, text, *, size=9.5, weight="normal", width=WRAP, gap=0.18, color="#111111"):
        wrapped = _wrap(text, width)
        n = wrapped.count("\n") + 1
        self.fig.text(
            MARGIN / A4[0],
            1 - self.y / A4[1],
            wrapped,
            fontsize=size,
            fontweight=weight,
            va="top",
            ha="left",
            color=color,
            linespacing=1.35,
        )
        self.y += n * size * 1.35 / 72 + gap
        return self

    def close(self):
        from matplotlib import pyplot as plt

        for t in list(self.fig.texts):
            if t.get_gid() == "fewpoints-source":
                t.remove()
        self.fig.text(
            1 - MARGIN / A4[0], 0.4 / A4[1], F.SOURCE_LINE, ha="right", fontsize=7, color=F.MUTED
        )
        self.pdf.savefig(self.fig)
        plt.close(self.fig)


def _figure_page(pdf, number: int, fig: BriefingFigure) -> None:
    """Title, the figure drawn as vectors at its own size and layout, then caption and alt text."""
    from matplotlib import pyplot as plt

    page = _Page(pdf)
    page.text(f"Figure {number}", size=8.5, color=F.MUTED, gap=0.05)
    page.text(fig.title, size=12.5, weight="bold", width=70, gap=0.2)
    # Lay the figure out on its own (constrained layout), then place an Axes of the
    # same size at the same spot on the page, so the page shows exactly the figure.
    w, h = fig.figsize
    alone = fig.figure()
    alone.canvas.draw()
    box = alone.axes[0].get_position()
    plt.close(alone)
    top = page.y
    ax = page.fig.add_axes(
        [
            (MARGIN + box.x0 * w) / A4[0],
            1 - (top + (1 - box.y0) * h) / A4[1],
            box.width * w / A4[0],
            box.height * h / A4[1],
        ]
    )
    fig.draw(ax)
    page.y += h + 0.3
    page.text(fig.caption)
    page.text(f"Alt text: {fig.alt}", size=8, color="#444444")
    page.close()


def _captions_md(figs: Sequence[BriefingFigure], command: str) -> str:
    lines = [
        "# fewpoints briefing: captions and alt text",
        "",
        f"Made with `{command}`. {SYNTHETIC}",
        "",
    ]
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


def _briefing_pdf(path: Path, figs: Sequence[BriefingFigure], command: str) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    meta = dict(F.SAVE_METADATA["pdf"], Title="fewpoints briefing (synthetic data)")
    with (
        F.house_style(),
        mpl.rc_context({"axes.grid": False}),
        PdfPages(path, metadata=meta) as pdf,
    ):
        cover = _Page(pdf)
        cover.text("fewpoints briefing · synthetic data", size=9, color=F.MUTED, gap=0.1)
        cover.text(COVER_TITLE, size=17, weight="bold", width=48, gap=0.35)
        for para in COVER:
            cover.text(para, size=10.5, width=84, gap=0.2)
        cover.text("What the figures show", size=11.5, weight="bold", gap=0.1)
        for i, fig in enumerate(figs, 1):
            cover.text(f"{i}. {fig.title}", size=10, width=86, gap=0.08)
        cover.y += 0.2
        cover.text(SYNTHETIC, size=9.5, color="#444444")
        cover.close()
        for i, fig in enumerate(figs, 1):
            with mpl.rc_context(F.HOUSE_STYLE):
                _figure_page(pdf, i, fig)
        methods = _Page(pdf)
        methods.text("Methods and limits", size=14, weight="bold", gap=0.2)
        for para in METHODS:
            methods.text(para.format(command=command), gap=0.15)
        methods.y += 0.2
        methods.text("References", size=14, weight="bold", gap=0.2)
        for ref in REFERENCES:
            methods.text(ref, size=9, gap=0.1)
        methods.close()


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
    ``NAME.pdf`` (TrueType fonts embedded), then ``captions.md`` and
    ``briefing.pdf`` (cover, one page per figure with its caption, methods
    and limits, references), through the one output writer
    (:func:`fewpoints.io.atomic_folder`): nothing half-written is ever seen,
    and an existing non-empty ``out`` is refused unless ``force``, which
    replaces only what fewpoints wrote there.
    """
    from matplotlib import pyplot as plt

    from fewpoints.io import atomic_folder

    if not figs:
        raise FewpointsError("no figures to write")
    out = Path(out)
    with atomic_folder(out, force=force) as tmp:
        for i, fig in enumerate(figs):
            if progress:
                progress("writing figures", i / len(figs))
            mfig = fig.figure()
            F.save_figure(mfig, tmp / fig.name)
            plt.close(mfig)
        if progress:
            progress("writing figures", 1.0)
            progress("writing briefing.pdf", 0.0)
        (tmp / "captions.md").write_text(_captions_md(figs, command), encoding="utf-8")
        _briefing_pdf(tmp / "briefing.pdf", figs, command)
        if progress:
            progress("writing briefing.pdf", 1.0)
        names = sorted(p.name for p in tmp.iterdir())
    return [out / name for name in names]
