"""The passes over the records and over their sorted keys, block by block.

:mod:`fewpoints.attacks.point_keys` decides how a record's point and device
pack into one key (its ``layout``: bit fields or a product, 32 or 64 bits)
and how times count in steps (its ``clock``); the functions here make the
keys (:func:`encode_records`, or :func:`encode_runs` once per run of records
with one location and device) and read the sorted keys back into the unique
(point, device) pairs (:func:`decode_sorted`). Every pass works on blocks of
``block`` records, so that a block's arrays stay in the CPU's cache.
"""

from __future__ import annotations

import numpy as np

#: Runs of records (same location and device) are coded once each when they
#: are at most this share of the records (see :func:`run_starts`).
RUNS_SHARE = 0.5


def small_int(n: int):
    """The narrowest signed integer type holding 0..n."""
    return np.int32 if n < 2**31 else np.int64


def blocks(n: int, block: int):
    """``(lo, hi)`` of every block of ``block`` records."""
    for lo in range(0, n, block):
        yield lo, min(lo + block, n)


def run_starts(x: np.ndarray, y: np.ndarray, dev: np.ndarray, *, block: int):
    """Where each run of neighbouring records with the same location and device starts.

    Records sorted by device then time repeat a location from one record to
    the next (a phone seen at the same antenna), so coding each run once is
    cheaper than coding each record. None when the runs are too many (more
    than ``RUNS_SHARE`` of the records) to be worth it. Values equal as
    floats (``-0.0`` and ``0.0``) share a run: they share a code too.
    """
    n = len(x)
    if n == 0:
        return None
    flag = np.empty(n, dtype=bool)
    flag[0] = True
    tmp = np.empty(min(block, n), dtype=bool)
    for lo, hi in blocks(n - 1, block):
        f, t = flag[lo + 1 : hi + 1], tmp[: hi - lo]
        np.not_equal(x[lo + 1 : hi + 1], x[lo:hi], out=f)
        np.not_equal(y[lo + 1 : hi + 1], y[lo:hi], out=t)
        f |= t
        np.not_equal(dev[lo + 1 : hi + 1], dev[lo:hi], out=t)
        f |= t
    starts = np.flatnonzero(flag)
    return starts if len(starts) <= RUNS_SHARE * n else None


