"""Aggregates and DP counts: exact counts by hand, the Laplace spread, the cap, the documented rounding."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.defenses import aggregate, dp_aggregate, dp_release
from fewpoints.schema import FewpointsError
from tests.builders import _hour, random_traces, traces_from

# ---------------------------------------------------------------------------
# aggregate
# ---------------------------------------------------------------------------


def test_aggregate_counts_distinct_devices_per_cell_and_hour():
    # A is the cell (0.5, 0.5), B is (1.5, 0.5). ana is at A twice in hour 8: counted once.
    traces = traces_from({"ana": ["A@08", "A@08", "B@09"], "ben": ["A@08", "B@09"], "cy": ["B@08"]})
    traces.loc[1, "time"] += pd.Timedelta(minutes=30)
    out = aggregate(traces, cell_km=1.0, time_bin="1h")
    assert list(out.columns) == ["x_km", "y_km", "time", "devices"]
    assert out.to_dict("list") == {
        "x_km": [0.5, 1.5, 1.5],
        "y_km": [0.5, 0.5, 0.5],
        "time": [_hour(8), _hour(8), _hour(9)],
        "devices": [2, 1, 2],
    }
    # Coarser cells and bins merge them: A and B share the 2 km cell (1, 1).
    two = aggregate(traces, cell_km=2.0, time_bin="2h")
    assert two.to_dict("list") == {
        "x_km": [1.0],
        "y_km": [1.0],
        "time": [_hour(8)],
        "devices": [3],
    }


def test_aggregate_matches_a_plain_pandas_count():
    traces = random_traces(3)
    traces["time"] += pd.to_timedelta(np.arange(len(traces)) * 731 % 3600, unit="s")
    out = aggregate(traces, cell_km=0.5, time_bin="30min")
    x = (np.floor(traces["x_km"] / 0.5) + 0.5) * 0.5
    y = (np.floor(traces["y_km"] / 0.5) + 0.5) * 0.5
    t = traces["time"].dt.floor("30min")
    want = (
        pd.DataFrame({"x_km": x, "y_km": y, "time": t, "d": traces["device_id"]})
        .groupby(["time", "x_km", "y_km"])["d"]
        .nunique()
        .reset_index(name="devices")[["x_km", "y_km", "time", "devices"]]
    )
    pd.testing.assert_frame_equal(out, want, check_dtype=False)


def test_aggregate_on_a_sparse_grid_gives_the_same_counts():
    # Two places 2,000 km apart: the grid between them is too large to index densely.
    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08"], "cy": ["B@09"]})
    far = traces.assign(x_km=np.where(traces["x_km"] > 1, 2000.5, 0.5))
    out = aggregate(far)
    assert out["x_km"].tolist() == [0.5, 2000.5] and out["devices"].tolist() == [2, 2]
    assert out["time"].tolist() == [_hour(8), _hour(9)]


@pytest.mark.parametrize(
    ("opt", "bad"), [("cell_km", 0), ("cell_km", "wide"), ("time_bin", "soon")]
)
def test_aggregate_refuses_bad_grids(opt, bad):
    with pytest.raises(FewpointsError, match=opt):
        aggregate(random_traces(0), **{opt: bad})


# ---------------------------------------------------------------------------
# dp_aggregate
# ---------------------------------------------------------------------------


def test_dp_release_covers_every_cell_of_the_grid_not_only_visited_ones():
    traces = traces_from({"ana": ["A@08"], "ben": ["A@08", "B@09"]})
    release = dp_release(
        traces,
        epsilon=1.0,
        bounds=(0, 3, 0, 2),
        period=(_hour(8), _hour(11)),
        post_process="none",
        rng=0,
    )
    out = release.table
    # 3 x 2 cells x 4 hours, each with its own noise, visited or not.
    assert len(out) == 24 == release.domain_cells
    assert out[["x_km", "y_km", "time"]].drop_duplicates().shape[0] == 24
    assert out["devices"].dtype == np.float64
    assert release.sensitivity == 50 and release.noise_scale == 50.0
    rounded = dp_aggregate(traces, epsilon=1.0, bounds=(0, 3, 0, 2), rng=0)
    assert (rounded["devices"] > 0).all() and rounded["devices"].dtype == np.int64


def test_dp_release_with_little_noise_is_the_true_table():
    traces = random_traces(4)
    truth = aggregate(traces)
    release = dp_release(traces, epsilon=1e9, max_cells_per_device=10_000, rng=1)
    pd.testing.assert_frame_equal(release.table, truth)
    assert release.capped_share == 0.0


def test_dp_aggregate_is_the_table_of_dp_release_and_its_old_attrs_warn():
    traces = random_traces(6)
    release = dp_release(traces, epsilon=0.5, max_cells_per_device=3, rng=7)
    out = dp_aggregate(traces, epsilon=0.5, max_cells_per_device=3, rng=7)
    pd.testing.assert_frame_equal(out, release.table)
    assert release.table.attrs == {}
    for name in ("epsilon", "sensitivity", "noise_scale", "domain_cells", "capped_share"):
        with pytest.warns(DeprecationWarning, match="dp_release"):
            assert out.attrs[name] == getattr(release, name)
    with pytest.warns(DeprecationWarning, match="dp_release"):
        assert out.attrs.get("capped_share") == release.capped_share
    assert 0 < release.capped_share < 1 and release.noise_scale == 6.0


def test_same_seed_same_release_and_another_seed_another():
    traces = random_traces(5)
    a = dp_aggregate(traces, epsilon=0.5, max_cells_per_device=3, rng=7)
    b = dp_aggregate(traces, epsilon=0.5, max_cells_per_device=3, rng=7)
    c = dp_aggregate(traces, epsilon=0.5, max_cells_per_device=3, rng=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": -1}, "epsilon"),
        ({"epsilon": 1, "max_cells_per_device": 0}, "max_cells_per_device"),
        ({"epsilon": 1, "max_cells_per_device": 2.5}, "max_cells_per_device"),
        ({"epsilon": 1, "post_process": "clip"}, "post_process"),
        ({"epsilon": 1, "bounds": (0, 1)}, "bounds"),
        ({"epsilon": 1, "bounds": (0, 1e6, 0, 1e6)}, "grid"),
        ({"epsilon": 1, "period": ("2026-03-05", "2026-03-02")}, "period"),
    ],
)
def test_dp_refuses_bad_options(opts, match):
    with pytest.raises(FewpointsError, match=match):
        dp_aggregate(random_traces(0), **opts)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cap=st.integers(1, 8))
def test_no_device_contributes_more_than_the_cap(seed, cap):
    traces = random_traces(seed % 1000, n_devices=15)
    # Nearly no noise: the release is the capped count of each cell.
    out = dp_aggregate(traces, epsilon=1e9, max_cells_per_device=cap, post_process="none", rng=seed)
    truth = aggregate(traces)
    per_device = traces.assign(
        cell=np.floor(traces["x_km"]).astype(str) + np.floor(traces["y_km"]).astype(str),
        hour=traces["time"].dt.floor("1h"),
    ).drop_duplicates(["device_id", "cell", "hour"])
    kept = np.minimum(per_device.groupby("device_id").size(), cap).sum()
    assert out["devices"].round().sum() == kept
    # Each cell holds at most its true count, and never less than zero.
    t, r = _on_grid(truth, out)
    assert (np.round(r) <= t).all() and (np.round(r) >= 0).all()


def _on_grid(truth, released):
    from fewpoints.defenses import _align

    return _align(truth, released)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    epsilon=st.floats(0.1, 10),
    cap=st.integers(1, 20),
)
def test_dp_noise_is_unbiased_with_the_laplace_spread(seed, epsilon, cap):
    # 3 devices, each in 2 cells (under any cap >= 2 nothing is cut) over a
    # large public grid: 40 x 50 cells x 24 hours = 48,000 independent draws.
    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08", "C@10"], "cy": ["B@08", "B@09"]})
    cap = max(cap, 2)
    out = dp_aggregate(
        traces,
        epsilon=epsilon,
        max_cells_per_device=cap,
        bounds=(0, 40, 0, 50),
        period=(_hour(0), _hour(23)),
        post_process="none",
        rng=seed,
    )
    t, r = _on_grid(aggregate(traces), out)
    err = r - t
    scale = cap / epsilon
    n = len(err)
    assert n == 48_000
    # Laplace: mean 0, standard deviation sqrt(2) * scale.
    assert abs(err.mean()) < 5 * math.sqrt(2) * scale / math.sqrt(n)
    assert err.std() == pytest.approx(math.sqrt(2) * scale, rel=0.05)
    assert np.median(np.abs(err)) == pytest.approx(scale * math.log(2), rel=0.05)


def test_rounding_biases_empty_cells_upwards_as_documented():
    traces = traces_from({"ana": ["A@08"]})
    out = dp_aggregate(
        traces,
        epsilon=1.0,
        max_cells_per_device=5,
        bounds=(0, 100, 0, 100),
        period=(_hour(8), _hour(8)),
        rng=3,
    )
    # Mean release of an empty cell: E[max(round(L), 0)] is close to scale / 2 = 2.5.
    total = out["devices"].sum() / 10_000
    assert total == pytest.approx(2.5, abs=0.15)
