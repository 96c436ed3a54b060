"""Time ``link_posts`` for every poster of the ``city`` world, and measure how many people get named.

    flock /tmp/fewpoints-heavy.lock .venv/bin/python benchmarks/bench_linkage.py            # city, seed 7
    .venv/bin/python benchmarks/bench_linkage.py --preset classroom --seed 2013             # quick

For each observation model of the world (cdr, pings):

1. ``link_posts`` with its default tolerances and ``n_points=3`` for every
   name in ``posts``: wall time (the target: under 30 s on 2 cores for city).
2. ``naming_curve`` for 1, 2, 3, 5 posts, ``link_directory`` with and without
   posts as a second clue, scored against the ground truth with
   ``linkage_score``; and the share of correctly named people whose trace
   shows at least one visit to a sensitive place (``sensitive_visits``).

Everything is synthetic. Results go to benchmarks/results/linkage.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import fewpoints
from _common import peak_gb, share
from fewpoints.attacks import sensitive_visits
from fewpoints.attacks.linkage import (
    link_directory,
    link_posts,
    linkage_score,
    naming_curve,
)

HERE = Path(__file__).resolve().parent


def _named_devices(links, people) -> set[str]:
    """Devices whose guessed name is right (ground truth; for scoring only)."""
    truth = set(zip(people["name"].astype(str), people["device_id"].astype(str), strict=True))
    if "rank" in links:
        best = links[links["rank"] == 1]
        pairs = zip(best["name"].astype(str), best["device_id"].astype(str), strict=True)
    else:
        one = links[links["anonymity_set_size"] == 1]
        pairs = zip(one["name"].astype(str), (ids[0] for ids in one["device_ids"]), strict=True)
    return {d for n, d in pairs if (n, d) in truth}


def _by_household(world, named: set[str]) -> dict:
    """Share of the listed adults named, by how many listed adults share their address."""
    listed = world.directory.reset_index().merge(
        world.people[["name", "home_place_id", "device_id"]],
        left_on=["name", "place_id"],
        right_on=["name", "home_place_id"],
    )
    listed = listed.drop_duplicates("index")  # a name twice at one address: one listing each
    size = listed.groupby("place_id")["name"].transform("size")
    group = size.clip(upper=3).map({1: "1", 2: "2", 3: "3+"})
    hit = listed["device_id"].astype(str).isin(named)
    return {g: share(int(hit[group == g].sum()), int((group == g).sum())) for g in ("1", "2", "3+")}


def step(text: str) -> None:
    print(f"{text}  [peak {peak_gb():.1f} GB]", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="city")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--observe", help="observation model(s), comma-separated (default: both)")
    parser.add_argument("--out", default=str(HERE / "results" / "linkage.json"))
    args = parser.parse_args()

    t0 = time.perf_counter()
    extra = {} if args.observe is None else {"observe": tuple(args.observe.split(","))}
    world = fewpoints.make_world(args.preset, rng=args.seed, **extra)
    world.stays = world.stays.iloc[:0]  # ground truth nobody here reads; frees memory
    gen_s = time.perf_counter() - t0
    people = world.people
    print(f"{args.preset} seed {args.seed}: generated in {gen_s:.0f} s; {world.summary()}")
    out = {
        "preset": args.preset,
        "seed": args.seed,
        "synthetic": True,
        "n_people": len(people),
        "n_posts": len(world.posts),
        "n_posters": int(world.posts["name"].nunique()),
        "n_directory": len(world.directory),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "models": {},
    }
    for model, traces in world.observations.items():
        res = {"records": len(traces)}
        t = time.perf_counter()
        links = link_posts(traces, world.posts, n_points=3)
        res["link_posts_seconds"] = time.perf_counter() - t
        res["link_posts_score"] = dataclasses.asdict(linkage_score(links, people))
        step(
            f"{model}: link_posts (3 posts, {len(links):,} names) {res['link_posts_seconds']:.1f} s"
        )
        named = {}

        t = time.perf_counter()
        curve = naming_curve(traces, world.posts, people, n_points_range=(1, 2, 3, 5))
        res["naming_curve_seconds"] = time.perf_counter() - t
        res["naming_curve"] = curve.to_dict("records")
        print(curve.round(4).to_string(index=False))

        step(f"{model}: naming curve")
        for label, posts in (("directory", None), ("directory + posts", world.posts)):
            t = time.perf_counter()
            d = link_directory(traces, world.directory, world.places, posts=posts)
            secs = time.perf_counter() - t
            score = linkage_score(d, people)
            res[label] = {
                "seconds": secs,
                "score": dataclasses.asdict(score),
                "named": share(score.n_correct, len(people)),
            }
            named[label] = _named_devices(d, people)
            res[label]["named_by_household"] = _by_household(world, named[label])
            step(f"{model}: {label} {secs:.1f} s {score}")
        named["posts"] = _named_devices(links, people)
        # Sensitive visits of the named devices (per device, so the subset is exact).
        everyone = set().union(*named.values())
        t = time.perf_counter()
        sub = traces[traces["device_id"].astype(str).isin(everyone).to_numpy()]
        sens = sensitive_visits(sub, world.places, antennas=world.antennas)
        res["sensitive_seconds"] = time.perf_counter() - t
        revealed = set(sens["device_id"].astype(str))
        for label, devices in named.items():
            key = "posts" if label == "posts" else label
            res.setdefault(key, {})["named_with_sensitive_visit"] = share(
                len(devices & revealed), len(devices)
            )
        step(f"{model}: sensitive visits of {len(everyone):,} named devices")
        out["models"][model] = res
    out["peak_gb"] = peak_gb()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(f"wrote {args.out}; peak memory {out['peak_gb']:.1f} GB")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
