"""Unicity as a dataset grows: nested random subsets, or a world grown town by town.

:func:`population_table` measures unicity for several p, sizes and both
axes at once, on the in-memory engine or on the Dask engine (the same
targets, points and anonymity sets for the same seed);
:func:`population_curve` measures one series and fits a
:class:`~fewpoints.attacks.population.curve.PopulationCurve` to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.draws import floyd_sample, sample_targets
from fewpoints.attacks.index import as_index
from fewpoints.attacks.population.curve import PopulationCurve
from fewpoints.attacks.result import curve_row, wilson_interval
from fewpoints.attacks.unicity import unicity_on_index
from fewpoints.common import check_points, check_targets, renamed
from fewpoints.scale import is_dask_frame
from fewpoints.schema import FewpointsError

#: The two ways a dataset grows (see the module docstring).
AXES = ("subsets", "towns")


@dataclass
class PopulationMeasurement:
    """Unicity measured for several sizes, numbers of points and axes, with its evidence.

    Attributes
    ----------
    table : DataFrame
        One row per (axis, size, p): ``axis``, ``n_devices``, ``n_towns``
        (towns covered: the towns axis; all of them for subsets of a world
        with towns), ``n_points``, ``unicity``, ``ci_low``, ``ci_high``,
        ``n_targets``, ``median_anonymity_set``.
    targets : DataFrame
        ``axis``, ``n_devices``, ``n_points``, ``device_id``,
        ``anonymity_set_size``: every target's anonymity set, to check by hand.
    """

    table: pd.DataFrame
    targets: pd.DataFrame

    def curve(self, n_points: int = 4, axis: str = "subsets", **kwargs) -> PopulationCurve:
        """The :class:`PopulationCurve` of one series (see :meth:`PopulationCurve.from_table`)."""
        t = self.table
        rows = t[(t["n_points"] == n_points) & (t["axis"] == axis)]
        if rows.empty:
            raise FewpointsError(f"no {axis} rows measured with {n_points} points")
        return PopulationCurve.from_table(rows, **kwargs)


def _arrow(values):
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if hasattr(values, "__arrow_array__"):
        return pa.array(values)
    return pa.array(np.asarray(values, dtype=object).astype(str))


def _device_towns(device_ids, towns) -> np.ndarray:
    """The town of each device of ``device_ids`` (in that order), from a mapping or a world."""
    import pyarrow.compute as pc

    if hasattr(towns, "people") and hasattr(towns, "places"):
        from fewpoints.synth.region import device_towns

        towns = device_towns(towns.people, towns.places)
    if isinstance(towns, pd.Series):
        towns = pd.DataFrame({"device_id": towns.index.astype(str), "town": towns.to_numpy()})
    if not isinstance(towns, pd.DataFrame) or not {"device_id", "town"} <= set(towns.columns):
        raise FewpointsError(
            "towns must be a world with towns, a table of device_id and town, or a Series "
            "of towns indexed by device_id"
        )
    pos = pc.index_in(_arrow(device_ids), value_set=_arrow(towns["device_id"].astype(str)))
    missing = int(pos.null_count)
    if missing:
        raise FewpointsError(f"{missing:,} device(s) of the traces have no town in `towns`")
    return towns["town"].to_numpy(dtype=np.int64)[np.asarray(pos.to_numpy(zero_copy_only=False))]


def _orderings(n_all, axes, sizes, device_ids, towns, town_order, rng):
    """Per axis: each device's rank in the order devices are added, and the sizes measured.

    Returns a list of ``(axis, rank, [(n_devices, n_towns), ...])``. Subsets
    take the first n of one random order; towns are added whole, in
    ``town_order`` (default: a random order), so a size is the smallest
    number of towns holding at least the size asked for.
    """
    out = []
    codes = None
    for axis in axes:
        if axis == "subsets":
            order = rng.permutation(n_all)
            rank = np.empty(n_all, dtype=np.int64)
            rank[order] = np.arange(n_all)
            n_towns = None
            if towns is not None:
                codes = _device_towns(device_ids, towns) if codes is None else codes
                n_towns = int(np.unique(codes).size)
            out.append(("subsets", rank, [(n, n_towns) for n in sizes]))
            continue
        if towns is None:
            raise FewpointsError(
                "the towns axis needs each device's home town: pass towns= (a region world, "
                "or a table of device_id and town)"
            )
        codes = _device_towns(device_ids, towns) if codes is None else codes
        present = np.unique(codes)
        if town_order is None:
            order = present[rng.permutation(present.size)]
        else:
            order = np.asarray(town_order, dtype=np.int64)
            order = order[np.isin(order, present)]
            if np.unique(order).size != present.size:
                raise FewpointsError("town_order must list every town the devices live in, once")
        position = np.full(int(max(present.max(), order.max())) + 1, -1, dtype=np.int64)
        position[order] = np.arange(order.size)
        tie = rng.permutation(n_all)
        added = np.lexsort((tie, position[codes]))
        rank = np.empty(n_all, dtype=np.int64)
        rank[added] = np.arange(n_all)
        bounds = np.cumsum(np.bincount(position[codes], minlength=order.size))
        snapped = {}
        for n in sizes:
            k = int(np.searchsorted(bounds, n))
            snapped[int(bounds[k])] = k + 1
        out.append(("towns", rank, sorted(snapped.items())))
    return out


def _check_sizes(sizes, n_all: int) -> list[int]:
    if sizes is None:
        lo = max(10, n_all // 100)
        sizes = np.unique(np.geomspace(lo, n_all, 8).round().astype(int))
    sizes = sorted({int(s) for s in sizes})
    if not sizes or sizes[0] < 1 or sizes[-1] > n_all:
        raise FewpointsError(f"sizes must be between 1 and the {n_all:,} devices of the table")
    return sizes


@renamed(n_points="n_points_range")
def population_table(
    traces,
    sizes: Sequence[int] | None = None,
    *,
    n_points_range: Sequence[int] | int = (2, 3, 4, 5),
    axes: Sequence[str] | str = ("subsets",),
    towns=None,
    town_order: Sequence[int] | None = None,
    n_targets: int = 10_000,
    rng=None,
    progress=None,
    counts=None,
) -> PopulationMeasurement:
    """Unicity with random points in datasets of growing size, along one or both axes.

    Parameters
    ----------
    traces : DataFrame, PointIndex or dask DataFrame
        The whole dataset. A Dask table (``fewpoints[scale]``) is read four
        times whatever the number of sizes, p and axes (three when it has
        every device in one partition, as ``generate --chunk-people``
        writes it, plus a check).
    sizes : sequence of int, optional
        Numbers of devices (default: 8 sizes evenly spaced on a log scale
        from 1% of the devices to all). On the towns axis each is rounded up
        to whole towns.
    n_points_range : int or sequence of int, default (2, 3, 4, 5)
        The numbers of known points p (``n_points=`` is its deprecated name).
    axes : str or sequence of {"subsets", "towns"}, default ("subsets",)
    towns : World, DataFrame or Series, optional
        Each device's home town (``device_id``, ``town``), or a region world
        to read them from; needed by the towns axis.
    town_order : sequence of int, optional
        The order towns are added in (default: random); for a region,
        :func:`fewpoints.synth.region.coverage_order` spreads from a corner.
    n_targets : int, default 10_000
        Targets per (axis, size, p), drawn among the devices of that size.
    rng : int, Generator or None
    progress : callable, optional
        ``progress(stage, fraction)`` (the Dask engine's passes).
    counts : DeviceCounts, optional
        A Dask table's points per device, when an earlier pass 1 counted
        them on this very table (every device in one partition), as the
        Dask audit's sweep does: the count is not read again, so the table
        is read twice, not three times (passes "1/2" and "2/2").

    Returns
    -------
    PopulationMeasurement
        ``table`` (one row per axis, size and p) and ``targets``.

    Notes
    -----
    Each axis draws one random order of the devices (for towns: of the
    towns, then of the devices within them); size n keeps the first n
    devices, so the datasets of an axis are nested. For each size and p
    the targets are drawn among the kept devices and their p points from
    their own traces, and a target's anonymity set counts the kept devices
    holding all p. Both engines make the same random draws in the same
    order, so they give identical anonymity sets for the same ``rng``.
    """
    rng = np.random.default_rng(rng)
    ps = [
        check_points(p)
        for p in ([n_points_range] if np.isscalar(n_points_range) else n_points_range)
    ]
    axes = [axes] if isinstance(axes, str) else list(axes)
    bad = [a for a in axes if a not in AXES]
    if bad or not axes:
        raise FewpointsError(
            f"unknown axis {bad[0] if bad else ''!r}; choose from {', '.join(AXES)}"
        )
    n_targets = check_targets(n_targets)
    dask = is_dask_frame(traces)
    if dask:
        from fewpoints import scale

        ddf = scale.select_columns(traces)
        stages = ("2/3", "3/3") if counts is None else ("1/2", "2/2")
        if counts is None:
            ddf, counts = scale.count_points(ddf, progress)
        device_ids, n_all = counts.device_ids, counts.n_devices
    else:
        if counts is not None:
            raise FewpointsError("counts= is for a Dask table; a table in memory is counted here")
        index = as_index(traces)
        counts, device_ids, n_all = index, index.device_ids, index.n_devices
    sizes = _check_sizes(sizes, n_all)
    orders = _orderings(n_all, axes, sizes, device_ids, towns, town_order, rng)

    draws = []  # (axis number, n_devices, n_towns, p, targets, ranks, n_eligible)
    for a, (_, rank, measured) in enumerate(orders):
        for n, n_towns in measured:
            members = rank < n
            for p in ps:
                targets, n_eligible = sample_targets(counts, p, n_targets, "random", rng, members)
                local = floyd_sample(counts.points_per_device()[targets], p, rng)
                draws.append((a, n, n_towns, p, targets, local, n_eligible))
    requests = [(d[4], d[5]) for d in draws]

    if dask:
        _, target, holder = scale.dask_holders(
            ddf, counts, requests, progress=progress, stages=stages
        )
        axis_of = np.concatenate([np.full(len(d[4]), d[0]) for d in draws])
        limit_of = np.concatenate([np.full(len(d[4]), d[1]) for d in draws])
        ranks = np.stack([r for _, r, _ in orders])
        keep = ranks[axis_of[target], holder] < limit_of[target]
        all_sets = np.bincount(target[keep], minlength=len(axis_of)).astype(np.int64)
        bounds = np.cumsum([0] + [len(d[4]) for d in draws])
        set_sizes = [all_sets[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        ids = counts.ids
    else:
        items = index.nth_points_batch(requests)
        set_sizes = []
        for (a, n, _, _, _, _, _), it in zip(draws, items, strict=True):
            members = orders[a][1] < n
            set_sizes.append(index.points.anonymity_sets(it, members=members))

        def ids(codes):
            return index.device_ids[codes]

    rows, per_target = [], []
    for (a, n, n_towns, p, targets, _, _), s in zip(draws, set_sizes, strict=True):
        k = int((s == 1).sum())
        lo, hi = wilson_interval(k, len(targets))
        axis = orders[a][0]
        rows.append(
            {
                "axis": axis,
                "n_devices": n,
                "n_towns": n_towns,
                "n_points": p,
                "unicity": k / len(targets),
                "ci_low": lo,
                "ci_high": hi,
                "n_targets": len(targets),
                "median_anonymity_set": float(np.median(s)),
            }
        )
        per_target.append(
            pd.DataFrame(
                {
                    "axis": axis,
                    "n_devices": n,
                    "n_points": p,
                    "device_id": ids(targets),
                    "anonymity_set_size": s,
                }
            )
        )
    table = pd.DataFrame(rows)
    table["n_towns"] = table["n_towns"].astype("Int64")
    return PopulationMeasurement(table=table, targets=pd.concat(per_target, ignore_index=True))


def population_curve(
    traces,
    sizes: Sequence[int] | None = None,
    *,
    n_points: int = 4,
    n_targets: int = 10_000,
    knowledge: str = "random",
    axis: str = "subsets",
    towns=None,
    town_order: Sequence[int] | None = None,
    extrapolate_to: Sequence[float] = (1e6, 1e7, 6e7),
    fit_from: float | None = None,
    rng=None,
) -> PopulationCurve:
    """Unicity in datasets of growing size, and where the trend leads.

    Parameters
    ----------
    traces : DataFrame, PointIndex or dask DataFrame
    sizes : sequence of int, optional
        Numbers of devices to keep (default: 8 sizes spaced evenly on a log
        scale from 1% of the devices to all of them).
    n_points : int, default 4
    n_targets : int, default 10_000
        Targets per size, drawn among the kept devices.
    knowledge : str, default "random"
        ``"top"`` and ``"home_work"`` are measured on random subsets, in memory.
    axis : {"subsets", "towns"}, default "subsets"
        Random nested subsets of the dataset (a broker with a larger market
        share), or the world grown town by town (a broker covering more of
        the country; needs ``towns``). See :func:`population_table`.
    towns, town_order
        For the towns axis, see :func:`population_table`.
    extrapolate_to : sequence of float
        Population sizes at which to report the model and the lower bound.
    fit_from : float, optional
        Fit the model on the measured sizes of at least this many devices
        (default: all).
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
      population-wide marginal distributions, see :func:`marginals_unicity`),
      which gives ``U(n) = B(a, b + n - 1) / B(a, b)``, fitted by least squares;
    * the paper's linear lower bound: a convex decreasing curve stays above
      any chord extended beyond it, so the line through the two largest
      measured sizes, continued, can only underestimate unicity.

    Adding towns is a different experiment: the people of a new town are
    rarely at the antennas of the towns already covered, so they add few
    look-alikes and unicity barely moves.

    References
    ----------
    .. [1] Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk
       of re-identification remains high even in country-scale location
       datasets. Patterns 2(3):100204.
    """
    if knowledge == "random":
        measured = population_table(
            traces,
            sizes,
            n_points_range=[n_points],
            axes=[axis],
            towns=towns,
            town_order=town_order,
            n_targets=n_targets,
            rng=rng,
        )
        return PopulationCurve.from_table(
            measured.table, extrapolate_to=extrapolate_to, fit_from=fit_from
        )
    if axis != "subsets":
        raise FewpointsError("top and home_work knowledge are measured on random subsets only")
    rng = np.random.default_rng(rng)
    p = check_points(n_points)
    n_targets = check_targets(n_targets)
    index = as_index(traces)
    n_all = index.n_devices
    sizes = _check_sizes(sizes, n_all)
    order = rng.permutation(n_all)
    rows = []
    for n in sizes:
        members = np.zeros(n_all, dtype=bool)
        members[order[:n]] = True
        res = unicity_on_index(index, p, n_targets, knowledge, rng, members=members)
        rows.append({"axis": "subsets", "n_devices": n, **curve_row(res)})
    return PopulationCurve.from_table(
        pd.DataFrame(rows), extrapolate_to=extrapolate_to, fit_from=fit_from
    )
