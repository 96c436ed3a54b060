"""The broker form of a synthetic world looks like a broker's file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints import audit as A
from fewpoints.io import Projection

# ---------------------------------------------------------------------------
# broker form
# ---------------------------------------------------------------------------


def test_broker_form_looks_like_a_brokers_file(tiny_world):
    traces = tiny_world.observations["pings"]
    b = A.broker_form(traces, rng=1)
    assert list(b.columns) == [
        "advertiser_id", "timestamp", "latitude", "longitude", "horizontal_accuracy",
    ]  # fmt: skip
    ids = b["advertiser_id"].astype(str)
    assert ids.str.fullmatch(
        r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}"
    ).all()
    # one ID per device, sorted as the devices are
    pairs = pd.DataFrame({"old": traces["device_id"].astype(str), "new": ids}).drop_duplicates()
    assert pairs["old"].is_unique and pairs["new"].is_unique
    pairs = pairs.sort_values("old")
    assert pairs["new"].is_monotonic_increasing
    # Unix seconds in UTC of Phoenix local times (UTC-7 all year)
    local = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    assert np.array_equal(b["timestamp"].to_numpy(), local + 7 * 3600)
    # degrees near Phoenix, read back to the city's own kilometres
    assert b["latitude"].between(32, 34).all() and b["longitude"].between(-113, -111).all()
    proj = Projection.for_data(b["latitude"], b["longitude"])
    x, y = proj.forward(b["latitude"], b["longitude"])
    assert np.abs(x - traces["x_km"].to_numpy()).max() < 1e-9
    assert np.abs(y - traces["y_km"].to_numpy()).max() < 1e-9
    assert np.array_equal(b["horizontal_accuracy"].to_numpy(), traces["accuracy_m"].to_numpy())
    # call records get the stated accuracy of an antenna
    assert (
        A.broker_form(tiny_world.observations["cdr"], rng=1)["horizontal_accuracy"] == 1000
    ).all()
