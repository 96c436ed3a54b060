"""The ``fewpoints`` command line.

Every sub-command is a pair ``_add_<name>(subparsers)`` / ``_run_<name>(args) -> int``.
Every error ends with one line on stderr and exit status 2, never a traceback
nor a usage block: bad arguments, bad input files, an output that cannot be
written, a full disk, a closed pipe. Options are checked before any work
starts; Ctrl-C and SIGTERM stop the work and leave no output half-written.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence

import numpy as np

from fewpoints import __version__
from fewpoints.schema import FewpointsError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class Progress:
    """A small progress bar on stderr: redrawn in place on a terminal, a line per stage otherwise."""

    def __init__(self, stream=None, *, width: int = 28, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stage: str | None = None
        self._t0 = time.perf_counter()
        self._last_draw = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.perf_counter()
        if stage != self._stage:
            if self._stage is not None and self.tty:
                self.stream.write("\n")
            if not self.tty:
                self.stream.write(f"  {stage} ...\n")
                self.stream.flush()
            self._stage = stage
            self._last_draw = 0.0
        if self.tty and (now - self._last_draw > 0.1 or fraction >= 1.0):
            filled = int(round(fraction * self.width))
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r  {stage:<24} [{bar}] {fraction:4.0%}  {now - self._t0:5.1f} s")
            self.stream.flush()
            self._last_draw = now

    def close(self) -> None:
        if self.enabled and self.tty and self._stage is not None:
            self.stream.write("\n")
            self.stream.flush()


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {value}")
    return value


def _count(text: str) -> int:
    return _seed(text)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


# ---------------------------------------------------------------------------
# fewpoints generate
# ---------------------------------------------------------------------------


def _generate_world(preset: str, seed: int, progress: Progress, **overrides):
    """Resolve and check the parameters, refuse a world too big for free memory, then generate it."""
    from fewpoints.synth.world import check_memory, make_world, resolve_params

    params = resolve_params(preset, seed=seed, **overrides)
    check_memory(params)
    return make_world(params=params, progress=progress)


def _add_generate(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS, PRESETS

    p = sub.add_parser(
        "generate",
        help="generate a synthetic world and write its tables to a folder",
        description=(
            "Generate a fully synthetic city, its people, their movements and the "
            "phone records a data broker would hold, and write every table as "
            "gzip-compressed CSV (readable in a spreadsheet) plus world.json. "
            "With --parquet --chunk-people N, a world larger than memory is made "
            "N people at a time and written as a partitioned Parquet dataset "
            "(one file per chunk in traces_cdr/, people/, ...), for the Dask engine."
        ),
    )
    p.add_argument(
        "--preset",
        default="classroom",
        help=f"world size and realism settings: {', '.join(PRESETS)} (default: classroom)",
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="random seed; the same seed gives the same world (default: 0)",
    )
    p.add_argument(
        "--out", required=True, help="folder to write (refused if it exists and is not empty)"
    )
    p.add_argument("--days", type=_positive_int, help="override the number of days")
    p.add_argument("--people", type=_positive_int, help="override the number of people")
    p.add_argument(
        "--observe",
        help=f"observation model(s), comma-separated: {', '.join(OBSERVATION_MODELS)} (default: the preset's)",
    )
    p.add_argument(
        "--cdr-time-bin",
        metavar="BIN",
        help="release call-record times floored to this bin, e.g. 1h (as in 'Unique in the Crowd')",
    )
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument(
        "--parquet", action="store_true", help="also write Parquet files (needs pyarrow)"
    )
    p.add_argument(
        "--chunk-people",
        type=_positive_int,
        metavar="N",
        help="with --parquet: generate N people at a time and write Parquet only, one file "
        "per chunk, so the world may be larger than memory",
    )
    p.add_argument(
        "--no-stays",
        action="store_true",
        help="with --chunk-people: leave out the ground-truth stays (the largest table)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _world_files(params, *, parquet: bool, chunked: bool) -> list[str]:
    """The names a world folder of ``params`` has (to replace one written before manifests)."""
    per_chunk = ["people", "stays", "directory", "posts"]
    tables = ["places", "antennas", *per_chunk, *(f"traces_{m}" for m in params.observe)]
    if chunked:
        return ["places.parquet", "antennas.parquet", "world.json"] + [
            f"{t}/" for t in tables if t not in ("places", "antennas")
        ]
    return (
        [f"{t}.csv.gz" for t in tables]
        + ([f"{t}.parquet" for t in tables] if parquet else [])
        + ["world.json"]
    )


def _run_generate(args) -> int:
    from fewpoints.io import check_output_folder
    from fewpoints.synth.world import resolve_params

    if args.chunk_people is not None and not args.parquet:
        raise FewpointsError("--chunk-people writes a partitioned Parquet dataset; add --parquet")
    if args.no_stays and args.chunk_people is None:
        raise FewpointsError("--no-stays applies to a world written in chunks (--chunk-people)")
    overrides = {}
    if args.days is not None:
        overrides["days"] = args.days
    if args.people is not None:
        overrides["n_people"] = args.people
    if args.observe is not None:
        overrides["observe"] = tuple(m.strip() for m in args.observe.split(",") if m.strip())
    if args.cdr_time_bin is not None:
        overrides["cdr_time_bin"] = args.cdr_time_bin
    # Refuse before doing any work, so a long run never ends in "folder exists".
    params = resolve_params(args.preset, seed=args.seed, **overrides)
    files = _world_files(params, parquet=args.parquet, chunked=args.chunk_people is not None)
    out = check_output_folder(args.out, force=args.force, expect=files)
    if args.chunk_people is not None:
        return _generate_chunked(args, out, overrides)
    progress = Progress(enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        world = _generate_world(args.preset, args.seed, progress, **overrides)
        progress("writing files", 0.0)
        written = world.write(out, force=args.force, parquet=args.parquet, progress=progress)
    finally:
        progress.close()
    elapsed = time.perf_counter() - t0
    print(world.summary())
    print(f"\nwrote {len(written)} files to {out}/ in {elapsed:.1f} s:")
    for f in written:
        print(f"  {f.name:<24} {_human_bytes(f.stat().st_size):>10}")
    return EXIT_OK


def _generate_chunked(args, out, overrides) -> int:
    """``generate --parquet --chunk-people N``: a partitioned Parquet world, one chunk at a time."""
    from fewpoints.synth.chunked import write_world_chunked
    from fewpoints.synth.world import resolve_params

    params = resolve_params(args.preset, seed=args.seed, **overrides)
    progress = Progress(enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        world = write_world_chunked(
            params,
            out,
            chunk_people=args.chunk_people,
            stays=not args.no_stays,
            force=args.force,
            progress=progress,
        )
    finally:
        progress.close()
    elapsed = time.perf_counter() - t0
    chunks = world.metadata["chunked"]["n_chunks"]
    print(world.summary)
    print(
        f"\nwrote {chunks:,} chunks of up to {args.chunk_people:,} people to {out}/ in {elapsed:.1f} s:"
    )
    from fewpoints.io import MANIFEST

    for f in sorted(p for p in out.iterdir() if p.name != MANIFEST):
        files = sorted(f.glob("*.parquet")) if f.is_dir() else [f]
        size = sum(g.stat().st_size for g in files)
        what = f"{f.name}/" if f.is_dir() else f.name
        print(
            f"  {what:<24} {_human_bytes(size):>10}"
            + (f"  ({len(files):,} parts)" if f.is_dir() else "")
        )
    return EXIT_OK


# ---------------------------------------------------------------------------
# fewpoints unicity
# ---------------------------------------------------------------------------

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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _add_unicity(sub) -> None:
    from fewpoints.attacks.draws import KNOWLEDGE
    from fewpoints.synth.world import OBSERVATION_MODELS, PRESETS

    p = sub.add_parser(
        "unicity",
        help="how many devices a few known points single out",
        description=(
            "Estimate the share of devices that p known points (place and time) "
            "single out, with 95%% confidence intervals. PATH_OR_PRESET is a traces "
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
        type=_positive_int,
        default=10_000,
        help="devices sampled as targets for each number of points (default: 10000)",
    )
    p.add_argument(
        "--cell-km",
        type=_positive_float,
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
        "--model",
        choices=OBSERVATION_MODELS,
        help="which traces of a world to use (default: the world's first)",
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seed for sampling targets and points, and for generating a preset (default: 0)",
    )
    _add_reading(p)
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
        "--workers", type=_positive_int, help="local cluster workers, one thread each (default: 2)"
    )
    scale.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="memory per local worker, e.g. 3GB (default: an equal share of the machine)",
    )


def _add_reading(p) -> None:
    """Options that say how to read a traces file (the reader's rules: fewpoints.io.read_traces)."""
    g = p.add_argument_group(
        "reading a traces file",
        "Columns are recognised by the names brokers and researchers ship (device_id, maid, "
        "ad_id, advertiser_id, idfa, gaid, user_id; time, timestamp, datetime, utc_timestamp; "
        "lat/latitude, lon/lng/longitude, projected to km once for the whole file; "
        "horizontal_accuracy, accuracy), or as --columns maps them. Times are read by one rule "
        "for the whole column: ISO 8601 (with a UTC offset, converted to the local time zone, "
        "or without, taken as written), Unix seconds or milliseconds (UTC, converted), or "
        "day/month/year when the dates show which comes first. Device IDs are read as text.",
    )
    g.add_argument(
        "--columns",
        metavar="MAP",
        help="which column is which, for names not recognised, e.g. "
        "device_id=maid,time=ts,lat=y,lon=x,accuracy_m=acc",
    )
    g.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the local time zone (an IANA name such as America/Chicago): Unix times and times "
        "with a UTC offset are read as local times there, which decides what is night and "
        "what is a working day (default: UTC)",
    )
    g.add_argument(
        "--time-unit",
        choices=("s", "ms"),
        help="times are Unix seconds or milliseconds (needed only when the values do not tell)",
    )
    order = g.add_mutually_exclusive_group()
    order.add_argument(
        "--day-first",
        dest="dayfirst",
        action="store_const",
        const=True,
        help="dates like 05/03/2026 are day/month/year (5 March)",
    )
    order.add_argument(
        "--month-first",
        dest="dayfirst",
        action="store_const",
        const=False,
        help="dates like 05/03/2026 are month/day/year (3 May)",
    )


