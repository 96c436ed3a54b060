"""An inverted index from point to devices, built once per ``traces`` table and reused.

A **point** is a distinct ``(x_km, y_km, time)`` value of a trace, at whatever
resolution the table carries. The index integer-codes every point and every
device and keeps two sorted arrays (CSR style):

* point -> devices: the unique ``(point, device)`` pairs sorted by point then
  device, stored as one int64 key ``point * n_devices + device``, with the
  offset of each point's posting list. Asking "does device d have point q?"
  is a binary search for the key ``q * n_devices + d``.
* device -> points: the same pairs sorted by device, to draw a target's points.

Place-level postings (a location at any time, or within a daily time window)
are built on demand from the same pairs, for "top places" and "home and work"
knowledge.

All of it is numpy: building sorts int64 keys (no Python loop per record) and
a query expands every target's rarest point into candidate devices and tests
the other points with ``np.searchsorted``, for all targets at once, in chunks
that bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fewpoints.schema import FewpointsError, validate_traces

__all__ = ["PointIndex", "as_index"]

#: Upper bound for an int64 key ``item * n_devices + device`` (kept clear of overflow).
_KEY_LIMIT = 2**62

#: Daily time windows for "home and work" knowledge: night and weekday working hours.
NIGHT_HOURS = (22, 6)  # 22:00 to 06:00
WORK_HOURS = (9, 17)  # 09:00 to 17:00, Monday to Friday
WINDOW_LABELS = {
    "any": "any time",
    "night": "night 22:00-06:00",
    "workday": "weekday 09:00-17:00",
}


@dataclass
class Postings:
    """Sorted ``(item, device)`` pairs with the offset of each item's posting list.

    ``keys[offsets[i]:offsets[i + 1]] - i * n_devices`` are the devices of item
    ``i``, in increasing order.
    """

    keys: np.ndarray
    offsets: np.ndarray
    n_devices: int

    @classmethod
    def from_pairs(cls, items: np.ndarray, devices: np.ndarray, n_items: int, n_devices: int):
        """Build from (possibly repeated) item and device codes."""
        if n_items * n_devices >= _KEY_LIMIT:
            raise FewpointsError("too many distinct points and devices to index")
        keys = items.astype(np.int64) * n_devices + devices
        keys.sort()
        keys = _dedupe_sorted(keys)
        counts = np.bincount(keys // n_devices, minlength=n_items)
        offsets = np.zeros(n_items + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(keys, offsets, n_devices)

    @property
    def n_items(self) -> int:
        return len(self.offsets) - 1

    def sizes(self, items: np.ndarray) -> np.ndarray:
        """Number of devices holding each item."""
        return self.offsets[items + 1] - self.offsets[items]

    def devices(self) -> np.ndarray:
        """The device of every pair (same order as ``keys``)."""
        return (self.keys % self.n_devices).astype(np.int64)

    def anonymity_sets(
        self,
        items: np.ndarray,
        *,
        members: np.ndarray | None = None,
        max_work: int = 1 << 22,
    ) -> np.ndarray:
        """How many devices hold all the items of each row of ``items``.

        Parameters
        ----------
        items : int array, shape (n_rows, p)
            Item codes (repeats within a row are allowed and change nothing).
        members : bool array of length n_devices, optional
            Count only these devices (a sub-population).
        max_work : int
            Candidate devices examined per chunk (bounds memory).

        Returns
        -------
        int64 array of length n_rows.
        """
        items = np.asarray(items, dtype=np.int64)
        if items.ndim != 2:
            raise ValueError("items must be a 2-d array (rows x points)")
        n_rows, p = items.shape
        out = np.zeros(n_rows, dtype=np.int64)
        if n_rows == 0 or p == 0:
            return out
        lengths = self.offsets[items + 1] - self.offsets[items]
        if p == 1 and members is None:
            return lengths[:, 0].copy()
        # Test the rarest item first: its posting list gives the candidates,
        # and the next rarest removes most of them.
        col_order = np.argsort(lengths, axis=1, kind="stable")
        items = np.take_along_axis(items, col_order, axis=1)
        n_cand = np.take_along_axis(lengths, col_order[:, :1], axis=1)[:, 0]
        bounds = _chunk_bounds(n_cand, max_work)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            out[lo:hi] = self._chunk(items[lo:hi], n_cand[lo:hi], members)
        return out

    def _chunk(self, items: np.ndarray, n_cand: np.ndarray, members) -> np.ndarray:
        n_rows, p = items.shape
        n_dev = self.n_devices
        total = int(n_cand.sum())
        rows = np.repeat(np.arange(n_rows), n_cand)
        if total == 0:
            return np.zeros(n_rows, dtype=np.int64)
        # Position of every candidate pair: the start of its row's posting
        # list plus its rank within the row.
        first = np.zeros(n_rows, dtype=np.int64)
        np.cumsum(n_cand[:-1], out=first[1:])
        start = self.offsets[items[:, 0]]
        pos = np.arange(total, dtype=np.int64) + np.repeat(start - first, n_cand)
        devs = self.keys[pos] - items[rows, 0] * n_dev
        if members is not None:
            keep = members[devs]
            rows, devs = rows[keep], devs[keep]
        keys = self.keys
        last = len(keys) - 1
        for j in range(1, p):
            if len(rows) == 0:
                break
            query = items[rows, j] * n_dev + devs
            # Sorting the queries keeps the binary searches in cache.
            order = np.argsort(query)
            sq = query[order]
            at = np.searchsorted(keys, sq)
            hit_sorted = keys[np.minimum(at, last)] == sq
            hit = np.empty_like(hit_sorted)
            hit[order] = hit_sorted
            rows, devs = rows[hit], devs[hit]
        return np.bincount(rows, minlength=n_rows).astype(np.int64)


def _dedupe_sorted(keys: np.ndarray) -> np.ndarray:
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys if keep.all() else keys[keep]


def _chunk_bounds(n_cand: np.ndarray, max_work: int) -> np.ndarray:
    """Row boundaries such that each chunk examines about ``max_work`` candidates."""
    cum = np.cumsum(n_cand)
    if len(cum) == 0:
        return np.array([0])
    n_chunks = int(cum[-1] // max_work) + 1
    cuts = np.searchsorted(cum, np.arange(1, n_chunks) * max_work, side="left") + 1
    bounds = np.unique(np.concatenate([[0], cuts, [len(n_cand)]]))
    return bounds


@dataclass
class PointIndex:
    """Inverted index of a ``traces`` table: which devices hold which points.

    Build it with :meth:`from_traces` once and pass it to :func:`unicity`,
    :func:`unicity_curve` or :func:`worst_case_risk` instead of the table to
    skip the building step on every call.

    Attributes
    ----------
    device_ids : ndarray of str
        Device labels; device code ``d`` is ``device_ids[d]``.
    loc_x, loc_y : ndarray of float
        Coordinates of each distinct location (km).
    point_loc : ndarray of int
        Location code of each point.
    point_time : ndarray of int64
        Time of each point, in seconds since 1970 (``datetime64[s]`` as integers).
    points : Postings
        Point -> devices.
    dev_offsets, dev_points : ndarray
        Device -> points: the points of device ``d`` are
        ``dev_points[dev_offsets[d]:dev_offsets[d + 1]]``, increasing.
    n_records : int
        Rows of the table the index was built from.
    """

    device_ids: np.ndarray
    loc_x: np.ndarray
    loc_y: np.ndarray
    point_loc: np.ndarray
    point_time: np.ndarray
    points: Postings
    dev_offsets: np.ndarray
    dev_points: np.ndarray
    n_records: int
    _cache: dict = field(default_factory=dict, repr=False)

    # -- building -----------------------------------------------------------

    @classmethod
    def from_traces(cls, traces: pd.DataFrame) -> PointIndex:
        """Index a ``traces`` table (``device_id, time, x_km, y_km``).

        Raises
        ------
        InputError
            If the table misses a column, is empty, or has missing or
            infinite values (see :func:`fewpoints.schema.validate_traces`).
        """
        validate_traces(traces)
        dev, device_ids = _device_codes(traces["device_id"])
        n_dev = len(device_ids)
        loc, loc_x, loc_y = location_codes(traces["x_km"], traces["y_km"])
        n_loc = len(loc_x)

        t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
        t0 = int(t.min())
        span = int(t.max()) - t0 + 1
        if n_loc * span * n_dev < _KEY_LIMIT:
            time_code, n_time = t - t0, span
            times = None
        else:
            time_code, times = pd.factorize(t, sort=True)
            n_time = len(times)
        point_key = loc.astype(np.int64) * n_time + time_code
        del loc, time_code, t
        if n_loc * n_time * n_dev >= _KEY_LIMIT:
            point_key, uniq = _compact(point_key)
        else:
            uniq = None
        pairs = point_key * n_dev + dev
        del point_key
        pairs.sort()
        pairs = _dedupe_sorted(pairs)
        pk = pairs // n_dev
        devs = pairs - pk * n_dev
        del pairs
        new = np.empty(len(pk), dtype=bool)
        new[0] = True
        np.not_equal(pk[1:], pk[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        point_key_u = pk[starts]
        del pk
        n_pts = len(starts)
        pcode = np.cumsum(new, dtype=np.int64) - 1
        del new
        offsets = np.append(starts, len(devs)).astype(np.int64)
        keys = pcode * n_dev + devs
        if uniq is not None:
            point_key_u = uniq[point_key_u]
        point_loc = (point_key_u // n_time).astype(np.int64)
        tc = point_key_u % n_time
        point_time = tc + t0 if times is None else times[tc]

        # Device -> points (the same pairs, sorted by device).
        dkeys = devs * n_pts + pcode
        del pcode
        dkeys.sort()
        dev_points = dkeys % n_pts
        del dkeys
        counts = np.bincount(devs, minlength=n_dev)
        dev_offsets = np.zeros(n_dev + 1, dtype=np.int64)
        np.cumsum(counts, out=dev_offsets[1:])
        int_t = np.int32 if n_pts < 2**31 else np.int64
        return cls(
            device_ids=device_ids,
            loc_x=np.asarray(loc_x, dtype=np.float64),
            loc_y=np.asarray(loc_y, dtype=np.float64),
            point_loc=point_loc.astype(np.int32 if n_loc < 2**31 else np.int64),
            point_time=np.asarray(point_time, dtype=np.int64),
            points=Postings(keys, offsets, n_dev),
            dev_offsets=dev_offsets,
            dev_points=dev_points.astype(int_t),
            n_records=len(traces),
        )

    # -- sizes --------------------------------------------------------------

    @property
    def n_devices(self) -> int:
        return len(self.device_ids)

    @property
    def n_points(self) -> int:
        """Distinct points (location, time) in the table."""
        return self.points.n_items

    @property
    def n_locations(self) -> int:
        return len(self.loc_x)

    def points_per_device(self) -> np.ndarray:
        """Distinct points of each device."""
        return np.diff(self.dev_offsets)

    def __repr__(self) -> str:
        return (
            f"PointIndex({self.n_records:,} records, {self.n_devices:,} devices, "
            f"{self.n_points:,} distinct points at {self.n_locations:,} locations)"
        )

    # -- per-device access ---------------------------------------------------

    def device_points(self, devices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The points of ``devices``: (row in ``devices``, point code), grouped by row."""
        devices = np.asarray(devices, dtype=np.int64)
        start = self.dev_offsets[devices]
        n = self.dev_offsets[devices + 1] - start
        rows = np.repeat(np.arange(len(devices)), n)
        first = np.zeros(len(devices), dtype=np.int64)
        np.cumsum(n[:-1], out=first[1:])
        pos = np.arange(int(n.sum()), dtype=np.int64) + np.repeat(start - first, n)
        return rows, self.dev_points[pos].astype(np.int64)

    def point_codes(self, x_km, y_km, time) -> np.ndarray:
        """Point code of each (x, y, time), or -1 where the table has no such point."""
        x = np.asarray(x_km, dtype=np.float64) + 0.0
        y = np.asarray(y_km, dtype=np.float64) + 0.0
        t = np.asarray(time).astype("datetime64[s]").view(np.int64)
        if "lookup" not in self._cache:
            self._cache["lookup"] = (
                pd.MultiIndex.from_arrays([self.loc_x + 0.0, self.loc_y + 0.0]),
                pd.MultiIndex.from_arrays([self.point_loc.astype(np.int64), self.point_time]),
            )
        locs, pts = self._cache["lookup"]
        loc = locs.get_indexer(pd.MultiIndex.from_arrays([x, y]))
        code = pts.get_indexer(pd.MultiIndex.from_arrays([loc.astype(np.int64), t]))
        code[loc < 0] = -1
        return code

    def count_matching(self, points: pd.DataFrame) -> pd.Series:
        """Anonymity set of each group of known points: devices holding all of them.

        Parameters
        ----------
        points : DataFrame
            ``device_id`` (the target each point is known about), ``x_km``,
            ``y_km``, ``time``, for example ``UnicityResult.points`` of
            random-point knowledge, or points of another table.

        Returns
        -------
        Series
            Indexed by ``device_id`` (in order of first appearance): the
            number of devices whose trace holds all that target's points
            (0 when a point is not in the table at all).
        """
        code = self.point_codes(points["x_km"], points["y_km"], points["time"])
        target, labels = pd.factorize(points["device_id"].astype(str))
        order = np.argsort(target, kind="stable")
        target, code = target[order], code[order]
        counts = np.bincount(target, minlength=len(labels))
        width = int(counts.max()) if len(counts) else 0
        items = np.empty((len(labels), width), dtype=np.int64)
        rank = np.arange(len(target)) - np.repeat(np.cumsum(counts) - counts, counts)
        items[target, rank] = code
        # Pad short rows by repeating their first point (repeats change nothing).
        pad = np.arange(width)[None, :] >= counts[:, None]
        items[pad] = np.repeat(items[:, 0], pad.sum(axis=1))
        missing = np.zeros(len(labels), dtype=bool)
        np.logical_or.at(missing, target, code < 0)
        items[missing] = 0
        sizes = self.points.anonymity_sets(items)
        sizes[missing] = 0
        return pd.Series(sizes, index=pd.Index(labels, name="device_id"), name="anonymity_set_size")

    # -- place-level postings (built on first use) ---------------------------

    def point_window(self) -> np.ndarray:
        """Window of each point: 0 other, 1 night (22:00-06:00), 2 weekday 09:00-17:00."""
        if "window" not in self._cache:
            self._cache["window"] = time_window(self.point_time)
        return self._cache["window"]

    def place_postings(self, kind: str = "any") -> Postings:
        """Location -> devices, over all times (``"any"``) or over the home/work windows.

        For ``kind="home_work"`` item ``loc`` means "seen at ``loc`` at night"
        and item ``n_locations + loc`` means "seen at ``loc`` on a weekday
        between 09:00 and 17:00".
        """
        if kind not in self._cache:
            devs = self.points.devices()
            pcode = self.points.keys // self.n_devices
            loc = self.point_loc[pcode].astype(np.int64)
            if kind == "any":
                self._cache[kind] = Postings.from_pairs(loc, devs, self.n_locations, self.n_devices)
            elif kind == "home_work":
                window = self.point_window()[pcode]
                keep = window > 0
                item = loc[keep] + (window[keep].astype(np.int64) - 1) * self.n_locations
                self._cache[kind] = Postings.from_pairs(
                    item, devs[keep], 2 * self.n_locations, self.n_devices
                )
            else:
                raise ValueError(f"unknown place postings {kind!r}")
        return self._cache[kind]


