"""Top locations, home and work, and their anonymity sets: answers obvious by eye, properties, and guards."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fewpoints
from fewpoints.anonymize import coarsen_space
from fewpoints.attacks import (
    Districts,
    HourlyVisits,
    anonymity_table,
    home_work,
    home_work_anonymity,
    top_locations,
    top_n_anonymity,
)
from fewpoints.schema import FewpointsError
from test_unicity import START, traces_from
from test_unicity_properties import tables

SETTINGS = settings(max_examples=40, deadline=None)
SRC = Path(fewpoints.__file__).parent

# Place letters of traces_from: A at (0.5, 0.5), B (1.5, 0.5), C (2.5, 0.5), D (3.5, 0.5), ...
A, B, C, D = (0.5, 0.5), (1.5, 0.5), (2.5, 0.5), (3.5, 0.5)


def _xy(row, prefix):
    return (row[f"{prefix}_x_km"], row[f"{prefix}_y_km"])


# ---------------------------------------------------------------------------
# home and work
# ---------------------------------------------------------------------------


def test_home_is_the_night_place_and_work_the_weekday_place():
    # Day 0 is Monday. Four night hours at A, one at C; weekday daytime: three
    # hours at B and one at home (A); a Saturday at D does not count as work.
    traces = traces_from(
        {
            "ana": [
                "A@0/23",
                "A@1/01",
                "A@1/23",
                "A@2/02",
                "C@2/23",
                "B@0/10",
                "B@0/14",
                "B@1/11",
                "A@1/12",
                "D@5/11",
                "D@5/12",
                "D@5/13",
            ]
        }
    )
    hw = home_work(traces).set_index("device_id").loc["ana"]
    assert _xy(hw, "home") == A
    assert hw["home_support"] == pytest.approx(4 / 5)
    assert _xy(hw, "work") == B
    assert hw["work_support"] == pytest.approx(3 / 4)


def test_home_work_missing_evidence_is_nan():
    traces = traces_from(
        {
            "day_only": ["B@0/10", "B@1/10", "C@2/10"],  # no night record: no home
            "night_only": ["A@0/23", "A@1/23"],  # no weekday daytime away from home: no work
        }
    )
    hw = home_work(traces).set_index("device_id")
    assert np.isnan(hw.loc["day_only", "home_x_km"])
    assert _xy(hw.loc["day_only"], "work") == B
    assert hw.loc["day_only", "work_support"] == pytest.approx(2 / 3)
    assert _xy(hw.loc["night_only"], "home") == A
    assert np.isnan(hw.loc["night_only", "work_x_km"])
    assert list(hw.reset_index().columns) == [
        "device_id",
        "home_x_km",
        "home_y_km",
        "home_support",
        "work_x_km",
        "work_y_km",
        "work_support",
    ]


def test_hours_not_records_decide_the_rank():
    # Ten calls within one hour at C weigh less than two separate hours at A.
    burst = traces_from({"ana": ["C@0/10"] * 10 + ["A@0/20", "A@1/20"]})
    burst["time"] = burst["time"] + pd.to_timedelta(np.r_[np.arange(10) * 60, 0, 0], unit="s")
    top = top_locations(burst, n=3)
    assert top[["rank", "x_km", "y_km", "hours"]].values.tolist() == [
        [1, *A, 2],
        [2, *C, 1],
    ]


def test_top_locations_ranks_and_ties_go_to_smaller_x():
    traces = traces_from(
        {
            "ana": ["C@0/10", "C@1/10", "C@2/10", "B@0/12", "D@0/13", "A@0/14", "A@1/14"],
        }
    )
    top = top_locations(traces, n=3)
    assert top["rank"].tolist() == [1, 2, 3]
    assert list(zip(top["x_km"], top["y_km"], strict=True)) == [C, A, B]  # B and D tie: B first
    assert top["hours"].tolist() == [3, 2, 1]
    assert len(top_locations(traces, n=10)) == 4


def test_stay_points_cluster_gps_jitter():
    rng = np.random.default_rng(3)
    n = 60
    home = rng.random(n) < 0.5
    x = np.where(home, 2.0, 4.0) + rng.normal(0, 0.006, n)
    y = np.where(home, 2.0, 3.0) + rng.normal(0, 0.006, n)
    hours = np.arange(n) * 5
    traces = pd.DataFrame(
        {
            "device_id": "ana",
            "time": (START + pd.to_timedelta(hours, unit="h")).astype("datetime64[s]"),
            "x_km": np.round(x, 3),
            "y_km": np.round(y, 3),
            "accuracy_m": 9.0,
        }
    )
    top = top_locations(traces, n=5)
    assert len(top) == 2
    assert top["hours"].sum() == n
    for _, row in top.iterrows():
        target = (2.0, 2.0) if row["x_km"] < 3 else (4.0, 3.0)
        assert np.hypot(row["x_km"] - target[0], row["y_km"] - target[1]) < 0.005
    # As recorded, every jittered fix is its own location.
    assert len(top_locations(traces, n=100, cluster_km=None)) > 10


@pytest.mark.slow
def test_home_found_on_a_synthetic_world(medium_world):
    """Scored against the ground truth here, in the test, never in the attack."""
    w = medium_world
    places = w.places.set_index("place_id")
    people = w.people.set_index("device_id")
    hw = home_work(w.observations["pings"]).dropna(subset=["home_x_km"])
    true_home = places.loc[people.loc[hw["device_id"].astype(str), "home_place_id"]]
    err = np.hypot(
        hw["home_x_km"].to_numpy() - true_home["x_km"].to_numpy(),
        hw["home_y_km"].to_numpy() - true_home["y_km"].to_numpy(),
    )
    assert (err < 0.1).mean() > 0.95
    cdr = home_work(w.observations["cdr"]).dropna(subset=["home_x_km"])
    assert len(cdr) > 0.8 * len(w.people)


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


def _places(xy, kind="home"):
    xy = np.asarray(xy, dtype=float)
    return pd.DataFrame(
        {
            "place_id": np.arange(len(xy)),
            "x_km": xy[:, 0],
            "y_km": xy[:, 1],
            "kind": kind,
            "sensitive": False,
            "name": [f"p{i}" for i in range(len(xy))],
        }
    )


def test_districts_cut_homes_into_equal_halves():
    # Eight homes, two in each quarter of a 2 x 2 km square.
    homes = [
        (0.2, 0.2),
        (0.4, 0.3),
        (0.3, 1.6),
        (0.5, 1.8),
        (1.6, 0.2),
        (1.8, 0.4),
        (1.7, 1.7),
        (1.9, 1.5),
    ]
    d = Districts.from_places(_places(homes), homes_per_district=2)
    assert d.n_districts == 4
    assert d.n_homes.tolist() == [2, 2, 2, 2]
    codes = d.assign([0.1, 0.1, 1.9, 1.9, 50.0], [0.1, 1.9, 0.1, 1.9, 50.0])
    assert len(set(codes[:4].tolist())) == 4
    assert codes[4] == codes[3]  # far away: the outer district in that direction
    one = Districts.from_places(_places(homes), homes_per_district=100)
    assert one.n_districts == 1


def test_district_granularity_needs_the_map():
    traces = traces_from({"ana": ["A@0/10", "B@0/11"], "ben": ["D@0/10", "D@1/11"]})
    with pytest.raises(FewpointsError, match="places"):
        top_n_anonymity(traces, n=1, granularity="district")
    homes = _places([(0.5, 0.5), (1.0, 0.5), (3.0, 0.5), (3.5, 0.5)])
    # With the default size (2,000 homes) four homes make one district.
    res = top_n_anonymity(traces, n=1, granularity="district", places=homes)
    assert res.granularity == "district"
    assert res.devices["anonymity_set_size"].tolist() == [2, 2]
    halves = Districts.from_places(homes, homes_per_district=2)
    res = top_n_anonymity(traces, n=1, granularity="district", districts=halves)
    assert res.devices["anonymity_set_size"].tolist() == [1, 1]


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


# ---------------------------------------------------------------------------
# the attacks read only released and public tables
# ---------------------------------------------------------------------------

GROUND_TRUTH_NAMES = {"people", "stays", "person_id", "home_place_id", "work_place_id"}


TOP_LOCATIONS_MODULES = sorted(
    p.relative_to(SRC / "attacks").as_posix()
    for p in (SRC / "attacks" / "top_locations").glob("*.py")
)


@pytest.mark.parametrize("module", [*TOP_LOCATIONS_MODULES, "inference.py"])
def test_attack_modules_never_mention_ground_truth(module):
    tree = ast.parse((SRC / "attacks" / module).read_text())
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used.add(node.value)
        elif isinstance(node, ast.alias):
            used.add(node.name.rsplit(".", 1)[-1])
    assert not (used & GROUND_TRUTH_NAMES)
    assert "fewpoints.synth" not in (SRC / "attacks" / module).read_text()


class _Sealed:
    """A world whose ground truth raises on access: attacks get only what a buyer gets."""

    def __init__(self, world):
        self._world = world

    def __getattr__(self, name):
        if name in ("people", "stays"):
            raise AssertionError(f"an attack read the ground truth table {name!r}")
        return getattr(self._world, name)


def test_attacks_run_on_released_tables_only(tiny_world):
    from fewpoints.attacks import sensitive_visits

    sealed = _Sealed(tiny_world)
    for model in ("cdr", "pings"):
        traces = sealed.observations[model]
        assert not ({"person_id", "name"} & set(traces.columns))
        home_work(traces)
        top_locations(traces)
        anonymity_table(traces, places=sealed.places)
        sensitive_visits(traces, sealed.places, antennas=sealed.antennas)
    with pytest.raises(AssertionError, match="ground truth"):
        _ = sealed.people
