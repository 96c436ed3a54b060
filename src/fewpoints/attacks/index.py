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
        """
        validate_traces(traces)
        dev, device_ids = device_codes(traces["device_id"])
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
        pairs = dedupe_sorted(pairs)
        pk = pairs // n_dev
        devs = pairs - pk * n_dev
        del pairs
        new = np.empty(len(pk), dtype=bool)
        new[0] = True
        np.not_equal(pk[1:], pk[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        point_key_u = pk[starts]
        del pk
        pcode = np.cumsum(new, dtype=np.int64) - 1
        del new
        offsets = np.append(starts, len(devs)).astype(np.int64)
        if uniq is not None:
            point_key_u = uniq[point_key_u]
        tc = point_key_u % n_time
        return cls._assemble(
            pcode,
            devs,
            offsets,
            device_ids=device_ids,
            loc_x=loc_x,
            loc_y=loc_y,
            point_loc=point_key_u // n_time,
            point_time=tc + t0 if times is None else times[tc],
            n_records=len(traces),
        )

    @classmethod
    def _assemble(cls, pcode, devs, offsets, **arrays) -> PointIndex:
        """The index from its unique (point, device) pairs sorted by point then device."""
        n_dev = len(arrays["device_ids"])
        counts = np.bincount(devs, minlength=n_dev)
        dev_offsets = np.zeros(n_dev + 1, dtype=np.int64)
        np.cumsum(counts, out=dev_offsets[1:])
        n_loc = len(arrays["loc_x"])
        return cls(
            device_ids=arrays["device_ids"],
            loc_x=np.asarray(arrays["loc_x"], dtype=np.float64),
            loc_y=np.asarray(arrays["loc_y"], dtype=np.float64),
            point_loc=arrays["point_loc"].astype(np.int32 if n_loc < 2**31 else np.int64),
            point_time=np.asarray(arrays["point_time"], dtype=np.int64),
            points=Postings(pcode * n_dev + devs, offsets, n_dev),
            dev_offsets=dev_offsets,
            n_records=arrays["n_records"],
        )

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
    +0.0 turns -0.0 into 0.0 so both code the same location. x and y are
    hashed apart; their pair is coded through a dense table when the grid of
    distinct x by distinct y is no larger than the data (antennas, cells),
    else hashed too (GPS fixes).
    """
    x = np.asarray(x_km, dtype=np.float64)
    y = np.asarray(y_km, dtype=np.float64)
    xc, xu = pd.factorize(x + 0.0, sort=True)
    yc, yu = pd.factorize(y + 0.0, sort=True)
    key = xc.astype(np.int64) * len(yu) + yc
    del xc, yc
    n_cells = len(xu) * len(yu)
    if n_cells <= max(len(key), 1024):
        seen = np.zeros(n_cells, dtype=bool)
        seen[key] = True
        used = np.flatnonzero(seen)
        rank = np.cumsum(seen, dtype=np.int64) - 1
        loc = rank[key]
    else:
        loc, used = pd.factorize(key, sort=True)
    return loc.astype(np.int64, copy=False), xu[used // len(yu)], yu[used % len(yu)]


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
