"""The projection of latitude and longitude: round trips, distances as documented, equal area, the centre."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.io import Projection, centre_counts

# ---------------------------------------------------------------------------
# the projection
# ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    lat0=st.integers(-70, 70),
    lon0=st.integers(-180, 179),
    dx=st.floats(-1500, 1500),
    dy=st.floats(-1500, 1500),
)
def test_projection_round_trips(lat0, lon0, dx, dy):
    proj = Projection(float(lat0), float(lon0))
    lat, lon = proj.inverse([dx], [dy])
    assert -90 <= lat[0] <= 90 and -180 <= lon[0] < 180
    x, y = proj.forward(lat, lon)
    assert x[0] == pytest.approx(dx, abs=1e-8) and y[0] == pytest.approx(dy, abs=1e-8)


def _great_circle_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dl = np.deg2rad(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(h))


@pytest.mark.parametrize(("radius", "bound"), [(500, 0.001), (1000, 0.0035), (2000, 0.013)])
def test_projection_keeps_distances_as_documented(radius, bound):
    # Short steps (10 km) anywhere within `radius` of the centre: the projected length is
    # within `bound` of the great-circle length, in every direction.
    proj = Projection(45.0, 10.0)
    rng = np.random.default_rng(1)
    r = radius * np.sqrt(rng.random(2000))
    a = rng.random(2000) * 2 * np.pi
    x, y = r * np.cos(a), r * np.sin(a)
    b = rng.random(2000) * 2 * np.pi
    lat1, lon1 = proj.inverse(x, y)
    lat2, lon2 = proj.inverse(x + 10 * np.cos(b), y + 10 * np.sin(b))
    err = 10 / _great_circle_km(lat1, lon1, lat2, lon2) - 1
    assert np.abs(err).max() <= bound


def test_projection_is_equal_area():
    # A 0.1 x 0.1 degree cell far from the centre keeps its area on the sphere.
    proj = Projection(40.0, -100.0)
    lat, lon = 48.0, -80.0
    corners_lat = np.array([lat, lat, lat + 0.1, lat + 0.1])
    corners_lon = np.array([lon, lon + 0.1, lon + 0.1, lon])
    x, y = proj.forward(corners_lat, corners_lon)
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    R = 6371.0088
    true = R**2 * np.deg2rad(0.1) * (np.sin(np.deg2rad(lat + 0.1)) - np.sin(np.deg2rad(lat)))
    assert area == pytest.approx(true, rel=2e-4)


def test_projection_centre_rule():
    # The median fix to the degree; stray fixes far away do not move it.
    lat = np.r_[np.full(1000, 48.85), [-33.9, 35.7]]
    lon = np.r_[np.full(1000, 2.35), [151.2, 139.7]]
    assert Projection.for_data(lat, lon) == Projection(49.0, 2.0)
    # Fixes either side of the antimeridian stay together (Fiji).
    lon = np.r_[np.full(600, 179.6), np.full(500, -179.7)]
    proj = Projection.for_data(np.full(1100, -17.8), lon)
    assert proj == Projection(-18.0, 180.0) or proj == Projection(-18.0, -180.0)
    x, _ = proj.forward(np.full(2, -17.8), np.array([179.6, -179.7]))
    assert abs(x[1] - x[0]) == pytest.approx(0.7 * 111.2 * np.cos(np.deg2rad(17.8)), rel=0.01)


def test_projection_centre_from_parts_equals_whole():
    rng = np.random.default_rng(3)
    lat, lon = 20 + rng.normal(0, 2, 5000), 100 + rng.normal(0, 3, 5000)
    parts = [centre_counts(lat[i::3], lon[i::3]) for i in range(3)]
    summed = [sum(p[k] for p in parts) for k in range(2)]
    assert Projection.from_counts(*summed) == Projection.for_data(lat, lon)
