"""Recipes of figures 4 to 6: the person behind the pseudonym (home and work, a name, one week).

From the app location pings: the share of phones their home and work (or
top places) single out, the share of posters a buyer names from geotagged
posts, and one phone's week as a buyer sees it, chosen at random among those
whose record shows a home, a work and a visit to a sensitive place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints import figures as F
from fewpoints.briefing.context import BriefingContext, BriefingFigure, Recipe
from fewpoints.briefing.words import SYNTHETIC, pct
from fewpoints.schema import FewpointsError


def _n(k: int, noun: str) -> str:
    """``1 visit``, ``3 visits``."""
    return f"{k:,} {noun}{'' if k == 1 else 's'}"


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
    curve = naming_curve(_pings(ctx), w.posts, w.people, n_points_range=(1, 2, 3, 5))
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
    story = explain(w, chosen, observe="pings", rng=rng)
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


#: Figures 4, 5 and 6 of the briefing.
HOME_WORK = Recipe("home-work", _anonymity_sets, needs=("fewpoints.attacks.top_locations",))
NAMING = Recipe("naming", _naming, needs=("fewpoints.attacks.linkage",))
ONE_WEEK = Recipe("one-week", _device_week, needs=("fewpoints.attacks.explain",))
