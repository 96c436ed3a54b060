"""Time the unicity engine on the crowd world and compare it with two common ways of doing the same.

    .venv/bin/python benchmarks/bench_unicity.py                  # 1,000,000 devices (minutes)
    .venv/bin/python benchmarks/bench_unicity.py --devices 20000  # a quick run

The world (preset ``crowd``, cdr at antenna x hour) is generated in a child
process, which hands the traces over as .npy files, so this process's peak
memory (``ru_maxrss``) is the engine's own plus the data, not the generator's.

Measured here, on the same data:

1. ``PointIndex.from_traces``: the inverted index point -> devices.
2. ``unicity_curve`` for p = 1..10 with ``--targets`` targets each.
3. On the first ``--baseline-targets`` targets of every p (the same drawn
   points): the way published research code does it (a Python dict from
   point to a set of devices, sets intersected per target) and a
   straightforward pandas merge-and-count. All three must agree exactly.

The dict is built only from the records whose point is queried (a full build
over every record would take far longer and more memory than this machine
should spend on a baseline); its build time is reported for those records
and scaled to all records. Results go to benchmarks/results/unicity.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import generate_in_child, intersection_sizes, peak_gb, points_to_devices
from fewpoints.attacks import PointIndex, unicity, unicity_curve

HERE = Path(__file__).resolve().parent


def load_crowd(n_devices: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """The crowd world's cdr at antenna x hour (made in a child process)."""
    traces, _, info = generate_in_child("crowd", seed, n_people=n_devices, cdr_time_bin="1h")
    return traces, info


# ---------------------------------------------------------------------------
# the two baselines
# ---------------------------------------------------------------------------


def dict_of_sets(traces: pd.DataFrame, known: list[pd.DataFrame]) -> tuple[list, float, float]:
    """Published-research-code style: dict point -> set of devices; intersect per target.

    Returns (sizes per p, build seconds, query seconds). The dict holds only
    the records whose point is queried (selected beforehand, untimed).
    """
    allpts = pd.concat(known)[["x_km", "y_km", "time"]].drop_duplicates()
    wanted = pd.MultiIndex.from_frame(allpts)
    rows = pd.MultiIndex.from_frame(traces[["x_km", "y_km", "time"]]).isin(wanted)
    sub = traces.loc[rows, ["device_id", "x_km", "y_km", "time"]]
    t0 = time.perf_counter()
    index = points_to_devices(sub["device_id"].astype(str).tolist(), sub)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = [intersection_sizes(index, pts.groupby("target", sort=True)) for pts in known]
    query = time.perf_counter() - t0
    return out, build, query, len(sub)


