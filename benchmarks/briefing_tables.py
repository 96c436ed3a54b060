"""The README's tables of the briefing world, made from a briefing's results.json.

    .venv/bin/python benchmarks/briefing_tables.py                       # the committed run
    .venv/bin/python benchmarks/briefing_tables.py demo-output/briefing/results.json

``make demo`` writes ``demo-output/briefing/results.json`` (city preset, seed 2013); a
copy of that run is ``benchmarks/results/briefing_city_2013.json``. The README's
privacy-utility table and its home/work row are printed from it, so the README and
the briefing state the same numbers (``tests/test_readme.py`` checks it). All numbers
are from synthetic data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = HERE / "results" / "briefing_city_2013.json"


def figure(results: dict, stem: str) -> dict:
    return next(f for f in results["figures"] if f["name"].split("-", 1)[1] == stem)


def privacy_table(results: dict) -> str:
    rows = figure(results, "what-protects")["table"]
    lines = [
        "| setting | unique at p = 4 (95% CI) | error of hourly counts per 1 km cell |",
        "|---|---|---:|",
    ]
    for r in rows:
        if r["unicity"] is None:
            u = "no traces released"
        else:
            u = f"{r['unicity']:.1%} ({r['ci_low']:.1%}-{r['ci_high']:.1%})"
        lines.append(f"| {r['setting']} | {u} | {r['utility_error']:.0%} |")
    return "\n".join(lines)


def home_work_table(results: dict) -> str:
    rows = [r for r in figure(results, "home-work")["table"] if r["share_unique"] is not None]
    grans = list(dict.fromkeys(r["granularity"] for r in rows))
    lines = ["| city, pings, seed 2013 (briefing figure 4) | " + " | ".join(grans) + " |"]
    lines.append("|---|" + "---|" * len(grans))
    for measure in dict.fromkeys(r["measure"] for r in rows):
        cells = {r["granularity"]: r for r in rows if r["measure"] == measure}
        lines.append(
            f"| {measure} | "
            + " | ".join(
                f"{cells[g]['share_unique']:.1%} ({cells[g]['median_set_size']:,.0f})"
                if g in cells
                else ""
                for g in grans
            )
            + " |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DEFAULT
    results = json.loads(path.read_text(encoding="utf-8"))
    print(f"<!-- from {path.name}: {results['run']['command']} (fewpoints "
          f"{results['run']['version']}, {results['run']['date']}) -->")  # fmt: skip
    print(privacy_table(results))
    print()
    print(home_work_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
