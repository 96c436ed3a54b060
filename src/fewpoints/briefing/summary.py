"""The summary page: the numbers that matter, read from the figures' results, and what follows.

:func:`summary_numbers` picks the key shares (raw data at 4 points, names
from posts, the most useful protective release) with their 95% intervals, as
:class:`KeyNumber` entries for the page, ``captions.md`` and ``results.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fewpoints.briefing.context import BriefingFigure
from fewpoints.briefing.words import FEW, error_pct, pct


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

    @classmethod
    def from_row(
        cls, i: int, label: str, row, column: str, statement: str, follows: str
    ) -> KeyNumber:
        """The number in ``row[column]`` of figure ``i``, with the row's 95% interval."""
        return cls(
            f"Figure {i}",
            label,
            float(row[column]),
            float(row["ci_low"]),
            float(row["ci_high"]),
            statement,
            follows,
        )

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
            KeyNumber.from_row(
                i,
                f"named from {int(best['n_posts'])} posts",
                best,
                "share_named",
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
                f"{error_pct(d['utility_error'])} at epsilon = {d['epsilon']:g})"
            )
        statement = (
            f"the release of traces that singles out fewer than {FEW:.0%} of phones at the "
            f"least cost ({row['setting']}: {pct(row['unicity'])}) makes the hourly counts "
            f"{error_pct(row['utility_error'])} wrong"
            if len(few)
            else f"the most protective release of traces tried ({row['setting']}) still "
            f"singles out {pct(row['unicity'])}"
        ) + dp_text
        out.append(
            KeyNumber.from_row(
                i,
                f"release: {row['setting']}",
                row,
                "unicity",
                statement[0].upper() + statement[1:],
                "For regulators: coarsening, noise or sampling either leave most phones "
                "exposed or destroy what the data are for; aggregate counts with a formal "
                "guarantee (differential privacy) remove the risk of singling out, at a cost "
                "in accuracy that can be measured and weighed in the open.",
            )
        )
    return out
