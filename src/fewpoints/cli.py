"""The ``fewpoints`` command line.

Every sub-command is a pair ``_add_<name>(subparsers)`` / ``_run_<name>(args) -> int``.
Bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

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


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


# ---------------------------------------------------------------------------
# fewpoints generate
# ---------------------------------------------------------------------------


def _add_generate(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS, PRESETS

    p = sub.add_parser(
        "generate",
        help="generate a synthetic world and write its tables to a folder",
        description=(
            "Generate a fully synthetic city, its people, their movements and the "
            "phone records a data broker would hold, and write every table as "
            "gzip-compressed CSV (readable in a spreadsheet) plus world.json."
        ),
    )
    p.add_argument(
        "--preset",
        default="classroom",
        help=f"world size and realism settings: {', '.join(PRESETS)} (default: classroom)",
    )
    p.add_argument(
        "--seed",
        type=int,
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
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument(
        "--parquet", action="store_true", help="also write Parquet files (needs pyarrow)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_generate(args) -> int:
    from pathlib import Path

    from fewpoints.synth.world import check_memory, make_world, resolve_params

    out = Path(args.out)
    # Refuse before doing any work, so a long run never ends in "folder exists".
    if out.exists() and not out.is_dir():
        raise FewpointsError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise FewpointsError(f"{out} exists and is not empty; use --force to replace it")
    overrides = {}
    if args.days is not None:
        overrides["days"] = args.days
    if args.people is not None:
        overrides["n_people"] = args.people
    if args.observe is not None:
        overrides["observe"] = tuple(m.strip() for m in args.observe.split(",") if m.strip())
    params = resolve_params(args.preset, seed=args.seed, **overrides)
    check_memory(params)
    progress = Progress(enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        world = make_world(params=params, progress=progress)
        progress("writing files", 0.0)
        written = world.write(out, force=args.force, parquet=args.parquet)
        progress("writing files", 1.0)
    finally:
        progress.close()
    elapsed = time.perf_counter() - t0
    print(world.summary())
    print(f"\nwrote {len(written)} files to {out}/ in {elapsed:.1f} s:")
    for f in written:
        print(f"  {f.name:<24} {_human_bytes(f.stat().st_size):>10}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------

COMMANDS = {"generate": (_add_generate, _run_generate)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fewpoints",
        description=(
            "How few location points make 'anonymized' phone data unique, "
            "shown on a fully synthetic city."
        ),
    )
    parser.add_argument("--version", action="version", version=f"fewpoints {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command][1](args)
    except FewpointsError as exc:
        print(f"fewpoints {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"fewpoints {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130
