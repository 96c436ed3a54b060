"""The privacy-utility table: its settings, the matched attack, the populations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import fewpoints
from fewpoints.anonymize import coarsen_time
from fewpoints.attacks import unicity
from fewpoints.defenses import PRIVACY_UTILITY_COLUMNS, Setting, default_settings, privacy_utility
from fewpoints.schema import FewpointsError
from tests.builders import random_traces, traces_from

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
