"""The per-partition work of the Dask engine's three passes (pure pandas/numpy; runs on the workers).

Pass 1 counts each device's distinct points (:func:`count_partition`),
pass 2 fetches the targets' known points (:func:`fetch_partition`), pass 3
counts, or names, the devices holding all of a target's known points
(:func:`match_frame`, :func:`holders_partition`). Each function takes one
partition and small broadcast arguments and returns a small frame; the
client side is :mod:`fewpoints.scale.engine`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes
from fewpoints.common import dedupe_sorted
from fewpoints.scale.frames import COLUMNS, factorize_devices, partition_columns


def _device_points(df: pd.DataFrame, *, coordinates: bool = True):
    """A partition's distinct (device, point) pairs, sorted by device then (x, y, time).

    Returns the partition's device IDs (sorted, as the in-memory index sorts
    them) and, for every pair, its device row and (with ``coordinates``)
    its x, y and time; without ``coordinates``, the records per device
    instead. Points are in the order of the in-memory index's point codes:
    x, then y, then time. Intermediate arrays are freed or reused as soon as
    possible: this is a worker's peak memory.
    """
    dev, x, y, t = partition_columns(df)
    dcode, dev_ids = factorize_devices(dev)
    records = None if coordinates else np.bincount(dcode, minlength=len(dev_ids))
    del dev
    loc, loc_x, loc_y = location_codes(x, y)
    del x, y
    t0 = int(t.min())
    span = int(t.max()) - t0 + 1
    if len(dev_ids) * len(loc_x) * span < 2**62:  # times as offsets: no hashing, same order
        tcode, times, n_time = t - t0, None, span
    else:
        tcode, times = pd.factorize(t, sort=True)
        n_time = len(times)
    n_points = len(loc_x) * n_time
    point = loc
    point *= n_time
    point += tcode
    del loc, tcode, t
    if len(dev_ids) * n_points < 2**62:
        key = dcode
        key *= n_points
        key += point
        del point
        key.sort()
        key = dedupe_sorted(key)
        d, pt = key // n_points, key % n_points
    else:  # very many distinct values: sort the pairs without one packed key
        pairs = np.unique(np.stack([dcode, point]), axis=1)
        d, pt = pairs[0], pairs[1]
    if not coordinates:
        return dev_ids, d, records
    loc, tc = pt // n_time, pt % n_time
    time = tc + t0 if times is None else np.asarray(times, dtype=np.int64)[tc]
    return dev_ids, d, loc_x[loc], loc_y[loc], time


COUNT_META = pd.DataFrame(
    {
        "device_id": pd.Series([], dtype="string[pyarrow]"),
        "n_points": pd.Series([], dtype=np.int64),
        "n_records": pd.Series([], dtype=np.int64),
    }
)


def count_partition(df: pd.DataFrame) -> pd.DataFrame:
    """Pass 1: each device's number of distinct points, and of records."""
    if len(df) == 0:
        return COUNT_META.copy()
    ids, d, records = _device_points(df, coordinates=False)
    return pd.DataFrame(
        {
            "device_id": pd.array(ids, dtype="string[pyarrow]"),
            "n_points": np.bincount(d, minlength=len(ids)).astype(np.int64),
            "n_records": records.astype(np.int64),
        }
    )


FETCH_META = pd.DataFrame(
    {
        "request": np.array([], dtype=np.int64),
        "x": np.array([], dtype=np.float64),
        "y": np.array([], dtype=np.float64),
        "t": np.array([], dtype=np.int64),
    }
)


def fetch_partition(df: pd.DataFrame, want: pd.DataFrame) -> pd.DataFrame:
    """Pass 2: the ``rank``-th point of each wanted ``device_id`` held by this partition."""
    empty = FETCH_META.copy()
    if len(df) == 0:
        return empty
    dev = df["device_id"]
    if not (pd.api.types.is_string_dtype(dev) or isinstance(dev.dtype, pd.CategoricalDtype)):
        dev = dev.astype(str)  # IDs are compared as text, as the in-memory index does
    sub = df.loc[dev.isin(want["device_id"].unique()).to_numpy(), COLUMNS]
    if len(sub) == 0:
        return empty
    ids, d, x, y, t = _device_points(sub)
    row = pd.Index(ids).get_indexer(want["device_id"])
    here = row >= 0
    start = np.searchsorted(d, np.arange(len(ids)))
    pos = start[row[here]] + want["rank"].to_numpy()[here]
    return pd.DataFrame(
        {"request": want["request"].to_numpy()[here], "x": x[pos], "y": y[pos], "t": t[pos]}
    )


MATCH_META = pd.DataFrame(
    {"target": np.array([], dtype=np.int64), "holders": np.array([], dtype=np.int64)}
)


