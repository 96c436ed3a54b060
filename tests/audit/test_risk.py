"""Per-device risk: exact on a hand-built table and against brute force."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints import audit as A
from fewpoints.attacks import PointIndex
from tests.builders import random_traces, traces_from

# ---------------------------------------------------------------------------
# per-device risk: exact on a table whose answer is plain by eye
# ---------------------------------------------------------------------------

#: cy and eve hold only a point everyone has; dan's one point is his alone; fay, gus and hal
#: each hold two points shared with one other device each, unique only together.
RISK_SPEC = {
    "cy": ["A@08"],
    "eve": ["A@08"],
    "dan": ["D@10"],
    "fay": ["A@08", "G@12"],
    "gus": ["G@12", "H@13"],
    "hal": ["A@08", "H@13"],
}


@pytest.mark.parametrize("seed", range(5))
def test_per_device_risk_exact_on_a_hand_built_table(seed):
    risk = A.per_device_risk(traces_from(RISK_SPEC), max_points=4, n_targets=100, rng=seed)
    by = risk.set_index("fewest_points")["n_devices"]
    assert by[1] == 1  # dan
    assert by[2] == 3  # fay, gus, hal: whatever order their points come in
    assert by[0] == 2  # cy and eve: every point they have is shared
    assert by[5] == 0 and by[3] == 0 and by[4] == 0
    assert risk["n_targets"].iloc[0] == 6
    assert risk["share"].sum() == pytest.approx(1.0)
    cum = risk.set_index("fewest_points")["cumulative"]
    assert cum[1] == pytest.approx(1 / 6) and cum[4] == pytest.approx(4 / 6)


def test_per_device_risk_not_within_max_points():
    # With one point revealed, fay, gus and hal are not singled out yet (they have more).
    risk = A.per_device_risk(traces_from(RISK_SPEC), max_points=1, n_targets=100, rng=0)
    by = risk.set_index("fewest_points")["n_devices"]
    assert (by[1], by[2], by[0]) == (1, 3, 2)  # 2 = "not within 1 point"
    assert list(risk["label"]) == [
        "1 point",
        "not within 1 points",
        "never (all its points shared)",
    ]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 6))
def test_per_device_risk_agrees_with_brute_force(seed, p):
    traces = random_traces(seed, n_devices=25)
    index = PointIndex.from_traces(traces)
    risk = A.per_device_risk(index, max_points=p, n_targets=1_000, rng=seed)
    assert risk["share"].sum() == pytest.approx(1.0)
    # Devices whose own points are all shared by one other device cannot be singled out;
    # devices with a point of their own are singled out by some order of at most p points.
    pts = traces.assign(t=traces["time"].astype("int64"))[["device_id", "x_km", "y_km", "t"]]
    pts = pts.drop_duplicates()
    sets = pts.groupby("device_id").apply(
        lambda g: frozenset(map(tuple, g[["x_km", "y_km", "t"]].to_numpy())), include_groups=False
    )
    never = sum(any(a <= b for j, b in sets.items() if j != i) for i, a in sets.items())
    by = risk.set_index("fewest_points")["n_devices"]
    assert by[0] <= never  # "never" needs all its points held by one other device
    small = sum(len(s) <= p for s in sets)
    assert by[0] + by[1:p + 1].sum() >= small - by[p + 1]  # fmt: skip
