"""The population table: towns and random axes, nested subsets, both engines on a chunked region."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fewpoints
from fewpoints.attacks import population_curve
from fewpoints.attacks.population import population_table
from fewpoints.schema import FewpointsError
from fewpoints.synth.region import coverage_order, device_towns
from tests.builders import traces

# -- the towns axis, by hand ----------------------------------------------------


def two_towns():
    # Town 0: ana and ben share both points; town 1: cy and dee are alone at theirs.
    t = traces(
        {
            "ana": [(0.0, 8), (1.0, 9)],
            "ben": [(0.0, 8), (1.0, 9)],
            "cy": [(50.0, 8), (51.0, 9)],
            "dee": [(60.0, 8), (61.0, 9)],
        }
    )
    towns = pd.DataFrame({"device_id": ["ana", "ben", "cy", "dee"], "town": [0, 0, 1, 1]})
    return t, towns


def test_towns_axis_adds_whole_towns_in_the_order_given():
    t, towns = two_towns()
    m = population_table(
        t,
        [1, 3, 4],
        n_points_range=1,
        axes="towns",
        towns=towns,
        town_order=[0, 1],
        n_targets=10,
        rng=0,
    )
    tab = m.table
    # 1 device asked: the whole first town (2 devices); 3 asked: both towns.
    assert tab["n_devices"].tolist() == [2, 4]
    assert tab["n_towns"].tolist() == [1, 2]
    # In town 0 alone, nobody is unique; adding town 1 adds two unique people.
    assert tab["unicity"].tolist() == [0.0, 0.5]
    first = m.targets[m.targets["n_devices"] == 2]
    assert set(first["device_id"]) == {"ana", "ben"}
    assert (first["anonymity_set_size"] == 2).all()
    other = population_table(
        t, [1], n_points_range=1, axes="towns", towns=towns, town_order=[1, 0], n_targets=10, rng=0
    )
    assert other.table["unicity"].tolist() == [1.0]


def test_subsets_count_only_the_kept_devices_and_nest():
    t, towns = two_towns()
    m = population_table(
        t, [2, 4], n_points_range=2, axes="subsets", towns=towns, n_targets=10, rng=3
    )
    sets = m.targets.set_index(["n_devices", "device_id"])["anonymity_set_size"]
    # ana and ben are each other's twin: unique only in a subset without the other.
    for (n, dev), size in sets.items():
        assert size >= 1
        if n == 4 and dev in ("ana", "ben"):
            assert size == 2
    assert m.table["n_towns"].tolist() == [2, 2]


def test_towns_axis_needs_towns_and_a_complete_order():
    t, towns = two_towns()
    with pytest.raises(FewpointsError, match="home town"):
        population_table(t, [4], axes="towns", n_points_range=1)
    with pytest.raises(FewpointsError, match="town_order"):
        population_table(t, [4], axes="towns", towns=towns, town_order=[0], n_points_range=1)
    with pytest.raises(FewpointsError, match="no town"):
        population_table(t, [4], axes="towns", towns=towns.iloc[:3], n_points_range=1)
    with pytest.raises(FewpointsError, match="axis"):
        population_table(t, [4], axes="country", n_points_range=1)


def test_counts_already_counted_give_the_same_table_in_two_passes():
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    from fewpoints import scale

    t, _ = two_towns()
    t["device_id"] = t["device_id"].astype(str)
    parts = [t[t["device_id"].isin(g)] for g in (["ana", "cy"], ["ben", "dee"])]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=t.iloc[:0])
    kw = {"n_points_range": 2, "n_targets": 10, "rng": 3}
    with dask.config.set(scheduler="synchronous"):
        plain = population_table(ddf, [2, 4], **kw)
        _, counts = scale.count_points(scale.select_columns(ddf), None)
        stages = []
        given = population_table(ddf, [2, 4], counts=counts, **kw,
                                 progress=lambda stage, fraction: stages.append(stage))  # fmt: skip
    pd.testing.assert_frame_equal(plain.table, given.table)
    pd.testing.assert_frame_equal(plain.targets, given.targets)
    assert sorted(set(stages)) == ["pass 1/2: known points", "pass 2/2: matching"]
    with pytest.raises(FewpointsError, match="counts= is for a Dask table"):
        population_table(t, [2, 4], counts=counts, **kw)


def test_population_curve_random_keeps_its_draws():
    """population_curve on subsets makes the generator calls it made before the towns axis."""
    from fewpoints.attacks.index import PointIndex
    from fewpoints.attacks.unicity import unicity_on_index

    w = fewpoints.make_world("tiny", rng=4)
    index = PointIndex.from_traces(w.traces)
    curve = population_curve(index, [50, 150], n_points=2, n_targets=100, rng=7)
    rng = np.random.default_rng(7)
    order = rng.permutation(index.n_devices)
    for n, row in zip([50, 150], curve.table.itertuples(), strict=True):
        members = np.zeros(index.n_devices, dtype=bool)
        members[order[:n]] = True
        assert unicity_on_index(index, 2, 100, "random", rng, members=members).value == row.unicity


def test_region_axes_measure_every_size_and_p(region):
    towns = device_towns(region.people, region.places)
    order = coverage_order(region.places)
    n_all = region.traces["device_id"].nunique()
    m = population_table(
        region.traces,
        [500, 2_000, n_all],
        n_points_range=(2, 4),
        axes=("subsets", "towns"),
        towns=region,
        town_order=order,
        n_targets=300,
        rng=1,
    )
    t = m.table
    assert set(t["axis"]) == {"subsets", "towns"} and set(t["n_points"]) == {2, 4}
    assert t.groupby("axis")["n_devices"].max().tolist() == [n_all, n_all]
    towns_4 = t[(t["axis"] == "towns") & (t["n_points"] == 4)]
    assert (towns_4["n_towns"].diff().dropna() > 0).all()
    # Whole towns: every towns-axis size is a sum of towns' devices.
    per_town = towns.set_index("device_id").loc[region.traces["device_id"].unique(), "town"]
    counts = per_town.value_counts().reindex(order).dropna().cumsum().to_numpy()
    assert set(t.loc[t["axis"] == "towns", "n_devices"]) <= set(counts)
    assert (t["ci_low"] <= t["unicity"]).all() and (t["unicity"] <= t["ci_high"]).all()
    four = t[t["n_points"] == 4]
    assert (four["unicity"].to_numpy() >= t[t["n_points"] == 2]["unicity"].to_numpy()).all()


@pytest.mark.slow
def test_region_two_engines_identical_on_a_chunked_region(tmp_path):
    pytest.importorskip("dask")
    from fewpoints.attacks.dask_engine import read_traces_dask
    from fewpoints.synth import write_world_chunked
    from fewpoints.synth.world import resolve_params

    params = resolve_params("region", seed=9, n_people=4_000, days=7)
    write_world_chunked(params, tmp_path / "r", chunk_people=1_000, stays=False)
    world = fewpoints.read_world(tmp_path / "r")
    order = coverage_order(world.places)
    kw = dict(
        sizes=[300, 1_500, world.traces["device_id"].nunique()],
        n_points_range=(2, 3),
        axes=("subsets", "towns"),
        towns=world,
        town_order=order,
        n_targets=200,
        rng=11,
    )
    memory = population_table(world.traces, **kw)
    ddf = read_traces_dask(tmp_path / "r", rows_per_partition=20_000)
    assert ddf.npartitions >= 4
    dask = population_table(ddf, **kw)
    pd.testing.assert_frame_equal(memory.table, dask.table)
    pd.testing.assert_frame_equal(
        memory.targets.reset_index(drop=True), dask.targets.reset_index(drop=True),
        check_dtype=False,
    )  # fmt: skip
