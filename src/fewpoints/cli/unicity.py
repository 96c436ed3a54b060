"""``fewpoints unicity``: the share of devices that p known points single out, in memory
or with the Dask engine, with the worst case beside it on request.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from fewpoints.cli import loader
from fewpoints.cli.errors import EXIT_OK
from fewpoints.cli.options import deprecated_alias, positive_float, positive_int, seed
from fewpoints.cli.progress import Progress
from fewpoints.schema import FewpointsError

MAX_POINTS = 50


def _points_spec(text: str) -> list[int]:
    """``4``, ``1-10``, ``1..10`` or ``1,2,4`` -> a sorted list of point counts."""
    values: set[int] = set()
    try:
        for part in text.replace(" ", "").split(","):
            sep = ".." if ".." in part else "-" if "-" in part[1:] else None
            if sep:
                lo, hi = (int(v) for v in part.split(sep, 1))
                if hi < lo:
                    raise ValueError
                values.update(range(lo, hi + 1))
            elif part:
                values.add(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number, a range like 1-10 or a list like 1,2,4; got {text!r}"
        ) from None
    if not values or min(values) < 1 or max(values) > MAX_POINTS:
        raise argparse.ArgumentTypeError(f"points must be between 1 and {MAX_POINTS}, got {text!r}")
    return sorted(values)


def _add_unicity(sub) -> None:
    from fewpoints.attacks.draws import KNOWLEDGE
    from fewpoints.synth.world import OBSERVATION_MODELS, PRESETS

    p = sub.add_parser(
        "unicity",
        help="how many devices a few known points single out",
        description=(
            "Estimate the share of devices that p known points (place and time) "
            "single out, with 95% confidence intervals. PATH_OR_PRESET is a traces "
            "file (CSV, CSV.gz or Parquet with device_id,time,x_km,y_km or "
            "device_id,time,lat,lon), a world folder written by 'fewpoints generate', "
            f"or a preset to generate now ({', '.join(PRESETS)})."
        ),
    )
    p.add_argument("source", metavar="PATH_OR_PRESET", help="traces file, world folder or preset")
    p.add_argument(
        "--points",
        type=_points_spec,
        default=_points_spec("1-10"),
        help="known points per target: a number, a range (1-10) or a list (1,2,4) (default: 1-10)",
    )
    p.add_argument(
        "--targets",
        type=positive_int,
        default=10_000,
        help="devices sampled as targets for each number of points (default: 10000)",
    )
    p.add_argument(
        "--cell-km",
        type=positive_float,
        help="first snap locations to square cells of this size (km)",
    )
    p.add_argument(
        "--time-bin", help="first floor times to bins of this length, e.g. 15min, 1h, 1D"
    )
    p.add_argument(
        "--knowledge",
        choices=KNOWLEDGE,
        default="random",
        help="what the attacker knows: random points, top places, or home and work (default: random)",
    )
    p.add_argument(
        "--worst-case",
        action="store_true",
        help=(
            "also show the worst case: the share of targets that some p of their own points "
            "single out (Pellungrini et al. 2017; at most 1000 targets per p)"
        ),
    )
    p.add_argument(
        "--observe",
        choices=OBSERVATION_MODELS,
        help="which traces of a world to use (default: the world's first)",
    )
    deprecated_alias(p, "--model", "--observe", choices=OBSERVATION_MODELS)
    p.add_argument(
        "--seed",
        type=seed,
        default=0,
        help="seed for sampling targets and points, and for generating a preset (default: 0)",
    )
    loader.add_reading(p)
    scale = p.add_argument_group(
        "data larger than memory",
        "Read a Parquet file, folder or world (fewpoints generate --parquet --chunk-people N) "
        "with Dask, partition by partition; the same seed gives the same targets, points and "
        "answers as the in-memory engine. Needs the 'scale' extra: pip install 'fewpoints[scale]'.",
    )
    scale.add_argument(
        "--engine",
        choices=("memory", "dask"),
        default="memory",
        help="memory: load and index the table (default); dask: stream it from Parquet",
    )
    scale.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    scale.add_argument(
        "--workers", type=positive_int, help="local cluster workers, one thread each (default: 2)"
    )
    scale.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="memory per local worker, e.g. 3GB (default: an equal share of the machine)",
    )


def _run_unicity(args) -> int:
    import warnings
    from pathlib import Path

    from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time
    from fewpoints.attacks import PointIndex, unicity, worst_case_risk
    from fewpoints.common import duration_seconds

    # Every option checked before any work (a preset can take minutes to generate).
    if args.time_bin is not None:
        duration_seconds(args.time_bin, "--time-bin")
    loader.check_model_of_preset(args.source, args.observe)
    loader.check_reading(args, Path(args.source).is_file())
    if args.engine == "dask":
        return _run_unicity_dask(args)
    for option in ("scheduler", "workers", "memory_limit"):
        if getattr(args, option) is not None:
            flag = "--" + option.replace("_", "-")
            raise FewpointsError(f"{flag} applies to --engine dask")
    traces, what, synthetic = loader.load_traces(
        args.source, observe=args.observe, seed=args.seed, reading=loader.reading(args)
    )
    steps = []
    if args.cell_km is not None:
        traces = coarsen_space(traces, cell_km=args.cell_km)
        steps.append(f"locations snapped to {args.cell_km:g} km cells")
    if args.time_bin is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", WeakTransformWarning)
            traces = coarsen_time(traces, time_bin=args.time_bin)
        for w in caught:
            print(f"fewpoints unicity: warning: {w.message}", file=sys.stderr)
        steps.append(f"times floored to {args.time_bin} bins")
    index = PointIndex.from_traces(traces)
    rng = np.random.default_rng(args.seed)
    results = [
        unicity(index, p, n_targets=args.targets, knowledge=args.knowledge, rng=rng)
        for p in args.points
    ]
    worst = None
    if args.worst_case:
        worst = [
            worst_case_risk(index, p, n_targets=min(args.targets, 1000), rng=rng)
            for p in args.points
        ]
    _print_unicity(
        results,
        worst,
        what=what,
        synthetic=synthetic,
        knowledge=args.knowledge,
        scope=(
            f"{index.n_records:,} records, {index.n_devices:,} devices, {index.n_points:,} distinct "
            f"points at {index.n_locations:,} locations; "
            + ("; ".join(steps) if steps else "resolution as recorded")
        ),
    )
    return EXIT_OK


def _run_unicity_dask(args) -> int:
    from pathlib import Path

    from fewpoints.scale import (
        coarsen_dask,
        connect,
        dask_unicity,
        read_traces_dask,
    )

    if args.knowledge != "random":
        raise FewpointsError("--engine dask measures random points only (--knowledge random)")
    if args.worst_case:
        raise FewpointsError("--worst-case needs the table in memory (--engine memory)")
    if not Path(args.source).exists():
        raise FewpointsError(
            f"{args.source}: no such file or folder; --engine dask reads Parquet "
            "(make one with 'fewpoints generate --parquet --chunk-people N')"
        )
    ddf = read_traces_dask(
        args.source,
        observe=args.observe,
        **(loader.reading(args) if Path(args.source).is_file() else {}),
    )
    ddf = coarsen_dask(ddf, cell_km=args.cell_km, time_bin=args.time_bin)
    steps = []
    if args.cell_km is not None:
        steps.append(f"locations snapped to {args.cell_km:g} km cells")
    if args.time_bin is not None:
        steps.append(f"times floored to {args.time_bin} bins")
    what, synthetic = f"{args.source}", False
    if (Path(args.source) / "world.json").is_file():
        from fewpoints.io import read_world_meta

        meta = read_world_meta(args.source)
        synthetic = meta.get("synthetic") is True
        params = meta.get("params", {})
        model = args.observe or (params.get("observe") or ["cdr"])[0]
        what = (
            f"world {args.source} (preset {params.get('preset', '?')}, seed "
            f"{params.get('seed', '?')}), {model} traces"
        )
    progress = Progress()
    try:
        with connect(
            scheduler=args.scheduler, workers=args.workers, memory_limit=args.memory_limit
        ) as client:
            where = (
                args.scheduler
                or f"a local cluster of {len(client.scheduler_info()['workers'])} workers"
            )
            results, counts = dask_unicity(
                ddf,
                args.points,
                n_targets=args.targets,
                knowledge="random",
                rng=np.random.default_rng(args.seed),
                progress=progress,
            )
    finally:
        progress.close()
    _print_unicity(
        results,
        None,
        what=f"{what}; {ddf.npartitions:,} partitions, Dask on {where}",
        synthetic=synthetic,
        knowledge="random",
        scope=(
            f"{counts.n_records:,} records, {counts.n_devices:,} devices; "
            + ("; ".join(steps) if steps else "resolution as recorded")
        ),
    )
    return EXIT_OK


def _print_unicity(results, worst, *, what, synthetic, knowledge, scope) -> None:
    label = "SYNTHETIC data (no real person is in it)" if synthetic else "your data"
    knows = {
        "random": "random points (place and time) of the target's own trace",
        "top": "the target's most frequent places, at any time",
        "home_work": "the target's night-time place, then weekday 09:00-17:00 place",
    }[knowledge]
    print(f"Unicity -- {label}: {what}")
    print(f"  {scope}")
    print(f"  the attacker knows p {knows}")
    print()
    head = f"  {'points':>6}  {'unique':>7}  {'95% CI':<17}  {'targets':>8}  {'median set':>10}"
    print(head + (f"  {'worst case':>10}" if worst else ""))
    for i, r in enumerate(results):
        ci = f"{r.ci_low:.1%} to {r.ci_high:.1%}"
        med = float(r.targets["anonymity_set_size"].median())
        line = f"  {r.n_points:>6}  {r.value:>7.1%}  {ci:<17}  {r.n_targets:>8,}  {med:>10,.0f}"
        print(line + (f"  {worst[i].value:>10.1%}" if worst else ""))
    print()
    print(
        "  unique: share of sampled targets whose p points match no other device's trace;"
        " median set: devices matching a target's points"
    )
    if worst:
        print(
            "  worst case: share of targets that their most identifying p points single out"
            " (what an informed attacker, not a random one, achieves)"
        )


#: The sub-command: (add its parser, run it).
COMMAND = (_add_unicity, _run_unicity)