def per_record(values: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """The value of every record from the value of every run."""
    return np.repeat(values, np.diff(starts, append=n))


def _key_type(layout):
    return np.uint32 if layout.narrow else np.int64


def encode_records(loc, ticks, dev, clock, layout, *, block: int) -> np.ndarray:
    """One key per record: its point (location and time step) above its device."""
    kind = _key_type(layout)
    key = np.empty(len(loc), dtype=kind)
    shift = kind(layout.dev_bits)
    for lo, hi in blocks(len(loc), block):
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


def encode_runs(loc, dev, starts, ticks, clock, layout, *, block: int) -> np.ndarray:
    """:func:`encode_records` from the location and device of each run of records.

    The fields do not overlap, so a key is the sum of its run's part
    (location and device) and its record's own (the time step). The run
    parts are spread to the records as a running sum of their changes, in
    the same pass per block as the time steps (integers wrap alike, so
    uint32 keys need no care).
    """
    kind = _key_type(layout)
    shift = kind(layout.dev_bits)
    part = loc.astype(kind)
    part *= kind(1 << layout.slot_bits if layout.slot_bits else layout.n_slots)
    part <<= shift
    part += dev.astype(kind, copy=False)
    key = np.zeros(len(ticks), dtype=kind)
    key[starts[1:]] = np.diff(part)
    key[0] = part[0]
    del part
    carry = kind(0)
    for lo, hi in blocks(len(key), block):
        k = key[lo:hi]
        k[:1] += carry
        np.cumsum(k, out=k)
        carry = k[-1]
        slot = clock.slots(ticks[lo:hi])
        slot <<= layout.dev_bits
        np.add(k, slot, out=k, casting="unsafe")
    return key


def decode_sorted(key: np.ndarray, n_dev: int, layout, clock, *, block: int):
    """From sorted keys ``point field << dev_bits | device``: the unique pairs, in one pass.

    Block by block: neighbouring keys that are equal are duplicated records
    (dropped), and a key whose field differs from its predecessor's starts a
    point (``(a ^ b) >> dev_bits != 0``). Each block writes its pairs' keys
    ``point * n_dev + device`` (point codes numbering the distinct fields in
    order, as a running sum of ``n_dev`` at every new point), their devices,
    the offsets of the points it starts and their location codes and times,
    so no pass over the whole arrays follows. ``key`` is overwritten: when
    it is int64 it becomes ``keys``.

    Returns ``keys``, ``devs``, ``offsets``, the location code and time
    (seconds) of every point, and the device of every duplicated record.
    """
    n = len(key)
    kind = key.dtype.type
    shift, mask = kind(layout.dev_bits), kind((1 << layout.dev_bits) - 1)
    keys = key if key.dtype == np.int64 else np.empty(n, dtype=np.int64)
    devs = np.empty(n, dtype=small_int(n_dev))
    offsets = np.empty(n + 1, dtype=np.int64)
    point_loc = np.empty(n, dtype=small_int(n))
    point_time = np.empty(n, dtype=np.int64)
    dups = []
    pos, n_pts = 0, 0
    prev = None
    diff = np.empty(min(block, max(n, 1)), dtype=key.dtype)
    new_buf = np.empty(len(diff), dtype=bool)
    for lo, hi in blocks(n, block):
        k = key[lo:hi]
        x = diff[: hi - lo]
        # The first key of all starts a pair and a point: any value above the mask.
        x[0] = (k[0] ^ prev) if prev is not None else mask + kind(1)
        np.bitwise_xor(k[1:], k[:-1], out=x[1:])
        prev = k[-1]
        if not x.all():
            keep = x != 0
            dups.append(k[~keep] & mask)
            k, x = k[keep], x[keep]  # a dropped key equals the kept one before it
            if len(k) == 0:
                continue
        m = len(k)
        new = np.greater(x, mask, out=new_buf[:m])
        starts = np.flatnonzero(new)
        fields = np.take(k, starts)
        fields >>= shift
        np.bitwise_and(k, mask, out=devs[pos : pos + m], casting="unsafe")
        # Every read of ``k`` is done: ``out`` may overlap it (pos <= lo).
        out = keys[pos : pos + m]
        np.multiply(new, n_dev, out=out)
        out[0] += (n_pts - 1) * n_dev
        np.cumsum(out, out=out)
        out += devs[pos : pos + m]
        j = n_pts + len(starts)
        np.add(starts, pos, out=offsets[n_pts:j])
        if layout.slot_bits:
            np.right_shift(fields, kind(layout.slot_bits), out=point_loc[n_pts:j], casting="unsafe")
            slot = np.bitwise_and(fields, (1 << layout.slot_bits) - 1, dtype=np.int64)
        else:
            loc = fields // kind(layout.n_slots)
            point_loc[n_pts:j] = loc
            slot = fields.astype(np.int64)
            slot -= loc.astype(np.int64) * layout.n_slots
        if clock.step != 1:
            slot *= clock.step
        np.add(slot, clock.t0, out=point_time[n_pts:j])
        pos, n_pts = pos + m, j
    offsets[n_pts] = pos
    dup = np.concatenate(dups) if dups else np.empty(0, dtype=key.dtype)
    # Give the unused tails back (no copy).
    del k, out
    for a, size in ((keys, pos), (devs, pos), (offsets, n_pts + 1)):
        a.resize(size, refcheck=False)
    point_loc.resize(n_pts, refcheck=False)
    point_time.resize(n_pts, refcheck=False)
    return keys, devs, offsets, point_loc, point_time, dup.astype(np.int64)
