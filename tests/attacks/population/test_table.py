"""Bigger crowds: the two axes of growth, both engines, and the published marginals model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fewpoints
from fewpoints.attacks import population_curve, unicity
from fewpoints.attacks.population import (
    Marginals,
    PopulationCurve,
    antenna_network,
    fit_marginals,
    grow_clusters,
    marginals_unicity,
    population_table,
    sample_marginal_traces,
)
from fewpoints.schema import FewpointsError
from fewpoints.synth.region import coverage_order, device_towns

T0 = pd.Timestamp("2026-03-02 00:00")


def traces(spec: dict[str, list[tuple[float, int]]]) -> pd.DataFrame:
    """``{"ana": [(x_km, hour), ...]}``: points on a line, at whole hours."""
    rows = [(d, x, h) for d, pts in spec.items() for x, h in pts]
    dev, x, h = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "device_id": list(dev),
            "time": T0 + pd.to_timedelta(list(h), unit="h"),
            "x_km": np.asarray(x, dtype=float),
            "y_km": 0.0,
        }
    )


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
        t, [1, 3, 4], n_points=1, axes="towns", towns=towns, town_order=[0, 1], n_targets=10, rng=0
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
        t, [1], n_points=1, axes="towns", towns=towns, town_order=[1, 0], n_targets=10, rng=0
    )
    assert other.table["unicity"].tolist() == [1.0]


def test_subsets_count_only_the_kept_devices_and_nest():
    t, towns = two_towns()
    m = population_table(t, [2, 4], n_points=2, axes="subsets", towns=towns, n_targets=10, rng=3)
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
        population_table(t, [4], axes="towns", n_points=1)
    with pytest.raises(FewpointsError, match="town_order"):
        population_table(t, [4], axes="towns", towns=towns, town_order=[0], n_points=1)
    with pytest.raises(FewpointsError, match="no town"):
        population_table(t, [4], axes="towns", towns=towns.iloc[:3], n_points=1)
    with pytest.raises(FewpointsError, match="axis"):
        population_table(t, [4], axes="country", n_points=1)


def test_population_curve_random_keeps_its_draws():
    """population_curve on subsets makes the generator calls it made before the towns axis."""
    from fewpoints.attacks.index import PointIndex
    from fewpoints.attacks.unicity import unicity_on_index

    w = fewpoints.make_world("tiny", seed=4)
    index = PointIndex.from_traces(w.traces)
    curve = population_curve(index, [50, 150], n_points=2, n_targets=100, rng=7)
    rng = np.random.default_rng(7)
    order = rng.permutation(index.n_devices)
    for n, row in zip([50, 150], curve.table.itertuples(), strict=True):
        members = np.zeros(index.n_devices, dtype=bool)
        members[order[:n]] = True
        assert unicity_on_index(index, 2, 100, "random", rng, members=members).value == row.unicity


# -- a region: the world the axes are for --------------------------------------


@pytest.fixture(scope="module")
def region():
    return fewpoints.make_world("region", seed=3, n_people=6_000, days=7)


def test_region_axes_measure_every_size_and_p(region):
    towns = device_towns(region.people, region.places)
    order = coverage_order(region.places)
    n_all = region.traces["device_id"].nunique()
    m = population_table(
        region.traces,
        [500, 2_000, n_all],
        n_points=(2, 4),
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
        n_points=(2, 3),
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


def test_curve_from_a_measured_table():
    rows = pd.DataFrame(
        {"axis": "subsets", "n_points": 4, "n_devices": [1e4, 1e5, 1e6, 1e7],
         "unicity": [0.99, 0.97, 0.95, 0.93], "ci_low": 0.0, "ci_high": 1.0}
    )  # fmt: skip
    c = PopulationCurve.from_table(rows, extrapolate_to=(6e7,), fit_from=1e5)
    assert c.fit["fit_from"] == 1e5
    # The lower bound is the chord through the two largest sizes, continued.
    slope = (0.93 - 0.95) / (1e7 - 1e6)
    assert c.lower_bound([6e7])[0] == pytest.approx(0.93 + slope * 5e7)
    assert c.extrapolation["lower_bound"].iloc[0] <= c.extrapolation["model"].iloc[0]
    with pytest.raises(FewpointsError, match="one series"):
        PopulationCurve.from_table(pd.concat([rows, rows.assign(n_points=5)]))


# -- the published marginals model ------------------------------------------------


def line(n):
    return pd.DataFrame({"antenna_id": range(n), "x_km": np.arange(n, dtype=float), "y_km": 0.0})


NO_EDGES = (np.zeros(6, dtype=np.int64), np.empty(0, dtype=np.int64))


def test_model_one_point_one_antenna_each():
    # Everybody: one antenna (clusters of 1 among 5), one point in one of 4 equally likely hours.
    # Another person matches a target's point with chance 1/4 x 1/5.
    m = Marginals(
        activity=np.array([0, 1.0]), frequency=np.array([1.0]), circadian=np.full(4, 0.25)
    )
    r = marginals_unicity(
        m, line(5), [2, 10], n_points=1, cluster_size=1, network=NO_EDGES, n_targets=500,
        n_clusters=100_000, n_hour_sets=100_000, rng=0,
    )  # fmt: skip
    got = r.table["unicity"].to_numpy()
    np.testing.assert_allclose(got, [(1 - 1 / 20), (1 - 1 / 20) ** 9], atol=0.005)


def test_model_every_hour_two_antennas():
    # Everybody at every hour, each hour at one of the two antennas of their (only) cluster with
    # chance 1/2: another person holds p given points with chance 1/2^p, whatever the hours.
    net = (np.array([0, 1, 2]), np.array([1, 0]))
    m = Marginals(activity=np.array([0, 0, 0, 0, 1.0]), frequency=np.array([0.5, 0.5]),
                  circadian=np.full(4, 0.25))  # fmt: skip
    r = marginals_unicity(m, line(2), [2, 5], n_points=(1, 2), cluster_size=2, network=net,
                          n_targets=300, rng=0)  # fmt: skip
    want = {(1, 2): 0.5, (1, 5): 0.5**4, (2, 2): 0.75, (2, 5): 0.75**4}
    for row in r.table.itertuples():
        assert row.unicity == pytest.approx(want[(row.n_points, row.n_devices)], abs=1e-9)


def test_model_clusters_are_connected_groups():
    net = antenna_network(line(30), k=2)
    clusters = grow_clusters(net, 500, 5, np.random.default_rng(0))
    assert clusters.shape == (500, 5)
    for row in clusters[:50]:
        s = np.sort(row)
        assert np.unique(s).size == 5 and s[-1] - s[0] <= 8  # on a line, reach at most 2 a step
    with pytest.raises(FewpointsError, match="connected group"):
        grow_clusters(NO_EDGES, 3, 2, np.random.default_rng(0))


def test_marginals_from_a_table_by_hand():
    # ana: 3 points at A, 1 at B; ben: 2 at C. Hours 0, 1, 2 of day 0 and hour 0 of day 1.
    t = traces(
        {"ana": [(0.0, 0), (0.0, 1), (0.0, 2), (1.0, 24)], "ben": [(5.0, 0), (5.0, 0), (5.0, 2)]}
    )
    m = fit_marginals(t, top=3)
    np.testing.assert_allclose(m.activity, [0, 0, 0.5, 0, 0.5])  # 4 points and 2 points
    np.testing.assert_allclose(m.frequency, [(0.75 + 1.0) / 2, 0.25 / 2, 0.0] / np.float64(1.0))
    assert m.n_hours == 25 and m.circadian[0] == pytest.approx(2 / 6)
    assert m.circadian[24] == pytest.approx(1 / 6) and m.circadian[3:24].sum() == 0


def test_model_agrees_with_drawing_the_people(region):
    """The shortcut (1 - P)^(n - 1) gives what drawing n synthetic people and attacking them gives."""
    m = fit_marginals(region.traces)
    grid = pd.DataFrame({"antenna_id": range(100), "x_km": np.repeat(np.arange(10.0), 10),
                         "y_km": np.tile(np.arange(10.0), 10)})  # fmt: skip
    people = sample_marginal_traces(m, 3_000, grid, rng=1)
    assert people["device_id"].nunique() <= 3_000
    measured = unicity(people, 2, n_targets=2_000, rng=2).value
    model = marginals_unicity(m, grid, [3_000], n_points=2, n_targets=2_000, rng=3)
    assert model.table["unicity"].iloc[0] == pytest.approx(measured, abs=0.04)


def test_marginals_on_the_dask_engine_match(tmp_path, region):
    pytest.importorskip("dask")
    import dask
    import dask.dataframe as dd

    t = region.traces
    ids = np.sort(t["device_id"].astype(str).unique())
    parts = [t[t["device_id"].astype(str).isin(g)] for g in np.array_split(ids, 3)]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=t.iloc[:0])
    a, b = fit_marginals(t), fit_marginals(ddf)
    for name in ("activity", "frequency", "circadian"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name))
    assert a.n_people == b.n_people == len(ids)
