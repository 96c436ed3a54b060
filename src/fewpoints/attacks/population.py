"""Population size: bigger crowds do not hide you (Farzanehfar et al. 2021).

Two ways a dataset grows, both measured:

* **subsets** (``axis="subsets"``): nested random subsets of one dataset,
  the published design. A broker with a larger market share sees more of
  the same people, in the same streets.
* **towns** (``axis="towns"``): the same world grown town by town (a broker
  covering more of the country); needs each device's home town, as a
  region world has (:mod:`fewpoints.synth.region`).

:func:`population_table` measures unicity for several p, sizes and both
axes at once, on the in-memory engine or on the Dask engine (the same
targets, points and anonymity sets for the same seed).
:func:`population_curve` adds a convex model fitted to one series and the
linear lower bound extended to country scale; the published model of the
same paper, built from three marginal distributions of the data, is
:func:`fit_marginals` and :func:`marginals_unicity`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.dask_engine import is_dask_frame
from fewpoints.attacks.draws import floyd_sample, sample_targets
from fewpoints.attacks.index import as_index
from fewpoints.attacks.result import curve_row, wilson_interval
from fewpoints.attacks.unicity import unicity_on_index
from fewpoints.common import check_points, check_targets
from fewpoints.schema import FewpointsError

__all__ = [
    "AXES",
    "PopulationCurve",
    "PopulationMeasurement",
    "fit_population_model",
    "population_curve",
    "population_table",
    "scale_tables",
]

#: The two ways a dataset grows (see the module docstring).
AXES = ("subsets", "towns")


@dataclass
class PopulationCurve:
    """Unicity as the dataset grows, with a convex model and a linear lower bound.

    Attributes
    ----------
    table : DataFrame
        ``n_devices``, ``n_points``, ``unicity``, ``ci_low``, ``ci_high``,
        ``n_targets``, ``fitted`` (and ``axis``, ``n_towns`` when measured
        by :func:`population_table`).
    fit : dict
        ``a``, ``b`` (Beta distribution of the match probability), ``rmse``,
        ``fit_from`` (the smallest size the model was fitted on) and
        ``slope`` of the lower-bound line (unicity per device).
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

    @classmethod
    def from_table(
        cls,
        table: pd.DataFrame,
        *,
        extrapolate_to: Sequence[float] = (1e6, 1e7, 6e7),
        fit_from: float | None = None,
    ) -> PopulationCurve:
        """Fit the model and the lower bound to measured rows of one series (one p, one axis).

        ``table`` needs ``n_devices`` and ``unicity`` (e.g. rows of the shipped
        scale table, ``synthetic_data/population_scale.csv``); the model is
        fitted on the sizes of at least ``fit_from`` devices (default: all),
        the lower bound drawn through the two largest.
        """
        table = table.sort_values("n_devices").reset_index(drop=True).copy()
        if "n_points" in table and table["n_points"].nunique() > 1:
            raise FewpointsError("a population curve is one series: rows of several p given")
        if "axis" in table and table["axis"].nunique() > 1:
            raise FewpointsError("a population curve is one series: rows of both axes given")
        n = table["n_devices"].to_numpy(float)
        use = n >= (fit_from or 0)
        if use.sum() < 2:
            use[-2:] = True
        a, b, rmse = fit_population_model(n[use], table["unicity"].to_numpy(float)[use])
        table["fitted"] = _beta_unicity(n, a, b)
        if len(table) >= 2:
            (n1, u1), (n2, u2) = table[["n_devices", "unicity"]].to_numpy(float)[-2:]
            slope = min(0.0, (u2 - u1) / (n2 - n1))
        else:
            slope = float("nan")
        fit = {"a": a, "b": b, "rmse": rmse, "slope": slope, "fit_from": float(n[use].min())}
        out = cls(table=table, fit=fit, extrapolation=pd.DataFrame())
        ex = np.asarray(extrapolate_to, dtype=float)
        out.extrapolation = pd.DataFrame(
            {"n_devices": ex, "model": out.predict(ex), "lower_bound": out.lower_bound(ex)}
        )
        return out

    def __repr__(self) -> str:
        ex = ", ".join(
            f"{r.n_devices:,.0f}: {r.model:.1%} (>= {r.lower_bound:.1%})"
            for r in self.extrapolation.itertuples()
        )
        return f"PopulationCurve({len(self.table)} sizes; extrapolated {ex})"


