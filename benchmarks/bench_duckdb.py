"""The unicity test as one DuckDB query, against the engine, on the same records and points.

    pip install -e '.[bench]'        # DuckDB: for this benchmark only, never used by the package
    flock /tmp/fewpoints-heavy.lock .venv/bin/python benchmarks/bench_duckdb.py \\
        --city-parquet /work/data/city5_cdr.parquet

The start is the same for both: the city's cdr traces as a DataFrame in memory
(read from Parquet, or generated, untimed), as recorded, floored to the hour
(antenna x hour) and coarsened to 2 km cells x 4 h bins (both made untimed,
before any timing). For each table, in one run:

1. **fewpoints, whole call**: ``unicity(table, 4, n_targets=10_000, rng=seed)``,
   which indexes the table, draws the targets and their known points and
   answers every target.
2. **fewpoints, the question on a built index**: the same call on the index
   (``unicity(index, ...)``: drawing and answering), and answering the drawn
   points alone (``PointIndex.count_matching``, the very input DuckDB gets).
3. **DuckDB, load**: ``CREATE TABLE records AS SELECT device_id, x_km, y_km,
   epoch_ms(CAST(time AS TIMESTAMP)) // 1000 AS t FROM df`` (times floored to the second, as the
   engine reads them), from the same DataFrame.
4. **DuckDB, query**: the known points drawn by step 1 (one row per target and
   point) and one SQL query that counts, for each target, the devices holding
   all its points. Its anonymity sets must equal the engine's, target by
   target.

Every time is the fastest of ``--repeat`` runs in this process; DuckDB runs
with ``--threads`` threads (the machine's 2 cores by default; numpy's sort
and the engine use one). Results go to benchmarks/results/duckdb_city.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.anonymize import coarsen_space, coarsen_time
from fewpoints.attacks import PointIndex, unicity

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine, peak_gb  # noqa: E402
from bench_resolution import load_cdr  # noqa: E402

#: One query: the devices holding each known point (records deduplicated),
#: then per target the devices that hold as many of its points as it has.
QUERY = """
WITH pts AS (SELECT DISTINCT x_km, y_km, t FROM known),
held AS (
    SELECT DISTINCT r.device_id, r.x_km, r.y_km, r.t
    FROM records r SEMI JOIN pts USING (x_km, y_km, t)
),
per AS (
    SELECT k.target, h.device_id, count(*) AS n
    FROM known k JOIN held h USING (x_km, y_km, t)
    GROUP BY k.target, h.device_id
),
need AS (SELECT target, count(*) AS need FROM known GROUP BY target)
SELECT per.target, count(*) AS anonymity_set_size
FROM per JOIN need USING (target)
WHERE per.n = need.need
GROUP BY per.target
ORDER BY per.target
"""

LOAD = """
CREATE OR REPLACE TABLE records AS
SELECT device_id, x_km, y_km, epoch_ms(CAST(time AS TIMESTAMP)) // 1000 AS t FROM df
"""


def _best(f, repeat: int):
    """(result, fastest wall-clock seconds of ``repeat`` runs)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return out, best


def known_points(res) -> pd.DataFrame:
    """The drawn points as DuckDB gets them: target number (in target order), x, y, t (s)."""
    order = {d: i for i, d in enumerate(res.targets["device_id"])}
    pts = res.points
    return pd.DataFrame(
        {
            "target": pts["device_id"].map(order).astype(np.int64).to_numpy(),
            "x_km": pts["x_km"].to_numpy(dtype=np.float64),
            "y_km": pts["y_km"].to_numpy(dtype=np.float64),
            "t": pts["time"].to_numpy().astype("datetime64[s]").view(np.int64),
        }
    )


