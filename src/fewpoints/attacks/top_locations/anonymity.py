"""Anonymity sets: how many devices share a device's top-n places, or its home/work pair.

The measures of Zang & Bolot (2011) and Golle & Partridge (2009), at one
granularity (:func:`top_n_anonymity`, :func:`home_work_anonymity`) or over
several as one tidy table (:func:`anonymity_table`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.result import wilson_interval
from fewpoints.attacks.top_locations.ranking import (
    check_n,
    home_work_codes,
    ranked_places,
    resolve_granularity,
)
from fewpoints.attacks.top_locations.visits import KEY_LIMIT, Districts, HourlyVisits, as_visits
from fewpoints.schema import FewpointsError

#: Granularities of :func:`anonymity_table`: as recorded, square cells (km), districts.
GRANULARITIES = ("antenna", 0.1, 0.5, 2.0, "district")


#: Columns of :func:`anonymity_table`.
TABLE_COLUMNS = [
    "measure",
    "granularity",
    "share_unique",
    "ci_low",
    "ci_high",
    "median_set_size",
    "n_devices",
]


@dataclass
class AnonymityResult:
    """How many devices share each device's known places, with the evidence.

    Attributes
    ----------
    measure : str
        ``"top-n"``, ``"top-n (any order)"`` or ``"home/work"``.
    granularity : str
        ``"antenna"``, ``"stay point"``, ``"0.5 km"``, ``"district"``, ...
    value : float
        Share of devices that are unique (anonymity set of 1).
    ci_low, ci_high : float
        95% Wilson interval for ``value``.
    median_set_size : float
    n_devices : int
        Devices measured (those with enough places).
    n_excluded : int
        Devices left out for having fewer than n locations (or no home or
        no work).
    devices : DataFrame
        ``device_id, anonymity_set_size``.
    places : DataFrame
        The places each measured device is known by: ``device_id, rank,
        x_km, y_km`` (rank 1 to n; for home/work, 1 is home and 2 work).
    """

    measure: str
    granularity: str
    value: float
    ci_low: float
    ci_high: float
    median_set_size: float
    n_devices: int
    n_excluded: int
    devices: pd.DataFrame
    places: pd.DataFrame

    def row(self) -> dict:
        """One row of :func:`anonymity_table`."""
        return {
            "measure": self.measure,
            "granularity": self.granularity,
            "share_unique": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "median_set_size": self.median_set_size,
            "n_devices": self.n_devices,
        }

    def __repr__(self) -> str:
        return (
            f"AnonymityResult({self.measure} at {self.granularity}: unique={self.value:.1%} "
            f"[95% CI {self.ci_low:.1%}-{self.ci_high:.1%}], median set {self.median_set_size:g}, "
            f"devices={self.n_devices:,})"
        )

    def summary(self) -> str:
        """Two plain-language lines."""
        what = (
            "home and work"
            if self.measure == "home/work"
            else f"{self.measure.replace('top-', 'top ')} locations"
        )
        return (
            f"Knowing their {what} at {self.granularity} level, {self.value:.1%} of "
            f"{self.n_devices:,} devices are unique (95% CI {self.ci_low:.1%} to {self.ci_high:.1%}).\n"
            f"Median anonymity set: {self.median_set_size:,.0f} devices"
            + (
                f"; {self.n_excluded:,} devices left out (too few places)."
                if self.n_excluded
                else "."
            )
        )


def _group_sizes(rows: np.ndarray, n_units: int) -> np.ndarray:
    """Number of rows equal to each row."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    width = rows.shape[1]
    base = n_units + 1
    if base**width < KEY_LIMIT:
        key = np.zeros(len(rows), dtype=np.int64)
        for col in range(width):
            key = key * base + (rows[:, col] + 1)
        _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    else:
        _, inv, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    return counts[inv.ravel()].astype(np.int64)


class _NoneEligible(FewpointsError):
    """No device qualifies for a measure (too few places at this granularity)."""


def _result(measure, label, visits, dev, sizes, rows, n_excluded) -> AnonymityResult:
    n = len(dev)
    if n == 0:
        raise _NoneEligible(f"no device has enough places for the {measure} measure at {label}")
    k = int((sizes == 1).sum())
    lo, hi = wilson_interval(k, n)
    width = rows.shape[1]
    flat = rows.ravel()
    known = flat >= 0
    return AnonymityResult(
        measure=measure,
        granularity=label,
        value=k / n,
        ci_low=lo,
        ci_high=hi,
        median_set_size=float(np.median(sizes)),
        n_devices=n,
        n_excluded=int(n_excluded),
        devices=pd.DataFrame({"device_id": visits.device_ids[dev], "anonymity_set_size": sizes}),
        places=pd.DataFrame(
            {
                "device_id": np.repeat(visits.device_ids[dev], width)[known],
                "rank": np.tile(np.arange(1, width + 1), n)[known],
                "x_km": visits.loc_x[flat[known]],
                "y_km": visits.loc_y[flat[known]],
            }
        ),
    )


