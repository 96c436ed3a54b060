"""Time every anonymization transform on the crowd world, and check the resolution law with merged antennas.

    .venv/bin/python benchmarks/bench_anonymize.py                    # both parts (minutes)
    .venv/bin/python benchmarks/bench_anonymize.py --part transforms  # crowd world only
    .venv/bin/python benchmarks/bench_anonymize.py --part law         # unique-in-the-crowd only
    .venv/bin/python benchmarks/bench_anonymize.py --devices 20000    # a quick run
    .venv/bin/python benchmarks/bench_anonymize.py --part transforms --only add_noise suppress_rare

Part 1 (``transforms``): the crowd world (preset ``crowd``, cdr released at
antenna x hour, as in "Unique in the Crowd") is generated in a child process
and handed over as .npy columns; each transform of ``fewpoints.anonymize``
is then timed on the whole table (target: under 20 s each on 2 cores).

Part 2 (``law``): ``resolution_sweep`` on the ``unique-in-the-crowd`` world
with merged antennas (v = 1, 2, 4, 8 antennas x h = 1, 2, 4, 8 hours) and,
for comparison, square cells; p = 2, 4, 8. Checked at p = 4: halving either
resolution costs under 15%, the fitted beta is within 0.129 +- 0.04 (the
published 0.157 - 0.007 p) with rmse under 0.05.

Results go to benchmarks/results/anonymize.json; the script prints the
tables that benchmarks/README.md and README.md quote.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import fewpoints
from _common import generate_in_child, peak_gb
from fewpoints import anonymize as A
from fewpoints.attacks import resolution_sweep

HERE = Path(__file__).resolve().parent
PUBLISHED_BETA = {p: 0.157 - 0.007 * p for p in (2, 4, 8)}


def load_crowd(n_devices: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The crowd world's cdr at antenna x hour, with its antenna map (made in a child)."""
    return generate_in_child(
        "crowd",
        seed,
        n_people=n_devices,
        cdr_time_bin="1h",
        columns=("x_km", "y_km", "antenna_id"),
        antennas=True,
    )


def transforms(antennas: pd.DataFrame, seed: int) -> dict:
    return {
        "pseudonymize()": lambda t: A.pseudonymize(t, rng=seed),
        "pseudonymize(rotate='1D')": lambda t: A.pseudonymize(t, rotate="1D", rng=seed),
        "merge_antennas(merge_v=4)": lambda t: A.merge_antennas(t, antennas, merge_v=4, rng=seed),
        "coarsen_space(cell_km=1)": lambda t: A.coarsen_space(t, cell_km=1.0),
        "coarsen_time(time_bin='4h')": lambda t: A.coarsen_time(t, time_bin="4h"),
        "add_noise(sigma_km=0.1)": lambda t: A.add_noise(t, sigma_km=0.1, rng=seed),
        "geo_indistinguishable(epsilon_per_km=5)": lambda t: A.geo_indistinguishable(
            t, epsilon_per_km=5, rng=seed
        ),
        "subsample(keep=0.5)": lambda t: A.subsample(t, keep=0.5, rng=seed),
        "sample_devices(keep=0.5)": lambda t: A.sample_devices(t, keep=0.5, rng=seed),
        "suppress_rare(k=5)": lambda t: A.suppress_rare(t, k=5),
        "truncate(days=7)": lambda t: A.truncate(t, days=7),
    }


