"""The population tests share one region: the world the axes are for."""

from __future__ import annotations

import pytest

import fewpoints


@pytest.fixture(scope="package")
def region():
    return fewpoints.make_world("region", rng=3, n_people=6_000, days=7)
