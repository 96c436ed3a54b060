"""What the report says: its figures in reading order, the numbers that matter, its limits and methods.

Every statement is computed from the :class:`~fewpoints.audit.result.Audit`;
the HTML page, the captions file and ``audit.json`` all take their words
from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from fewpoints.audit.fig_homework import fig_anonymity
from fewpoints.audit.fig_population import fig_population
from fewpoints.audit.fig_risk import fig_risk
from fewpoints.audit.fig_sensitive import fig_sensitive
from fewpoints.audit.fig_unicity import fig_coarsening, fig_curve
from fewpoints.audit.fig_words import precision
from fewpoints.audit.result import FEW, Audit


def audit_figures(a: Audit) -> list:
    """The report's figures in reading order (:class:`fewpoints.briefing.BriefingFigure`)."""
    figs = [fig_curve(a), fig_coarsening(a), fig_anonymity(a)]
    if a.population is not None:
        figs.append(fig_population(a))
    if a.risk is not None:
        figs.append(fig_risk(a))
    if a.sensitive is not None and len(a.sensitive):
        figs.append(fig_sensitive(a))
    return figs


def summary_numbers(a: Audit, figs: Sequence) -> list:
    """The numbers that matter, each with its interval and what follows from it."""
    from fewpoints.briefing import KeyNumber, pct

    num = {f.name.split("-", 1)[0]: f"Figure {i}" for i, f in enumerate(figs, 1)}
    raw = a.raw4
    out = [
        KeyNumber(
            num["1"],
            "as recorded, 4 points",
            raw.unicity,
            raw.ci_low,
            raw.ci_high,
            f"{pct(raw.unicity)} of the devices in {a.source} are singled out by 4 "
            "places and times from their own trace",
            "Replacing names with advertising IDs does not make this file anonymous: a few "
            "sightings of a person (a photo, a post, a delivery, a meeting) pick out their "
            "device and with it the whole trace.",
        )
    ]
    r, c = a.release, a.coarsest
    if r is not None:
        out.append(
            KeyNumber(
                num["2"],
                f"coarsened to {r['words']}",
                r["unicity"],
                r["ci_low"],
                r["ci_high"],
                f"Only coarsened to {r['words']} would fewer than {FEW:.0%} be singled out by 4 "
                f"points ({pct(r['unicity'])}), at a cost of {r['moved_km']:.1f} km per "
                f"location and {r['shifted_minutes']:.0f} minutes per time on average",
                "Anyone asked to sign that this file is anonymized should weigh that cost: "
                + (
                    "blurring enough to protect removes much of what location data are bought "
                    "for (where a phone was, to the street and the hour)."
                    if r["moved_km"] >= 0.5 or r["hours"] >= 4
                    else "here a modest blur would protect, and the table says what it keeps."
                ),
            )
        )
    else:
        out.append(
            KeyNumber(
                num["2"],
                f"coarsest tried: {c['words']}",
                c["unicity"],
                c["ci_low"],
                c["ci_high"],
                f"No coarsening tried brings it under {FEW:.0%}: even {c['words']} single "
                f"out {pct(c['unicity'])} with 4 points",
                "Coarsening this file is not a way to release it safely; aggregate counts with "
                "a formal guarantee (differential privacy) are.",
            )
        )
    hw = a.anonymity[a.anonymity["measure"] == "home/work"].dropna(subset=["share_unique"])
    if len(hw):
        h = hw.iloc[0]
        out.append(
            KeyNumber(
                num["3"],
                f"home and work, {h['granularity']}",
                float(h["share_unique"]),
                float(h["ci_low"]),
                float(h["ci_high"]),
                f"The home and work inferred from the file single out "
                f"{pct(h['share_unique'])} of devices {precision(h['granularity'])}",
                "A home and a workplace are what a public directory, a property record or a "
                "colleague knows: they turn a pseudonymous trace into a named person.",
            )
        )
    risk = a.risk.set_index("fewest_points") if a.risk is not None else pd.DataFrame()
    if 2 in risk.index:
        k = risk.loc[2]
        out.append(
            KeyNumber(
                num["5"],
                "2 points or fewer",
                float(k["cumulative"]),
                float(k["cumulative_low"]),
                float(k["cumulative_high"]),
                f"{pct(k['cumulative'])} of devices are singled out by at most 2 random "
                "points of their own",
                "The risk is not carried by a few unusual devices: it is the common case."
                if k["cumulative"] >= 0.5
                else "Most devices need more than 2 points, but those that stand out do so "
                "with little an acquaintance would not know.",
            )
        )
    return out


