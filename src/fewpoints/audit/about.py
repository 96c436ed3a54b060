"""The file as read, in numbers: records, devices, period, what a location is, the time step.

:func:`describe` is the "What was audited" of the report; the words for a
kind of location (:data:`LOCATION_WORDS`) and for a time step
(:func:`step_words`) are shared with the Dask engine's description.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Locations that repeat this much (distinct locations per record at most this) are antennas or cells.
REPEATING = 0.05


def _time_step(seconds: np.ndarray) -> int:
    """The file's own time resolution: the largest step (s) every distinct time is a multiple of."""
    t = np.unique(seconds)
    if len(t) < 2:
        return 1
    return max(int(np.gcd.reduce(t - t[0])), 1)


def location_kind(n_records: int, n_locations: int, accuracy: bool) -> str:
    """What a location of the file is, by what the data show.

    ``"repeating"`` when there are at most 1 distinct location per 20 records
    (antennas, cells, snapped points: used as recorded, whatever accuracy
    the file states), else ``"gps"`` with an ``accuracy_m`` column and
    ``"gps-like"`` without (fixes clustered into stay points).
    """
    if n_locations <= REPEATING * n_records:
        return "repeating"
    return "gps" if accuracy else "gps-like"


LOCATION_WORDS = {
    "gps": "GPS fixes with their horizontal accuracy",
    "gps-like": "fixes that rarely repeat, taken as GPS without a stated accuracy",
    "repeating": "locations that repeat (antennas, cells or snapped points)",
}


def step_words(seconds: int) -> str:
    """``the second``, ``the hour``, ``15 minutes``: how precise the file's times are."""
    for unit, name in ((86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % unit == 0:
            k = seconds // unit
            return f"the {name}" if k == 1 else f"{k:,} {name}s"
    return f"{seconds:,} seconds"  # pragma: no cover


def describe(traces: pd.DataFrame, index, reading: dict | None = None) -> dict:
    """The file as read, in numbers: records, devices, period, what a location is, the time step."""
    seconds = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    first, last = int(seconds.min()), int(seconds.max())
    step = _time_step(index.point_time) if hasattr(index, "point_time") else _time_step(seconds)
    kind = location_kind(len(traces), index.n_locations, "accuracy_m" in traces.columns)
    return about_numbers(len(traces), index.n_devices, index.points_per_device(),
                         index.n_locations, first, last, kind, step, reading)  # fmt: skip


def about_numbers(n_records, n_devices, per_device, n_locations, first: int, last: int,
                  kind: str, step: int, reading: dict | None) -> dict:  # fmt: skip
    """ "What was audited" from its numbers (either engine): times in Unix seconds."""
    return {
        "n_records": int(n_records),
        "n_devices": int(n_devices),
        "n_points": int(per_device.sum()),
        "n_locations": int(n_locations),
        "first": str(pd.Timestamp(first, unit="s")),
        "last": str(pd.Timestamp(last, unit="s")),
        "days": round((last - first) / 86_400, 1),
        "locations": kind,
        "locations_words": LOCATION_WORDS[kind],
        "time_step": int(step),
        "time_step_words": step_words(int(step)),
        "points_per_device": {
            "median": float(np.median(per_device)),
            "mean": float(per_device.mean()),
            "p99": float(np.percentile(per_device, 99)),
        },
        "reading": {k: v for k, v in (reading or {}).items() if k != "projector"},
    }
