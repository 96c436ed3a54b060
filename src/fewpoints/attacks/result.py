"""The result of a unicity test: the share singled out and its Wilson interval."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from fewpoints.schema import FewpointsError


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

    Examples
    --------
    >>> low, high = wilson_interval(5, 10)
    >>> round(low, 3), round(high, 3)
    (0.237, 0.763)
    >>> round(wilson_interval(5, 5)[0], 3), wilson_interval(5, 5)[1]
    (0.566, 1.0)
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


def unique_share(sizes) -> tuple[float, float, float]:
    """Share of anonymity sets of exactly one and its 95% Wilson interval: ``(value, low, high)``."""
    sizes = np.asarray(sizes)
    k = int((sizes == 1).sum())
    low, high = wilson_interval(k, len(sizes))
    return k / len(sizes), low, high


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


def curve_row(res: UnicityResult) -> dict:
    return {
        "n_points": res.n_points,
        "unicity": res.value,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "n_targets": res.n_targets,
        "median_anonymity_set": float(res.targets["anonymity_set_size"].median()),
        "knowledge": res.knowledge,
    }
