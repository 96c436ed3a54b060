"""The unicity test on data larger than memory: a Dask engine, exact against the in-memory one.

:func:`~fewpoints.attacks.unicity.unicity` and
:func:`~fewpoints.attacks.unicity.unicity_curve` hand a ``dask.dataframe``
to this engine (install the ``scale`` extra: ``pip install 'fewpoints[scale]'``).
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
   per target, its devices whose records hold all of the target's points
   (by the holders of each known point, :mod:`fewpoints.scale.holders`,
   never one row per target and holder), and the client adds the counts up.

Passes 1 to 3 need every device's records in one partition (true of the
Parquet worlds written by ``fewpoints generate --parquet --chunk-people``).
Pass 1 checks it: when a device ID appears in two partitions, the table is
first shuffled on ``device_id`` (slower, done by Dask out of core).

The work runs on whatever scheduler is active: a ``distributed.Client`` if
one exists (a local cluster or a remote scheduler), else Dask's default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.common import renamed
from fewpoints.scale.frames import compute_tasks, per_partition, require_dask, select_columns
from fewpoints.scale.passes import (
    COUNT_META,
    FETCH_META,
    HOLDERS_META,
    MATCH_META,
    SWEEP_MATCH_META,
    count_partition,
    fetch_partition,
    holders_partition,
    match_frame,
    sweep_count_meta,
    sweep_count_partition,
    sweep_fetch_partition,
    sweep_match_partition,
)
from fewpoints.schema import FewpointsError


def dask_holders(ddf, counts: DeviceCounts, requests, *, progress=None, stages=("2/3", "3/3")):
    """The known points of every ``(targets, ranks)`` request and every device holding them all.

    Parameters
    ----------
    ddf : dask DataFrame
        The table pass 1 (``count_points``) read, with each device in one partition.
    counts : DeviceCounts
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
        per_partition(ddf, holders_partition, known_d, meta=HOLDERS_META),
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


@dataclass(frozen=True)
class DeviceCounts:
    """Pass 1's result: every device of the table and its number of distinct points.

    Shaped like the part of a :class:`~fewpoints.attacks.index.PointIndex`
    that target sampling reads, so both engines draw the same targets.

    Attributes
    ----------
    device_ids : ArrowExtensionArray
        Every device ID in code order (sorted; Arrow-backed, no Python
        object per device).
    distinct_points : ndarray of int64
        Distinct points (place and time) per device, in code order.
    n_records : int
        Records in the table.
    row_code : ndarray of int64 or None
        ``row_code[part_start[k] + i]`` is the device code (its rank in
        sorted ID order) of the ``i``-th device, in sorted ID order, of
        partition ``k``.
    part_start : ndarray of int64 or None
        Where each partition's devices start in ``row_code``.
    """

    device_ids: object
    distinct_points: np.ndarray
    n_records: int
    row_code: np.ndarray | None = None
    part_start: np.ndarray | None = None

    @property
    def n_devices(self) -> int:
        return len(self.device_ids)

    def ids(self, codes: np.ndarray) -> np.ndarray:
        """The device IDs of ``codes``, as str objects."""
        return np.asarray(self.device_ids.take(np.asarray(codes, dtype=np.int64)), dtype=object)

    def points_per_device(self) -> np.ndarray:
        return self.distinct_points

    def __repr__(self) -> str:
        return f"DeviceCounts({self.n_records:,} records, {self.n_devices:,} devices)"


def count_points(ddf, progress) -> tuple[object, DeviceCounts]:
    """Pass 1, shuffling on device_id first when a device spans partitions."""
    ddf, counts = _count_table(ddf, progress, count_partition, (), COUNT_META,
                               "pass 1/3: points per device", ["n_points"])  # fmt: skip
    return ddf, counts[0]


