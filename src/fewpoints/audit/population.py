"""The population bounds: what a larger release of the same kind would do.

:func:`population_bounds` is the one place the audit asks the population
work (:func:`fewpoints.attacks.population_curve`), with the subset sizes and
the extrapolation targets an audit uses.
"""

from __future__ import annotations

import numpy as np


def population_bounds(index, *, n_targets: int = 5_000, n_points: int = 4, rng=None):
    """What a larger release would do: unicity in nested subsets, the model and its lower bound.

    The one place the audit asks the population work (Farzanehfar et al.
    2021), so that a better model is one change: today
    :func:`fewpoints.attacks.population_curve` (nested random subsets of the
    devices, a convex Beta model fitted to them, and the straight-line lower
    bound through the two largest subsets), extrapolated to 10 and 100 times
    the file's devices and to the 60 million people of the published study.
    """
    from fewpoints.attacks import population_curve

    n = index.n_devices
    far = sorted({float(10 * n), float(100 * n), 6e7} - {float(n)})
    far = [v for v in far if v > n]
    lo = min(max(10, n // 100), n)
    sizes = np.unique(np.geomspace(lo, n, 8).round().astype(int)) if n > lo else [n]
    return population_curve(
        index, sizes, n_points=n_points, n_targets=n_targets, extrapolate_to=far, rng=rng
    )
