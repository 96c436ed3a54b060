"""``fewpoints generate``: a synthetic world written to a folder (CSV and world.json, or a
partitioned Parquet dataset made a chunk of people at a time).
"""

from __future__ import annotations

import time

from fewpoints.cli import loader
from fewpoints.cli.errors import EXIT_OK
from fewpoints.cli.options import positive_int, seed
from fewpoints.cli.progress import Progress
from fewpoints.schema import FewpointsError


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


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
        type=seed,
        default=0,
        help="random seed; the same seed gives the same world (default: 0)",
    )
    p.add_argument(
        "--out", required=True, help="folder to write (refused if it exists and is not empty)"
    )
    p.add_argument("--days", type=positive_int, help="override the number of days")
    p.add_argument("--people", type=positive_int, help="override the number of people")
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
        type=positive_int,
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
        world = loader.generate_world(args.preset, args.seed, progress, **overrides)
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


#: The sub-command: (add its parser, run it).
COMMAND = (_add_generate, _run_generate)
