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
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from fewpoints.common import dedupe_sorted, device_codes
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

    Items held by many devices (at least ``dense_min`` of them) are also kept
    as a **bitset**: one bit per device, 64 devices per ``uint64`` word,
    built on first use. Testing whether a device holds such an item is then
    one array lookup instead of a binary search, and the devices holding
    several such items are counted by AND-ing their bitsets and counting the
    set bits. The default ``dense_min`` is a 256th of the devices: a bitset
    (``n_devices / 8`` bytes) then takes at most 4 times the memory of the
    sorted list it repeats (8 bytes per device), and no more than that list
    from a 64th of the devices up; below it, binary searches in ``keys`` are
    cheaper than the bitsets' memory. Answers do not depend on
    ``dense_min``; only speed and memory do.
    """

    #: Default bitset threshold: items held by at least ``n_devices // DENSE_SHARE`` devices.
    DENSE_SHARE = 256

    keys: np.ndarray
    offsets: np.ndarray
    n_devices: int
    dense_min: int | None = None
    _bits: tuple | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_pairs(cls, items: np.ndarray, devices: np.ndarray, n_items: int, n_devices: int):
        """Build from (possibly repeated) item and device codes."""
        if n_items * n_devices >= _KEY_LIMIT:
            raise FewpointsError("too many distinct points and devices to index")
        keys = items.astype(np.int64) * n_devices + devices
        keys.sort()
        keys = dedupe_sorted(keys)
        return cls(keys, _item_offsets(keys, n_items, n_devices), n_devices)

    @property
    def n_items(self) -> int:
        return len(self.offsets) - 1

    def sizes(self, items: np.ndarray) -> np.ndarray:
        """Number of devices holding each item."""
        return self.offsets[items + 1] - self.offsets[items]

    def devices(self) -> np.ndarray:
        """The device of every pair (same order as ``keys``)."""
        return (self.keys % self.n_devices).astype(np.int64)

    # -- bitsets for the items held by many devices ---------------------------

    @property
    def n_words(self) -> int:
        """``uint64`` words per bitset."""
        return (self.n_devices + 63) // 64

    def dense(self) -> tuple[np.ndarray, np.ndarray]:
        """The bitsets: ``(slot, bits)``, built on first use.

        ``slot[i]`` is the row of item ``i`` in ``bits`` (-1 when the item is
        kept as a sorted list only); ``bits[slot[i], d // 64] >> (d % 64) & 1``
        says whether device ``d`` holds item ``i``.
        """
        if self._bits is None:
            self._bits = self._build_bits()
        return self._bits

    def _build_bits(self) -> tuple[np.ndarray, np.ndarray]:
        n_dev, n_words = self.n_devices, self.n_words
        threshold = (
            max(1, n_dev // self.DENSE_SHARE) if self.dense_min is None else max(1, self.dense_min)
        )
        size = np.diff(self.offsets)
        dense_items = np.flatnonzero(size >= threshold)
        slot = np.full(self.n_items, -1, dtype=np.int64)
        slot[dense_items] = np.arange(len(dense_items))
        bits = np.zeros((len(dense_items), n_words), dtype=np.uint64)
        if len(dense_items):
            n = size[dense_items]
            rank = np.repeat(np.arange(len(dense_items), dtype=np.int64), n)
            pos = _ranges(self.offsets[dense_items], n)
            devs = self.keys[pos] - dense_items[rank] * n_dev
            # Pairs are sorted by item then device, so the word index never
            # decreases: OR the bits of each run of equal words in one call.
            word = rank * n_words + (devs >> 6)
            bit = np.left_shift(np.uint64(1), (devs & 63).astype(np.uint64))
            starts = np.flatnonzero(np.diff(word, prepend=-1))
            bits.ravel()[word[starts]] = np.bitwise_or.reduceat(bit, starts)
        return slot, bits

    def with_dense_min(self, dense_min: int | None) -> Postings:
        """The same postings with another bitset threshold (same answers, other speed)."""
        return replace(self, dense_min=dense_min, _bits=None)

    def _member_bits(self, members: np.ndarray) -> np.ndarray:
        packed = np.packbits(members.astype(bool), bitorder="little")
        out = np.zeros(self.n_words * 8, dtype=np.uint8)
        out[: len(packed)] = packed
        return out.view("<u8").astype(np.uint64)

    # -- queries ------------------------------------------------------------

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
            Candidate devices (or bitset words) examined per chunk (bounds memory).

        Returns
        -------
        int64 array of length n_rows.

        Notes
        -----
        Each row starts from its rarest item. When that item is a sorted
        list, its devices are the candidates and every other item removes
        those that lack it (a bit lookup for a bitset item, a binary search
        in ``keys`` otherwise). When even the rarest item is a bitset, the
        row's bitsets are AND-ed and the set bits counted.
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
        slot, bits = self.dense()
        slots = slot[items]
        member_bits = None if members is None else self._member_bits(members)
        on_bits = slots[:, 0] >= 0
        rows_b = np.flatnonzero(on_bits)
        step = max(1, max_work // max(self.n_words, 1))
        for lo in range(0, len(rows_b), step):
            sel = rows_b[lo : lo + step]
            out[sel] = self._count_bits(slots[sel], bits, member_bits)
        rows_l = np.flatnonzero(~on_bits)
        bounds = _chunk_bounds(n_cand[rows_l], max_work)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            sel = rows_l[lo:hi]
            out[sel] = self._chunk(items[sel], slots[sel], n_cand[sel], bits, members)
        return out

    @staticmethod
    def _count_bits(slots: np.ndarray, bits: np.ndarray, member_bits) -> np.ndarray:
        """Set bits of the AND of each row's bitsets (every slot of every row >= 0)."""
        acc = bits[slots[:, 0]]
        tmp = np.empty_like(acc)
        for j in range(1, slots.shape[1]):
            np.take(bits, slots[:, j], axis=0, out=tmp)
            acc &= tmp
        if member_bits is not None:
            acc &= member_bits
        return popcount_rows(acc)

    def _chunk(self, items, slots, n_cand, bits, members) -> np.ndarray:
        n_rows, p = items.shape
        n_dev = self.n_devices
        total = int(n_cand.sum())
        if total == 0:
            return np.zeros(n_rows, dtype=np.int64)
        rows = np.repeat(np.arange(n_rows), n_cand)
        devs = self.keys[_ranges(self.offsets[items[:, 0]], n_cand)] - items[rows, 0] * n_dev
        if members is not None:
            keep = members[devs]
            rows, devs = rows[keep], devs[keep]
        keys = self.keys
        last = len(keys) - 1
        flat_bits = bits.ravel()
        n_words = bits.shape[1]
        for j in range(1, p):
            if len(rows) == 0:
                break
            s = slots[rows, j]
            hit = np.empty(len(rows), dtype=bool)
            on = s >= 0
            if on.any():
                # Bitset item: look the device's bit up.
                d = devs[on]
                word = flat_bits[s[on] * n_words + (d >> 6)]
                hit[on] = (word >> (d & 63).astype(np.uint64)) & np.uint64(1) == 1
            off = ~on
            if off.any():
                # Sorted-list item: binary search for the key; sorting the
                # queries keeps the searches in cache.
                query = items[rows[off], j] * n_dev + devs[off]
                order = np.argsort(query)
                sq = query[order]
                at = np.searchsorted(keys, sq)
                found = np.empty(len(sq), dtype=bool)
                found[order] = keys[np.minimum(at, last)] == sq
                hit[off] = found
            rows, devs = rows[hit], devs[hit]
        return np.bincount(rows, minlength=n_rows).astype(np.int64)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for every start ``s`` and length ``n``."""
    lengths = np.asarray(lengths, dtype=np.int64)
    first = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=first[1:])
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(
        np.asarray(starts, dtype=np.int64) - first, lengths
    )


def _item_offsets(keys: np.ndarray, n_items: int, n_devices: int) -> np.ndarray:
    """Offsets of each item's run in sorted keys ``item * n_devices + device``."""
    bounds = np.arange(n_items + 1, dtype=np.int64) * n_devices
    return np.searchsorted(keys, bounds).astype(np.int64)


_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount_rows_table(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a 2-d uint64 array, by a byte lookup table (numpy < 2.0)."""
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(len(words), -1)
    return _POP8[as_bytes].sum(axis=1, dtype=np.int64)


def _popcount_rows_native(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a 2-d uint64 array (``np.bitwise_count``, numpy >= 2.0)."""
    return np.bitwise_count(words).sum(axis=1, dtype=np.int64)


#: Set bits per row of a 2-d uint64 array.
popcount_rows = _popcount_rows_native if hasattr(np, "bitwise_count") else _popcount_rows_table


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
        """
        validate_traces(traces)
        dev, device_ids = device_codes(traces["device_id"])
        loc, loc_x, loc_y = _location_codes(traces["x_km"], traces["y_km"])
        ticks, per_second = _time_ticks(traces["time"])
        keys, devs, offsets, point_loc, point_time = _build_pairs(
            loc, ticks, per_second, dev, len(loc_x), len(device_ids)
        )
        del loc, dev
        return cls._assemble(
            None,
            devs,
            offsets,
            keys=keys,
            device_ids=device_ids,
            loc_x=loc_x,
            loc_y=loc_y,
            point_loc=point_loc,
            point_time=point_time,
            n_records=len(traces),
        )

    @classmethod
    def _assemble(cls, pcode, devs, offsets, *, keys=None, **arrays) -> PointIndex:
        """The index from its unique (point, device) pairs sorted by point then device.

        ``keys`` (``pcode * n_devices + devs``), when given, saves computing them.
        """
        n_dev = len(arrays["device_ids"])
        if keys is None:
            keys = _pair_keys(pcode, devs, n_dev)
        counts = np.bincount(devs, minlength=n_dev)
        dev_offsets = np.zeros(n_dev + 1, dtype=np.int64)
        np.cumsum(counts, out=dev_offsets[1:])
        n_loc = len(arrays["loc_x"])
        index = cls(
            device_ids=arrays["device_ids"],
            loc_x=np.asarray(arrays["loc_x"], dtype=np.float64),
            loc_y=np.asarray(arrays["loc_y"], dtype=np.float64),
            point_loc=arrays["point_loc"].astype(np.int32 if n_loc < 2**31 else np.int64),
            point_time=np.asarray(arrays["point_time"], dtype=np.int64),
            points=Postings(keys, offsets, n_dev),
            dev_offsets=dev_offsets,
            n_records=arrays["n_records"],
        )
        # The device of every pair, as pair_devices() would compute it from the keys.
        index._cache["pair_devices"] = devs.astype(_small_int(n_dev), copy=False)
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
            sel = want[devs]
            keys, devs = keys[sel], devs[sel]
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
        offsets = _item_offsets(keys, len(coarse), n_dev)
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


def location_codes(x_km, y_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Location code of each (x, y) and the coordinates of each code, codes in (x, y) order.

    Codes follow the sorted coordinates, so they do not depend on row order;
    -0.0 and 0.0 code the same location. Each coordinate is coded without
    hashing when its values lie on a grid (whole km, cell centres, a fixed
    number of decimals: every value is checked), else hashed
    (``pd.factorize``); the pair is coded through a dense table when the
    grid of distinct x by distinct y is no larger than the data (antennas,
    cells), else hashed too (GPS fixes).
    """
    loc, xu, yu = _location_codes(x_km, y_km)
    return loc.astype(np.int64, copy=False), xu, yu


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


# ---------------------------------------------------------------------------
# building: integer codes and the one sort of the records
# ---------------------------------------------------------------------------

#: Records per block of the passes over the records: a block's arrays stay in
#: the CPU's cache, so each pass reads the columns once and writes one array.
_BLOCK = 1 << 15

#: Every how many records a sample is taken to fill the code tables first.
_SAMPLE = 8

#: The sampled place tables are used only if the sample holds each place this
#: many times on average (else a rare place would likely be missed).
_SAMPLE_REPEATS = 64

#: About how many times the time step is first taken from.
_STEP_SAMPLE = 4096

#: Scales tried to put coordinates on an integer grid: whole, halves, quarters,
#: eighths (cell centres), decimals up to 1e-9 (km to the metre, degrees to 1e-6).
_GRID_SCALES = (1.0, 2.0, 4.0, 8.0, 10.0, 20.0, 100.0) + tuple(10.0**k for k in range(3, 10))


class _Incomplete(Exception):
    """A table filled from a sample missed a value (or a time step is too long): redo exactly."""


def _pair_keys(pcode: np.ndarray, devs: np.ndarray, n_dev: int) -> np.ndarray:
    """``pcode * n_dev + devs`` in one new array."""
    keys = np.multiply(pcode, n_dev, dtype=np.int64)
    keys += devs
    return keys


def _bits(n: int) -> int:
    """Bits needed to hold the codes 0..n-1."""
    return max(int(n) - 1, 0).bit_length()


def _small_int(n: int):
    """The narrowest signed integer type holding 0..n."""
    return np.int32 if n < 2**31 else np.int64


def _blocks(n: int):
    """``(lo, hi)`` of every block of ``_BLOCK`` records."""
    for lo in range(0, n, _BLOCK):
        yield lo, min(lo + _BLOCK, n)


def _ranks(seen: np.ndarray) -> np.ndarray:
    """Rank of every present entry of a flag table among the present ones; -1 where absent."""
    rank = np.cumsum(seen, dtype=_small_int(len(seen)))
    rank -= 1
    rank[~seen] = -1
    return rank


def _dense_ranks(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank of each key among the distinct keys (all in ``0..size-1``), and those distinct keys."""
    seen = np.zeros(size, dtype=bool)
    seen[keys] = True
    return _ranks(seen)[keys], np.flatnonzero(seen)


# -- coordinates on a grid ------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """The integer grid ``k / scale`` that every value of a coordinate may lie on.

    ``values[i]`` is grid step ``i`` (the lowest value's step is 0) and its
    last entry is NaN, which no value equals.
    """

    scale: float
    offset: float  # lowest step - 0.5: ``v * scale - offset`` floors to v's step
    values: np.ndarray

    @classmethod
    def find(cls, v: np.ndarray) -> _Grid | None:
        """A grid that a sample of ``v`` lies on, small enough for a table, or None."""
        n = len(v)
        if n == 0:
            return None
        lo, hi = float(v.min()), float(v.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return None
        sample = v[:: max(1, n // 2048)]
        for s in _GRID_SCALES:
            if not np.array_equal(np.rint(sample * s) / s, sample):
                continue
            klo, khi = np.rint(lo * s), np.rint(hi * s)
            if max(abs(klo), abs(khi)) >= 2**52 or khi - klo >= max(1 << 20, n):
                return None
            values = (np.arange(int(khi - klo) + 2, dtype=np.float64) + klo) / s
            values[-1] = np.nan
            return cls(s, klo - 0.5, values)
        return None

    @property
    def size(self) -> int:
        return len(self.values)

    def steps(self, v: np.ndarray, out: np.ndarray, buf: np.ndarray) -> bool:
        """Grid step of every value into ``out``; False if a value is not exactly on the grid.

        ``v * scale - offset`` is at least 0 and at most ``size - 1`` for any
        value between the lowest and highest, so truncating it is flooring;
        each value is then compared with its grid value (NaN never equals).
        """
        np.multiply(v, self.scale, out=buf)
        buf -= self.offset
        out[...] = buf
        np.take(self.values, out, out=buf, mode="clip")  # 'raise' would buffer
        return bool(np.equal(buf, v).all())


def _grid_codes(v: np.ndarray):
    """Codes of float values on a grid, without hashing: ``(codes, uniques)`` or None.

    Codes are ranks of the values' grid steps, in increasing value; every
    value is checked against its grid value, so a value off the grid (or
    NaN) gives None and the caller hashes instead. ``uniques`` are the very
    floats of the data (``0.0`` for ``-0.0``).
    """
    grid = _Grid.find(v)
    if grid is None:
        return None
    idx = np.empty(len(v), dtype=_small_int(grid.size))
    if not grid.steps(v, idx, np.empty(len(v))):
        return None
    codes, used = _dense_ranks(idx, grid.size)
    return codes, grid.values[used]


def _axis_codes(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of one coordinate in increasing value and its distinct values (-0.0 as 0.0)."""
    grid = _grid_codes(v)
    if grid is not None:
        return grid
    codes, uniques = pd.factorize(v + 0.0, sort=True)
    return codes, np.asarray(uniques, dtype=np.float64)


def _location_codes(x_km, y_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`location_codes` with codes in the narrowest integer type."""
    x = np.asarray(x_km, dtype=np.float64)
    y = np.asarray(y_km, dtype=np.float64)
    fast = _grid_locations(x, y)
    if fast is not None:
        return fast
    xc, xu = _axis_codes(x)
    yc, yu = _axis_codes(y)
    n_cells = len(xu) * len(yu)
    key = xc.astype(_small_int(n_cells), copy=False)
    if key is not xc:
        del xc
    key *= len(yu)
    key += yc
    del yc
    if n_cells <= max(len(key), 1024):
        loc, used = _dense_ranks(key, n_cells)
    else:
        loc, used = pd.factorize(key, sort=True)
        used = np.asarray(used, dtype=np.int64)
    return loc, xu[used // len(yu)], yu[used % len(yu)]


def _grid_locations(x: np.ndarray, y: np.ndarray):
    """Location codes in one pass over blocks, when x and y lie on grids; else None.

    The tables of distinct x, distinct y and distinct (x, y) are filled from
    every ``_SAMPLE``-th record; each block of records is then coded through
    them and checked (on the grid, present in the tables). None, and the
    caller codes each coordinate on its own, when a value is off its grid,
    missed by the sample, or the pairs are too many for a table.
    """
    n = len(x)
    gx = _Grid.find(x)
    gy = _Grid.find(y) if gx is not None else None
    if gy is None:
        return None
    sx, sy = x[::_SAMPLE], y[::_SAMPLE]
    ix = np.empty(len(sx), dtype=_small_int(gx.size))
    iy = np.empty(len(sy), dtype=_small_int(gy.size))
    buf = np.empty(len(sx))
    if not (gx.steps(sx, ix, buf) and gy.steps(sy, iy, buf)):
        return None
    seen_x, seen_y = _flags(ix, gx.size), _flags(iy, gy.size)
    rank_x, rank_y = _ranks(seen_x), _ranks(seen_y)
    xc, xu = rank_x[ix], gx.values[np.flatnonzero(seen_x)]
    yc, yu = rank_y[iy], gy.values[np.flatnonzero(seen_y)]
    ny = len(yu)
    n_cells = len(xu) * ny
    if n_cells > max(n, 1024):
        return None
    int_t = _small_int(n_cells)
    cell = xc.astype(int_t, copy=False) * ny + yc
    seen = _flags(cell, n_cells)
    if np.count_nonzero(seen) * _SAMPLE_REPEATS > len(cell):
        return None  # many distinct places: a sample would miss some
    rank_c = _ranks(seen)
    used = np.flatnonzero(seen)
    del sx, sy, ix, iy, xc, yc, cell, seen
    loc = np.empty(n, dtype=_small_int(len(used)))
    bx = np.empty(_BLOCK, dtype=_small_int(gx.size))
    by = np.empty(_BLOCK, dtype=_small_int(gy.size))
    fbuf = np.empty(_BLOCK)
    cx = np.empty(_BLOCK, dtype=int_t)
    cy = np.empty(_BLOCK, dtype=int_t)
    for lo, hi in _blocks(n):
        m = hi - lo
        if not (gx.steps(x[lo:hi], bx[:m], fbuf[:m]) and gy.steps(y[lo:hi], by[:m], fbuf[:m])):
            return None
        np.take(rank_x, bx[:m], out=cx[:m], mode="clip")
        np.take(rank_y, by[:m], out=cy[:m], mode="clip")
        if cx[:m].min() < 0 or cy[:m].min() < 0:
            return None
        cx[:m] *= ny
        cx[:m] += cy[:m]
        np.take(rank_c, cx[:m], out=loc[lo:hi], mode="clip")
        if loc[lo:hi].min() < 0:
            return None
    return loc, xu[used // ny], yu[used % ny]


def _flags(keys: np.ndarray, size: int) -> np.ndarray:
    """A table of ``size`` flags, set where ``keys`` has a value."""
    seen = np.zeros(size, dtype=bool)
    seen[keys] = True
    return seen


# -- times and the one sort ----------------------------------------------------

#: Ticks per second of the datetime64 units read directly as integers.
_TICKS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


@dataclass(frozen=True)
class _Clock:
    """Times as steps: ``slot = (seconds - t0) // step``, ``n_slots`` of them.

    Seconds are the times floored to the second (as ``astype('datetime64[s]')``);
    ``ticks`` are the times' own units per second (the times are read as
    integers, never converted record by record).
    """

    t0: int
    step: int
    n_slots: int
    ticks: int

    @classmethod
    def of(cls, ticks: np.ndarray, per_second: int, *, exact: bool = False) -> _Clock:
        """The clock of integer times: the step divides a sample's offsets (every one if ``exact``).

        The step is the greatest common divisor of the offsets, in seconds,
        from the first time (1 s for raw times, 3,600 s for hourly bins).
        From a sample, it is checked on every record while they are encoded.
        """
        t0 = int(ticks.min()) // per_second
        t1 = int(ticks.max()) // per_second
        if exact:
            step = 0
            for lo, hi in _blocks(len(ticks)):
                step = int(np.gcd(step, np.gcd.reduce(ticks[lo:hi] // per_second - t0)))
        else:
            sample = ticks[:: max(1, len(ticks) // _STEP_SAMPLE)]
            step = int(np.gcd.reduce(sample // per_second - t0))
        return cls(t0, max(step, 1), (t1 - t0) // max(step, 1) + 1, per_second)

    def slots(self, ticks: np.ndarray) -> np.ndarray:
        """Time step of each time (int64); raises _Incomplete if one is not on a step.

        ``floor(floor(t / ticks) / step) == floor(t / (ticks * step))``, and
        the time is on a step when the remainder is below one second.
        """
        dt = ticks - self.t0 * self.ticks
        unit = self.ticks * self.step
        if unit == 1:
            return dt
        if self.step == 1:
            dt //= unit
            return dt
        slot = dt // unit
        dt -= slot * unit
        if dt.max() >= self.ticks:
            raise _Incomplete
        return slot


def _time_ticks(time: pd.Series) -> tuple[np.ndarray, int]:
    """The times as int64 ticks and the ticks per second."""
    if isinstance(time.dtype, pd.DatetimeTZDtype):  # the instants, in UTC
        time = time.dt.tz_convert("UTC").dt.tz_localize(None)
    values = time.to_numpy()
    if values.dtype.kind == "M":
        unit, count = np.datetime_data(values.dtype)
        if unit in _TICKS and count == 1:
            return values.view(np.int64), _TICKS[unit]
    # An unusual unit: seconds.
    return values.astype("datetime64[s]").view(np.int64), 1


def _build_pairs(loc, ticks, per_second: int, dev, n_loc: int, n_dev: int):
    """The unique (point, device) pairs of the records, by one sort of one key per record.

    Each record's key is ``(location * n_slots + time step) << dev_bits |
    device``, 32 bits wide when that fits. Sorting orders the records by
    point (location, then time) then device, and one pass over the sorted
    keys gives the unique pairs and the postings (:func:`_decode`).

    Returns ``keys`` (``point * n_dev + device``, sorted), ``devs``,
    ``offsets`` of every point's pairs, and the location code and time
    (seconds) of every point.
    """
    dev_bits = _bits(n_dev)
    for exact in (False, True):
        clock = _Clock.of(ticks, per_second, exact=exact)
        layout = _Layout.of(n_loc, clock.n_slots, dev_bits)
        if layout is None:
            return _pairs_compacted(loc, ticks // per_second, dev, n_dev)
        try:
            key = _encode(loc, ticks, dev, clock, layout)
            break
        except _Incomplete:  # a time off the sample's step: the exact step, from every record
            if exact:
                raise
    key.sort()
    keys, devs, offsets, cells = _decode(key, dev_bits, n_dev)
    del key
    point_loc, point_slot = layout.split(cells)
    point_slot *= clock.step
    point_slot += clock.t0
    return keys, devs, offsets, point_loc, point_slot


@dataclass(frozen=True)
class _Layout:
    """How a record's key holds its point: ``(location, time step)`` as one number, above the device.

    The point is ``location << slot_bits | slot`` (bit fields, cheapest to
    split) or ``location * n_slots + slot`` (the fewest bits), whichever
    lets the key be 32 bits wide, else bit fields in 64 bits.
    """

    n_slots: int
    slot_bits: int  # 0: location * n_slots + slot
    dev_bits: int
    narrow: bool

    @classmethod
    def of(cls, n_loc: int, n_slots: int, dev_bits: int) -> _Layout | None:
        """The layout of the keys, or None if no layout fits in 63 bits."""
        fields = _bits(n_loc) + _bits(n_slots) + dev_bits
        product = _bits(n_loc * n_slots) + dev_bits
        if fields <= 32:
            return cls(n_slots, _bits(n_slots), dev_bits, True)
        if product <= 32:
            return cls(n_slots, 0, dev_bits, True)
        if fields <= 63:
            return cls(n_slots, _bits(n_slots), dev_bits, False)
        if product <= 63:
            return cls(n_slots, 0, dev_bits, False)
        return None

    def split(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Location code and time step of every point (int64)."""
        if self.slot_bits:
            return cells >> self.slot_bits, cells & ((1 << self.slot_bits) - 1)
        loc = cells // self.n_slots
        return loc, cells - loc * self.n_slots


def _encode(loc, ticks, dev, clock: _Clock, layout: _Layout) -> np.ndarray:
    """One key per record: its point (location and time step) above its device."""
    kind = np.uint32 if layout.narrow else np.int64
    key = np.empty(len(loc), dtype=kind)
    shift = kind(layout.dev_bits)
    for lo, hi in _blocks(len(loc)):
        cell = loc[lo:hi].astype(np.int64)
        if layout.slot_bits:
            cell <<= layout.slot_bits
            cell |= clock.slots(ticks[lo:hi])
        else:
            cell *= layout.n_slots
            cell += clock.slots(ticks[lo:hi])
        k = key[lo:hi]
        k[...] = cell
        k <<= shift
        k |= dev[lo:hi].astype(kind, copy=False)
    return key


def _pairs_compacted(loc, seconds, dev, n_dev: int):
    """Too many bits to pack: points compacted by sorting first (argsort), then the pairs sorted."""
    times, tcode = np.unique(seconds, return_inverse=True)
    n_t = len(times)
    pk, uniq = _compact(loc.astype(np.int64) * n_t + tcode.ravel())
    del tcode
    pairs = pk * n_dev + dev
    del pk
    pairs.sort()
    pairs = dedupe_sorted(pairs)
    field_ = pairs // n_dev
    devs = pairs - field_ * n_dev
    del pairs
    new = np.empty(len(field_) + 1, dtype=bool)
    new[0] = new[-1] = True
    np.not_equal(field_[1:], field_[:-1], out=new[1:-1])
    offsets = np.flatnonzero(new).astype(np.int64, copy=False)
    pcode = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    point = uniq[field_[offsets[:-1]]]
    keys = pcode * n_dev + devs
    return keys, devs.astype(_small_int(n_dev)), offsets, point // n_t, times[point % n_t]


def _decode(key: np.ndarray, dev_bits: int, n_dev: int):
    """From sorted keys ``field << dev_bits | device``: the unique pairs, block by block.

    Returns ``keys`` (``point * n_dev + device``, point codes numbering the
    distinct fields in order), ``devs`` (int32 when they fit), ``offsets`` of
    every point's pairs, and the field of every point. ``key`` is
    overwritten: its unique keys are moved to its front.
    """
    n = len(key)
    shift = key.dtype.type(dev_bits)
    mask = key.dtype.type((1 << dev_bits) - 1)
    keys = np.empty(n, dtype=np.int64)
    devs = np.empty(n, dtype=_small_int(n_dev))
    new = np.empty(n + 1, dtype=bool)  # a point starts at this pair
    pos, n_pts = 0, 0
    prev_key, prev_field = None, None
    for lo, hi in _blocks(n):
        k = key[lo:hi]
        keep = np.empty(len(k), dtype=bool)
        keep[0] = prev_key is None or k[0] != prev_key
        np.not_equal(k[1:], k[:-1], out=keep[1:])
        prev_key = k[-1]
        if not keep.all():
            k = k[keep]
            if len(k) == 0:
                continue
        m = len(k)
        field_ = k >> shift
        f = new[pos : pos + m]
        f[0] = prev_field is None or field_[0] != prev_field
        np.not_equal(field_[1:], field_[:-1], out=f[1:])
        prev_field = field_[-1]
        out = keys[pos : pos + m]
        np.cumsum(f, out=out)
        out += n_pts - 1
        n_pts = int(out[-1]) + 1
        out *= n_dev
        d = k & mask
        out += d
        devs[pos : pos + m] = d
        key[pos : pos + m] = k  # pos <= lo: only keys already read (k is read) are overwritten
        pos += m
    new[pos] = True
    offsets = np.flatnonzero(new[: pos + 1]).astype(np.int64, copy=False)
    first = (key[offsets[:-1]] >> shift).astype(np.int64, copy=False)
    if pos < n:  # duplicates dropped: give the unused tails back (no copy)
        del out, f
        keys.resize(pos, refcheck=False)
        devs.resize(pos, refcheck=False)
    return keys, devs, offsets, first
