"""The audit on the Dask engine gives the in-memory numbers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fewpoints import audit as A
from fewpoints.audit.write import audit_json

# ---------------------------------------------------------------------------
# the Dask engine: the in-memory audit's numbers, partition by partition
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["cdr", "pings"])
def test_audit_dask_gives_the_in_memory_numbers(tiny_world, tiny_audits, model):
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    traces = tiny_world.observations[model].copy()
    traces["device_id"] = traces["device_id"].astype(str)
    ids = np.sort(traces["device_id"].unique())
    parts = [traces[traces["device_id"].isin(g)] for g in np.array_split(ids, 3)]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=traces.iloc[:0])
    a = tiny_audits[model]
    with dask.config.set(scheduler="synchronous"):
        b = A.audit_dask(ddf, source=a.source, places=tiny_world.places, sizes=a.sizes, rng=4)
    assert b.engine == "dask"
    pd.testing.assert_frame_equal(a.curve, b.curve, check_dtype=False)
    cols = ["cell_km", "time_bin", "h", "n_points", "unicity", "ci_low", "ci_high", "n_targets"]
    pd.testing.assert_frame_equal(a.sweep.table[cols], b.sweep.table[cols], check_dtype=False)
    pd.testing.assert_frame_equal(a.anonymity, b.anonymity, check_dtype=False)
    pd.testing.assert_frame_equal(a.sensitive, b.sensitive, check_dtype=False)
    pd.testing.assert_frame_equal(a.risk, b.risk, check_dtype=False)
    assert a.home_work == b.home_work
    assert {k: v for k, v in a.about.items() if k != "reading"} == {
        k: v for k, v in b.about.items() if k != "reading"
    }
    for key in ("moved_km", "shifted_minutes"):
        assert a.costs[key].keys() == b.costs[key].keys()
        for k in a.costs[key]:
            assert b.costs[key][k] == pytest.approx(a.costs[key][k], rel=1e-12, abs=1e-12)
    assert (a.release is None) == (b.release is None)
    if a.release is not None:
        assert a.release["words"] == b.release["words"]
        assert a.release["unicity"] == b.release["unicity"]


# ---------------------------------------------------------------------------
# the population bounds: the same nested subsets, targets and points on both engines
# ---------------------------------------------------------------------------


def test_audit_dask_gives_the_in_memory_population_bounds(tiny_world, tiny_audits):
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    traces = tiny_world.observations["cdr"].copy()
    traces["device_id"] = traces["device_id"].astype(str)
    ids = np.sort(traces["device_id"].unique())
    parts = [traces[traces["device_id"].isin(g)] for g in np.array_split(ids, 4)]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=traces.iloc[:0])
    a = tiny_audits["cdr"]
    stages = []
    with dask.config.set(scheduler="synchronous"):
        b = A.audit_dask(ddf, source=a.source, places=tiny_world.places, sizes=a.sizes, rng=4,
                         progress=lambda stage, fraction: stages.append(stage))  # fmt: skip
    pa, pb = a.population, b.population
    assert pb is not None and len(pb.table) > 1
    pd.testing.assert_frame_equal(pa.table, pb.table)
    pd.testing.assert_frame_equal(pa.extrapolation, pb.extrapolation)
    assert pa.fit == pb.fit
    assert "population bounds" in b.seconds
    # the sweep's pass 1 counted each device's points: the population work does not recount
    population = sorted({s for s in stages if s.startswith("population bounds")})
    assert population == ["population bounds, pass 1/2: known points",
                          "population bounds, pass 2/2: matching"], population  # fmt: skip
    assert sum("points per device" in s for s in set(stages)) == 1, sorted(set(stages))
    # the report of either engine: figure 4, its words, the limits that name it, audit.json
    fa, fb = A.audit_figures(a), A.audit_figures(b)
    assert [f.name for f in fb] == [f.name for f in fa]
    (f4a,) = [f for f in fa if f.name == "4-population"]
    (f4b,) = [f for f in fb if f.name == "4-population"]
    assert (f4b.title, f4b.caption, f4b.alt) == (f4a.title, f4a.caption, f4a.alt)
    assert A.limits(b) == A.limits(a)
    assert "not measured" not in " ".join(A.limits(b))
    run = SimpleNamespace(command="fewpoints audit", version="0", date="2026-12-07")
    assert audit_json(b, fb, run)["population"] == audit_json(a, fa, run)["population"]


def test_bounds_sizes_by_hand():
    from fewpoints.audit.population import bounds_sizes

    assert bounds_sizes(1_000) == ([10, 19, 37, 72, 139, 268, 518, 1_000], [1e4, 1e5, 6e7])
    assert bounds_sizes(10) == ([10], [100.0, 1_000.0, 6e7])
    assert bounds_sizes(1_000_000)[1] == [1e7, 6e7, 1e8]


def test_in_memory_bounds_are_population_curves(tiny_world, tiny_audits):
    from fewpoints.attacks import PointIndex, population_curve
    from fewpoints.audit.population import bounds_sizes

    a = tiny_audits["cdr"]
    index = PointIndex.from_traces(tiny_world.observations["cdr"])
    sizes, far = bounds_sizes(index.n_devices)
    expected = population_curve(index, sizes, n_points=4, n_targets=a.sizes.population_targets,
                                extrapolate_to=far, rng=np.random.default_rng([4, 3]))  # fmt: skip
    pd.testing.assert_frame_equal(a.population.table, expected.table)
    pd.testing.assert_frame_equal(a.population.extrapolation, expected.extrapolation)