def top_n_anonymity(
    traces,
    *,
    n: int,
    granularity="antenna",
    ordered: bool = True,
    cluster_km="auto",
    places=None,
    districts: Districts | None = None,
) -> AnonymityResult:
    """How many devices share each device's top-n locations (Zang & Bolot 2011).

    Parameters
    ----------
    traces : DataFrame or HourlyVisits
        A ``traces`` table, raw or transformed (or its :class:`HourlyVisits`).
    n : int
        Locations known per device (its n most frequent, see :func:`top_locations`).
    granularity : str or float, default "antenna"
        ``"antenna"`` (as recorded), a cell size in km, or ``"district"``.
    ordered : bool, default True
        True: two devices match when their top-n locations are equal in
        rank order. False: when they are the same set of locations.
    cluster_km : float, None or "auto", default "auto"
        Stay-point radius for GPS traces.
    places : DataFrame, optional
        The public map, for ``granularity="district"``.
    districts : Districts, optional
        Prebuilt districts (instead of ``places``).

    Returns
    -------
    AnonymityResult
        Share unique with its 95% Wilson interval, median set size, and the
        per-device ``devices`` (set sizes) and ``places`` (the key) tables.

    Notes
    -----
    Only devices seen at n or more distinct locations (at this granularity)
    are measured; the others are counted in ``n_excluded``. Leaving them out
    changes no one's set size (a shorter list never equals a list of n) and
    keeps the share about the devices the attacker's knowledge applies to.
    Unlike ``unicity(knowledge="top")``, which counts every device that
    merely visited the places, here the other device must have the same
    places as its own top n: the attacker knows where someone spends most
    of their time, and so does the data. At the finest granularity of GPS
    data (stay points) every device's places differ by metres, so use
    cells or districts there.

    References
    ----------
    .. [1] Zang, H., Bolot, J. (2011). Anonymization of location data does
       not work: a large-scale measurement study. MobiCom '11, 145-156.

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_commutes()

    The two phones share their workplace but not their home, so their top two
    places single each out; in 10 km cells they share everything:

    >>> top_n_anonymity(traces, n=2).value
    1.0
    >>> top_n_anonymity(traces, n=1, granularity=10.0).devices["anonymity_set_size"].tolist()
    [2, 2]
    """
    n = check_n(n)
    visits = as_visits(traces, cluster_km=cluster_km)
    label, mapping = resolve_granularity(granularity, visits, places, districts)
    if mapping is not None:
        visits = visits.coarsen(*mapping, label)
    pairs = visits.location_hours(windows=False)
    order, rank = ranked_places(pairs, visits.n_devices)
    n_loc_dev = np.bincount(pairs.dev, minlength=visits.n_devices)
    present = n_loc_dev > 0
    eligible = n_loc_dev >= n
    keep = rank < n
    sel = order[keep]
    rows = np.full((visits.n_devices, n), -1, dtype=np.int64)
    rows[pairs.dev[sel], rank[keep]] = pairs.loc[sel]
    dev = np.flatnonzero(eligible)
    rows = rows[dev]
    key_rows = rows if ordered else np.sort(rows, axis=1)
    sizes = _group_sizes(key_rows, visits.n_locations)
    measure = f"top-{n}" if ordered or n == 1 else f"top-{n} (any order)"
    n_excluded = int((present & ~eligible).sum())
    return _result(measure, label, visits, dev, sizes, rows, n_excluded)


