"""Less data: fewer records, devices, points or days, each kept as a subset of the rows.

:func:`subsample` keeps records, :func:`sample_devices` devices,
:func:`suppress_rare` the points enough devices share and :func:`truncate`
the first days. Each transform keeps a subset of the rows, in their order, and removes the
device categories no kept row uses.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fewpoints.anonymize.encodings import (
    antenna_xy,
    categorical,
    dense_codes,
    sorted_unique,
    xy_codes,
)
from fewpoints.anonymize.weak import WeakTransformWarning, warn_keep_all
from fewpoints.common import check_share, device_code_range
from fewpoints.schema import FewpointsError, validate_traces


def subsample(traces: pd.DataFrame, *, keep: float, rng=None) -> pd.DataFrame:
    """Keep each record independently with probability ``keep``.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    keep : float in (0, 1]
        Share of records released, on average.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        The kept rows, in their order; devices left with no record are gone.

    Warns
    -----
    WeakTransformWarning
        When ``keep`` is 1 (nothing is dropped).

    Notes
    -----
    Fewer records mean fewer points to choose from, but the points that
    remain are as rare as before: an attacker who knows p of them still
    singles most devices out. Sparser traces do help a little, because
    fewer other devices are seen at the same places at the same hours.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    keep = check_share(keep, "keep")
    rng = np.random.default_rng(rng)
    if keep == 1.0:
        warn_keep_all("subsample")
    mask = rng.random(len(traces)) < keep
    return _rows(traces, mask, "subsample")


def sample_devices(traces: pd.DataFrame, *, keep: float, rng=None) -> pd.DataFrame:
    """Release every record of a random ``keep`` share of the devices, and nothing of the rest.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    keep : float in (0, 1]
        Share of devices released (``round(keep * n_devices)``, at least one).
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        The rows of the chosen devices, in their order.

    Warns
    -----
    WeakTransformWarning
        When every device is kept.

    Notes
    -----
    A released device has fewer others to hide among, but a trace is so
    particular that a few points single it out among thousands as among
    millions: unicity falls only slowly with the size of the population,
    so releasing a sample barely helps, and whoever is in it is as exposed
    as before.

    References
    ----------
    .. [1] Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk
       of re-identification remains high even in country-scale location
       datasets. Patterns 2(3):100204.
    """
    validate_traces(traces)
    keep = check_share(keep, "keep")
    rng = np.random.default_rng(rng)
    dev, n_dev = device_code_range(traces)
    present = np.flatnonzero(np.bincount(dev, minlength=n_dev))
    m = max(1, int(round(keep * len(present))))
    if m == len(present):
        warn_keep_all("sample_devices")
    chosen = np.zeros(n_dev, dtype=bool)
    chosen[rng.choice(present, size=m, replace=False)] = True
    return _rows(traces, chosen[dev], "sample_devices")


