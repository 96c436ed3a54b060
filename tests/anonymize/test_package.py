"""Properties every transform of the package keeps, for any table and any seed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

# ---------------------------------------------------------------------------
# the other transforms: tables whose answer is obvious by eye
# ---------------------------------------------------------------------------
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.anonymize import (
    WeakTransformWarning,
    add_noise,
    coarsen_space,
    coarsen_time,
    geo_indistinguishable,
    merge_antennas,
    pseudonymize,
    sample_devices,
    subsample,
    suppress_rare,
    truncate,
)
from fewpoints.attacks import PointIndex, unicity
from fewpoints.schema import FewpointsError
from tests.builders import _check_schema, _records, random_traces

# ---------------------------------------------------------------------------
# properties for any table and any seed
# ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=30, deadline=None)


tables = st.builds(
    random_traces,
    st.integers(0, 2**32 - 1),
    n_devices=st.integers(2, 30),
    n_places=st.integers(1, 6),
    n_hours=st.integers(1, 60),
    max_records=st.integers(1, 12),
)


def _on_antennas(traces: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The random table's places as antennas (ids 100 + place) and the table located at them."""
    x = traces["x_km"].to_numpy()
    y = traces["y_km"].to_numpy()
    place = (np.round(x - 0.25) + 3 * np.round(y + 0.75)).astype(int)
    antennas = pd.DataFrame(
        {
            "antenna_id": np.arange(100, 106, dtype=np.int32),
            "x_km": np.arange(6) % 3 + 0.25,
            "y_km": np.arange(6) // 3 - 0.75,
        }
    )
    out = traces.assign(
        device_id=pd.Categorical(traces["device_id"]), antenna_id=(100 + place).astype(np.int32)
    )
    return out.sort_values("device_id", kind="stable").reset_index(drop=True), antennas


def _all_transforms(antennas, seed):
    return {
        "pseudonymize": lambda t: pseudonymize(t, rng=seed),
        "rotate": lambda t: pseudonymize(t, rotate="1D", rng=seed),
        "merge_antennas": lambda t: merge_antennas(t, antennas, merge_v=2, rng=seed),
        "coarsen_space": lambda t: coarsen_space(t, cell_km=2.0),
        "coarsen_time": lambda t: coarsen_time(t, time_bin="3h"),
        "add_noise": lambda t: add_noise(t, sigma_km=0.3, rng=seed),
        "geo_indistinguishable": lambda t: geo_indistinguishable(t, epsilon_per_km=2, rng=seed),
        "subsample": lambda t: subsample(t, keep=0.6, rng=seed),
        "sample_devices": lambda t: sample_devices(t, keep=0.6, rng=seed),
        "truncate": lambda t: truncate(t, days=1),
        "suppress_rare": lambda t: suppress_rare(t, k=2),
    }


@pytest.mark.slow
@SETTINGS
@given(raw=tables, seed=st.integers(0, 2**32 - 1))
def test_every_transform_keeps_the_schema_and_invents_nothing(raw, seed):
    traces, antennas = _on_antennas(raw)
    before = traces.copy()
    for name, transform in _all_transforms(antennas, seed).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakTransformWarning)
            try:
                out = transform(traces)
            except FewpointsError as exc:  # an empty release is refused, never returned
                msg = str(exc)
                assert "kept no record" in msg or (
                    name == "suppress_rare" and "release nothing" in msg
                ), (name, msg)
                continue
        pd.testing.assert_frame_equal(traces, before)
        _check_schema(out)
        assert set(out.columns) <= set(traces.columns), name
        if name in ("pseudonymize", "rotate"):
            # The same records, each trace (or piece of it) under one new name.
            pieces = out.groupby("device_id", observed=True)
            assert sorted(_records(out.assign(device_id="x"))) == sorted(
                _records(traces.assign(device_id="x"))
            )
            assert pieces.ngroups >= traces["device_id"].nunique()
        elif name in ("subsample", "sample_devices", "truncate", "suppress_rare"):
            # A subset of the input records.
            left = pd.Series(_records(traces)).value_counts()
            right = pd.Series(_records(out)).value_counts()
            assert (right <= left.reindex(right.index, fill_value=0)).all(), name
        else:
            # Row by row: the same device at the same (or a coarser) time, moved in space.
            assert len(out) == len(traces), name
            assert (out["device_id"].astype(str) == traces["device_id"].astype(str)).all()
            assert (out["time"] <= traces["time"]).all()
            assert (traces["time"] - out["time"]).max() < pd.Timedelta("3h")


