"""Inference: what a trace reveals about the person behind it (visits to sensitive places).

Once a pseudonymous trace is linked to a name, every place it visits is
known about that person. The public map marks some places as sensitive
(``places.sensitive``: health, worship, legal aid, shelters); this module
finds the devices that stayed at one and when, from the released ``traces``
and the public ``places`` (and ``antennas``) only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes
from fewpoints.attacks.top_locations import HourlyVisits, home_work_codes
from fewpoints.common import device_codes, nearest
from fewpoints.schema import FewpointsError, validate, validate_traces

__all__ = ["VISIT_COLUMNS", "sensitive_visits"]

#: Columns of :func:`sensitive_visits`.
VISIT_COLUMNS = [
    "device_id",
    "place_id",
    "name",
    "kind",
    "x_km",
    "y_km",
    "start",
    "end",
    "minutes",
    "n_records",
]
#: Largest grid the GPS proximity search marks (cells); coarser cells beyond it.
_MAX_GRID_CELLS = 20_000_000


def sensitive_visits(
    traces: pd.DataFrame,
    places: pd.DataFrame,
    *,
    min_minutes: float = 0.0,
    radius_km: float = 0.05,
    max_gap_minutes: float = 120.0,
    antennas: pd.DataFrame | None = None,
    exclude_home_work: bool = True,
) -> pd.DataFrame:
    """Which devices stayed at sensitive places (health, worship, legal aid, shelter), and when.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table, raw or transformed.
    places : DataFrame
        The public map; its ``sensitive`` rows are searched.
    min_minutes : float, default 0
        Shortest stay reported: a stay spans from its first to its last
        record, so 0 reports single records too (most visits in sparse data).
    radius_km : float, default 0.05
        GPS traces (with an ``accuracy_m`` column): a fix is at a place when
        within this distance of it; fixes whose ``accuracy_m`` is coarser
        than the radius are ignored (they cannot place the phone that
        precisely).
    max_gap_minutes : float, default 120
        Two records near the same place further apart than this are two
        stays, even with no record elsewhere in between.
    antennas : DataFrame, optional
        Call detail records (no ``accuracy_m``): the public antenna map. A
        record is "at" a place when it was served by the antenna nearest the
        place. Without it, the nearest location recorded in ``traces`` stands
        in for the nearest antenna.
    exclude_home_work : bool, default True
        Leave out places at the device's own inferred home or work location
        (:func:`~fewpoints.attacks.top_locations.home_work`): a neighbour of
        a clinic is not its patient. The price: a sparse trace whose only
        weekday-daytime place is the clinic has it inferred as work, and
        that visit is left out too.

    Returns
    -------
    DataFrame
        One row per stay: ``device_id, place_id, name, kind, x_km, y_km``
        (the place), ``start``, ``end`` (first and last record of the stay),
        ``minutes`` (end - start), ``n_records``; sorted by device, then
        start, then place.

    Raises
    ------
    FewpointsError
        On a malformed table or a negative or non-numeric parameter.

    Notes
    -----
    A **stay** is a run of consecutive records of one device (in time
    order, with no record elsewhere in between and no gap longer than
    ``max_gap_minutes``) all at the same sensitive place. With GPS pings
    this is strong evidence: a fix within 50 m, often several. With call
    detail records it is weak evidence: the record says only which antenna
    served the call, and everyone near that antenna (shoppers, passers-by,
    neighbours) shows up as a "visit" to every sensitive place it is the
    nearest antenna of; read those rows as leads, not facts. Either way,
    joined with a name, this table is what a data broker's file reveals
    about a person: the clinic, the place of worship, the legal-aid office,
    the shelter.

    References
    ----------
    .. [1] Krumm, J. (2007). Inference attacks on location tracks.
       Pervasive Computing, LNCS 4480, 127-143.

    Examples
    --------
    >>> from fewpoints import examples
    >>> world = examples.tiny_clinic()
    >>> traces, places = world["traces"], world["places"]

    Phone ``b`` sleeps at 2 Elm St, works at x = 3 km, and was at the clinic
    on Wednesday afternoon:

    >>> visits = sensitive_visits(traces, places)
    >>> visits[["device_id", "name", "n_records"]].values.tolist()
    [['b', 'Kind Clinic', 1]]
    """
    validate_traces(traces)
    validate(places, "places")
    min_minutes = _non_negative(min_minutes, "min_minutes")
    max_gap = _non_negative(max_gap_minutes, "max_gap_minutes") * 60.0
    radius = _non_negative(radius_km, "radius_km")
    if radius <= 0:
        raise FewpointsError(f"radius_km must be positive, got {radius_km!r}")
    sens = places[places["sensitive"].astype(bool)].reset_index(drop=True)
    if len(traces) == 0 or len(sens) == 0:
        return _empty()

    dev, device_ids = device_codes(traces["device_id"])
    x = traces["x_km"].to_numpy(dtype=np.float64)
    y = traces["y_km"].to_numpy(dtype=np.float64)
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    px = sens["x_km"].to_numpy(dtype=np.float64)
    py = sens["y_km"].to_numpy(dtype=np.float64)
    gps = "accuracy_m" in traces.columns

    if gps:
        usable = traces["accuracy_m"].to_numpy(dtype=np.float64) <= radius * 1000.0
        rec, place = _within(x, y, usable, px, py, radius)
        rec, place = _nearest_on_map(rec, place, x, y, px, py, places, radius)
    else:
        if antennas is not None:
            validate(antennas, "antennas")
        rec, place = _served_by_nearest(x, y, px, py, antennas)
    if len(rec) == 0:
        return _empty()

    if exclude_home_work:
        at_own = _at_home_or_work(traces, dev, rec, place, px, py, radius, gps)
        rec, place = rec[~at_own], place[~at_own]
        if len(rec) == 0:
            return _empty()

    # Position of every record in its device's time-ordered trace.
    order = np.lexsort((t, dev))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    pos = position[rec]
    # Runs of consecutive positions at the same place.
    o = np.lexsort((pos, place, dev[rec]))
    rec, place, pos = rec[o], place[o], pos[o]
    d, tt = dev[rec], t[rec]
    new = np.ones(len(rec), dtype=bool)
    new[1:] = (
        (d[1:] != d[:-1])
        | (place[1:] != place[:-1])
        | (pos[1:] != pos[:-1] + 1)
        | (tt[1:] - tt[:-1] > max_gap)
    )
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(rec)) - 1
    start_t, end_t = tt[starts], tt[ends]
    minutes = (end_t - start_t) / 60.0
    keep = minutes >= min_minutes
    starts, ends, start_t, end_t, minutes = (
        a[keep] for a in (starts, ends, start_t, end_t, minutes)
    )
    pl = place[starts]
    out = pd.DataFrame(
        {
            "device_id": device_ids[d[starts]],
            "place_id": sens["place_id"].to_numpy()[pl],
            "name": sens["name"].to_numpy()[pl],
            "kind": sens["kind"].to_numpy()[pl],
            "x_km": px[pl],
            "y_km": py[pl],
            "start": start_t.view("datetime64[s]"),
            "end": end_t.view("datetime64[s]"),
            "minutes": minutes,
            "n_records": (ends - starts + 1).astype(np.int64),
        }
    )
    return out.sort_values(["device_id", "start", "place_id"], kind="stable").reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "device_id": pd.Series(dtype=object),
            "place_id": pd.Series(dtype=np.int64),
            "name": pd.Series(dtype=object),
            "kind": pd.Series(dtype=object),
            "x_km": pd.Series(dtype=np.float64),
            "y_km": pd.Series(dtype=np.float64),
            "start": pd.Series(dtype="datetime64[s]"),
            "end": pd.Series(dtype="datetime64[s]"),
            "minutes": pd.Series(dtype=np.float64),
            "n_records": pd.Series(dtype=np.int64),
        }
    )


def _non_negative(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FewpointsError(f"{name} must be a number, got {value!r}") from None
    if not (np.isfinite(v) and v >= 0):
        raise FewpointsError(f"{name} must be zero or positive, got {value!r}")
    return v


def _within(x, y, usable, px, py, radius, chunk: int = 1 << 20):
    """(record, place) pairs with the record within ``radius`` of the place.

    Places are bucketed in square cells of side ``radius``: a record can only
    be near the places of its own cell and the 8 around it. A boolean grid
    of those cells first drops the records far from every place, then each
    remaining record looks up its 9 cells (binary searches in the sorted cell
    keys), in chunks so that memory stays bounded however dense the map.
    """
    x0, y0 = px.min() - 2 * radius, py.min() - 2 * radius
    ni = int(np.floor((px.max() - x0) / radius)) + 3
    nj = int(np.floor((py.max() - y0) / radius)) + 3
    pi = np.floor((px - x0) / radius).astype(np.int64)
    pj = np.floor((py - y0) / radius).astype(np.int64)
    order = np.argsort(pi * nj + pj, kind="stable")
    keys = (pi * nj + pj)[order]
    ri = np.floor((x - x0) / radius)
    rj = np.floor((y - y0) / radius)
    cand = np.flatnonzero(usable & (ri >= 1) & (ri < ni - 1) & (rj >= 1) & (rj < nj - 1))
    if ni * nj <= _MAX_GRID_CELLS:
        near = np.zeros(ni * nj, dtype=bool)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                near[keys + di * nj + dj] = True
        cand = cand[near[ri[cand].astype(np.int64) * nj + rj[cand].astype(np.int64)]]
    recs, places = [], []
    for s in range(0, len(cand), chunk):
        c = cand[s : s + chunk]
        k = ri[c].astype(np.int64) * nj + rj[c].astype(np.int64)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                q = k + di * nj + dj
                lo = np.searchsorted(keys, q, side="left")
                n = np.searchsorted(keys, q, side="right") - lo
                if not n.any():
                    continue
                rec = np.repeat(c, n)
                first = np.cumsum(n) - n
                place = order[np.arange(int(n.sum())) - np.repeat(first - lo, n)]
                close = np.hypot(x[rec] - px[place], y[rec] - py[place]) <= radius
                recs.append(rec[close])
                places.append(place[close])
    if not recs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(recs), np.concatenate(places)


def _nearest_on_map(rec, place, x, y, px, py, places, radius):
    """Keep the pairs whose sensitive place is the nearest place of any kind on the public map."""
    if len(rec) == 0:
        return rec, place
    ax = places["x_km"].to_numpy(dtype=np.float64)
    ay = places["y_km"].to_numpy(dtype=np.float64)
    cand = np.unique(rec)
    r2, p2 = _within(x[cand], y[cand], np.ones(len(cand), dtype=bool), ax, ay, radius)
    best = np.full(len(cand), np.inf)
    np.minimum.at(best, r2, np.hypot(x[cand][r2] - ax[p2], y[cand][r2] - ay[p2]))
    d = np.hypot(x[rec] - px[place], y[rec] - py[place])
    keep = d <= best[np.searchsorted(cand, rec)]
    return rec[keep], place[keep]


def _served_by_nearest(x, y, px, py, antennas):
    """(record, place) pairs with the record at the antenna nearest the place."""
    loc, lx, ly = location_codes(x, y)
    if antennas is not None and len(antennas):
        ax = antennas["x_km"].to_numpy(dtype=np.float64)
        ay = antennas["y_km"].to_numpy(dtype=np.float64)
        a = nearest(px, py, ax, ay)
        lookup = pd.MultiIndex.from_arrays([lx + 0.0, ly + 0.0])
        place_loc = lookup.get_indexer(pd.MultiIndex.from_arrays([ax[a] + 0.0, ay[a] + 0.0]))
    else:
        place_loc = nearest(px, py, lx, ly)
    has = place_loc >= 0
    places_idx = np.flatnonzero(has)
    order = np.argsort(place_loc[has], kind="stable")
    sorted_loc = place_loc[has][order]
    lo = np.searchsorted(sorted_loc, loc, side="left")
    hi = np.searchsorted(sorted_loc, loc, side="right")
    k = hi - lo
    rec = np.repeat(np.arange(len(loc)), k)
    first = np.cumsum(k) - k
    place = places_idx[order[np.arange(int(k.sum())) - np.repeat(first - lo, k)]]
    return rec, place


def _at_home_or_work(traces, dev, rec, place, px, py, radius, gps) -> np.ndarray:
    """For each (record, place) pair: is the place at the device's own inferred home or work?"""
    visits = HourlyVisits.from_traces(traces)
    home, _, work, _ = home_work_codes(visits)
    # visits.device_ids and dev come from the same coding of traces["device_id"].
    own = np.zeros(len(rec), dtype=bool)
    d = dev[rec]
    for loc in (home, work):
        code = loc[d]
        has = code >= 0
        lx = np.where(has, visits.loc_x[np.maximum(code, 0)], np.nan)
        ly = np.where(has, visits.loc_y[np.maximum(code, 0)], np.nan)
        if gps:
            own |= has & (np.hypot(lx - px[place], ly - py[place]) <= 2 * radius)
        else:
            x = traces["x_km"].to_numpy(dtype=np.float64)[rec]
            y = traces["y_km"].to_numpy(dtype=np.float64)[rec]
            own |= has & (lx == x) & (ly == y)
    return own
