"""Top locations, home and work: where a device spends its hours, and how few such places single it out.

Every measure here starts from a device's **hourly visits**: the distinct
(location, hour) pairs of its trace. A location is where the record says the
phone was: the antenna's coordinates for call detail records, or, for GPS
pings, a **stay point** (the fixes of one device clustered within a radius,
so that the jitter of a GPS fix does not split a home into many places).
Locations are ranked by the number of distinct hours a device was seen there.

* :func:`top_locations`: each device's n most frequent locations.
* :func:`home_work`: the inferred home (most frequent location at night,
  22:00-06:00) and work (most frequent location on weekdays 09:00-17:00,
  other than home), each with the share of the window's hours behind it.
* :func:`top_n_anonymity` and :func:`home_work_anonymity`: how many devices
  share a device's ranked top-n locations, or its home/work pair, at a given
  granularity (as recorded, square cells, or districts of the city), the
  measures of Zang & Bolot (2011) and Golle & Partridge (2009).
* :func:`anonymity_table`: both measures over several granularities, one
  tidy table.

All of it reads the released ``traces`` (and, for districts, the public
``places`` map) and nothing else. Everything is numpy: one sort of the
records gives the hourly visits, and the rest is run-length counting and
sorting of integer keys, with no Python loop over records or devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes, time_window
from fewpoints.attacks.result import wilson_interval
from fewpoints.common import dedupe_sorted, device_codes, positive
from fewpoints.schema import FewpointsError, validate, validate_traces

__all__ = [
    "GRANULARITIES",
    "AnonymityResult",
    "Districts",
    "HourlyVisits",
    "anonymity_table",
    "home_work",
    "home_work_anonymity",
    "top_locations",
    "top_n_anonymity",
]

#: Granularities of :func:`anonymity_table`: as recorded, square cells (km), districts.
GRANULARITIES = ("antenna", 0.1, 0.5, 2.0, "district")
#: Stay-point radius used for GPS traces (a table with an ``accuracy_m`` column) by default.
DEFAULT_CLUSTER_KM = 0.05
#: Homes per district: about the size of a US census tract (about 1,600 homes, 4,000 people).
HOMES_PER_DISTRICT = 2000
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
_KEY_LIMIT = 2**62
_AS_RECORDED = ("antenna", "recorded", "as recorded", "stay point")


# ---------------------------------------------------------------------------
# hourly visits
# ---------------------------------------------------------------------------


@dataclass
class HourlyVisits:
    """The distinct (device, location, hour) triples of a trace table, sorted.

    Build it once with :meth:`from_traces` and pass it to any function of
    this module instead of the table, to skip the sort.

    Attributes
    ----------
    device_ids : ndarray of str
        Device labels; device code ``d`` is ``device_ids[d]``.
    dev, loc, hour : int64 arrays
        One entry per visit, sorted by device, then location, then hour
        (hours since 1970-01-01 00:00).
    loc_x, loc_y : float arrays
        Coordinates of each location code; codes follow x, then y.
    cluster_km : float or None
        Stay-point radius the locations were clustered with (None: as recorded).
    label : str
        What a location is: ``"antenna"``, ``"stay point"`` or ``"as recorded"``.
    n_records : int
        Rows of the table the visits come from.
    """

    device_ids: np.ndarray
    dev: np.ndarray
    loc: np.ndarray
    hour: np.ndarray
    loc_x: np.ndarray
    loc_y: np.ndarray
    cluster_km: float | None
    label: str
    n_records: int

    @classmethod
    def from_traces(cls, traces: pd.DataFrame, *, cluster_km="auto") -> HourlyVisits:
        """Hourly visits of a ``traces`` table.

        Parameters
        ----------
        traces : DataFrame
            ``device_id, time, x_km, y_km`` (raw or transformed).
        cluster_km : float, None or "auto", default "auto"
            Stay-point radius: GPS fixes of a device are clustered into stay
            points about this size (see Notes of :func:`top_locations`).
            None keeps locations as recorded (antennas, grid cells). "auto"
            clusters with 0.05 km when the table has an ``accuracy_m``
            column (GPS) and keeps locations as recorded otherwise.
        """
        validate_traces(traces)
        if len(traces) == 0:
            raise FewpointsError("the traces table is empty")
        radius = _cluster_radius(traces, cluster_km)
        dev, device_ids = device_codes(traces["device_id"])
        x = traces["x_km"].to_numpy(dtype=np.float64)
        y = traces["y_km"].to_numpy(dtype=np.float64)
        if radius is None:
            loc, loc_x, loc_y = location_codes(x, y)
            label = "antenna" if "antenna_id" in traces.columns else "as recorded"
        else:
            weight = None
            if "accuracy_m" in traces.columns:
                acc = traces["accuracy_m"].to_numpy(dtype=np.float64)
                weight = 1.0 / np.maximum(np.nan_to_num(acc, nan=1000.0 * radius), 1.0) ** 2
            loc, loc_x, loc_y = _stay_points(dev, x, y, weight, radius)
            label = "stay point"
        seconds = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
        hour = seconds // 3600
        del seconds
        dev, loc, hour = _unique_triples(dev, loc, hour, len(device_ids), len(loc_x))
        return cls(device_ids, dev, loc, hour, loc_x, loc_y, radius, label, len(traces))

    @property
    def n_devices(self) -> int:
        return len(self.device_ids)

    @property
    def n_locations(self) -> int:
        return len(self.loc_x)

    def __repr__(self) -> str:
        return (
            f"HourlyVisits({self.n_records:,} records, {self.n_devices:,} devices, "
            f"{len(self.dev):,} hourly visits at {self.n_locations:,} locations ({self.label}))"
        )

    def coarsen(self, unit: np.ndarray, unit_x: np.ndarray, unit_y: np.ndarray, label: str):
        """The same visits with location ``l`` replaced by ``unit[l]`` (coordinates ``unit_x, unit_y``)."""
        dev, loc, hour = _unique_triples(
            self.dev, unit[self.loc], self.hour, self.n_devices, len(unit_x)
        )
        return HourlyVisits(
            self.device_ids,
            dev,
            loc,
            hour,
            np.asarray(unit_x, dtype=np.float64),
            np.asarray(unit_y, dtype=np.float64),
            self.cluster_km,
            label,
            self.n_records,
        )

    def location_hours(self, *, windows: bool = True) -> _Pairs:
        """Hours per (device, location), and (``windows=True``) the night and weekday-daytime hours."""
        if len(self.dev) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return _Pairs(empty, empty, empty, empty, empty)
        new = np.empty(len(self.dev), dtype=bool)
        new[0] = True
        new[1:] = (self.dev[1:] != self.dev[:-1]) | (self.loc[1:] != self.loc[:-1])
        starts = np.flatnonzero(new)
        n_pairs = len(starts)
        hours = np.diff(np.append(starts, len(self.dev)))
        night = day = None
        if windows:
            pair = np.cumsum(new) - 1
            window = time_window(self.hour * 3600)
            night = np.bincount(pair[window == 1], minlength=n_pairs)
            day = np.bincount(pair[window == 2], minlength=n_pairs)
        return _Pairs(self.dev[starts], self.loc[starts], hours, night, day)


@dataclass
class _Pairs:
    """One row per (device, location), sorted by device then location."""

    dev: np.ndarray
    loc: np.ndarray
    hours: np.ndarray
    night: np.ndarray | None
    day: np.ndarray | None


def as_visits(traces_or_visits, *, cluster_km="auto") -> HourlyVisits:
    """Return ``traces_or_visits`` if it is :class:`HourlyVisits`, else build them from the table."""
    if isinstance(traces_or_visits, HourlyVisits):
        return traces_or_visits
    if isinstance(traces_or_visits, pd.DataFrame):
        return HourlyVisits.from_traces(traces_or_visits, cluster_km=cluster_km)
    raise FewpointsError(
        f"expected a traces DataFrame or HourlyVisits, got {type(traces_or_visits).__name__}"
    )


def _cluster_radius(traces: pd.DataFrame, cluster_km) -> float | None:
    if cluster_km is None:
        return None
    if isinstance(cluster_km, str):
        if cluster_km != "auto":
            raise FewpointsError(
                f"cluster_km must be a distance in km, None or 'auto', got {cluster_km!r}"
            )
        return DEFAULT_CLUSTER_KM if "accuracy_m" in traces.columns else None
    return positive(cluster_km, "cluster_km")


def _unique_triples(dev, loc, hour, n_dev, n_loc):
    """Sorted distinct (device, location, hour) triples as three int64 arrays."""
    dev = np.asarray(dev, dtype=np.int64)
    loc = np.asarray(loc, dtype=np.int64)
    hour = np.asarray(hour, dtype=np.int64)
    if len(dev) == 0:
        return dev, loc, hour
    h0 = int(hour.min())
    n_hour = int(hour.max()) - h0 + 1
    if n_dev * n_loc < _KEY_LIMIT // n_hour:
        key = (dev * n_loc + loc) * n_hour + (hour - h0)
        key.sort()
        key = dedupe_sorted(key)
        pair, h = np.divmod(key, n_hour)
        del key
        d, lc = np.divmod(pair, n_loc)
        return d, lc, h + h0
    # Too many devices x locations x hours for one int64 key: code the pairs first.
    pair = dev * n_loc + loc
    code, uniq = pd.factorize(pair, sort=True)
    key = code.astype(np.int64) * n_hour + (hour - h0)
    key.sort()
    key = dedupe_sorted(key)
    c, h = np.divmod(key, n_hour)
    d, lc = np.divmod(uniq[c], n_loc)
    return d, lc, h + h0


def _stay_points(dev, x, y, weight, radius_km):
    """Cluster each device's fixes into stay points: grid cells of side ``radius_km`` merged uphill.

    Every occupied cell of a device points to the busiest of its 3 x 3
    neighbourhood (itself included; ties to the lower cell), and the
    pointers are followed to a local peak: all cells draining to one peak
    form one stay point, located at the (weighted) mean of its fixes.
    Returns the stay point of every record and the stay points'
    coordinates, coded in order of x then y.
    """
    i = np.floor(x / radius_km).astype(np.int64)
    j = np.floor(y / radius_km).astype(np.int64)
    i -= i.min() - 1  # a margin of one cell, so that neighbours never wrap
    j -= j.min() - 1
    nj = int(j.max()) + 2
    n_cell = (int(i.max()) + 2) * nj
    if dev.max() + 1 >= _KEY_LIMIT // n_cell:
        raise FewpointsError("the stay-point radius is too small for the extent of these traces")
    key = dev * n_cell + i * nj + j
    del i, j
    cells, inv, count = np.unique(key, return_inverse=True, return_counts=True)
    del key
    n = len(cells)
    best = np.arange(n)
    best_count = count.copy()
    last = n - 1
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di == 0 and dj == 0:
                continue
            target = cells + di * nj + dj
            pos = np.minimum(np.searchsorted(cells, target), last)
            found = cells[pos] == target
            c = np.where(found, count[pos], -1)
            better = (c > best_count) | ((c == best_count) & found & (pos < best))
            best = np.where(better, pos, best)
            best_count = np.where(better, c, best_count)
    while True:
        nxt = best[best]
        if np.array_equal(nxt, best):
            break
        best = nxt
    root = best[inv.ravel()]
    del inv
    w = np.ones(len(x)) if weight is None else weight
    wsum = np.bincount(root, weights=w, minlength=n)
    cx = np.bincount(root, weights=w * x, minlength=n)
    cy = np.bincount(root, weights=w * y, minlength=n)
    peaks = np.flatnonzero(wsum > 0)
    px = np.round(cx[peaks] / wsum[peaks], 4)
    py = np.round(cy[peaks] / wsum[peaks], 4)
    order = np.lexsort((peaks, py, px))
    code_of_peak = np.empty(n, dtype=np.int64)
    code_of_peak[peaks[order]] = np.arange(len(peaks))
    return code_of_peak[root], px[order], py[order]


# ---------------------------------------------------------------------------
# granularity: cells and districts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Districts:
    """Districts of the city made from the public map, about equal in homes.

    The public home addresses (``places`` of kind ``"home"``) are cut in two
    at their median x, each half at its median y, and so on, until a
    district holds about ``homes_per_district`` homes: the way census
    geographies are drawn to hold about equal populations. Any point gets
    the district whose box contains it (the outer districts extend beyond
    the city, out-of-town places included).

    Attributes
    ----------
    split : float array
        Split coordinate of each node of the cut tree (heap order).
    depth : int
        Cuts from the whole city to a district (2**depth districts).
    centre_x, centre_y : float arrays
        Mean position of each district's homes.
    n_homes : int array
        Homes in each district.
    """

    split: np.ndarray
    depth: int
    centre_x: np.ndarray
    centre_y: np.ndarray
    n_homes: np.ndarray

    @classmethod
    def from_places(cls, places: pd.DataFrame, *, homes_per_district: int = HOMES_PER_DISTRICT):
        """Cut the city into districts of about ``homes_per_district`` public home addresses."""
        validate(places, "places")
        homes = places[places["kind"] == "home"]
        if len(homes) == 0:
            homes = places
        if len(homes) == 0:
            raise FewpointsError("the places table is empty: no map to draw districts from")
        if homes_per_district < 1:
            raise FewpointsError(f"homes_per_district must be at least 1, got {homes_per_district}")
        x = homes["x_km"].to_numpy(dtype=np.float64)
        y = homes["y_km"].to_numpy(dtype=np.float64)
        depth = max(0, int(round(np.log2(max(len(x) / homes_per_district, 1.0)))))
        split = np.full(2**depth - 1, np.nan)
        node = np.zeros(len(x), dtype=np.int64)
        for level in range(depth):
            v = x if level % 2 == 0 else y
            n_nodes = 2**level
            order = np.lexsort((v, node))
            counts = np.bincount(node, minlength=n_nodes)
            first = np.cumsum(counts) - counts
            has = counts > 0
            mid = np.where(has, first + counts // 2, 0)
            s = np.where(has, v[order][np.minimum(mid, len(v) - 1)], np.nan)
            split[n_nodes - 1 : 2 * n_nodes - 1] = s
            node = 2 * node + (v >= s[node])
        n_d = 2**depth
        n_homes = np.bincount(node, minlength=n_d)
        with np.errstate(invalid="ignore", divide="ignore"):
            cx = np.bincount(node, weights=x, minlength=n_d) / n_homes
            cy = np.bincount(node, weights=y, minlength=n_d) / n_homes
        return cls(split, depth, cx, cy, n_homes)

    @property
    def n_districts(self) -> int:
        return 2**self.depth

    def assign(self, x_km, y_km) -> np.ndarray:
        """District code of each point."""
        x = np.asarray(x_km, dtype=np.float64)
        y = np.asarray(y_km, dtype=np.float64)
        node = np.zeros(len(x), dtype=np.int64)
        for level in range(self.depth):
            v = x if level % 2 == 0 else y
            s = self.split[2**level - 1 + node]
            node = 2 * node + (v >= s)
        return node


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


def ranked_places(pairs: _Pairs, n_devices: int) -> tuple[np.ndarray, np.ndarray]:
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
# public functions
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
    """
    n = _check_n(n)
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


# ---------------------------------------------------------------------------
# anonymity sets
# ---------------------------------------------------------------------------


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
    if base**width < _KEY_LIMIT:
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
    """
    n = _check_n(n)
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


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise FewpointsError(f"n must be a whole number, got {n!r}")
    if n < 1:
        raise FewpointsError(f"n must be at least 1, got {n}")
    return int(n)
