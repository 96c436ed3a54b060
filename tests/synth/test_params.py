"""Calibration: on the "unique-in-the-crowd" world, unicity has the published shape.

Published (de Montjoye et al. 2013, "Unique in the Crowd", Sci. Rep. 3:1376;
1.5M people, antenna x hour): 4 random points single out 95% of people,
2 points more than half, and halving the resolution lowers unicity only a
little (uniqueness decays as about the 1/10 power of resolution, about 9% at
p = 4). The synthetic world is not tuned to the attack: these numbers emerge
from realistic settings (114 events a month, 230 residents per antenna,
routines). The values measured here are synthetic and reported in the README.
"""

from __future__ import annotations

import pytest

import fewpoints
from fewpoints.anonymize import coarsen_time
from fewpoints.attacks import PointIndex, unicity

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crowd_traces():
    return fewpoints.make_world("unique-in-the-crowd", rng=2013).traces


@pytest.fixture(scope="module")
def hourly(crowd_traces):
    return PointIndex.from_traces(crowd_traces)


def test_two_points_single_out_more_than_half(hourly):
    result = unicity(hourly, 2, n_targets=10_000, rng=1)
    assert result.ci_low > 0.50


def test_four_points_single_out_about_95_percent(hourly):
    result = unicity(hourly, 4, n_targets=10_000, rng=1)
    assert 0.92 <= result.ci_low and result.ci_high <= 0.98


def test_halving_time_resolution_lowers_unicity_by_less_than_15_percent(crowd_traces, hourly):
    fine = unicity(hourly, 4, n_targets=10_000, rng=2)
    coarse = unicity(coarsen_time(crowd_traces, time_bin="2h"), 4, n_targets=10_000, rng=2)
    drop = 1 - coarse.value / fine.value
    assert 0 < drop < 0.15
