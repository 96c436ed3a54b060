"""The marginals model of unicity: exact on hand-made marginals, and as drawing the people gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints.attacks import unicity
from fewpoints.attacks.population import (
    Marginals,
    fit_marginals,
    marginals_unicity,
    sample_marginal_traces,
)
from tests.builders import NO_EDGES, line


def test_model_one_point_one_antenna_each():
    # Everybody: one antenna (clusters of 1 among 5), one point in one of 4 equally likely hours.
    # Another person matches a target's point with chance 1/4 x 1/5.
    m = Marginals(
        activity=np.array([0, 1.0]), frequency=np.array([1.0]), circadian=np.full(4, 0.25)
    )
    r = marginals_unicity(
        m, line(5), [2, 10], n_points_range=1, cluster_size=1, network=NO_EDGES, n_targets=500,
        n_clusters=100_000, n_hour_sets=100_000, rng=0,
    )  # fmt: skip
    got = r.table["unicity"].to_numpy()
    np.testing.assert_allclose(got, [(1 - 1 / 20), (1 - 1 / 20) ** 9], atol=0.005)


@pytest.mark.slow
def test_model_every_hour_two_antennas():
    # Everybody at every hour, each hour at one of the two antennas of their (only) cluster with
    # chance 1/2: another person holds p given points with chance 1/2^p, whatever the hours.
    net = (np.array([0, 1, 2]), np.array([1, 0]))
    m = Marginals(activity=np.array([0, 0, 0, 0, 1.0]), frequency=np.array([0.5, 0.5]),
                  circadian=np.full(4, 0.25))  # fmt: skip
    r = marginals_unicity(m, line(2), [2, 5], n_points_range=(1, 2), cluster_size=2, network=net,
                          n_targets=300, rng=0)  # fmt: skip
    want = {(1, 2): 0.5, (1, 5): 0.5**4, (2, 2): 0.75, (2, 5): 0.75**4}
    for row in r.table.itertuples():
        assert row.unicity == pytest.approx(want[(row.n_points, row.n_devices)], abs=1e-9)


@pytest.mark.slow
def test_model_agrees_with_drawing_the_people(region):
    """The shortcut (1 - P)^(n - 1) gives what drawing n synthetic people and attacking them gives."""
    m = fit_marginals(region.traces)
    grid = pd.DataFrame({"antenna_id": range(100), "x_km": np.repeat(np.arange(10.0), 10),
                         "y_km": np.tile(np.arange(10.0), 10)})  # fmt: skip
    people = sample_marginal_traces(m, 3_000, grid, rng=1)
    assert people["device_id"].nunique() <= 3_000
    measured = unicity(people, 2, n_targets=2_000, rng=2).value
    model = marginals_unicity(m, grid, [3_000], n_points_range=2, n_targets=2_000, rng=3)
    assert model.table["unicity"].iloc[0] == pytest.approx(measured, abs=0.04)
