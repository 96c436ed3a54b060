"""Time unicity at every resolution: the engine against a dict of Python sets, and the resolution sweep.

    .venv/bin/python benchmarks/bench_resolution.py                 # city + unique-in-the-crowd (minutes)
    .venv/bin/python benchmarks/bench_resolution.py --devices 20000 # a quick run
    .venv/bin/python benchmarks/bench_resolution.py --city-parquet /work/data/city5_cdr.parquet \
        --skip-sweep                                                # the whole call only, on a saved city

Two measurements, each on a world generated in a child process (its cdr
traces handed over as .npy columns, so generation does not count):

1. ``city`` (cdr, times to the second), p = 4, ``--targets`` targets, raw and
   coarsened to 2 km cells x 4 h bins (the table is coarsened before any
   timing, for both methods). The engine's **whole call** is
   ``unicity(table, 4, n_targets=...)``: indexing the table plus the query.
   The baseline does the same job the way research code does: a Python dict
   from point to the set of its devices, built with a loop over every record
   of the table, then the sets of each target's known points intersected.
   It answers the very points the engine drew, and must agree exactly. The
   engine's query is also timed with sorted lists only (no bitsets), to show
   what the bitsets buy. The **floor** is what no index built by sorting the
   records can beat: ``np.argsort`` (and ``np.sort``) of as many random int64
   keys as there are records, timed in the same run. Engine and floor times
   are the fastest of 3 runs (the first query on an index includes building
   its bitsets); the baseline runs once. ``--city-parquet`` reads the city's
   cdr traces from a Parquet file instead (columns ``device_id, time, x_km,
   y_km``), and ``--skip-sweep`` stops after this measurement.
2. ``unique-in-the-crowd`` (cdr at antenna x hour): ``resolution_sweep`` over
   5 cell sizes x 4 time bins x p in (2, 4) with ``--sweep-targets`` targets,
   which builds each coarse index by coarsening the table's index; then the
   same sweep with every coarse index built from the coarsened table (the
   way it was done before), which must give the same table.

Results go to benchmarks/results/resolution.json.
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

from _common import generate_in_child, peak_gb
from fewpoints.anonymize import coarsen_space, coarsen_time
from fewpoints.attacks import PointIndex, resolution_sweep, unicity
from fewpoints.attacks import resolution as resolution_module
from fewpoints.attacks.unicity import unicity_on_index

HERE = Path(__file__).resolve().parent
CELLS = (None, 0.5, 1.0, 2.0, 4.0)
BINS = ("1h", "2h", "4h", "8h")


def load_cdr(preset: str, n_people, seed: int) -> tuple[pd.DataFrame, dict]:
    """A preset's cdr traces (``n_people`` None: the preset's), made in a child process."""
    traces, _, info = generate_in_child(preset, seed, n_people=n_people)
    return traces, info


# ---------------------------------------------------------------------------
# 1. the whole call against a dict of Python sets
# ---------------------------------------------------------------------------


def _device_numbers(devices: pd.Series) -> list[int]:
    """Devices as small ints (category codes): the cheapest keys for Python sets."""
    return pd.Series(pd.factorize(devices)[0]).tolist()


def _seconds(time: pd.Series) -> list[int]:
    """Times as whole seconds since 1970 (floored, as the engine reads them), a list of ints."""
    return time.to_numpy().astype("datetime64[s]").astype(np.int64).tolist()


def dict_of_sets(traces: pd.DataFrame, points: pd.DataFrame) -> tuple[list[int], float, float]:
    """Dict point -> set of devices from every record, then intersections per target.

    Devices are numbered (ints hash and compare faster than the str labels),
    which makes this the strongest plain-Python version we know.

    Returns (anonymity set sizes in target order, build seconds, query seconds).
    """
    t0 = time.perf_counter()
    index: dict[tuple, set] = {}
    for dev, x, y, t in zip(
        _device_numbers(traces["device_id"]),
        traces["x_km"].tolist(),
        traces["y_km"].tolist(),
        _seconds(traces["time"]),
        strict=True,
    ):
        index.setdefault((x, y, t), set()).add(dev)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    sizes = []
    for _, grp in points.groupby("device_id", sort=False):
        sets = [
            index[(x, y, t)]
            for x, y, t in zip(
                grp["x_km"].tolist(),
                grp["y_km"].tolist(),
                _seconds(grp["time"]),
                strict=True,
            )
        ]
        sizes.append(len(set.intersection(*sets)))
    query = time.perf_counter() - t0
    del index
    return sizes, build, query


def _best(f, repeat: int = 3):
    """(result, fastest wall-clock seconds of ``repeat`` runs)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return out, best