def home_work_anonymity(
    traces,
    *,
    granularity="antenna",
    cluster_km="auto",
    places=None,
    districts: Districts | None = None,
) -> AnonymityResult:
    """How many devices share each device's inferred home/work pair (Golle & Partridge 2009).

    Parameters
    ----------
    traces : DataFrame or HourlyVisits
        A ``traces`` table, raw or transformed (or its :class:`HourlyVisits`).
    granularity : str or float, default "antenna"
        ``"antenna"`` (as recorded), a cell size in km, or ``"district"``.
    cluster_km : float, None or "auto", default "auto"
        Stay-point radius for GPS traces.
    places : DataFrame, optional
        The public map, for ``granularity="district"``.
    districts : Districts, optional
        Prebuilt districts (instead of ``places``).

    Returns
    -------
    AnonymityResult
        As :func:`top_n_anonymity`, with ``places`` rank 1 the home and 2
        the work (at the granularity's resolution).

    Notes
    -----
    Home and work are inferred at the finest level (:func:`home_work`) and
    then placed in their cell or district, as Golle & Partridge placed
    known addresses in census blocks, tracts and counties. Devices without
    an inferred home or work (no night record, or none on weekday working
    hours away from home: people without a job, quiet phones) are left
    out and counted in ``n_excluded``. Two devices match when both the
    home unit and the work unit are equal.

    References
    ----------
    .. [1] Golle, P., Partridge, K. (2009). On the anonymity of home/work
       location pairs. Pervasive Computing, LNCS 5538, 390-397.
    """
    visits = as_visits(traces, cluster_km=cluster_km)
    home, _, work, _ = home_work_codes(visits)
    label, mapping = resolve_granularity(granularity, visits, places, districts)
    present = np.bincount(visits.dev, minlength=visits.n_devices) > 0
    eligible = (home >= 0) & (work >= 0)
    dev = np.flatnonzero(eligible)
    rows = np.stack([home[dev], work[dev]], axis=1)
    n_units = visits.n_locations
    if mapping is not None:
        unit, ux, uy = mapping
        rows = unit[rows]
        n_units = len(ux)
        visits = HourlyVisits(
            visits.device_ids,
            visits.dev,
            visits.loc,
            visits.hour,
            ux,
            uy,
            visits.cluster_km,
            label,
            visits.n_records,
        )
    sizes = _group_sizes(rows, n_units)
    n_excluded = int((present & ~eligible).sum())
    return _result("home/work", label, visits, dev, sizes, rows, n_excluded)


def anonymity_table(
    traces,
    *,
    n=(1, 2, 3),
    unordered=(3,),
    granularities=None,
    cluster_km="auto",
    places=None,
) -> pd.DataFrame:
    """Top-n and home/work anonymity over several granularities, as one tidy table.

    Parameters
    ----------
    traces : DataFrame or HourlyVisits
        A ``traces`` table, raw or transformed (or its :class:`HourlyVisits`).
    n : iterable of int, default (1, 2, 3)
        Top-n measures, ranked.
    unordered : iterable of int, default (3,)
        Top-n measures compared as sets (any order).
    granularities : iterable, optional
        Default :data:`GRANULARITIES` (antenna, 0.1, 0.5 and 2 km cells,
        district); "antenna" is skipped for GPS stay points, where it would
        make everyone trivially unique, and "district" when ``places`` is
        not given.
    cluster_km : float, None or "auto", default "auto"
        Stay-point radius for GPS traces.
    places : DataFrame, optional
        The public map, for districts.

    Returns
    -------
    DataFrame
        One row per measure and granularity: ``measure, granularity,
        share_unique, ci_low, ci_high, median_set_size, n_devices``
        (measure ``"top-1"``, ``"top-2"``, ``"top-3"``, ``"top-3 (any order)"``,
        ``"home/work"``).

    Notes
    -----
    See :func:`top_n_anonymity` and :func:`home_work_anonymity`. The hourly
    visits are computed once and coarsened for each granularity.

    References
    ----------
    .. [1] Zang, H., Bolot, J. (2011). Anonymization of location data does
       not work: a large-scale measurement study. MobiCom '11, 145-156.
    """
    visits = as_visits(traces, cluster_km=cluster_km)
    explicit = granularities is not None
    if granularities is None:
        granularities = [
            g
            for g in GRANULARITIES
            if not (g == "antenna" and visits.cluster_km is not None)
            and not (g == "district" and places is None)
        ]
    districts = Districts.from_places(places) if places is not None else None
    rows = []
    for g in granularities:
        label, mapping = resolve_granularity(g, visits, places, districts)
        if explicit is False and mapping is None and visits.cluster_km is not None:
            continue
        at = visits if mapping is None else visits.coarsen(*mapping, label)
        jobs = [(f"top-{k}", top_n_anonymity, {"n": k}) for k in n]
        jobs += [
            (
                f"top-{k} (any order)" if k > 1 else "top-1",
                top_n_anonymity,
                {"n": k, "ordered": False},
            )
            for k in unordered
        ]
        for measure, fn, kw in jobs:
            rows.append(_row_or_empty(measure, label, fn, at, **kw))
        rows.append(
            _row_or_empty(
                "home/work", label, home_work_anonymity, visits, granularity=g, districts=districts
            )
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _row_or_empty(measure: str, label: str, fn, *args, **kwargs) -> dict:
    """The row of ``fn(*args, **kwargs)``, or a row of NaN when no device qualifies."""
    try:
        return fn(*args, **kwargs).row()
    except _NoneEligible:
        nan = float("nan")
        return dict(zip(TABLE_COLUMNS, [measure, label, nan, nan, nan, nan, 0], strict=True))
