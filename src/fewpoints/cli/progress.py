"""The progress bar of the long commands: on stderr, redrawn in place on a terminal, one
line per stage in a log or a pipe, silent with ``--quiet``.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """A small progress bar on stderr: redrawn in place on a terminal, a line per stage otherwise."""

    def __init__(self, stream=None, *, width: int = 28, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stage: str | None = None
        self._seen: set[str] = set()  # stages already announced (two threads may alternate)
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
            if not self.tty and stage not in self._seen:
                self.stream.write(f"  {stage} ...\n")
                self.stream.flush()
            self._seen.add(stage)
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