def _reading(args) -> dict:
    from fewpoints.io import column_map

    return {
        "time_unit": args.time_unit,
        "dayfirst": args.dayfirst,
        "timezone": args.timezone or "UTC",
        "columns": column_map(args.columns),
    }


def _check_reading(args, is_file: bool) -> None:
    from fewpoints.io import column_map

    if not is_file:
        for flag, value in (
            ("--time-unit", args.time_unit),
            ("--day-first", args.dayfirst),
            ("--columns", args.columns),
            ("--timezone", args.timezone),
        ):
            if value is not None:
                flag = "--month-first" if value is False else flag
                raise FewpointsError(f"{flag} applies to a traces file, not to a world or preset")
    column_map(args.columns)  # a bad map is refused before anything is read


def _check_model_of_preset(source: str, model: str | None, option: str = "--model") -> None:
    """Refuse, before generating, a model the preset does not observe."""
    from pathlib import Path

    from fewpoints.synth.world import PRESETS

    if model is None or Path(source).exists() or source not in PRESETS:
        return
    observe = PRESETS[source].observe
    if model not in observe:
        raise FewpointsError(
            f"{option} {model}: preset {source} observes {', '.join(observe)} only"
        )


def _load_traces(source: str, *, model: str | None, seed: int, reading: dict | None = None):
    """Traces and a description line for a file, a world folder or a preset."""
    from pathlib import Path

    from fewpoints.io import read_traces
    from fewpoints.synth.world import PRESETS, read_world

    path = Path(source)
    if path.is_dir():
        world = read_world(path)
        p = world.params
        what = f"world {path} (preset {p.preset}, seed {p.seed})"
    elif path.exists():
        if model is not None:
            raise FewpointsError("--model applies to a world folder or a preset, not to a file")
        return read_traces(path, **(reading or {})), f"file {path}", False
    elif source in PRESETS:
        progress = Progress()
        try:
            world = _generate_world(source, seed, progress)
        finally:
            progress.close()
        what = f"preset {source}, seed {seed}"
    else:
        raise FewpointsError(
            f"{source}: no such file, folder or preset (presets: {', '.join(PRESETS)})"
        )
    if model is None:
        model = next(iter(world.observations))
    if model not in world.observations:
        raise FewpointsError(
            f"this world has no {model} traces; it has {', '.join(world.observations)}"
        )
    return world.observations[model], f"{what}, {model} traces", True


