"""Noise on coordinates: the asked spread, the antenna dropped, a warning below the antenna spacing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

# ---------------------------------------------------------------------------
# the other transforms: tables whose answer is obvious by eye
# ---------------------------------------------------------------------------
from fewpoints.anonymize import WeakTransformWarning, add_noise, geo_indistinguishable
from fewpoints.schema import FewpointsError


def test_noise_has_the_asked_spread_and_drops_the_antenna():
    n = 20_000
    traces = pd.DataFrame(
        {
            "device_id": pd.Categorical(np.repeat(["a", "b"], n // 2)),
            "time": np.full(n, np.datetime64("2026-03-02T08:00", "s")),
            "x_km": np.zeros(n),
            "y_km": np.ones(n),
            "accuracy_m": np.full(n, 30.0),
        }
    )
    out = add_noise(traces, sigma_km=0.2, rng=1)
    assert out["x_km"].std() == pytest.approx(0.2, rel=0.05)
    assert (out["y_km"] - 1).mean() == pytest.approx(0.0, abs=0.01)
    assert out["accuracy_m"].iloc[0] == pytest.approx(np.hypot(30, 1.5096 * 200), abs=0.1)
    geo = geo_indistinguishable(traces, epsilon_per_km=4.0, rng=1)
    r = np.hypot(geo["x_km"], geo["y_km"] - 1)
    assert r.mean() == pytest.approx(2 / 4.0, rel=0.05)  # Gamma(2, 1/eps): mean 2/eps
    assert np.quantile(r, 0.68) == pytest.approx(2.3457 / 4.0, rel=0.05)
    angle = np.arctan2(geo["y_km"] - 1, geo["x_km"])
    assert np.histogram(angle, bins=4)[0].min() > 0.22 * n  # every direction alike
    with pytest.warns(WeakTransformWarning, match="far below"):
        add_noise(traces, sigma_km=0.001, rng=1)
    for bad in (0, -5, "loud"):
        with pytest.raises(FewpointsError):
            add_noise(traces, sigma_km=bad)
        with pytest.raises(FewpointsError):
            geo_indistinguishable(traces, epsilon_per_km=bad)


def test_noise_on_antenna_data_warns_below_the_antenna_spacing(tiny_world):
    cdr = tiny_world.observations["cdr"]
    with pytest.warns(WeakTransformWarning, match="spacing of the antennas"):
        out = add_noise(cdr, sigma_km=0.005, rng=0)
    assert "antenna_id" not in out.columns
