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
from fewpoints.scale.holders import holder_counts, holder_pairs


def _device_points(df: pd.DataFrame):
    """A partition's distinct (device, point) pairs, sorted by device then (x, y, time).

    Returns the partition's device IDs (sorted, as the in-memory index sorts
    them) and, for every pair, its device row, its x, y and time. Points are
    in the order of the in-memory index's point codes: x, then y, then time.
    """
    dev_ids, d, loc, loc_x, loc_y, t, _ = fine_pairs(df)
    return dev_ids, d, loc_x[loc], loc_y[loc], t


def fine_pairs(df: pd.DataFrame):
    """A partition's distinct (device, location, time) triples, sorted, with its tables.

    Returns ``(dev_ids, d, loc, loc_x, loc_y, t, records)``: the device IDs
    (sorted), for every distinct pair its device row, location code (into
    ``loc_x, loc_y``, codes in (x, y) order) and time (int64 seconds), and the
    records per device. Intermediate arrays are freed as soon as possible:
    this is a worker's peak memory.
    """
    dev, x, y, t = partition_columns(df)
    dcode, dev_ids = factorize_devices(dev)
    records = np.bincount(dcode, minlength=len(dev_ids))
    del dev
    loc, loc_x, loc_y = location_codes(x, y)
    del x, y
    d, loc, t = _distinct_pairs(dcode, len(dev_ids), loc, len(loc_x), t)
    return dev_ids, d, loc, loc_x, loc_y, t, records


def _distinct_pairs(dcode, n_dev: int, loc, n_loc: int, t, *, ordered: bool = False):
    """The distinct (device, location, time) triples, sorted in that order (codes and seconds).

    ``dcode`` and ``loc`` may be overwritten (they are a worker's largest
    arrays); ``ordered`` says the triples are already in that order.
    """
    t0 = int(t.min())
    span = int(t.max()) - t0 + 1
    if n_dev * n_loc * span < 2**62:  # times as offsets: no hashing, same order
        tcode, times, n_time = t - t0, None, span
    else:
        tcode, times = pd.factorize(t, sort=True)
        n_time = len(times)
    n_points = n_loc * n_time
    point = loc
    point *= n_time
    point += tcode
    del loc, tcode
    if n_dev * n_points < 2**62:
        key = dcode
        key *= n_points
        key += point
        del point
        if not ordered:
            key.sort()
        key = dedupe_sorted(key)
        d, pt = key // n_points, key % n_points
    else:  # very many distinct values: sort the pairs without one packed key
        pairs = np.unique(np.stack([dcode, point]), axis=1)
        d, pt = pairs[0], pairs[1]
    loc, tc = pt // n_time, pt % n_time
    time = tc + t0 if times is None else np.asarray(times, dtype=np.int64)[tc]
    return d, loc, time


def coarse_pairs(fine, cell_km: float | None, step_s: int | None, *, distinct: bool = True):
    """``(d, loc, loc_x, loc_y, t)`` of the partition coarsened: pairs, location codes and table.

    ``fine`` is :func:`fine_pairs`' result; the coarsening is
    :func:`fewpoints.anonymize.coarsen_space` (square cells of ``cell_km``)
    and :func:`~fewpoints.anonymize.coarsen_time` (slots of ``step_s``
    seconds), computed on the distinct locations and pairs instead of the
    records: the same values, so (``distinct``) the same distinct points in
    the same order as the coarsened partition read again; without
    ``distinct``, one row per fine pair (repeats left in).
    """
    _, d, loc, loc_x, loc_y, t, _ = fine
    if cell_km is None and step_s is None:
        return d, loc, loc_x, loc_y, t
    if cell_km is None:
        cmap, cx, cy = None, loc_x, loc_y
    else:
        c = float(cell_km)
        cmap, cx, cy = location_codes((np.floor(loc_x / c) + 0.5) * c,
                                      (np.floor(loc_y / c) + 0.5) * c)  # fmt: skip
    cl = loc if cmap is None else cmap[loc]
    tt = t if step_s is None else t - np.mod(t, step_s)
    if not distinct:
        return d, cl, cx, cy, tt
    # Flooring times keeps the fine order; moving locations to cells does not.
    d, cl, tt = _distinct_pairs(d.copy(), len(fine[0]), cl.copy() if cmap is None else cl,
                                len(cx), tt, ordered=cmap is None)  # fmt: skip
    return d, cl, cx, cy, tt


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
    dev, x, y, t = partition_columns(df)
    dcode, ids = factorize_devices(dev)
    del dev
    records = np.bincount(dcode, minlength=len(ids))
    return pd.DataFrame(
        {
            "device_id": pd.array(ids, dtype="string[pyarrow]"),
            "n_points": _points_per_device(dcode, len(ids), x, y, t, records).astype(np.int64),
            "n_records": records.astype(np.int64),
        }
    )


