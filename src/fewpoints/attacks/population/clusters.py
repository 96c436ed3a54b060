"""Each synthetic person's cluster of antennas: the antenna network and connected clusters grown on it.

:func:`antenna_network` links each antenna to its nearest ones (both
ways); :func:`grow_clusters` grows connected clusters of antennas on that
network from random antennas, as the model of Farzanehfar et al. (2021)
gives each person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.schema import FewpointsError


def antenna_network(antennas: pd.DataFrame, *, k: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Which antennas neighbour which: each antenna's ``k`` nearest, both ways (CSR arrays).

    Returns ``(offsets, neighbours)``: the neighbours of antenna ``i`` are
    ``neighbours[offsets[i]:offsets[i + 1]]`` (antenna row numbers). A
    stand-in for the neighbourhood of coverage areas (two cells touch when
    their antennas are among each other's nearest).
    """
    x = antennas["x_km"].to_numpy(float)
    y = antennas["y_km"].to_numpy(float)
    n = x.size
    k = int(min(k, n - 1))
    if k < 1:
        return np.zeros(n + 1, dtype=np.int64), np.empty(0, dtype=np.int64)
    near = np.empty((n, k), dtype=np.int64)
    step = max(1, 4_000_000 // n)
    for lo in range(0, n, step):
        d = np.hypot(x[lo : lo + step, None] - x[None, :], y[lo : lo + step, None] - y[None, :])
        d[np.arange(d.shape[0]), np.arange(lo, lo + d.shape[0])] = np.inf
        near[lo : lo + step] = np.argpartition(d, k - 1, axis=1)[:, :k]
    src = np.repeat(np.arange(n), k)
    pairs = np.unique(np.concatenate([src * n + near.ravel(), near.ravel() * n + src]))
    a, b = pairs // n, pairs % n
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=offsets[1:])
    return offsets, b


def _neighbour_table(offsets: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Neighbour lists padded with -1 into one (antennas, most neighbours) array."""
    n = offsets.size - 1
    deg = np.diff(offsets)
    table = np.full((n, max(int(deg.max(initial=0)), 1)), -1, dtype=np.int64)
    row = np.repeat(np.arange(n), deg)
    col = np.arange(neighbours.size) - offsets[row]
    table[row, col] = neighbours
    return table


def grow_clusters(
    network: tuple[np.ndarray, np.ndarray], n: int, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` connected clusters of ``size`` antennas each, grown from a random antenna.

    Each cluster starts at a uniformly chosen antenna and grows by one
    antenna at a time, drawn uniformly among the antennas that touch the
    cluster and are not in it yet; a cluster that runs out of neighbours
    starts again. Columns are then shuffled, so the order of a row (the
    rank of each antenna in the person's visits) is random.

    Returns
    -------
    int64 array (n, size)
    """
    offsets, neighbours = network
    table = _neighbour_table(offsets, neighbours)
    n_ant = offsets.size - 1
    out = np.empty((n, size), dtype=np.int64)
    todo = np.arange(n)
    for _ in range(100):
        if todo.size == 0:
            break
        failed = []
        for lo in range(0, todo.size, 100_000):
            rows = todo[lo : lo + 100_000]
            got, ok = _grow(table, n_ant, rows.size, size, rng)
            out[rows[ok]] = got[ok]
            failed.append(rows[~ok])
        todo = np.concatenate(failed)
    if todo.size:
        raise FewpointsError(f"the antenna network has no connected group of {size} antennas")
    keys = rng.random((n, size))
    return np.take_along_axis(out, np.argsort(keys, axis=1), axis=1)


def _grow(table: np.ndarray, n_ant: int, m: int, size: int, rng) -> tuple[np.ndarray, np.ndarray]:
    visited = np.full((m, size), -1, dtype=np.int64)
    visited[:, 0] = rng.integers(0, n_ant, m)
    frontier = table[visited[:, 0]]
    ok = np.ones(m, dtype=bool)
    for s in range(1, size):
        valid = frontier >= 0
        count = valid.sum(axis=1)
        ok &= count > 0
        pick = np.minimum(
            np.floor(rng.random(m) * count).astype(np.int64), np.maximum(count - 1, 0)
        )
        pos = np.argmax(np.cumsum(valid, axis=1) > pick[:, None], axis=1)
        new = np.where(ok, frontier[np.arange(m), pos], visited[:, 0])
        visited[:, s] = new
        frontier = np.concatenate([frontier, table[new]], axis=1)
        # Drop what the cluster holds and repeated entries, then pack the rest to the left.
        inside = (frontier[:, :, None] == visited[:, None, : s + 1]).any(axis=2)
        frontier[inside] = -1
        frontier.sort(axis=1)
        dup = np.zeros(frontier.shape, dtype=bool)
        dup[:, 1:] = frontier[:, 1:] == frontier[:, :-1]
        frontier[dup] = -1
        frontier = -np.sort(-frontier, axis=1)
        width = max(int((frontier >= 0).sum(axis=1).max(initial=0)), 1)
        frontier = frontier[:, :width]
    return visited, ok
