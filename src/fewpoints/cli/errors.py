"""How a command ends: its exit status (0 success, 2 any error) and every failure as one
line on stderr (bad arguments, bad input, an unwritable output, a full disk, a closed
pipe), with SIGTERM handled as Ctrl-C (:class:`Terminated`) so no output is left
half-written.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: the work stops and no output is left half-written."""


def on_sigterm(signum, frame):
    raise Terminated()


def main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def suppress_os_error():
    import contextlib

    return contextlib.suppress(OSError, ValueError, AttributeError)


def error(name: str, message: str) -> None:
    """One line on stderr, whatever the message holds."""
    with suppress_os_error():
        print(f"{name}: error: {' '.join(message.split())}", file=sys.stderr)
