"""The per-device risk: how many devices the fewest of their own points single out.

:func:`per_device_risk` reveals each sampled device's points one by one;
the draws (:func:`risk_draws`) and the table (:func:`risk_table`) are shared
with the Dask engine, so the same seed gives the same table on either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def per_device_risk(traces, *, max_points: int = 10, n_targets: int = 10_000, rng=None):
    """How many devices the fewest of their own points single out: the spread of the risk.

    For each sampled device, its points are put in a random order and
    revealed one by one; the device's **risk** is the number of points after
    which no other device's trace holds all of them. Devices are never
    named: the result counts them.

    Parameters
    ----------
    traces : DataFrame or PointIndex
    max_points : int, default 10
        Points revealed at most.
    n_targets : int, default 10,000
        Devices sampled at random (all of them when there are fewer).
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        One row per outcome, in order: ``fewest_points`` (1 to
        ``max_points``; ``max_points + 1`` for "not within max_points
        points"; 0 for "never: not even all its points single it out"),
        ``label``, ``n_devices`` (of the sample), ``share`` with its 95%
        Wilson interval ``ci_low, ci_high``, ``cumulative`` (share singled
        out by at most that many points) with ``cumulative_low,
        cumulative_high``, ``n_targets``.

    Notes
    -----
    The share singled out by at most p points equals, in expectation, the
    unicity with p random points; this table adds how the rest spreads:
    which devices need many points, and which never stand out (devices with
    few points, all of them shared). An attacker who chooses the points
    does better (see :func:`fewpoints.attacks.worst_case_risk`).

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd. Scientific Reports 3:1376.
    """
    from fewpoints.attacks.index import as_index
    from fewpoints.common import check_points, check_targets

    rng = np.random.default_rng(rng)
    P = check_points(max_points)
    n_targets = check_targets(n_targets)
    index = as_index(traces)
    targets, m, ranks = risk_draws(index.points_per_device(), P, n_targets, rng)
    items = index.nth_points_batch([(targets, ranks)])[0]
    first = np.zeros(len(targets), dtype=np.int64)
    for p in range(1, P + 1):
        todo = np.flatnonzero((first == 0) & (m >= p))
        if not len(todo):
            break
        sizes = index.points.anonymity_sets(items[todo, :p])
        first[todo[sizes == 1]] = p
    return risk_table(first, m, P)


def risk_draws(m_all: np.ndarray, P: int, n_targets: int, rng):
    """The sampled devices, their numbers of points, and a random order of up to P of them.

    Both engines draw through here (the same calls in the same order), so the
    same seed samples the same devices and reveals the same points.
    """
    from fewpoints.attacks.draws import floyd_sample

    eligible = np.flatnonzero(m_all > 0)
    n = min(n_targets, len(eligible))
    targets = np.sort(rng.choice(eligible, size=n, replace=False))
    m = m_all[targets].astype(np.int64)
    ranks = np.empty((n, P), dtype=np.int64)
    big = m >= P
    if big.any():
        ranks[big] = rng.permuted(floyd_sample(m[big], P, rng), axis=1)
    small = np.flatnonzero(~big)
    if len(small):
        # A random order of all of a small device's points; the columns past its
        # last point repeat its first (a repeated point changes no anonymity set).
        col = np.arange(P)[None, :]
        keys = np.where(col < m[small][:, None], rng.random((len(small), P)), 2.0)
        perm = np.argsort(keys, axis=1)
        ranks[small] = np.where(col < m[small][:, None], perm, perm[:, :1])
    return targets, m, ranks


def risk_table(first: np.ndarray, m: np.ndarray, P: int) -> pd.DataFrame:
    """The per-device risk table from each sampled device's fewest points (0: not singled out)."""
    from fewpoints.attacks.result import wilson_interval

    n = len(first)
    outcome = np.where(first > 0, first, np.where(m > P, P + 1, 0))
    rows = []
    order = [*range(1, P + 2), 0]
    counts = np.bincount(outcome, minlength=P + 2)
    cum = 0
    nan = float("nan")
    for k in order:
        c = int(counts[k])
        if k == 0:
            label = "never (all its points shared)"
        elif k == P + 1:
            label = f"not within {P} points"
        else:
            label = f"{k} point" + ("s" if k > 1 else "")
        lo, hi = wilson_interval(c, n)
        row = {"fewest_points": k, "label": label, "n_devices": c, "share": c / n,
               "ci_low": lo, "ci_high": hi}  # fmt: skip
        if 1 <= k <= P:
            cum += c
            clo, chi = wilson_interval(cum, n)
            row |= {"cumulative": cum / n, "cumulative_low": clo, "cumulative_high": chi}
        else:
            row |= {"cumulative": nan, "cumulative_low": nan, "cumulative_high": nan}
        rows.append(row | {"n_targets": n})
    return pd.DataFrame(rows)
