"""Shared fixtures: worlds are generated once per test session and never modified."""

from __future__ import annotations

import pytest

import fewpoints


@pytest.fixture(scope="session")
def tiny_world():
    """200 people, 7 days, both observation models (about 0.1 s)."""
    return fewpoints.make_world("tiny", rng=11)


@pytest.fixture(scope="session")
def medium_world():
    """The classroom preset (5,000 people, 4 weeks): large enough for statistical checks."""
    return fewpoints.make_world("classroom", rng=5)
