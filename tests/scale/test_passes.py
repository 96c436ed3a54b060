"""Pass 3's broadcast join: the hash filter finds exactly the records a plain join finds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.scale.passes import count_partition, known_rows

EXAMPLES = settings(max_examples=60, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)


def known_of(x, y, t) -> dict:
    """The engine's ``known`` layout for these distinct points (only the values are read here)."""
    return {"x": np.asarray(x, dtype=np.float64), "y": np.asarray(y, dtype=np.float64),
            "t": np.asarray(t, dtype=np.int64)}  # fmt: skip


def merged(x, y, t, known: dict) -> tuple[np.ndarray, np.ndarray]:
    """The same join by pandas: every record equal to a known point, and that point's row."""
    rec = pd.DataFrame({"x": x, "y": y, "t": t, "row": np.arange(len(x))})
    pts = pd.DataFrame({"x": known["x"], "y": known["y"], "t": known["t"]})
    pts["pid"] = np.arange(len(pts))
    hit = rec.merge(pts, on=["x", "y", "t"]).sort_values("row")
    return hit["row"].to_numpy(), hit["pid"].to_numpy()


def test_a_hand_built_join():
    x = np.array([1.0, 1.0, 2.5, 0.0, 1.0, 2.5])
    y = np.array([3.0, 3.0, 3.0, 7.0, 3.0, 4.0])
    t = np.array([60, 120, 60, 0, 60, 60])
    known = known_of([2.5, 1.0, 0.0, 9.0], [3.0, 3.0, 7.0, 9.0], [60, 60, 0, 60])
    for bits in (None, 1):
        rows, pid = known_rows(x, y, t, known, bits=bits)
        assert rows.tolist() == [0, 2, 3, 4]
        assert pid.tolist() == [1, 0, 2, 1]


def test_minus_zero_is_zero_in_the_known_points():
    """Records hold 0.0 for -0.0 (partition_columns); a known point given as -0.0 still matches."""
    known = known_of([-0.0], [1.0], [5])
    rows, pid = known_rows(np.array([0.0, 0.0]), np.array([1.0, 1.0]), np.array([5, 6]), known)
    assert rows.tolist() == [0] and pid.tolist() == [0]


@EXAMPLES
@given(SEEDS, st.integers(0, 400), st.integers(1, 6), st.integers(1, 30),
       st.sampled_from([None, 1, 3]), st.booleans())  # fmt: skip
def test_the_filter_loses_and_adds_nothing(seed, n, grid, n_known, bits, by_location):
    """Against pandas' join for any records, with a table small enough that most hashes collide."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, grid, n) * 0.5
    y = rng.integers(0, grid, n) * 1.25
    t = rng.integers(0, grid, n) * 3600
    kx = rng.integers(0, grid + 1, n_known) * 0.5
    ky = rng.integers(0, grid + 1, n_known) * 1.25
    kt = rng.integers(0, grid + 1, n_known) * 3600
    pts = pd.DataFrame({"x": kx, "y": ky, "t": kt}).drop_duplicates()
    known = known_of(pts["x"], pts["y"], pts["t"])
    want = merged(x, y, t, known)
    if by_location:  # the sweep's form: a table of locations and each record's row in it
        table = pd.DataFrame({"x": x, "y": y}).drop_duplicates().reset_index(drop=True)
        loc = table.reset_index().merge(pd.DataFrame({"x": x, "y": y}), on=["x", "y"], how="right")
        got = known_rows(table["x"].to_numpy(), table["y"].to_numpy(), t, known,
                         loc=loc["index"].to_numpy(), bits=bits)  # fmt: skip
    else:
        got = known_rows(x, y, t, known, bits=bits)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@EXAMPLES
@given(SEEDS, st.integers(1, 300), st.integers(1, 8), st.integers(1, 6),
       st.sampled_from(["device then time", "shuffled", "time then device"]))  # fmt: skip
def test_points_per_device_in_any_order(seed, n, n_dev, n_times, order):
    """Pass 1's count equals the distinct (x, y, time) per device, records sorted or not.

    Few devices, times and places, so that records repeat a point, share a
    second at two places, and (sorted by device then time) form runs.
    """
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "device_id": pd.Categorical([f"d{k}" for k in rng.integers(0, n_dev, n)]),
            "time": pd.to_datetime(rng.integers(0, n_times, n) * 60, unit="s"),
            "x_km": rng.integers(0, 3, n) * 1.0,
            "y_km": rng.integers(0, 2, n) * 0.5,
        }
    )
    if order == "device then time":
        df = df.sort_values(["device_id", "time"], kind="stable")
    elif order == "time then device":
        df = df.sort_values(["time", "device_id"], kind="stable")
    got = count_partition(df.reset_index(drop=True))
    want = df.drop_duplicates().groupby("device_id", observed=True).size()
    records = df.groupby("device_id", observed=True).size()
    assert got["device_id"].tolist() == sorted(want.index.astype(str))
    assert got["n_points"].tolist() == want.sort_index().tolist()
    assert got["n_records"].tolist() == records.sort_index().tolist()
