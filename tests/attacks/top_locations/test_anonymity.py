"""Anonymity sets of top places and of home and work: answers obvious by eye, properties, and guards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.anonymize import coarsen_space
from fewpoints.attacks import (
    HourlyVisits,
    anonymity_table,
    home_work,
    home_work_anonymity,
    top_locations,
    top_n_anonymity,
)
from fewpoints.schema import FewpointsError
from tests.builders import A, C, tables, traces_from

SETTINGS = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------------------
# anonymity sets
# ---------------------------------------------------------------------------


def test_identical_top_two_share_a_set_of_two():
    traces = traces_from(
        {
            "ana": ["A@0/10", "A@1/10", "B@0/20"],
            "ben": ["A@2/10", "A@3/10", "B@1/20"],
            "cy": ["A@0/10", "A@1/10", "C@0/20"],
        }
    )
    res = top_n_anonymity(traces, n=2)
    sizes = res.devices.set_index("device_id")["anonymity_set_size"]
    assert sizes.to_dict() == {"ana": 2, "ben": 2, "cy": 1}
    assert res.value == pytest.approx(1 / 3)
    assert res.median_set_size == 2
    assert res.n_devices == 3
    assert "33.3% of 3 devices are unique" in res.summary()
    assert "median set 2" in repr(res)
    assert res.measure == "top-2"
    assert res.granularity == "as recorded"
    key = res.places[res.places["device_id"] == "cy"]
    assert list(zip(key["x_km"], key["y_km"], strict=True)) == [A, C]
    # Top-1 is A for everyone.
    assert top_n_anonymity(traces, n=1).devices["anonymity_set_size"].tolist() == [3, 3, 3]


def test_order_matters_unless_unordered():
    traces = traces_from(
        {
            "ana": ["A@0/10", "A@1/10", "B@0/20"],  # A then B
            "ben": ["B@0/10", "B@1/10", "A@0/20"],  # B then A
        }
    )
    assert top_n_anonymity(traces, n=2).devices["anonymity_set_size"].tolist() == [1, 1]
    unordered = top_n_anonymity(traces, n=2, ordered=False)
    assert unordered.devices["anonymity_set_size"].tolist() == [2, 2]
    assert unordered.measure == "top-2 (any order)"


def test_devices_with_too_few_places_are_left_out():
    traces = traces_from({"ana": ["A@0/10", "B@0/11"], "ben": ["A@0/10"], "cy": ["A@0/10"]})
    res = top_n_anonymity(traces, n=2)
    assert res.devices["device_id"].tolist() == ["ana"]
    assert res.n_excluded == 2
    with pytest.raises(FewpointsError, match="no device has enough places"):
        top_n_anonymity(traces, n=3)


def test_coarser_cells_merge_places_and_their_hours():
    # A (0.5, 0.5) and B (1.5, 0.5) share a 2 km cell; C (2.5, 0.5) is in the next.
    traces = traces_from(
        {
            "ana": ["A@0/10", "B@0/10", "B@1/10", "C@0/12", "C@1/12", "C@2/12"],
            "ben": ["C@0/10", "C@1/10", "A@0/20", "A@1/20"],
        }
    )
    top = top_locations(traces, n=1, granularity=2.0)
    # ana: 2 distinct hours in the (A, B) cell (day 0 10h counted once), 3 in C's cell.
    assert top.set_index("device_id").loc["ana", ["x_km", "hours"]].tolist() == [3.0, 3]
    assert top.set_index("device_id").loc["ben", ["x_km", "hours"]].tolist() == [1.0, 2]
    res = top_n_anonymity(traces, n=2, granularity="2 km", ordered=False)
    assert res.granularity == "2 km"
    assert res.devices["anonymity_set_size"].tolist() == [2, 2]
    assert top_n_anonymity(traces, n=2, granularity=0.5).devices["anonymity_set_size"].tolist() == [
        1,
        1,
    ]


def test_home_work_pairs():
    nights = ["A@0/23", "A@1/23"]
    traces = traces_from(
        {
            "ana": [*nights, "B@0/10", "B@1/10"],
            "ben": [*nights, "B@2/10"],
            "cy": [*nights, "C@0/10"],
            "dee": ["D@0/23", "C@0/10"],
            "eve": ["A@0/23"],  # no work: left out
        }
    )
    res = home_work_anonymity(traces)
    assert res.devices.set_index("device_id")["anonymity_set_size"].to_dict() == {
        "ana": 2,
        "ben": 2,
        "cy": 1,
        "dee": 1,
    }
    assert res.n_excluded == 1
    assert res.places.query("device_id == 'cy'")[["rank", "x_km"]].values.tolist() == [
        [1, 0.5],
        [2, 2.5],
    ]
    # In 4 km cells every home and every work is the same cell.
    coarse = home_work_anonymity(traces, granularity=4.0)
    assert coarse.devices["anonymity_set_size"].tolist() == [4, 4, 4, 4]
    assert coarse.value == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n must be at least 1"),
        ({"n": 1.5}, "whole number"),
        ({"n": 1, "granularity": "county"}, "unknown granularity"),
        ({"n": 1, "granularity": -1.0}, "positive"),
        ({"n": 1, "cluster_km": -0.1}, "positive"),
        ({"n": 1, "cluster_km": "fine"}, "cluster_km"),
    ],
)
def test_bad_parameters_name_the_problem(kwargs, match):
    traces = traces_from({"ana": ["A@0/10"]})
    with pytest.raises(FewpointsError, match=match):
        top_n_anonymity(traces, **kwargs)


def test_bad_tables():
    with pytest.raises(FewpointsError, match="empty"):
        home_work(traces_from({"ana": ["A@0/10"]}).iloc[:0])
    with pytest.raises(FewpointsError):
        home_work(pd.DataFrame({"device_id": ["a"], "x_km": [1.0]}))
    with pytest.raises(FewpointsError, match="expected a traces DataFrame"):
        home_work([1, 2, 3])


def test_anonymity_table_shape(tiny_world):
    table = anonymity_table(tiny_world.observations["cdr"], places=tiny_world.places)
    assert list(table.columns) == [
        "measure",
        "granularity",
        "share_unique",
        "ci_low",
        "ci_high",
        "median_set_size",
        "n_devices",
    ]
    assert table["granularity"].unique().tolist() == [
        "antenna",
        "0.1 km",
        "0.5 km",
        "2 km",
        "district",
    ]
    assert table["measure"].unique().tolist() == [
        "top-1",
        "top-2",
        "top-3",
        "top-3 (any order)",
        "home/work",
    ]
    ok = table.dropna()
    assert ((ok["ci_low"] <= ok["share_unique"]) & (ok["share_unique"] <= ok["ci_high"])).all()
    gps = anonymity_table(tiny_world.observations["pings"], granularities=[0.5])
    assert gps["granularity"].unique().tolist() == ["0.5 km"]
    # GPS stay points are not antennas: the default table skips that row.
    assert (
        "stay point"
        not in anonymity_table(tiny_world.observations["pings"])["granularity"].tolist()
    )


def test_visits_reused_and_coarsened_tables_accepted(tiny_world):
    traces = tiny_world.observations["cdr"]
    visits = HourlyVisits.from_traces(traces)
    assert "antenna" in repr(visits)
    a = top_n_anonymity(visits, n=2, granularity=0.5).devices
    b = top_n_anonymity(traces, n=2, granularity=0.5).devices
    pd.testing.assert_frame_equal(a, b)
    # Coarsening the table first gives the same sets as asking for the granularity.
    c = top_n_anonymity(coarsen_space(traces, cell_km=0.5), n=2).devices
    np.testing.assert_array_equal(a["anonymity_set_size"], c["anonymity_set_size"])


# ---------------------------------------------------------------------------
# properties (any data, any seed)
# ---------------------------------------------------------------------------


def _spread_over_days(traces: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Put records on different days and hours so that night and work windows both occur."""
    rng = np.random.default_rng(seed)
    shift = rng.integers(0, 7 * 24, len(traces))
    return traces.assign(time=traces["time"] + pd.to_timedelta(shift, unit="h"))


