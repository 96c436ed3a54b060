"""Measure home/work inference and top-n anonymity on synthetic worlds, scored against their ground truth.

    .venv/bin/python benchmarks/measure_top_locations.py                       # classroom and city
    .venv/bin/python benchmarks/measure_top_locations.py --worlds classroom    # seconds

The attacks see only the released traces and the public map; the ground
truth (``people``, ``stays``) is read here, to score them, and nowhere else.
Prints markdown tables (the README's "Where you sleep and work") and writes
benchmarks/results/top_locations_measured.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import fewpoints
from _common import share
from fewpoints.attacks import anonymity_table, home_work, sensitive_visits

HERE = Path(__file__).resolve().parent
SEEDS = {"classroom": 2013, "city": 7}


def nearest(px, py, qx, qy, chunk=4096) -> np.ndarray:
    out = np.empty(len(px), dtype=np.int64)
    for s in range(0, len(px), chunk):
        d2 = (px[s : s + chunk, None] - qx[None]) ** 2 + (py[s : s + chunk, None] - qy[None]) ** 2
        out[s : s + chunk] = d2.argmin(axis=1)
    return out


def score_home_work(world, model: str, hw: pd.DataFrame) -> dict:
    """Inferred home (work) vs the true one: same antenna (cdr) or within 100 m (pings)."""
    places = world.places.set_index("place_id")
    people = world.people.set_index("device_id")
    truth = people.loc[hw["device_id"].astype(str)]
    out = {"devices": len(hw)}
    for what, col in (("home", "home_place_id"), ("work", "work_place_id")):
        has_truth = truth[col].notna().to_numpy()
        pid = truth[col].to_numpy()[has_truth].astype(np.int64)
        tx = places.loc[pid, "x_km"].to_numpy()
        ty = places.loc[pid, "y_km"].to_numpy()
        gx = hw[f"{what}_x_km"].to_numpy()[has_truth]
        gy = hw[f"{what}_y_km"].to_numpy()[has_truth]
        if model == "cdr":
            ax = world.antennas["x_km"].to_numpy()
            ay = world.antennas["y_km"].to_numpy()
            a = nearest(tx, ty, ax, ay)
            ok = (gx == ax[a]) & (gy == ay[a])
        else:
            ok = np.hypot(gx - tx, gy - ty) <= 0.1
        guessed = ~np.isnan(gx)
        out[what] = {
            "of_all": share(int(ok.sum()), int(has_truth.sum())),
            "of_guessed": share(int(ok.sum()), int(guessed.sum())),
        }
    return out


def score_visits(world, sv: pd.DataFrame) -> dict:
    truth = world.stays.merge(world.people[["person_id", "device_id"]]).merge(
        world.places.loc[world.places["sensitive"], ["place_id"]]
    )
    m = sv.merge(truth, on=["device_id", "place_id"], how="left", suffixes=("", "_true"))
    m["hit"] = (m["start_true"] <= m["end"]) & (m["end_true"] >= m["start"])
    hits = m.groupby(["device_id", "place_id", "start"])["hit"].any()
    people_with = truth["device_id"].nunique()
    found = sv.loc[sv.set_index(["device_id", "place_id", "start"]).index.isin(hits[hits].index)]
    return {
        "visits_reported": len(sv),
        "precision": share(int(hits.sum()), len(hits)),
        "people_with_a_true_sensitive_stay": int(people_with),
        "people_with_a_correct_visit_found": share(found["device_id"].nunique(), people_with),
    }


def fmt(s: dict) -> str:
    return f"{s['share']:.1%} ({s['ci_low']:.1%}-{s['ci_high']:.1%})"


def measure(preset: str, seed: int) -> dict:
    t0 = time.perf_counter()
    world = fewpoints.make_world(preset, rng=seed)
    gen = time.perf_counter() - t0
    print(f"{preset} (seed {seed}): generated in {gen:.0f} s", flush=True)
    out = {"preset": preset, "seed": seed, "people": len(world.people), "models": {}}
    for model, traces in world.observations.items():
        t0 = time.perf_counter()
        hw = home_work(traces)
        table = anonymity_table(traces, places=world.places)
        sv = sensitive_visits(traces, world.places, antennas=world.antennas)
        seconds = time.perf_counter() - t0
        out["models"][model] = {
            "attack_seconds": seconds,
            "home_work": score_home_work(world, model, hw),
            "anonymity": table.to_dict(orient="records"),
            "sensitive_visits": score_visits(world, sv),
        }
        r = out["models"][model]
        print(f"\n### {preset}, {model} ({seconds:.0f} s for the three attacks)")
        hwr = r["home_work"]
        print(
            f"home right: {fmt(hwr['home']['of_all'])} of all; {fmt(hwr['home']['of_guessed'])} of guessed;"
            f" work right: {fmt(hwr['work']['of_all'])} of workers/students;"
            f" {fmt(hwr['work']['of_guessed'])} of guessed"
        )
        print(
            "sensitive visits: precision",
            fmt(r["sensitive_visits"]["precision"]),
            "people found",
            fmt(r["sensitive_visits"]["people_with_a_correct_visit_found"]),
        )
        print()
        print(markdown(table))
    return out


def markdown(table: pd.DataFrame) -> str:
    """Measures as rows, granularities as columns: share unique (median set)."""
    t = table.copy()
    t["cell"] = [
        "n/a" if n == 0 else f"{s:.1%} ({m:,.0f})"
        for s, m, n in zip(t["share_unique"], t["median_set_size"], t["n_devices"], strict=True)
    ]
    wide = t.pivot(index="measure", columns="granularity", values="cell")
    wide = wide.loc[t["measure"].unique(), t["granularity"].unique()]
    head = "| measure | " + " | ".join(wide.columns) + " |"
    sep = "|---|" + "---|" * len(wide.columns)
    rows = ["| " + m + " | " + " | ".join(wide.loc[m]) + " |" for m in wide.index]
    return "\n".join([head, sep, *rows])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", nargs="+", default=["classroom", "city"])
    ap.add_argument("--out", default=str(HERE / "results" / "top_locations_measured.json"))
    args = ap.parse_args(argv)
    results = [measure(p, SEEDS.get(p, 1)) for p in args.worlds]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "command": "python benchmarks/measure_top_locations.py " + " ".join(argv or sys.argv[1:]),
        "synthetic": True,
        "worlds": results,
    }
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
