"""Unicity of the model of Farzanehfar et al. (2021) at any population size, without drawing everyone.

:func:`marginals_unicity` computes, for synthetic targets, the chance P
that another synthetic person of the resampler holds all their points
(hours times places, by Monte Carlo), and unicity ``(1 - P)^(n - 1)`` at
any size n; :class:`MarginalsModel` holds the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.population.clusters import antenna_network, grow_clusters
from fewpoints.attacks.population.marginals import CLUSTER_SIZE, Marginals
from fewpoints.attacks.population.sampling import draw_activity, frequency, hour_sets
from fewpoints.common import check_points, check_targets, renamed
from fewpoints.schema import FewpointsError


@dataclass
class MarginalsModel:
    """Unicity of the paper's model at any population size.

    Attributes
    ----------
    table : DataFrame
        ``n_devices``, ``n_points``, ``unicity`` (the model), ``ci_low``,
        ``ci_high`` (95%, over the sampled targets), ``n_targets``.
    match : dict of int to ndarray
        For each p, each sampled target's chance P that another synthetic
        person holds all its p points.
    marginals : Marginals
    n_antennas : int
    """

    table: pd.DataFrame
    match: dict
    marginals: Marginals
    n_antennas: int

    def unicity(self, n_devices, n_points: int = 4) -> np.ndarray:
        """The model's unicity among ``n_devices`` people: the mean of (1 - P)^(n - 1)."""
        return _mean_unique(self.match[n_points], np.asarray(n_devices, dtype=float))[0]


def _mean_unique(P: np.ndarray, n: np.ndarray):
    n = np.atleast_1d(n)
    each = np.exp((n[None, :] - 1) * np.log1p(-np.minimum(P, 1 - 1e-15))[:, None])
    mean = each.mean(axis=0)
    half = 1.96 * each.std(axis=0) / np.sqrt(max(P.size, 1))
    return mean, np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


