"""Write the docs pages whose numbers, columns and options come from files or code.

    .venv/bin/python docs/generate.py            # write them (``make docs`` runs this first)
    .venv/bin/python docs/generate.py --check    # exit 1 if a committed results page is stale

- ``docs/results/*.md``: the results pages, printed from ``benchmarks/results/*.json`` (and
  the shipped scale tables in ``synthetic_data/``), so that no number in them is typed by
  hand. They are committed, so that they read on any Git host too; ``tests/test_docs.py``
  fails when one differs from what this script prints.
- ``docs/_generated/*.md`` (not committed, included by the hand-written pages at build
  time): the tables' columns from ``fewpoints.schema.COLUMNS`` and a generated tiny world,
  the presets from ``fewpoints.synth.world.PRESETS``, the stylized facts measured on the
  classroom world, and each command's ``--help``.

A number that no JSON file holds is not printed here: the pages link to
``benchmarks/README.md``, where it is recorded by hand with the command that measured it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
RESULTS = ROOT / "benchmarks" / "results"
OUT_RESULTS = DOCS / "results"
OUT_GENERATED = DOCS / "_generated"

sys.path.insert(0, str(ROOT / "benchmarks"))

HAND = "recorded by hand in [the benchmarks page](../benchmarks.md)"


# --- formatting -------------------------------------------------------------------------------


def load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def pct(x: float, digits: int = 1) -> str:
    """0.9471 -> '94.7%'."""
    return f"{100 * x:.{digits}f}%"


def ci(r: dict, digits: int = 1, *, key: str = "unicity", sep: str = "-") -> str:
    """A share with its interval: '94.7% (94.3-95.2)'."""
    return f"{pct(r[key], digits)} ({pct(r['ci_low'], digits)[:-1]}{sep}{pct(r['ci_high'], digits)[:-1]})"


def share(s: dict) -> str:
    """A Wilson share of the benchmarks' JSON ({share, ci_low, ci_high}): '85.0% (84.0-86.0)'."""
    return ci(s, key="share")


def header(*sources: str) -> str:
    names = ", ".join(f"`{s}`" for s in sources)
    return (
        "<!-- Written by docs/generate.py from "
        + ", ".join(sources)
        + ": do not edit by hand; run `make docs`. -->\n"
        + f"\n*Every number on this page is printed from {names} by `docs/generate.py`; "
        "all are measured on synthetic data unless labelled as published.*\n"
    )