def sort_floor(n: int, seed: int) -> tuple[float, float]:
    """Fastest of 3 (``np.argsort``, ``np.sort``) of ``n`` random int64 keys, seconds."""
    keys = np.random.default_rng(seed).integers(0, 2**62, n)
    _, t_argsort = _best(lambda: np.argsort(keys))
    _, t_sort = _best(lambda: np.sort(keys))
    return t_argsort, t_sort


def whole_call(traces: pd.DataFrame, label: str, targets: int, seed: int) -> dict:
    t_argsort, t_sort = sort_floor(len(traces), seed)
    res, t_whole = _best(lambda: unicity(traces, 4, n_targets=targets, rng=seed))
    # The same call in two steps, with and without bitsets.
    index, t_build = _best(lambda: PointIndex.from_traces(traces))
    again, t_query = _best(
        lambda: unicity_on_index(index, 4, targets, "random", np.random.default_rng(seed)), repeat=1
    )
    index.points = index.points.with_dense_min(2**62)
    lists, t_query_lists = _best(
        lambda: unicity_on_index(index, 4, targets, "random", np.random.default_rng(seed)), repeat=1
    )
    sizes = res.targets["anonymity_set_size"].tolist()
    assert again.targets["anonymity_set_size"].tolist() == sizes
    assert lists.targets["anonymity_set_size"].tolist() == sizes
    n_dense = int((index.points.with_dense_min(None).dense()[0] >= 0).sum())
    print(f"  {label}: {index}; engine whole call {t_whole:.2f} s", flush=True)
    dict_sizes, t_dict_build, t_dict_query = dict_of_sets(traces, res.points)
    agree = dict_sizes == sizes
    t_dict = t_dict_build + t_dict_query
    print(
        f"  {label}: dict of sets {t_dict:.1f} s (build {t_dict_build:.1f}, query "
        f"{t_dict_query:.1f}); {t_dict / t_whole:.1f}x; agree: {agree}",
        flush=True,
    )
    print(
        f"  {label}: floor np.argsort {t_argsort:.2f} s, np.sort {t_sort:.2f} s; "
        f"whole call / argsort {t_whole / t_argsort:.2f}",
        flush=True,
    )
    return {
        "resolution": label,
        "records": len(traces),
        "devices": index.n_devices,
        "distinct_points": index.n_points,
        "bitset_points": n_dense,
        "unicity": res.value,
        "median_anonymity_set": float(np.median(sizes)),
        "engine_whole_call_seconds": t_whole,
        "engine_build_seconds": t_build,
        "engine_query_seconds": t_query,
        "engine_query_sorted_lists_only_seconds": t_query_lists,
        "dict_of_sets_build_seconds": t_dict_build,
        "dict_of_sets_query_seconds": t_dict_query,
        "dict_of_sets_seconds": t_dict,
        "speedup_whole_call": t_dict / t_whole,
        "floor_argsort_seconds": t_argsort,
        "floor_sort_seconds": t_sort,
        "whole_call_over_argsort": t_whole / t_argsort,
        "agree_exactly": agree,
    }


# ---------------------------------------------------------------------------
# 2. the resolution sweep
# ---------------------------------------------------------------------------