def limits(a: Audit) -> list[str]:
    """What the report cannot tell, in plain sentences computed from what was measured."""
    ab = a.about
    rd = ab.get("reading", {})
    tz = rd.get("timezone", "UTC")
    fig = {f.name.split("-", 1)[1]: f"figure {i}" for i, f in enumerate(audit_figures(a), 1)}
    bigger = (
        f"; {fig['population']} estimates how much that lowers the share (a model and a lower "
        "bound, not a measurement)."
        if "population" in fig
        else "; the population bounds were not measured."
    )
    out = [
        f"A sample of a larger release. Unicity is measured among the {ab['n_devices']:,} "
        "devices in this file. A broker's whole data hold more devices that might share a "
        "target's points" + bigger,
        f"Clock and accuracy errors. Points are compared exactly at the file's precision "
        f"(times to {ab['time_step_words']}; {ab['locations_words']}). An attacker rarely "
        "knows a moment to the second or a place to the metre, and clocks and GPS fixes "
        f"err; the coarsening table ({fig['coarsening']}) shows the share singled out by "
        "knowledge as "
        "coarse as whole hours and kilometres.",
        f"Local time. Night and working hours, which decide the inferred home and work, are "
        f"read in {tz}"
        + (
            " (the stated default: if the file's times are local to another zone, give it "
            "with --timezone)."
            if str(tz).upper() == "UTC"
            else "."
        ),
        "The attacker. The points known here are drawn at random from a device's trace. An "
        f"attacker who knows a person's routine (home, work, regular places: {fig['home-work']}) or "
        "picks the rarest points does at least as well.",
        "Singled out is not named. Naming a singled-out device needs outside data (an "
        "address, a post, a sighting); research has shown such data are often at hand "
        "(Golle and Partridge 2009; de Montjoye et al. 2013).",
        "No ground truth. The audit cannot check that an inferred home is right; it "
        "measures what the data let anyone infer.",
    ]
    proj = rd.get("projection")
    if proj:
        out.append(f"Distances. {proj}")
    if a.sensitive is not None:
        out.append(
            "Sensitive places. A fix near a place is not proof of a visit, and the places "
            "file may miss places or list them in the wrong spot."
        )
    return out


METHODS = (
    "Unicity. For a sample of devices, p points (a place and a time at the file's "
    "precision) are drawn at random from each device's own trace; a device is singled out "
    "when no other device's trace contains all p. The share is reported with a 95% Wilson "
    "interval over the sampled devices [demontjoye2013]. Every analysis runs on the whole "
    "file; the 4-point test of the file as recorded draws the same devices and points "
    "wherever it appears, so it is one number throughout.",
    "Coarsening. The same test on copies of the file with locations snapped to the centres "
    "of square cells and times floored to slots; the least coarsening is the setting whose "
    "released points say the most (the smallest square area times slot hours) among those "
    "whose 95% interval lies under 10%. Its cost is the mean distance a record moves to "
    "the centre of its square and the mean time it moves to the start of its slot.",
    "Home, work and top places. A device's places are ranked by the distinct hours it is "
    "seen there; home is the most frequent place between 22:00 and 06:00, work the most "
    "frequent other place on weekdays 09:00-17:00 [golle2009]; anonymity sets count the "
    "devices with the same places at a given precision [zang2011].",
    "Population. Unicity in nested random subsets of the devices, a convex model of the "
    "form proved by Farzanehfar et al. fitted to it, and their straight-line lower bound "
    "[farzanehfar2021].",
)


REFERENCE_KEYS = ("demontjoye2013", "farzanehfar2021", "golle2009", "zang2011")