def md_table(head: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "|" + "---|" * len(head)
    lines = ["| " + " | ".join(head) + " |", align]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# --- results pages ----------------------------------------------------------------------------


def page_how_few_points() -> str:
    cal = load("calibration_unique_in_the_crowd.json")
    crowd = load("unicity.json")
    fine, coarse = cal["runs"]
    by_fine = {r["n_points"]: r for r in fine["table"]}
    by_coarse = {r["n_points"]: r for r in coarse["table"]}
    ps = [1, 2, 3, 4, 5, 6, 8]

    def cell(r, p):
        return ci(r) if p in (2, 3, 4) else pct(r["unicity"])

    rows = [
        [f"unique, {fine['resolution'].replace('h', ' h')} (synthetic)"]
        + [(f"**{cell(by_fine[p], p)}**" if p == 4 else cell(by_fine[p], p)) for p in ps],
        [f"unique, {coarse['resolution'].replace('h', ' h')} (synthetic)"]
        + [cell(by_coarse[p], p) for p in ps],
        ["published (de Montjoye et al. 2013, 1.5M people, 15 months)"]
        + ["", "> 50% (soft)", "", "**95%**", "", "", ""],
    ]
    table = md_table(["known points p", *map(str, ps)], rows)
    drop = 1 - by_coarse[4]["unicity"] / by_fine[4]["unicity"]
    w = crowd["world"]
    curve = {r["n_points"]: r for r in crowd["curve"]}
    return f"""# How few points?

{header("calibration_unique_in_the_crowd.json", "unicity.json")}
The `unique-in-the-crowd` preset recreates the setting of de Montjoye et al. (2013): call
detail records located at the antenna, times in hourly bins, about 114 events per person
per month, about 230 residents per antenna, {cal["people"]:,} people over four weeks
({cal["antennas"]:,} antennas at seed {cal["seed"]}). Nothing in it is tuned to the attack;
the published shape emerges from those realistic settings.

Measured with `{fine["command"]}` and the same command with `--time-bin 2h`
(`python benchmarks/measure_calibration.py` runs both and writes the JSON); 95% Wilson
intervals over {by_fine[4]["n_targets"]:,} sampled targets:

{table}

Halving the time resolution at p = 4 lowers unicity by {pct(drop, 0)}
({pct(by_fine[4]["unicity"])} to {pct(by_coarse[4]["unicity"])}); the published fit gives
about 9% as well (soft: see [firm and soft](../references.md#firm-and-soft)).
`tests/synth/test_params.py` holds the world to the published shape: p = 2 above 50%,
p = 4 between 92% and 98%, halving the resolution costing less than 15%.

## At a million phones

The same attack on the `crowd` world ({w["devices"]:,} devices, {w["records"]:,} call
records at antenna x hour, seed {w["seed"]}; `{crowd["command"].strip()}`), 10,000 targets
per p: p = 1: {ci(curve[1])}, p = 2: {ci(curve[2])}, p = 4: {ci(curve[4])},
p = 10: {pct(curve[10]["unicity"])}. Time and memory of that run are on the
[speed page](speed.md).
"""


def page_coarsening() -> str:
    import bench_anonymize

    law = load("anonymize.json")["law"]
    merged = law["merged"]
    cells = law["square_cells"]
    t = {(r["merge_v"], r["time_bin"], r["n_points"]): r for r in merged["table"]}
    fit = {r["n_points"]: r for r in merged["fit"]}
    cfit = cells["fit"][0]
    sq = {(r["cell_km"], r["time_bin"]): r for r in cells["table"] if r["cell_km"] == r["cell_km"]}
    one_km = sq[(1.0, "1h")]
    halving = merged["halving_p4"]
    w = law["world"]
    return f"""# Does coarsening help?

{header("anonymize.json")}
"Unique in the Crowd" also made the data coarser: neighbouring antennas merged into
clusters of v, times binned to h hours. Unicity fell only slowly, about as
alpha - (v h)^beta with beta = 0.157 - 0.007 p (published, fitted on real CDR of 1.5 million
people; soft). fewpoints does the same on the synthetic `{w["preset"]}` world (seed
{w["seed"]}, {w["people"]:,} people, {w["antennas"]:,} antennas):
`fewpoints.anonymize.merge_antennas` groups the antenna map into compact k-means clusters
of about v antennas, and `resolution_sweep(traces, antennas=world.antennas)` measures
unicity at every (v, h) (merged antennas are also what `resolution_sweep(traces)` does by
default on call records, with the antenna map the table carries; `cell_km=` asks for square
cells). Measured with `{law["command"]}` ({law["targets"]:,} targets per cell, 95% Wilson
intervals). The published law's columns use the published beta, with alpha set so that the
law starts from our value at 1 antenna x 1 h (the paper's alpha belongs to its own data).

{bench_anonymize.readme_table(law)}

Halving either resolution at p = 4 costs {pct(halving["space"], 0)} (two antennas merged:
{pct(t[(1.0, "1h", 4)]["unicity"])} to {pct(t[(2.0, "1h", 4)]["unicity"])}) or
{pct(halving["time"], 0)} (2 h bins: {pct(t[(1.0, "1h", 4)]["unicity"])} to
{pct(t[(1.0, "2h", 4)]["unicity"])}); the published fit says about 9%. Merging 4 antennas
and binning to 4 h still singles out {pct(t[(4.0, "4h", 4)]["unicity"])} of the people from
4 points. `tests/attacks/test_resolution.py` holds a half-size world to the law: halving
costs under 15%, beta at p = 4 within 0.129 +- 0.04, rmse under 0.05 (this run: beta
{fit[4]["beta"]:.3f}, rmse {fit[4]["rmse"]:.3f}).

How one coarsens matters. Square grid cells (`coarsen_space`, the only choice for GPS
pings) are not the paper's v: antennas are a few hundred metres apart downtown and
kilometres apart in the suburbs, so a 1 km square merges many antennas downtown, where most
people are, and few elsewhere. On the same world 1 km squares merge {one_km["v"]:.1f}
antennas on average and leave {pct(one_km["unicity"])} unique at 1 h, where merging 4
antennas everywhere leaves {pct(t[(4.0, "1h", 4)]["unicity"])} and 8 leaves
{pct(t[(8.0, "1h", 4)]["unicity"])}; and the law fits squares loosely (beta
{cfit["beta"]:.3f}, rmse {cfit["rmse"]:.3f}, against {fit[4]["rmse"]:.3f} merged). Square
cells make coarsening look more protective than it is, so `resolution_sweep` merges
antennas by default whenever the records are located at antennas, and the briefing's
coarsening figure shows merged antennas (v antennas x h hours, as the published law);
square cells stay an option (`cell_km=`) and are the only one for GPS pings.
"""


def page_population() -> str:
    import pandas as pd

    import population_tables as T

    measured, model = pd.read_csv(T.SCALE), pd.read_csv(T.MODEL)
    res = T.results(measured)
    gap = T.results(measured, "population-gap")
    gen = load("generate_chunked_region10m-towns.json")["result"]
    p4 = measured[measured["n_points"] == 4].sort_values("n_devices")
    sub = p4[p4["axis"] == "subsets"]
    towns = p4[p4["axis"] == "towns"]
    s0, s1 = sub.iloc[0], sub.iloc[-1]
    t0, t1 = towns.iloc[0], towns.iloc[-1]
    ratio = s1["n_devices"] / s0["n_devices"]
    g = pd.DataFrame(gap["table"])
    g = g[g["n_devices"] == 6e7]
    by_variant = {v: rows.set_index("n_points") for v, rows in g.groupby("variant", sort=False)}
    variants = list(by_variant)
    base = by_variant[variants[0]]
    zipf = next(v for v in variants if v.startswith("frequency"))
    tail = next(v for v in variants if v.startswith("activity"))
    period = next(v for v in variants if v.startswith("period"))
    replaced = [by_variant[v].loc[4, "unicity"] for v in (zipf, tail)]
    replaced += [by_variant[v].loc[5, "unicity"] for v in (zipf, tail)]
    extra = res["extrapolation_60M"]
    paper4 = model[(model["n_points"] == 4) & (model["n_devices"] == 6e7)]["unicity"].iloc[0]
    marg = gap["marginals_sampled"]
    flat = "does not lower it" if t1["unicity"] >= t0["unicity"] - 0.005 else "lowers it"
    return f"""# Does a bigger crowd hide you?

{header("population-h14-region10m.json", "population-gap-h14-region10m.json", "generate_chunked_region10m-towns.json", "synthetic_data/population_scale.csv", "synthetic_data/population_model.csv")}
A "bigger dataset" can mean two things, and fewpoints measures both (`population_table`, on
the in-memory or the Dask engine, with the same draws): **random subsets** of one dataset
(a broker with a bigger market share: more of the same people, in the same streets; the
published design) and the dataset grown **town by town** (a broker covering more of the
country). The world is a `region`: a synthetic country of {res["n_towns"]:,} towns and
villages whose sizes follow a rank-size law, {res["people"]:,} people, {res["n_antennas"]:,}
antennas at about 230 residents each, 28 days of call records at antenna x hour
({gen["records"] / 1e9:.2f} billion records, made in {gen["chunked"]["n_chunks"]} chunks of
{gen["chunked"]["chunk_people"]:,} people: `{res["world_command"]}`). Measured with the Dask engine on
{res["machine"]["cpus"]} cores in {res["seconds"] / 60:.0f} minutes, peak
{res["peak_tree_bytes"] / 1e9:.1f} GB for the whole process tree (`{res["command"]}`);
{int(measured["n_targets"].iloc[0]):,} targets per size and p. The data card
(`synthetic_data/README.md`) gives the commands again.

- **Random subsets, {int(s0["n_devices"]):,} to {int(s1["n_devices"]):,} phones, 4 points:
  {pct(s0["unicity"])} to {pct(s1["unicity"])}** ({100 * (s0["unicity"] - s1["unicity"]):.1f}
  points lower for {ratio:.0f} times as many phones).
- **Town by town, {int(t0["n_devices"]):,} to {int(t1["n_devices"]):,} phones:
  {pct(t0["unicity"])} to {pct(t1["unicity"])}**: adding towns {flat}.

The whole table, p = 2 to 5 (p = 4 with its 95% interval):

{T.scale_table(measured)}

Why: a target's 4 known points are 4 antennas and hours, and only people who pass those
antennas at those hours can hide them, in practice people of the same town (at a typical
antenna of lesson 5's small region, most of the phones seen live in one town: the lesson
computes the share, 82% when this text was written, a number no JSON file keeps). A new town adds nobody to those streets, so unicity stays flat; a bigger share
of the same people adds neighbours, each with a tiny chance of sharing all 4 points, so
unicity falls, slowly. At the same size, a few whole towns (everyone in their streets) are
less unique than a 1% subset of the whole country.

Beyond {int(s1["n_devices"]):,} there are only models. At 60 million (briefing figure 3):

{T.country_table(measured, model)}

The published model (Farzanehfar et al. 2021, implemented from the paper's description as
`fit_marginals` and `marginals_unicity`), fed this region's three marginals, gives
{pct(paper4)} at 60 million with 4 points, {100 * (0.93 - paper4):.1f} points below the
published 93%. Which marginal puts it there, measured by replacing one at a time
(`{gap["command"]}`, marginals from a {gap["people_sampled"]:,}-person sample of the region):

{T.gap_table(measured)}

The synthetic people's points are more concentrated on their most visited antenna than the
Zipf law of visits reported for real phone users (f_k ~ k^-1.2, about; Song et al. 2010)
would have them: top-1 share {pct(marg["top1_share"], 0)} and top-3
{pct(marg["top3_share"], 0)}, against {pct(by_variant[zipf]["marginal_top1_share"].iloc[0], 0)}
and {pct(by_variant[zipf]["marginal_top3_share"].iloc[0], 0)} under that law. And a few very
active phones (the 99th percentile has {marg["points_p99"]} points in the {marg["hours"]}
hours) match many targets. With either replaced, the model gives
{pct(min(replaced), 0)}-{pct(max(replaced), 0)}. A longer period (13 weeks, as the paper's 3
months) changes little ({pct(by_variant[period].loc[4, "unicity"])} at p = 4 against
{pct(base.loc[4, "unicity"])}). So the model lands a little below the published 93% because
of how concentrated the synthetic world's visits and activity are, not because a country
hides people. The fitted convex curve ({pct(extra["4"]["beta_60M"], 0)}) and the
straight-line lower bound ({pct(extra["4"]["lower_bound_60M"], 0)}, the published one is 22%)
are fitted to the measured subsets only.
"""


def page_anonymization() -> str:
    import briefing_tables

    brief = load("briefing_city_2013.json")
    grid_run = load("privacy_readme.json")
    rows = briefing_tables.figure(brief, "what-protects")["table"]
    by = {r["setting"]: r for r in rows}
    grid = {(r["cell_km"], r["time_bin"]): r for r in grid_run["coarsening"]}
    cells = sorted({c for c, _ in grid})
    bins = sorted({b for _, b in grid}, key=lambda b: int(b.removesuffix("h")))

    def g(c, b):
        return grid[(c, b)]["unicity"]

    # The weakest coarsenings under 10%: for each cell size its shortest bin under 10%, kept
    # unless a smaller cell already got there with a bin as short (a Pareto front).
    weakest: list[tuple[float, str]] = []
    for c in cells:
        under = [b for b in bins if g(c, b) < 0.10]
        if under and not any(bins.index(wb) <= bins.index(under[0]) for _, wb in weakest):
            weakest.append((c, under[0]))
    bold = set(weakest)

    def grid_cell(c, b):
        v = g(c, b)
        text = "0%" if v == 0 else (f"{100 * v:.2g}%" if v < 0.001 else pct(v))
        return f"**{text}**" if (c, b) in bold else text

    grid_table = md_table(
        ["cell \\ bin", *[b.replace("h", " h") for b in bins]],
        [[f"{c:g} km", *[grid_cell(c, b) for b in bins]] for c in cells],
        "|---|" + "---:|" * len(bins),
    )

    def setting(c, b):
        return by[f"coarsened to {c:g} km x {b.removesuffix('h')} h"]

    both = [(c, b) for c, b in weakest if f"coarsened to {c:g} km x {b.removesuffix('h')} h" in by]
    differ = "; ".join(
        f"{c:g} km x {b.replace('h', ' h')}: {pct(g(c, b))} here, {pct(setting(c, b)['unicity'])} above"
        for c, b in both
    )
    weakest_text = ", or ".join(
        f"**{c:g} km cells {'at the hour' if b == '1h' else 'with ' + b.removesuffix('h') + '-hour bins'}**"
        f" ({pct(g(c, b))} in this grid, 95% CI {pct(grid[(c, b)]['ci_low'])[:-1]}-"
        f"{pct(grid[(c, b)]['ci_high'])}"
        + (f"; {pct(setting(c, b)['unicity'])} in the briefing's run" if (c, b) in both else "")
        + ")"
        for c, b in weakest
    )
    finest = cells[0]
    day = bins[-1]
    coarse = [r for r in rows if r["transform"] == "coarsen" and r["unicity"] < 0.20]
    low = [r for r in rows if r["unicity"] is not None and r["unicity"] < 0.20]
    dp = {r["epsilon"]: r for r in rows if r["transform"] == "dp_aggregate"}
    rotated = by["IDs rotated daily"]
    two_4 = (2.0, "4h")
    return f"""# Does anonymization help?

{header("briefing_city_2013.json", "privacy_readme.json")}
Every common "anonymization", applied to the same table and attacked the same way. The table
is the `city` world (seed 2013: {rows[0]["n_devices"]:,} phones, 28 days) as call records at
antenna x hour, the resolution of "Unique in the Crowd". For each setting: the share of
{rows[0]["n_targets"]:,} sampled targets that 4 known points single out (95% Wilson
interval), beside what the release costs a legitimate user, measured as the mean relative
error of the hourly number of devices in each 1 km cell (cells with at least 10 devices),
the question a planner or an epidemiologist asks of such data. **This table is figure 7 of
the briefing that `make demo` writes** (`{brief["run"]["command"]}`, fewpoints
{brief["run"]["version"]}, {brief["run"]["date"]}: the same call,
`fewpoints.briefing.release_settings`, on the whole world, every setting attacked from the
same random state as the briefing's other figures); the run is kept as
`benchmarks/results/briefing_city_2013.json`, and `benchmarks/briefing_tables.py` prints the
table from it:

{briefing_tables.privacy_table(brief)}

## How far coarsening has to go

On a grid of square cells ({", ".join(f"{c:g}" for c in cells)} km) and time bins
({", ".join(b.replace("h", "") for b in bins)} h), unique at p = 4. This grid is a separate
run, `python benchmarks/bench_privacy.py --readme` (`results/privacy_readme.json`, the same
world, its own random draws of targets), so a cell that the table above also measures can
differ from it within their intervals ({differ}):

{grid_table}

The weakest coarsening that brings unicity under 10% is {weakest_text}. Cells of
{finest:g} km stay above 10% even with a whole day per bin ({pct(g(finest, day))}), and
{two_4[0]:g} km x {two_4[1].replace("h", " h")} still singles out {pct(g(*two_4))}. At 5 km
the city is a handful of districts; at 12 hours the data no longer say whether a phone was
somewhere by day or by night. The counts a user wanted are then off by more than they are
worth ({min(r["utility_error"] for r in coarse):.0%} to
{max(r["utility_error"] for r in coarse):.0%} on hourly 1 km counts for the coarsenings under
20% in the table above).

## What fails, and why

- *Sampling makes things worse.* Fewer records per phone (half the records:
  {pct(by["half the records"]["unicity"])}) or fewer phones (half the devices:
  {pct(by["half the devices"]["unicity"])}) leave each remaining trace at least as unique
  among fewer others; unicity goes up, not down (Farzanehfar et al. 2021 found the same at
  country scale).
- *Rotating IDs barely helps.* A single day of a phone's life is still a fingerprint:
  {pct(rotated["unicity"], 0)} of daily pseudonyms are unique from 4 of their points. Here the
  targets are the pseudonyms, so this is a lower bound: the same home every night chains one
  day's ID to the next.
- *Suppressing rare points removes almost nothing*
  ({pct(by["rare points suppressed (k = 5)"]["unicity"])} against
  {pct(by["raw data"]["unicity"])} raw). Each point of a trace is shared with other phones; it
  is the combination of 4 that is rare, and point-by-point k-anonymity does not look at
  combinations.
- *Truncation does not help either* (first 7 days: {pct(by["first 7 days only"]["unicity"])}):
  a week, even a day, is enough.
- *Noise and coarsening do reduce unicity, but only by destroying what the data are for*:
  the settings below 20% cost {min(r["utility_error"] for r in low):.0%} to
  {max(r["utility_error"] for r in low):.0%} error on the counts (table above). The noise
  rows are attacked by someone who knows 4 true places and times and accepts any released
  record within a fixed radius; an attacker who ranked phones by distance would do better, so
  these numbers are lower bounds on the risk.

## What does protect: aggregates with differential privacy

`fewpoints.defenses.dp_aggregate` releases the count of devices per cell and hour with
Laplace noise, after capping each device at 50 (cell, hour) contributions, so that whatever
else an attacker knows, the release barely changes whether any one phone is in the data
(epsilon per device, over the whole four weeks). No trace is released, so there is nothing
to single out. The price is accuracy: at epsilon = 10 the hourly 1 km counts are off by
{dp[10.0]["utility_error"]:.0%} on average (most of it because the cap drops the contributions
of the busiest phones: the share dropped is {HAND}); at epsilon = 1 by
{dp[1.0]["utility_error"]:.0%}, at epsilon = 0.1 by {dp[0.1]["utility_error"]:.0%}. Coarser
cells, longer bins or a shorter period would cost less (larger counts, fewer cells per phone
to cap; not measured here). Noise is added to every cell of the grid, visited or not:
releasing only the visited cells would itself be a trace.

In Python (`privacy_utility` returns one row per setting: `setting, transform, strength,
unicity, ci_low, ci_high, epsilon, utility_error, utility_metric`; `default_settings()` gives
eleven common settings, and `fewpoints.briefing.release_settings(world.antennas)` the
{len(rows)} of the table above and of the briefing; their time inside `make demo` is
{HAND}, "The briefing pack"):

```python
import fewpoints
from fewpoints.anonymize import coarsen_time
from fewpoints.defenses import aggregate, default_settings, dp_aggregate, dp_release, utility_error

world = fewpoints.make_world("classroom", rng=2013)
hourly = coarsen_time(world.traces, time_bin="1h")
counts = aggregate(hourly, cell_km=1.0, time_bin="1h")  # x_km, y_km, time, devices
noisy = dp_aggregate(hourly, cell_km=1.0, time_bin="1h", epsilon=1.0, rng=0)
utility_error(counts, noisy)  # UtilityError: .mae, .mre, .share_error_exceeds_count, ...
dp_release(hourly, epsilon=1.0, rng=0).capped_share  # the release with its privacy parameters
table = fewpoints.privacy_utility(hourly, default_settings()[:3], n_targets=2_000, rng=0)
```
"""


def _anonymity_table(entries: list[dict], label: str, grans: list[str]) -> str:
    cells = {(e["measure"], e["granularity"]): e for e in entries}
    measures = list(dict.fromkeys(e["measure"] for e in entries))
    rows = []
    for m in measures:
        row = [m]
        for gname in grans:
            e = cells.get((m, gname))
            if e is None or e["share_unique"] is None:
                row.append("")
            else:
                row.append(f"{pct(e['share_unique'])} ({e['median_set_size']:,.0f})")
        rows.append(row)
    return md_table([label, *grans], rows)


def page_home_work() -> str:
    import briefing_tables

    city_run = load("top_locations_measured.json")
    class_run = load("top_locations_measured_classroom.json")
    brief = load("briefing_city_2013.json")
    city = city_run["worlds"][0]
    room = class_run["worlds"][0]

    def hw_row(world, model, how):
        hw = world["models"][model]["home_work"]
        return [
            f"{world['preset']}, {model} ({how})",
            share(hw["home"]["of_all"]),
            share(hw["home"]["of_guessed"]),
            share(hw["work"]["of_all"]),
        ]

    found = md_table(
        ["world, traces (synthetic)", "home right, of all devices",
         "of devices with a night record", "work right, of people with a job or school"],
        [hw_row(w, m, "same antenna" if m == "cdr" else "within 100 m")
         for w in (room, city) for m in ("cdr", "pings")],
    )  # fmt: skip

    def anon(world, model):
        return world["models"][model]["anonymity"]

    def a(world, model, measure, gran):
        return next(
            e for e in anon(world, model) if e["measure"] == measure and e["granularity"] == gran
        )

    def grans(world, model, district=True):
        out = list(dict.fromkeys(e["granularity"] for e in anon(world, model)))
        return out if district else [g for g in out if g != "district"]

    sv_room = room["models"]["pings"]["sensitive_visits"]
    sv_room_cdr = room["models"]["cdr"]["sensitive_visits"]
    sv_city = city["models"]["pings"]["sensitive_visits"]
    sv_city_cdr = city["models"]["cdr"]["sensitive_visits"]
    fig4 = briefing_tables.figure(brief, "home-work")["table"]
    hw_05_2013 = next(
        r for r in fig4 if r["measure"] == "home/work" and r["granularity"] == "0.5 km"
    )
    hw_05_7 = a(city, "pings", "home/work", "0.5 km")
    city_cdr_dist = a(city, "cdr", "home/work", "district")
    return f"""# From pseudonym to name: where you sleep and work

{header("top_locations_measured.json", "top_locations_measured_classroom.json", "briefing_city_2013.json")}
A unique trace still carries no name, but it says where its phone sleeps and works.
`fewpoints.attacks.top_locations` ranks each device's locations by the distinct hours it was
seen there (antennas for call records; for GPS pings, **stay points**: the fixes of one
device clustered within 50 m), and infers its **home** (the location of most hours between
22:00 and 06:00) and **work** (the location of most weekday hours between 09:00 and 17:00,
home excepted). Then it asks how many devices share the same few places: the **top-n
anonymity set** of Zang & Bolot (2011), where two devices match when their n most frequent
locations are the same, in the same order (or in any order), and the **home/work anonymity
set** of Golle & Partridge (2009). Places are compared at several granularities: as
recorded (antenna), square cells of 0.1, 0.5 and 2 km, and districts (the public home
addresses cut at their medians, alternately east-west and north-south, until each district
holds about 2,000 homes, the size of a census tract). Devices seen at fewer than n places,
or without an inferred home or work, are left out of that measure (they cannot share a full
list with anyone, so nobody else's set changes). `inference.sensitive_visits` lists the
stays at clinics, places of worship, legal aid and shelters. The attacks read only the
traces and the public map; the ground truth is read by the measuring script, to score them.

```python
import fewpoints
from fewpoints.attacks import anonymity_table, home_work, sensitive_visits

world = fewpoints.make_world("classroom", rng=2013)
pings = world.observations["pings"]
home_work(pings).head()  # device_id, home_x_km, home_y_km, home_support, work_x_km, ...
anonymity_table(world.observations["cdr"], places=world.places)  # measure x granularity
sensitive_visits(pings, world.places).head()  # device_id, place_id, name, kind, start, end, ...
```

Measured with `{class_run["command"]}` (classroom: seed {room["seed"]}, {room["people"]:,}
people) and `{city_run["command"]}` (city: seed {city["seed"]}, {city["people"]:,} people;
its time and memory are {HAND}); four weeks; 95% Wilson intervals. Home and work found,
scored against the ground truth:

{found}

Sensitive visits found by `sensitive_visits` (classroom, scored against the ground-truth
stays): with GPS pings {share(sv_room["precision"])} of the reported visits are real stays at
that place, and {pct(sv_room["people_with_a_correct_visit_found"]["share"])} of the people who
went to a clinic, place of worship, legal aid or shelter in the four weeks have at least one
such visit found; with call records only {pct(sv_room_cdr["precision"]["share"])} of the
"visits" are real (a record at the antenna nearest the place is a lead, not a fact). On the
city (seed {city["seed"]}) with GPS pings the reported visits are real stays for
{share(sv_city["precision"])}, and {share(sv_city["people_with_a_correct_visit_found"])} of
the people who went to a sensitive place have a visit found (call records:
{pct(sv_city_cdr["precision"]["share"])} of the reported "visits" are real).

## Top-n and home/work anonymity sets

Share of devices unique, and in brackets the median anonymity set. The **city** world
(synthetic, seed {city["seed"]}):

{_anonymity_table(anon(city, "cdr"), "city, cdr", grans(city, "cdr"))}

{_anonymity_table(anon(city, "pings"), "city, pings (stay points)", grans(city, "pings"))}

The briefing's figure 4 measures the same on its own world (city, **seed 2013**, all
{max(r["n_devices"] for r in fig4):,} phones seen in its pings; share unique and median set), printed from its
`results.json` by `benchmarks/briefing_tables.py`; the seed-{city["seed"]} rows above are
another world of the same preset and differ by that much (home/work at 0.5 km:
{pct(hw_05_7["share_unique"])} at seed {city["seed"]}, {pct(hw_05_2013["share_unique"])} at
seed 2013):

{briefing_tables.home_work_table(brief)}

The same on the classroom world ({room["people"]:,} people; its home addresses make a single
district, so that column is left out):

{_anonymity_table(anon(room, "cdr"), "classroom, cdr", grans(room, "cdr", district=False))}

{_anonymity_table(anon(room, "pings"), "classroom, pings", grans(room, "pings", district=False))}

Published, for comparison ([references](../references.md)): on 25 million US phone users,
the top-1 location rarely identifies anyone, while the top-2 and top-3 locations do at
sector and cell level; safety needs coarse granularity or short collection periods (Zang &
Bolot 2011, firm). For home/work pairs from census data, the median anonymity set is 1 at
census-block level, 21 at tract level and 34,980 at county level (Golle & Partridge 2009,
firm).

What the synthetic world reproduces, and what it lacks:

- **Zang & Bolot's shape holds.** The most frequent place alone hides a device among
  hundreds (city, cdr: median set {a(city, "cdr", "top-1", "antenna")["median_set_size"]:,.0f}
  at antenna level, {pct(a(city, "cdr", "top-1", "antenna")["share_unique"])} unique); the
  top 2 and top 3 single out {pct(a(city, "cdr", "top-2", "antenna")["share_unique"], 0)} and
  {pct(a(city, "cdr", "top-3", "antenna")["share_unique"], 0)} at antenna level, and GPS stay
  points in 0.1 km cells do more (classroom: top 2:
  {pct(a(room, "pings", "top-2", "0.1 km")["share_unique"], 0)}, top 3:
  {pct(a(room, "pings", "top-3", "0.1 km")["share_unique"], 0)} unique). Coarse units undo it,
  as published: in 2 km cells the top 3 single out
  {pct(a(city, "cdr", "top-3", "2 km")["share_unique"])} (city, cdr). Knowing the ranking
  matters: in any order, the top 3 single out
  {pct(a(city, "cdr", "top-3 (any order)", "antenna")["share_unique"], 0)} instead of
  {pct(a(city, "cdr", "top-3", "antenna")["share_unique"], 0)}.
- **Golle & Partridge at block level holds, at tract level it does not.** In cells of 0.1
  km (about a census block's size) the home/work pair from GPS pings has a median anonymity
  set of {a(room, "pings", "home/work", "0.1 km")["median_set_size"]:,.0f} (classroom), as
  published (1). In districts (about a census tract: about 1,400 homes and 3,100 people
  each, 32 in the city, as counted when this text was written; no JSON file keeps these
  counts) the median set is
  {city_cdr_dist["median_set_size"]:,.0f} (city, cdr), not 21: the synthetic city is one
  small labour market ({city["people"]:,} people, jobs concentrated in a few business
  districts), so a (home district, work district) pair is far more common than a (home
  tract, work tract) pair in a US state, where commutes spread over thousands of tracts. The
  county level (published median 34,980) has no counterpart: the whole synthetic city is
  smaller than most counties.
- **Call records blur the pair.** At antenna level (a few hundred residents per antenna)
  the home/work pair singles out {pct(a(city, "cdr", "home/work", "antenna")["share_unique"], 0)}
  of devices (city), against {pct(a(room, "pings", "home/work", "0.1 km")["share_unique"], 0)}
  with GPS in 0.1 km cells (classroom).

The next step, from a place to a name, is on the [linkage page](linkage.md).
"""


def page_linkage() -> str:
    room = load("linkage_classroom.json")
    city_cdr = load("linkage_city_cdr.json")
    city_pings = load("linkage_city_pings.json")
    runs = [
        ("classroom", "cdr", room),
        ("classroom", "pings", room),
        ("city", "cdr", city_cdr),
        ("city", "pings", city_pings),
    ]
    posts_n = [1, 2, 3, 5]

    def row(world, model, run):
        m = run["models"][model]
        curve = {r["n_posts"]: r for r in m["naming_curve"]}
        cells = [f"{world}, {model}", share(m["directory"]["named"]),
                 share(m["directory + posts"]["named"])]  # fmt: skip
        for n in posts_n:
            r = curve[n]
            cells.append(f"{ci(r, key='share_named')}, set {r['median_set_size']:,.0f}")
        return cells

    table = md_table(
        ["world, traces (synthetic)", "directory", "directory + posts as a clue",
         *[f"{n} post{'s' if n > 1 else ''}" for n in posts_n]],
        [row(*r) for r in runs],
    )  # fmt: skip
    rp = room["models"]["pings"]
    cp = city_pings["models"]["pings"]
    curve_rp = {r["n_posts"]: r for r in rp["naming_curve"]}
    house = rp["directory"]["named_by_household"]
    curve_cp = {r["n_posts"]: r for r in cp["naming_curve"]}
    cdr_shares = [
        run["models"]["cdr"][k]["named_with_sensitive_visit"]["share"]
        for run in (room, city_cdr)
        for k in ("directory", "directory + posts", "posts")
    ]
    return f"""# From pseudonym to name: named

{header("linkage_classroom.json", "linkage_city_cdr.json", "linkage_city_pings.json")}
A unique trace is not yet a name. Two kinds of public data make it one
(`fewpoints.attacks.linkage`): a **directory** (a synthetic voter roll: names and home
addresses of listed adults) matched to the place where each device spends its nights, and
**geotagged posts** under people's names, each one a named point that the device's trace
must pass near. The attacks read only the traces and the public tables; the ground truth
(`people`) is used afterwards, by `linkage_score` and `naming_curve`, to count how many names
they got right.

```python
import fewpoints
from fewpoints.attacks import explain, link_directory, link_posts, linkage_score

world = fewpoints.make_world("classroom", rng=2013)
pings = world.observations["pings"]
sets = link_posts(pings, world.posts, n_points=3)  # name, n_posts, anonymity_set_size, device_ids
guesses = link_directory(pings, world.directory, world.places)  # device_id, name, score, rank
linkage_score(guesses, world.people)  # LinkageScore: .precision, .recall, .share_named
one = sets.loc[sets["anonymity_set_size"] == 1, "device_ids"].iloc[0][0]
print(explain(world, one, observe="pings"))
```

```
fewpoints link synthetic_data/classroom --observe pings --points 3   # scores, labelled synthetic, and example rows
fewpoints explain synthetic_data/classroom 000076ab066f             # one device's story
```

Measured on synthetic data (classroom: seed {room["seed"]}, {room["n_people"]:,} people;
city: seed {city_pings["seed"]}, {city_pings["n_people"]:,} people; four weeks) with
`python benchmarks/bench_linkage.py --preset classroom --seed {room["seed"]}` and
`python benchmarks/bench_linkage.py` (city; under the heavy lock, see the
[design page](../design.md#heavy-jobs-on-the-shared-machine)); 95% Wilson intervals.
Directory: share of all people whose device's best guess is their name. Posts: share of the
people with at least n posts whose first n posts match exactly one device, their own, and
the median anonymity set.

{table}

- **GPS pings name people; call records mostly do not.** A phone's nights give its home to
  within metres, and the directory then names
  {pct(rp["directory"]["named"]["share"], 0)} of everyone in the classroom world:
  {pct(house["1"]["share"], 0)} of the listed adults alone at their address,
  {pct(house["2"]["share"], 0)} of those listed two to an address and
  {pct(house["3+"]["share"], 0)} of those listed three or more (about one in k in a household
  of k listed adults, and the score says so: 1/k).
  Call records give only the antenna, which serves a neighbourhood of listed adults: the
  best guess is about as good as drawing one of them
  ({pct(room["models"]["cdr"]["directory"]["named"]["share"])} named).
- **Two or three posts are enough when they match.** About a quarter of the people post
  ({room["n_posters"]:,} of {room["n_people"]:,} in classroom); with pings,
  {min(n for n, r in curve_rp.items() if r["median_set_size"] <= 1)} of their posts leave a
  median anonymity set of one device. The strict rule (a record near every post, within
  50 m and 4 hours) misses people whose phone reported nothing near one of their posts, so
  more posts can name fewer people (the set becomes empty); an attacker who tolerated a miss
  would do better, so these are lower bounds.
- **What a name reveals.** With pings,
  {share(rp["directory"]["named_with_sensitive_visit"])} of the people correctly named from
  the directory in classroom and {share(cp["directory"]["named_with_sensitive_visit"])} in
  city, and {share(rp["posts"]["named_with_sensitive_visit"])} and
  {share(cp["posts"]["named_with_sensitive_visit"])} of those named by 3 posts, have at least
  one visit to a clinic, place of worship, legal-aid office or shelter in their trace (a GPS
  fix within 50 m, away from their own home and work: `sensitive_visits`). With call records
  the share is higher ({pct(min(cdr_shares), 0)}-{pct(max(cdr_shares), 0)}) but means less: a
  "visit" there is a record at the antenna nearest the place, a lead rather than a fact.
- **The city is harder than the classroom, and still gives names.** In the city
  ({city_pings["n_people"] // room["n_people"]} times the people, {city_pings["n_posters"]:,}
  posters) the directory names {pct(cp["directory"]["named"]["share"])} of everyone from
  pings, and 3 posts name {pct(curve_cp[3]["share_named"])} of posters; one post names almost
  nobody (median set of {curve_cp[1]["median_set_size"]:,.0f} devices).

Published linkage results ([references](../references.md)), for comparison: a phone trace and
a transit-card trace of the same person matched for 16.8% of people after one week and over
55% after four (Kondor et al., arXiv 1709.05772, firm); a couple of known trips re-identified
Melbourne travellers, one of them a public official from his own posts (Culnane, Rubinstein,
Teague 2019, firm); a home/work pair has a median anonymity set of 1 at census-block level
(Golle & Partridge 2009, firm).
"""


def page_speed() -> str:
    gen = load("generate.json")
    uni = load("unicity.json")
    dcrowd = load("dask-crowd-parquet.json")
    dregion = load("dask-region10m.json")
    audit = load("audit_city-broker.json")["result"]
    chunk = load("generate_chunked_crowd.json")["result"]
    chunk10 = load("generate_chunked_region10m.json")["result"]
    gens = {r["preset"]: r for r in gen["results"]}
    gen_rows = [
        [r["preset"], f"{r['people']:,}", f"{sum(v for k, v in r['rows'].items() if k.startswith('traces')):,}",
         f"{r['seconds']:.1f}", f"{r['peak_bytes'] / 1e9:.2f} GB"]
        for r in gens.values()
    ]  # fmt: skip
    runs = {r["mode"]: r for r in dcrowd["runs"]}
    dask_rows = [
        ["crowd, Dask (2 workers of 3 GB)", f"{runs['dask']['n_records']:,}",
         f"{runs['dask']['seconds']:.0f} s", f"{runs['dask']['peak_tree_bytes'] / 1e9:.1f} GB",
         pct(runs["dask"]["unicity"])],
        ["crowd, in memory", f"{runs['memory']['n_records']:,}",
         f"{runs['memory']['seconds']:.0f} s", f"{runs['memory']['peak_tree_bytes'] / 1e9:.1f} GB",
         pct(runs["memory"]["unicity"])],
        ["10M people, Dask (2 workers of 3 GB)", f"{dregion['runs'][0]['n_records']:,}",
         f"{dregion['runs'][0]['seconds'] / 60:.1f} min",
         f"{dregion['runs'][0]['peak_tree_bytes'] / 1e9:.1f} GB",
         pct(dregion["runs"][0]["unicity"])],
    ]  # fmt: skip
    return f"""# Speed and memory

{header("generate.json", "unicity.json", "generate_chunked_crowd.json", "generate_chunked_region10m.json", "dask-crowd-parquet.json", "dask-region10m.json", "audit_city-broker.json")}
Measured on the project's machine ({gen["machine"]["cpus"]} cores, 24 GB, Python
{gen["machine"]["python"]}). How each script measures (child processes, `ru_maxrss`, the
resident memory of a whole process tree sampled from /proc), the figures kept only by hand
(the time of `make demo` from a fresh clone, where the briefing's time goes, the pure-Python
and pandas baselines) and the notes on load are on the [benchmarks page](../benchmarks.md).

## Generating worlds

`python benchmarks/bench_generate.py` ({gen["date"]}, seed 1, each preset in a fresh child):

{md_table(["preset", "people", "records (traces)", "seconds", "peak memory"], gen_rows, "|---|---:|---:|---:|---:|")}

In chunks, straight to Parquet (`fewpoints generate --parquet --chunk-people N`): the crowd
world ({chunk["people"]:,} people, {chunk["records"]:,} records) in {chunk["seconds"]:.0f} s
with {chunk["peak_tree_rss_bytes"] / 1e9:.2f} GB for the process tree; {chunk10["people"]:,}
people ({chunk10["records"] / 1e9:.2f} billion records) in {chunk10["seconds"] / 60:.1f}
minutes with {chunk10["peak_tree_rss_bytes"] / 1e9:.2f} GB.

## The unicity engine

`{uni["command"].strip()}` on the crowd world ({uni["world"]["devices"]:,} devices,
{uni["world"]["records"]:,} records, {uni["world"]["distinct_points"]:,} points): index
build {uni["index_build_seconds"]:.1f} s, `unicity_curve` p = 1..10 with
{uni["targets_per_p"]:,} targets each {uni["unicity_curve_seconds"]:.2f} s, peak memory
(data, index and queries) {uni["peak_memory_gb"]["engine"]:.2f} GB.

## Data larger than memory (the Dask engine)

`python benchmarks/bench_dask.py PATH` (`{dcrowd["command"]}`; `{dregion["command"]}`), the
memory of the whole process tree (client, scheduler, workers):

{md_table(["world", "records", "time", "peak memory", "unique at p = 4"], dask_rows, "|---|---:|---:|---:|---:|")}

The two engines give {"identical answers (the same digest of every target's result)" if dcrowd["identical"] else "different answers"} on the crowd world.

## Auditing a file

`{audit["command"]}` (the `city` world in broker form: {audit["devices"]:,} devices,
{audit["records"]:,} records, {audit["engine"]} engine): {audit["seconds"]:.0f} s,
{audit["peak_tree_rss_bytes"] / 1e9:.2f} GB for the process tree.
"""


def page_results_index(pages: dict[str, str]) -> str:
    files = sorted(p.name for p in RESULTS.glob("*.json"))
    rows = []
    for name in files:
        data = load(name)
        command = data.get("command") or data.get("run", {}).get("command") or ""
        if not command and isinstance(data.get("result"), dict):
            command = data["result"].get("command", "")
        if not command:
            command = next((v.get("command", "") for v in data.values()
                            if isinstance(v, dict) and "command" in v), "")  # fmt: skip
        if not command and isinstance(data.get("runs"), dict):  # one command per run
            runs = [r.get("command", "") for r in data["runs"].values() if isinstance(r, dict)]
            command = "`; `".join(dict.fromkeys(c.strip() for c in runs if c))
        rows.append([f"`{name}`", f"`{command.strip()}`" if command else ""])
    titles = "\n".join(
        f"- [{text.splitlines()[0].removeprefix('# ')}]({name})" for name, text in pages.items()
    )
    return f"""# Results

<!-- Written by docs/generate.py: do not edit by hand; run `make docs`. -->

What fewpoints measures on its synthetic worlds, beside the published results it is
compared with. Every number on these pages is printed from the JSON files that the
benchmark scripts write (`benchmarks/results/`) by `docs/generate.py`, so the pages and the
measurements cannot drift apart; a number that no file holds is on the
[benchmarks page](../benchmarks.md), recorded by hand with its command. All numbers are from
synthetic data unless labelled as published.

```{{toctree}}
:maxdepth: 1

{chr(10).join(n.removesuffix(".md") for n in pages)}
```

{titles}

## The files behind them

{md_table(["file", "command that wrote it"], rows)}
"""


RESULT_PAGES = {
    "how-few-points.md": page_how_few_points,
    "coarsening.md": page_coarsening,
    "population.md": page_population,
    "anonymization.md": page_anonymization,
    "home-work.md": page_home_work,
    "linkage.md": page_linkage,
    "speed.md": page_speed,
}


def result_pages() -> dict[str, str]:
    pages = {name: make().rstrip() + "\n" for name, make in RESULT_PAGES.items()}
    # Collapse runs of blank lines a template may leave.
    pages = {n: re.sub(r"\n{3,}", "\n\n", t) for n, t in pages.items()}
    return {"index.md": page_results_index(pages).rstrip() + "\n", **pages}


# --- generated fragments (build time) ---------------------------------------------------------


def cli_reference() -> str:
    """Each command's --help, as the installed `fewpoints` prints it (80 columns)."""
    env = {**os.environ, "COLUMNS": "88", "NO_COLOR": "1"}

    def help_of(*args):
        out = subprocess.run(
            [sys.executable, "-m", "fewpoints", *args, "--help"],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        return out.stdout.rstrip()

    top = help_of()
    section = top.split("positional arguments:", 1)[1].split("options:", 1)[0]
    commands = re.findall(r"^    ([a-z][a-z-]*)\b", section, re.M)
    parts = ["## fewpoints\n", "```text", top, "```\n"]
    for cmd in commands:
        parts += [f"## fewpoints {cmd}\n", "```text", help_of(cmd), "```\n"]
    return "\n".join(parts)


def data_model() -> str:
    import fewpoints
    from fewpoints import schema

    world = fewpoints.make_world("tiny", rng=0)
    tables = {n: getattr(world, n) for n in ("places", "antennas", "people", "stays")}
    tables.update({f"traces ({m})": t for m, t in world.observations.items()})
    tables.update({n: getattr(world, n) for n in ("directory", "posts")})
    keys = getattr(schema, "KEYS", {})
    optional = getattr(schema, "TRACE_OPTIONAL", {})
    parts = []
    for name, spec in schema.COLUMNS.items():
        rows = [[f"`{c}`", kind, "key" if keys.get(name) == c else ""] for c, kind in spec.items()]
        if name == "traces":
            rows += [[f"`{c}`", kind, "optional"] for c, kind in optional.items()]
        parts.append(f"### {name}\n\n" + md_table(["column", "kind", ""], rows))
    parts.append(
        "### In a generated world\n\nThe columns and pandas dtypes of every table of "
        '`make_world("tiny", rng=0)` (required columns first, then what the generator '
        "adds):\n\n"
        + md_table(
            ["table", "columns (dtype)"],
            [
                [n, ", ".join(f"`{c}` ({t})" for c, t in df.dtypes.astype(str).items())]
                for n, df in tables.items()
            ],
        )  # fmt: skip
    )
    return "\n\n".join(parts) + "\n"


PRESET_USE = {
    "tiny": "unit tests, quick experiments",
    "classroom": "notebooks; shipped in `synthetic_data/`",
    "city": "figures and the briefing",
    "unique-in-the-crowd": "the setting of de Montjoye et al. 2013",
    "crowd": "country-scale speed and memory",
    "region": "a country of towns (lesson 5; `--chunk-people` to 10 million and more)",
}


def presets() -> str:
    from fewpoints.synth.world import PRESETS

    rows = []
    for name, p in PRESETS.items():
        observed = ", ".join(p.observe) + (f" ({p.cdr_time_bin} bins)" if p.cdr_time_bin else "")
        rows.append(
            [f"`{name}`", f"{p.n_people:,}", str(p.days), observed, PRESET_USE.get(name, "")]
        )
    return (
        md_table(
            ["preset", "people", "days", "observed", "what for"], rows, "|---|---:|---:|---|---|"
        )
        + "\n"
    )


def _figure(v: float) -> str:
    """Three significant figures at most: 1.00, 10.9, 116."""
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def stylized_facts() -> str:
    import fewpoints
    from fewpoints.synth.facts import stylized_facts as facts

    table = facts(fewpoints.make_world("classroom", rng=5))
    rows = [
        [r["fact"], _figure(r["value"]),
         r["required"], r["published"]]
        for _, r in table.iterrows()
    ]  # fmt: skip
    return (
        md_table(
            ["fact (synthetic data)", "measured", "required by the tests", "published"],
            rows,
            "|---|---:|---|---|",
        )
        + "\n"
    )


def modules() -> str:
    """Every module under src/fewpoints with its line count and the first line of its docstring."""
    import ast

    src = ROOT / "src"
    rows = []
    for path in sorted((src / "fewpoints").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        name = ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        first = doc.strip().splitlines()[0] if doc.strip() else ""
        # reST roles (:func:`x`) read as code in a Markdown table.
        first = re.sub(
            r":(?:py:)?(?:func|class|mod|meth|attr|data|exc):`~?([^`]+)`", r"`\1`", first
        )
        rows.append([f"`{name}`", f"{text.count(chr(10)):,}", first.replace("|", "\\|")])
    return md_table(["module", "lines", "what it holds"], rows, "|---|---:|---|") + "\n"


FRAGMENTS = {
    "modules.md": modules,
    "cli.md": cli_reference,
    "tables.md": data_model,
    "presets.md": presets,
    "facts.md": stylized_facts,
}


def generated_fragments() -> dict[str, str]:
    return {name: make() for name, make in FRAGMENTS.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare the results pages")
    args = ap.parse_args(argv)
    pages = result_pages()
    if args.check:
        stale = [n for n, t in pages.items() if not (OUT_RESULTS / n).is_file()
                 or (OUT_RESULTS / n).read_text(encoding="utf-8") != t]  # fmt: skip
        extra = sorted({p.name for p in OUT_RESULTS.glob("*.md")} - set(pages))
        for n in stale:
            print(f"docs/results/{n} differs from what docs/generate.py prints: run make docs")
        for n in extra:
            print(f"docs/results/{n} is not written by docs/generate.py: remove it")
        return 1 if stale or extra else 0
    OUT_RESULTS.mkdir(exist_ok=True)
    for name, text in pages.items():
        (OUT_RESULTS / name).write_text(text, encoding="utf-8")
    OUT_GENERATED.mkdir(exist_ok=True)
    for name, text in generated_fragments().items():
        (OUT_GENERATED / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(pages)} results pages in docs/results/ and the generated fragments "
          "in docs/_generated/")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