def match_frame(df: pd.DataFrame, known: dict) -> pd.DataFrame:
    """Pass 3 as a small frame: the targets with holders in this partition, and how many."""
    counts = _match_partition(df, known)
    hit = np.flatnonzero(counts)
    return pd.DataFrame({"target": hit.astype(np.int64), "holders": counts[hit]})


def _match_partition(df: pd.DataFrame, known: dict) -> np.ndarray:
    """Pass 3: per target, the devices of this partition holding all its known points.

    ``known`` has the distinct known points (``x``, ``y``, ``t``, one row per
    point id), for each point id the targets that know it (CSR:
    ``offsets``, ``targets``), and each target's number of points ``need``.
    """
    need = known["need"]
    if len(df) == 0:
        return np.zeros(len(need), dtype=np.int64)
    dev, x, y, t = partition_columns(df)
    rows, pid = _known_rows(x, y, t, known)
    return _count_holders(dev.iloc[rows], pid, known)


def _known_rows(x, y, t, known: dict) -> tuple[np.ndarray, np.ndarray]:
    """The records that are known points, and the point id of each.

    The broadcast join: each coordinate is looked up among the known
    points' values (a hash lookup), then the (x, y, t) triple among the
    known triples (a binary search on one packed key).
    """
    xs, ys, ts = (pd.Index(np.unique(known[c])) for c in ("x", "y", "t"))
    xi, yi, ti = xs.get_indexer(x), ys.get_indexer(y), ts.get_indexer(t)
    rows = np.flatnonzero((xi >= 0) & (yi >= 0) & (ti >= 0))
    ny, nt = len(ys), len(ts)
    key = (xi[rows].astype(np.int64) * ny + yi[rows]) * nt + ti[rows]
    kkey = (xs.get_indexer(known["x"]).astype(np.int64) * ny + ys.get_indexer(known["y"])) * nt
    kkey += ts.get_indexer(known["t"])
    korder = np.argsort(kkey)
    pos = np.searchsorted(kkey[korder], key).clip(max=len(kkey) - 1)
    ok = kkey[korder][pos] == key
    return rows[ok], korder[pos[ok]]


def _count_holders(dev: pd.Series, pid: np.ndarray, known: dict) -> np.ndarray:
    """Per target, the devices (of ``dev``, one per matched record) holding all its points."""
    need = known["need"]
    if len(pid) == 0:
        return np.zeros(len(need), dtype=np.int64)
    dcode, dev_ids = pd.factorize(dev)
    g, _ = _holder_pairs(dcode, len(dev_ids), pid, known)
    return np.bincount(g, minlength=len(need)).astype(np.int64)


def _holder_pairs(dcode: np.ndarray, n_dev: int, pid: np.ndarray, known: dict):
    """``(target, device)`` for every device (codes below ``n_dev``) holding all of a target's points.

    ``dcode[i]`` and ``pid[i]`` are the device and the known point of matched record ``i``.
    """
    need = known["need"]
    if len(pid) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    pair = pid.astype(np.int64) * n_dev + dcode
    pair.sort()
    pair = dedupe_sorted(pair)
    pid, d = pair // n_dev, pair % n_dev
    # Every (device, point) pair counts once for each target that knows the point.
    offsets, targets = known["offsets"], known["targets"]
    n = offsets[pid + 1] - offsets[pid]
    first = np.repeat(offsets[pid], n)
    within = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    g = targets[first + within]
    # Pairs are distinct, so a device holds all of target g's points when it
    # appears need[g] times with g.
    tkey = g * n_dev + np.repeat(d, n)
    tkey.sort()
    new = np.empty(len(tkey), dtype=bool)
    new[:1] = True
    np.not_equal(tkey[1:], tkey[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    held = np.diff(np.append(starts, len(tkey)))
    g, d = tkey[starts] // n_dev, tkey[starts] % n_dev
    full = held == need[g]
    return g[full], d[full]


HOLDERS_META = pd.DataFrame(
    {"target": np.array([], dtype=np.int64), "device": np.array([], dtype=np.int64)}
)


def holders_partition(df: pd.DataFrame, known: dict) -> pd.DataFrame:
    """Pass 3 for sub-populations: each target's holders in this partition, by local position.

    A holder is named by its position among the partition's devices in
    sorted ID order (the order pass 1 listed them in), so the client turns
    it into a device code with pass 1's table, and no ID travels back.
    """
    if len(df) == 0:
        return HOLDERS_META.copy()
    dev, x, y, t = partition_columns(df)
    dcode, ids = factorize_devices(dev)
    rows, pid = _known_rows(x, y, t, known)
    g, d = _holder_pairs(dcode[rows], len(ids), pid, known)
    return pd.DataFrame({"target": g, "device": d})