def part_transforms(args) -> dict:
    print(f"generating the crowd world ({args.devices:,} devices, cdr, 1 h bins) ...", flush=True)
    traces, antennas, gen = load_crowd(args.devices, args.seed)
    print(
        f"  {len(traces):,} records, {len(antennas):,} antennas in {gen['seconds']:.0f} s",
        flush=True,
    )
    rows = []
    for name, f in transforms(antennas, args.seed).items():
        if args.only and not any(name.startswith(prefix) for prefix in args.only):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", A.WeakTransformWarning)
            t0 = time.perf_counter()
            out = f(traces)
            seconds = time.perf_counter() - t0
        rows.append(
            {
                "transform": name,
                "seconds": seconds,
                "records_out": len(out),
                "devices_out": int(out["device_id"].nunique()),
            }
        )
        print(f"  {name:<42} {seconds:6.1f} s  {len(out):>12,} records", flush=True)
        del out
    return {
        "world": {
            "preset": "crowd",
            "cdr_time_bin": "1h",
            "seed": args.seed,
            "records": len(traces),
            "devices": int(traces["device_id"].nunique()),
            "antennas": len(antennas),
            "generation_seconds_child": gen["seconds"],
        },
        "transforms": rows,
        "peak_memory_gb": peak_gb(),
    }


def _halving(table: pd.DataFrame, space: str, base, coarser, p: int = 4) -> dict:
    t = table[table["n_points"] == p].set_index([space, "time_bin"])["unicity"]
    u0 = t[(base, "1h")]
    return {
        "space": 1 - t[(coarser, "1h")] / u0,
        "time": 1 - t[(base, "2h")] / u0,
        "both": 1 - t[(coarser, "2h")] / u0,
    }


def part_law(args) -> dict:
    print(f"generating unique-in-the-crowd (seed {args.law_seed}) ...", flush=True)
    world = fewpoints.make_world("unique-in-the-crowd", rng=args.law_seed, n_people=args.law_people)
    bins = ("1h", "2h", "4h", "8h")
    ps = (2, 4, 8)
    t0 = time.perf_counter()
    merged = resolution_sweep(
        world.traces,
        antennas=world.antennas,
        merge_v=(1, 2, 4, 8),
        time_bin=bins,
        n_points_range=ps,
        n_targets=args.law_targets,
        rng=args.law_seed,
    )
    t_merged = time.perf_counter() - t0
    t0 = time.perf_counter()
    cells = resolution_sweep(
        world.traces,
        cell_km=(None, 0.5, 1.0, 2.0),
        time_bin=bins,
        n_points_range=(4,),
        n_targets=args.law_targets,
        rng=args.law_seed,
    )
    t_cells = time.perf_counter() - t0
    fit = merged.fit.set_index("n_points")
    halving = _halving(merged.table, "merge_v", 1.0, 2.0)
    checks = {
        "halving_space_below_15pct": halving["space"] < 0.15,
        "halving_time_below_15pct": halving["time"] < 0.15,
        "beta_p4_within_0.129_pm_0.04": abs(fit.loc[4, "beta"] - PUBLISHED_BETA[4]) <= 0.04,
        "rmse_p4_below_0.05": fit.loc[4, "rmse"] < 0.05,
    }
    print(f"  merged antennas ({t_merged:.0f} s):")
    print(merged.fit.assign(published_beta=[PUBLISHED_BETA[p] for p in ps]).to_string(index=False))
    print(f"  halving at p = 4: {halving}")
    print(f"  square cells ({t_cells:.0f} s):")
    print(cells.fit.to_string(index=False))
    print(f"  checks: {checks}")
    return {
        "world": {
            "preset": "unique-in-the-crowd",
            "seed": args.law_seed,
            "people": args.law_people,
            "records": len(world.traces),
            "antennas": len(world.antennas),
        },
        "targets": args.law_targets,
        "merged": {
            "seconds": t_merged,
            "fit": merged.fit.to_dict(orient="records"),
            "table": merged.table.to_dict(orient="records"),
            "halving_p4": halving,
        },
        "square_cells": {
            "seconds": t_cells,
            "fit": cells.fit.to_dict(orient="records"),
            "table": cells.table.to_dict(orient="records"),
            "halving_p4": _halving(cells.table, "cell_km", np.nan, 0.5),
        },
        "checks": checks,
        "passed": all(checks.values()),
    }


