"""Top locations, home and work: answers obvious by eye, on hand-built tables and a synthetic world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints.attacks import home_work, top_locations
from tests.builders import A, B, C, traces_from


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
