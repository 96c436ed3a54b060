"""Pass 3's core: per target, the devices of one partition holding all its known points.

A target's anonymity set is the intersection, over its known points, of the
devices holding each point. At coarse settings (10 km squares, 1-day slots)
nearly every device holds a known point known by thousands of targets, so
expanding every matched (point, device) pair once per target knowing its
point costs pairs x targets. Here the memory stays bounded by the pairs:

* the matched pairs are kept once each, sorted by (point, device): the
  holders of every known point, a sorted slice;
* a point held by more than ``n_dev / dense`` devices also gets its holders
  as a bitset over the partition's devices (at most about 8 bytes per pair
  in all, as many as the sorted pairs themselves);
* each target starts from its point with the fewest holders (its pivot).
  When the pivot's holders are few, each is looked up among the pairs of
  the target's other points (a binary search); when they are many, all of
  the target's points are dense and their bitsets are ANDed and counted.

Targets are processed in blocks whose intermediate arrays hold at most
about ``budget`` elements (a loop over blocks, vectorised within one), so
the time is at most the target's points times ``n_dev / dense`` lookups (or
``n_dev / 64`` words) per target, and the memory is the pairs plus one block,
whatever the coarseness. The answer is the broadcast join's exactly.
"""

from __future__ import annotations

import numpy as np

from fewpoints.common import dedupe_sorted

BUDGET = 1 << 22
"""Elements of a block's largest intermediate array (about 32 MB of int64)."""

DENSE = 64
"""A point held by more than ``n_dev / DENSE`` of the partition's devices is kept as a bitset."""


def holder_counts(dcode, n_dev: int, pid, known: dict, *, budget=BUDGET, dense=DENSE):
    """Per target, how many devices (codes below ``n_dev``) hold all its known points.

    ``dcode[i]`` and ``pid[i]`` are the device and the known point (a row
    of ``known``) of matched record ``i``; repeats are allowed. ``known``
    lists, per point, the targets knowing it (CSR ``offsets``, ``targets``);
    ``len(known["need"])`` is the number of targets.
    """
    counts = np.zeros(len(known["need"]), dtype=np.int64)
    for g, _, bits in _blocks(dcode, n_dev, pid, known, budget, dense, names=False):
        if bits is None:
            counts += np.bincount(g, minlength=len(counts))
        else:
            counts[g] = np.bitwise_count(bits).sum(axis=1, dtype=np.int64)
    return counts


def holder_pairs(dcode, n_dev: int, pid, known: dict, *, budget=BUDGET, dense=DENSE):
    """``(target, device)`` for every device holding all of a target's points, sorted so.

    Arguments as :func:`holder_counts`. The result is the answer itself
    (one pair per target and holder); the intermediates stay bounded as there.
    """
    gs, ds = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for g, d, bits in _blocks(dcode, n_dev, pid, known, budget, dense, names=True):
        if bits is not None:
            flags = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")[:, :n_dev]
            row, d = np.nonzero(flags)
            g = g[row]
        gs.append(g)
        ds.append(d.astype(np.int64))
    key = np.concatenate(gs) * n_dev + np.concatenate(ds)
    key.sort()
    return key // n_dev, key % n_dev


def _blocks(dcode, n_dev: int, pid, known: dict, budget: int, dense: int, *, names: bool):
    """Yield ``(targets, devices, None)`` (one row per holder) or ``(targets, None, bitsets)``."""
    n_known = len(known["offsets"]) - 1
    if len(pid) == 0 or n_dev == 0:
        return
    keys = dedupe_sorted(np.sort(np.asarray(pid, dtype=np.int64) * n_dev + dcode))
    start = np.searchsorted(keys, np.arange(n_known + 1, dtype=np.int64) * n_dev)
    held = np.diff(start)
    cut = max(n_dev // dense, 1)
    bits, row = _bitsets(keys, n_dev, held > cut, n_known)
    n_words = bits.shape[1]
    for targets, pts in _target_points(known):
        hp = held[pts]
        piv = pts[np.arange(len(pts)), np.argmin(hp, axis=1)]
        few = held[piv]
        w = pts.shape[1]
        sparse = np.flatnonzero((few > 0) & (few <= cut))
        for lo, hi in _cuts(few[sparse] * w, budget):
            yield _sparse_block(keys, start, held, n_dev, targets, pts, piv, sparse[lo:hi])
        heavy = np.flatnonzero(few > cut)
        per = max(budget // (w * n_words * (64 if names else 1)), 1)
        for lo in range(0, len(heavy), per):
            sel = heavy[lo : lo + per]
            r = row[pts[sel]]
            acc = bits[r[:, 0]]
            for j in range(1, w):
                acc &= bits[r[:, j]]
            yield targets[sel], None, acc


def _sparse_block(keys, start, held, n_dev: int, targets, pts, piv, sel):
    """The holders of ``sel``'s targets: each holder of its pivot found among its other points."""
    n = held[piv[sel]]
    first = np.repeat(start[piv[sel]], n)
    within = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    d = keys[first + within] % n_dev
    who = np.repeat(sel, n)
    ok = np.ones(len(d), dtype=bool)
    for j in range(pts.shape[1]):
        q = pts[who, j] * n_dev + d
        at = np.searchsorted(keys, q).clip(max=len(keys) - 1)
        ok &= keys[at] == q
    return targets[who[ok]], d[ok], None


def _bitsets(keys, n_dev: int, dense: np.ndarray, n_known: int):
    """The holders of the ``dense`` points as bitset rows (uint64 words), and each point's row."""
    n_words = (n_dev + 63) // 64
    row = np.full(n_known, -1, dtype=np.int64)
    row[dense] = np.arange(int(dense.sum()), dtype=np.int64)
    bits = np.zeros((int(dense.sum()), n_words), dtype=np.uint64)
    r = row[keys // n_dev]
    mine = r >= 0
    d = keys[mine] % n_dev
    np.bitwise_or.at(
        bits, (r[mine], d >> 6), np.left_shift(np.uint64(1), (d & 63).astype(np.uint64))
    )
    return bits, row


def _target_points(known: dict):
    """Per number of points w: the targets with w points, and their point ids (an (n, w) array)."""
    offsets, targets = known["offsets"], known["targets"]
    n_targets = len(known["need"])
    pid = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    order = np.argsort(targets, kind="stable")
    pid = pid[order]
    width = np.bincount(targets, minlength=n_targets)
    first = np.cumsum(width) - width
    for w in np.unique(width[width > 0]):
        g = np.flatnonzero(width == w)
        yield g, pid[first[g][:, None] + np.arange(w)]


def _cuts(cost: np.ndarray, budget: int):
    """Consecutive ``(lo, hi)`` slices of ``cost`` each summing to about ``budget`` (one item at least)."""
    if len(cost) == 0:
        return []
    total = np.cumsum(cost)
    ends = np.searchsorted(total, np.arange(budget, int(total[-1]), budget), side="right")
    edges = np.unique(np.concatenate([[0], ends, [len(cost)]]))
    return list(zip(edges[:-1], edges[1:], strict=True))
