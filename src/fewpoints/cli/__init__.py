"""The ``fewpoints`` command line.

Every sub-command is a pair ``_add_<name>(subparsers)`` / ``_run_<name>(args) -> int``.
Every error ends with one line on stderr and exit status 2, never a traceback
nor a usage block: bad arguments, bad input files, an output that cannot be
written, a full disk, a closed pipe. Options are checked before any work
starts; Ctrl-C and SIGTERM stop the work and leave no output half-written.

One module per sub-command (``generate``, ``unicity``, ``anonymize``, ``link``,
``explain``, ``briefing``, ``audit``), each ending with its ``COMMAND`` pair; what
they share lives in ``loader`` (reading a traces file, a world folder or a preset),
``options`` (argument types), ``progress`` (the progress bar) and ``errors`` (exit
statuses and one-line errors). This module assembles the parser and runs a command.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from fewpoints import __version__
from fewpoints.cli import anonymize, audit, briefing, explain, generate, link, unicity
from fewpoints.cli.anonymize import ANONYMIZE_ORDER
from fewpoints.cli.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    Terminated,
    error,
    main_thread,
    on_sigterm,
    suppress_os_error,
)
from fewpoints.cli.progress import Progress
from fewpoints.cli.unicity import MAX_POINTS
from fewpoints.schema import FewpointsError

__all__ = [
    "ANONYMIZE_ORDER",
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "MAX_POINTS",
    "Progress",
    "Terminated",
    "build_parser",
    "main",
]

COMMANDS = {
    "generate": generate.COMMAND,
    "unicity": unicity.COMMAND,
    "anonymize": anonymize.COMMAND,
    "link": link.COMMAND,
    "explain": explain.COMMAND,
    "briefing": briefing.COMMAND,
    "audit": audit.COMMAND,
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (not the usage block) and exit status 2."""

    def error(self, message: str):
        message = " ".join(str(message).split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    if main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        status = COMMANDS[args.command][1](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
        return status
    except FewpointsError as exc:
        error(name, str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{name}: {how}; no output was left half-written", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:
        # `fewpoints unicity w | head -1`: the reader left; say so once, quietly drop the rest.
        with suppress_os_error():
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        error(name, "the output was closed before everything was printed (broken pipe)")
        return EXIT_USAGE
    except MemoryError:
        error(name, "not enough memory for this work; try a smaller world or the Dask engine")
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        error(name, f"{where}{(exc.strerror or str(exc)).lower()}")
        return EXIT_USAGE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


#: The names of the single-module ``fewpoints.cli`` that now live in a submodule
#: (some renamed there without their underscore, being shared): still importable and
#: patchable from here, e.g. ``from fewpoints.cli import _points_spec``.
_MOVED = {
    "_positive_int": ("options", "positive_int"),
    "_seed": ("options", "seed"),
    "_count": ("options", "count"),
    "_positive_float": ("options", "positive_float"),
    "_generate_world": ("loader", "generate_world"),
    "_add_reading": ("loader", "add_reading"),
    "_reading": ("loader", "reading"),
    "_check_reading": ("loader", "check_reading"),
    "_check_model_of_preset": ("loader", "check_model_of_preset"),
    "_load_traces": ("loader", "load_traces"),
    "_load_world": ("loader", "load_world"),
    "_world_traces": ("loader", "world_traces"),
    "_human_bytes": ("generate", "_human_bytes"),
    "_add_generate": ("generate", "_add_generate"),
    "_world_files": ("generate", "_world_files"),
    "_run_generate": ("generate", "_run_generate"),
    "_generate_chunked": ("generate", "_generate_chunked"),
    "_points_spec": ("unicity", "_points_spec"),
    "_add_unicity": ("unicity", "_add_unicity"),
    "_run_unicity": ("unicity", "_run_unicity"),
    "_run_unicity_dask": ("unicity", "_run_unicity_dask"),
    "_print_unicity": ("unicity", "_print_unicity"),
    "_length_km": ("anonymize", "_length_km"),
    "_add_anonymize": ("anonymize", "_add_anonymize"),
    "_anonymize_steps": ("anonymize", "_anonymize_steps"),
    "_unicity_line": ("anonymize", "_unicity_line"),
    "_run_anonymize": ("anonymize", "_run_anonymize"),
    "_add_briefing": ("briefing", "_add_briefing"),
    "_run_briefing": ("briefing", "_run_briefing"),
    "_share": ("link", "_share"),
    "_add_link": ("link", "_add_link"),
    "_run_link": ("link", "_run_link"),
    "_add_explain": ("explain", "_add_explain"),
    "_run_explain": ("explain", "_run_explain"),
    "_add_audit": ("audit", "_add_audit"),
    "_run_audit": ("audit", "_run_audit"),
    "_audit_sizes": ("audit", "_audit_sizes"),
    "_on_sigterm": ("errors", "on_sigterm"),
    "_main_thread": ("errors", "main_thread"),
    "_suppress_os_error": ("errors", "suppress_os_error"),
    "_error": ("errors", "error"),
}


def __getattr__(name: str):
    """A name of the former single module, read from the submodule it moved to."""
    if name in _MOVED:
        import importlib

        module, attr = _MOVED[name]
        return getattr(importlib.import_module(f"fewpoints.cli.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