@SETTINGS
@given(tables, st.integers(1, 4), st.sampled_from(["antenna", 0.5, 2.0]))
def test_set_sizes_are_consistent(traces, n, granularity):
    try:
        res = top_n_anonymity(traces, n=n, granularity=granularity)
    except FewpointsError:
        return
    sizes = res.devices["anonymity_set_size"]
    # s devices share a set of size s: the count of devices with size s is a multiple of s.
    counts = sizes.value_counts()
    assert all(c % s == 0 for s, c in counts.items())
    # Brute force: devices whose key places (in rank order) are identical.
    keys = res.places.groupby("device_id", sort=False).apply(
        lambda g: tuple(zip(g["x_km"], g["y_km"], strict=True)), include_groups=False
    )
    brute = keys.map(keys.value_counts())
    np.testing.assert_array_equal(brute.loc[res.devices["device_id"]].to_numpy(), sizes.to_numpy())


@SETTINGS
@given(tables, st.integers(1, 4))
def test_unordered_sets_are_coarser(traces, n):
    try:
        ordered = top_n_anonymity(traces, n=n)
    except FewpointsError:
        return
    unordered = top_n_anonymity(traces, n=n, ordered=False)
    assert (unordered.devices["device_id"] == ordered.devices["device_id"]).all()
    assert (unordered.devices["anonymity_set_size"] >= ordered.devices["anonymity_set_size"]).all()
    assert unordered.value <= ordered.value


@SETTINGS
@given(tables, st.integers(0, 2**32 - 1))
def test_home_work_sets_grow_with_nested_cells(traces, seed):
    traces = _spread_over_days(traces, seed)
    try:
        fine = home_work_anonymity(traces, granularity=0.5)
    except FewpointsError:
        return
    coarse = home_work_anonymity(traces, granularity=2.0)
    assert (coarse.devices["device_id"] == fine.devices["device_id"]).all()
    assert (coarse.devices["anonymity_set_size"] >= fine.devices["anonymity_set_size"]).all()
    hw = home_work(traces)
    assert ((hw["home_support"].dropna() > 0) & (hw["home_support"].dropna() <= 1)).all()
    assert ((hw["work_support"].dropna() > 0) & (hw["work_support"].dropna() <= 1)).all()
    # Work is never the home location.
    both = hw.dropna()
    assert not (
        (both["home_x_km"] == both["work_x_km"]) & (both["home_y_km"] == both["work_y_km"])
    ).any()


@SETTINGS
@given(tables, st.integers(0, 2**32 - 1))
def test_row_order_changes_nothing(traces, seed):
    shuffled = traces.sample(frac=1.0, random_state=seed % 2**31)
    pd.testing.assert_frame_equal(home_work(traces), home_work(shuffled))
    pd.testing.assert_frame_equal(top_locations(traces), top_locations(shuffled))
