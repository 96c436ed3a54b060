"""The unicity test on data larger than memory: a Dask engine, exact against the in-memory one.

:func:`~fewpoints.attacks.unicity.unicity` and
:func:`~fewpoints.attacks.unicity.unicity_curve` hand a ``dask.dataframe``
to this module (install the ``scale`` extra: ``pip install 'fewpoints[scale]'``).
Nothing is ever gathered in one place but one small row per device and the
targets' known points. Three passes over the partitions:

1. **count**: in every partition, each device's number of distinct points
   (place and time). The client sorts the devices by ID, exactly as the
   in-memory index codes them, and draws the targets and the ranks of their
   known points with the same generator calls in the same order, so the
   same seed gives the same targets and the same points.
2. **fetch**: every partition returns the known points of the targets it
   holds: the k-th of a device's distinct points in (x, y, time) order, which
   is the order of the in-memory index's point codes.
3. **match**: the known points (a few tens of thousands of rows) are
   broadcast to every partition (a broadcast join); each partition counts,
   per target, its devices whose records hold all of the target's points,
   and the client adds the counts up.

Passes 1 to 3 need every device's records in one partition (true of the
Parquet worlds written by ``fewpoints generate --parquet --chunk-people``).
Pass 1 checks it: when a device ID appears in two partitions, the table is
first shuffled on ``device_id`` (slower, done by Dask out of core).

The work runs on whatever scheduler is active: a ``distributed.Client`` if
one exists (a local cluster or a remote scheduler), else Dask's default.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.attacks.index import location_codes
from fewpoints.common import dedupe_sorted
from fewpoints.schema import FewpointsError

__all__ = [
    "coarsen_dask",
    "connect",
    "dask_unicity",
    "is_dask_frame",
    "read_traces_dask",
    "require_dask",
]

_COLUMNS = ["device_id", "time", "x_km", "y_km"]

#: How to install the engine, repeated in every message about it.
INSTALL_HINT = "pip install 'fewpoints[scale]'"


def is_dask_frame(obj) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (without importing Dask when it is absent)."""
    module = type(obj).__module__ or ""
    return module.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "npartitions")


def require_dask():
    """Import and return ``dask``, or fail with one line saying how to install it."""
    try:
        import dask
        import dask.dataframe
    except ImportError:
        raise FewpointsError(
            f"the Dask engine needs the optional 'scale' extra ({INSTALL_HINT})"
        ) from None
    return dask


# ---------------------------------------------------------------------------
# per-partition work (pure pandas/numpy; runs on the workers)
# ---------------------------------------------------------------------------


def partition_columns(df: pd.DataFrame) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """device_id (str), x, y (float64, -0.0 as 0.0) and time (int64 seconds) of a partition."""
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing:
        raise FewpointsError(
            f"traces miss column(s) {', '.join(missing)}; "
            f"a traces table needs {', '.join(_COLUMNS)}"
        )
    dev = df["device_id"]
    if dev.isna().any():
        raise FewpointsError("traces: device_id has missing values")
    x = df["x_km"].to_numpy(dtype=np.float64, na_value=np.nan) + 0.0
    y = df["y_km"].to_numpy(dtype=np.float64, na_value=np.nan) + 0.0
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise FewpointsError("traces: x_km/y_km have missing or infinite values")
    time = df["time"]
    if not pd.api.types.is_datetime64_any_dtype(time):
        try:
            time = pd.to_datetime(time)
        except (ValueError, TypeError):
            raise FewpointsError("traces: time has values that are not dates and times") from None
    if time.isna().any():
        raise FewpointsError("traces: time has missing values")
    t = time.to_numpy().astype("datetime64[s]").view(np.int64)
    return dev, x, y, t


