"""Unicity: how many devices do p known points single out?

The method of de Montjoye et al. (2013) and Farzanehfar et al. (2021): sample
target devices, take p of each target's points (what an attacker might know
about a person: where they were at a few moments), and count the devices
whose trace contains all p. The target is **unique** when that count, its
**anonymity set**, is 1: the p points point at one device and the rest of the
trace, with everything it reveals, belongs to the person the attacker knew
the points of.

Everything runs on a :class:`~fewpoints.attacks.index.PointIndex` (built from
the table on each call unless you pass one). The sampling helpers here are
shared by the other point attacks (``worst_case``, ``resolution``,
``population``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from fewpoints.attacks.draws import KNOWLEDGE, draw_random, floyd_sample, sample_targets
from fewpoints.attacks.index import WINDOW_LABELS, PointIndex, as_index
from fewpoints.attacks.result import UnicityResult, curve_row, unique_share, wilson_interval
from fewpoints.common import check_points, check_targets, renamed
from fewpoints.scale import is_dask_frame
from fewpoints.schema import FewpointsError

__all__ = [
    "KNOWLEDGE",
    "UnicityResult",
    "unicity",
    "unicity_curve",
    "wilson_interval",
]


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# drawing targets and their points
# ---------------------------------------------------------------------------


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
        local = floyd_sample(m, p, rng)
        return index.nth_points(targets, local)
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
    value, lo, hi = unique_share(sizes)
    return UnicityResult(
        value=value,
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


def unicity_on_index(index, p, n_targets, knowledge, rng, members=None) -> UnicityResult:
    if knowledge == "home_work" and p > 2:
        raise FewpointsError("home_work knowledge has at most 2 points (home, then work)")
    targets, n_eligible = sample_targets(index, p, n_targets, knowledge, rng, members)
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
    traces : DataFrame, PointIndex or dask DataFrame
        A ``traces`` table (``device_id, time, x_km, y_km``), raw or coarsened,
        or an index built from one with ``PointIndex.from_traces`` (faster
        when called repeatedly), or a ``dask.dataframe`` of one too large for
        memory (``fewpoints[scale]``; :mod:`fewpoints.attacks.dask_engine`),
        which gives the same targets, points and anonymity sets for the
        same ``rng`` (``knowledge="random"`` only).
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

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_traces()

    Phones ``a`` and ``c`` were at the same two places at the same two hours;
    ``b`` went elsewhere in the evening. Knowing both points of each phone
    singles out ``b`` alone:

    >>> result = unicity(traces, 2, n_targets=3, rng=0)
    >>> round(result.value, 3)
    0.333
    >>> result.targets["anonymity_set_size"].tolist()
    [2, 1, 2]
    """
    rng = np.random.default_rng(rng)
    p = check_points(n_points)
    n_targets = check_targets(n_targets)
    if knowledge not in KNOWLEDGE:
        raise FewpointsError(
            f"unknown knowledge {knowledge!r}; choose one of {', '.join(KNOWLEDGE)}"
        )
    if is_dask_frame(traces):
        from fewpoints.scale import dask_unicity

        return dask_unicity(traces, [p], n_targets=n_targets, knowledge=knowledge, rng=rng)[0][0]
    return unicity_on_index(as_index(traces), p, n_targets, knowledge, rng)


@renamed(n_points="n_points_range")
def unicity_curve(
    traces,
    n_points_range: Iterable[int] = range(1, 11),
    *,
    n_targets: int = 10_000,
    knowledge: str = "random",
    rng=None,
) -> pd.DataFrame:
    """Unicity for several numbers of known points, on one index.

    Parameters
    ----------
    traces : DataFrame, PointIndex or dask DataFrame
        As in :func:`unicity`; a table is indexed once for all p, and a Dask
        table is read three times for all p together.
    n_points_range : iterable of int, default 1 to 10
        The numbers of known points p to measure (``n_points=`` is its
        deprecated name).
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
    if is_dask_frame(traces):
        from fewpoints.scale import dask_unicity

        ps = [check_points(p) for p in n_points_range]
        n_targets = check_targets(n_targets)
        results, _ = dask_unicity(traces, ps, n_targets=n_targets, knowledge=knowledge, rng=rng)
        return pd.DataFrame([curve_row(r) for r in results])
    index = as_index(traces)
    if knowledge == "random":
        rows = _random_curve(index, n_points_range, n_targets, rng)
        return pd.DataFrame([curve_row(r) for r in rows])
    rows = []
    for p in n_points_range:
        res = unicity(index, p, n_targets=n_targets, knowledge=knowledge, rng=rng)
        rows.append(curve_row(res))
    return pd.DataFrame(rows)


def _random_curve(index: PointIndex, n_points, n_targets, rng) -> list[UnicityResult]:
    """``unicity`` with random points for each p in turn, the targets' points read in one pass.

    The generator is called exactly as by ``unicity`` for each p in turn
    (targets, then point ranks), so the results are identical; only the
    look-up of the drawn points is shared.
    """
    draws = draw_random(index, n_points, check_targets(n_targets), rng)
    found = index.nth_points_batch([(targets, local) for _, targets, local, _ in draws])
    results = []
    for (p, targets, _, n_eligible), items in zip(draws, found, strict=True):
        sizes = index.points.anonymity_sets(items)
        results.append(
            _result(index, targets, items, sizes, p, "random", index.n_devices, n_eligible)
        )
    return results