def _points_per_device(dcode, n_dev: int, x, y, t, records) -> np.ndarray:
    """Each device's number of distinct (x, y, t), without a sort when the records allow it.

    Records in order of device, then time (as ``generate --chunk-people``
    writes them) can repeat a point only within a run of records of one
    device in one second: those few runs alone are coded and sorted, every
    other record is a point of its own. Records in any other order: one
    sort of all of them (:func:`_distinct_pairs`).
    """
    if len(dcode) > 1:
        step_d, step_t = np.diff(dcode), np.diff(t)
        ordered = bool(((step_d > 0) | ((step_d == 0) & (step_t >= 0))).all())
        tie = (step_d == 0) & (step_t == 0)  # record i + 1 shares device and second with i
        del step_d, step_t
    else:
        ordered, tie = True, np.zeros(0, dtype=bool)
    if not ordered:
        loc, loc_x, _ = location_codes(x, y)
        d = _distinct_pairs(dcode.copy(), n_dev, loc, len(loc_x), t)[0]
        return np.bincount(d, minlength=n_dev)
    if not tie.any():
        return records
    rows = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])
    d = dcode[rows]
    in_runs = np.bincount(d, minlength=n_dev)
    loc, loc_x, _ = location_codes(x[rows], y[rows])
    d = _distinct_pairs(d, n_dev, loc, len(loc_x), t[rows])[0]
    return records - in_runs + np.bincount(d, minlength=n_dev)


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
    sub = _wanted(df, want)
    if len(sub) == 0:
        return empty
    ids, d, x, y, t = _device_points(sub)
    return _pick(ids, d, x, y, t, want)


def _wanted(df: pd.DataFrame, want: pd.DataFrame) -> pd.DataFrame:
    """The records of the partition's devices among ``want["device_id"]`` (IDs compared as text)."""
    dev = df["device_id"]
    if not (pd.api.types.is_string_dtype(dev) or isinstance(dev.dtype, pd.CategoricalDtype)):
        dev = dev.astype(str)  # IDs are compared as text, as the in-memory index does
    return df.loc[dev.isin(want["device_id"].unique()).to_numpy(), COLUMNS]


def _pick(ids, d, x, y, t, want: pd.DataFrame) -> pd.DataFrame:
    """The ``rank``-th of the sorted distinct pairs ``(d, x, y, t)`` of each wanted device held here."""
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
    rows, pid = known_rows(x, y, t, known)
    return _count_holders(dev.iloc[rows], pid, known)


def known_rows(x, y, t, known: dict, *, loc=None, bits=None) -> tuple[np.ndarray, np.ndarray]:
    """The records that are known points, and the point id of each.

    The broadcast join, in two steps. A filter first: every record's
    (x, y, t) is hashed to one integer (from the bits of the floats and the
    seconds, :func:`_place_hash` and :func:`_point_hash`) and tested against
    a table of flags set at the known points' hashes; a record whose hash is
    not flagged is no known point. Then the exact join on the few records
    that pass (a known point's own records, and about one in 32 of the
    others): each coordinate is looked up among the known points' values,
    then the (x, y, t) triple among the known triples (a binary search on
    one packed key). With ``loc``, ``x`` and ``y`` are a table of locations
    and record i is at ``loc[i]``. ``bits`` sets the filter's table to
    ``2**bits`` flags (default: about 32 per known point).
    """
    bits = _hash_bits(len(known["x"])) if bits is None else int(bits)
    flags = np.zeros(1 << bits, dtype=bool)
    kx, ky = known["x"] + 0.0, known["y"] + 0.0
    flags[_point_hash(_place_hash(kx, ky), known["t"], bits)] = True
    if loc is None:  # records as partition_columns gives them: -0.0 as 0.0
        place = _place_hash(x, y)
    else:
        place = _place_hash(np.asarray(x, dtype=np.float64) + 0.0,
                            np.asarray(y, dtype=np.float64) + 0.0)[loc]  # fmt: skip
    cand = np.flatnonzero(flags[_point_hash(place, t, bits)])
    del place
    if loc is None:
        rows, pid = _exact_rows(x[cand], y[cand], t[cand], known)
    else:
        rows, pid = _exact_rows(x, y, t[cand], known, loc=loc[cand])
    return cand[rows], pid


#: Odd 64-bit constants of the hashes (multiplying by one is a bijection of uint64).
_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0xD6E8FEB86659FD93)


def _hash_bits(n_known: int) -> int:
    """Bits of the filter's table: about 32 flags per known point (2**26 at most)."""
    return min(max(int(n_known) * 32, 1 << 10).bit_length(), 26)