@pytest.mark.slow
@SETTINGS
@given(raw=tables, seed=st.integers(0, 2**32 - 1), p=st.integers(1, 4))
def test_coarsening_never_shrinks_an_anonymity_set_and_renaming_changes_none(raw, seed, p):
    traces, antennas = _on_antennas(raw)
    traces = traces.assign(
        time=traces["time"]
        + pd.to_timedelta(np.random.default_rng(seed).integers(0, 3600, len(traces)), unit="s")
    )
    index = PointIndex.from_traces(traces)
    if index.points_per_device().max() < p:
        return
    res = unicity(index, p, n_targets=50, rng=seed)
    sizes = res.targets["anonymity_set_size"].to_numpy()
    # The known points are rows of the table; a coarsening keeps rows in place.
    known = traces.reset_index().merge(res.points, on=["device_id", "x_km", "y_km", "time"])
    known = known.drop_duplicates(["device_id", "x_km", "y_km", "time"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        for coarsen in (
            lambda t: merge_antennas(t, antennas, merge_v=2, rng=seed),
            lambda t: merge_antennas(t, antennas, merge_v=3, rng=seed),
            lambda t: coarsen_space(t, cell_km=1.5),
            lambda t: coarsen_time(t, time_bin="2h"),
        ):
            coarse = coarsen(traces)
            pts = coarse.loc[known["index"], ["x_km", "y_km", "time"]].assign(
                device_id=known["device_id"].to_numpy()
            )
            got = PointIndex.from_traces(coarse).count_matching(pts)
            got = got.reindex(res.targets["device_id"].to_numpy()).to_numpy()
            assert (got >= sizes).all()
        renamed = pseudonymize(traces, rng=seed)
    after = PointIndex.from_traces(renamed).count_matching(res.points)
    np.testing.assert_array_equal(after.reindex(res.targets["device_id"]).to_numpy(), sizes)


@SETTINGS
@given(raw=tables, k=st.integers(1, 5))
def test_suppress_rare_leaves_no_point_shared_by_fewer_than_k(raw, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        try:
            out = suppress_rare(raw, k=k)
        except FewpointsError:
            shared = raw.groupby(["x_km", "y_km", "time"])["device_id"].nunique()
            assert shared.max() < k
            return
    shared = out.groupby(["x_km", "y_km", "time"])["device_id"].nunique()
    assert shared.min() >= k
    # And nothing it could keep was dropped.
    raw_shared = raw.groupby(["x_km", "y_km", "time"])["device_id"].nunique()
    assert len(out) == int(
        raw.join(raw_shared.rename("n"), on=["x_km", "y_km", "time"])["n"].ge(k).sum()
    )


@pytest.mark.slow
@SETTINGS
@given(raw=tables, k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_suppress_rare_through_antennas_keeps_the_same_records(raw, k, seed):
    # Antenna data is coded through antenna_id; ids that disagree with the
    # coordinates (two antennas at one place, one id at two places) must not
    # change which records are kept.
    located, _ = _on_antennas(raw)
    rng = np.random.default_rng(seed)
    relabelled = located.assign(antenna_id=rng.integers(0, 3, len(located)).astype(np.int32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        try:
            expected = _records(suppress_rare(located.drop(columns="antenna_id"), k=k))
        except FewpointsError:
            for table in (located, relabelled):
                with pytest.raises(FewpointsError, match="release nothing"):
                    suppress_rare(table, k=k)
            return
        for table in (located, relabelled):
            out = suppress_rare(table, k=k)
            _check_schema(out)
            assert _records(out) == expected