def sweep(traces: pd.DataFrame, targets: int, seed: int, *, by_table: bool) -> tuple:
    real = resolution_module._sweep_rows
    if by_table:

        def table_path(*args):
            return real(*args[:-1], False)

        resolution_module._sweep_rows = table_path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 1 h bins on hourly data change nothing
            t0 = time.perf_counter()
            out = resolution_sweep(
                traces,
                cell_km=CELLS,
                time_bin=BINS,
                n_points_range=(2, 4),
                n_targets=targets,
                rng=seed,
            )
            return out, time.perf_counter() - t0
    finally:
        resolution_module._sweep_rows = real


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=None, help="people per world (preset default)")
    ap.add_argument("--targets", type=int, default=10_000, help="targets, city whole call")
    ap.add_argument("--sweep-targets", type=int, default=5_000, help="targets per sweep cell")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-table-sweep", action="store_true", help="skip the reference sweep")
    ap.add_argument("--skip-sweep", action="store_true", help="measure the city whole call only")
    ap.add_argument("--city-seed", type=int, default=None, help="city world seed (default --seed)")
    ap.add_argument(
        "--city-parquet", default=None, help="read the city cdr traces from this Parquet file"
    )
    ap.add_argument(
        "--out",
        default=None,
        help="JSON file (default results/resolution.json, or resolution_city.json with --skip-sweep)",
    )
    args = ap.parse_args(argv)
    if args.out is None:
        name = "resolution_city.json" if args.skip_sweep else "resolution.json"
        args.out = str(HERE / "results" / name)

    city_seed = args.seed if args.city_seed is None else args.city_seed
    if args.city_parquet:
        print(f"reading the city's cdr traces from {args.city_parquet} ...", flush=True)
        city = pd.read_parquet(args.city_parquet, columns=["device_id", "time", "x_km", "y_km"])
        gen_city = {"records": len(city), "source": args.city_parquet}
        print(f"  {len(city):,} records", flush=True)
    else:
        print("generating the city world (cdr) ...", flush=True)
        city, gen_city = load_cdr("city", args.devices, city_seed)
        print(f"  {len(city):,} records in {gen_city['seconds']:.0f} s (child process)", flush=True)
    coarse = coarsen_time(coarsen_space(city, cell_km=2.0), time_bin="4h")
    calls = [
        whole_call(city, "raw (as recorded)", args.targets, args.seed),
        whole_call(coarse, "2 km x 4 h", args.targets, args.seed),
    ]
    del city, coarse
    mem_city = peak_gb()
    if args.skip_sweep:
        return _report_city(args, argv, calls, gen_city, city_seed, mem_city)

    print("generating the unique-in-the-crowd world ...", flush=True)
    crowd, gen_crowd = load_cdr("unique-in-the-crowd", args.devices, args.seed)
    print(f"  {len(crowd):,} records in {gen_crowd['seconds']:.0f} s (child process)", flush=True)
    fast, t_fast = sweep(crowd, args.sweep_targets, args.seed, by_table=False)
    print(f"  resolution_sweep (coarsening the index): {t_fast:.1f} s", flush=True)
    t_table, same = None, None
    if not args.skip_table_sweep:
        slow, t_table = sweep(crowd, args.sweep_targets, args.seed, by_table=True)
        same = bool(fast.table.equals(slow.table))
        print(f"  the same sweep indexing each coarse table: {t_table:.1f} s; same: {same}")

    report = {
        "command": "python benchmarks/bench_resolution.py " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpus": mp.cpu_count(),
        },
        "seed": args.seed,
        "city": {
            "records": gen_city["records"],
            "seed": city_seed,
            "source": gen_city.get("source", "generated"),
            "p": 4,
            "targets": args.targets,
            "calls": calls,
        },
        "sweep": {
            "world": "unique-in-the-crowd",
            "records": gen_crowd["records"],
            "cell_km": [c for c in CELLS],
            "time_bin": list(BINS),
            "n_points": [2, 4],
            "targets": args.sweep_targets,
            "seconds_coarsening_the_index": t_fast,
            "seconds_indexing_each_coarse_table": t_table,
            "same_table": same,
            "table": fast.table.to_dict(orient="records"),
        },
        "peak_memory_gb": {"after_city": mem_city, "end": peak_gb()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")

    print()
    print(f"city, p = 4, {args.targets:,} targets   {'engine':>8} {'dict':>8} {'x':>6}")
    for c in calls:
        print(
            f"{c['resolution']:<32} {c['engine_whole_call_seconds']:>8.2f} "
            f"{c['dict_of_sets_seconds']:>8.1f} {c['speedup_whole_call']:>6.1f}"
        )
    print(f"sweep 5 x 4 x 2, {args.sweep_targets:,} targets: {t_fast:.1f} s (target < 20 s)")
    print(f"peak memory {peak_gb():.1f} GB; JSON: {out}")
    ok = all(c["agree_exactly"] for c in calls) and same is not False
    return 0 if ok else 1


def _report_city(args, argv, calls, gen_city, city_seed, mem_city) -> int:
    """The city whole call alone: JSON and a table of ratios (``--skip-sweep``)."""
    report = {
        "command": "python benchmarks/bench_resolution.py " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpus": mp.cpu_count(),
        },
        "city": {
            "records": gen_city["records"],
            "seed": city_seed,
            "source": gen_city.get("source", "generated"),
            "p": 4,
            "targets": args.targets,
            "calls": calls,
        },
        "peak_memory_gb": mem_city,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print()
    print(
        f"city, p = 4, {args.targets:,} targets   {'engine':>7} {'build':>6} {'dict':>6} "
        f"{'x dict':>7} {'argsort':>8} {'x floor':>8} {'same':>5}"
    )
    for c in calls:
        print(
            f"{c['resolution']:<32} {c['engine_whole_call_seconds']:>7.2f} "
            f"{c['engine_build_seconds']:>6.2f} {c['dict_of_sets_seconds']:>6.1f} "
            f"{c['speedup_whole_call']:>7.1f} {c['floor_argsort_seconds']:>8.2f} "
            f"{c['whole_call_over_argsort']:>8.2f} {str(c['agree_exactly']):>5}"
        )
    print("targets: x dict >= 10, x floor (whole call / argsort) <= 3")
    print(f"peak memory {mem_city:.1f} GB; JSON: {out}")
    return 0 if all(c["agree_exactly"] for c in calls) else 1


if __name__ == "__main__":
    sys.exit(main())
