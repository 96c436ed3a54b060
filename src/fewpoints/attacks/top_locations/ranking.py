"""Ranking a device's places: its top locations and its home and work, at a granularity.

Places are ranked by the distinct hours a device was seen there, in the unit
a granularity names (as recorded, a square cell, a district); home is the
place seen most at night, work the place other than home seen most on
weekday working hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes
from fewpoints.attacks.top_locations.visits import Districts, HourlyVisits, Pairs, as_visits
from fewpoints.common import check_count
from fewpoints.schema import FewpointsError

_AS_RECORDED = ("antenna", "recorded", "as recorded", "stay point")


# ---------------------------------------------------------------------------
# granularity: cells and districts
# ---------------------------------------------------------------------------


def resolve_granularity(granularity, visits: HourlyVisits, places, districts):
    """(label, unit of each location, unit x, unit y), or None for locations as recorded."""
    if granularity is None or (isinstance(granularity, str) and granularity in _AS_RECORDED):
        return visits.label, None
    if isinstance(granularity, str) and granularity == "district":
        if districts is None:
            if places is None:
                raise FewpointsError(
                    "granularity 'district' needs the public places map (places=...)"
                )
            districts = Districts.from_places(places)
        unit = districts.assign(visits.loc_x, visits.loc_y)
        return "district", (unit, districts.centre_x, districts.centre_y)
    cell = granularity
    if isinstance(granularity, str):
        text = granularity.strip().removesuffix("km").strip()
        try:
            cell = float(text)
        except ValueError:
            raise FewpointsError(
                f"unknown granularity {granularity!r}; use 'antenna' (as recorded), "
                "a cell size in km such as 0.5, or 'district'"
            ) from None
    if isinstance(cell, bool) or not isinstance(cell, (int, float, np.integer, np.floating)):
        raise FewpointsError(f"unknown granularity {granularity!r}")
    cell = float(cell)
    if not (np.isfinite(cell) and cell > 0):
        raise FewpointsError(
            f"a cell granularity must be a positive size in km, got {granularity!r}"
        )
    ci = np.floor(visits.loc_x / cell)
    cj = np.floor(visits.loc_y / cell)
    unit, ux, uy = location_codes((ci + 0.5) * cell, (cj + 0.5) * cell)
    return f"{cell:g} km", (unit, ux, uy)


def _at(visits: HourlyVisits, granularity, places, districts) -> HourlyVisits:
    label, mapping = resolve_granularity(granularity, visits, places, districts)
    if mapping is None:
        return visits
    return visits.coarsen(*mapping, label)


# ---------------------------------------------------------------------------
# ranking
# ---------------------------------------------------------------------------


def ranked_places(pairs: Pairs, n_devices: int) -> tuple[np.ndarray, np.ndarray]:
    """Order of the pairs by device, then most hours, then location; and each one's rank (0-based)."""
    if len(pairs.dev) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    top = int(pairs.hours.max())
    # Pairs are sorted by device then location: a stable sort on (device, -hours)
    # keeps the location order among ties.
    order = np.argsort(pairs.dev * (top + 1) + (top - pairs.hours), kind="stable")
    dev = pairs.dev[order]
    counts = np.bincount(dev, minlength=n_devices)
    first = np.cumsum(counts) - counts
    return order, np.arange(len(order)) - first[dev]


def _best_per_device(dev: np.ndarray, score: np.ndarray, n_devices: int) -> np.ndarray:
    """Index of the pair with the highest positive score of each device (-1 if none; ties: first)."""
    out = np.full(n_devices, -1, dtype=np.int64)
    if len(dev) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, dev[1:] != dev[:-1]])
    best = np.zeros(n_devices, dtype=score.dtype)
    best[dev[starts]] = np.maximum.reduceat(score, starts)
    hit = np.flatnonzero((score == best[dev]) & (score > 0))
    # The first hit of each device (pairs are sorted by device, then location).
    first = np.ones(len(hit), dtype=bool)
    first[1:] = dev[hit[1:]] != dev[hit[:-1]]
    out[dev[hit[first]]] = hit[first]
    return out


# ---------------------------------------------------------------------------
# top locations, home and work
# ---------------------------------------------------------------------------


