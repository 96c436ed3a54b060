"""Figure 3: how identifying the homes, workplaces and top places inferred from the file are.

Title, caption and alt text computed from the anonymity table.
"""

from __future__ import annotations

from fewpoints import figures as F
from fewpoints.audit.fig_words import measured, precision
from fewpoints.audit.result import Audit


def fig_anonymity(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    table = a.anonymity
    hw = table[(table["measure"] == "home/work")].dropna(subset=["share_unique"])
    top2 = table[(table["measure"] == "top-2")].dropna(subset=["share_unique"])
    s = a.home_work
    grans = ", ".join(dict.fromkeys(table["granularity"]))
    if len(hw):
        fine, coarse = hw.iloc[0], hw.iloc[-1]
        title = (
            f"Home and work inferred from {a.source} single out {pct(fine['share_unique'])} "
            f"of devices {precision(fine['granularity'])}, and "
            f"{pct(coarse['share_unique'])} {precision(coarse['granularity'])}."
        )
        pair = (
            f"The home and work pair singles out {pct(fine['share_unique'])} of the "
            f"{int(fine['n_devices']):,} devices with both {precision(fine['granularity'])} "
            f"(median {fine['median_set_size']:,.0f} device(s) per pair) and "
            f"{pct(coarse['share_unique'])} {precision(coarse['granularity'])}"
        )
    else:
        title = f"No device in {a.source} has both a night-time and a weekday-daytime place."
        pair = "No device has both a home and a work place"
    t2 = (
        f"; the top 2 places, in order, single out {pct(top2.iloc[0]['share_unique'])} "
        f"{precision(top2.iloc[0]['granularity'])}"
        if len(top2)
        else ""
    )
    tz = a.about.get("reading", {}).get("timezone", "the file's own time")
    stay = (
        f" GPS fixes are first clustered into stay points of {s['stay_point_km'] * 1000:.0f} m."
        if s.get("stay_point_km")
        else ""
    )
    return BriefingFigure(
        name="3-home-work",
        title=title,
        caption=(
            f"{measured(a)}: each device's home is taken as the place it is seen at most "
            f"between 22:00 and 06:00, its work as the place other than home seen most on "
            f"weekdays 09:00-17:00 (local times read in {tz}), and its top places as those "
            f"seen in the most distinct hours.{stay} A home was found for {s['homes']:,} of "
            f"{s['n_devices']:,} devices and both a home and a work for {s['both']:,}. A "
            f"device is singled out when no other device has the same places at that "
            f"precision ({grans}). {pair}{t2}. Published: Golle and Partridge (2009) found a "
            "median of 1 person sharing a home/work pair at census-block level in the US; Zang "
            "and Bolot (2011) found that the top 2 or 3 places identify most phone users."
        ),
        alt=(
            f"Chart of the share of devices singled out by their top 1, 2 or 3 places or by "
            f"home and work, at precisions {grans}, measured on {a.source}. Home and work: "
            + (
                ", ".join(
                    f"{pct(r.share_unique)} "
                    + ("as recorded" if r.granularity == "as recorded" else f"at {r.granularity}")
                    for r in hw.itertuples()
                )
                or "none found"
            )
            + "."
        ),
        headline=(
            f"{pct(hw.iloc[0]['share_unique'])} singled out by home and work "
            f"({hw.iloc[0]['granularity']})"
            if len(hw)
            else "no home/work pairs"
        ),
        draw=lambda ax: F.plot_anonymity_sets(table, ax=ax),
        result=table,
    )