def _run_unicity(args) -> int:
    import warnings
    from pathlib import Path

    from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time
    from fewpoints.attacks import PointIndex, unicity, worst_case_risk
    from fewpoints.common import duration_seconds

    # Every option checked before any work (a preset can take minutes to generate).
    if args.time_bin is not None:
        duration_seconds(args.time_bin, "--time-bin")
    _check_model_of_preset(args.source, args.model)
    _check_reading(args, Path(args.source).is_file())
    if args.engine == "dask":
        return _run_unicity_dask(args)
    for option in ("scheduler", "workers", "memory_limit"):
        if getattr(args, option) is not None:
            flag = "--" + option.replace("_", "-")
            raise FewpointsError(f"{flag} applies to --engine dask")
    traces, what, synthetic = _load_traces(
        args.source, model=args.model, seed=args.seed, reading=_reading(args)
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

    from fewpoints.attacks.dask_engine import (
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
        args.source, model=args.model, **(_reading(args) if Path(args.source).is_file() else {})
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
        model = args.model or (params.get("observe") or ["cdr"])[0]
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


# ---------------------------------------------------------------------------
# fewpoints anonymize
# ---------------------------------------------------------------------------

#: The steps of ``fewpoints anonymize``, in the order they are applied.
ANONYMIZE_ORDER = (
    "merge-antennas",
    "noise",
    "geo-ind",
    "coarsen-space",
    "coarsen-time",
    "subsample",
    "rotate",
    "suppress-rare",
)


def _length_km(text: str, option: str, default_unit: str) -> float:
    """``1km``, ``500m`` or a bare number in ``default_unit`` -> kilometres (positive)."""
    import re

    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(km|m)?\s*", str(text))
    try:
        value = float(m.group(1)) if m else float("nan")
    except ValueError:
        value = float("nan")
    if m is None or not np.isfinite(value):
        raise FewpointsError(f"--{option}: expected a length like 500m or 1km, got {text!r}")
    if value <= 0:
        raise FewpointsError(f"--{option}: must be positive, got {text!r}")
    unit = m.group(2) or default_unit
    return value if unit == "km" else value / 1000.0


def _add_anonymize(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS

    p = sub.add_parser(
        "anonymize",
        help="apply common anonymizations to traces and show how little unicity moves",
        description=(
            "Apply the chosen transforms to the traces of a world folder (or a traces "
            "file), write the result in the same format, and print the share of devices "
            "that 4 known points single out before and after. Steps run in this fixed "
            "order: " + ", ".join(ANONYMIZE_ORDER) + ". A world folder in gives a world "
            "folder out with the transformed traces and the public tables (places, "
            "antennas, directory, posts), never the ground truth."
        ),
    )
    p.add_argument(
        "source", metavar="IN", help="world folder or traces file (CSV, CSV.gz, Parquet)"
    )
    p.add_argument("--out", required=True, help="output folder (world in) or file (file in)")
    p.add_argument("--merge-antennas", metavar="V", help="merge about V neighbouring antennas")
    p.add_argument(
        "--noise", metavar="SIGMA", help="Gaussian noise per axis, e.g. 100m (default unit m)"
    )
    p.add_argument("--geo-ind", metavar="EPS", help="planar Laplace noise, epsilon per km")
    p.add_argument(
        "--coarsen-space", metavar="SIZE", help="square cells, e.g. 1km (default unit km)"
    )
    p.add_argument("--coarsen-time", metavar="BIN", help="time bins, e.g. 4h, 1D")
    p.add_argument("--subsample", metavar="SHARE", help="keep this share of records, in (0, 1]")
    p.add_argument("--rotate", metavar="PERIOD", help="new random device IDs every period, e.g. 1D")
    p.add_argument("--suppress-rare", metavar="K", help="drop points fewer than K devices share")
    p.add_argument(
        "--model",
        choices=OBSERVATION_MODELS,
        help="with a world folder: transform only these traces (default: every model)",
    )
    p.add_argument(
        "--targets",
        type=_positive_int,
        default=10_000,
        help="devices sampled to measure unicity before and after (default: 10000)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed for every random step (default: 0)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the output if it exists (a folder: only what fewpoints wrote there)",
    )
    _add_reading(p)


def _anonymize_steps(args) -> list[tuple[str, object, str]]:
    """Check every option before any work: (step, callable traces -> traces, description)."""
    from functools import partial

    from fewpoints import anonymize as A
    from fewpoints.common import check_share, duration_seconds, within_earth

    def number(text, option, *, kind=float):
        try:
            return kind(text)
        except ValueError:
            raise FewpointsError(f"--{option}: expected a number, got {text!r}") from None

    rng = np.random.default_rng(args.seed)
    steps = {}
    if args.merge_antennas is not None:
        v = number(args.merge_antennas, "merge-antennas")
        if not (np.isfinite(v) and v >= 1):
            raise FewpointsError(
                f"--merge-antennas: must be at least 1, got {args.merge_antennas!r}"
            )
        steps["merge-antennas"] = (v, f"about {v:g} neighbouring antennas merged")
    if args.noise is not None:
        km = _length_km(args.noise, "noise", "m")
        within_earth(km, f"--noise {args.noise}", "a standard deviation of")
        steps["noise"] = (km * 1000.0, f"Gaussian noise of {km * 1000:g} m per axis")
    if args.geo_ind is not None:
        eps = number(args.geo_ind, "geo-ind")
        if not (np.isfinite(eps) and eps > 0):
            raise FewpointsError(f"--geo-ind: epsilon must be positive, got {args.geo_ind!r}")
        within_earth(2.0 / eps, f"--geo-ind {args.geo_ind}", "a mean displacement of")
        steps["geo-ind"] = (eps, f"planar Laplace noise, epsilon {eps:g} per km")
    if args.coarsen_space is not None:
        km = _length_km(args.coarsen_space, "coarsen-space", "km")
        steps["coarsen-space"] = (km, f"locations snapped to {km:g} km cells")
    if args.coarsen_time is not None:
        duration_seconds(args.coarsen_time, "--coarsen-time")
        steps["coarsen-time"] = (args.coarsen_time, f"times floored to {args.coarsen_time} bins")
    if args.subsample is not None:
        keep = check_share(number(args.subsample, "subsample"), "--subsample")
        steps["subsample"] = (keep, f"{keep:.0%} of records kept at random")
    if args.rotate is not None:
        duration_seconds(args.rotate, "--rotate")
        steps["rotate"] = (args.rotate, f"device IDs replaced, a new one every {args.rotate}")
    if args.suppress_rare is not None:
        k = number(args.suppress_rare, "suppress-rare", kind=int)
        if k < 1:
            raise FewpointsError(f"--suppress-rare: must be at least 1, got {args.suppress_rare!r}")
        steps["suppress-rare"] = (k, f"points shared by fewer than {k} devices dropped")
    if not steps:
        raise FewpointsError(
            "no anonymization chosen; give at least one of --" + ", --".join(ANONYMIZE_ORDER)
        )
    make = {
        "merge-antennas": lambda v, antennas: partial(
            A.merge_antennas, antennas=antennas, v=v, rng=rng
        ),
        "noise": lambda s, _: partial(A.add_noise, sigma_m=s, rng=rng),
        "geo-ind": lambda e, _: partial(A.geo_indistinguishable, epsilon_per_km=e, rng=rng),
        "coarsen-space": lambda c, _: partial(A.coarsen_space, cell_km=c),
        "coarsen-time": lambda b, _: partial(A.coarsen_time, time_bin=b),
        "subsample": lambda k, _: partial(A.subsample, keep=k, rng=rng),
        "rotate": lambda r, _: partial(A.pseudonymize, rotate=r, rng=rng),
        "suppress-rare": lambda k, _: partial(A.suppress_rare, k=k),
    }
    return [(name, make[name], *steps[name]) for name in ANONYMIZE_ORDER if name in steps]


def _unicity_line(traces, n_targets: int, seed: int) -> str:
    from fewpoints.attacks import unicity

    try:
        r = unicity(traces, 4, n_targets=n_targets, rng=seed)
    except FewpointsError:
        return "no device has 4 distinct points left"
    n_dev = traces["device_id"].nunique()
    return (
        f"{r.value:6.1%}  (95% CI {r.ci_low:.1%} to {r.ci_high:.1%}; {r.n_targets:,} targets, "
        f"{n_dev:,} devices, {len(traces):,} records)"
    )


def _run_anonymize(args) -> int:
    import warnings
    from pathlib import Path

    from fewpoints.anonymize import WeakTransformWarning
    from fewpoints.io import (
        check_output_file,
        check_output_folder,
        output_format,
        read_traces,
        read_world_tables,
        write_traces,
        write_world_tables,
    )

    steps = _anonymize_steps(args)
    src, out = Path(args.source), Path(args.out)
    if not src.exists():
        raise FewpointsError(f"{src}: no such file or folder")
    if out.resolve() == src.resolve():
        raise FewpointsError("--out must differ from the input")
    _check_reading(args, src.is_file())
    names = {step[0] for step in steps}
    if "merge-antennas" in names and src.is_file():
        raise FewpointsError("--merge-antennas needs the antenna map: give a world folder")
    # The output is checked before anything is read or transformed.
    if src.is_dir():
        check_output_folder(out, force=args.force)
    else:
        output_format(out)
        check_output_file(out, force=args.force)
    if src.is_dir():
        tables, meta = read_world_tables(src)
        models = [n for n in tables if n.startswith("traces_")]
        if args.model is not None:
            if f"traces_{args.model}" not in tables:
                raise FewpointsError(f"this world has no {args.model} traces")
            models = [f"traces_{args.model}"]
        antennas = tables.get("antennas")
        synthetic = bool(meta.get("synthetic"))
        what = f"world {src}"
        public = [n for n in ("places", "antennas", "directory", "posts") if n in tables]
        files = [f"{n}.csv.gz" for n in public + models] + ["world.json"]
        check_output_folder(out, force=args.force, expect=files)
    else:
        if args.model is not None:
            raise FewpointsError("--model applies to a world folder, not to a file")
        traces = read_traces(src, **_reading(args))
        tables, models, antennas, synthetic = {"traces": traces}, ["traces"], None, False
        what = f"file {src}"

    released = {}
    for name in models:
        traces = tables[name]
        for step, make, value, _ in steps:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", WeakTransformWarning)
                try:
                    traces = make(value, antennas)(traces)
                except FewpointsError as exc:
                    raise FewpointsError(f"{name}, --{step}: {exc}") from None
            for w in caught:
                print(f"fewpoints anonymize: warning: --{step}: {w.message}", file=sys.stderr)
        released[name] = traces

    # Write everything to a temporary path beside the output, then rename: never partial output.
    if src.is_dir():
        public = {n: tables[n] for n in ("places", "antennas", "directory", "posts") if n in tables}
        new_tables = {**public, **released}
        meta = dict(meta)
        meta["tables"] = {n: len(df) for n, df in new_tables.items()}
        meta["anonymized"] = {
            "from": str(src),
            "steps": [desc for *_, desc in steps],
            "order": list(ANONYMIZE_ORDER),
            "seed": args.seed,
            "ground_truth_removed": ["people", "stays"],
        }
        write_world_tables(new_tables, meta, out, force=args.force)
    else:
        # In the format the output's name says (checked above), whatever the input's was.
        write_traces(released["traces"], out, force=args.force)

    label = "SYNTHETIC data (no real person is in it)" if synthetic else "your data"
    print(f"Anonymize -- {label}: {what} -> {out}")
    print("  steps, in order:")
    for *_, desc in steps:
        print(f"    {desc}")
    print()
    print("  unique from 4 known points (place and time, drawn from each released trace):")
    for name in models:
        before = _unicity_line(tables[name], args.targets, args.seed)
        after = _unicity_line(released[name], args.targets, args.seed)
        tag = "" if name == "traces" else f"{name.removeprefix('traces_')}: "
        print(f"    {tag}before {before}")
        print(f"    {tag}after  {after}")
    if "rotate" in names:
        print("  after rotation each piece of a trace (one ID) counts as a device")
    return EXIT_OK


# ---------------------------------------------------------------------------
# fewpoints briefing
# ---------------------------------------------------------------------------


def _add_briefing(sub) -> None:
    from fewpoints.synth.world import PRESETS

    p = sub.add_parser(
        "briefing",
        help="write the briefing pack: figures (PNG, SVG, PDF), captions, briefing.pdf and .html",
        description=(
            "Generate a synthetic world, run each briefing analysis on it, and write every "
            "figure as PNG (300 dpi), SVG and PDF, captions.md (captions and alt text), "
            "results.json (the numbers stated), a printable tagged briefing.pdf and the same "
            "briefing as one accessible web page, briefing.html. The same seed gives the same "
            "figures."
        ),
    )
    p.add_argument(
        "--out",
        required=True,
        help="folder to write (refused if not empty; --force replaces what fewpoints wrote)",
    )
    p.add_argument(
        "--preset",
        default="city",
        help=f"world to generate: {', '.join(PRESETS)} (default: city)",
    )
    p.add_argument(
        "--seed", type=_seed, default=0, help="seed of the world and the analyses (default: 0)"
    )
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _run_briefing(args) -> int:
    from pathlib import Path

    from fewpoints.briefing import (
        HEADLINES,
        RECIPES,
        build_briefing,
        pack_files,
        pdf_renderer,
        write_briefing,
    )
    from fewpoints.io import check_output_folder
    from fewpoints.synth.world import resolve_params

    resolve_params(args.preset, seed=args.seed)
    # Refuse before doing any work, so a long run never ends in "folder exists".
    out = check_output_folder(Path(args.out), force=args.force, expect=pack_files())
    pdf_renderer()  # a missing PDF library is said before the world is generated
    progress = Progress(enabled=not args.quiet)
    t0 = time.perf_counter()
    skipped = [r.name for r in RECIPES if not r.available()]
    try:
        world = _generate_world(args.preset, args.seed, progress, observe=("cdr", "pings"))
        t_world = time.perf_counter() - t0
        figs = build_briefing(world, seed=args.seed, progress=progress)
        command = f"fewpoints briefing --preset {args.preset} --seed {args.seed} --out {out}"
        t1 = time.perf_counter()
        written = write_briefing(figs, out, force=args.force, command=command, progress=progress)
        t_write = time.perf_counter() - t1
    finally:
        progress.close()
    print(
        f"Briefing -- SYNTHETIC data (preset {args.preset}, seed {args.seed}): "
        f"{len(figs)} figures, {len(written)} files in {out}/ ({time.perf_counter() - t0:.0f} s)"
    )
    print(f"  read first: {out / 'briefing.pdf'}   on screen: {out / 'briefing.html'}")
    print(f"  captions and alt text: {out / 'captions.md'}   numbers: {out / 'results.json'}")
    if skipped:
        print(f"  not in this build yet: {', '.join(skipped)}")
    print(
        f"  world {t_world:.0f} s; analyses: "
        + ", ".join(f"{f.name.split('-', 1)[1]} {f.seconds:.0f} s" for f in figs)
        + f"; writing {t_write:.0f} s"
    )
    by_name = {f.name.split("-", 1)[1]: f for f in figs}
    shown = [by_name[n] for n in HEADLINES if n in by_name][:3]
    print("  headline numbers (synthetic data):")
    for f in shown:
        print(f"    - {f.headline}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# fewpoints link
# ---------------------------------------------------------------------------


def _load_world(source: str, *, seed: int, what: str):
    """A world from a folder written by 'fewpoints generate', or a preset generated now."""
    from pathlib import Path

    from fewpoints.synth.world import PRESETS, read_world

    path = Path(source)
    if path.is_dir():
        world = read_world(path)
        p = world.params
        return world, f"world {path} (preset {p.preset}, seed {p.seed})"
    if source in PRESETS:
        progress = Progress()
        try:
            world = _generate_world(source, seed, progress)
        finally:
            progress.close()
        return world, f"preset {source}, seed {seed}"
    if path.exists():
        raise FewpointsError(
            f"{source} is a file; {what} needs a world folder (traces, places, directory, posts)"
        )
    raise FewpointsError(
        f"{source}: no such world folder or preset (presets: {', '.join(PRESETS)})"
    )


def _world_traces(world, model: str | None):
    if model is None:
        model = next(iter(world.observations))
    if model not in world.observations:
        raise FewpointsError(
            f"this world has no {model} traces; it has {', '.join(world.observations)}"
        )
    return world.observations[model], model


def _share(value: float) -> str:
    """A share as a percentage, or "n/a" where there was nothing to divide by."""
    return "n/a" if not np.isfinite(value) else f"{value:.1%}"


def _add_link(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS

    p = sub.add_parser(
        "link",
        help="name pseudonymous devices with a public directory and geotagged posts",
        description=(
            "Link the devices of a synthetic world to names: by matching each device's "
            "inferred home to the public directory, and by finding the devices that were "
            "near a person's first geotagged posts. Scored against the world's ground truth, "
            "which the attacks never read. WORLD is a folder written by 'fewpoints generate' "
            "or a preset to generate now."
        ),
    )
    p.add_argument("world", metavar="WORLD", help="world folder or preset")
    p.add_argument(
        "--posts",
        type=_positive_int,
        default=3,
        help="posts known per person: each name's first N (default: 3)",
    )
    p.add_argument(
        "--observe",
        choices=OBSERVATION_MODELS,
        help="which traces of the world to attack (default: the world's first)",
    )
    p.add_argument(
        "--max-km",
        type=_positive_float,
        help="how far a record may be from a post (default: 2 for cdr, via the serving antenna; 0.05 for pings)",
    )
    p.add_argument(
        "--max-minutes",
        type=_positive_float,
        help="how long before or after a post a record may be (default: 240)",
    )
    p.add_argument("--examples", type=_count, default=5, help="example rows shown (default: 5)")
    p.add_argument(
        "--seed", type=_seed, default=0, help="seed when generating a preset (default: 0)"
    )


def _run_link(args) -> int:
    from fewpoints.attacks.linkage import (
        POST_TOLERANCES,
        link_directory,
        link_posts,
        linkage_score,
        naming_curve,
    )

    _check_model_of_preset(args.world, args.observe, "--observe")
    world, what = _load_world(args.world, seed=args.seed, what="link")
    if len(world.people) == 0:
        raise FewpointsError(
            f"{args.world} has no ground truth (people): it is a released world, and link scores "
            "its guesses against the truth; run it on the world the release was made from"
        )
    if len(world.directory) == 0 and len(world.posts) == 0:
        raise FewpointsError("this world has no directory and no posts: nothing to link with")
    most = int(world.posts.groupby("name").size().max()) if len(world.posts) else 0
    if len(world.posts) and args.posts > most:
        raise FewpointsError(
            f"--posts {args.posts}: nobody in this world has that many posts (the most is {most:,})"
        )
    traces, model = _world_traces(world, args.observe)
    kind = "cdr" if "antenna_id" in traces.columns else "pings"
    km = args.max_km if args.max_km is not None else POST_TOLERANCES[kind][0]
    minutes = args.max_minutes if args.max_minutes is not None else POST_TOLERANCES[kind][1]
    progress = Progress()
    try:
        progress("linking the directory", 0.0)
        book = (
            link_directory(traces, world.directory, world.places, posts=world.posts)
            if len(world.directory)
            else None
        )
        progress("linking the directory", 1.0)
        progress("linking the posts", 0.0)
        posts = curve = None
        if len(world.posts):
            posts = link_posts(
                traces, world.posts, max_km=km, max_minutes=minutes, n_posts=args.posts
            )
            ns = sorted(n for n in {1, 2, 3, 5, args.posts} if n <= most)
            curve = naming_curve(
                traces, world.posts, world.people, n_posts=ns, max_km=km, max_minutes=minutes
            )
        progress("linking the posts", 1.0)
    finally:
        progress.close()

    n_people = len(world.people)
    truth = set(
        zip(world.people["name"].astype(str), world.people["device_id"].astype(str), strict=True)
    )

    def check(name, device) -> str:
        return "right" if (str(name), str(device)) in truth else "wrong"

    print(f"Linkage -- SYNTHETIC data (no real person is in it): {what}, {model} traces")
    print(
        f"  {traces['device_id'].nunique():,} devices; public data: {len(world.directory):,} "
        f"directory entries, {len(world.posts):,} posts by {world.posts['name'].nunique():,} people"
    )
    print("  scored against the world's ground truth (people), which the attacks never read")
    if book is not None:
        sc = linkage_score(book, world.people)
        print()
        print(
            "From the directory (inferred home -> listed adults at that address; posts break ties):"
        )
        print(
            f"  best guess right for {sc['n_correct']:,} of {sc['n_guesses']:,} devices "
            f"(precision {_share(sc['precision'])}); {_share(sc['share_named'])} of all "
            f"{n_people:,} people correctly named"
        )
        best = book[book["rank"] == 1].head(args.examples)
        if len(best):
            print("  examples (best guess per device):")
            for _, r in best.iterrows():
                print(
                    f"    {r['device_id']:<14} -> {r['name']:<22} score {r['score']:.2f}"
                    f"  ({r['address_adults']} listed at the address, {r['posts_matched']} posts "
                    f"matched; {check(r['name'], r['device_id'])})"
                )
    if curve is not None:
        via = "its serving antenna" if kind == "cdr" else "distance"
        print()
        print(
            f"From geotagged posts (a device matches a post when it has a record within "
            f"{km:g} km by {via} and {minutes:g} minutes):"
        )
        print(f"  {'posts':>5}  {'people':>7}  {'named':>6}  {'95% CI':<15}  {'median set':>10}")
        for _, r in curve.iterrows():
            ci = f"{r['ci_low']:.1%} to {r['ci_high']:.1%}"
            print(
                f"  {int(r['n_posts']):>5}  {int(r['n_names']):>7,}  {r['share_named']:>6.1%}  "
                f"{ci:<15}  {r['median_set_size']:>10,.0f}"
            )
        print(
            "  named: share of the people with at least that many posts whose posts match "
            "exactly one device, their own"
        )
        sc = linkage_score(posts, world.people)
        print(
            f"  with {args.posts} posts: {sc['n_guesses']:,} people match a single device, "
            f"rightly for {sc['n_correct']:,} (precision {_share(sc['precision'])})"
        )
        one = posts[posts["anonymity_set_size"] == 1].head(args.examples)
        if len(one):
            print(f"  examples (first {args.posts} posts match a single device):")
            for _, r in one.iterrows():
                device = r["device_ids"][0]
                print(
                    f"    {r['name']:<22} -> {device}  ({r['n_posts']} posts; "
                    f"{check(r['name'], device)})"
                )
    print()
    print("  right / wrong: checked against the ground truth, which only this report reads")
    return EXIT_OK


# ---------------------------------------------------------------------------
# fewpoints explain
# ---------------------------------------------------------------------------


def _add_explain(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS

    p = sub.add_parser(
        "explain",
        help="one device's story: how few points single it out, its home, its name, its visits",
        description=(
            "Tell what a synthetic world's released and public data reveal about one device: "
            "how few of its points single it out, where it sleeps and works, the name the "
            "public directory suggests, and its visits to sensitive places."
        ),
    )
    p.add_argument("world", metavar="WORLD", help="world folder or preset")
    p.add_argument("device_id", metavar="DEVICE_ID", help="the pseudonymous device id")
    p.add_argument(
        "--observe",
        choices=OBSERVATION_MODELS,
        help="which traces of the world (default: the world's first)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed for the random draws (default: 0)")


def _run_explain(args) -> int:
    from fewpoints.attacks.explain import explain

    _check_model_of_preset(args.world, args.observe, "--observe")
    world, what = _load_world(args.world, seed=args.seed, what="explain")
    _, model = _world_traces(world, args.observe)
    story = explain(world, args.device_id, model=model, rng=args.seed)
    print(f"{what}, {model} traces")
    print(story)
    return EXIT_OK


# ---------------------------------------------------------------------------
# fewpoints audit
# ---------------------------------------------------------------------------


def _add_audit(sub) -> None:
    p = sub.add_parser(
        "audit",
        help="audit your own location file: the risk report, from the released data alone",
        description=(
            "Measure how identifying a location data file is, from the file alone (no ground "
            "truth, no synthetic world), and write the risk report: unicity against the "
            "number of known points, the coarsening table, home/work and top places, what a "
            "larger release would do, the spread of the risk over devices and, with a places "
            "file, visits near sensitive places. FILE is CSV, CSV.gz or Parquet in the "
            "shape brokers ship it (one row per fix: an ID such as advertiser_id or maid, a "
            "time such as timestamp, latitude and longitude, and horizontal accuracy if "
            "known), or a folder of Parquet parts. Nothing leaves this machine."
        ),
    )
    p.add_argument("file", metavar="FILE", help="the location file (or folder of Parquet parts)")
    p.add_argument("--out", required=True, help="folder to write the report to")
    p.add_argument(
        "--places",
        metavar="FILE",
        help="a public map of places (kind, lat/lon or x_km/y_km; sensitive kinds such as "
        "health, worship, legal_aid, shelter) to count visits near sensitive places",
    )
    p.add_argument(
        "--targets",
        type=_positive_int,
        default=10_000,
        help="devices sampled for each test (default: 10000)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random draws (default: 0)")
    p.add_argument(
        "--drop-duplicates",
        action="store_true",
        help="count a fix repeated exactly (same device, time and place) once",
    )
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_reading(p)
    scale = p.add_argument_group(
        "files larger than memory",
        "A Parquet file or folder whose analyses would not fit in the free memory is audited "
        "with the Dask engine, partition by partition (pip install 'fewpoints[scale]').",
    )
    scale.add_argument(
        "--engine",
        choices=("auto", "memory", "dask"),
        default="auto",
        help="auto: in memory when the estimate fits, else Dask (default)",
    )
    scale.add_argument("--workers", type=_positive_int, help="local Dask workers (default: 2)")
    scale.add_argument("--memory-limit", metavar="SIZE", help="memory per Dask worker, e.g. 3GB")


def _run_audit(args) -> int:
    import contextlib
    from pathlib import Path

    from fewpoints import audit as A
    from fewpoints.briefing import pdf_renderer
    from fewpoints.io import check_output_folder

    src = Path(args.file)
    # Everything that can be refused is refused before any work, and before anything is written.
    check_output_folder(args.out, force=args.force)
    if args.places is not None and not Path(args.places).is_file():
        raise FewpointsError(f"{args.places}: no such places file")
    pdf_renderer()
    engine = A.choose_engine(src, args.engine)
    if engine == "memory":
        for option in ("workers", "memory_limit"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise FewpointsError(f"{flag} applies to the Dask engine (--engine dask)")
    progress = Progress(enabled=not args.quiet)
    t0 = time.perf_counter()
    _check_reading(args, True)
    reading = _reading(args)
    try:
        with contextlib.ExitStack() as stack:
            if engine == "dask":
                from fewpoints.attacks.dask_engine import connect

                stack.enter_context(connect(workers=args.workers, memory_limit=args.memory_limit))
                data, how = A.read_for_audit_dask(src, **reading)
            else:
                progress("reading " + src.name, 0.0)
                data, how = A.read_for_audit(src, **reading)
                progress("reading " + src.name, 1.0)
                if args.drop_duplicates:
                    data, n = A.drop_duplicates(data)
                    how["dropped"] = f"{n:,} repeated fix(es) (--drop-duplicates)"
                A.check_auditable(data, source=src.name)
            places = None
            if args.places is not None:
                places = A.read_places(args.places, projection=how.get("projector"))
            progress.close()
            print(A.reading_line(src, data, how), flush=True)
            run = A.audit_dask if engine == "dask" else A.audit
            result = run(data, source=src.name, places=places, reading=how,
                         sizes=_audit_sizes(args), seed=args.seed, progress=progress)  # fmt: skip
            del data
        command = (
            " ".join(["fewpoints", *sys.argv[1:]])
            if sys.argv[1:2] == ["audit"]
            else (f"fewpoints audit {args.file} --out {args.out}")
        )
        written = A.write_audit(result, args.out, force=args.force, command=command,
                                progress=progress)  # fmt: skip
    finally:
        progress.close()
    out = Path(args.out)
    r = result.raw4
    print(
        f"Audit -- measured on {src.name} (your data; nothing left this machine): "
        f"{len(written)} files in {out}/ ({time.perf_counter() - t0:.0f} s, {engine} engine)"
    )
    print(f"  read first: {out / 'report.pdf'}   on screen: {out / 'report.html'}")
    print(f"  every number: {out / 'audit.json'}   captions and alt text: {out / 'captions.md'}")
    print(
        f"  4 random points single out {r['unicity']:.1%} of devices "
        f"(95% CI {r['ci_low']:.1%} to {r['ci_high']:.1%}, {r['n_targets']:,} sampled)"
    )
    rel = result.release
    if rel is not None:
        print(
            f"  under 10% only from {rel['words']} ({rel['unicity']:.1%}; locations moved "
            f"{rel['moved_km']:.2f} km, times {rel['shifted_minutes']:.0f} min on average)"
        )
    else:
        c = result.coarsest
        print(f"  no coarsening tried gets under 10% ({c['words']}: {c['unicity']:.1%})")
    print("  " + ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items()))
    return EXIT_OK


def _audit_sizes(args):
    from fewpoints.audit import AuditSizes

    return AuditSizes(n_targets=args.targets, population_targets=min(args.targets, 5_000))


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------

COMMANDS = {
    "generate": (_add_generate, _run_generate),
    "unicity": (_add_unicity, _run_unicity),
    "anonymize": (_add_anonymize, _run_anonymize),
    "link": (_add_link, _run_link),
    "explain": (_add_explain, _run_explain),
    "briefing": (_add_briefing, _run_briefing),
    "audit": (_add_audit, _run_audit),
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (not the usage block) and exit status 2."""

    def error(self, message: str):
        message = " ".join(str(message).split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: the work stops and no output is left half-written."""


def _on_sigterm(signum, frame):
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fewpoints",
        description=(
            "How few location points make 'anonymized' phone data unique, "
            "shown on a fully synthetic city."
        ),
    )
    parser.add_argument("--version", action="version", version=f"fewpoints {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 any error, 130 Ctrl-C, 143 SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    name = f"fewpoints {args.command}"
    previous = None
    if _main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        status = COMMANDS[args.command][1](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return status
    except FewpointsError as exc:
        _error(name, str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{name}: {how}; no output was left half-written", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        # `fewpoints unicity w | head -1`: the reader left; say so once, quietly drop the rest.
        with _suppress_os_error():
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _error(name, "the output was closed before everything was printed (broken pipe)")
        return EXIT_USAGE
    except MemoryError:
        _error(name, "not enough memory for this work; try a smaller world or the Dask engine")
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _error(name, f"{where}{(exc.strerror or str(exc)).lower()}")
        return EXIT_USAGE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _suppress_os_error():
    import contextlib

    return contextlib.suppress(OSError, ValueError, AttributeError)


def _error(name: str, message: str) -> None:
    """One line on stderr, whatever the message holds."""
    with _suppress_os_error():
        print(f"{name}: error: {' '.join(message.split())}", file=sys.stderr)
