"""The population bounds: what a larger release of the same kind would do.

:func:`population_bounds` is the one place the audit asks the population
work (:func:`fewpoints.attacks.population_table`), with the subset sizes and
the extrapolation targets an audit uses, on either engine.
"""

from __future__ import annotations

import numpy as np


def bounds_sizes(n: int) -> tuple[list[int], list[float]]:
    """The nested subset sizes an audit of ``n`` devices measures, and the sizes it extrapolates to.

    Eight sizes evenly spaced on a log scale from 1% of the devices (at
    least 10) to all of them; 10 and 100 times the file's devices and the
    60 million people of the published study.
    """
    far = sorted({float(10 * n), float(100 * n), 6e7} - {float(n)})
    far = [v for v in far if v > n]
    lo = min(max(10, n // 100), n)
    sizes = np.unique(np.geomspace(lo, n, 8).round().astype(int)) if n > lo else [n]
    return [int(s) for s in sizes], far


def population_bounds(
    traces,
    *,
    n_devices: int | None = None,
    counts=None,
    n_targets: int = 5_000,
    n_points: int = 4,
    rng=None,
    progress=None,
):
    """What a larger release would do: unicity in nested subsets, the model and its lower bound.

    The one place the audit asks the population work (Farzanehfar et al.
    2021), so that a better model is one change: nested random subsets of
    the devices (:func:`fewpoints.attacks.population_table`), a convex Beta
    model fitted to them, and the straight-line lower bound through the two
    largest subsets (:class:`fewpoints.attacks.PopulationCurve`),
    extrapolated to the sizes of :func:`bounds_sizes`.

    Parameters
    ----------
    traces : PointIndex or dask DataFrame
        The file indexed in memory, or read by the Dask engine (each device
        in one partition): the same seed gives the same subsets, targets,
        points and numbers on both.
    n_devices : int, optional
        The devices of a Dask frame, when an earlier pass counted them
        (default: counted here, one more read of the data).
    counts : DeviceCounts, optional
        A Dask frame's points per device from an earlier pass 1 over it (the
        sweep's): the population work then reads the frame twice, not three
        times, with the same numbers.
    n_targets : int, default 5_000
        Targets per subset size.
    n_points : int, default 4
    rng : int, Generator or None
    progress : callable, optional
        ``progress(stage, fraction)``; the Dask engine reports its passes,
        each named "population bounds, pass k/3: ..." (k/2 given ``counts``).

    Returns
    -------
    PopulationCurve
    """
    from fewpoints.attacks.population import PopulationCurve, population_table
    from fewpoints.scale import is_dask_frame

    if n_devices is None and counts is not None:
        n_devices = counts.n_devices
    if n_devices is None:
        dask = is_dask_frame(traces)
        n_devices = int(traces["device_id"].nunique().compute()) if dask else traces.n_devices
    sizes, far = bounds_sizes(int(n_devices))
    report = progress or (lambda stage, fraction: None)
    measured = population_table(
        traces,
        sizes,
        n_points_range=[n_points],
        axes=["subsets"],
        n_targets=n_targets,
        rng=np.random.default_rng(rng),
        progress=lambda stage, fraction: report(f"population bounds, {stage}", fraction),
        counts=counts,
    )
    return PopulationCurve.from_table(measured.table, extrapolate_to=far)
