"""Re-identification when the released points have moved (noise): true points matched nearby.

The attacker knows a target's true points and accepts a released record at
the same time within a radius of each; the target is re-identified when its
own released trace is the only one that matches them all. The defenses use
it for the settings that add noise (``Setting.match_km``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.attacks.result import wilson_interval
from fewpoints.attacks.unicity import unicity


def near_unicity(raw_index, released, p, n_targets, radius, rng):
    """Re-identification from true points matched within ``radius`` km, at the same time.

    Targets and their p points are drawn from the raw data exactly as
    :func:`unicity` draws them. A released device matches a known point
    when it has a record at that time within ``radius`` of it; it matches
    the target when it matches all p. Returns (share re-identified, ci_low,
    ci_high, targets, released devices).
    """
    known = unicity(raw_index, p, n_targets=n_targets, rng=rng)
    pts = known.points
    # p points per target, target after target (as unicity draws them).
    labels = pd.unique(pts["device_id"].astype(str).to_numpy())
    qx = pts["x_km"].to_numpy(dtype=np.float64)
    qy = pts["y_km"].to_numpy(dtype=np.float64)
    qt = pts["time"].to_numpy().astype("datetime64[s]").view(np.int64)

    rx = released["x_km"].to_numpy(dtype=np.float64)
    ry = released["y_km"].to_numpy(dtype=np.float64)
    rt = released["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    ids = released["device_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        # The Categorical's own codes: no string per record (10M of them cost seconds).
        rdev = ids.cat.codes.to_numpy().astype(np.int64)
        rlabels = ids.cat.categories.astype(str)
    else:
        rdev, rlabels = pd.factorize(ids.astype(str))
    n_dev = max(len(rlabels), 1)
    # Records bucketed by (time, cell of side radius): a query's matches lie in its 3 x 3 cells.
    # Times coded in increasing order, so a table sorted by device and time gives sorted keys.
    t_code, t_uniq = pd.factorize(np.concatenate([rt, qt]), sort=True)
    r_tc, q_tc = t_code[: len(rt)].astype(np.int64), t_code[len(rt) :].astype(np.int64)
    gx, gy = np.floor(rx / radius).astype(np.int64), np.floor(ry / radius).astype(np.int64)
    hx, hy = np.floor(qx / radius).astype(np.int64), np.floor(qy / radius).astype(np.int64)
    x0, y0 = (
        min(gx.min(initial=0), hx.min(initial=0)) - 1,
        min(gy.min(initial=0), hy.min(initial=0)) - 1,
    )
    wx = max(gx.max(initial=0), hx.max(initial=0)) - x0 + 2
    wy = max(gy.max(initial=0), hy.max(initial=0)) - y0 + 2

    def bucket(tc, cx, cy):
        return (tc * wx + (cx - x0)) * wy + (cy - y0)

    own = pd.Index(rlabels).get_indexer(labels)  # the target's own code (-1: not released)
    rkey = bucket(r_tc, gx, gy)
    by_cell = np.argsort(rkey, kind="stable")
    rkey = rkey[by_cell]
    # Per known point: how many records lie in its 3 x 3 cells (an upper bound on its matches).
    offsets = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    ranges = []
    for dx, dy in offsets:
        k = bucket(q_tc, hx + dx, hy + dy)
        ranges.append((np.searchsorted(rkey, k, "left"), np.searchsorted(rkey, k, "right")))
    n_cand = sum(hi - lo for lo, hi in ranges)
    # Candidates come from each target's rarest point; the others are checked per device.
    n_t = len(labels)
    best = np.arange(n_t) * p + np.argmin(n_cand.reshape(n_t, p), axis=1)
    cand = []
    for lo, hi in ranges:
        lo, hi = lo[best], hi[best]
        n = hi - lo
        t = np.repeat(np.arange(n_t), n)
        first = np.zeros(n_t, dtype=np.int64)
        np.cumsum(n[:-1], out=first[1:])
        rec = by_cell[np.arange(int(n.sum())) + np.repeat(lo - first, n)]
        q = best[t]
        near = (rx[rec] - qx[q]) ** 2 + (ry[rec] - qy[q]) ** 2 <= radius * radius
        cand.append(t[near].astype(np.int64) * n_dev + rdev[rec[near]])
    pairs = np.concatenate(cand)
    pairs.sort()
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    t_of, d_of = pairs // n_dev, pairs % n_dev
    # Records by (device, time), to test a candidate device at another known point.
    n_times = max(len(t_uniq), 1)
    dkey = rdev.astype(np.int64) * n_times + r_tc
    if len(dkey) and bool((dkey[1:] >= dkey[:-1]).all()):
        by_dev = np.arange(len(dkey))  # the table's own order (by device, then time)
    else:
        by_dev = np.argsort(dkey, kind="stable")
        dkey = dkey[by_dev]
    ustart = np.flatnonzero(np.r_[True, dkey[1:] != dkey[:-1]]) if len(dkey) else np.zeros(0, int)
    ukey, ucount = dkey[ustart], np.diff(np.r_[ustart, len(dkey)])
    alive = np.ones(len(pairs), dtype=bool)
    for j in range(p):
        q = t_of * p + j
        idx = np.flatnonzero(alive & (q != best[t_of]))
        key = d_of[idx] * n_times + q_tc[q[idx]]
        # Sorted queries keep the binary search in cache.
        order = np.argsort(key)
        pos = np.minimum(np.searchsorted(ukey, key[order]), max(len(ukey) - 1, 0))
        hit = ukey[pos] == key[order] if len(ukey) else np.zeros(len(key), dtype=bool)
        lo, n = np.empty_like(key), np.empty_like(key)
        lo[order] = np.where(hit, ustart[pos], 0)
        n[order] = np.where(hit, ucount[pos], 0)
        row = np.repeat(np.arange(len(idx)), n)
        first = np.zeros(len(idx), dtype=np.int64)
        np.cumsum(n[:-1], out=first[1:])
        rec = by_dev[np.arange(int(n.sum())) + np.repeat(lo - first, n)]
        qq = q[idx][row]
        near = (rx[rec] - qx[qq]) ** 2 + (ry[rec] - qy[qq]) ** 2 <= radius * radius
        ok = np.bincount(row[near], minlength=len(idx)) > 0
        alive[idx[~ok]] = False
    t_of, d_of = t_of[alive], d_of[alive]
    sizes = np.bincount(t_of, minlength=n_t)
    found = np.zeros(n_t, dtype=bool)
    found[t_of[d_of == own[t_of]]] = True
    k_unique = int(((sizes == 1) & found).sum())
    lo_ci, hi_ci = wilson_interval(k_unique, n_t)
    return k_unique / n_t, lo_ci, hi_ci, n_t, len(rlabels)
