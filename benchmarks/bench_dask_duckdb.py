"""The Dask engine against DuckDB out of core on one Parquet world, and the engine on 1, 2, N workers.

    pip install -e '.[bench]'        # DuckDB: for this benchmark only, never used by the package
    flock /tmp/fewpoints-heavy.lock .venv/bin/python benchmarks/bench_dask_duckdb.py \\
        /work/data/h14-region10m --dask 2 --duckdb
    flock /tmp/fewpoints-heavy.lock .venv/bin/python benchmarks/bench_dask_duckdb.py \\
        /work/data/h14-region10m --dask 1

The same test as benchmarks/bench_duckdb.py (p = 4, 10,000 targets, the
points the engine drew), on a world written by ``fewpoints generate
--parquet --chunk-people``, read from its Parquet parts by both:

1. **Dask** (``--dask 1,2,...``, one run per worker count, in this order):
   the attack of benchmarks/bench_dask.py (``unicity`` on
   ``read_traces_dask(WORLD)`` in a local cluster of N workers of
   ``--memory-limit`` each) in a child process, the resident memory of the
   child and all its descendants sampled every 0.2 s. The child writes its
   targets, their anonymity sets and their known points under ``--work``.
2. **DuckDB** (``--duckdb``): in a child process of its own (its memory
   sampled the same way), ``--threads`` threads, a memory limit and a temp
   directory under ``--work`` (out of core), one SQL query
   (``bench_duckdb.QUERY``) over ``read_parquet('WORLD/traces_cdr/*.parquet')``
   and the known points the Dask engine drew. Its anonymity sets must
   equal the engine's, target by target.

Every run is added to ``benchmarks/results/dask_duckdb-<world>.json`` (a run
of the same name replaces the old one), with the load average before and
after it, so that runs made one at a time (one ``flock`` each, letting others
interleave) end in one file; every Dask run's targets, points and sets must
have the same sha256 digest.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import PeakSampler, machine  # noqa: E402
from bench_dask import run as run_dask  # noqa: E402
from bench_duckdb import QUERY, known_points  # noqa: E402

#: The records as the engine reads them: times floored to the second.
RECORDS = """
CREATE VIEW records AS
SELECT device_id, x_km, y_km, epoch_ms(CAST(time AS TIMESTAMP)) // 1000 AS t
FROM read_parquet('{glob}')
"""


def _duckdb_child(glob, known_path, threads, memory_limit, temp, queue) -> None:
    """Child process: the query over the Parquet parts; hands back each target's set size."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{temp}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(RECORDS.format(glob=glob))
    known = pd.read_parquet(known_path)
    con.register("known", known)
    t1 = time.perf_counter()
    out = con.execute(QUERY).fetchnumpy()
    t2 = time.perf_counter()
    spilled = con.execute("SELECT coalesce(sum(size), 0) FROM duckdb_temporary_files()").fetchone()[
        0
    ]
    con.close()
    queue.put(
        {
            "target": out["target"].astype(np.int64),
            "size": out["anonymity_set_size"].astype(np.int64),
            "query_seconds": t2 - t1,
            "setup_seconds": t1 - t0,
            "temp_bytes_at_end": int(spilled),
            "duckdb": duckdb.__version__,
        }
    )


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and their reaped descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_duckdb(args, targets: pd.DataFrame, points: pd.DataFrame) -> dict:
    """DuckDB's answer to the engine's known points, in a sampled child; compared target by target."""
    known = known_points(SimpleNamespace(targets=targets, points=points))
    known_path = args.work / "known.parquet"
    known.to_parquet(known_path, index=False)
    temp = args.work / "duckdb-temp"
    temp.mkdir(parents=True, exist_ok=True)
    glob = str(args.world / "traces_cdr" / "*.parquet")
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(
        target=_duckdb_child,
        args=(glob, str(known_path), args.threads, args.duckdb_memory, str(temp), queue),
    )
    t0 = time.perf_counter()
    child.start()
    with PeakSampler(child.pid) as sampler:
        got = queue.get()
        child.join()
    wall = time.perf_counter() - t0
    if child.exitcode != 0:
        sys.exit(f"DuckDB child failed (exit {child.exitcode})")
    sizes = targets["anonymity_set_size"].to_numpy(dtype=np.int64)
    duck = np.zeros(len(sizes), dtype=np.int64)
    duck[got["target"]] = got["size"]
    return {
        "engine": "duckdb",
        "threads": args.threads,
        "memory_limit": args.duckdb_memory,
        # As the Dask child's time: from after the imports to the answer.
        "seconds": got["setup_seconds"] + got["query_seconds"],
        "child_wall_seconds": wall,
        "query_seconds": got["query_seconds"],
        "setup_seconds": got["setup_seconds"],
        "peak_tree_bytes": sampler.peak,
        "temp_bytes_at_end": got["temp_bytes_at_end"],
        "duckdb": got["duckdb"],
        "known_points": len(known),
        "identical_sets": bool(np.array_equal(duck, sizes)),
        "unicity": float((duck == 1).mean()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("world", type=Path, help="a Parquet world folder (traces_cdr/*.parquet)")
    ap.add_argument("--dask", default="", help="comma-separated worker counts, run in order")
    ap.add_argument("--duckdb", action="store_true", help="run DuckDB on the engine's points")
    ap.add_argument("--points", type=int, default=4)
    ap.add_argument("--targets", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--memory-limit", default="3GB", help="memory per Dask worker")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    ap.add_argument("--duckdb-memory", default="6GB", help="DuckDB memory limit")
    ap.add_argument(
        "--work", type=Path, default=None, help="the runs' files (default /work/data/bench-...)"
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    args.path = args.world  # the names bench_dask.run reads
    name = args.world.resolve().name
    args.work = args.work or Path("/work/data/bench-dask-duckdb") / name
    args.work.mkdir(parents=True, exist_ok=True)
    out = args.out or HERE / "results" / f"dask_duckdb-{name}.json"
    workers = [int(w) for w in args.dask.split(",") if w.strip()]
    if not workers and not args.duckdb:
        ap.error("nothing to run: give --dask N[,N...] and/or --duckdb")
    if args.duckdb:
        try:
            import duckdb  # noqa: F401
        except ImportError:
            print("DuckDB is not installed: pip install -e '.[bench]'", file=sys.stderr)
            return 2
    report = json.loads(out.read_text()) if out.exists() else {"runs": {}}
    report.update(
        {
            "world": str(args.world),
            "p": args.points,
            "targets": args.targets,
            "seed": args.seed,
            "machine": machine(),
        }
    )
    command = "python benchmarks/bench_dask_duckdb.py " + " ".join(argv or sys.argv[1:])

    def record(key: str, result: dict, load_before) -> None:
        result.update(
            command=command,
            when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            load_before=load_before,
            load_after=os.getloadavg(),
        )
        report["runs"][key] = result
        out.write_text(json.dumps(report, indent=2, default=float) + "\n")

    for n in workers:
        args.workers = n
        load = os.getloadavg()
        print(f"Dask, {n} worker(s) of {args.memory_limit}, load {load[0]:.1f} ...", flush=True)
        cpu = children_cpu()
        r = run_dask("dask", args, save=str(args.work / "dask"))
        r.update(engine="dask", workers=n, memory_limit=args.memory_limit)
        r["cpu_seconds"] = children_cpu() - cpu
        record(f"dask-{n}", r, load)
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items())
        print(f"  {r['seconds']:.1f} s, peak {r['peak_tree_bytes'] / 1e9:.2f} GB ({stages})")
    if args.duckdb:
        saved = args.work / "dask-targets.parquet"
        if not saved.exists():
            sys.exit(f"{saved}: no Dask run's points yet; run with --dask N first")
        targets = pd.read_parquet(saved)
        points = pd.read_parquet(args.work / "dask-points.parquet")
        load = os.getloadavg()
        print(f"DuckDB, {args.threads} threads, {args.duckdb_memory}, load {load[0]:.1f} ...")
        cpu = children_cpu()
        r = run_duckdb(args, targets, points)
        r["cpu_seconds"] = children_cpu() - cpu
        record("duckdb", r, load)
        print(
            f"  {r['seconds']:.1f} s (query {r['query_seconds']:.1f} s), "
            f"peak {r['peak_tree_bytes'] / 1e9:.2f} GB; identical sets: {r['identical_sets']}"
        )

    runs = report["runs"]
    digests = {r["digest"] for r in runs.values() if r["engine"] == "dask"}
    report["dask_runs_identical"] = len(digests) <= 1
    duck = runs.get("duckdb")
    print(
        f"\n{'run':<8} {'seconds':>8} {'x DuckDB':>9} {'CPU s':>8} {'x DuckDB':>9} "
        f"{'peak GB':>8} {'load':>5}  same"
    )
    for key, r in sorted(runs.items()):
        ratio = r["seconds"] / duck["seconds"] if duck else float("nan")
        cpu_ratio = r["cpu_seconds"] / duck["cpu_seconds"] if duck else float("nan")
        same = r["identical_sets"] if r["engine"] == "duckdb" else report["dask_runs_identical"]
        print(
            f"{key:<8} {r['seconds']:>8.1f} {ratio:>8.2f}x {r['cpu_seconds']:>8.1f} "
            f"{cpu_ratio:>8.2f}x {r['peak_tree_bytes'] / 1e9:>8.2f} {r['load_before'][0]:>5.1f}  "
            f"{same}"
        )
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"JSON: {out}")
    ok = report["dask_runs_identical"] and (duck is None or duck["identical_sets"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
