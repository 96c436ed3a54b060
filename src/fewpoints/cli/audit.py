"""``fewpoints audit``: the risk report of the user's own location file, measured from the
file alone, in memory or with the Dask engine.
"""

from __future__ import annotations

import sys
import time

from fewpoints.cli import loader
from fewpoints.cli.errors import EXIT_OK
from fewpoints.cli.options import positive_int, seed
from fewpoints.cli.progress import Progress
from fewpoints.schema import FewpointsError


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
        type=positive_int,
        default=10_000,
        help="devices sampled for each test (default: 10000)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the random draws (default: 0)")
    p.add_argument(
        "--drop-duplicates",
        action="store_true",
        help="count a fix repeated exactly (same device, time and place) once",
    )
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    loader.add_reading(p)
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
    scale.add_argument("--workers", type=positive_int, help="local Dask workers (default: 2)")
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
    loader.check_reading(args, True)
    reading = loader.reading(args)
    try:
        with contextlib.ExitStack() as stack:
            if engine == "dask":
                from fewpoints.scale import connect

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
                         sizes=_audit_sizes(args), rng=args.seed, progress=progress)  # fmt: skip
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
        f"  4 random points single out {r.unicity:.1%} of devices "
        f"(95% CI {r.ci_low:.1%} to {r.ci_high:.1%}, {r.n_targets:,} sampled)"
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


#: The sub-command: (add its parser, run it).
COMMAND = (_add_audit, _run_audit)