@renamed(n_points="n_points_range")
def marginals_unicity(
    marginals: Marginals,
    antennas: pd.DataFrame,
    sizes: Sequence[float] = (1e5, 1e6, 1e7, 6e7),
    *,
    n_points_range: Sequence[int] | int = (4, 5),
    n_targets: int = 10_000,
    cluster_size: int = CLUSTER_SIZE,
    network: tuple[np.ndarray, np.ndarray] | None = None,
    n_clusters: int | None = None,
    n_hour_sets: int = 100_000,
    rng=None,
) -> MarginalsModel:
    """Unicity of the model of Farzanehfar et al. (2021) for populations of any size.

    Parameters
    ----------
    marginals : Marginals
        From :func:`fit_marginals` (or built by hand).
    antennas : DataFrame
        The antenna map the synthetic people live on (``x_km``, ``y_km``).
    sizes : sequence of float
        Population sizes (default up to 60 million).
    n_points_range : int or sequence of int, default (4, 5)
        The numbers of known points p (``n_points=`` is its deprecated name).
    n_targets : int, default 10_000
        Synthetic targets drawn from the model.
    cluster_size : int, default 10
    network : (offsets, neighbours), optional
        Default :func:`antenna_network` of ``antennas``.
    n_clusters : int, optional
        Clusters drawn to average over other people's clusters (default:
        50 per antenna, at least 20,000: each antenna is in about 500).
    n_hour_sets : int, default 100,000
        Synthetic people's sets of hours drawn to average over their hours.
    rng : int, Generator or None

    Returns
    -------
    MarginalsModel

    Notes
    -----
    The resampler (:func:`sample_marginal_traces`) makes synthetic people
    who are independent and drawn alike, so a target is unique among n
    people exactly when none of the other n - 1 holds its p points:
    ``(1 - P)^(n - 1)``, where P is the chance that one synthetic person
    does. The paper proves this form; here it is used to compute the model
    at 60 million without drawing 60 million people. In the resampler a
    person's number of points and hours are independent of their cluster,
    and each hour's antenna is drawn afresh, so P factorises: P = (chance
    that a person's hours include the target's p hours) x (mean over
    clusters of the product, over the p points, of the chance of being at
    that antenna). Both are averaged by Monte Carlo (``n_hour_sets`` hour
    sets, ``n_clusters`` clusters), then unicity is the mean of
    ``(1 - P)^(n - 1)`` over the targets. Drawing the people themselves
    gives the same answer within sampling error (tested).

    References
    ----------
    .. [1] Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk
       of re-identification remains high even in country-scale location
       datasets. Patterns 2(3):100204.
    """
    rng = np.random.default_rng(rng)
    ps = [
        check_points(p)
        for p in ([n_points_range] if np.isscalar(n_points_range) else n_points_range)
    ]
    n_targets = check_targets(n_targets)
    network = antenna_network(antennas) if network is None else network
    n_ant = network[0].size - 1
    freq = frequency(marginals, cluster_size)
    w = marginals.circadian
    most = int((w > 0).sum())
    if max(ps) > most:
        raise FewpointsError(f"the marginals have {most} hours with points; ask for fewer points")
    if n_clusters is None:
        n_clusters = max(20_000, 50 * n_ant)

    # Other people: their clusters (antenna -> clusters holding it, with its rank) ...
    clusters = grow_clusters(network, n_clusters, cluster_size, rng)
    flat = clusters.ravel()
    order = np.argsort(flat, kind="stable")
    holder_cluster = (order // cluster_size).astype(np.int64)
    holder_rank = (order % cluster_size).astype(np.int64)
    starts = np.searchsorted(flat[order], np.arange(n_ant + 1))
    # ... and their hours (one bit per synthetic person, one row per hour).
    a = draw_activity(marginals.activity, n_hour_sets, rng, most=most)
    bits = _hour_bits(w, a, rng)

    match = {}
    rows = []
    for p in ps:
        # Targets: synthetic people with at least p points, and p of their points.
        ta = draw_activity(marginals.activity, n_targets, rng, at_least=p, most=most)
        own = grow_clusters(network, n_targets, cluster_size, rng)
        hours = np.empty((n_targets, p), dtype=np.int64)
        for lo in range(0, n_targets, 20_000):
            sets = hour_sets(w, ta[lo : lo + 20_000], rng)
            # p of the target's hours, uniformly: random keys on its hours, the p smallest.
            keys = np.where(sets, rng.random(sets.shape), 2.0)
            hours[lo : lo + 20_000] = np.argsort(keys, axis=1)[:, :p]
        rank = rng.choice(cluster_size, size=(n_targets, p), p=freq)
        ant = np.take_along_axis(own, rank, axis=1)
        p_hours = _hours_share(bits, hours, a.size)
        p_place = _place_share(ant, freq, holder_cluster, holder_rank, starts, clusters, n_clusters)
        P = p_hours * p_place
        match[p] = P
        mean, lo_, hi_ = _mean_unique(P, np.asarray(sizes, dtype=float))
        for n, u, low, h in zip(sizes, mean, lo_, hi_, strict=True):
            rows.append({"n_devices": float(n), "n_points": p, "unicity": u, "ci_low": low,
                         "ci_high": h, "n_targets": n_targets})  # fmt: skip
    return MarginalsModel(
        table=pd.DataFrame(rows), match=match, marginals=marginals, n_antennas=n_ant
    )


def _hour_bits(w: np.ndarray, a: np.ndarray, rng) -> np.ndarray:
    """(hours, bytes): bit i of row h says whether synthetic person i has a point in hour h."""
    n_bytes = (a.size + 7) // 8
    out = np.zeros((w.size, n_bytes), dtype=np.uint8)
    step = 20_000  # a multiple of 8, so each chunk fills whole bytes
    for lo in range(0, a.size, step):
        sets = hour_sets(w, a[lo : lo + step], rng)
        packed = np.packbits(sets, axis=0)  # (bytes of this chunk, hours)
        out[:, lo // 8 : lo // 8 + packed.shape[0]] = packed.T
    return out


def _hours_share(bits: np.ndarray, hours: np.ndarray, n_sets: int) -> np.ndarray:
    """Share of the synthetic hour sets holding all of each row's hours."""
    out = np.empty(hours.shape[0])
    step = max(1, 2_000_000 // bits.shape[1])
    for lo in range(0, hours.shape[0], step):
        h = hours[lo : lo + step]
        acc = bits[h[:, 0]].copy()
        for j in range(1, h.shape[1]):
            acc &= bits[h[:, j]]
        out[lo : lo + step] = _POPCOUNT[acc].sum(axis=1) / n_sets
    return out


def _place_share(ant, freq, holder_cluster, holder_rank, starts, clusters, n_clusters):
    """Mean over other people's clusters of the chance of being at each row's antennas at its hours."""
    n, p = ant.shape
    # Each target's distinct antennas and how many of its points are at each.
    srt = np.sort(ant, axis=1)
    new = np.ones((n, p), dtype=bool)
    new[:, 1:] = srt[:, 1:] != srt[:, :-1]
    grp = np.cumsum(new, axis=1) - 1  # which distinct antenna each sorted point is
    row = np.repeat(np.arange(n), p)
    uniq = np.full((n, p), -1, dtype=np.int64)  # distinct antennas first, then -1
    uniq[row, grp.ravel()] = srt.ravel()
    mult = np.zeros((n, p), dtype=np.int64)
    np.add.at(mult, (row, grp.ravel()), 1)
    # Candidate clusters: those holding the target's first antenna.
    first = uniq[:, 0]
    length = starts[first + 1] - starts[first]
    total = np.zeros(n)
    bounds = np.concatenate([[0], np.cumsum(length)])
    chunk_rows = np.searchsorted(bounds, np.arange(0, bounds[-1] + 1, 2_000_000))
    chunk_rows = np.unique(np.concatenate([chunk_rows, [n]]))
    for r0, r1 in zip(chunk_rows[:-1], chunk_rows[1:], strict=True):
        rows = np.arange(r0, r1)
        ln = length[rows]
        t = np.repeat(rows, ln)
        at = np.repeat(starts[first[rows]], ln) + (
            np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln)
        )
        c, r = holder_cluster[at], holder_rank[at]
        value = freq[r] ** mult[t, 0]
        members = clusters[c].astype(np.int32)
        for j in range(1, p):
            a_j = uniq[t, j].astype(np.int32)
            hit = members == a_j[:, None]
            present = hit.any(axis=1)
            rank_j = hit.argmax(axis=1)
            factor = np.where(present, freq[rank_j] ** mult[t, j], 0.0)
            value *= np.where(a_j < 0, 1.0, factor)
        total[r0:r1] += np.bincount(t - r0, weights=value, minlength=r1 - r0)
    return total / n_clusters
