"""Hourly visits: a trace's distinct (device, location, hour) triples, and the places they count in.

A location is where a record says the phone was: the antenna for call
records, or a **stay point** for GPS pings (a device's fixes clustered
within a radius). :class:`HourlyVisits` holds the sorted triples;
:class:`Districts` cuts the public map into districts of about equal homes,
the coarsest place a visit can be counted in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes, time_window
from fewpoints.common import dedupe_sorted, device_codes, positive
from fewpoints.schema import FewpointsError, validate, validate_traces

#: Stay-point radius used for GPS traces (a table with an ``accuracy_m`` column) by default.
DEFAULT_CLUSTER_KM = 0.05


#: Homes per district: about the size of a US census tract (about 1,600 homes, 4,000 people).
HOMES_PER_DISTRICT = 2000


KEY_LIMIT = 2**62


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

    def location_hours(self, *, windows: bool = True) -> Pairs:
        """Hours per (device, location), and (``windows=True``) the night and weekday-daytime hours."""
        if len(self.dev) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Pairs(empty, empty, empty, empty, empty)
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
        return Pairs(self.dev[starts], self.loc[starts], hours, night, day)


@dataclass
class Pairs:
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
    if n_dev * n_loc < KEY_LIMIT // n_hour:
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
    if dev.max() + 1 >= KEY_LIMIT // n_cell:
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
# districts
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
