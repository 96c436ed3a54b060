"""Transforms a data broker might call "anonymization": ``traces`` in, new ``traces`` out.

Every function returns a new table with the same columns and never changes
its input. The attacks accept raw and transformed tables alike, so the effect
of a transform is measured by running the same attack on its output.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fewpoints.schema import FewpointsError, validate_traces

__all__ = ["WeakTransformWarning", "coarsen_space", "coarsen_time"]


class WeakTransformWarning(UserWarning):
    """A transform that changes little or nothing (for example a time bin finer than the data's own)."""


def coarsen_space(traces: pd.DataFrame, *, cell_km: float = 1.0) -> pd.DataFrame:
    """Snap every location to the centre of a square grid cell of side ``cell_km``.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    cell_km : float, default 1.0
        Side of the grid cells, in kilometres. The grid is aligned with the
        city frame's origin.

    Returns
    -------
    DataFrame
        A copy with ``x_km`` and ``y_km`` replaced by cell centres.
        ``antenna_id`` is dropped (it would give the finer location away).

    Notes
    -----
    Coarsening hides where in a cell a phone was, but not that it was in
    that cell at that time; a trace of a few cells at a few moments is
    still a near-unique fingerprint, so coarsening alone buys surprisingly
    little anonymity (de Montjoye et al. 2013 found unicity falls only as
    about the 1/10 power of the resolution).

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    cell = _positive(cell_km, "cell_km")
    out = traces.drop(columns=["antenna_id"], errors="ignore").copy()
    for col in ("x_km", "y_km"):
        v = traces[col].to_numpy(dtype=np.float64)
        out[col] = (np.floor(v / cell) + 0.5) * cell
    return out


def coarsen_time(traces: pd.DataFrame, *, time_bin: str | pd.Timedelta = "1h") -> pd.DataFrame:
    """Floor every time to the start of its bin (``"15min"``, ``"1h"``, ``"1D"``, ...).

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    time_bin : str or Timedelta, default "1h"
        Bin length. Bins are aligned on midnight of 1970-01-01, so bins of
        whole hours or days start on the hour or at midnight.

    Returns
    -------
    DataFrame
        A copy with ``time`` floored (still ``datetime64[s]``).

    Warns
    -----
    WeakTransformWarning
        When every time is already a multiple of the bin, so nothing changes.

    Notes
    -----
    A coarser clock hides the minute of each call but not the hour, and an
    hour at a place is still rare: "Unique in the Crowd" found 95% of people
    unique from 4 points on exactly such hourly data.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    try:
        step = pd.Timedelta(time_bin)
    except (ValueError, TypeError):
        raise FewpointsError(f"time_bin is not a duration: {time_bin!r}") from None
    seconds = step.total_seconds()
    if not seconds >= 1 or seconds != int(seconds):
        raise FewpointsError(f"time_bin must be a whole number of seconds, got {time_bin!r}")
    s = int(seconds)
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    floored = t - np.mod(t, s)
    if np.array_equal(floored, t):
        warnings.warn(
            f"every time is already a multiple of {time_bin}; coarsen_time changed nothing",
            WeakTransformWarning,
            stacklevel=2,
        )
    out = traces.copy()
    out["time"] = floored.view("datetime64[s]")
    return out


def _positive(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FewpointsError(f"{name} must be a number, got {value!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise FewpointsError(f"{name} must be positive, got {value!r}")
    return v
