"""Worst-case risk: the most identifying p points each target holds (Pellungrini et al. 2017).

:func:`~fewpoints.attacks.unicity.unicity` asks what *random* points reveal;
this attack takes, for each target, the p-subset of their own points that the
fewest other devices share, the attacker's best choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.draws import floyd_sample, sample_targets
from fewpoints.attacks.index import as_index
from fewpoints.attacks.result import unique_share
from fewpoints.common import check_count, check_points, check_targets

__all__ = ["RiskResult", "worst_case_risk"]


@dataclass
class RiskResult:
    """Worst-case re-identification risk per target (Pellungrini et al. 2017).

    Attributes
    ----------
    value : float
        Share of targets with risk 1: some p of their own points single them out.
    ci_low, ci_high : float
        95% Wilson interval for ``value``.
    mean_risk : float
        Average over targets of the risk ``1 / smallest anonymity set``.
    n_points, n_targets : int
        Points per subset (p) and targets sampled.
    targets : DataFrame
        ``device_id``, ``risk``, ``min_anonymity_set_size``, ``n_subsets``
        (p-subsets examined) and ``exhaustive`` (all subsets were examined).
    """

    value: float
    ci_low: float
    ci_high: float
    mean_risk: float
    n_points: int
    n_targets: int
    targets: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"RiskResult(p={self.n_points}, risk 1 for {self.value:.1%} "
            f"[95% CI {self.ci_low:.1%}-{self.ci_high:.1%}], mean risk {self.mean_risk:.3f}, "
            f"targets={self.n_targets:,})"
        )


def _subsets(m: np.ndarray, p: int, max_subsets: int, rng: np.random.Generator):
    """p-subsets of each target's m points: all when few enough, else ``max_subsets`` random ones.

    Returns (row, local point indices of shape (n_subsets, p), exhaustive per target).
    """
    from itertools import combinations

    n_comb = np.array([math.comb(int(v), p) for v in m], dtype=float)
    exhaustive = n_comb <= max_subsets
    row_parts, idx_parts = [], []
    for v in np.unique(m[exhaustive]):
        who = np.flatnonzero(exhaustive & (m == v))
        combos = np.array(list(combinations(range(int(v)), p)), dtype=np.int64).reshape(-1, p)
        row_parts.append(np.repeat(who, len(combos)))
        idx_parts.append(np.tile(combos, (len(who), 1)))
    who = np.flatnonzero(~exhaustive)
    if len(who):
        rows = np.repeat(who, max_subsets)
        row_parts.append(rows)
        idx_parts.append(floyd_sample(m[rows], p, rng))
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int64)
    idx = np.concatenate(idx_parts) if idx_parts else np.zeros((0, p), dtype=np.int64)
    return rows, idx, exhaustive


def worst_case_risk(
    traces,
    n_points: int = 2,
    *,
    n_targets: int = 1_000,
    max_subsets: int = 200,
    rng=None,
) -> RiskResult:
    """Worst-case re-identification risk: the most identifying p points each target holds.

    Parameters
    ----------
    traces : DataFrame or PointIndex
        As in :func:`unicity`.
    n_points : int, default 2
        Points per subset (p).
    n_targets : int, default 1_000
        Targets to sample (all eligible devices when fewer qualify).
    max_subsets : int, default 200
        A target with at most this many p-subsets of its points has all of
        them examined; otherwise this many are drawn at random (so the risk
        found is a lower bound on the true worst case).
    rng : int, Generator or None

    Returns
    -------
    RiskResult
        ``value`` (share of targets with risk 1), its 95% Wilson interval,
        ``mean_risk``, and per target ``risk = 1 / min anonymity set``.

    Notes
    -----
    :func:`unicity` asks what *random* points reveal. An attacker rarely
    knows random points: a neighbour knows when you leave home, a colleague
    when you arrive at work, and the rarest moments of a trace are the most
    identifying. This measure takes, for each target, the p-subset of their
    own points shared with the fewest other devices, as in the location-time
    attack of Pellungrini et al. (2017) and scikit-mobility. Times are
    matched exactly at the resolution the data carries (scikit-mobility's
    "hour" precision actually matches by day; this function does not).

    References
    ----------
    .. [1] Pellungrini, R., Pappalardo, L., Pratesi, F., Monreale, A. (2017).
       A data mining approach to assess privacy risk in human mobility data.
       ACM Transactions on Intelligent Systems and Technology 9(3):31.
    """
    rng = np.random.default_rng(rng)
    p = check_points(n_points)
    n_targets = check_targets(n_targets)
    check_count(max_subsets, "max_subsets")
    index = as_index(traces)
    targets, _ = sample_targets(index, p, n_targets, "random", rng)
    m = index.points_per_device()[targets]
    sub_row, local, exhaustive = _subsets(m, p, int(max_subsets), rng)
    # Local point index -> point code through the device -> points arrays.
    items = index.nth_points(targets[sub_row], local)
    sizes = index.points.anonymity_sets(items)
    n = len(targets)
    min_size = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(min_size, sub_row, sizes)
    n_sub = np.bincount(sub_row, minlength=n)
    risk = 1.0 / min_size
    value, lo, hi = unique_share(min_size)
    return RiskResult(
        value=value,
        ci_low=lo,
        ci_high=hi,
        mean_risk=float(risk.mean()),
        n_points=p,
        n_targets=n,
        targets=pd.DataFrame(
            {
                "device_id": index.device_ids[targets],
                "risk": risk,
                "min_anonymity_set_size": min_size,
                "n_subsets": n_sub,
                "exhaustive": exhaustive,
            }
        ),
    )
