"""Coarser space and time: square cells, merged antennas and time bins.

Each record keeps its device and its moment, but its place becomes a cell
(:func:`coarsen_space`) or a cluster of neighbouring antennas
(:func:`merge_antennas`), and its time the start of its bin
(:func:`coarsen_time`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fewpoints.anonymize.encodings import dense_codes
from fewpoints.anonymize.weak import WeakTransformWarning
from fewpoints.common import duration_seconds, nearest, positive, renamed
from fewpoints.schema import FewpointsError, validate, validate_traces


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

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_traces()

    >>> shifted = traces.assign(x_km=[0.2, 1.3, 0.4, 2.9, 0.6, 1.1])
    >>> coarsen_space(shifted, cell_km=1.0)["x_km"].tolist()
    [0.5, 1.5, 0.5, 2.5, 0.5, 1.5]
    """
    validate_traces(traces)
    cell = positive(cell_km, "cell_km")
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

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_traces()

    >>> import pandas as pd
    >>> late = traces.assign(time=traces["time"] + pd.Timedelta(minutes=17))
    >>> coarsen_time(late, time_bin="1h")["time"].dt.strftime("%H:%M").tolist()[:2]
    ['08:00', '18:00']
    """
    validate_traces(traces)
    s = duration_seconds(time_bin, "time_bin")
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


# ---------------------------------------------------------------------------
# space: merged antennas
# ---------------------------------------------------------------------------


@renamed(v="merge_v")
def merge_antennas(
    traces: pd.DataFrame, antennas: pd.DataFrame, *, merge_v: float, rng=None
) -> pd.DataFrame:
    """Merge neighbouring antennas into clusters of about ``merge_v`` and move each record to its cluster.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table. A record is placed at its ``antenna_id`` when it
        has one, otherwise at the antenna nearest its coordinates (GPS pings).
    antennas : DataFrame
        The public antenna map (``antenna_id, x_km, y_km``).
    merge_v : float
        Antennas per cluster, on average (the ``v`` of "Unique in the Crowd";
        ``v=`` is its deprecated name): the antennas are grouped into
        ``round(n_antennas / merge_v)`` compact clusters by k-means on their
        coordinates (k-means++ start, seeded by ``rng``).
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        A copy with ``x_km, y_km`` the centroid of the record's cluster.
        ``antenna_id`` is dropped (it would give the finer location away).

    Warns
    -----
    WeakTransformWarning
        When ``merge_v`` is so small that every antenna stays on its own.

    Notes
    -----
    This is the spatial coarsening of "Unique in the Crowd": Voronoi cells
    of neighbouring antennas merged, so that ``v`` means the same thing
    downtown, where antennas are a few hundred metres apart, as in the
    suburbs. A square grid does not: a 1 km cell downtown merges far more
    antennas than one in the suburbs, so square cells overstate what
    coarsening buys. Either way a merged cell at an hour is still rare, and
    unicity falls only as about the 1/10 power of ``v``.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    validate(antennas, "antennas")
    v = positive(merge_v, "merge_v")
    if v < 1:
        raise FewpointsError(f"merge_v must be at least 1 (antennas per cluster), got {merge_v!r}")
    rng = np.random.default_rng(rng)
    ax = antennas["x_km"].to_numpy(dtype=np.float64)
    ay = antennas["y_km"].to_numpy(dtype=np.float64)
    k = max(1, int(round(len(ax) / v)))
    if k >= len(ax):
        warnings.warn(
            f"merge_v={v:g} groups {len(ax):,} antennas into {len(ax):,} clusters: every antenna "
            "stays on its own and only antenna_id is dropped",
            WeakTransformWarning,
            stacklevel=3,  # the user's line, past the wrapper that keeps v= working
        )
    cluster, cx, cy = _kmeans(ax, ay, k, rng)
    row = np.full(len(traces), -1, dtype=np.int64)
    if "antenna_id" in traces.columns:
        ids = pd.Index(antennas["antenna_id"].to_numpy(dtype=np.int64))
        known = traces["antenna_id"].notna().to_numpy()
        aid = traces["antenna_id"].to_numpy(dtype=np.float64)
        row[known] = ids.get_indexer(aid[known].astype(np.int64))
    need = row < 0
    if need.any():
        x = traces["x_km"].to_numpy(dtype=np.float64)[need]
        y = traces["y_km"].to_numpy(dtype=np.float64)[need]
        row[need] = nearest(x, y, ax, ay)
    out = traces.drop(columns=["antenna_id"], errors="ignore").copy()
    out["x_km"] = cx[cluster[row]]
    out["y_km"] = cy[cluster[row]]
    return out


def _kmeans(x: np.ndarray, y: np.ndarray, k: int, rng, n_iter: int = 100):
    """Seeded k-means on points (x, y): (label of each point, centre x, centre y).

    k-means++ start (each new centre drawn in proportion to the squared
    distance to the nearest chosen one), then Lloyd iterations until no
    label changes. Vectorised over points; loops only over centres at the
    start and over iterations after.
    """
    n = len(x)
    if k >= n:
        return np.arange(n), x.copy(), y.copy()
    pts = np.column_stack([x, y])
    centres = np.empty((k, 2))
    centres[0] = pts[rng.integers(n)]
    d2 = ((pts - centres[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        total = d2.sum()
        i = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres[j] = pts[i]
        np.minimum(d2, ((pts - centres[j]) ** 2).sum(axis=1), out=d2)
    label = np.full(n, -1)
    for _ in range(n_iter):
        new = nearest(pts[:, 0], pts[:, 1], centres[:, 0], centres[:, 1])
        if np.array_equal(new, label):
            break
        label = new
        counts = np.bincount(label, minlength=k)
        filled = counts > 0
        for dim in (0, 1):
            sums = np.bincount(label, weights=pts[:, dim], minlength=k)
            centres[filled, dim] = sums[filled] / counts[filled]
    # Renumber the clusters actually used, so every label has members.
    used = np.flatnonzero(np.bincount(label, minlength=k))
    label, _ = dense_codes(label)
    return label, centres[used, 0], centres[used, 1]
