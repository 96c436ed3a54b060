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

import numpy as np
import pandas as pd

from fewpoints.common import renamed
from fewpoints.scale.frames import compute_tasks, per_partition, require_dask, select_columns
from fewpoints.scale.passes import (
    COUNT_META,
    FETCH_META,
    HOLDERS_META,
    MATCH_META,
    count_partition,
    fetch_partition,
    holders_partition,
    match_frame,
)
from fewpoints.schema import FewpointsError


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
            per_partition(ddf, count_partition, meta=COUNT_META),
            "pass 1/3: points per device",
            progress,
        )
        table = pd.concat(frames, ignore_index=True) if frames else COUNT_META
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


@renamed(ps="n_points_range")
def dask_unicity(
    ddf, n_points_range, *, n_targets: int, knowledge: str = "random", rng=None, progress=None
) -> tuple[list, _Counts]:
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
