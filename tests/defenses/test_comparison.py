"""Aggregates, DP counts, their error, and the privacy-utility table."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fewpoints
from fewpoints.anonymize import coarsen_time
from fewpoints.attacks import unicity
from fewpoints.defenses import (
    PRIVACY_UTILITY_COLUMNS,
    Setting,
    aggregate,
    default_settings,
    dp_aggregate,
    privacy_utility,
    utility_error,
)
from fewpoints.schema import FewpointsError
from test_unicity import START, random_traces, traces_from


def _hour(h: int, day: int = 0) -> pd.Timestamp:
    return START + pd.Timedelta(days=day, hours=h)


# ---------------------------------------------------------------------------
# aggregate
# ---------------------------------------------------------------------------


def test_aggregate_counts_distinct_devices_per_cell_and_hour():
    # A is the cell (0.5, 0.5), B is (1.5, 0.5). ana is at A twice in hour 8: counted once.
    traces = traces_from({"ana": ["A@08", "A@08", "B@09"], "ben": ["A@08", "B@09"], "cy": ["B@08"]})
    traces.loc[1, "time"] += pd.Timedelta(minutes=30)
    out = aggregate(traces, cell_km=1.0, time_bin="1h")
    assert list(out.columns) == ["x_km", "y_km", "time", "devices"]
    assert out.to_dict("list") == {
        "x_km": [0.5, 1.5, 1.5],
        "y_km": [0.5, 0.5, 0.5],
        "time": [_hour(8), _hour(8), _hour(9)],
        "devices": [2, 1, 2],
    }
    # Coarser cells and bins merge them: A and B share the 2 km cell (1, 1).
    two = aggregate(traces, cell_km=2.0, time_bin="2h")
    assert two.to_dict("list") == {
        "x_km": [1.0],
        "y_km": [1.0],
        "time": [_hour(8)],
        "devices": [3],
    }


def test_aggregate_matches_a_plain_pandas_count():
    traces = random_traces(3)
    traces["time"] += pd.to_timedelta(np.arange(len(traces)) * 731 % 3600, unit="s")
    out = aggregate(traces, cell_km=0.5, time_bin="30min")
    x = (np.floor(traces["x_km"] / 0.5) + 0.5) * 0.5
    y = (np.floor(traces["y_km"] / 0.5) + 0.5) * 0.5
    t = traces["time"].dt.floor("30min")
    want = (
        pd.DataFrame({"x_km": x, "y_km": y, "time": t, "d": traces["device_id"]})
        .groupby(["time", "x_km", "y_km"])["d"]
        .nunique()
        .reset_index(name="devices")[["x_km", "y_km", "time", "devices"]]
    )
    pd.testing.assert_frame_equal(out, want, check_dtype=False)


def test_aggregate_on_a_sparse_grid_gives_the_same_counts():
    # Two places 2,000 km apart: the grid between them is too large to index densely.
    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08"], "cy": ["B@09"]})
    far = traces.assign(x_km=np.where(traces["x_km"] > 1, 2000.5, 0.5))
    out = aggregate(far)
    assert out["x_km"].tolist() == [0.5, 2000.5] and out["devices"].tolist() == [2, 2]
    assert out["time"].tolist() == [_hour(8), _hour(9)]


@pytest.mark.parametrize(
    ("opt", "bad"), [("cell_km", 0), ("cell_km", "wide"), ("time_bin", "soon")]
)
def test_aggregate_refuses_bad_grids(opt, bad):
    with pytest.raises(FewpointsError, match=opt):
        aggregate(random_traces(0), **{opt: bad})


# ---------------------------------------------------------------------------
# dp_aggregate
# ---------------------------------------------------------------------------


def test_dp_release_covers_every_cell_of_the_grid_not_only_visited_ones():
    traces = traces_from({"ana": ["A@08"], "ben": ["A@08", "B@09"]})
    out = dp_aggregate(
        traces,
        epsilon=1.0,
        bounds=(0, 3, 0, 2),
        period=(_hour(8), _hour(11)),
        post_process="none",
        rng=0,
    )
    # 3 x 2 cells x 4 hours, each with its own noise, visited or not.
    assert len(out) == 24 == out.attrs["domain_cells"]
    assert out[["x_km", "y_km", "time"]].drop_duplicates().shape[0] == 24
    assert out["devices"].dtype == np.float64
    assert out.attrs["sensitivity"] == 50 and out.attrs["noise_scale"] == 50.0
    rounded = dp_aggregate(traces, epsilon=1.0, bounds=(0, 3, 0, 2), rng=0)
    assert (rounded["devices"] > 0).all() and rounded["devices"].dtype == np.int64


def test_dp_release_with_little_noise_is_the_true_table():
    traces = random_traces(4)
    truth = aggregate(traces)
    out = dp_aggregate(traces, epsilon=1e9, max_cells_per_device=10_000, rng=1)
    pd.testing.assert_frame_equal(out, truth)
    assert out.attrs["capped_share"] == 0.0


def test_same_seed_same_release_and_another_seed_another():
    traces = random_traces(5)
    a = dp_aggregate(traces, epsilon=0.5, max_cells_per_device=3, rng=7)
    b = dp_aggregate(traces, epsilon=0.5, max_cells_per_device=3, rng=7)
    c = dp_aggregate(traces, epsilon=0.5, max_cells_per_device=3, rng=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": -1}, "epsilon"),
        ({"epsilon": 1, "max_cells_per_device": 0}, "max_cells_per_device"),
        ({"epsilon": 1, "max_cells_per_device": 2.5}, "max_cells_per_device"),
        ({"epsilon": 1, "post_process": "clip"}, "post_process"),
        ({"epsilon": 1, "bounds": (0, 1)}, "bounds"),
        ({"epsilon": 1, "bounds": (0, 1e6, 0, 1e6)}, "grid"),
        ({"epsilon": 1, "period": ("2026-03-05", "2026-03-02")}, "period"),
    ],
)
def test_dp_refuses_bad_options(opts, match):
    with pytest.raises(FewpointsError, match=match):
        dp_aggregate(random_traces(0), **opts)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cap=st.integers(1, 8))
def test_no_device_contributes_more_than_the_cap(seed, cap):
    traces = random_traces(seed % 1000, n_devices=15)
    # Nearly no noise: the release is the capped count of each cell.
    out = dp_aggregate(traces, epsilon=1e9, max_cells_per_device=cap, post_process="none", rng=seed)
    truth = aggregate(traces)
    per_device = traces.assign(
        cell=np.floor(traces["x_km"]).astype(str) + np.floor(traces["y_km"]).astype(str),
        hour=traces["time"].dt.floor("1h"),
    ).drop_duplicates(["device_id", "cell", "hour"])
    kept = np.minimum(per_device.groupby("device_id").size(), cap).sum()
    assert out["devices"].round().sum() == kept
    # Each cell holds at most its true count, and never less than zero.
    t, r = _on_grid(truth, out)
    assert (np.round(r) <= t).all() and (np.round(r) >= 0).all()


def _on_grid(truth, released):
    from fewpoints.defenses import _align

    return _align(truth, released)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    epsilon=st.floats(0.1, 10),
    cap=st.integers(1, 20),
)
def test_dp_noise_is_unbiased_with_the_laplace_spread(seed, epsilon, cap):
    # 3 devices, each in 2 cells (under any cap >= 2 nothing is cut) over a
    # large public grid: 40 x 50 cells x 24 hours = 48,000 independent draws.
    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08", "C@10"], "cy": ["B@08", "B@09"]})
    cap = max(cap, 2)
    out = dp_aggregate(
        traces,
        epsilon=epsilon,
        max_cells_per_device=cap,
        bounds=(0, 40, 0, 50),
        period=(_hour(0), _hour(23)),
        post_process="none",
        rng=seed,
    )
    t, r = _on_grid(aggregate(traces), out)
    err = r - t
    scale = cap / epsilon
    n = len(err)
    assert n == 48_000
    # Laplace: mean 0, standard deviation sqrt(2) * scale.
    assert abs(err.mean()) < 5 * math.sqrt(2) * scale / math.sqrt(n)
    assert err.std() == pytest.approx(math.sqrt(2) * scale, rel=0.05)
    assert np.median(np.abs(err)) == pytest.approx(scale * math.log(2), rel=0.05)


def test_rounding_biases_empty_cells_upwards_as_documented():
    traces = traces_from({"ana": ["A@08"]})
    out = dp_aggregate(
        traces,
        epsilon=1.0,
        max_cells_per_device=5,
        bounds=(0, 100, 0, 100),
        period=(_hour(8), _hour(8)),
        rng=3,
    )
    # Mean release of an empty cell: E[max(round(L), 0)] is close to scale / 2 = 2.5.
    total = out["devices"].sum() / 10_000
    assert total == pytest.approx(2.5, abs=0.15)


# ---------------------------------------------------------------------------
# utility_error
# ---------------------------------------------------------------------------


def test_utility_error_by_hand():
    truth = pd.DataFrame(
        {
            "x_km": [0.5, 1.5, 2.5],
            "y_km": [0.5, 0.5, 0.5],
            "time": [_hour(8)] * 3,
            "devices": [10, 20, 1],
        }
    )
    released = pd.DataFrame(
        {
            "x_km": [0.5, 1.5, 2.5, 9.5],
            "y_km": [0.5, 0.5, 0.5, 0.5],
            "time": [_hour(8)] * 4,
            "devices": [12, 10, 3, 4],
        }
    )
    got = utility_error(truth, released)
    # errors 2, 10, 2 on the true cells; 4 devices in a cell that had none
    assert got["mae"] == pytest.approx(14 / 3)
    assert got["mre"] == pytest.approx((0.2 + 0.5) / 2)
    assert got["share_error_exceeds_count"] == pytest.approx(1 / 3)  # 2 > 1 only in the last
    assert got["false_cells"] == 1
    assert (got["n_cells"], got["n_cells_mre"]) == (3, 2)
    # A cell missing from the release counts 0.
    got = utility_error(truth, released.iloc[[0]])
    assert got["mae"] == pytest.approx((2 + 20 + 1) / 3)
    assert math.isnan(utility_error(truth.assign(devices=1), released)["mre"])


def test_utility_error_names_a_missing_column():
    with pytest.raises(FewpointsError, match="devices"):
        utility_error(
            pd.DataFrame({"x_km": [], "y_km": [], "time": []}), aggregate(random_traces(0))
        )


# ---------------------------------------------------------------------------
# privacy_utility
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hourly(tiny_world):
    return coarsen_time(tiny_world.traces, time_bin="1h")


def _small_settings():
    return [
        Setting("raw data", "none", "as released"),
        Setting("1 km x 1 h", "coarsen", "1 km x 1 h", {"cell_km": 1.0, "time_bin": "1h"}),
        Setting("2 km x 4 h", "coarsen", "2 km x 4 h", {"cell_km": 2.0, "time_bin": "4h"}),
        Setting("2 km", "coarsen_space", "2 km", {"cell_km": 2.0}),
        Setting("DP 1", "dp_aggregate", "epsilon = 1", {"epsilon": 1.0}),
    ]


@pytest.mark.filterwarnings("ignore::fewpoints.anonymize.WeakTransformWarning")
def test_privacy_utility_table(hourly):
    table = privacy_utility(hourly, _small_settings(), n_targets=300, rng=4)
    assert list(table.columns) == list(PRIVACY_UTILITY_COLUMNS)
    assert table["setting"].tolist() == ["raw data", "1 km x 1 h", "2 km x 4 h", "2 km", "DP 1"]
    raw = table.iloc[0]
    want = unicity(hourly, 4, n_targets=300, rng=4)
    assert (raw["unicity"], raw["ci_low"], raw["ci_high"]) == (
        want.value,
        want.ci_low,
        want.ci_high,
    )
    assert raw["utility_error"] == 0.0  # the raw data answer their own counts exactly
    # 1 km x 1 h is the utility grid itself: no error; coarser is worse.
    assert table.loc[1, "utility_error"] == 0.0
    assert table.loc[2, "utility_error"] > 0.3
    assert table["ci_low"].iloc[:4].le(table["unicity"].iloc[:4]).all()
    dp = table.iloc[4]
    assert math.isnan(dp["unicity"]) and math.isnan(dp["ci_low"]) and dp["epsilon"] == 1.0
    assert dp["utility_error"] > 0
    assert table["epsilon"].iloc[:4].isna().all()
    assert table["utility_metric"].nunique() == 1
    assert "1 km cell and hour" in table["utility_metric"].iloc[0]
    # Same seed, same table.
    again = privacy_utility(hourly, _small_settings(), n_targets=300, rng=4)
    pd.testing.assert_frame_equal(table, again)


def test_matched_attack_with_exact_knowledge_equals_plain_unicity(hourly):
    # Matching the true points on a grid finer than any two antennas is the plain attack.
    exact = Setting("raw, matched", "none", "as released", match_km=1e-4)
    table = privacy_utility(
        hourly, [Setting("raw", "none", "as released"), exact], n_targets=300, rng=9
    )
    assert table.loc[0, "unicity"] == table.loc[1, "unicity"]


@pytest.mark.parametrize(
    ("released", "unique"),
    [
        # As released: both unique.
        ({"ana": ["A@08", "B@09"], "ben": ["A@08", "C@09"]}, 2),
        # ana's B moved to D: her true points match nobody; ben's match only ben.
        ({"ana": ["A@08", "D@09"], "ben": ["A@08", "C@09"]}, 1),
        # ana's B moved to C: ben's true points now match ana and ben.
        ({"ana": ["A@08", "C@09"], "ben": ["A@08", "C@09"]}, 0),
        # Swapped: each matches exactly one device, the wrong one; no re-identification.
        ({"ana": ["A@08", "C@09"], "ben": ["A@08", "B@09"]}, 0),
    ],
)
def test_matched_attack_counts_only_the_target_found_alone(released, unique):
    from fewpoints.attacks import PointIndex
    from fewpoints.defenses import _near_unicity

    raw = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08", "C@09"]})
    value, lo, hi, n, n_dev = _near_unicity(
        PointIndex.from_traces(raw), traces_from(released), 2, 10, 0.9, np.random.default_rng(0)
    )
    assert (n, n_dev) == (2, 2)
    assert value == unique / 2
    assert lo <= value <= hi


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([Setting("a", "none", ""), Setting("a", "none", "")], "unique"),
        ([Setting("x", "shred", "")], "unknown transform"),
        ([Setting("x", "coarsen", "", {"cell_km": 1.0})], "time_bin"),
        ([Setting("x", "dp_aggregate", "", {})], "epsilon"),
        ([Setting("x", "dp_aggregate", "", {"epsilon": 1, "cell_km": 2.0})], "utility grid"),
        ([], "no settings"),
    ],
)
def test_privacy_utility_refuses_bad_settings(bad, match):
    with pytest.raises(FewpointsError, match=match):
        privacy_utility(random_traces(0), bad, n_targets=10, rng=0)


def test_a_coarsening_setting_skips_only_its_no_op_step():
    from fewpoints.anonymize import WeakTransformWarning, coarsen_space
    from fewpoints.defenses import _apply

    hourly = traces_from({"ana": ["A@08", "G@09"], "ben": ["B@08"]})
    hourly["x_km"] += 0.3  # off the 1 km grid's centres
    one = Setting("1 km x 1 h", "coarsen", "1 km x 1 h", {"cell_km": 1.0, "time_bin": "1h"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakTransformWarning)
        out = _apply(one, hourly, None)
    pd.testing.assert_frame_equal(out, coarsen_space(hourly, cell_km=1.0))
    assert out["x_km"].tolist() == [0.5, 1.5, 1.5]
    # Where the clock is finer than the bin, the time step runs.
    minutes = hourly.assign(time=hourly["time"] + pd.Timedelta(minutes=20))
    assert (_apply(one, minutes, None)["time"] == hourly["time"]).all()


def test_default_settings_are_ten_or_so_with_unique_labels():
    s = default_settings()
    assert 9 <= len(s) <= 13
    assert len({x.label for x in s}) == len(s)
    assert s[0].transform == "none"
    assert [x.options["epsilon"] for x in s if x.transform == "dp_aggregate"] == [1.0, 10.0]
    assert fewpoints.privacy_utility is privacy_utility


@pytest.mark.parametrize(("shift_km", "unique"), [(0.3, 2), (1.2, 1)])
def test_matched_attack_tolerates_noise_within_its_radius(shift_km, unique):
    from fewpoints.attacks import PointIndex
    from fewpoints.defenses import _near_unicity

    raw = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08", "C@09"]})
    noisy = raw.copy()
    noisy.loc[1, "y_km"] += shift_km  # ana's B, moved north (away from C)
    value, *_ = _near_unicity(
        PointIndex.from_traces(raw), noisy, 2, 10, 0.9, np.random.default_rng(0)
    )
    assert value == unique / 2


@pytest.mark.filterwarnings("error::fewpoints.anonymize.WeakTransformWarning")
def test_default_settings_run_and_define_their_populations(hourly):
    # On the hourly call records they are meant for, no default setting is a no-op
    # (no teaching warning): "1 km x 1 h" coarsens space, the clock is already hourly.
    table = privacy_utility(hourly, n_targets=200, rng=2).set_index("transform")
    assert len(table) == len(default_settings())
    assert table["utility_error"].notna().all() and (table["utility_error"] >= 0).all()
    raw = table.loc["none"]
    # Rotation: the pseudonyms are the population, more of them than phones.
    assert table.loc["pseudonymize", "n_devices"] > 2 * raw["n_devices"]
    # Sampling devices: the released half is the population searched.
    half = table.loc["sample_devices", "n_devices"]
    assert 0.3 * raw["n_devices"] < half < 0.7 * raw["n_devices"]
    # Rotation at midnight keeps hourly counts exact; its IDs change, its points do not.
    assert table.loc["pseudonymize", "utility_error"] == 0.0
    dp = table.loc["dp_aggregate"]
    assert dp["unicity"].isna().all() and dp["epsilon"].tolist() == [1.0, 10.0]
    # More budget, less error.
    assert dp["utility_error"].iloc[1] < dp["utility_error"].iloc[0]
