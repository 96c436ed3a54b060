"""Unicity as a region grows, on both axes, up to country scale: the measured scale table.

Usage (the shipped table; about 25 minutes on 2 cores, see benchmarks/README.md):

    flock /tmp/fewpoints-heavy.lock .venv/bin/python benchmarks/bench_population.py \\
        /work/data/h14-region10m --engine dask --workers 2 --memory-limit 3GB \\
        --table synthetic_data/population_scale.csv --model-table synthetic_data/population_model.csv

    .venv/bin/python benchmarks/bench_population.py --people 200000 --engine memory   # minutes

The first form reads a region world written in chunks (``fewpoints generate
--preset region --people 10000000 --parquet --chunk-people 250000 --no-stays``)
with the Dask engine; the second generates a region in memory. Either way the
attack runs in a child process whose whole process tree (the Dask workers
included) has its resident memory sampled every 0.2 s.

What it measures, in one run:

* unicity with p = 2, 3, 4, 5 random points (antenna x hour), for each size
  on both axes: random nested **subsets** of the region (a broker with a
  larger market share) and the region grown **town by town** from its
  south-west corner (a broker covering more of the country),
  ``fewpoints.attacks.population_table``;
* the three marginals of Farzanehfar et al. (2021) estimated from all the
  traces, and their model's unicity on the region's antenna network up to
  60 million people (``fit_marginals``, ``marginals_unicity``);
* time of every pass and the peak memory.

It writes ``--table`` (one row per axis, size and p: the measurements) and
``--model-table`` (the paper's model at each size), both tidy CSV with the
world, seed, command and version on every row, and
``benchmarks/results/population-<name>.json`` with everything else.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PeakSampler  # the /proc sampler of every benchmark

HERE = Path(__file__).resolve().parent
SIZES = (100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000)
MODEL_SIZES = (1e4, 1e5, 1e6, 1e7, 6e7)


def region_towns(path: Path):
    """``device_id``, ``town`` of every person of a Parquet region world, and the places map."""
    import numpy as np
    import pandas as pd
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    places = pq.read_table(path / "places.parquet", columns=["place_id", "kind", "x_km", "y_km", "town"]).to_pandas()  # fmt: skip
    people = ds.dataset(path / "people", format="parquet").to_table(
        columns=["device_id", "home_place_id"]
    )
    town_of = np.full(int(places["place_id"].max()) + 1, -1, dtype=np.int64)
    town_of[places["place_id"].to_numpy()] = places["town"].to_numpy()
    towns = pd.DataFrame(
        {
            "device_id": pd.array(people.column("device_id").combine_chunks(), dtype="str"),
            "town": town_of[people.column("home_place_id").to_numpy()],
        }
    )
    return towns, places


def child(args) -> dict:
    import numpy as np
    import pandas as pd

    import fewpoints
    from fewpoints.attacks.population import fit_marginals, marginals_unicity, population_table
    from fewpoints.synth.region import coverage_order, device_towns

    stages: dict[str, float] = {}
    last = [None]

    def progress(stage, fraction):
        if stage != last[0]:
            last[0] = stage
            stages[stage] = time.perf_counter()
            print(f"  [{time.perf_counter() - t0:7.1f} s] {stage}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    out: dict = {}
    if args.path is not None:
        meta = json.loads((args.path / "world.json").read_text())
        out["world_command"] = meta["command"]
        out["people"] = int(meta["params"]["n_people"])
        out["seed"] = int(meta["params"]["seed"])
        n_all = int(sum(meta["chunked"]["part_devices"]["traces_cdr"]))
        progress("reading towns", 0)
        towns, places = region_towns(args.path)
        import pyarrow.parquet as pq

        antennas = pq.read_table(args.path / "antennas.parquet").to_pandas()
    else:
        progress("generating the region", 0)
        world = fewpoints.make_world("region", rng=args.world_seed, n_people=args.people)
        out["world_command"] = world.metadata()["command"]
        out["people"], out["seed"] = args.people, args.world_seed
        towns, places, antennas = (
            device_towns(world.people, world.places),
            world.places,
            world.antennas,
        )
        traces = world.traces
        n_all = traces["device_id"].nunique()
        del world
    order = coverage_order(places)
    sizes = sorted({s for s in SIZES if s < n_all} | {n_all})
    kw = dict(
        n_points_range=(2, 3, 4, 5), axes=("subsets", "towns"), towns=towns, town_order=order,
        n_targets=args.targets, rng=args.seed, progress=progress,
    )  # fmt: skip
    if args.engine == "dask":
        from fewpoints.attacks.dask_engine import connect, read_traces_dask

        progress("starting the local cluster", 0)
        with connect(workers=args.workers, memory_limit=args.memory_limit):
            ddf = read_traces_dask(args.path)
            out["partitions"] = int(ddf.npartitions)
            measured = population_table(ddf, sizes, **kw)
            marginals = fit_marginals(ddf, progress=progress)
            progress("closing the cluster", 0)
    else:
        if args.path is not None:
            traces = fewpoints.read_world(args.path).traces
        progress("indexing and measuring", 0)
        measured = population_table(traces, sizes, **kw)
        progress("marginals", 0)
        marginals = fit_marginals(traces)
        del traces
    progress("the paper's model (60M)", 0)
    model = marginals_unicity(
        marginals, antennas, MODEL_SIZES, n_points_range=(2, 3, 4, 5), n_targets=args.targets,
        rng=args.seed + 1,
    )  # fmt: skip
    end = time.perf_counter()
    names = list(stages)
    out["stages"] = {
        k: (stages[names[i + 1]] if i + 1 < len(names) else end) - stages[k]
        for i, k in enumerate(names)
    }
    out["seconds"] = end - t0
    out["n_devices"] = int(n_all)
    out["n_towns"] = int(places["town"].max()) + 1
    out["n_antennas"] = len(antennas)
    out["table"] = measured.table.astype({"n_towns": float}).to_dict(orient="records")
    out["model"] = model.table.to_dict(orient="records")
    out["marginals"] = dataclasses.asdict(marginals.summary())
    out["marginals_arrays"] = {
        "frequency": marginals.frequency.tolist(),
        "activity_quantiles": {
            q: int(np.searchsorted(np.cumsum(marginals.activity), q))
            for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
        },
        "night_share": float(
            pd.Series(marginals.circadian)
            .groupby(np.arange(marginals.n_hours) % 24)
            .sum()
            .loc[[22, 23, 0, 1, 2, 3, 4, 5]]
            .sum()
        ),
    }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, nargs="?", help="a Parquet region world (written in chunks)")
    ap.add_argument("--people", type=int, default=200_000, help="without PATH: region to generate")
    ap.add_argument("--world-seed", type=int, default=2013, help="without PATH: its seed")
    ap.add_argument("--engine", choices=("dask", "memory"), default="dask")
    ap.add_argument("--targets", type=int, default=5_000, help="targets per axis, size and p")
    ap.add_argument("--seed", type=int, default=2013, help="seed of the attack")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--table", type=Path, help="write the measurements here (CSV)")
    ap.add_argument("--model-table", type=Path, help="write the paper's model here (CSV)")
    ap.add_argument("--name", help="results file suffix (default: the world folder's name)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        args.child.write_text(json.dumps(child(args)))
        return 0
    if args.path is None and args.engine == "dask":
        ap.error("the Dask engine reads a world folder: give PATH (or --engine memory)")

    argv = list(sys.argv[1:] if argv is None else argv)
    command = "python benchmarks/bench_population.py " + shlex.join(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        proc = subprocess.Popen([sys.executable, __file__, *argv, "--child", str(result)])
        with PeakSampler(proc.pid) as sampler:
            proc.wait()
        if proc.returncode != 0:
            sys.exit(f"the measuring process failed (exit {proc.returncode})")
        out = json.loads(result.read_text())
    out["peak_tree_bytes"] = sampler.peak
    out["command"] = command
    out["engine"] = args.engine
    out["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    out["when"] = time.strftime("%Y-%m-%d %H:%M")

    import pandas as pd

    import fewpoints
    from fewpoints.attacks.population import PopulationCurve

    world = f"region, {out['people']:,} people ({out['n_towns']:,} towns, {out['n_antennas']:,} antennas)"
    common = {
        "world": world,
        "world_command": out["world_command"],
        "world_seed": out["seed"],
        "attack_seed": args.seed,
        "engine": args.engine,
        "command": command,
        "version": fewpoints.__version__,
    }
    table = pd.DataFrame(out["table"]).assign(**common)
    table["n_towns"] = table["n_towns"].astype("Int64")
    model = pd.DataFrame(out["model"]).assign(
        model="marginals (Farzanehfar et al. 2021)", n_antennas=out["n_antennas"], **common
    )
    # The extrapolations the briefing draws, computed the way it computes them.
    extra = {}
    for p in (4, 5):
        rows = table[(table["axis"] == "subsets") & (table["n_points"] == p)]
        curve = PopulationCurve.from_table(rows, extrapolate_to=(6e7,), fit_from=1e6)
        at = curve.extrapolation.iloc[0]
        paper = model[(model["n_points"] == p) & (model["n_devices"] == 6e7)]["unicity"].iloc[0]
        extra[p] = {
            "measured_largest": float(rows["unicity"].iloc[-1]),
            "beta_60M": float(at["model"]),
            "lower_bound_60M": float(at["lower_bound"]),
            "paper_model_60M": float(paper),
            "fit": dataclasses.asdict(curve.fit),
        }
    out["extrapolation_60M"] = extra
    name = args.name or (args.path.name if args.path else f"region{args.people}")
    path = HERE / "results" / f"population-{name}.json"
    path.write_text(json.dumps(out, indent=2, default=float) + "\n")
    if args.table:
        table.to_csv(args.table, index=False, float_format="%.6g")
    if args.model_table:
        model.to_csv(args.model_table, index=False, float_format="%.6g")

    print(f"{world}: {out['n_devices']:,} devices, {out['seconds']:.0f} s, "
          f"peak memory {sampler.peak / 1e9:.2f} GB")  # fmt: skip
    for k, v in out["stages"].items():
        print(f"  {k:<32} {v:8.1f} s")
    wide = table.pivot_table(index=["axis", "n_devices"], columns="n_points", values="unicity")
    print((100 * wide).round(1).to_string())
    for p, e in extra.items():
        print(f"p = {p}: measured {e['measured_largest']:.1%} at {out['n_devices']:,}; at 60M: "
              f"Beta model {e['beta_60M']:.1%}, lower bound {e['lower_bound_60M']:.1%}, "
              f"paper's model {e['paper_model_60M']:.1%}")  # fmt: skip
    print(f"written {path}" + (f", {args.table}" if args.table else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
