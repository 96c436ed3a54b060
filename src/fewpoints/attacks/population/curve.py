"""The population curve: a convex Beta model fitted to unicity by size, and the linear lower bound.

:class:`PopulationCurve` holds one measured series (one p, one axis), the
model ``U(n) = B(a, b + n - 1) / B(a, b)`` fitted to it by least squares
(:func:`fit_population_model`) and the chord through its two largest sizes,
continued: a lower bound for any convex decreasing curve (Farzanehfar et
al. 2021).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.common import FewpointsDeprecationWarning, OneRow, deprecation
from fewpoints.compat import DictAccess
from fewpoints.schema import FewpointsError


@dataclass(frozen=True)
class PopulationFit(OneRow, DictAccess):
    """The convex model and the lower bound fitted to one series (:attr:`PopulationCurve.fit`).

    Attributes
    ----------
    a, b : float
        The Beta distribution of the match probability, ``U(n) = B(a, b +
        n - 1) / B(a, b)``.
    rmse : float
        Root mean square error of the model on the sizes it was fitted on.
    slope : float
        Slope of the lower-bound line (unicity per device, never above 0;
        NaN with fewer than two sizes).
    fit_from : float
        The smallest size the model was fitted on.

    Notes
    -----
    It used to be a dict: ``curve.fit["a"]`` still works for one release,
    with a :class:`~fewpoints.common.FewpointsDeprecationWarning`; read
    ``curve.fit.a`` (``.to_frame()``: the same as a one-row table).
    """

    a: float
    b: float
    rmse: float
    slope: float
    fit_from: float


@dataclass
class PopulationCurve:
    """Unicity as the dataset grows, with a convex model and a linear lower bound.

    Attributes
    ----------
    table : DataFrame
        ``n_devices``, ``n_points``, ``unicity``, ``ci_low``, ``ci_high``,
        ``n_targets``, ``fitted`` (and ``axis``, ``n_towns`` when measured
        by :func:`population_table`).
    fit : PopulationFit
        ``a``, ``b`` (Beta distribution of the match probability), ``rmse``,
        ``fit_from`` (the smallest size the model was fitted on) and
        ``slope`` of the lower-bound line (unicity per device).
    extrapolation : DataFrame
        ``n_devices``, ``model`` (the fitted convex curve), ``lower_bound``.
    """

    table: pd.DataFrame
    fit: PopulationFit
    extrapolation: pd.DataFrame

    def __post_init__(self) -> None:
        # A curve built by hand with the old dict still works (fit_from NaN if it lacks one).
        if isinstance(self.fit, dict):
            warnings.warn(
                deprecation("PopulationCurve(fit={...})", "fit=PopulationFit(...)"),
                FewpointsDeprecationWarning,
                stacklevel=3,
            )
            self.fit = PopulationFit(**{"fit_from": float("nan"), **self.fit})

    def predict(self, n_devices) -> np.ndarray:
        """The fitted model's unicity at ``n_devices``."""
        return _beta_unicity(np.asarray(n_devices, dtype=float), self.fit.a, self.fit.b)

    def lower_bound(self, n_devices) -> np.ndarray:
        """The linear lower bound at ``n_devices`` (never below 0)."""
        n = np.asarray(n_devices, dtype=float)
        last = self.table.iloc[-1]
        return np.clip(last["unicity"] + self.fit.slope * (n - last["n_devices"]), 0.0, 1.0)

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

        Examples
        --------
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"n_devices": [1e3, 1e4, 1e5], "unicity": [0.9, 0.8, 0.7]})
        >>> curve = PopulationCurve.from_table(rows, extrapolate_to=[2e5, 1e6])
        >>> curve.fit.fit_from, round(curve.fit.slope * 90_000, 3)  # the chord loses 0.1
        (1000.0, -0.1)
        >>> curve.extrapolation["lower_bound"].round(3).tolist()  # continued, never below 0
        [0.589, 0.0]
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
            slope = float(min(0.0, (u2 - u1) / (n2 - n1)))
        else:
            slope = float("nan")
        fit = PopulationFit(a=a, b=b, rmse=rmse, slope=slope, fit_from=float(n[use].min()))
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