ROWS = [(1, "1h"), (2, "1h"), (1, "2h"), (2, "2h"), (4, "4h"), (8, "8h")]


def readme_table(law: dict) -> str:
    """The README table: ours (synthetic) beside the published law anchored at our finest value."""
    t = pd.DataFrame(law["merged"]["table"]).set_index(["merge_v", "time_bin", "n_points"])
    ps = (2, 4, 8)
    head = "| antennas merged v x hours h | " + " | ".join(
        f"p = {p}: ours (synthetic) | p = {p}: published law" for p in ps
    )
    lines = [head + " |", "|---" + "|---:" * (2 * len(ps)) + "|"]
    for v, h in ROWS:
        cells = []
        for p in ps:
            row = t.loc[(float(v), h, p)]
            finest = t.loc[(1.0, "1h", p), "unicity"]
            law_value = 1 + finest - (row["v"] * row["h"]) ** PUBLISHED_BETA[p]
            cells += [
                f"{row['unicity']:.1%} ({row['ci_low']:.1%}-{row['ci_high']:.1%})",
                f"{law_value:.1%}" if law_value >= 0 else "below 0",
            ]
        lines.append(f"| {v} x {h.removesuffix('h')} h | " + " | ".join(cells) + " |")
    fit = {r["n_points"]: r for r in law["merged"]["fit"]}
    lines.append(
        "| fitted beta (rmse) | "
        + " | ".join(
            f"{fit[p]['beta']:.3f} ({fit[p]['rmse']:.3f}) | {PUBLISHED_BETA[p]:.3f}" for p in ps
        )
        + " |"
    )
    return "\n".join(lines)


def _pyarrow_version() -> str | None:
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow.__version__


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("all", "transforms", "law"), default="all")
    ap.add_argument("--devices", type=int, default=1_000_000, help="people in the crowd world")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--only",
        nargs="+",
        metavar="PREFIX",
        help="time only the transforms whose label starts with one of these "
        '(e.g. "pseudonymize(rotate" suppress_rare); the JSON keeps the other rows',
    )
    ap.add_argument("--law-seed", type=int, default=11)
    ap.add_argument("--law-people", type=int, default=100_000)
    ap.add_argument("--law-targets", type=int, default=10_000)
    ap.add_argument("--out", default=str(HERE / "results" / "anonymize.json"))
    ap.add_argument(
        "--readme", action="store_true", help="print the README table from the JSON and stop"
    )
    args = ap.parse_args(argv)
    out = Path(args.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    if args.readme:
        print(readme_table(report["law"]))
        return 0
    report["machine"] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": _pyarrow_version(),
        # pandas' str: Arrow-backed with pyarrow, Python objects without.
        "str_storage": getattr(pd.Index([], dtype="str").dtype, "storage", "object"),
        "cpus": mp.cpu_count(),
    }
    ok = True
    if args.part in ("all", "law"):
        report["law"] = part_law(args)
        report["law"]["command"] = "python benchmarks/bench_anonymize.py " + " ".join(
            argv or sys.argv[1:]
        )
        ok = report["law"]["passed"]
    if args.part in ("all", "transforms"):
        previous = {r["transform"]: r for r in report.get("transforms", {}).get("transforms", [])}
        report["transforms"] = part_transforms(args)
        if args.only:  # keep the rows not re-measured, marked with the run they come from
            fresh = {r["transform"] for r in report["transforms"]["transforms"]}
            kept = [dict(r, earlier_run=True) for n, r in previous.items() if n not in fresh]
            report["transforms"]["transforms"] += kept
        report["transforms"]["command"] = "python benchmarks/bench_anonymize.py " + " ".join(
            argv or sys.argv[1:]
        )
        slow = [r["transform"] for r in report["transforms"]["transforms"] if r["seconds"] >= 20]
        print(
            f"  peak memory {report['transforms']['peak_memory_gb']:.2f} GB; over 20 s: {slow or 'none'}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"JSON: {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
