"""The audit of a Dask DataFrame: the same report as :func:`~fewpoints.audit.measure.audit`, by the Dask engine.

:func:`audit_dask` runs every analysis through the engine's passes with the
in-memory engine's draws, so the same seed gives the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from fewpoints.audit.about import about_numbers, location_kind
from fewpoints.audit.coarsening import cheapest_release, hours
from fewpoints.audit.dask_analyses import (
    anonymity_rows,
    dask_risk,
    describe_dask,
    hw_partition,
    sensitive_partition,
)
from fewpoints.audit.population import population_bounds
from fewpoints.audit.result import GPS_KM, MIN_DEVICES, Audit, AuditSizes
from fewpoints.audit.sensitive import sensitive_table
from fewpoints.common import renamed, seed_of
from fewpoints.schema import InputError


@renamed(seed="rng")
def audit_dask(ddf, **kwargs) -> Audit:
    """:func:`audit` on a Dask DataFrame (a file larger than memory); see :func:`_audit_dask`."""
    import warnings

    with warnings.catch_warnings():
        # The targets' known points travel with the task graph on purpose (a broadcast join).
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        return _audit_dask(ddf, **kwargs)


def _audit_dask(
    ddf,
    *,
    source: str = "the file",
    places: pd.DataFrame | None = None,
    reading: dict | None = None,
    sizes: AuditSizes | None = None,
    rng: int | np.random.Generator | None = 0,
    progress: Callable[[str, float], None] | None = None,
) -> Audit:
    """:func:`audit` on a Dask DataFrame (a file larger than memory), partition by partition.

    The same seed gives the same targets, points and numbers as :func:`audit`
    on the table in memory: the unicity curve and the coarsening table by
    the Dask engine's three passes (:func:`fewpoints.attacks.dask_engine.dask_unicity`)
    with the in-memory engine's draws; home, work and top places per device
    in each partition (every device is whole in one), their anonymity sets
    counted on the client; the costs of coarsening and the description of
    the file in one more pass; the population bounds by
    :func:`~fewpoints.audit.population.population_bounds` (nested random
    subsets, two more passes on the sweep's count of points per device).
    Each device must be in one partition (as ``fewpoints generate
    --chunk-people`` writes them).
    """
    from fewpoints.attacks.resolution import ResolutionSweep
    from fewpoints.attacks.result import curve_row
    from fewpoints.briefing import attack_rng
    from fewpoints.scale import compute_tasks, dask_sweep, require_dask, select_columns

    dask = require_dask()
    sizes = sizes or AuditSizes()
    seed = seed_of(rng)
    report = progress or (lambda stage, fraction: None)
    seconds: dict[str, float] = {}
    has_accuracy = "accuracy_m" in ddf.columns
    cols = ["device_id", "time", "x_km", "y_km"] + (["accuracy_m"] if has_accuracy else [])
    ddf = ddf[cols]

    t0 = time.perf_counter()
    d = describe_dask(ddf, list(sizes.sweep_cells), list(sizes.sweep_bins), report)
    seconds["describing the file"] = time.perf_counter() - t0

    # The unicity curve and the coarsening table: three passes for every setting together.
    t0 = time.perf_counter()
    ps = sizes.curve_order()
    step_s = int(d["time_step"])
    bins = sizes.bins_for(step_s)
    settings_ = [(c, b) for c in sizes.sweep_cells for b in bins]
    rng = attack_rng(seed)
    jobs = [(None, None, ps, attack_rng(seed))] + [(c, b, [sizes.sweep_points], rng)
                                                   for c, b in settings_]  # fmt: skip
    report(f"unicity and {len(settings_)} coarsenings: three passes for all of them", 0.0)
    swept = dask_sweep(select_columns(ddf), jobs, n_targets=sizes.n_targets, progress=report)
    (results, counts), swept = swept[0], swept[1:]
    if counts.n_devices < MIN_DEVICES:
        raise InputError(
            f"{source}: column device_id holds {counts.n_devices:,} device(s); an audit needs "
            f"at least {MIN_DEVICES}"
        )
    curve = pd.DataFrame([curve_row(r) for r in results])
    curve = curve.sort_values("n_points", ignore_index=True)
    seconds["unicity and the coarsening table"] = time.perf_counter() - t0

    kind = location_kind(d["n_records"], d["n_locations"], d["accuracy"])
    about = about_numbers(d["n_records"], counts.n_devices, counts.points_per_device(),
                          d["n_locations"], d["first"], d["last"], kind, step_s, reading)  # fmt: skip

    rows = []
    for (c, b), (res, _) in zip(settings_, swept, strict=True):
        h = step_s / 3600.0 if b is None else hours(b)
        rows.append({"cell_km": np.nan if c is None else float(c), "merge_v": np.nan,
                     "time_bin": b, "v": np.nan, "h": h, **curve_row(res[0])})  # fmt: skip
    table = pd.DataFrame(rows)
    table["fitted"] = np.nan
    sweep = ResolutionSweep(table=table, fit=pd.DataFrame(
        [{"n_points": sizes.sweep_points, "alpha": np.nan, "beta": np.nan, "rmse": np.nan,
          "halving_drop": np.nan}]))  # fmt: skip
    costs = {
        "moved_km": {(0.0 if c is None else float(c)): d["costs"]["moved_km"][0.0 if c is None else float(c)]
                     for c in sizes.sweep_cells},
        "shifted_minutes": {("" if b is None else b): d["costs"]["shifted_minutes"]["" if b is None else b]
                            for b in bins},
    }  # fmt: skip
    release, coarsest = cheapest_release(table, costs, sizes.sweep_points)

    t0 = time.perf_counter()
    risk = dask_risk(select_columns(ddf), counts, sizes.risk_points, sizes.n_targets,
                      np.random.default_rng([seed, 5]), report)  # fmt: skip
    seconds["per-device risk"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    radius = None if kind == "repeating" else GPS_KM
    grans = (["antenna"] if radius is None else []) + list(sizes.granularities)
    ns = (1, 2, 3)
    frames = compute_tasks(
        [dask.delayed(hw_partition)(p, radius, grans, ns) for p in ddf.to_delayed()],
        "home, work and top places",
        report,
    )
    keys = pd.concat(frames, ignore_index=True)
    del frames
    labels = [("antenna" if "antenna_id" in ddf.columns else "as recorded") if g == "antenna"
              else f"{float(g):g} km" for g in grans]  # fmt: skip
    anonymity, hw = anonymity_rows(keys, labels, ns)
    del keys
    hw["stay_point_km"] = radius
    anonymity["granularity"] = anonymity["granularity"].replace({"antenna": "as recorded"})
    seconds["home, work and top places"] = time.perf_counter() - t0

    # Nested random subsets: the same sizes, targets and points as in memory; the sweep's
    # pass 1 already counted each device's points, so two more passes.
    t0 = time.perf_counter()
    population = population_bounds(select_columns(ddf), counts=counts,
                                   n_targets=sizes.population_targets,
                                   rng=np.random.default_rng([seed, 3]), progress=report)  # fmt: skip
    seconds["population bounds"] = time.perf_counter() - t0

    sensitive = None
    if places is not None:
        t0 = time.perf_counter()
        antennas = None
        if kind == "repeating" and d["locations"] is not None:
            loc = d["locations"]
            antennas = pd.DataFrame({"antenna_id": np.arange(len(loc)), "x_km": loc["x"].to_numpy(),
                                     "y_km": loc["y"].to_numpy()})  # fmt: skip
        parts = compute_tasks(
            [
                dask.delayed(sensitive_partition)(p, places, antennas, kind != "repeating")
                for p in ddf.to_delayed()
            ],  # fmt: skip
            "sensitive places",
            report,
        )
        v = pd.concat(parts, ignore_index=True)
        sensitive = sensitive_table(v, places, counts.n_devices)
        seconds["sensitive places"] = time.perf_counter() - t0

    return Audit(
        source=source,
        about=about,
        curve=curve,
        sweep=sweep,
        release=release,
        coarsest=coarsest,
        home_work=hw,
        anonymity=anonymity,
        population=population,
        risk=risk,
        sensitive=sensitive,
        costs=costs,
        seconds=seconds,
        engine="dask",
        seed=seed,
        sizes=sizes,
    )