def merge_and_count(traces: pd.DataFrame, known: list[pd.DataFrame]) -> tuple[list, float]:
    """Straightforward pandas: merge known points with every record, count points matched per device."""
    t0 = time.perf_counter()
    allk = pd.concat(
        [k.assign(p=i) for i, k in enumerate(known)], ignore_index=True
    )  # columns: target, x_km, y_km, time, p
    allk["group"] = allk["p"] * 1_000_000 + allk["target"]
    need = allk.groupby("group").size().rename("need")
    m = allk[["group", "x_km", "y_km", "time"]].merge(
        traces[["device_id", "x_km", "y_km", "time"]], on=["x_km", "y_km", "time"]
    )
    m = m.drop_duplicates(["group", "device_id", "x_km", "y_km", "time"])
    per = m.groupby(["group", "device_id"], observed=True).size().rename("n").reset_index()
    per = per.join(need, on="group")
    sizes = per[per["n"] == per["need"]].groupby("group").size()
    sizes = sizes.reindex(need.index, fill_value=0)
    seconds = time.perf_counter() - t0
    out = []
    for i in range(len(known)):
        sel = sizes[(sizes.index // 1_000_000) == i]
        out.append(sel.sort_index().to_numpy().tolist())
    return out, seconds


# ---------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=1_000_000, help="people in the crowd world")
    ap.add_argument("--targets", type=int, default=10_000, help="targets per p (default 10000)")
    ap.add_argument(
        "--baseline-targets",
        type=int,
        default=1_000,
        help="targets per p given to the two baselines (the first of the same draw)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "results" / "unicity.json"))
    args = ap.parse_args(argv)
    ps = list(range(1, 11))

    print(f"generating the crowd world ({args.devices:,} devices, cdr, 1 h bins) ...", flush=True)
    traces, gen = load_crowd(args.devices, args.seed)
    n_rec = len(traces)
    print(f"  {n_rec:,} records in {gen['seconds']:.0f} s (child process)", flush=True)
    mem_data = peak_gb()

    t0 = time.perf_counter()
    index = PointIndex.from_traces(traces)
    t_build = time.perf_counter() - t0
    print(f"  index: {index} in {t_build:.1f} s", flush=True)

    t0 = time.perf_counter()
    curve = unicity_curve(index, ps, n_targets=args.targets, rng=args.seed)
    t_curve = time.perf_counter() - t0
    mem_engine = peak_gb()
    print(f"  unicity_curve p=1..10: {t_curve:.2f} s", flush=True)

    # The same draws again (same seed, same index), keeping every result.
    rng = np.random.default_rng(args.seed)
    results = [unicity(index, p, n_targets=args.targets, rng=rng) for p in ps]
    assert np.allclose([r.value for r in results], curve["unicity"])

    b = args.baseline_targets
    known, engine_sizes = [], []
    for r in results:
        first = r.targets["device_id"].iloc[:b]
        pts = r.points[r.points["device_id"].isin(set(first))].copy()
        order = {d: i for i, d in enumerate(first)}
        pts["target"] = pts["device_id"].map(order).astype(int)
        known.append(pts[["target", "x_km", "y_km", "time"]])
        engine_sizes.append(r.targets["anonymity_set_size"].iloc[:b].tolist())
    # Engine time on exactly the baseline workload, from coordinates (index reused;
    # the first call also builds the coordinate -> point lookup, timed apart).
    t0 = time.perf_counter()
    index.count_matching(known[0].iloc[:1].rename(columns={"target": "device_id"}))
    t_lookup = time.perf_counter() - t0
    t0 = time.perf_counter()
    counted = [index.count_matching(k.rename(columns={"target": "device_id"})) for k in known]
    t_engine_b = time.perf_counter() - t0
    assert [c.tolist() for c in counted] == engine_sizes

    print(f"  baseline 1: Python dict of sets on {b:,} targets per p ...", flush=True)
    dict_sizes, t_dict_build, t_dict_query, dict_rows = dict_of_sets(traces, known)
    print(f"  baseline 2: pandas merge-and-count on {b:,} targets per p ...", flush=True)
    merge_sizes, t_merge = merge_and_count(traces, known)
    agree = engine_sizes == dict_sizes == merge_sizes
    mem_all = peak_gb()

    dict_build_full = t_dict_build * n_rec / max(dict_rows, 1)
    report = {
        "command": "python benchmarks/bench_unicity.py " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpus": mp.cpu_count(),
        },
        "world": {
            "preset": "crowd",
            "devices": index.n_devices,
            "records": n_rec,
            "distinct_points": index.n_points,
            "locations": index.n_locations,
            "cdr_time_bin": "1h",
            "seed": args.seed,
            "generation_seconds_child": gen["seconds"],
        },
        "index_build_seconds": t_build,
        "unicity_curve_seconds": t_curve,
        "targets_per_p": args.targets,
        "peak_memory_gb": {
            "data_loaded": mem_data,
            "engine": mem_engine,
            "with_baselines": mem_all,
        },
        "curve": curve.to_dict(orient="records"),
        "baselines": {
            "targets_per_p": b,
            "agree_exactly": agree,
            "engine_query_seconds": t_engine_b,
            "engine_lookup_build_seconds": t_lookup,
            "dict_of_sets_build_seconds_queried_records": t_dict_build,
            "dict_of_sets_records_indexed": dict_rows,
            "dict_of_sets_build_seconds_all_records_scaled": dict_build_full,
            "dict_of_sets_query_seconds": t_dict_query,
            "pandas_merge_seconds": t_merge,
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")

    print()
    print(f"crowd world: {index.n_devices:,} devices, {n_rec:,} records, {index.n_points:,} points")
    print(f"{'step':<52} {'seconds':>9} {'target':>10}")
    print(f"{'index build (PointIndex.from_traces)':<52} {t_build:>9.1f} {'< 30':>10}")
    print(
        f"{f'unicity_curve p=1..10, {args.targets:,} targets each':<52} {t_curve:>9.2f} {'< 10':>10}"
    )
    print(f"{'peak memory, GB (data + index + queries)':<52} {mem_engine:>9.2f} {'< 10':>10}")
    print()
    print(f"same drawn points, {b:,} targets per p (p = 1..10): all three agree exactly: {agree}")
    print(f"{'method':<52} {'seconds':>9} {'x engine':>10}")
    print(f"{'engine: count_matching from coordinates':<52} {t_engine_b:>9.2f} {1:>10.0f}")
    print(
        f"{'dict of sets: intersect per target':<52} {t_dict_query:>9.2f} "
        f"{t_dict_query / t_engine_b:>10.0f}"
    )
    print(
        f"{f'dict of sets: build ({dict_rows:,} queried records)':<52} {t_dict_build:>9.2f}"
        f" {'':>10}"
    )
    print(
        f"{'dict of sets: build, scaled to all records':<52} {dict_build_full:>9.0f} "
        f"{dict_build_full / t_build:>9.0f}x build"
    )
    total_engine = t_engine_b
    print(
        f"{'pandas merge-and-count (all p at once)':<52} {t_merge:>9.2f} "
        f"{t_merge / total_engine:>10.0f}"
    )
    print(f"peak memory including baselines: {mem_all:.2f} GB; JSON: {out}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
