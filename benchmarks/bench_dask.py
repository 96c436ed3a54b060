"""Time the Dask engine on a Parquet world, and the memory of its whole process tree.

Usage:
    python benchmarks/bench_dask.py /work/data/crowd-parquet --compare-memory
    python benchmarks/bench_dask.py /work/data/region10m --workers 2 --memory-limit 3GB

The attack runs in a child process (``unicity`` on ``read_traces_dask(PATH)``
inside a local cluster of ``--workers`` processes limited to
``--memory-limit`` each); the parent samples the resident memory of the
child and all its descendants (the cluster's workers and nanny processes)
every 0.2 s and reports the peak of their sum. With ``--compare-memory`` the
same attack runs in memory in a second child (``pandas.read_parquet``, then
the index) and the two results are compared target by target: they must be
identical. Results go to benchmarks/results/dask-<name>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from _common import PeakSampler  # the /proc sampler of every benchmark

CHILD = r"""
import hashlib, json, sys, time
import numpy as np, pandas as pd
mode, path, p, n_targets, seed, workers, limit = sys.argv[1:8]
save = sys.argv[8] if len(sys.argv) > 8 else ""
p, n_targets, seed = int(p), int(n_targets), int(seed)
from fewpoints.attacks import unicity
stages = {}
def progress(stage, fraction, _t0=[time.perf_counter()], _last=[None]):
    now = time.perf_counter()
    if stage != _last[0]:
        _last[0] = stage
        stages[stage] = now
t0 = time.perf_counter()
if mode == "dask":
    from fewpoints.attacks.dask_engine import connect, dask_unicity, read_traces_dask
    progress("starting the local cluster", 0.0)
    with connect(workers=int(workers), memory_limit=limit):
        ddf = read_traces_dask(path)
        parts = ddf.npartitions
        (res,), counts = dask_unicity(ddf, [p], n_targets=n_targets, knowledge="random",
                                      rng=np.random.default_rng(seed), progress=progress)
        progress("closing the cluster", 0.0)
    n_records = counts.n_records
    n_pairs = int(counts.points_per_device().sum())
else:
    from pathlib import Path
    folder = Path(path)
    files = sorted(folder.glob("traces_cdr/*.parquet")) or sorted(folder.glob("*.parquet"))
    traces = pd.concat([pd.read_parquet(f, columns=["device_id", "time", "x_km", "y_km"])
                        for f in files], ignore_index=True)
    parts = len(files)
    stages["read"] = t0
    stages["index and attack"] = time.perf_counter()
    res = unicity(traces, p, n_targets=n_targets, rng=seed)
    n_records = len(traces)
    n_pairs = None
end = time.perf_counter()
names = list(stages)
times = {k: (stages[names[i + 1]] if i + 1 < len(names) else end) - stages[k]
         for i, k in enumerate(names)}
digest = hashlib.sha256()
digest.update(res.targets.to_csv(index=False).encode())
pts = res.points[["device_id", "x_km", "y_km", "time"]]
digest.update(pts.to_csv(index=False).encode())
if save:  # the targets and their points, for another engine to answer (bench_dask_duckdb.py)
    res.targets.to_parquet(save + "-targets.parquet", index=False)
    pts.to_parquet(save + "-points.parquet", index=False)
print(json.dumps({"mode": mode, "seconds": end - t0, "stages": times, "partitions": parts,
                  "unicity": res.value, "ci": [res.ci_low, res.ci_high],
                  "n_targets": res.n_targets, "n_devices": res.n_devices,
                  "n_records": int(n_records), "n_device_points": n_pairs,
                  "digest": digest.hexdigest()}))
"""


def run(mode: str, args, save: str = "") -> dict:
    """One attack in a child (``mode`` "dask" or "memory"), its whole process tree sampled.

    With ``save`` (a path prefix), the child also writes its targets
    (``SAVE-targets.parquet``: device_id, anonymity_set_size) and their known
    points (``SAVE-points.parquet``), after its time is taken.
    """
    cmd = [sys.executable, "-c", CHILD, mode, str(args.path), str(args.points)]
    cmd += [str(args.targets), str(args.seed), str(args.workers), args.memory_limit, save]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakSampler(proc.pid) as sampler:
        out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"{mode} child failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_tree_bytes"] = sampler.peak
    return result


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a Parquet world folder or dataset")
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument(
        "--compare-memory", action="store_true", help="also run in memory and compare"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    runs = [run("dask", args)]
    if args.compare_memory:
        runs.append(run("memory", args))
    for r in runs:
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items())
        print(
            f"{r['mode']:>6}: {r['seconds']:7.1f} s, peak tree memory "
            f"{r['peak_tree_bytes'] / 1e9:5.2f} GB, {r['partitions']} partitions, "
            f"{r['n_records']:,} records, {r['n_devices']:,} devices; unicity "
            f"{r['unicity']:.1%} ({stages})"
        )
    if args.compare_memory:
        same = runs[0]["digest"] == runs[1]["digest"]
        print(f"identical targets, points and anonymity sets: {same}")
    disk = _du(args.path)
    traces = args.path / "traces_cdr"
    traces_disk = _du(traces) if traces.is_dir() else disk
    print(f"on disk: {disk / 1e9:.2f} GB in all, traces {traces_disk / 1e9:.2f} GB")
    out = args.out or Path(__file__).parent / "results" / f"dask-{args.path.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": "python benchmarks/bench_dask.py " + " ".join(argv or sys.argv[1:]),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "disk_bytes": disk,
                "traces_disk_bytes": traces_disk,
                "workers": args.workers,
                "memory_limit": args.memory_limit,
                "runs": runs,
                "identical": runs[0]["digest"] == runs[1]["digest"] if len(runs) > 1 else None,
                "when": time.strftime("%Y-%m-%d %H:%M"),
            },
            indent=2,
        )
    )
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
