"""The audit in memory: every analysis of the report run on a traces table, in one call.

:func:`audit` indexes the points once and measures, from the table alone,
the unicity curve, the coarsening table, home/work and top-n anonymity sets,
the population bounds, the per-device risk and (with places) the visits
near sensitive places; it returns an :class:`~fewpoints.audit.result.Audit`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from fewpoints.audit.about import describe
from fewpoints.audit.checks import check_auditable
from fewpoints.audit.coarsening import cheapest_release, release_costs
from fewpoints.audit.population import population_bounds
from fewpoints.audit.result import GPS_KM, Audit, AuditSizes
from fewpoints.audit.risk import per_device_risk
from fewpoints.audit.sensitive import sensitive_exposure
from fewpoints.common import renamed, seed_of


@renamed(seed="rng")
def audit(
    traces: pd.DataFrame,
    *,
    source: str = "the file",
    places: pd.DataFrame | None = None,
    reading: dict | None = None,
    sizes: AuditSizes | None = None,
    rng: int | np.random.Generator | None = 0,
    progress: Callable[[str, float], None] | None = None,
) -> Audit:
    """Measure the re-identification risk of a traces table, from the table alone.

    Parameters
    ----------
    traces : DataFrame
        The released data (``device_id, time, x_km, y_km``, and
        ``accuracy_m`` for GPS fixes), as :func:`fewpoints.io.read_traces`
        reads a file. Times are local times: they decide what is night and
        what is a working day.
    source : str
        How the report names the data ("measured on ...").
    places : DataFrame, optional
        A public map of places (:func:`read_places`), for the sensitive visits.
    reading : dict, optional
        How the file was read (columns, time rule, time zone, projection),
        repeated in the report.
    sizes : AuditSizes, optional
    rng : int, Generator or None, default 0
        Seed of every random draw (the same seed, the same numbers); a
        Generator gives a seed drawn from it, None a fresh one, recorded in
        the report. ``seed=`` is the deprecated name of this keyword.
    progress : callable, optional
        ``progress(stage, fraction)``.

    Returns
    -------
    Audit

    Notes
    -----
    Every analysis runs on the whole table. The attacks are those of the
    briefing: random points (de Montjoye et al. 2013) against the file as
    recorded and coarsened, the inferred home and work and the top places
    (Golle & Partridge 2009; Zang & Bolot 2011), nested subsets for the
    population (Farzanehfar et al. 2021), and proximity to sensitive places.
    """
    from fewpoints.anonymize import WeakTransformWarning
    from fewpoints.attacks import (
        HourlyVisits,
        PointIndex,
        anonymity_table,
        home_work,
        resolution_sweep,
        unicity_curve,
    )
    from fewpoints.briefing import attack_rng

    sizes = sizes or AuditSizes()
    seed = seed_of(rng)
    report = progress or (lambda stage, fraction: None)
    seconds: dict[str, float] = {}
    check_auditable(traces, source=source)

    def step(name):
        report(name, 0.0)
        return time.perf_counter()

    def done(name, t0):
        seconds[name] = time.perf_counter() - t0
        report(name, 1.0)

    t0 = step("indexing the points")
    index = PointIndex.from_traces(traces)
    about = describe(traces, index, reading)
    done("indexing the points", t0)

    t0 = step("unicity against points known")
    ps = sizes.curve_order()
    m = index.points_per_device()
    ps = [p for p in ps if (m >= p).any()]
    curve = unicity_curve(index, ps, n_targets=sizes.n_targets, rng=attack_rng(seed))
    curve = curve.sort_values("n_points", ignore_index=True)
    done("unicity against points known", t0)

    t0 = step("coarsening table")
    step_s = about["time_step"]
    bins = sizes.bins_for(step_s)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        sweep = resolution_sweep(
            traces.drop(columns=["antenna_id"], errors="ignore"),
            cell_km=list(sizes.sweep_cells),
            time_bin=bins,
            n_points_range=(sizes.sweep_points,),
            n_targets=sizes.n_targets,
            rng=attack_rng(seed),
        )
    costs = release_costs(traces, sizes.sweep_cells, bins)
    release, coarsest = cheapest_release(sweep.table, costs, sizes.sweep_points)
    done("coarsening table", t0)

    t0 = step("home, work and top places")
    kind = about["locations"]
    radius = None if kind == "repeating" else GPS_KM
    visits = HourlyVisits.from_traces(traces, cluster_km=radius)
    hw = home_work(visits)
    grans = (["antenna"] if radius is None else []) + list(sizes.granularities)
    table = anonymity_table(visits, n=(1, 2, 3), unordered=(), granularities=grans)
    if radius is None:
        table["granularity"] = table["granularity"].replace(
            {"antenna": "as recorded", "as recorded": "as recorded"}
        )
    homes = hw["home_x_km"].notna()
    works = hw["work_x_km"].notna()
    home_work_summary = {
        "n_devices": int(len(hw)),
        "homes": int(homes.sum()),
        "works": int(works.sum()),
        "both": int((homes & works).sum()),
        "median_home_support": float(hw["home_support"].median()) if homes.any() else None,
        "median_work_support": float(hw["work_support"].median()) if works.any() else None,
        "stay_point_km": radius,
    }
    del visits
    done("home, work and top places", t0)

    t0 = step("population bounds")
    population = population_bounds(
        index, n_targets=sizes.population_targets, rng=np.random.default_rng([seed, 3])
    )
    done("population bounds", t0)

    t0 = step("per-device risk")
    risk = per_device_risk(
        index,
        max_points=sizes.risk_points,
        n_targets=sizes.n_targets,
        rng=np.random.default_rng([seed, 5]),
    )
    done("per-device risk", t0)

    sensitive = None
    if places is not None:
        t0 = step("sensitive places")
        sensitive = sensitive_exposure(traces, places, gps=kind != "repeating")
        done("sensitive places", t0)
    return Audit(
        source=source,
        about=about,
        curve=curve,
        sweep=sweep,
        release=release,
        coarsest=coarsest,
        home_work=home_work_summary,
        anonymity=table,
        population=population,
        risk=risk,
        sensitive=sensitive,
        costs=costs,
        seconds=seconds,
        seed=seed,
        sizes=sizes,
    )