def time_window(seconds: np.ndarray) -> np.ndarray:
    """Window of each time (seconds since 1970): 0 other, 1 night (22:00-06:00), 2 weekday 09:00-17:00."""
    t = np.asarray(seconds, dtype=np.int64)
    hour = (t // 3600) % 24
    weekday = ((t // 86400) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    window = np.zeros(len(t), dtype=np.int8)
    window[(hour >= NIGHT_HOURS[0]) | (hour < NIGHT_HOURS[1])] = 1
    window[(weekday < 5) & (hour >= WORK_HOURS[0]) & (hour < WORK_HOURS[1])] = 2
    return window


def location_codes(x_km, y_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer code of each distinct (x, y), numbered in order of x then y, and their coordinates.

    Codes follow the sorted values, so they do not depend on row order;
    +0.0 turns -0.0 into 0.0 so both code the same location. Hash-based
    (three ``pd.factorize`` passes); only the few distinct locations are
    sorted.
    """
    x = np.asarray(x_km, dtype=np.float64) + 0.0
    y = np.asarray(y_km, dtype=np.float64) + 0.0
    xc, xu = pd.factorize(x)
    yc, yu = pd.factorize(y)
    loc_key = xc.astype(np.int64) * len(yu) + yc
    del xc, yc
    loc, loc_u = pd.factorize(loc_key)
    del loc_key
    loc_x = np.asarray(xu, dtype=np.float64)[loc_u // len(yu)]
    loc_y = np.asarray(yu, dtype=np.float64)[loc_u % len(yu)]
    order = np.lexsort((loc_y, loc_x))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[loc], loc_x[order], loc_y[order]


def _device_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..n-1 for the devices present, and their labels as str."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        labels = np.asarray(s.cat.categories.astype(str), dtype=object)
        present = np.bincount(codes, minlength=len(labels)) > 0
        if not present.all():
            remap = np.cumsum(present) - 1
            codes = remap[codes]
            labels = labels[present]
        return codes, labels
    codes, uniques = pd.factorize(s.astype(str), sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _compact(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes for int64 keys (sort based): ``uniq[codes] == keys``."""
    order = np.argsort(keys)
    sk = keys[order]
    new = np.empty(len(sk), dtype=bool)
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    uniq = sk[new]
    codes = np.empty(len(keys), dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return codes, uniq


def as_index(traces_or_index) -> PointIndex:
    """Return ``traces_or_index`` if it is a :class:`PointIndex`, else index the table."""
    if isinstance(traces_or_index, PointIndex):
        return traces_or_index
    if isinstance(traces_or_index, pd.DataFrame):
        return PointIndex.from_traces(traces_or_index)
    raise FewpointsError(
        f"expected a traces DataFrame or a PointIndex, got {type(traces_or_index).__name__}"
    )
