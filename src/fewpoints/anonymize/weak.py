"""When a transform is too weak to change anything: :class:`WeakTransformWarning` and its checks.

Every transform warns when its setting leaves the data as identifying as it
was (a time bin finer than the data's own, noise far below the data's own
resolution, ``keep=1``); the checks shared by several transforms live here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fewpoints.anonymize.encodings import antenna_xy


class WeakTransformWarning(UserWarning):
    """A transform that changes little or nothing (for example a time bin finer than the data's own)."""


def _resolution_m(traces: pd.DataFrame) -> tuple[float, str] | None:
    """The data's own spatial resolution in metres and what it is, or None if unknown."""
    if "accuracy_m" in traces.columns:
        acc = traces["accuracy_m"].dropna()
        if len(acc):
            return float(acc.median()), "median GPS accuracy"
    ant = antenna_xy(traces, partial=True)
    if ant is not None:
        ax, ay = ant[1], ant[2]
        if len(ax) > 20_000:
            pick = np.random.default_rng(0).choice(len(ax), 20_000, replace=False)
            ax, ay = ax[pick], ay[pick]
        if len(ax) >= 2:
            gap = np.empty(len(ax))
            chunk = max(1, (1 << 22) // len(ax))
            for s in range(0, len(ax), chunk):
                dx = ax[s : s + chunk, None] - ax[None, :]
                d2 = ay[s : s + chunk, None] - ay[None, :]
                d2 *= d2
                d2 += dx * dx
                d2[np.arange(d2.shape[0]), np.arange(s, s + d2.shape[0])] = np.inf
                gap[s : s + chunk] = np.sqrt(d2.min(axis=1))
            return float(np.median(gap) * 1000.0), "median spacing of the antennas"
    return None


def warn_if_below_resolution(
    traces: pd.DataFrame, scale_m: float, what: str, stacklevel: int = 3
) -> None:
    res = _resolution_m(traces)
    if res is not None and scale_m < 0.1 * res[0]:
        warnings.warn(
            f"{what} is far below the data's own resolution ({res[1]} {res[0]:,.0f} m): "
            "each point still names the same place",
            WeakTransformWarning,
            stacklevel=stacklevel,
        )


def warn_keep_all(what: str) -> None:
    warnings.warn(
        f"{what} keeps everything at keep=1: the release is the whole table",
        WeakTransformWarning,
        stacklevel=3,
    )
