"""Hourly visits: stay points that cluster GPS jitter, and districts cut from the homes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints.attacks import Districts, top_locations, top_n_anonymity
from fewpoints.schema import FewpointsError
from tests.builders import START, traces_from


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
