"""Unicity on the ``unique-in-the-crowd`` world, as ``fewpoints unicity`` measures it, to JSON.

    flock /tmp/fewpoints-heavy.lock .venv/bin/python benchmarks/measure_calibration.py

does what these two commands do and writes their numbers to
``benchmarks/results/calibration_unique_in_the_crowd.json`` (the results page "How few
points?" of the docs is printed from it):

    fewpoints unicity unique-in-the-crowd --seed 2013 --points 1-8 --targets 10000
    fewpoints unicity unique-in-the-crowd --seed 2013 --points 1-8 --targets 10000 --time-bin 2h

the same world (generated once), the same draws (one ``default_rng(seed)`` per command,
used for p = 1, 2, ..., 8 in turn), so the numbers are the commands' own. All numbers are
from synthetic data.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import fewpoints
from _common import peak_gb
from fewpoints.anonymize import coarsen_time
from fewpoints.attacks import PointIndex, unicity

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--targets", type=int, default=10_000)
    ap.add_argument("--people", type=int, default=None, help="people (default: the preset's)")
    ap.add_argument("--out", default=str(HERE / "results" / "calibration_unique_in_the_crowd.json"))
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    extra = {} if args.people is None else {"n_people": args.people}
    world = fewpoints.make_world("unique-in-the-crowd", rng=args.seed, **extra)
    traces = world.observations["cdr"]
    print(f"world: {len(traces):,} records in {time.perf_counter() - t0:.0f} s", flush=True)
    runs = []
    for time_bin in (None, "2h"):
        command = (
            f"fewpoints unicity unique-in-the-crowd --seed {args.seed} --points 1-8 "
            f"--targets {args.targets}" + (f" --time-bin {time_bin}" if time_bin else "")
        )
        table = traces if time_bin is None else coarsen_time(traces, time_bin=time_bin)
        index = PointIndex.from_traces(table)
        rng = np.random.default_rng(args.seed)
        rows = []
        for p in range(1, 9):
            r = unicity(index, p, n_targets=args.targets, rng=rng)
            rows.append(
                {
                    "n_points": p,
                    "unicity": r.value,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "n_targets": r.n_targets,
                }  # fmt: skip
            )
            print(f"  {time_bin or '1h'} p = {p}: {r.value:.1%} ({r.ci_low:.1%}-{r.ci_high:.1%})")
        runs.append(
            {
                "command": command,
                "resolution": f"antenna x {time_bin or '1h'}",
                "records": index.n_records,
                "devices": index.n_devices,
                "table": rows,
            }
        )
    out = {
        "command": "python benchmarks/measure_calibration.py",
        "synthetic": True,
        "preset": "unique-in-the-crowd",
        "seed": args.seed,
        "people": world.params.n_people,
        "antennas": len(world.antennas),
        "runs": runs,
        "seconds": time.perf_counter() - t0,
        "peak_gb": peak_gb(),
    }
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"JSON: {args.out}; peak memory {out['peak_gb']:.1f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
