"""Population size: bigger crowds do not hide you (Farzanehfar et al. 2021).

Unicity measured in nested random subsets of growing size, a convex model
fitted to it, and the linear lower bound extended to country scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.attacks.index import as_index
from fewpoints.attacks.unicity import _check_p, _check_targets, _curve_row, _unicity
from fewpoints.schema import FewpointsError

__all__ = ["PopulationCurve", "fit_population_model", "population_curve"]


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
