"""An inverted index from point to devices, built once per ``traces`` table and reused.

A **point** is a distinct ``(x_km, y_km, time)`` value of a trace, at whatever
resolution the table carries. The index integer-codes every point and every
device and keeps two sorted arrays (CSR style):

* point -> devices: the unique ``(point, device)`` pairs sorted by point then
  device, stored as one int64 key ``point * n_devices + device``, with the
  offset of each point's posting list. Asking "does device d have point q?"
  is a binary search for the key ``q * n_devices + d``.
* device -> points: the same pairs sorted by device, to draw a target's points
  (sorted on first use; an attack's call sorts only its targets' pairs).

Points held by many devices (a 256th of them or more, typical of coarse data,
where one 2 km cell at a 4-hour bin is shared by thousands) are also kept as
bitsets, one bit per device: a candidate is then tested with one lookup, and
targets whose every known point is such a point are counted by AND-ing the
bitsets and counting the set bits (``np.bitwise_count``, or a byte table on
numpy < 2.0). :meth:`PointIndex.coarsen` makes the index of a coarser grid
(cells, time bins, or any mapping of locations) from the (point, device)
pairs alone, without reading the table again.

Place-level postings (a location at any time, or within a daily time window)
are built on demand from the same pairs, for "top places" and "home and work"
knowledge.

All of it is numpy: building sorts int64 keys (no Python loop per record) and
a query expands every target's rarest point into candidate devices and tests
the other points with ``np.searchsorted``, for all targets at once, in chunks
that bound memory.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fewpoints.attacks.point_keys import (
    build_pairs,
    encode_locations,
    location_codes,
    pair_keys,
    record_runs,
    small_int,
    time_ticks,
)
from fewpoints.attacks.postings import Postings, item_offsets
from fewpoints.common import counted_device_codes, dedupe_sorted
from fewpoints.schema import FewpointsError, validate_traces

__all__ = ["PointIndex", "as_index"]


#: Daily time windows for "home and work" knowledge: night and weekday working hours.
NIGHT_HOURS = (22, 6)  # 22:00 to 06:00
WORK_HOURS = (9, 17)  # 09:00 to 17:00, Monday to Friday
WINDOW_LABELS = {
    "any": "any time",
    "night": "night 22:00-06:00",
    "workday": "weekday 09:00-17:00",
}


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
        ``dev_points`` is sorted on first use (one call of an attack needs
        only its targets' points, see :meth:`nth_points`).
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
    n_records: int
    _dev_points: np.ndarray | None = field(default=None, repr=False)
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

        Notes
        -----
        One sort of the records: every record becomes one integer key that
        packs its location code, its time step and its device code into bit
        fields (location highest), so sorting the keys orders the records by
        point, then device, and neighbouring keys give the unique (point,
        device) pairs and the postings in one pass. Locations are coded
        without hashing when the coordinates lie on a grid (see
        :func:`location_codes`); times are counted in steps of the largest
        interval that divides them all (a second for raw times, an hour for
        hourly bins). Where the distinct locations times the time steps are
        few (binned or coarsened data), each record's point code comes from a
        dense table and the key packs only (point, device), often in 32 bits.

        Examples
        --------
        >>> from fewpoints import examples
        >>> traces = examples.tiny_traces()

        >>> index = PointIndex.from_traces(traces)
        >>> index.n_records, list(index.device_ids), len(index.point_loc)
        (6, ['a', 'b', 'c'], 3)

        The index answers the same as the table, without being rebuilt per call:

        >>> from fewpoints import unicity
        >>> round(unicity(index, 2, n_targets=3, rng=0).value, 3)
        0.333
        """
        validate_traces(traces)
        dev, device_ids, records = counted_device_codes(traces["device_id"])
        x = traces["x_km"].to_numpy(dtype=np.float64)
        y = traces["y_km"].to_numpy(dtype=np.float64)
        starts = record_runs(x, y, dev)
        if starts is not None:  # each run of records with one location and device, once
            x, y, dev = x[starts], y[starts], dev[starts]
        loc, loc_x, loc_y = encode_locations(x, y)
        del x, y
        ticks, per_second = time_ticks(traces["time"])
        keys, devs, offsets, point_loc, point_time, dups = build_pairs(
            loc, ticks, per_second, dev, len(loc_x), len(device_ids), starts
        )
        del loc, dev
        counts = None  # pairs of each device: its records less its duplicated ones
        if dups is not None:
            counts = records - np.bincount(dups, minlength=len(device_ids))
        return cls._assemble(
            None,
            devs,
            offsets,
            keys=keys,
            counts=counts,
            device_ids=device_ids,
            loc_x=loc_x,
            loc_y=loc_y,
            point_loc=point_loc,
            point_time=point_time,
            n_records=len(traces),
        )

    @classmethod
    def _assemble(cls, pcode, devs, offsets, *, keys=None, counts=None, **arrays) -> PointIndex:
        """The index from its unique (point, device) pairs sorted by point then device.

        ``keys`` (``pcode * n_devices + devs``) and ``counts`` (the pairs of
        each device), when given, save computing them.
        """
        n_dev = len(arrays["device_ids"])
        if keys is None:
            keys = pair_keys(pcode, devs, n_dev)
        if counts is None:
            counts = np.bincount(devs, minlength=n_dev)
        dev_offsets = np.zeros(n_dev + 1, dtype=np.int64)
        np.cumsum(counts, out=dev_offsets[1:])
        n_loc = len(arrays["loc_x"])
        index = cls(
            device_ids=arrays["device_ids"],
            loc_x=np.asarray(arrays["loc_x"], dtype=np.float64),
            loc_y=np.asarray(arrays["loc_y"], dtype=np.float64),
            point_loc=arrays["point_loc"].astype(
                np.int32 if n_loc < 2**31 else np.int64, copy=False
            ),
            point_time=np.asarray(arrays["point_time"], dtype=np.int64),
            points=Postings(keys, offsets, n_dev),
            dev_offsets=dev_offsets,
            n_records=arrays["n_records"],
        )
        # The device of every pair, as pair_devices() would compute it from the keys.
        index._cache["pair_devices"] = devs.astype(small_int(n_dev), copy=False)
        return index

    @property
    def dev_points(self) -> np.ndarray:
        """Device -> points: every pair sorted by device then point (built on first use)."""
        if self._dev_points is None:
            int_t = np.int32 if self.n_points < 2**31 else np.int64
            self._dev_points = (self._device_keys(None) % max(self.n_points, 1)).astype(int_t)
        return self._dev_points

    def _device_keys(self, devices) -> np.ndarray:
        """Sorted ``device * n_points + point`` for the pairs of ``devices`` (None: all)."""
        keys = self.points.keys
        n_dev, n_pts = self.n_devices, self.n_points
        devs = self.pair_devices()
        if devices is not None:
            want = np.zeros(n_dev, dtype=bool)
            want[devices] = True
            sel = np.flatnonzero(np.take(want, devs))
            keys, devs = np.take(keys, sel), np.take(devs, sel)
        dkeys = devs.astype(np.int64) * n_pts + keys // n_dev
        dkeys.sort()
        return dkeys

    def pair_devices(self) -> np.ndarray:
        """The device of every (point, device) pair, in the order of ``points.keys`` (cached)."""
        if "pair_devices" not in self._cache:
            devs = self.points.keys % self.n_devices
            int_t = np.int32 if self.n_devices < 2**31 else np.int64
            self._cache["pair_devices"] = devs.astype(int_t)
        return self._cache["pair_devices"]

    def nth_points(self, devices: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """Point codes at ``ranks[i]`` among the sorted points of ``devices[i]``, shape of ``ranks``.

        ``ranks`` is (n, k) with every value below that device's point count.
        Until ``dev_points`` is built, only these devices' pairs are sorted.
        """
        return self.nth_points_batch([(devices, ranks)])[0]

    def nth_points_batch(self, requests) -> list:
        """:meth:`nth_points` for several ``(devices, ranks)`` requests, reading the pairs once.

        Until ``dev_points`` is built, picking devices' pairs scans every
        (point, device) pair; one scan serves all the requests (a curve over
        p draws targets for every p).
        """
        if self._dev_points is not None:
            return [
                self._dev_points[
                    self.dev_offsets[np.asarray(d, dtype=np.int64)][:, None] + r
                ].astype(np.int64)
                for d, r in requests
            ]
        union = np.unique(np.concatenate([np.asarray(d, dtype=np.int64) for d, _ in requests]))
        dkeys = self._device_keys(union)
        out = []
        for devices, ranks in requests:
            devices = np.asarray(devices, dtype=np.int64)
            start = np.searchsorted(dkeys, devices * self.n_points)
            out.append(dkeys[start[:, None] + ranks] % self.n_points)
        return out

    def coarsen(self, cell_km=None, time_bin=None, *, locations=None) -> PointIndex:
        """The index of the same table made coarser, built from this index alone.

        Parameters
        ----------
        cell_km : float, optional
            Snap every location to the centre of a square cell of this side,
            as :func:`fewpoints.anonymize.coarsen_space` does.
        time_bin : str or Timedelta, optional
            Floor every time to its bin, as
            :func:`fewpoints.anonymize.coarsen_time` does.
        locations : DataFrame, optional
            Any other mapping of locations (instead of ``cell_km``): one row
            per location of this index, in code order (as
            :meth:`locations` returns them), whose ``x_km, y_km`` are the
            coordinates that location becomes, for example the centroid of
            its cluster of merged antennas.

        Returns
        -------
        PointIndex
            Equal, array for array, to ``PointIndex.from_traces`` of the
            coarsened table (same device, location and point codes), so
            every attack gives the same answer with the same seed. This
            index itself when nothing merges.

        Warns
        -----
        WeakTransformWarning
            When ``time_bin`` changes no time (as ``coarsen_time`` does).

        Notes
        -----
        Coarsening merges points: a coarse point is held by every device
        that held one of the fine points it covers. The work is
        proportional to the (point, device) pairs, which are far fewer than
        the records, and the table is not read again.
        """
        from fewpoints.anonymize import WeakTransformWarning
        from fewpoints.common import duration_seconds, positive

        if cell_km is not None and locations is not None:
            raise FewpointsError("give cell_km (square cells) or locations, not both")
        if locations is not None:
            if not isinstance(locations, pd.DataFrame) or not {"x_km", "y_km"} <= set(
                locations.columns
            ):
                raise FewpointsError("locations must be a DataFrame with x_km and y_km columns")
            if len(locations) != self.n_locations:
                raise FewpointsError(
                    f"locations has {len(locations):,} rows; this index has "
                    f"{self.n_locations:,} locations"
                )
            new_x = locations["x_km"].to_numpy(dtype=np.float64)
            new_y = locations["y_km"].to_numpy(dtype=np.float64)
            if not (np.isfinite(new_x).all() and np.isfinite(new_y).all()):
                raise FewpointsError("locations has missing or infinite coordinates")
        elif cell_km is not None:
            cell = positive(cell_km, "cell_km")
            new_x = (np.floor(self.loc_x / cell) + 0.5) * cell
            new_y = (np.floor(self.loc_y / cell) + 0.5) * cell
        else:
            new_x, new_y = self.loc_x, self.loc_y
        loc_map, loc_x, loc_y = location_codes(new_x, new_y)
        t = self.point_time
        if time_bin is not None:
            step = duration_seconds(time_bin, "time_bin")
            t = t - np.mod(t, step)
            if np.array_equal(t, self.point_time):
                warnings.warn(
                    f"every time is already a multiple of {time_bin}; coarsening time "
                    "changed nothing",
                    WeakTransformWarning,
                    stacklevel=2,
                )
        same_places = (
            np.array_equal(loc_x, self.loc_x)
            and np.array_equal(loc_y, self.loc_y)
            and np.array_equal(loc_map, np.arange(self.n_locations))
        )
        if same_places and (t is self.point_time or np.array_equal(t, self.point_time)):
            return self  # nothing merges: this very index is the coarse one
        # Coarse point of every fine point; codes follow (location, time) order.
        times, tcode = np.unique(t, return_inverse=True)
        coarse, pmap = np.unique(
            loc_map[self.point_loc] * len(times) + tcode.ravel(), return_inverse=True
        )
        pmap = pmap.ravel()
        n_dev = self.n_devices
        post = self.points
        fine = np.repeat(np.arange(self.n_points, dtype=np.int64), np.diff(post.offsets))
        keys = pmap[fine] * n_dev + (post.keys - fine * n_dev)
        del fine
        keys.sort(kind="stable")  # runs of sorted devices: a merge beats a quicksort
        keys = dedupe_sorted(keys)
        offsets = item_offsets(keys, len(coarse), n_dev)
        pcode = np.repeat(np.arange(len(coarse), dtype=np.int64), np.diff(offsets))
        return PointIndex._assemble(
            pcode,
            keys - pcode * n_dev,
            offsets,
            device_ids=self.device_ids,
            loc_x=loc_x,
            loc_y=loc_y,
            point_loc=coarse // len(times),
            point_time=times[coarse % len(times)],
            n_records=self.n_records,
        )

    def locations(self) -> pd.DataFrame:
        """The distinct locations, in code order: ``x_km, y_km``."""
        return pd.DataFrame({"x_km": self.loc_x, "y_km": self.loc_y})

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
        n = self.dev_offsets[devices + 1] - self.dev_offsets[devices]
        rows = np.repeat(np.arange(len(devices)), n)
        ranks = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        return rows, self.nth_points(devices[rows], ranks[:, None])[:, 0]

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
            devs = self.pair_devices()
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


def as_index(traces_or_index) -> PointIndex:
    """Return ``traces_or_index`` if it is a :class:`PointIndex`, else index the table."""
    if isinstance(traces_or_index, PointIndex):
        return traces_or_index
    if isinstance(traces_or_index, pd.DataFrame):
        return PointIndex.from_traces(traces_or_index)
    raise FewpointsError(
        f"expected a traces DataFrame or a PointIndex, got {type(traces_or_index).__name__}"
    )


# ---------------------------------------------------------------------------
# building: integer codes and the one sort of the records
# ---------------------------------------------------------------------------
