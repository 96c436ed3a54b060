"""Unicity: how many devices do p known points single out?

The method of de Montjoye et al. (2013) and Farzanehfar et al. (2021): sample
target devices, take p of each target's points (what an attacker might know
about a person: where they were at a few moments), and count the devices
whose trace contains all p. The target is **unique** when that count, its
**anonymity set**, is 1: the p points point at one device and the rest of the
trace, with everything it reveals, belongs to the person the attacker knew
the points of.

Everything runs on a :class:`~fewpoints.attacks.index.PointIndex` (built from
the table on each call unless you pass one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from fewpoints.attacks.index import WINDOW_LABELS, PointIndex, as_index
from fewpoints.schema import FewpointsError

__all__ = [
    "KNOWLEDGE",
    "PopulationCurve",
    "ResolutionSweep",
    "RiskResult",
    "UnicityResult",
    "population_curve",
    "resolution_sweep",
    "unicity",
    "unicity_curve",
    "wilson_interval",
    "worst_case_risk",
]

#: What the attacker knows about a target.
KNOWLEDGE = ("random", "top", "home_work")


def wilson_interval(successes, n, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``.

    Parameters
    ----------
    successes : int
        Number of successes (here: unique targets).
    n : int
        Number of trials (targets), positive.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    (low, high) : tuple of float
        Bounds within [0, 1]; unlike the normal approximation it stays inside
        [0, 1] and is sensible at 0% and 100%.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession,
       and statistical inference. JASA 22(158):209-212.
    """
    if n <= 0:
        raise FewpointsError("a confidence interval needs at least one target")
    if not 0 <= successes <= n:
        raise FewpointsError(f"successes must be between 0 and n, got {successes} of {n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    phat = successes / n
    z2n = z * z / n
    centre = (phat + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(phat * (1 - phat) / n + z2n / (4 * n)) / (1 + z2n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


@dataclass
class UnicityResult:
    """The share of targets singled out by their known points, with everything needed to check it.

    Attributes
    ----------
    value : float
        Share of targets that are unique (anonymity set of 1).
    ci_low, ci_high : float
        95% Wilson interval for ``value``.
    n_points : int
        Points known per target (p).
    n_targets : int
        Targets sampled.
    targets : DataFrame
        ``device_id``, ``anonymity_set_size`` (devices whose trace holds all
        the target's known points, the target included).
    points : DataFrame
        The points known for each target: ``device_id``, ``x_km``, ``y_km``,
        ``time`` (NaT for place knowledge, with ``window`` saying when).
    knowledge : str
        ``"random"``, ``"top"`` or ``"home_work"``.
    n_devices : int
        Devices in the population searched.
    n_eligible : int
        Devices that had enough points to be a target.
    """

    value: float
    ci_low: float
    ci_high: float
    n_points: int
    n_targets: int
    targets: pd.DataFrame
    points: pd.DataFrame
    knowledge: str = "random"
    n_devices: int = 0
    n_eligible: int = 0

    @property
    def n_unique(self) -> int:
        return int((self.targets["anonymity_set_size"] == 1).sum())

    def __repr__(self) -> str:
        return (
            f"UnicityResult(p={self.n_points}, unique={self.value:.1%} "
            f"[95% CI {self.ci_low:.1%}-{self.ci_high:.1%}], targets={self.n_targets:,}, "
            f"devices={self.n_devices:,}, knowledge={self.knowledge!r})"
        )

    def summary(self) -> str:
        """A few plain-language lines."""
        sizes = self.targets["anonymity_set_size"]
        what = {
            "random": f"{self.n_points} random points (place and time) of their trace",
            "top": f"their {self.n_points} most frequent place(s), at any time",
            "home_work": "where they are at night"
            + (" and on weekday working hours" if self.n_points == 2 else ""),
        }[self.knowledge]
        return "\n".join(
            [
                f"Knowing {what}, {self.value:.1%} of {self.n_targets:,} sampled devices "
                f"are unique among {self.n_devices:,} (95% CI {self.ci_low:.1%} to {self.ci_high:.1%}).",
                f"Anonymity set: median {sizes.median():,.0f}, mean {sizes.mean():,.1f}, "
                f"largest {sizes.max():,}.",
            ]
        )


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


# ---------------------------------------------------------------------------
# drawing targets and their points
# ---------------------------------------------------------------------------


def _check_p(n_points) -> int:
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)):
        raise FewpointsError(f"n_points must be a whole number, got {n_points!r}")
    if n_points < 1:
        raise FewpointsError(f"n_points must be at least 1, got {n_points}")
    return int(n_points)


def _check_targets(n_targets) -> int:
    if isinstance(n_targets, bool) or not isinstance(n_targets, (int, np.integer)):
        raise FewpointsError(f"n_targets must be a whole number, got {n_targets!r}")
    if n_targets < 1:
        raise FewpointsError(f"n_targets must be at least 1, got {n_targets}")
    return int(n_targets)


def _eligible(index: PointIndex, p: int, knowledge: str) -> tuple[np.ndarray, str]:
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


def _sample_targets(
    index: PointIndex,
    p: int,
    n_targets: int,
    knowledge: str,
    rng: np.random.Generator,
    members: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    ok, need = _eligible(index, p, knowledge)
    if members is not None:
        ok = ok & members
    eligible = np.flatnonzero(ok)
    if len(eligible) == 0:
        raise FewpointsError(f"no device has {need}; ask for fewer points")
    n = min(n_targets, len(eligible))
    return np.sort(rng.choice(eligible, size=n, replace=False)), len(eligible)


def _floyd_sample(m: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
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


def _top_places(index: PointIndex, targets: np.ndarray, p: int, *, home_work: bool) -> np.ndarray:
    """Each target's p most frequent place items (ties: lower location code), shape (n, p)."""
    rows, pts = index.device_points(targets)
    loc = index.point_loc[pts].astype(np.int64)
    n_loc = index.n_locations
    if home_work:
        window = index.point_window()[pts]
        keep = window > 0
        rows, item = rows[keep], loc[keep] + (window[keep].astype(np.int64) - 1) * n_loc
        n_items = 2 * n_loc
    else:
        item, n_items = loc, n_loc
    # Count distinct points per (target, item), then rank items within a target.
    key = rows * n_items + item
    uk, count = np.unique(key, return_counts=True)
    r, it = uk // n_items, uk % n_items
    if home_work:
        # One place per window: the most frequent night place, then the most
        # frequent weekday-daytime place.
        win = it // n_loc
        order = np.lexsort((it, -count, win, r))
        r, it, win = r[order], it[order], win[order]
        first = np.ones(len(r), dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (win[1:] != win[:-1])
        r, it, win = r[first], it[first], win[first]
        out = np.full((len(targets), 2), -1, dtype=np.int64)
        out[r, win] = it
        return out[:, :p]
    order = np.lexsort((it, -count, r))
    r, it = r[order], it[order]
    first_of = np.searchsorted(r, np.arange(len(targets)))
    rank = np.arange(len(r)) - first_of[r]
    keep = rank < p
    out = np.empty((len(targets), p), dtype=np.int64)
    out[r[keep], rank[keep]] = it[keep]
    return out


def _draw_knowledge(index, targets, p, knowledge, rng) -> np.ndarray:
    """Item codes (n_targets, p) for the points the attacker knows."""
    if knowledge == "random":
        m = index.points_per_device()[targets]
        local = _floyd_sample(m, p, rng)
        return index.dev_points[index.dev_offsets[targets][:, None] + local].astype(np.int64)
    return _top_places(index, targets, p, home_work=knowledge == "home_work")


def _points_frame(index: PointIndex, targets, items, knowledge) -> pd.DataFrame:
    n, p = items.shape
    dev = np.repeat(index.device_ids[targets], p)
    flat = items.ravel()
    if knowledge == "random":
        loc = index.point_loc[flat]
        return pd.DataFrame(
            {
                "device_id": dev,
                "x_km": index.loc_x[loc],
                "y_km": index.loc_y[loc],
                "time": index.point_time[flat].astype("datetime64[s]"),
            }
        )
    n_loc = index.n_locations
    if knowledge == "home_work":
        loc, win = flat % n_loc, flat // n_loc
        window = np.where(win == 0, WINDOW_LABELS["night"], WINDOW_LABELS["workday"])
    else:
        loc, window = flat, np.full(len(flat), WINDOW_LABELS["any"])
    return pd.DataFrame(
        {
            "device_id": dev,
            "x_km": index.loc_x[loc],
            "y_km": index.loc_y[loc],
            "time": np.full(len(flat), np.datetime64("NaT"), dtype="datetime64[s]"),
            "window": window,
        }
    )


def _postings_for(index: PointIndex, knowledge: str):
    if knowledge == "random":
        return index.points
    return index.place_postings("any" if knowledge == "top" else "home_work")


def _result(index, targets, items, sizes, p, knowledge, n_devices, n_eligible) -> UnicityResult:
    n = len(targets)
    k = int((sizes == 1).sum())
    lo, hi = wilson_interval(k, n)
    return UnicityResult(
        value=k / n,
        ci_low=lo,
        ci_high=hi,
        n_points=p,
        n_targets=n,
        targets=pd.DataFrame({"device_id": index.device_ids[targets], "anonymity_set_size": sizes}),
        points=_points_frame(index, targets, items, knowledge),
        knowledge=knowledge,
        n_devices=n_devices,
        n_eligible=n_eligible,
    )


def _unicity(index, p, n_targets, knowledge, rng, members=None) -> UnicityResult:
    if knowledge == "home_work" and p > 2:
        raise FewpointsError("home_work knowledge has at most 2 points (home, then work)")
    targets, n_eligible = _sample_targets(index, p, n_targets, knowledge, rng, members)
    items = _draw_knowledge(index, targets, p, knowledge, rng)
    sizes = _postings_for(index, knowledge).anonymity_sets(items, members=members)
    n_devices = index.n_devices if members is None else int(members.sum())
    return _result(index, targets, items, sizes, p, knowledge, n_devices, n_eligible)


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------


def unicity(
    traces,
    n_points: int = 4,
    *,
    n_targets: int = 10_000,
    knowledge: str = "random",
    rng=None,
) -> UnicityResult:
    """Share of devices singled out by ``n_points`` of their own points.

    Parameters
    ----------
    traces : DataFrame or PointIndex
        A ``traces`` table (``device_id, time, x_km, y_km``), raw or coarsened,
        or an index built from one with ``PointIndex.from_traces`` (faster
        when called repeatedly).
    n_points : int, default 4
        Points the attacker knows about each target (p).
    n_targets : int, default 10_000
        Targets to sample; all eligible devices when fewer qualify.
    knowledge : {"random", "top", "home_work"}, default "random"
        ``"random"``: p distinct points (place and time) drawn uniformly from
        the target's trace. ``"top"``: the target's p most frequent places
        (counted in distinct times seen there; ties go to the smaller
        ``x_km``, then ``y_km``), at any time. ``"home_work"``:
        the most frequent night-time place (22:00-06:00), and with
        ``n_points=2`` also the most frequent place on weekdays 09:00-17:00.
    rng : int, Generator or None
        Randomness for sampling targets and points.

    Returns
    -------
    UnicityResult
        ``value``, its 95% Wilson interval, and the ``targets`` and
        ``points`` tables to check any target by hand.

    Raises
    ------
    FewpointsError
        If no device has enough points (or places) for the knowledge asked.

    Notes
    -----
    A target is unique when exactly one device's trace contains all p known
    points; the **anonymity set** is the number of such devices (the target
    is always one of them). Points are compared exactly, at the resolution
    the table carries: coarsen the table first (``fewpoints.anonymize``) to
    ask what coarsening buys. Only devices with at least p distinct points
    can be targets, so at large p the sample leans to the busier phones.

    With ``"top"`` and ``"home_work"`` knowledge the attacker knows places,
    not moments: a device matches when it was seen at every known place at
    some time (within the window, for home and work). This is the weakest
    matching rule (a device that merely passed by a place matches), so
    these anonymity sets are upper bounds; an attacker who also knew the
    ranking of the places would do better.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    rng = np.random.default_rng(rng)
    p = _check_p(n_points)
    n_targets = _check_targets(n_targets)
    if knowledge not in KNOWLEDGE:
        raise FewpointsError(
            f"unknown knowledge {knowledge!r}; choose one of {', '.join(KNOWLEDGE)}"
        )
    return _unicity(as_index(traces), p, n_targets, knowledge, rng)


def unicity_curve(
    traces,
    n_points: Iterable[int] = range(1, 11),
    *,
    n_targets: int = 10_000,
    knowledge: str = "random",
    rng=None,
) -> pd.DataFrame:
    """Unicity for several numbers of known points, on one index.

    Parameters
    ----------
    traces : DataFrame or PointIndex
        As in :func:`unicity`; a table is indexed once for all p.
    n_points : iterable of int, default 1 to 10
    n_targets : int, default 10_000
        Targets per p (drawn afresh for each p).
    knowledge : str, default "random"
        See :func:`unicity`.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        One row per p: ``n_points``, ``unicity``, ``ci_low``, ``ci_high``,
        ``n_targets``, ``median_anonymity_set``, ``knowledge``.

    Notes
    -----
    Each p draws its own targets; a p that no device can satisfy raises
    :class:`~fewpoints.schema.FewpointsError` naming it.

    References
    ----------
    .. [1] de Montjoye, Y.-A. et al. (2013). Unique in the Crowd.
       Scientific Reports 3:1376.
    """
    rng = np.random.default_rng(rng)
    index = as_index(traces)
    rows = []
    for p in n_points:
        res = unicity(index, p, n_targets=n_targets, knowledge=knowledge, rng=rng)
        rows.append(_curve_row(res))
    return pd.DataFrame(rows)


def _curve_row(res: UnicityResult) -> dict:
    return {
        "n_points": res.n_points,
        "unicity": res.value,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "n_targets": res.n_targets,
        "median_anonymity_set": float(res.targets["anonymity_set_size"].median()),
        "knowledge": res.knowledge,
    }


# ---------------------------------------------------------------------------
# worst case (Pellungrini et al. 2017)
# ---------------------------------------------------------------------------


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
        idx_parts.append(_floyd_sample(m[rows], p, rng))
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
    p = _check_p(n_points)
    n_targets = _check_targets(n_targets)
    if isinstance(max_subsets, bool) or not isinstance(max_subsets, (int, np.integer)):
        raise FewpointsError(f"max_subsets must be a whole number, got {max_subsets!r}")
    if max_subsets < 1:
        raise FewpointsError(f"max_subsets must be at least 1, got {max_subsets}")
    index = as_index(traces)
    targets, _ = _sample_targets(index, p, n_targets, "random", rng)
    m = index.points_per_device()[targets]
    sub_row, local, exhaustive = _subsets(m, p, int(max_subsets), rng)
    # Local point index -> point code through the device -> points arrays.
    start = index.dev_offsets[targets][sub_row]
    items = index.dev_points[start[:, None] + local].astype(np.int64)
    sizes = index.points.anonymity_sets(items)
    n = len(targets)
    min_size = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(min_size, sub_row, sizes)
    n_sub = np.bincount(sub_row, minlength=n)
    risk = 1.0 / min_size
    k = int((min_size == 1).sum())
    lo, hi = wilson_interval(k, n)
    return RiskResult(
        value=k / n,
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


# ---------------------------------------------------------------------------
# resolution sweep: epsilon = alpha - (v h)^beta
# ---------------------------------------------------------------------------


@dataclass
class ResolutionSweep:
    """Unicity over spatial x temporal coarsening, with the power-law fit of de Montjoye et al.

    Attributes
    ----------
    table : DataFrame
        One row per (cell, bin, p): ``cell_km`` (NaN: as recorded),
        ``time_bin`` (None: as recorded), ``v`` (original locations merged
        per coarse location, on average), ``h`` (hours per time bin),
        ``n_points``, ``unicity``, ``ci_low``, ``ci_high``, ``n_targets``,
        ``fitted``.
    fit : DataFrame
        One row per p: ``n_points``, ``alpha``, ``beta``, ``rmse``, and
        ``halving_drop`` (predicted relative loss of unicity when both
        resolutions are halved from the finest measured, i.e. v*h x 4).
    """

    table: pd.DataFrame
    fit: pd.DataFrame

    def __repr__(self) -> str:
        fits = ", ".join(
            f"p={r.n_points}: alpha={r.alpha:.3f}, beta={r.beta:.3f}" for r in self.fit.itertuples()
        )
        return f"ResolutionSweep({len(self.table)} rows; fit {fits})"


def fit_resolution_law(vh, eps) -> tuple[float, float, float]:
    """Least-squares fit of ``eps = alpha - (v*h)**beta``; returns (alpha, beta, rmse).

    For each beta on a grid (then a finer grid around the best), alpha has a
    closed form (the mean of ``eps + (vh)**beta``); the pair with the
    smallest squared error wins. NaN when fewer than 2 distinct ``v*h``.
    """
    vh = np.asarray(vh, dtype=float)
    eps = np.asarray(eps, dtype=float)
    if len(np.unique(vh)) < 2:
        return float("nan"), float("nan"), float("nan")
    best = None
    grid = np.linspace(-1.0, 1.0, 2001)
    for _ in range(2):
        powers = vh[None, :] ** grid[:, None]
        alpha = (eps[None, :] + powers).mean(axis=1)
        sse = ((alpha[:, None] - powers - eps[None, :]) ** 2).sum(axis=1)
        i = int(np.argmin(sse))
        best = (float(alpha[i]), float(grid[i]), float(np.sqrt(sse[i] / len(vh))))
        step = grid[1] - grid[0]
        grid = np.linspace(grid[i] - step, grid[i] + step, 201)
    return best


def _hours(time_bin) -> float:
    return pd.Timedelta(time_bin).total_seconds() / 3600.0


def _n_locations(traces: pd.DataFrame) -> int:
    xy = traces[["x_km", "y_km"]].to_numpy(dtype=np.float64) + 0.0
    return len(pd.MultiIndex.from_arrays([xy[:, 0], xy[:, 1]]).unique())


def _native_hours(traces: pd.DataFrame) -> float:
    """The table's own time resolution in hours: the largest step all its times are multiples of."""
    t = np.unique(traces["time"].to_numpy().astype("datetime64[s]").view(np.int64))
    if len(t) < 2:
        return 1.0
    step = int(np.gcd.reduce(t - t[0]))
    return max(step, 1) / 3600.0


def resolution_sweep(
    traces: pd.DataFrame,
    *,
    cell_km: Sequence[float | None] = (None, 1.0, 2.0, 4.0),
    time_bin: Sequence[str | None] = ("1h", "2h", "4h", "8h"),
    n_points: Sequence[int] = (4,),
    n_targets: int = 10_000,
    knowledge: str = "random",
    rng=None,
) -> ResolutionSweep:
    """Unicity of the same table coarsened in space and time, and the fitted power law.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    cell_km : sequence of float or None
        Square cell sizes to snap locations to (``anonymize.coarsen_space``);
        None keeps the recorded locations.
    time_bin : sequence of str or None
        Time bins to floor times to (``anonymize.coarsen_time``), e.g. ``"1h"``;
        None keeps the recorded times.
    n_points : sequence of int, default (4,)
    n_targets : int, default 10_000
    knowledge : str, default "random"
    rng : int, Generator or None

    Returns
    -------
    ResolutionSweep
        ``table`` (tidy, one row per cell x bin x p) and ``fit`` (alpha,
        beta per p).

    Notes
    -----
    De Montjoye et al. found that unicity falls only slowly as data are
    made coarser, about as ``epsilon = alpha - (v*h)**beta`` where ``v``
    is how many antennas are merged and ``h`` the hours per time bin, with
    beta about 0.157 - 0.007 p: halving both resolutions at p = 4 removed
    only about a tenth of the unicity. Here ``v`` is measured on the data:
    the number of distinct recorded locations divided by the number of
    distinct coarse locations (1 when space is not coarsened), and ``h`` is
    the bin length in hours (the table's own time step when not binned).
    The fit is a least-squares grid search (no SciPy).

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd. Scientific Reports 3:1376.
    """
    from fewpoints.anonymize import coarsen_space, coarsen_time

    rng = np.random.default_rng(rng)
    if not isinstance(traces, pd.DataFrame):
        raise FewpointsError("resolution_sweep needs the traces table itself (it coarsens it)")
    ps = [_check_p(p) for p in n_points]
    n_targets = _check_targets(n_targets)
    base_loc = _n_locations(traces)
    rows = []
    native_h = None
    for cell in cell_km:
        spaced = traces if cell is None else coarsen_space(traces, cell_km=cell)
        for tb in time_bin:
            coarse = spaced if tb is None else coarsen_time(spaced, time_bin=tb)
            index = PointIndex.from_traces(coarse)
            v = base_loc / index.n_locations
            if tb is None:
                native_h = _native_hours(traces) if native_h is None else native_h
                h = native_h
            else:
                h = _hours(tb)
            for p in ps:
                res = _unicity(index, p, n_targets, knowledge, rng)
                rows.append(
                    {
                        "cell_km": np.nan if cell is None else float(cell),
                        "time_bin": tb,
                        "v": v,
                        "h": h,
                        **_curve_row(res),
                    }
                )
    table = pd.DataFrame(rows)
    fits, fitted = [], np.full(len(table), np.nan)
    for p in ps:
        sel = (table["n_points"] == p).to_numpy()
        vh = (table["v"] * table["h"]).to_numpy()[sel]
        alpha, beta, rmse = fit_resolution_law(vh, table["unicity"].to_numpy()[sel])
        fitted[sel] = alpha - vh**beta
        base = vh.min()
        drop = ((alpha - base**beta) - (alpha - (4 * base) ** beta)) / (alpha - base**beta)
        fits.append(
            {"n_points": p, "alpha": alpha, "beta": beta, "rmse": rmse, "halving_drop": drop}
        )
    table["fitted"] = fitted
    return ResolutionSweep(table=table, fit=pd.DataFrame(fits))


# ---------------------------------------------------------------------------
# population size (Farzanehfar et al. 2021)
# ---------------------------------------------------------------------------


@dataclass
class PopulationCurve:
    """Unicity as the dataset grows, with a convex model and a linear lower bound.

    Attributes
    ----------
    table : DataFrame
        ``n_devices``, ``n_points``, ``unicity``, ``ci_low``, ``ci_high``,
        ``n_targets``, ``fitted``.
    fit : dict
        ``a``, ``b`` (Beta distribution of the match probability), ``rmse``,
        and ``slope`` of the lower-bound line (unicity per device).
    extrapolation : DataFrame
        ``n_devices``, ``model`` (the fitted convex curve), ``lower_bound``.
    """

    table: pd.DataFrame
    fit: dict
    extrapolation: pd.DataFrame

    def predict(self, n_devices) -> np.ndarray:
        """The fitted model's unicity at ``n_devices``."""
        return _beta_unicity(np.asarray(n_devices, dtype=float), self.fit["a"], self.fit["b"])

    def lower_bound(self, n_devices) -> np.ndarray:
        """The linear lower bound at ``n_devices`` (never below 0)."""
        n = np.asarray(n_devices, dtype=float)
        last = self.table.iloc[-1]
        return np.clip(last["unicity"] + self.fit["slope"] * (n - last["n_devices"]), 0.0, 1.0)

    def __repr__(self) -> str:
        ex = ", ".join(
            f"{r.n_devices:,.0f}: {r.model:.1%} (>= {r.lower_bound:.1%})"
            for r in self.extrapolation.itertuples()
        )
        return f"PopulationCurve({len(self.table)} sizes; extrapolated {ex})"


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma, otypes=[float])(x)


def _beta_unicity(n: np.ndarray, a, b) -> np.ndarray:
    """E[(1 - P)^(n - 1)] for P ~ Beta(a, b): B(a, b + n - 1) / B(a, b)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n = np.asarray(n, dtype=float)
    return np.exp(_lgamma(b + n - 1) - _lgamma(a + b + n - 1) + _lgamma(a + b) - _lgamma(b))


def fit_population_model(n_devices, unicity_values) -> tuple[float, float, float]:
    """Least-squares fit of ``U(n) = B(a, b + n - 1) / B(a, b)``; returns (a, b, rmse).

    A grid search over log a and log b (no SciPy), refined once around the best.
    """
    n = np.asarray(n_devices, dtype=float)
    u = np.asarray(unicity_values, dtype=float)
    la = np.linspace(-4, 3, 141)
    lb = np.linspace(0, 12, 241)
    best = None
    for _ in range(2):
        A, B = np.meshgrid(10.0**la, 10.0**lb, indexing="ij")
        a, b = A.ravel(), B.ravel()
        pred = _beta_unicity(n[None, :], a[:, None], b[:, None])
        sse = ((pred - u[None, :]) ** 2).sum(axis=1)
        i = int(np.argmin(sse))
        best = (float(a[i]), float(b[i]), float(np.sqrt(sse[i] / len(n))))
        da, db = la[1] - la[0], lb[1] - lb[0]
        la = np.linspace(np.log10(best[0]) - da, np.log10(best[0]) + da, 41)
        lb = np.linspace(np.log10(best[1]) - db, np.log10(best[1]) + db, 41)
    return best


def population_curve(
    traces,
    sizes: Sequence[int] | None = None,
    *,
    n_points: int = 4,
    n_targets: int = 10_000,
    knowledge: str = "random",
    extrapolate_to: Sequence[float] = (1e6, 1e7, 6e7),
    rng=None,
) -> PopulationCurve:
    """Unicity in random subsets of devices of growing size, and where the trend leads.

    Parameters
    ----------
    traces : DataFrame or PointIndex
    sizes : sequence of int, optional
        Numbers of devices to keep (default: 8 sizes spaced evenly on a log
        scale from 1% of the devices to all of them).
    n_points : int, default 4
    n_targets : int, default 10_000
        Targets per size, drawn among the kept devices.
    knowledge : str, default "random"
    extrapolate_to : sequence of float
        Population sizes at which to report the model and the lower bound.
    rng : int, Generator or None

    Returns
    -------
    PopulationCurve
        ``table``, ``fit`` and ``extrapolation``.

    Notes
    -----
    Subsets are nested (one random ordering of the devices, growing
    prefixes), so each curve is as smooth as the sampling allows. A bigger
    dataset holds more look-alikes, so unicity falls, but slowly:
    Farzanehfar et al. proved that unicity is a convex function of the
    number of people, ``U(n) = E[(1 - P)^(n - 1)]`` where P is the chance
    that a random other person matches a target's points. Two things are
    fitted here:

    * a convex model of that exact form, with P drawn from a Beta(a, b)
      distribution (our choice of family; the paper builds P from three
      population-wide marginal distributions), which gives
      ``U(n) = B(a, b + n - 1) / B(a, b)``, fitted by least squares;
    * the paper's linear lower bound: a convex decreasing curve stays above
      any chord extended beyond it, so the line through the two largest
      measured sizes, continued, can only underestimate unicity.

    References
    ----------
    .. [1] Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk
       of re-identification remains high even in country-scale location
       datasets. Patterns 2(3):100204.
    """
    rng = np.random.default_rng(rng)
    p = _check_p(n_points)
    n_targets = _check_targets(n_targets)
    index = as_index(traces)
    n_all = index.n_devices
    if sizes is None:
        lo = max(10, n_all // 100)
        sizes = np.unique(np.geomspace(lo, n_all, 8).round().astype(int))
    sizes = sorted({int(s) for s in sizes})
    if not sizes or sizes[0] < 1 or sizes[-1] > n_all:
        raise FewpointsError(f"sizes must be between 1 and the {n_all:,} devices of the table")
    order = rng.permutation(n_all)
    rows = []
    for n in sizes:
        members = np.zeros(n_all, dtype=bool)
        members[order[:n]] = True
        res = _unicity(index, p, n_targets, knowledge, rng, members=members)
        rows.append({"n_devices": n, **_curve_row(res)})
    table = pd.DataFrame(rows)
    a, b, rmse = fit_population_model(table["n_devices"], table["unicity"])
    table["fitted"] = _beta_unicity(table["n_devices"].to_numpy(float), a, b)
    if len(table) >= 2:
        (n1, u1), (n2, u2) = table[["n_devices", "unicity"]].to_numpy(float)[-2:]
        slope = min(0.0, (u2 - u1) / (n2 - n1))
    else:
        slope = float("nan")
    fit = {"a": a, "b": b, "rmse": rmse, "slope": slope}
    out = PopulationCurve(table=table, fit=fit, extrapolation=pd.DataFrame())
    ex = np.asarray(extrapolate_to, dtype=float)
    out.extrapolation = pd.DataFrame(
        {"n_devices": ex, "model": out.predict(ex), "lower_bound": out.lower_bound(ex)}
    )
    return out