def _count_table(ddf, progress, func, args, meta, stage, columns) -> tuple[object, list]:
    """Pass 1 by ``func``: a :class:`DeviceCounts` per column of points per device, in ``columns``."""
    for attempt in (0, 1):
        frames = compute_tasks(per_partition(ddf, func, *args, meta=meta), stage, progress)
        table = pd.concat(frames, ignore_index=True) if frames else meta
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
            row_code = np.empty(len(order), dtype=np.int64)
            row_code[order] = np.arange(len(order), dtype=np.int64)
            part_start = np.cumsum([0] + [len(f) for f in frames]).astype(np.int64)
            return ddf, [
                DeviceCounts(
                    sorted_ids,
                    table[c].to_numpy(dtype=np.int64)[order],
                    n_records,
                    row_code,
                    part_start,
                )  # fmt: skip
                for c in columns
            ]
        if attempt == 1:  # pragma: no cover - a shuffle on device_id cannot leave repeats
            raise FewpointsError("a device still spans two partitions after shuffling")
        # Some device spans two partitions: gather each device's records in one partition.
        ddf = ddf.shuffle(on="device_id")
    raise AssertionError("unreachable")


def _fetch_points(ddf, counts: DeviceCounts, requests, stage: str, progress, settings=None):
    """Pass 2: x, y, t of the ``ranks``-th points of every ``(devices, ranks)`` request, in order.

    With ``settings`` (coarsenings, as :func:`sweep_fetch_partition` takes
    them), each request is a ``(devices, ranks, setting)``: its points in
    that coarsening of the table.
    """
    dask = require_dask()
    req_dev, req_rank, req_setting = [], [], []
    for devices, ranks, *setting in requests:
        req_dev.append(np.repeat(counts.ids(devices), ranks.shape[1]))
        req_rank.append(np.asarray(ranks).ravel())
        req_setting.append(np.full(ranks.size, setting[0] if setting else 0, dtype=np.int64))
    want = pd.DataFrame(
        {
            "device_id": pd.Series(np.concatenate(req_dev), dtype=str),
            "rank": np.concatenate(req_rank),
        }
    )
    want["request"] = np.arange(len(want), dtype=np.int64)
    if settings is None:
        func, args = fetch_partition, ()
    else:
        want["setting"] = np.concatenate(req_setting)
        func, args = sweep_fetch_partition, (settings,)
    want_d = dask.delayed(want, pure=True)
    got = compute_tasks(per_partition(ddf, func, want_d, *args, meta=FETCH_META), stage, progress)
    got = pd.concat(got, ignore_index=True).sort_values("request")
    if len(got) != len(want) or not np.array_equal(got["request"].to_numpy(), want["request"]):
        raise FewpointsError(
            "the traces changed while they were read (a target's points are missing)"
        )
    return got["x"].to_numpy(), got["y"].to_numpy(), got["t"].to_numpy()


def _results(draws, sizes, base, x, y, t, counts: DeviceCounts) -> list:
    """One ``UnicityResult`` per draw: anonymity sets ``sizes[base[i]:base[i + 1]]``, points x, y, t."""
    from fewpoints.attacks.result import UnicityResult, wilson_interval

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
    return results


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


@renamed(ps="n_points_range")
def dask_unicity(
    ddf, n_points_range, *, n_targets: int, knowledge: str = "random", rng=None, progress=None
) -> tuple[list, DeviceCounts]:
    """``unicity`` for each p in ``n_points_range`` on a Dask DataFrame: three passes for all p.

    Parameters
    ----------
    ddf : dask DataFrame
        A traces table (``device_id, time, x_km, y_km``), e.g. from
        :func:`read_traces_dask`.
    n_points_range : sequence of int
        Numbers of known points (``ps=`` is its deprecated name).
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
    counts : DeviceCounts
        Pass 1's count of the table: ``n_records``, ``n_devices``, and each
        device's distinct points.
    """
    rng = np.random.default_rng(rng)
    from fewpoints.attacks.draws import draw_random

    dask = require_dask()
    if knowledge != "random":
        raise FewpointsError(
            f"the Dask engine measures knowledge='random' only (asked {knowledge!r}); "
            "load the table into memory for top places or home and work"
        )
    ddf = select_columns(ddf)
    ddf, counts = count_points(ddf, progress)

    # Draw every p's targets and point ranks, in the in-memory engine's order.
    draws = draw_random(counts, n_points_range, n_targets, rng)

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

    return _results(draws, sizes, base, x, y, t, counts), counts