def factorize_devices(dev: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..n-1 of the devices present and their IDs as str, in sorted ID order."""
    if isinstance(dev.dtype, pd.CategoricalDtype):
        codes = dev.cat.codes.to_numpy().astype(np.int64)
        labels = np.asarray(dev.cat.categories.astype(str), dtype=object)
        present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
        order = present[np.argsort(labels[present], kind="stable")]
        remap = np.full(len(labels), -1, dtype=np.int64)
        remap[order] = np.arange(len(order))
        return remap[codes], labels[order]
    codes, ids = pd.factorize(dev.astype(str), sort=True)
    return codes.astype(np.int64), np.asarray(ids, dtype=object)


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


_COUNT_META = pd.DataFrame(
    {
        "device_id": pd.Series([], dtype="string[pyarrow]"),
        "n_points": pd.Series([], dtype=np.int64),
        "n_records": pd.Series([], dtype=np.int64),
    }
)


def _count_partition(df: pd.DataFrame) -> pd.DataFrame:
    """Pass 1: each device's number of distinct points, and of records."""
    if len(df) == 0:
        return _COUNT_META.copy()
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
    sub = df.loc[dev.isin(want["device_id"].unique()).to_numpy(), _COLUMNS]
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


_HOLDERS_META = pd.DataFrame(
    {"target": np.array([], dtype=np.int64), "device": np.array([], dtype=np.int64)}
)


def _holders_partition(df: pd.DataFrame, known: dict) -> pd.DataFrame:
    """Pass 3 for sub-populations: each target's holders in this partition, by local position.

    A holder is named by its position among the partition's devices in
    sorted ID order (the order pass 1 listed them in), so the client turns
    it into a device code with pass 1's table, and no ID travels back.
    """
    if len(df) == 0:
        return _HOLDERS_META.copy()
    dev, x, y, t = partition_columns(df)
    dcode, ids = factorize_devices(dev)
    rows, pid = _known_rows(x, y, t, known)
    g, d = _holder_pairs(dcode[rows], len(ids), pid, known)
    return pd.DataFrame({"target": g, "device": d})


def dask_holders(ddf, counts: _Counts, requests, *, progress=None, stages=("2/3", "3/3")):
    """The known points of every ``(targets, ranks)`` request and every device holding them all.

    Parameters
    ----------
    ddf : dask DataFrame
        The table pass 1 (``count_points``) read, with each device in one partition.
    counts : _Counts
        Pass 1's result.
    requests : list of (targets, ranks)
        Device codes of targets and, per target, the ranks of its known
        points among its distinct points (as ``unicity`` draws them).
    progress : callable, optional

    Returns
    -------
    points : list of (x, y, t)
        Each request's known points, row by row (times in seconds).
    target, holder : int64 arrays
        One pair per target (numbered over all requests in order) and device
        code holding all its points; the target is among its own holders.
    """
    dask = require_dask()
    x, y, t = _fetch_points(ddf, counts, requests, f"pass {stages[0]}: known points", progress)
    known = _known_points(x, y, t, requests)
    known_d = dask.delayed(known, pure=True)
    frames = compute_tasks(
        per_partition(ddf, _holders_partition, known_d, meta=_HOLDERS_META),
        f"pass {stages[1]}: matching",
        progress,
    )
    target = [f["target"].to_numpy() for f in frames]
    holder = [
        counts.row_code[counts.part_start[k] + f["device"].to_numpy()] for k, f in enumerate(frames)
    ]
    target = np.concatenate(target) if target else np.empty(0, dtype=np.int64)
    holder = np.concatenate(holder) if holder else np.empty(0, dtype=np.int64)
    points, at = [], 0
    for devices, ranks in requests:
        m = len(devices) * np.asarray(ranks).shape[1]
        points.append((x[at : at + m], y[at : at + m], t[at : at + m]))
        at += m
    return points, target.astype(np.int64), holder.astype(np.int64)


# ---------------------------------------------------------------------------
# the client side: three passes
# ---------------------------------------------------------------------------


def per_partition(ddf, func, *args, meta) -> list:
    """One delayed ``func(partition, *args)`` per partition, fused with the partition's read.

    ``map_partitions`` lets Dask fuse reading a partition and working on it
    into one task, so a partition never travels between workers; small
    arguments (delayed) are sent once to every worker: the broadcast.
    """
    return list(ddf.map_partitions(func, *args, meta=meta, align_dataframes=False).to_delayed())


def compute_tasks(tasks: list, stage: str, progress) -> list:
    """Compute delayed tasks on the active scheduler, reporting progress per finished task."""
    dask = require_dask()
    report = progress or (lambda stage, fraction: None)
    report(stage, 0.0)
    client = None
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is None:
        out = list(dask.compute(*tasks))
        report(stage, 1.0)
        return out
    from distributed import as_completed

    futures = client.compute(tasks)
    done = 0
    for _ in as_completed(futures):
        done += 1
        report(stage, done / len(futures))
    return client.gather(futures)


def select_columns(ddf):
    missing = [c for c in _COLUMNS if c not in ddf.columns]
    if missing:
        raise FewpointsError(
            f"traces miss column(s) {', '.join(missing)}; a traces table needs {', '.join(_COLUMNS)}"
        )
    return ddf[_COLUMNS]


class _Counts:
    """Pass 1's result, shaped like the part of a PointIndex that target sampling reads.

    ``row_code[part_start[k] + i]`` is the device code (its rank in sorted ID
    order) of the ``i``-th device, in sorted ID order, of partition ``k``.
    """

    def __init__(
        self,
        device_ids,
        n_points: np.ndarray,
        n_records: int,
        row_code: np.ndarray | None = None,
        part_start: np.ndarray | None = None,
    ):
        self.as_ids = device_ids  # sorted, Arrow-backed: no Python object per device
        self._n_points = n_points
        self.n_records = n_records
        self.row_code = row_code
        self.part_start = part_start

    @property
    def device_ids(self):
        """Every device ID in code order (an Arrow-backed array)."""
        return self.as_ids

    @property
    def n_devices(self) -> int:
        return len(self.as_ids)

    def ids(self, codes: np.ndarray) -> np.ndarray:
        """The device IDs of ``codes``, as str objects."""
        return np.asarray(self.as_ids.take(np.asarray(codes, dtype=np.int64)), dtype=object)

    def points_per_device(self) -> np.ndarray:
        return self._n_points


def count_points(ddf, progress) -> tuple[object, _Counts]:
    """Pass 1, shuffling on device_id first when a device spans partitions."""
    for attempt in (0, 1):
        frames = compute_tasks(
            per_partition(ddf, _count_partition, meta=_COUNT_META),
            "pass 1/3: points per device",
            progress,
        )
        table = pd.concat(frames, ignore_index=True) if frames else _COUNT_META
        if len(table) == 0:
            raise FewpointsError("the traces table is empty")
        n_records = int(table["n_records"].sum())
        # Sorted as the in-memory index sorts them (code point order; Arrow
        # sorts UTF-8 bytes, the same order, without a Python string per device).
        ids = table["device_id"].astype("string[pyarrow]").array
        order = np.asarray(ids.argsort(kind="stable"))
        sorted_ids = ids.take(order)
        repeated = len(sorted_ids) > 1 and bool((sorted_ids[1:] == sorted_ids[:-1]).any())
        if not repeated:
            n_points = table["n_points"].to_numpy(dtype=np.int64)[order]
            row_code = np.empty(len(order), dtype=np.int64)
            row_code[order] = np.arange(len(order), dtype=np.int64)
            part_start = np.cumsum([0] + [len(f) for f in frames]).astype(np.int64)
            return ddf, _Counts(sorted_ids, n_points, n_records, row_code, part_start)
        if attempt == 1:  # pragma: no cover - a shuffle on device_id cannot leave repeats
            raise FewpointsError("a device still spans two partitions after shuffling")
        # Some device spans two partitions: gather each device's records in one partition.
        ddf = ddf.shuffle(on="device_id")
    raise AssertionError("unreachable")


def _fetch_points(ddf, counts: _Counts, requests, stage: str, progress):
    """Pass 2: x, y, t of the ``ranks``-th points of every ``(devices, ranks)`` request, in order."""
    dask = require_dask()
    req_dev, req_rank = [], []
    for devices, ranks in requests:
        req_dev.append(np.repeat(counts.ids(devices), ranks.shape[1]))
        req_rank.append(np.asarray(ranks).ravel())
    want = pd.DataFrame(
        {
            "device_id": pd.Series(np.concatenate(req_dev), dtype=str),
            "rank": np.concatenate(req_rank),
        }
    )
    want["request"] = np.arange(len(want), dtype=np.int64)
    want_d = dask.delayed(want, pure=True)
    got = compute_tasks(
        per_partition(ddf, fetch_partition, want_d, meta=FETCH_META), stage, progress
    )
    got = pd.concat(got, ignore_index=True).sort_values("request")
    if len(got) != len(want) or not np.array_equal(got["request"].to_numpy(), want["request"]):
        raise FewpointsError(
            "the traces changed while they were read (a target's points are missing)"
        )
    return got["x"].to_numpy(), got["y"].to_numpy(), got["t"].to_numpy()


def _known_points(x, y, t, requests) -> dict:
    """The distinct known points and, for each, the targets (numbered over all requests) knowing it."""
    sizes = [len(d) for d, _ in requests]
    widths = [np.asarray(r).shape[1] for _, r in requests]
    base = np.cumsum([0, *sizes])
    owner = np.concatenate(
        [
            np.repeat(np.arange(n, dtype=np.int64), w) + b
            for n, w, b in zip(sizes, widths, base[:-1], strict=True)
        ]
    )
    pts = pd.DataFrame({"x": x, "y": y, "t": t})
    pid, uniq = pd.factorize(pd.MultiIndex.from_frame(pts))
    order = np.argsort(pid, kind="stable")
    offsets = np.zeros(len(uniq) + 1, dtype=np.int64)
    np.cumsum(np.bincount(pid, minlength=len(uniq)), out=offsets[1:])
    return {
        "x": uniq.get_level_values(0).to_numpy(dtype=np.float64),
        "y": uniq.get_level_values(1).to_numpy(dtype=np.float64),
        "t": uniq.get_level_values(2).to_numpy(dtype=np.int64),
        "offsets": offsets,
        "targets": owner[order].astype(np.int64),
        "need": np.concatenate(
            [np.full(n, w, dtype=np.int64) for n, w in zip(sizes, widths, strict=True)]
        ),
    }


def dask_unicity(
    ddf, ps, *, n_targets: int, knowledge: str = "random", rng=None, progress=None
) -> tuple[list, _Counts]:
    """``unicity`` for each p in ``ps`` on a Dask DataFrame: three passes over the data for all p.

    Parameters
    ----------
    ddf : dask DataFrame
        A traces table (``device_id, time, x_km, y_km``), e.g. from
        :func:`read_traces_dask`.
    ps : sequence of int
        Numbers of known points.
    n_targets : int
        Targets per p.
    knowledge : {"random"}
        Only random points are measured by this engine.
    rng : int, Generator or None
    progress : callable, optional
        ``progress(stage, fraction)`` as partitions finish.

    Returns
    -------
    results : list of UnicityResult
        One per p, identical to ``unicity(table, p, ..., rng=rng)`` called
        for each p in turn with the same generator on the table in memory.
    summary
        ``n_records`` and ``n_devices`` of the table.
    """
    rng = np.random.default_rng(rng)
    from fewpoints.attacks.draws import draw_random
    from fewpoints.attacks.result import UnicityResult, wilson_interval

    dask = require_dask()
    if knowledge != "random":
        raise FewpointsError(
            f"the Dask engine measures knowledge='random' only (asked {knowledge!r}); "
            "load the table into memory for top places or home and work"
        )
    ddf = select_columns(ddf)
    ddf, counts = count_points(ddf, progress)

    # Draw every p's targets and point ranks, in the in-memory engine's order.
    draws = draw_random(counts, ps, n_targets, rng)

    # Pass 2: fetch the known points (one request per target point, over all p).
    requests = [(targets, local) for _, targets, local, _ in draws]
    x, y, t = _fetch_points(ddf, counts, requests, "pass 2/3: known points", progress)

    # Pass 3: the broadcast join. Target g (over all p) knows requests owners == g.
    base = np.cumsum([0] + [len(tg) for _, tg, _, _ in draws])
    known = _known_points(x, y, t, requests)
    known_d = dask.delayed(known, pure=True)
    hits = compute_tasks(
        per_partition(ddf, match_frame, known_d, meta=MATCH_META),
        "pass 3/3: matching",
        progress,
    )
    hits = pd.concat(hits, ignore_index=True) if hits else MATCH_META
    sizes = np.bincount(
        hits["target"].to_numpy(), weights=hits["holders"].to_numpy(), minlength=len(known["need"])
    ).astype(np.int64)

    results = []
    at = 0
    for (p, targets, _, n_eligible), lo_g, hi_g in zip(draws, base[:-1], base[1:], strict=True):
        n = len(targets)
        s = sizes[lo_g:hi_g]
        k = int((s == 1).sum())
        lo, hi = wilson_interval(k, n)
        sl = slice(at, at + n * p)
        at += n * p
        results.append(
            UnicityResult(
                value=k / n,
                ci_low=lo,
                ci_high=hi,
                n_points=p,
                n_targets=n,
                targets=pd.DataFrame({"device_id": counts.ids(targets), "anonymity_set_size": s}),
                points=pd.DataFrame(
                    {
                        "device_id": np.repeat(counts.ids(targets), p),
                        "x_km": x[sl],
                        "y_km": y[sl],
                        "time": t[sl].astype("datetime64[s]"),
                    }
                ),
                knowledge="random",
                n_devices=counts.n_devices,
                n_eligible=n_eligible,
            )
        )
    return results, counts


def _coarsen_partition(df: pd.DataFrame, cell_km, time_bin) -> pd.DataFrame:
    from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time

    if len(df) == 0:
        return df
    with warnings.catch_warnings():
        # A partition that a bin leaves unchanged says nothing about the table.
        warnings.simplefilter("ignore", WeakTransformWarning)
        if cell_km is not None:
            df = coarsen_space(df, cell_km=cell_km)
        if time_bin is not None:
            df = coarsen_time(df, time_bin=time_bin)
    return df


def coarsen_dask(ddf, *, cell_km: float | None = None, time_bin: str | None = None):
    """``anonymize.coarsen_space`` and ``coarsen_time`` applied partition by partition (lazily).

    Both act record by record (a cell or a bin depends only on the record),
    so coarsening each partition is coarsening the table.
    """
    require_dask()
    if time_bin is not None:
        try:
            if pd.Timedelta(time_bin) <= pd.Timedelta(0):
                raise ValueError
        except (ValueError, TypeError):
            raise FewpointsError(f"time bin is not a positive duration: {time_bin!r}") from None
    if cell_km is not None and not (np.isfinite(cell_km) and cell_km > 0):
        raise FewpointsError(f"cell size must be a positive number of km, got {cell_km!r}")
    return ddf.map_partitions(_coarsen_partition, cell_km, time_bin, meta=ddf._meta)


# ---------------------------------------------------------------------------
# reading Parquet and connecting to a cluster
# ---------------------------------------------------------------------------


#: Rows per partition when a world's row groups can be regrouped (whole devices in each).
ROWS_PER_PARTITION = 8_000_000


def read_traces_dask(
    path: str | os.PathLike,
    *,
    model: str | None = None,
    rows_per_partition: int = ROWS_PER_PARTITION,
    columns: dict | str | None = None,
    time_unit: str | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    info: dict | None = None,
):
    """A lazy ``dask.dataframe`` of the traces in a Parquet file, folder or world folder.

    Parameters
    ----------
    path : str or path
        A ``.parquet`` file, a folder of Parquet files (a partitioned
        dataset), or a world folder written with ``fewpoints generate
        --parquet`` (its ``traces_<model>`` folder or file is read).
    model : str, optional
        Which traces of a world folder (``"cdr"``, ``"pings"``); default: the
        world's first.
    rows_per_partition : int, default 8,000,000
        For a world written with ``--chunk-people`` (whose row groups each
        hold whole devices), row groups are gathered into partitions of
        about this many rows, which bounds a worker's memory (about 150
        bytes per row at the peak of a pass). Other datasets are read one
        file per partition.
    columns, time_unit, dayfirst, timezone, info
        As for :func:`fewpoints.io.read_traces`, whose rules every partition
        is read by: columns recognised by the same names (or ``columns``),
        times by one rule decided once for the whole dataset (the unit of Unix
        times from the column's range, the form of text times from its first
        row group), degrees projected by one projection for the whole dataset
        (:meth:`fewpoints.io.Projection.from_counts`, counted in one pass over
        the coordinates, which also refuses impossible degrees before any work).

    Raises
    ------
    FewpointsError
        If the path holds no Parquet traces, or the extra is missing.
    """
    require_dask()
    import dask.dataframe as dd

    path = Path(path)
    if not path.exists():
        raise FewpointsError(f"{path}: no such file or folder")
    target, whole = path, False
    if (path / "world.json").is_file():
        # The world is read as every reader reads it: world.json against its schema, its
        # parameters field by field, the table named by the world and confined to its folder.
        from fewpoints.io import read_world_meta, world_table_path
        from fewpoints.synth.world import params_from_json

        meta = read_world_meta(path)
        params = params_from_json(meta["params"], source=str(path / "world.json"))
        whole = bool(meta.get("chunked", {}).get("whole_devices", False))
        model = model or (params.observe[0] if params.observe else "cdr")
        target = world_table_path(path, meta, f"traces_{model}")
        if target is None:
            raise FewpointsError(f"{path}: world.json lists traces_{model} but its file is missing")
        if target.name.endswith(".csv.gz"):
            raise FewpointsError(
                f"{path}: the Dask engine reads Parquet, and this world is gzip CSV; "
                "write it with 'fewpoints generate --parquet' (or use --engine memory)"
            )
    elif model is not None:
        raise FewpointsError("--model applies to a world folder, not to a Parquet file or dataset")
    if target.is_dir():
        files = sorted(f for f in target.rglob("*.parquet") if not f.name.startswith((".", "_")))
        if not files:
            raise FewpointsError(f"{target}: a folder without Parquet files")
    elif target.suffix == ".parquet":
        files = [target]
    else:
        raise FewpointsError(
            f"{target}: the Dask engine reads Parquet (a .parquet file or a folder of them)"
        )
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(files[0])
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise FewpointsError(f"{files[0]}: not a readable Parquet file ({exc})") from None
    # Which column is which is recognised where every reader recognises it (fewpoints.io).
    from fewpoints.io import check_read_options, recognised_words, trace_columns

    check_read_options(time_unit, dayfirst, timezone, str(target))
    found = trace_columns(schema.names, str(files[0]), columns)
    degrees = "x_km" not in found
    wanted = ["device_id", "time", *(("lat", "lon") if degrees else ("x_km", "y_km"))]
    wanted += [c for c in ("accuracy_m",) if c in found]
    source = {c: found[c] for c in wanted}
    _check_types(schema, source, str(files[0]))
    rule = _time_rule(files, schema, source["time"], time_unit, dayfirst, timezone, str(target))
    projection = _projection(files, source, str(target)) if degrees else None
    convert = {"rule": rule, "timezone": timezone, "projection": projection}
    out_columns = _COLUMNS + [c for c in ("accuracy_m",) if c in found]
    if info is not None:
        info.update(
            columns=dict(found),
            columns_words=recognised_words(found),
            time=rule.get("form", ""),
            rule=rule,
            timezone=str(timezone),
            projection=projection,
        )
    pieces = _pieces(files, rows_per_partition) if whole else [(f, None) for f in files]
    meta = _read_part((files[0], None), out_columns, source=source, empty=True, convert=convert)
    return dd.from_map(
        _read_part, pieces, columns=out_columns, source=source, convert=convert, meta=meta,
        label="read-traces",
    )  # fmt: skip


def _time_rule(files, schema, name: str, time_unit, dayfirst, timezone, where: str) -> dict:
    """How every partition reads its times: one rule for the whole dataset, decided here.

    Unix times get their unit from the column's range over every row group
    (its Parquet statistics, or the values when a file has none); text
    times their form from the first row group. Datetimes need no rule.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fewpoints.io import parse_times

    t = schema.field(name).type
    rule: dict = {"time_unit": time_unit, "dayfirst": dayfirst}
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        parse_times(pa.array([], type=t), timezone=timezone, rule=rule)
        return rule
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        lo, hi = np.inf, -np.inf
        for f in files:
            pf = pq.ParquetFile(f)
            i = pf.schema_arrow.get_field_index(name)
            for g in range(pf.metadata.num_row_groups):
                st = pf.metadata.row_group(g).column(i).statistics
                if st is not None and st.has_min_max:
                    lo, hi = min(lo, st.min), max(hi, st.max)
                else:
                    v = pf.read_row_group(g, columns=[name]).column(0)
                    v = v.to_numpy(zero_copy_only=False)
                    if len(v):
                        lo, hi = min(lo, v.min()), max(hi, v.max())
        if np.isfinite(lo):
            parse_times(np.array([lo, hi]), what=f"{where}: column {name}", time_unit=time_unit,
                        timezone=timezone, rule=rule)  # fmt: skip
        return rule
    first = pq.ParquetFile(files[0])
    if first.metadata.num_row_groups:
        sample = first.read_row_group(0, columns=[name]).column(0)
        parse_times(sample, what=f"{where}: column {name}", time_unit=time_unit,
                    dayfirst=dayfirst, timezone=timezone, rule=rule)  # fmt: skip
    return rule


def _projection(files, source: dict, where: str):
    """The dataset's one projection, from the fixes of every file (and its degrees checked)."""
    import pyarrow.parquet as pq

    from fewpoints.io import Projection, as_numbers, centre_counts, check_degrees

    lat_counts = lon_counts = 0
    names = (source["lat"], source["lon"])
    for f in files:
        pf = pq.ParquetFile(f)
        for g in range(pf.metadata.num_row_groups):
            table = pf.read_row_group(g, columns=list(names))
            lat = as_numbers(table.column(0), f"{f}: column {names[0]}", None)
            lon = as_numbers(table.column(1), f"{f}: column {names[1]}", None)
            check_degrees(lat, lon, names, str(f), None)
            a, b = centre_counts(lat, lon)
            lat_counts, lon_counts = lat_counts + a, lon_counts + b
    if np.isscalar(lat_counts):
        raise FewpointsError(f"{where}: the traces table is empty")
    return Projection.from_counts(lat_counts, lon_counts)


def _check_types(schema, source: dict[str, str], where: str) -> None:
    """Refuse columns of a type the engine would misread (booleans as coordinates, numbers as times).

    Parquet says each column's type once, so this is checked before any
    partition is read; values are checked as they are read.
    """
    import pyarrow as pa

    for column in ("x_km", "y_km", "lat", "lon", "accuracy_m"):
        if column not in source:
            continue
        t = schema.field(source[column]).type
        if pa.types.is_boolean(t) or not (pa.types.is_integer(t) or pa.types.is_floating(t)):
            unit = {"lat": "degrees", "lon": "degrees", "accuracy_m": "metres"}.get(
                column, "kilometres"
            )
            raise FewpointsError(
                f"{where}: column {source[column]} holds {t}, not numbers ({unit})"
            )
    t = schema.field(source["time"]).type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if not (
        pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_integer(t)
        or pa.types.is_floating(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
    ):  # fmt: skip
        raise FewpointsError(
            f"{where}: column {source['time']} holds {t}, not times (timestamps, Unix times "
            "or text)"
        )


def _pieces(files, rows_per_partition: int) -> list:
    """Runs of consecutive row groups of about ``rows_per_partition`` rows, file by file.

    Used only for worlds whose every row group holds whole devices (as
    ``generate --chunk-people`` writes them), so a partition still does.
    """
    import pyarrow.parquet as pq

    pieces = []
    for f in files:
        meta = pq.ParquetFile(f).metadata
        sizes = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        if len(sizes) == 0:
            continue
        # Cut where the running row count crosses each multiple of an even share.
        n_pieces = max(1, -(-int(sizes.sum()) // rows_per_partition))
        share = sizes.sum() / n_pieces
        piece = np.minimum((np.cumsum(sizes) - sizes / 2) // share, n_pieces - 1).astype(int)
        for k in np.unique(piece):
            pieces.append((f, np.flatnonzero(piece == k).tolist()))
    return pieces


def _read_part(piece, columns, source=None, empty: bool = False, convert=None) -> pd.DataFrame:
    """One Parquet file, or some of its row groups, as a partition; ``device_id`` as categorical.

    ``source`` names each of ``columns`` as the file has it (``fewpoints.io.trace_columns``);
    the partition gets the traces table's own names. Decoding a
    dictionary-encoded ID column as a dictionary is several times faster than
    building one string per record, and the engine works on the codes. With
    ``convert`` (the dataset's time rule, time zone and projection), times
    are read by the one rule (:func:`fewpoints.io.parse_times`) and degrees
    projected to ``x_km, y_km``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = source or {}
    if convert is None:
        names = [source.get(c, c) for c in columns]
    else:  # x_km, y_km come from lat, lon when the dataset is in degrees
        degrees = "lat" in source
        needed = []
        for c in columns:
            needed += ["lat", "lon"] if degrees and c in ("x_km", "y_km") else [c]
        names = list(dict.fromkeys(source[c] for c in needed))
    path, row_groups = piece
    try:
        if empty:
            table = pq.read_schema(path).empty_table().select(names)
        else:
            dev = source.get("device_id", "device_id")
            schema = pq.read_schema(path)
            text = dev in schema.names and (
                pa.types.is_string(schema.field(dev).type)
                or pa.types.is_large_string(schema.field(dev).type)
            )
            f = pq.ParquetFile(path, read_dictionary=[dev] if text else None)
            if row_groups is None:
                table = f.read(columns=names)
            else:
                table = f.read_row_groups(row_groups, columns=names)
    except (OSError, ValueError) as exc:
        raise FewpointsError(f"{path}: not a readable Parquet file ({exc})") from None
    if convert is None:
        df = table.rename_columns(columns).to_pandas()
        if empty:
            df["device_id"] = df["device_id"].astype("category")
        return df
    return _converted(table, source, convert, str(path))[list(columns)]


def _converted(table, source: dict, convert: dict, where: str) -> pd.DataFrame:
    """A partition in the traces table's own columns and types, by the dataset's one rule."""
    from fewpoints.io import KM_DECIMALS, as_numbers, parse_times

    rule = convert["rule"]
    have = set(table.column_names)
    source = {k: v for k, v in source.items() if v in have}
    out = {}
    if "device_id" in source:
        out["device_id"] = _device_column(table.column(source["device_id"]), source, where)
    if "time" in source:
        out["time"] = parse_times(
            table.column(source["time"]), what=f"{where}: column {source['time']}",
            time_unit=rule.get("time_unit"), dayfirst=rule.get("dayfirst"),
            timezone=convert["timezone"],
        )  # fmt: skip
    proj = convert["projection"]
    if proj is not None and "lat" in source and "lon" in source:
        lat = as_numbers(table.column(source["lat"]), f"{where}: column {source['lat']}", None)
        lon = as_numbers(table.column(source["lon"]), f"{where}: column {source['lon']}", None)
        x, y = proj.forward(lat, lon)
        out["x_km"], out["y_km"] = np.round(x, KM_DECIMALS), np.round(y, KM_DECIMALS)
    for c in ("x_km", "y_km", "accuracy_m"):
        if c in source and c not in out:
            out[c] = as_numbers(table.column(source[c]), f"{where}: column {source[c]}", None)
    return pd.DataFrame(out)


def _device_column(dev, source: dict, where: str) -> pd.Categorical:
    """Device IDs as a categorical of their text, from a dictionary column or any other."""
    import pyarrow as pa

    from fewpoints.io import as_ids

    if pa.types.is_dictionary(dev.type):
        dev = dev.unify_dictionaries().combine_chunks()
    else:
        dev = as_ids(dev, f"{where}: column {source['device_id']}").dictionary_encode()
        if isinstance(dev, pa.ChunkedArray):
            dev = dev.unify_dictionaries().combine_chunks()
    return pd.Categorical.from_codes(
        dev.indices.to_numpy(zero_copy_only=False).astype(np.int32),
        categories=pd.Index(dev.dictionary.to_pandas(), dtype="str"),
        validate=False,
    )


@contextlib.contextmanager
def connect(*, scheduler: str | None = None, workers: int | None = None, memory_limit=None):
    """A Dask client for the duration of a ``with`` block: a scheduler's address, or a local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Default: start
        a local cluster of processes on this machine.
    workers : int, optional
        Local workers (one thread each; default 2).
    memory_limit : str or int, optional
        Memory per local worker (``"3GB"``); Dask spills to disk and pauses
        a worker that nears it. Default: an equal share of the machine.

    Raises
    ------
    FewpointsError
        If the extra is missing, the scheduler cannot be reached, or an
        option is impossible.

    Notes
    -----
    The local cluster's workers are new processes that import the calling
    script again: in a script (not a notebook), open it under
    ``if __name__ == "__main__":``, as for any ``multiprocessing`` program.
    """
    require_dask()
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise FewpointsError(
            f"the Dask engine's cluster needs 'distributed' ({INSTALL_HINT})"
        ) from None
    if scheduler is not None and (workers is not None or memory_limit is not None):
        raise FewpointsError(
            "--workers and --memory-limit start a local cluster; a remote scheduler has its own"
        )
    if memory_limit is not None:
        from dask.utils import parse_bytes

        try:
            limit = parse_bytes(memory_limit)
        except (ValueError, TypeError):
            raise FewpointsError(
                f"memory limit is not a size: {memory_limit!r} (e.g. 3GB)"
            ) from None
        if limit <= 0:
            raise FewpointsError(f"memory limit must be positive, got {memory_limit!r}")
    quiet = logging.ERROR
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise FewpointsError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc})"
            ) from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers or 2,
        threads_per_worker=1,
        memory_limit=memory_limit if memory_limit is not None else "auto",
        dashboard_address=None,
        silence_logs=quiet,
    )
    with cluster, Client(cluster) as client:
        yield client


def dask_map(ddf, func, *args, stage: str, progress=None) -> list:
    """``func(partition, *args)`` for every partition, computed on the active scheduler, in order.

    For per-partition summaries that are not tables (the population model's
    marginal counts, say); ``func`` must be a module-level function.
    """
    dask = require_dask()
    tasks = [dask.delayed(func, pure=True)(part, *args) for part in ddf.to_delayed()]
    return compute_tasks(tasks, stage, progress)
