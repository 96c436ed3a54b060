"""Time ``home_work`` and ``top_n_anonymity`` on the crowd world (1M devices).

    .venv/bin/python benchmarks/bench_top_locations.py                  # 1,000,000 devices (minutes)
    .venv/bin/python benchmarks/bench_top_locations.py --devices 20000  # a quick run

The world (preset ``crowd``, cdr) is generated in a child process and handed
over as .npy columns (the loader of ``bench_unicity.py``), so this process's
peak memory is the attack's own plus the data. Measured:

1. ``home_work(traces)`` from the table (hourly visits built inside).
2. ``top_n_anonymity(traces, n=3)`` from the table, at antenna level.
3. With the hourly visits built once (``HourlyVisits.from_traces``) and
   reused: home/work and top-1..3 anonymity at antenna level and in 0.5 km
   and 2 km cells.
4. A check: on ``--check-devices`` devices drawn at random, a plain pandas
   implementation of home and work (drop duplicate hours, count per place
   and window, take the largest) must give the same homes and works.

Results go to benchmarks/results/top_locations.json.
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

from _common import peak_gb
from bench_unicity import load_crowd
from fewpoints.attacks import HourlyVisits, home_work, home_work_anonymity, top_n_anonymity

HERE = Path(__file__).resolve().parent


def pandas_home_work(traces: pd.DataFrame) -> pd.DataFrame:
    """Home and work the straightforward pandas way (for checking, on a sample)."""
    df = traces[["device_id", "x_km", "y_km"]].copy()
    df["device_id"] = df["device_id"].astype(str)
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    df["hour"] = t // 3600
    df = df.drop_duplicates()
    hod = df["hour"] % 24
    weekday = (df["hour"] // 24 + 3) % 7
    night = df[(hod >= 22) | (hod < 6)]
    day = df[(weekday < 5) & (hod >= 9) & (hod < 17)]

    def best(frame, exclude=None):
        n = frame.groupby(["device_id", "x_km", "y_km"]).size().rename("n").reset_index()
        if exclude is not None:
            n = n.merge(exclude, on="device_id", how="left")
            n = n[~((n["x_km"] == n["hx"]) & (n["y_km"] == n["hy"]))]
        n = n.sort_values(["device_id", "n", "x_km", "y_km"], ascending=[True, False, True, True])
        return n.groupby("device_id").head(1).set_index("device_id")[["x_km", "y_km"]]

    home = best(night).rename(columns={"x_km": "hx", "y_km": "hy"})
    work = best(day, exclude=home.reset_index()).rename(columns={"x_km": "wx", "y_km": "wy"})
    return home.join(work, how="outer")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=1_000_000, help="people in the crowd world")
    ap.add_argument("--check-devices", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "results" / "top_locations.json"))
    args = ap.parse_args(argv)

    print(f"generating the crowd world ({args.devices:,} devices, cdr) ...", flush=True)
    traces, gen = load_crowd(args.devices, args.seed)
    n_rec = len(traces)
    print(f"  {n_rec:,} records in {gen['seconds']:.0f} s (child process)", flush=True)
    mem_data = peak_gb()
    timings = {}

    t0 = time.perf_counter()
    hw = home_work(traces)
    timings["home_work from traces"] = time.perf_counter() - t0
    print(f"  home_work: {timings['home_work from traces']:.1f} s", flush=True)

    t0 = time.perf_counter()
    top3 = top_n_anonymity(traces, n=3)
    timings["top_n_anonymity n=3 (antenna) from traces"] = time.perf_counter() - t0
    print(f"  top_n_anonymity n=3: {timings['top_n_anonymity n=3 (antenna) from traces']:.1f} s")
    mem_attack = peak_gb()

    t0 = time.perf_counter()
    visits = HourlyVisits.from_traces(traces)
    timings["HourlyVisits.from_traces"] = time.perf_counter() - t0
    print(f"  {visits} in {timings['HourlyVisits.from_traces']:.1f} s", flush=True)
    t0 = time.perf_counter()
    home_work(visits)
    timings["home_work from visits"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    top_n_anonymity(visits, n=3)
    timings["top_n_anonymity n=3 (antenna) from visits"] = time.perf_counter() - t0
    shared = (
        timings["HourlyVisits.from_traces"]
        + timings["home_work from visits"]
        + timings["top_n_anonymity n=3 (antenna) from visits"]
    )
    rows = []
    for g in ("antenna", 0.5, 2.0):
        t0 = time.perf_counter()
        for n in (1, 2, 3):
            rows.append(top_n_anonymity(visits, n=n, granularity=g).row())
        rows.append(home_work_anonymity(visits, granularity=g).row())
        timings[f"top-1..3 and home/work anonymity at {g} (visits reused)"] = (
            time.perf_counter() - t0
        )
    table = pd.DataFrame(rows)
    mem_all = peak_gb()

    # Check against plain pandas on a random sample of devices.
    rng = np.random.default_rng(args.seed)
    cats = traces["device_id"].cat.categories
    sample = rng.choice(len(cats), size=min(args.check_devices, len(cats)), replace=False)
    sub = traces[traces["device_id"].cat.codes.isin(sample)]
    ref = pandas_home_work(sub)
    mine = hw.assign(device_id=hw["device_id"].astype(str)).set_index("device_id").loc[ref.index]
    agree = bool(
        np.array_equal(mine["home_x_km"].to_numpy(), ref["hx"].to_numpy(), equal_nan=True)
        and np.array_equal(mine["home_y_km"].to_numpy(), ref["hy"].to_numpy(), equal_nan=True)
        and np.array_equal(mine["work_x_km"].to_numpy(), ref["wx"].to_numpy(), equal_nan=True)
        and np.array_equal(mine["work_y_km"].to_numpy(), ref["wy"].to_numpy(), equal_nan=True)
    )

    target = timings["home_work from traces"] + timings["top_n_anonymity n=3 (antenna) from traces"]
    report = {
        "command": "python benchmarks/bench_top_locations.py " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "cpus": mp.cpu_count(),
        },
        "world": {
            "preset": "crowd",
            "devices": visits.n_devices,
            "records": n_rec,
            "hourly_visits": len(visits.dev),
            "locations": visits.n_locations,
            "seed": args.seed,
            "generation_seconds_child": gen["seconds"],
        },
        "seconds": timings,
        "home_work_plus_top_n_seconds": target,
        "home_work_plus_top_n_sharing_visits_seconds": shared,
        "peak_memory_gb": {"data_loaded": mem_data, "attacks": mem_attack, "all": mem_all},
        "homes_found": int(hw["home_x_km"].notna().sum()),
        "works_found": int(hw["work_x_km"].notna().sum()),
        "top3_unique": top3.value,
        "anonymity": table.to_dict(orient="records"),
        "pandas_check": {"devices": len(ref), "agree_exactly": agree},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")

    print()
    print(
        f"crowd world: {visits.n_devices:,} devices, {n_rec:,} records, {len(visits.dev):,} visits"
    )
    print(f"{'step':<62} {'seconds':>8}")
    for k, v in timings.items():
        print(f"{k:<62} {v:>8.1f}")
    print(f"{'home_work + top_n_anonymity, each from the table':<62} {target:>8.1f}")
    print(f"{'home_work + top_n_anonymity sharing one HourlyVisits':<62} {shared:>8.1f}")
    print(f"peak memory: data {mem_data:.2f} GB, with attacks {mem_all:.2f} GB")
    print(f"pandas check on {len(ref):,} devices: agree exactly: {agree}")
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False))
    print(f"JSON: {out}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