def dask_sweep(ddf, jobs, *, n_targets: int, progress=None) -> list[tuple[list, DeviceCounts]]:
    """``dask_unicity`` of the table coarsened in many ways, in three passes for all of them.

    Parameters
    ----------
    ddf : dask DataFrame
        A traces table, each device in one partition.
    jobs : list of (cell_km, time_bin, ps, rng)
        A coarsening (square cells of ``cell_km``, slots of ``time_bin``;
        None keeps the recorded value), the numbers of known points, and the
        generator to draw with (jobs sharing one generator draw in turn, in
        the order given).
    n_targets : int
    progress : callable, optional

    Returns
    -------
    list of (results, counts)
        Per job, what ``dask_unicity(coarsen_dask(ddf, cell_km=..., time_bin=...),
        ps, rng=rng)`` returns, called job after job.

    Notes
    -----
    Every pass reads each partition once, takes its distinct (device,
    location, time) triples, and coarsens those (the locations once per
    setting, the times per triple) for every job in turn, so the sweep costs
    three reads of the data, not three per setting.
    """
    from fewpoints.attacks.draws import draw_random
    from fewpoints.common import duration_seconds, positive

    dask = require_dask()
    settings = [
        (None if c is None else positive(c, "cell_km"),
         None if b is None else duration_seconds(b, "time_bin"))
        for c, b, _, _ in jobs
    ]  # fmt: skip
    ddf = select_columns(ddf)
    n = len(settings)
    ddf, counts = _count_table(
        ddf, progress, sweep_count_partition, (settings,), sweep_count_meta(n),
        f"pass 1/3: points per device ({n} settings)", sweep_count_meta(n).columns[2:],
    )  # fmt: skip
    draws = [draw_random(c, ps, n_targets, np.random.default_rng(rng))
             for c, (_, _, ps, rng) in zip(counts, jobs, strict=True)]  # fmt: skip
    requests = [(tg, local, k) for k, dr in enumerate(draws) for _, tg, local, _ in dr]
    x, y, t = _fetch_points(ddf, counts[0], requests, f"pass 2/3: known points ({n} settings)",
                            progress, settings)  # fmt: skip
    knowns, spans, at = [], [], 0
    for k in range(n):
        reqs = [(tg, local) for tg, local, j in requests if j == k]
        m = sum(r.size for _, r in reqs)
        spans.append(slice(at, at + m))
        at += m
        knowns.append(_known_points(x[spans[k]], y[spans[k]], t[spans[k]], reqs))
    hits = compute_tasks(
        per_partition(ddf, sweep_match_partition, dask.delayed(knowns, pure=True), settings,
                      meta=SWEEP_MATCH_META),
        f"pass 3/3: matching ({n} settings)",
        progress,
    )  # fmt: skip
    hits = pd.concat(hits, ignore_index=True) if hits else SWEEP_MATCH_META
    out = []
    for k in range(n):
        h = hits[hits["setting"].to_numpy() == k]
        sizes = np.bincount(h["target"].to_numpy(), weights=h["holders"].to_numpy(),
                            minlength=len(knowns[k]["need"])).astype(np.int64)  # fmt: skip
        base = np.cumsum([0] + [len(tg) for _, tg, _, _ in draws[k]])
        sl = spans[k]
        out.append((_results(draws[k], sizes, base, x[sl], y[sl], t[sl], counts[k]), counts[k]))
    return out
