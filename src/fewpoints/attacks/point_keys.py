"""Each record's point as one integer key, at the speed of one sort of the records.

Locations are coded without hashing floats where the coordinates lie on a
grid (one pass over the records), times are counted in steps of the largest
interval that divides them all, and (point, device) is packed into one
int64 key (bit fields where they fit, a product otherwise). Building the
index (:meth:`fewpoints.attacks.index.PointIndex.from_traces`) sorts these
keys once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.record_keys import (
    blocks,
    decode_sorted,
    encode_records,
    encode_runs,
    per_record,
    run_starts,
    small_int,
)
from fewpoints.common import dedupe_sorted


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
    loc, xu, yu = encode_locations(x_km, y_km)
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


def pair_keys(pcode: np.ndarray, devs: np.ndarray, n_dev: int) -> np.ndarray:
    """``pcode * n_dev + devs`` in one new array."""
    keys = np.multiply(pcode, n_dev, dtype=np.int64)
    keys += devs
    return keys


def _bits(n: int) -> int:
    """Bits needed to hold the codes 0..n-1."""
    return max(int(n) - 1, 0).bit_length()


def _blocks(n: int):
    """``(lo, hi)`` of every block of ``_BLOCK`` records."""
    return blocks(n, _BLOCK)


def record_runs(x: np.ndarray, y: np.ndarray, dev: np.ndarray) -> np.ndarray | None:
    """Where each run of records with one location and device starts (:func:`run_starts`)."""
    return run_starts(x, y, dev, block=_BLOCK)


def _ranks(seen: np.ndarray) -> np.ndarray:
    """Rank of every present entry of a flag table among the present ones; -1 where absent."""
    rank = np.cumsum(seen, dtype=small_int(len(seen)))
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
    idx = np.empty(len(v), dtype=small_int(grid.size))
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


def encode_locations(x_km, y_km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`location_codes` with codes in the narrowest integer type."""
    x = np.asarray(x_km, dtype=np.float64)
    y = np.asarray(y_km, dtype=np.float64)
    fast = _grid_locations(x, y)
    if fast is not None:
        return fast
    xc, xu = _axis_codes(x)
    yc, yu = _axis_codes(y)
    n_cells = len(xu) * len(yu)
    key = xc.astype(small_int(n_cells), copy=False)
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
    ix = np.empty(len(sx), dtype=small_int(gx.size))
    iy = np.empty(len(sy), dtype=small_int(gy.size))
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
    int_t = small_int(n_cells)
    cell = xc.astype(int_t, copy=False) * ny + yc
    seen = _flags(cell, n_cells)
    if np.count_nonzero(seen) * _SAMPLE_REPEATS > len(cell):
        return None  # many distinct places: a sample would miss some
    rank_c = _ranks(seen)
    used = np.flatnonzero(seen)
    del sx, sy, ix, iy, xc, yc, cell, seen
    loc = np.empty(n, dtype=small_int(len(used)))
    bx = np.empty(_BLOCK, dtype=small_int(gx.size))
    by = np.empty(_BLOCK, dtype=small_int(gy.size))
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


def time_ticks(time: pd.Series) -> tuple[np.ndarray, int]:
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


def build_pairs(loc, ticks, per_second: int, dev, n_loc: int, n_dev: int, starts=None):
    """The unique (point, device) pairs of the records, by one sort of one key per record.

    Each record's key is ``(location * n_slots + time step) << dev_bits |
    device``, 32 bits wide when that fits. Sorting orders the records by
    point (location, then time) then device, and one pass over the sorted
    keys gives the unique pairs and the postings (:func:`decode_sorted`). With
    ``starts`` (from :func:`record_runs`), ``loc`` and ``dev`` are those of
    each run of records, not of each record.

    Returns ``keys`` (``point * n_dev + device``, sorted), ``devs``,
    ``offsets`` of every point's pairs, the location code (int32) and time
    (seconds) of every point, and the device of every duplicated record
    (dropped; the pairs of each device are its records less these).
    """
    dev_bits = _bits(n_dev)
    for exact in (False, True):
        clock = _Clock.of(ticks, per_second, exact=exact)
        layout = _Layout.of(n_loc, clock.n_slots, dev_bits)
        if layout is None:
            if starts is not None:
                loc, dev = (per_record(a, starts, len(ticks)) for a in (loc, dev))
            return (*_pairs_compacted(loc, ticks // per_second, dev, n_dev), None)
        try:
            if starts is None:
                key = encode_records(loc, ticks, dev, clock, layout, block=_BLOCK)
            else:
                key = encode_runs(loc, dev, starts, ticks, clock, layout, block=_BLOCK)
            break
        except _Incomplete:  # a time off the sample's step: the exact step, from every record
            if exact:
                raise
    key.sort()
    return decode_sorted(key, n_dev, layout, clock, block=_BLOCK)


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
    return keys, devs.astype(small_int(n_dev)), offsets, point // n_t, times[point % n_t]
