"""The population curve: unicity measured on nested subsets of devices, and the fitted model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints.attacks import PointIndex, population_curve
from fewpoints.attacks.population import PopulationCurve, fit_population_model
from fewpoints.schema import FewpointsError
from tests.builders import brute_sizes, random_traces


def test_population_model_fit_recovers_known_constants():
    from fewpoints.attacks.population import _beta_unicity

    n = np.geomspace(100, 1e6, 8)
    u = _beta_unicity(n, 0.3, 5e4)
    a, b, rmse = fit_population_model(n, u)
    assert rmse < 2e-3
    assert _beta_unicity(np.array([6e7]), a, b)[0] == pytest.approx(
        _beta_unicity(np.array([6e7]), 0.3, 5e4)[0], abs=0.03
    )


def test_population_curve_counts_only_the_kept_devices():
    traces = random_traces(8, n_devices=300, n_places=4, n_hours=6, max_records=8)
    curve = population_curve(traces, [30, 100, 300], n_points=2, n_targets=300, rng=0)
    t = curve.table
    assert list(t["n_devices"]) == [30, 100, 300]
    assert t["unicity"].iloc[0] >= t["unicity"].iloc[-1]
    ex = curve.extrapolation
    assert (ex["lower_bound"] <= ex["model"] + 1e-9).all() or curve.fit.slope == 0
    assert (ex["lower_bound"] >= 0).all()
    with pytest.raises(FewpointsError, match="sizes"):
        population_curve(traces, [10, 10_000])


def test_population_subset_equals_unicity_on_the_subset_table():
    from fewpoints.attacks.unicity import unicity_on_index

    traces = random_traces(9, n_devices=120)
    index = PointIndex.from_traces(traces)
    members = np.zeros(index.n_devices, dtype=bool)
    members[::3] = True
    res = unicity_on_index(index, 2, 1000, "random", np.random.default_rng(0), members=members)
    kept = traces[traces["device_id"].isin(index.device_ids[members])]
    assert res.n_devices == members.sum()
    assert set(res.targets["device_id"]) <= set(kept["device_id"])
    assert res.targets["anonymity_set_size"].tolist() == brute_sizes(kept, res.points)


def test_curve_from_a_measured_table():
    rows = pd.DataFrame(
        {"axis": "subsets", "n_points": 4, "n_devices": [1e4, 1e5, 1e6, 1e7],
         "unicity": [0.99, 0.97, 0.95, 0.93], "ci_low": 0.0, "ci_high": 1.0}
    )  # fmt: skip
    c = PopulationCurve.from_table(rows, extrapolate_to=(6e7,), fit_from=1e5)
    assert c.fit.fit_from == 1e5
    # The lower bound is the chord through the two largest sizes, continued.
    slope = (0.93 - 0.95) / (1e7 - 1e6)
    assert c.lower_bound([6e7])[0] == pytest.approx(0.93 + slope * 5e7)
    assert c.extrapolation["lower_bound"].iloc[0] <= c.extrapolation["model"].iloc[0]
    with pytest.raises(FewpointsError, match="one series"):
        PopulationCurve.from_table(pd.concat([rows, rows.assign(n_points=5)]))
