"""Properties of anonymity sets that hold for any data and any seed (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.anonymize import coarsen_space, coarsen_time
from fewpoints.attacks import PointIndex, unicity, worst_case_risk
from tests.builders import tables

SETTINGS = settings(max_examples=40, deadline=None)


def _with_seconds(traces: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Spread times within the hour so that time coarsening merges points."""
    rng = np.random.default_rng(seed)
    secs = rng.integers(0, 3600, len(traces)) * rng.integers(0, 2, len(traces))
    return traces.assign(time=traces["time"] + pd.to_timedelta(secs, unit="s"))


@pytest.mark.slow
@SETTINGS
@given(traces=tables, seed=st.integers(0, 2**32 - 1), p=st.integers(1, 4), extra=st.integers(1, 4))
def test_more_known_points_never_enlarge_an_anonymity_set(traces, seed, p, extra):
    index = PointIndex.from_traces(traces)
    m = index.points_per_device()
    if m.max() < p:
        return
    res = unicity(index, p, n_targets=50, rng=seed)
    rng = np.random.default_rng(seed)
    # Add up to `extra` more of each target's own points to what the attacker knows.
    more = []
    for dev, grp in res.points.groupby("device_id", sort=False):
        own = traces[traces["device_id"] == dev].drop_duplicates(["x_km", "y_km", "time"])
        add = own.sample(n=min(extra, len(own)), random_state=rng.integers(2**31))
        more.append(pd.concat([grp, add[["device_id", "x_km", "y_km", "time"]]]))
    bigger = index.count_matching(pd.concat(more))
    assert (bigger.to_numpy() <= res.targets["anonymity_set_size"].to_numpy()).all()
    assert (bigger.to_numpy() >= 1).all()


@pytest.mark.slow
@SETTINGS
@given(
    traces=tables,
    seed=st.integers(0, 2**32 - 1),
    p=st.integers(1, 4),
    cell=st.sampled_from([0.3, 1.0, 2.5, 10.0]),
    time_bin=st.sampled_from(["10min", "1h", "3h", "1D"]),
)
def test_coarser_space_or_time_never_shrinks_an_anonymity_set(traces, seed, p, cell, time_bin):
    traces = _with_seconds(traces, seed)
    index = PointIndex.from_traces(traces)
    if index.points_per_device().max() < p:
        return
    res = unicity(index, p, n_targets=50, rng=seed)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bin that changes nothing is fine here
        for coarsen in (
            lambda df: coarsen_space(df, cell_km=cell),
            lambda df: coarsen_time(df, time_bin=time_bin),
            lambda df: coarsen_time(coarsen_space(df, cell_km=cell), time_bin=time_bin),
        ):
            coarse_traces = coarsen(traces)
            coarse_points = coarsen(res.points)
            sizes = PointIndex.from_traces(coarse_traces).count_matching(coarse_points)
            assert (sizes.to_numpy() >= res.targets["anonymity_set_size"].to_numpy()).all()


@pytest.mark.slow
@SETTINGS
@given(traces=tables, seed=st.integers(0, 2**32 - 1), p=st.integers(1, 3))
def test_relabelling_devices_changes_nothing(traces, seed, p):
    rng = np.random.default_rng(seed)
    labels = traces["device_id"].unique()
    new = dict(
        zip(labels, [f"x{v:08x}" for v in rng.permutation(10**6)[: len(labels)]], strict=True)
    )
    relabelled = traces.assign(device_id=traces["device_id"].map(new)).sample(
        frac=1, random_state=1
    )
    a, b = PointIndex.from_traces(traces), PointIndex.from_traces(relabelled)
    if a.points_per_device().max() < p:
        return
    res = unicity(a, p, n_targets=1000, rng=seed)
    moved = res.points.assign(device_id=res.points["device_id"].map(new))
    assert b.count_matching(moved).tolist() == res.targets["anonymity_set_size"].tolist()
    # Census-style knowledge (every eligible device a target) gives the same sets per device.
    for knowledge in ("top", "home_work"):
        try:
            ra = unicity(a, 1, n_targets=1000, knowledge=knowledge, rng=seed)
        except ValueError:
            continue
        rb = unicity(b, 1, n_targets=1000, knowledge=knowledge, rng=seed)
        sa = dict(
            zip(ra.targets["device_id"].map(new), ra.targets["anonymity_set_size"], strict=True)
        )
        sb = dict(zip(rb.targets["device_id"], rb.targets["anonymity_set_size"], strict=True))
        assert sa == sb


@SETTINGS
@given(traces=tables, seed=st.integers(0, 2**32 - 1), p=st.integers(1, 3))
def test_duplicated_records_change_nothing(traces, seed, p):
    doubled = pd.concat([traces, traces.sample(frac=0.7, random_state=seed % 2**31)])
    a, b = PointIndex.from_traces(traces), PointIndex.from_traces(doubled)
    np.testing.assert_array_equal(a.points.keys, b.points.keys)
    np.testing.assert_array_equal(a.dev_points, b.dev_points)
    if a.points_per_device().max() < p:
        return
    ra, rb = unicity(a, p, rng=seed), unicity(b, p, rng=seed)
    pd.testing.assert_frame_equal(ra.targets, rb.targets)
    pd.testing.assert_frame_equal(ra.points, rb.points)
    wa, wb = worst_case_risk(a, p, rng=seed), worst_case_risk(b, p, rng=seed)
    pd.testing.assert_frame_equal(wa.targets, wb.targets)
