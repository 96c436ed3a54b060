"""Posting lists: for each item (a point or a place), the sorted devices that hold it.

The CSR-style arrays of the inverted index (:mod:`fewpoints.attacks.index`),
their bitsets for items held by many devices, and the vectorised tests of
"which candidate devices hold every known item" that a query runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from fewpoints.common import dedupe_sorted
from fewpoints.schema import FewpointsError

#: Upper bound for an int64 key ``item * n_devices + device`` (kept clear of overflow).
KEY_LIMIT = 2**62


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
        if n_items * n_devices >= KEY_LIMIT:
            raise FewpointsError("too many distinct points and devices to index")
        keys = items.astype(np.int64) * n_devices + devices
        keys.sort()
        keys = dedupe_sorted(keys)
        return cls(keys, item_offsets(keys, n_items, n_devices), n_devices)

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
        dense_items = _items_of_size(self.offsets, threshold)
        if len(dense_items):
            slot = np.full(self.n_items, -1, dtype=np.int64)
            slot[dense_items] = np.arange(len(dense_items))
        else:  # no bitset (raw points): one -1 for every item, without the memory
            slot = np.broadcast_to(np.int64(-1), (self.n_items,))
        bits = np.zeros((len(dense_items), n_words), dtype=np.uint64)
        if len(dense_items):
            n = self.offsets[dense_items + 1] - self.offsets[dense_items]
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


def _items_of_size(offsets: np.ndarray, threshold: int, block: int = 1 << 20) -> np.ndarray:
    """Items with at least ``threshold`` pairs, their sizes read in blocks (no full-size array)."""
    found = []
    n_items = len(offsets) - 1
    for lo in range(0, n_items, block):
        hi = min(lo + block, n_items)
        size = offsets[lo + 1 : hi + 1] - offsets[lo:hi]
        found.append(np.flatnonzero(size >= threshold) + lo)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def item_offsets(keys: np.ndarray, n_items: int, n_devices: int) -> np.ndarray:
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