def _place_hash(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One new uint64 per (x, y), from the bits of the floats (equal floats, equal hashes).

    Multiply, xor, multiply, all in place on one array: the cost of a
    record is a few operations, and no temporary array is made.
    """
    h = np.asarray(x, dtype=np.float64).view(np.uint64) * np.uint64(_MIX[0])
    h ^= np.asarray(y, dtype=np.float64).view(np.uint64)
    h *= np.uint64(_MIX[1])
    return h


def _point_hash(place: np.ndarray, t, bits: int) -> np.ndarray:
    """The top ``bits`` bits of a hash of each (place hash, seconds), computed in ``place``."""
    place ^= np.asarray(t, dtype=np.int64).view(np.uint64)
    place *= np.uint64(_MIX[2])  # every bit of the inputs reaches the top bits
    place >>= np.uint64(64 - bits)
    return place


def _exact_rows(x, y, t, known: dict, *, loc=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`known_rows` without the filter: every record's values looked up exactly."""
    xs, ys, ts = (pd.Index(np.unique(known[c])) for c in ("x", "y", "t"))
    xi, yi, ti = xs.get_indexer(x), ys.get_indexer(y), ts.get_indexer(t)
    if loc is not None:
        xi, yi = xi[loc], yi[loc]
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
    dcode, dev_ids = pd.factorize(dev)
    return holder_counts(dcode, len(dev_ids), pid, known)


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
    rows, pid = known_rows(x, y, t, known)
    g, d = holder_pairs(dcode[rows], len(ids), pid, known)
    return pd.DataFrame({"target": g, "device": d})


# ---------------------------------------------------------------------------
# The three passes for many coarsenings at once (each partition read once per pass)
# ---------------------------------------------------------------------------


def sweep_count_meta(n_settings: int) -> pd.DataFrame:
    """Pass 1's frame for ``n_settings`` coarsenings: ``n_points`` is the first's."""
    cols = {"device_id": pd.Series([], dtype="string[pyarrow]"),
            "n_records": pd.Series([], dtype=np.int64)}  # fmt: skip
    for k in range(n_settings):
        cols[_points_column(k)] = pd.Series([], dtype=np.int64)
    return pd.DataFrame(cols)


def _points_column(k: int) -> str:
    return "n_points" if k == 0 else f"n_points_{k}"


def sweep_count_partition(df: pd.DataFrame, settings: list) -> pd.DataFrame:
    """Pass 1 for every ``(cell_km, step_s)`` of ``settings``: each device's distinct coarse points."""
    if len(df) == 0:
        return sweep_count_meta(len(settings))
    fine = fine_pairs(df)
    ids = fine[0]
    out = {"device_id": pd.array(ids, dtype="string[pyarrow]"),
           "n_records": fine[6].astype(np.int64)}  # fmt: skip
    for k, (cell, step) in enumerate(settings):
        d = coarse_pairs(fine, cell, step)[0]
        out[_points_column(k)] = np.bincount(d, minlength=len(ids)).astype(np.int64)
    return pd.DataFrame(out)


def sweep_fetch_partition(df: pd.DataFrame, want: pd.DataFrame, settings: list) -> pd.DataFrame:
    """Pass 2 for many coarsenings: each request's point, in the coarsening ``want["setting"]``."""
    sub = _wanted(df, want) if len(df) else df
    if len(sub) == 0:
        return FETCH_META.copy()
    fine = fine_pairs(sub)
    frames = [FETCH_META]
    for k in np.unique(want["setting"].to_numpy()):
        d, loc, loc_x, loc_y, t = coarse_pairs(fine, *settings[k])
        frames.append(_pick(fine[0], d, loc_x[loc], loc_y[loc], t,
                            want[want["setting"].to_numpy() == k]))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


SWEEP_MATCH_META = pd.DataFrame(
    {
        "setting": np.array([], dtype=np.int64),
        "target": np.array([], dtype=np.int64),
        "holders": np.array([], dtype=np.int64),
    }
)


def sweep_match_partition(df: pd.DataFrame, knowns: list, settings: list) -> pd.DataFrame:
    """Pass 3 for many coarsenings: per setting, the targets with holders here, and how many."""
    if len(df) == 0:
        return SWEEP_MATCH_META.copy()
    fine = fine_pairs(df)
    frames = [SWEEP_MATCH_META]
    for k, (known, (cell, step)) in enumerate(zip(knowns, settings, strict=True)):
        d, loc, loc_x, loc_y, t = coarse_pairs(fine, cell, step, distinct=False)
        rows, pid = known_rows(loc_x, loc_y, t, known, loc=loc)
        counts = holder_counts(d[rows], len(fine[0]), pid, known)
        hit = np.flatnonzero(counts)
        frames.append(pd.DataFrame({"setting": np.full(len(hit), k, dtype=np.int64),
                                    "target": hit.astype(np.int64), "holders": counts[hit]}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)