def compare(df: pd.DataFrame, label: str, args, duckdb) -> dict:
    n_targets, seed, repeat = args.targets, args.seed, args.repeat
    res, t_whole = _best(lambda: unicity(df, 4, n_targets=n_targets, rng=seed), repeat)
    sizes = res.targets["anonymity_set_size"].to_numpy()
    index, t_build = _best(lambda: PointIndex.from_traces(df), repeat)
    again, t_question = _best(lambda: unicity(index, 4, n_targets=n_targets, rng=seed), repeat)
    assert np.array_equal(again.targets["anonymity_set_size"].to_numpy(), sizes)
    pts = res.points[["device_id", "x_km", "y_km", "time"]]
    index.count_matching(pts.iloc[:1])  # builds the coordinate -> point lookup, once
    counted, t_count = _best(lambda: index.count_matching(pts), repeat)
    assert np.array_equal(counted.reindex(res.targets["device_id"]).to_numpy(), sizes)
    print(
        f"  {label}: fewpoints whole call {t_whole:.2f} s (index {t_build:.2f} s); "
        f"on the index: unicity {t_question:.2f} s, count_matching {t_count:.2f} s",
        flush=True,
    )

    known = known_points(res)
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    con.execute("SET enable_progress_bar = false")
    con.register("df", df)
    _, t_load = _best(lambda: con.execute(LOAD), repeat)
    con.unregister("df")

    def query():
        con.register("known", known)
        out = con.execute(QUERY).fetchnumpy()
        con.unregister("known")
        return out

    out, t_query = _best(query, repeat)
    duck = np.zeros(len(sizes), dtype=np.int64)
    duck[out["target"].astype(np.int64)] = out["anonymity_set_size"]
    agree = bool(np.array_equal(duck, sizes))
    con.close()
    print(
        f"  {label}: DuckDB load {t_load:.2f} s, query {t_query:.2f} s; identical sets: {agree}",
        flush=True,
    )
    return {
        "table": label,
        "records": len(df),
        "index": repr(index),
        "unicity": res.value,
        "fewpoints_whole_call_seconds": t_whole,
        "fewpoints_index_build_seconds": t_build,
        "fewpoints_unicity_on_index_seconds": t_question,
        "fewpoints_count_matching_seconds": t_count,
        "duckdb_load_seconds": t_load,
        "duckdb_query_seconds": t_query,
        "whole_call_vs_load_and_query": (t_load + t_query) / t_whole,
        "question_vs_query": t_query / t_question,
        "count_matching_vs_query": t_query / t_count,
        "identical_sets": agree,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--city-parquet", default=None, help="city cdr traces (else generated)")
    ap.add_argument("--seed", type=int, default=5, help="city seed when generated; attack seed")
    ap.add_argument("--targets", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each step (fastest kept)")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    ap.add_argument("--memory-limit", default="8GB", help="DuckDB memory limit")
    ap.add_argument(
        "--tables", default="raw,hourly,2km-4h", help="comma-separated: raw, hourly, 2km-4h"
    )
    ap.add_argument("--out", default=str(HERE / "results" / "duckdb_city.json"))
    args = ap.parse_args(argv)
    try:
        import duckdb
    except ImportError:
        print("DuckDB is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    if args.city_parquet:
        city = pd.read_parquet(args.city_parquet, columns=["device_id", "time", "x_km", "y_km"])
        source = args.city_parquet
    else:
        city, _ = load_cdr("city", None, args.seed)
        source = f"make_world('city', rng={args.seed})"
    print(f"city: {len(city):,} records ({source})", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        makers = {
            "raw": lambda: city,
            "hourly": lambda: coarsen_time(city, time_bin="1h"),
            "2km-4h": lambda: coarsen_time(coarsen_space(city, cell_km=2.0), time_bin="4h"),
        }
        rows = []
        for name in args.tables.split(","):
            rows.append(compare(makers[name](), name, args, duckdb))
    report = {
        "command": "python benchmarks/bench_duckdb.py " + " ".join(argv or sys.argv[1:]),
        "machine": {
            **machine(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "duckdb": duckdb.__version__,
        },
        "source": source,
        "p": 4,
        "targets": args.targets,
        "duckdb_threads": args.threads,
        "rows": rows,
        "peak_memory_gb": peak_gb(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")

    print()
    print(
        f"{'table':<8} {'fp whole':>9} {'duck load+query':>16} {'x':>5}   "
        f"{'fp question':>11} {'duck query':>10} {'x':>5}   {'same':>5}"
    )
    for r in rows:
        duck_all = r["duckdb_load_seconds"] + r["duckdb_query_seconds"]
        print(
            f"{r['table']:<8} {r['fewpoints_whole_call_seconds']:>9.2f} {duck_all:>16.2f} "
            f"{r['whole_call_vs_load_and_query']:>5.1f}   "
            f"{r['fewpoints_unicity_on_index_seconds']:>11.2f} "
            f"{r['duckdb_query_seconds']:>10.2f} {r['question_vs_query']:>5.1f}   "
            f"{str(r['identical_sets']):>5}"
        )
    print("targets: whole call >= 2x DuckDB load + query; question >= 1x DuckDB query")
    print(f"peak memory {peak_gb():.1f} GB; JSON: {out}")
    return 0 if all(r["identical_sets"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