def suppress_rare(traces: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Drop every point (place and time) that fewer than ``k`` devices share.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    k : int
        Minimum number of distinct devices that must share a point
        (the same ``x_km, y_km, time``) for its records to be released.

    Returns
    -------
    DataFrame
        The records of points shared by at least ``k`` devices.

    Raises
    ------
    FewpointsError
        If no point is shared by ``k`` devices (nothing would be released).

    Warns
    -----
    WeakTransformWarning
        When nothing is dropped (``k`` = 1, or every point already shared).

    Notes
    -----
    k-anonymity applied point by point: every released point is shared by
    at least k devices, yet a combination of such points is still rare, so
    a few of them still single most devices out. Suppression also throws
    away exactly the records that make data useful: the quiet places and
    hours.

    References
    ----------
    .. [1] Sweeney, L. (2002). k-anonymity: a model for protecting privacy.
       International Journal of Uncertainty, Fuzziness and Knowledge-Based
       Systems 10(5):557-570.
    """
    validate_traces(traces)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise FewpointsError(f"k must be a whole number of devices, at least 1, got {k!r}")
    dev, n_dev = device_code_range(traces)
    point, n_points = _point_codes(traces)
    # Distinct devices per point: sort the (device, point) pairs, drop repeats, count.
    # Points are coded time first, so a table in device then time order gives
    # nearly sorted pairs, which a stable (run-merging) sort handles in about O(n).
    in_order = len(dev) < 2 or bool((dev[1:] >= dev[:-1]).all())
    pairs = sorted_unique(dev * n_points + point, kind="stable" if in_order else None)
    del dev
    shared = np.bincount(pairs % n_points, minlength=n_points)
    del pairs
    mask = (shared >= k)[point]  # a boolean table per point: a cache-friendly gather
    if mask.all():
        warnings.warn(
            f"every point is already shared by at least {k} devices; suppress_rare removed nothing",
            WeakTransformWarning,
            stacklevel=2,
        )
    if not mask.any():
        raise FewpointsError(
            f"no point is shared by {k} devices; suppress_rare(k={k}) would release nothing "
            "(coarsen space or time first)"
        )
    return _rows(traces, mask, "suppress_rare")


def truncate(traces: pd.DataFrame, *, days: int) -> pd.DataFrame:
    """Release only the first ``days`` days, counted from midnight of the table's first day.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    days : int
        Whole days to keep.

    Returns
    -------
    DataFrame
        The records before midnight of day ``days`` (day 0 is the first).

    Warns
    -----
    WeakTransformWarning
        When the table spans no more than ``days`` days (nothing is dropped).

    Notes
    -----
    A shorter release holds fewer points per device and is less unique, and
    Zang and Bolot (2011) found short collection periods among the few
    things that help. But a single day of a person's calls already holds
    their home and work, and a week is enough for most to stand out.

    References
    ----------
    .. [1] Zang, H., Bolot, J. (2011). Anonymization of location data does not
       work: a large-scale measurement study. MobiCom '11, 145-156.
    """
    validate_traces(traces)
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise FewpointsError(f"days must be a whole number, at least 1, got {days!r}")
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    day0 = int(t.min()) - int(t.min()) % 86_400
    mask = t < day0 + int(days) * 86_400
    if mask.all():
        span = (int(t.max()) - day0) // 86_400 + 1
        warnings.warn(
            f"the table spans {span} day(s), no more than days={days}; truncate removed nothing",
            WeakTransformWarning,
            stacklevel=2,
        )
    return _rows(traces, mask, "truncate")


# ---------------------------------------------------------------------------
# the kept rows
# ---------------------------------------------------------------------------


def _rows(traces: pd.DataFrame, mask: np.ndarray, what: str) -> pd.DataFrame:
    """The rows where ``mask`` holds, index reset, unused device categories removed."""
    if not mask.any():
        raise FewpointsError(f"{what} kept no record")
    if mask.all():
        return traces.copy()
    # Column by column with numpy boolean indexing (pandas' .loc + reset_index +
    # remove_unused_categories took seconds per 10M rows).
    columns = {}
    for name in traces.columns:
        col = traces[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            columns[name] = _kept_categorical(col.array, mask)
        elif isinstance(col.dtype, np.dtype):
            columns[name] = col.to_numpy()[mask]
        else:
            columns[name] = col.array[mask]
    return pd.DataFrame(columns, copy=False)


def _kept_categorical(values: pd.Categorical, mask: np.ndarray) -> pd.Categorical:
    """``values[mask]`` with the categories no kept row uses removed (their order kept)."""
    codes = values.codes[mask]
    cats = values.categories
    if len(codes) and codes.min() < 0:  # missing values: leave it to pandas
        return values[mask].remove_unused_categories()
    used = np.bincount(codes, minlength=len(cats)) > 0
    if not used.all():
        codes = (np.cumsum(used) - 1).astype(codes.dtype)[codes]
        cats = cats[used]
    return categorical(codes, cats, ordered=values.ordered)


def _point_codes(traces: pd.DataFrame) -> tuple[np.ndarray, int]:
    """A code for each row's point (its distinct ``(x_km, y_km, time)``) and the number of points.

    Codes are time-major (all places of the first time, then the next), so
    rows in time order have nondecreasing codes up to the places of one time.
    When every row has an ``antenna_id`` and each antenna one position (antenna
    data), places are coded through the antennas: a scatter and a gather of the
    rows instead of hashing 100M coordinates.
    """
    loc = None
    ant = antenna_xy(traces)
    if ant is not None:
        codes, ax, ay, _ = ant
        x = traces["x_km"].to_numpy(dtype=np.float64)
        y = traces["y_km"].to_numpy(dtype=np.float64)
        if np.array_equal(ax[codes], x) and np.array_equal(ay[codes], y):
            ant_loc, _ = dense_codes(xy_codes(ax, ay))
            loc = ant_loc[codes]
        del codes, x, y
    if loc is None:
        loc, _ = dense_codes(
            xy_codes(
                traces["x_km"].to_numpy(dtype=np.float64), traces["y_km"].to_numpy(dtype=np.float64)
            )
        )
    n_loc = int(loc.max()) + 1
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    tc, n_t = dense_codes(t - t.min())
    del t
    point = tc * n_loc + loc
    if n_t * n_loc <= 4 * len(point) + 1024:  # dense enough already (antennas x hours)
        return point, n_t * n_loc
    return dense_codes(point)