def top_locations(
    traces, *, n: int = 3, granularity="antenna", cluster_km="auto", places=None
) -> pd.DataFrame:
    """Each device's ``n`` most frequent locations, ranked by the distinct hours it was seen there.

    Parameters
    ----------
    traces : DataFrame or HourlyVisits
        A ``traces`` table, raw or transformed (or its :class:`HourlyVisits`).
    n : int, default 3
        Locations per device (fewer for a device seen at fewer places).
    granularity : str or float, default "antenna"
        ``"antenna"`` (locations as recorded: antennas for cdr, stay points
        for GPS), a square cell size in km (``0.5`` or ``"0.5 km"``), or
        ``"district"`` (needs ``places``; see :class:`Districts`). Hours are
        counted in the coarser unit, so a cell gathers the hours of all
        the antennas or stay points in it.
    cluster_km : float, None or "auto", default "auto"
        Stay-point radius for GPS traces (see :meth:`HourlyVisits.from_traces`).
    places : DataFrame, optional
        The public map, for ``granularity="district"``.

    Returns
    -------
    DataFrame
        ``device_id, rank, x_km, y_km, hours``: rank 1 is the location seen
        in the most distinct hours (ties go to the smaller x, then y).

    Notes
    -----
    Counting hours rather than records stops one burst of messages from
    outweighing a place visited every day. For GPS pings the fixes are
    first clustered into stay points: each device's fixes are snapped to
    cells of ``cluster_km``, every cell is merged into the busiest cell of
    its 3 x 3 neighbourhood (repeatedly, uphill), and the stay point sits at
    the accuracy-weighted mean of its fixes; places closer than about two
    radii can merge. An attacker learns from this table the few places a
    person's life turns around, which Zang & Bolot found to identify most
    people once two or three of them are known.

    References
    ----------
    .. [1] Zang, H., Bolot, J. (2011). Anonymization of location data does
       not work: a large-scale measurement study. MobiCom '11, 145-156.

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_commutes()

    >>> top = top_locations(traces, n=2)
    >>> top[["device_id", "rank", "x_km", "hours"]].values.tolist()
    [['a', 1, 0.0, 2], ['a', 2, 3.0, 2], ['b', 1, 3.0, 2], ['b', 2, 1.0, 1]]
    """
    n = check_n(n)
    visits = _at(as_visits(traces, cluster_km=cluster_km), granularity, places, None)
    pairs = visits.location_hours(windows=False)
    order, rank = ranked_places(pairs, visits.n_devices)
    keep = rank < n
    sel = order[keep]
    loc = pairs.loc[sel]
    return pd.DataFrame(
        {
            "device_id": visits.device_ids[pairs.dev[sel]],
            "rank": (rank[keep] + 1).astype(np.int64),
            "x_km": visits.loc_x[loc],
            "y_km": visits.loc_y[loc],
            "hours": pairs.hours[sel].astype(np.int64),
        }
    )


def home_work_codes(visits: HourlyVisits):
    """Home and work location codes per device (-1 if none) and their supports."""
    pairs = visits.location_hours()
    n_dev = visits.n_devices
    home = _best_per_device(pairs.dev, pairs.night, n_dev)
    day = pairs.day.copy()
    has_home = home >= 0
    day[home[has_home]] = 0  # work is somewhere other than home
    work = _best_per_device(pairs.dev, day, n_dev)
    night_total = np.bincount(pairs.dev, weights=pairs.night, minlength=n_dev)
    day_total = np.bincount(pairs.dev, weights=pairs.day, minlength=n_dev)
    home_loc = np.where(home >= 0, pairs.loc[home], -1)
    work_loc = np.where(work >= 0, pairs.loc[work], -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        home_support = np.where(home >= 0, pairs.night[home] / night_total, np.nan)
        work_support = np.where(work >= 0, pairs.day[work] / day_total, np.nan)
    return home_loc, home_support, work_loc, work_support


def home_work(traces, *, cluster_km="auto") -> pd.DataFrame:
    """Each device's inferred home and work, with the share of hours that support them.

    Parameters
    ----------
    traces : DataFrame or HourlyVisits
        A ``traces`` table, raw or transformed (or its :class:`HourlyVisits`).
    cluster_km : float, None or "auto", default "auto"
        Stay-point radius for GPS traces (see :meth:`HourlyVisits.from_traces`).

    Returns
    -------
    DataFrame
        One row per device: ``device_id, home_x_km, home_y_km,
        home_support, work_x_km, work_y_km, work_support``. Home is the
        location seen in the most distinct hours between 22:00 and 06:00;
        ``home_support`` is its share of the device's night hours (hours at
        two places count twice). Work is the location, other than home, seen
        in the most distinct hours on weekdays 09:00-17:00; ``work_support``
        is its share of those hours. NaN where the trace has no such hour
        (no night record; no weekday-daytime record away from home).

    Notes
    -----
    Night and working hours are the two anchors of most lives, and a phone
    records both: the home is found for nearly everyone with a night-time
    record, the work for most people with a job. A home/work pair is close
    to a fingerprint (Golle & Partridge 2009), and with a public address
    directory it turns a pseudonymous device into a name. A low support
    says the guess rests on little evidence (few hours, or several
    places at night).

    References
    ----------
    .. [1] Golle, P., Partridge, K. (2009). On the anonymity of home/work
       location pairs. Pervasive Computing, LNCS 5538, 390-397.

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_commutes()

    Monday 2 March 2026: both phones sleep at home and work at x = 3 km on Tuesday:

    >>> homes = home_work(traces)
    >>> homes[["device_id", "home_x_km", "work_x_km"]].values.tolist()
    [['a', 0.0, 3.0], ['b', 1.0, 3.0]]
    """
    visits = as_visits(traces, cluster_km=cluster_km)
    home, home_support, work, work_support = home_work_codes(visits)
    hx = np.where(home >= 0, visits.loc_x[np.maximum(home, 0)], np.nan)
    hy = np.where(home >= 0, visits.loc_y[np.maximum(home, 0)], np.nan)
    wx = np.where(work >= 0, visits.loc_x[np.maximum(work, 0)], np.nan)
    wy = np.where(work >= 0, visits.loc_y[np.maximum(work, 0)], np.nan)
    present = np.bincount(visits.dev, minlength=visits.n_devices) > 0
    return pd.DataFrame(
        {
            "device_id": visits.device_ids,
            "home_x_km": hx,
            "home_y_km": hy,
            "home_support": home_support,
            "work_x_km": wx,
            "work_y_km": wy,
            "work_support": work_support,
        }
    )[present].reset_index(drop=True)


def check_n(n) -> int:
    return check_count(n, "n")
