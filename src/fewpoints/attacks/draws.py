"""How the unicity test draws its targets and their points, shared by both engines.

The in-memory engine (:mod:`fewpoints.attacks.unicity`) and the Dask engine
make the same generator calls through these, so the same seed gives the same
targets, points and answers on either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fewpoints.common import check_points
from fewpoints.schema import FewpointsError

if TYPE_CHECKING:
    from fewpoints.attacks.index import PointIndex

#: What the attacker knows about a target.
KNOWLEDGE = ("random", "top", "home_work")


def eligible_devices(index: PointIndex, p: int, knowledge: str) -> tuple[np.ndarray, str]:
    """Per-device bool: enough points for this knowledge; and a phrase for errors."""
    if knowledge == "random":
        have = index.points_per_device()
        return have >= p, f"{p} distinct point(s) (the most any device has is {have.max():,})"
    if knowledge == "top":
        places = np.bincount(index.place_postings("any").devices(), minlength=index.n_devices)
        return places >= p, f"{p} distinct place(s) (the most any device has is {places.max():,})"
    if knowledge == "home_work":
        post = index.place_postings("home_work")
        devs = post.devices()
        is_day = post.keys // index.n_devices >= index.n_locations
        night = np.bincount(devs[~is_day], minlength=index.n_devices) > 0
        day = np.bincount(devs[is_day], minlength=index.n_devices) > 0
        ok = night & day if p == 2 else night
        return ok, "records at night" + (" and on weekday working hours" if p == 2 else "")
    raise FewpointsError(f"unknown knowledge {knowledge!r}; choose one of {', '.join(KNOWLEDGE)}")


def sample_targets(
    index: PointIndex,
    p: int,
    n_targets: int,
    knowledge: str,
    rng: np.random.Generator,
    members: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    ok, need = eligible_devices(index, p, knowledge)
    if members is not None:
        ok = ok & members
    eligible = np.flatnonzero(ok)
    if len(eligible) == 0:
        raise FewpointsError(f"no device has {need}; ask for fewer points")
    n = min(n_targets, len(eligible))
    return np.sort(rng.choice(eligible, size=n, replace=False)), len(eligible)


def floyd_sample(m: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """For each row, k distinct indices drawn uniformly from range(m[row]), sorted; shape (n, k).

    Robert Floyd's algorithm, vectorised over rows: step j draws t from
    range(m - k + j + 1) and keeps t unless already drawn, in which case it
    keeps m - k + j. Every k-subset is equally likely.
    """
    m = np.asarray(m, dtype=np.int64)
    out = np.empty((len(m), k), dtype=np.int64)
    for j in range(k):
        top = m - k + j
        t = np.floor(rng.random(len(m)) * (top + 1)).astype(np.int64)
        t = np.minimum(t, top)
        taken = (out[:, :j] == t[:, None]).any(axis=1)
        out[:, j] = np.where(taken, top, t)
    out.sort(axis=1)
    return out


def draw_random(index, n_points, n_targets: int, rng) -> list[tuple]:
    """``(p, targets, ranks, n_eligible)`` for each p, drawn as ``unicity`` draws them in turn.

    ``index`` needs only ``points_per_device()`` (the Dask engine passes its
    per-device counts), so both engines make the same generator calls.
    """
    draws = []
    for p in n_points:
        p = check_points(p)
        targets, n_eligible = sample_targets(index, p, n_targets, "random", rng)
        ranks = floyd_sample(index.points_per_device()[targets], p, rng)
        draws.append((p, targets, ranks, n_eligible))
    return draws
