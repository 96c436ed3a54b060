"""The paper's resampler: synthetic people drawn from the three marginals, as a traces table.

:func:`sample_marginal_traces` gives each person a cluster of antennas, a
number of points from the activity marginal, distinct hours from the
circadian marginal and an antenna of the cluster for each hour by the
frequency marginal; the draws of points and hours are shared with the
model's unicity (:mod:`fewpoints.attacks.population.model`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.attacks.population.clusters import antenna_network, grow_clusters
from fewpoints.attacks.population.marginals import CLUSTER_SIZE, Marginals
from fewpoints.schema import FewpointsError


def draw_activity(activity: np.ndarray, n: int, rng, *, at_least: int = 0, most: int) -> np.ndarray:
    w = activity.copy()
    w[: min(at_least, w.size)] = 0.0
    if w.sum() <= 0:
        raise FewpointsError(f"nobody in the marginals has {at_least} points")
    a = rng.choice(w.size, size=n, p=w / w.sum())
    return np.minimum(a, most)


def hour_sets(circadian: np.ndarray, a: np.ndarray, rng) -> np.ndarray:
    """Boolean (people, hours): ``a[i]`` distinct hours for person i, drawn by ``circadian``
    without replacement (exponential keys: the a smallest of E_h / w_h)."""
    with np.errstate(divide="ignore"):
        inv = (1.0 / circadian).astype(np.float32)
    keys = rng.standard_exponential(size=(a.size, circadian.size), dtype=np.float32)
    keys *= inv[None, :]
    srt = np.sort(keys, axis=1)
    thr = srt[np.arange(a.size), np.maximum(a, 1) - 1]
    return (keys <= thr[:, None]) & (a[:, None] > 0)


def sample_marginal_traces(
    marginals: Marginals,
    n_people: int,
    antennas: pd.DataFrame,
    *,
    network: tuple[np.ndarray, np.ndarray] | None = None,
    cluster_size: int = CLUSTER_SIZE,
    start: str = "2026-03-02",
    rng=None,
) -> pd.DataFrame:
    """Synthetic people drawn from the three marginals: the paper's resampler, as a traces table.

    Each person gets a connected cluster of ``cluster_size`` antennas
    (:func:`grow_clusters`) in a random order, a number of points ``a`` drawn
    from the activity marginal, ``a`` distinct hours drawn from the
    circadian marginal without replacement, and for each hour an antenna of
    the cluster, the ``r``-th with probability ``frequency[r]``.

    Returns
    -------
    DataFrame
        ``device_id``, ``time``, ``x_km``, ``y_km``, ``antenna_id``.
    """
    rng = np.random.default_rng(rng)
    network = antenna_network(antennas) if network is None else network
    freq = frequency(marginals, cluster_size)
    clusters = grow_clusters(network, n_people, cluster_size, rng)
    a = draw_activity(marginals.activity, n_people, rng, most=int((marginals.circadian > 0).sum()))
    person, hour = [], []
    for lo in range(0, n_people, 20_000):
        sets = hour_sets(marginals.circadian, a[lo : lo + 20_000], rng)
        r, h = np.nonzero(sets)
        person.append(r + lo)
        hour.append(h)
    person, hour = np.concatenate(person), np.concatenate(hour)
    rank = rng.choice(cluster_size, size=person.size, p=freq)
    antenna = clusters[person, rank]
    t0 = np.datetime64(pd.Timestamp(start).normalize().to_datetime64(), "s")
    width = len(str(max(n_people - 1, 1)))
    ids = np.char.add("m", np.char.zfill(np.arange(n_people).astype(str), width))
    return pd.DataFrame(
        {
            "device_id": pd.Categorical.from_codes(person, categories=ids),
            "time": t0 + hour.astype("timedelta64[h]").astype("timedelta64[s]"),
            "x_km": antennas["x_km"].to_numpy(float)[antenna],
            "y_km": antennas["y_km"].to_numpy(float)[antenna],
            "antenna_id": antennas["antenna_id"].to_numpy()[antenna]
            if "antenna_id" in antennas
            else antenna,
        }
    )


def frequency(marginals: Marginals, cluster_size: int) -> np.ndarray:
    f = np.zeros(cluster_size)
    m = min(cluster_size, marginals.frequency.size)
    f[:m] = marginals.frequency[:m]
    return f / f.sum()