#: The measured scale table and the paper's model on the same region, as
#: ``benchmarks/bench_population.py`` writes them into ``synthetic_data/`` (and the wheel
#: carries them as ``fewpoints/data/``).
SCALE_TABLES = ("population_scale.csv", "population_model.csv")


def scale_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped scale table and the paper's model table: ``(measured, model)``.

    ``measured`` has one row per axis, size and p (``axis``, ``n_devices``,
    ``n_towns``, ``n_points``, ``unicity``, ``ci_low``, ``ci_high``,
    ``n_targets``, ``median_anonymity_set``) and ``model`` one per size and
    p (``n_devices``, ``n_points``, ``unicity``, ``ci_low``, ``ci_high``);
    both carry ``world``, ``world_command``, ``world_seed``, ``attack_seed``,
    ``engine``, ``command`` and ``version`` on every row. Measured on a
    synthetic region by ``benchmarks/bench_population.py`` (see
    ``synthetic_data/README.md``); nothing in them is typed by hand.
    """
    from importlib import resources
    from pathlib import Path

    out = []
    for name in SCALE_TABLES:
        packaged = resources.files("fewpoints").joinpath("data", name)
        checkout = Path(__file__).resolve().parents[3] / "synthetic_data" / name
        if packaged.is_file():
            with packaged.open("rb") as fh:
                out.append(pd.read_csv(fh))
        elif checkout.is_file():
            out.append(pd.read_csv(checkout))
        else:
            raise FewpointsError(
                f"the measured scale table {name} is missing from this install "
                "(benchmarks/bench_population.py writes it into synthetic_data/)"
            )
    measured, model = out
    measured["n_towns"] = measured["n_towns"].astype("Int64")
    return measured, model


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


def population_table(
    traces,
    sizes: Sequence[int] | None = None,
    *,
    n_points: Sequence[int] | int = (2, 3, 4, 5),
    axes: Sequence[str] | str = ("subsets",),
    towns=None,
    town_order: Sequence[int] | None = None,
    n_targets: int = 10_000,
    rng=None,
    progress=None,
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
    n_points : int or sequence of int, default (2, 3, 4, 5)
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
    ps = [check_points(p) for p in ([n_points] if np.isscalar(n_points) else n_points)]
    axes = [axes] if isinstance(axes, str) else list(axes)
    bad = [a for a in axes if a not in AXES]
    if bad or not axes:
        raise FewpointsError(
            f"unknown axis {bad[0] if bad else ''!r}; choose from {', '.join(AXES)}"
        )
    n_targets = check_targets(n_targets)
    dask = is_dask_frame(traces)
    if dask:
        from fewpoints.attacks import dask_engine

        ddf = dask_engine.select_columns(traces)
        ddf, counts = dask_engine.count_points(ddf, progress)
        device_ids, n_all = counts.device_ids, counts.n_devices
    else:
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
        _, target, holder = dask_engine.dask_holders(
            ddf, counts, requests, progress=progress, stages=("2/3", "3/3")
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
            n_points=[n_points],
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


# ---------------------------------------------------------------------------
# the published model: three marginals, a resampler, unicity at any size
# ---------------------------------------------------------------------------

#: Antennas in each synthetic person's cluster, and ranks kept in the frequency marginal
#: ("each person's top 10 locations", Farzanehfar et al. 2021).
CLUSTER_SIZE = 10


@dataclass
class Marginals:
    """The three population-wide marginal distributions of Farzanehfar et al. (2021).

    Attributes
    ----------
    activity : ndarray
        ``activity[a]``: share of people with ``a`` distinct points
        (a location and an hour), a = 0, 1, ...
    frequency : ndarray
        ``frequency[r]``: the mean share of a person's points at their
        ``r + 1``-th most visited location, over the top locations
        (renormalised to sum to 1).
    circadian : ndarray
        ``circadian[h]``: share of all points in hour ``h`` of the period
        (hours since the first hour of the data), so the day's and the
        week's rhythms are both in it.
    n_people : int
        People the marginals were estimated on.
    """

    activity: np.ndarray
    frequency: np.ndarray
    circadian: np.ndarray
    n_people: int = 0

    @property
    def n_hours(self) -> int:
        return int(self.circadian.size)

    def summary(self) -> dict:
        """A few numbers that describe the marginals (for tables and captions)."""
        a = np.arange(self.activity.size)
        cum = np.cumsum(self.activity)
        return {
            "people": int(self.n_people),
            "hours": self.n_hours,
            "points_mean": float((a * self.activity).sum()),
            "points_median": int(np.searchsorted(cum, 0.5)),
            "points_p99": int(np.searchsorted(cum, 0.99)),
            "top1_share": float(self.frequency[0]),
            "top2_share": float(self.frequency[1]) if self.frequency.size > 1 else 0.0,
            "top3_share": float(self.frequency[:3].sum()),
        }


def _marginal_counts(df: pd.DataFrame, top: int) -> dict:
    """Unnormalised marginals of one table (or partition) in which every device is whole.

    Points are distinct (location, hour) pairs of a device, whatever the
    table's own time resolution.
    """
    from fewpoints.attacks.dask_engine import factorize_devices, partition_columns
    from fewpoints.attacks.index import location_codes

    if len(df) == 0:
        return {"activity": np.zeros(1), "frequency": np.zeros(top), "n": 0, "h0": 0,
                "hours": np.zeros(0)}  # fmt: skip
    dev, x, y, t = partition_columns(df)
    dcode, ids = factorize_devices(dev)
    loc, loc_x, _ = location_codes(x, y)
    del x, y
    hour = t // 3600
    h0 = int(hour.min())
    hour -= h0
    n_h = int(hour.max()) + 1
    n_loc = len(loc_x)
    key = (dcode * n_loc + loc) * n_h + hour
    key = np.unique(key)
    d, lh = key // (n_loc * n_h), key % (n_loc * n_h)
    loc, hour = lh // n_h, lh % n_h
    n_dev = len(ids)
    per_dev = np.bincount(d, minlength=n_dev)
    # Points per (device, location), then each device's locations ranked by them.
    dl = d * n_loc + loc  # sorted, as key is
    first = np.r_[True, dl[1:] != dl[:-1]]
    run_dev = d[first]
    run_n = np.diff(np.r_[np.flatnonzero(first), dl.size])
    order = np.lexsort((-run_n, run_dev))
    run_dev, run_n = run_dev[order], run_n[order]
    start = np.searchsorted(run_dev, np.arange(n_dev))
    rank = np.arange(run_dev.size) - start[run_dev]
    keep = rank < top
    share = run_n[keep] / per_dev[run_dev[keep]]
    return {
        "activity": np.bincount(per_dev).astype(float),
        "frequency": np.bincount(rank[keep], weights=share, minlength=top),
        "n": n_dev,
        "h0": h0,
        "hours": np.bincount(hour).astype(float),
    }


def _combine_marginals(parts: list[dict], top: int) -> Marginals:
    parts = [q for q in parts if q["n"] > 0]
    if not parts:
        raise FewpointsError("the traces table is empty")
    n = sum(q["n"] for q in parts)
    activity = np.zeros(max(q["activity"].size for q in parts))
    frequency = np.zeros(top)
    h0 = min(q["h0"] for q in parts)
    hours = np.zeros(max(q["h0"] - h0 + q["hours"].size for q in parts))
    for q in parts:
        activity[: q["activity"].size] += q["activity"]
        frequency += q["frequency"]
        at = q["h0"] - h0
        hours[at : at + q["hours"].size] += q["hours"]
    return Marginals(
        activity=activity / activity.sum(),
        frequency=frequency / frequency.sum(),
        circadian=hours / hours.sum(),
        n_people=int(n),
    )


def fit_marginals(traces, *, top: int = CLUSTER_SIZE, progress=None) -> Marginals:
    """Estimate the three marginals of Farzanehfar et al. (2021) from a traces table.

    Parameters
    ----------
    traces : DataFrame or dask DataFrame
        Records located at antennas (or cells); times are taken to the hour.
        A Dask table is read once, partition by partition (each device must
        be in one partition, as ``generate --chunk-people`` writes them).
    top : int, default 10
        Locations per person kept in the frequency marginal.

    Returns
    -------
    Marginals

    Notes
    -----
    As the paper's summary puts it, the model takes "into account three
    population-wide marginal distributions" [1]_: how many points people
    have (activity), how their points spread over their most visited
    locations (the mean rank-frequency curve of each person's top 10
    locations), and when points happen (the distribution of points over the
    hours of the period).

    References
    ----------
    .. [1] Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk
       of re-identification remains high even in country-scale location
       datasets. Patterns 2(3):100204.
    """
    if is_dask_frame(traces):
        from fewpoints.attacks.dask_engine import dask_map, select_columns

        parts = dask_map(
            select_columns(traces), _marginal_counts, top, stage="marginals", progress=progress
        )
        return _combine_marginals(parts, top)
    return _combine_marginals([_marginal_counts(traces, top)], top)


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


def _draw_activity(
    activity: np.ndarray, n: int, rng, *, at_least: int = 0, most: int
) -> np.ndarray:
    w = activity.copy()
    w[: min(at_least, w.size)] = 0.0
    if w.sum() <= 0:
        raise FewpointsError(f"nobody in the marginals has {at_least} points")
    a = rng.choice(w.size, size=n, p=w / w.sum())
    return np.minimum(a, most)


def _hour_sets(circadian: np.ndarray, a: np.ndarray, rng) -> np.ndarray:
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
    freq = _frequency(marginals, cluster_size)
    clusters = grow_clusters(network, n_people, cluster_size, rng)
    a = _draw_activity(marginals.activity, n_people, rng, most=int((marginals.circadian > 0).sum()))
    person, hour = [], []
    for lo in range(0, n_people, 20_000):
        sets = _hour_sets(marginals.circadian, a[lo : lo + 20_000], rng)
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


def _frequency(marginals: Marginals, cluster_size: int) -> np.ndarray:
    f = np.zeros(cluster_size)
    m = min(cluster_size, marginals.frequency.size)
    f[:m] = marginals.frequency[:m]
    return f / f.sum()


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


def marginals_unicity(
    marginals: Marginals,
    antennas: pd.DataFrame,
    sizes: Sequence[float] = (1e5, 1e6, 1e7, 6e7),
    *,
    n_points: Sequence[int] | int = (4, 5),
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
    n_points : int or sequence of int, default (4, 5)
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
    ps = [check_points(p) for p in ([n_points] if np.isscalar(n_points) else n_points)]
    n_targets = check_targets(n_targets)
    network = antenna_network(antennas) if network is None else network
    n_ant = network[0].size - 1
    freq = _frequency(marginals, cluster_size)
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
    a = _draw_activity(marginals.activity, n_hour_sets, rng, most=most)
    bits = _hour_bits(w, a, rng)

    match = {}
    rows = []
    for p in ps:
        # Targets: synthetic people with at least p points, and p of their points.
        ta = _draw_activity(marginals.activity, n_targets, rng, at_least=p, most=most)
        own = grow_clusters(network, n_targets, cluster_size, rng)
        hours = np.empty((n_targets, p), dtype=np.int64)
        for lo in range(0, n_targets, 20_000):
            sets = _hour_sets(w, ta[lo : lo + 20_000], rng)
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
        sets = _hour_sets(w, a[lo : lo + step], rng)
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
