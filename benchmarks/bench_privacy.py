"""Time ``privacy_utility`` on the city world, and measure the README's privacy-utility table.

    .venv/bin/python benchmarks/bench_privacy.py                 # ten default settings (timed)
    .venv/bin/python benchmarks/bench_privacy.py --readme        # also the README table and sweep
    .venv/bin/python benchmarks/bench_privacy.py --people 20000  # a quick run

The world is preset ``city`` (100,000 people, 28 days; seed 2013), its call
records (cdr) with times floored to the hour, i.e. antenna x hour, the
resolution of "Unique in the Crowd". That table is the "raw data" every
setting starts from. Results go to benchmarks/results/privacy.json (and
privacy_readme.json with ``--readme``). All numbers are from synthetic data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import fewpoints
from _common import peak_gb
from fewpoints.anonymize import WeakTransformWarning, coarsen_time
from fewpoints.attacks import resolution_sweep
from fewpoints.defenses import Setting, default_settings, privacy_utility

HERE = Path(__file__).resolve().parent


def readme_settings(antennas: pd.DataFrame) -> list[Setting]:
    """Each transform at two or three strengths."""
    s = [Setting("raw data (antenna x 1 h)", "none", "as released")]
    for cell, tb, words in [
        (1.0, "1h", "1 km x 1 h"),
        (2.0, "4h", "2 km x 4 h"),
        (5.0, "12h", "5 km x 12 h"),
        (10.0, "24h", "10 km x 24 h"),
    ]:
        s.append(
            Setting(f"coarsened to {words}", "coarsen", words, {"cell_km": cell, "time_bin": tb})
        )
    for v in (5, 20):
        s.append(
            Setting(
                f"antennas merged by {v}",
                "merge_antennas",
                f"v = {v}",
                {"antennas": antennas, "merge_v": v},
            )
        )
    for sigma, radius in ((100, 0.25), (500, 1.25)):
        s.append(
            Setting(
                f"Gaussian noise, {sigma} m",
                "add_noise",
                f"sigma = {sigma} m",
                {"sigma_km": sigma / 1000.0},
                match_km=radius,
            )
        )
    for eps, radius in ((5.0, 1.0), (2.0, 2.0)):
        s.append(
            Setting(
                f"geo-indistinguishability, {eps:g} per km",
                "geo_indistinguishable",
                f"epsilon = {eps:g} per km",
                {"epsilon_per_km": eps},
                match_km=radius,
            )
        )
    for keep in (0.5, 0.1):
        s.append(Setting(f"{keep:.0%} of records", "subsample", f"keep {keep:.0%}", {"keep": keep}))
    for keep in (0.5, 0.1):
        s.append(
            Setting(
                f"{keep:.0%} of devices",
                "sample_devices",
                f"keep {keep:.0%}",
                {"keep": keep},
                count_scale=1 / keep,
            )
        )
    for rotate, words in (("7D", "weekly"), ("1D", "daily")):
        s.append(
            Setting(
                f"IDs rotated {words}", "pseudonymize", f"new ID every {rotate}", {"rotate": rotate}
            )
        )
    for k in (2, 10):
        s.append(
            Setting(f"rare points suppressed (k = {k})", "suppress_rare", f"k = {k}", {"k": k})
        )
    for days in (7, 1):
        s.append(Setting(f"first {days} day(s) only", "truncate", f"{days} day(s)", {"days": days}))
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


def markdown(table: pd.DataFrame) -> str:
    lines = [
        "| setting | unicity at p = 4 (95% CI) | error of hourly counts per 1 km cell |",
        "|---|---|---:|",
    ]
    for r in table.itertuples():
        if np.isnan(r.unicity):
            u = f"no traces released (epsilon = {r.epsilon:g})"
        else:
            u = f"{r.unicity:.1%} ({r.ci_low:.1%}-{r.ci_high:.1%})"
        lines.append(f"| {r.setting} | {u} | {r.utility_error:.0%} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--targets", type=int, default=10_000)
    ap.add_argument("--readme", action="store_true", help="also measure the README table")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    world = fewpoints.make_world("city", rng=args.seed, n_people=args.people)
    raw = coarsen_time(world.observations["cdr"], time_bin="1h")
    gen_s = time.perf_counter() - t0
    print(
        f"city world: {len(raw):,} records, {raw['device_id'].nunique():,} devices ({gen_s:.1f} s)"
    )

    settings = default_settings()
    with warnings.catch_warnings():
        # 1 km x 1 h on hourly data changes no time; said once here, not ten times.
        warnings.simplefilter("ignore", WeakTransformWarning)
        t0 = time.perf_counter()
        table = privacy_utility(raw, settings, n_targets=args.targets, rng=0)
        seconds = time.perf_counter() - t0
    print(table.drop(columns="utility_metric").to_string())
    print(f"privacy_utility, {len(settings)} settings: {seconds:.1f} s, peak {peak_gb():.2f} GB")
    result = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "preset": "city",
        "seed": args.seed,
        "people": args.people,
        "records": len(raw),
        "n_targets": args.targets,
        "settings": len(settings),
        "seconds": round(seconds, 2),
        "peak_gb": round(peak_gb(), 2),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "table": json.loads(table.to_json(orient="records")),
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "privacy.json").write_text(json.dumps(result, indent=2) + "\n")

    if args.readme:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakTransformWarning)
            t0 = time.perf_counter()
            big = privacy_utility(
                raw, readme_settings(world.antennas), n_targets=args.targets, rng=0
            )
            big_s = time.perf_counter() - t0
            sweep = resolution_sweep(
                raw,
                cell_km=(1.0, 2.0, 5.0, 10.0),
                time_bin=("1h", "4h", "12h", "24h"),
                n_points_range=(4,),
                n_targets=args.targets,
                rng=0,
            )
        print(markdown(big))
        print(f"({len(big)} settings in {big_s:.1f} s)")
        grid = sweep.table[["cell_km", "time_bin", "unicity", "ci_low", "ci_high"]]
        print(grid.to_string())
        (out / "privacy_readme.json").write_text(
            json.dumps(
                {
                    "seed": args.seed,
                    "people": args.people,
                    "n_targets": args.targets,
                    "table": json.loads(big.to_json(orient="records")),
                    "coarsening": json.loads(grid.to_json(orient="records")),
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
