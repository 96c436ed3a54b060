"""Coarsening: new frames, same schema, the right cells and bins, and a warning when nothing changes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time
from fewpoints.schema import FewpointsError, validate_traces
from test_unicity import random_traces


def test_coarsen_space_snaps_to_cell_centres_without_touching_the_input():
    traces = pd.DataFrame(
        {
            "device_id": ["a", "a", "b", "b"],
            "time": pd.to_datetime(["2026-03-02 08:00"] * 4).astype("datetime64[s]"),
            "x_km": [0.1, 0.9, 1.2, -0.3],
            "y_km": [2.4, 2.6, -1.9, 0.0],
            "antenna_id": np.array([1, 2, 3, 4], dtype=np.int32),
        }
    )
    before = traces.copy()
    out = coarsen_space(traces, cell_km=1.0)
    pd.testing.assert_frame_equal(traces, before)
    assert out["x_km"].tolist() == [0.5, 0.5, 1.5, -0.5]
    assert out["y_km"].tolist() == [2.5, 2.5, -1.5, 0.5]
    assert "antenna_id" not in out.columns  # it would reveal the finer location
    validate_traces(out)


def test_coarsen_time_floors_to_bins_and_keeps_the_schema():
    traces = random_traces(0)
    traces["time"] = traces["time"] + pd.to_timedelta(np.arange(len(traces)) * 37 % 7200, unit="s")
    before = traces.copy()
    out = coarsen_time(traces, time_bin="1h")
    pd.testing.assert_frame_equal(traces, before)
    assert out["time"].dtype == "datetime64[s]"
    assert (out["time"] == traces["time"].dt.floor("1h")).all()
    assert (out["time"] <= traces["time"]).all()
    assert list(out.columns) == list(traces.columns)
    day = coarsen_time(traces, time_bin="1D")
    assert (day["time"].dt.hour == 0).all()


def test_a_bin_that_changes_nothing_warns():
    traces = random_traces(1)  # on the hour already
    with pytest.warns(WeakTransformWarning, match="changed nothing"):
        coarsen_time(traces, time_bin="1h")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coarsen_time(traces, time_bin="2h")


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "wide"])
def test_bad_cells_and_bins(bad):
    traces = random_traces(2)
    with pytest.raises(FewpointsError):
        coarsen_space(traces, cell_km=bad)
    with pytest.raises(FewpointsError):
        coarsen_time(traces, time_bin=bad if isinstance(bad, str) else "0s")


# ---------------------------------------------------------------------------
# the other transforms: tables whose answer is obvious by eye
# ---------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fewpoints.anonymize import (  # noqa: E402
    add_noise,
    geo_indistinguishable,
    merge_antennas,
    pseudonymize,
    sample_devices,
    subsample,
    suppress_rare,
    truncate,
)
from fewpoints.attacks import PointIndex, unicity  # noqa: E402
from test_unicity import traces_from  # noqa: E402


def _records(df: pd.DataFrame) -> list[tuple]:
    """Each row as (device, time, x, y), sorted: a table's content regardless of row order."""
    return sorted(
        zip(
            df["device_id"].astype(str),
            df["time"].astype("int64"),
            df["x_km"].round(9),
            df["y_km"].round(9),
            strict=True,
        )
    )


def _per_device(df: pd.DataFrame) -> list[list[tuple]]:
    """Each device's records without its name: what renaming must leave untouched."""
    groups = df.groupby(df["device_id"].astype(str), sort=False)
    return sorted(
        sorted(zip(g["time"].astype("int64"), g["x_km"], g["y_km"], strict=True)) for _, g in groups
    )


def _check_schema(out: pd.DataFrame) -> None:
    validate_traces(out)
    assert (
        isinstance(out["device_id"].dtype, pd.CategoricalDtype) or out["device_id"].dtype != object
    )
    if isinstance(out["device_id"].dtype, pd.CategoricalDtype):
        assert out["device_id"].cat.codes.is_monotonic_increasing
        assert len(out["device_id"].cat.categories) == out["device_id"].nunique()
    assert out["time"].dtype == "datetime64[s]"


def test_pseudonymize_renames_each_device_once_and_keeps_every_record():
    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08"], "cy": ["C@1/10", "A@2/08"]})
    before = traces.copy()
    with pytest.warns(WeakTransformWarning, match="anonymity set is unchanged"):
        out = pseudonymize(traces, rng=3)
    pd.testing.assert_frame_equal(traces, before)
    _check_schema(out)
    assert out["device_id"].nunique() == 3
    assert not set(out["device_id"].astype(str)) & {"ana", "ben", "cy"}
    assert all(len(d) == 12 and int(d, 16) >= 0 for d in out["device_id"].astype(str))
    assert _per_device(out) == _per_device(traces)
    with pytest.warns(WeakTransformWarning):
        again = pseudonymize(traces, rng=3)
    pd.testing.assert_frame_equal(out, again)  # same seed, same table


def test_rotation_splits_a_device_per_day_or_per_week():
    traces = traces_from({"ana": ["A@08", "B@1/09", "A@1/20", "C@8/08"], "ben": ["A@08"]})
    daily = pseudonymize(traces, rotate="1D", rng=0)
    _check_schema(daily)
    # ana: days 0, 1 and 8 -> three IDs; ben: one.
    assert daily["device_id"].nunique() == 4
    sizes = sorted(daily.groupby("device_id", observed=True).size().tolist())
    assert sizes == [1, 1, 1, 2]
    weekly = pseudonymize(traces, rotate="7D", rng=0)
    assert weekly["device_id"].nunique() == 3  # ana's week 1 and week 2, and ben
    with pytest.warns(WeakTransformWarning, match="no ID rotates"):
        pseudonymize(traces, rotate="30D", rng=0)
    with pytest.raises(FewpointsError, match="rotate"):
        pseudonymize(traces, rotate="often")


def _pieces(raw: pd.DataFrame, out: pd.DataFrame, period_s: int) -> pd.DataFrame:
    """Which (old device, period) each output row's new ID stands for, matched row by row.

    ``out`` holds the rows of ``raw`` (with a row number column ``row``) in some order.
    """
    src = raw.loc[out["row"].to_numpy()]
    day0 = raw["time"].min().normalize()
    return pd.DataFrame(
        {
            "new": out["device_id"].astype(str).to_numpy(),
            "old": src["device_id"].astype(str).to_numpy(),
            "period": ((src["time"] - day0).dt.total_seconds() // period_s).to_numpy(),
        }
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shuffle=st.booleans(), rotate=st.sampled_from([None, "1D"]))
def test_pseudonyms_are_fresh_and_each_stands_for_one_device_period(seed, shuffle, rotate):
    rng = np.random.default_rng(seed)
    raw = random_traces(seed % 1000, n_devices=12, n_places=4, n_hours=60, max_records=9)
    raw = raw.assign(row=np.arange(len(raw)))  # an extra column, carried along
    if shuffle:  # rows in no particular order: the slow path must agree
        raw = raw.iloc[rng.permutation(len(raw))].reset_index(drop=True)
        raw["row"] = np.arange(len(raw))
    before = raw.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        out = pseudonymize(raw, rotate=rotate, rng=seed)
        again = pseudonymize(raw, rotate=rotate, rng=seed)
    pd.testing.assert_frame_equal(raw, before)
    pd.testing.assert_frame_equal(out, again)
    _check_schema(out)
    assert sorted(out["row"]) == list(range(len(raw)))  # every record once
    pieces = _pieces(raw, out, 86_400 if rotate else 10**12)
    # One new ID per (device, period) and back: no ID shared by two devices or periods.
    assert (pieces.groupby("new")[["old", "period"]].nunique() == 1).all().all()
    assert pieces.groupby(["old", "period"])["new"].nunique().eq(1).all()
    assert not set(pieces["new"]) & set(pieces["old"])
    # Rows sorted by new ID, each piece's rows in their input order.
    assert out["device_id"].astype(str).is_monotonic_increasing
    assert (
        out.groupby("device_id", observed=True)["row"]
        .apply(lambda r: r.is_monotonic_increasing)
        .all()
    )


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
def test_pseudonyms_are_the_same_strings_with_or_without_pyarrow(storage):
    pytest.importorskip("pyarrow") if storage == "pyarrow" else None
    traces = traces_from({"ana": ["A@08", "B@1/09"], "ben": ["A@08"], "cy": ["C@1/10"]})
    with pd.option_context("mode.string_storage", storage):
        out = pseudonymize(traces, rotate="1D", rng=7)
    cats = out["device_id"].cat.categories
    assert cats.dtype == "str" and cats.is_unique and cats.is_monotonic_increasing
    assert all(len(c) == 12 and int(c, 16) >= 0 for c in cats)
    with pd.option_context("mode.string_storage", "python"):
        reference = pseudonymize(traces, rotate="1D", rng=7)
    assert list(out["device_id"].astype(str)) == list(reference["device_id"].astype(str))


def _four_antennas() -> tuple[pd.DataFrame, pd.DataFrame]:
    antennas = pd.DataFrame(
        {
            "antenna_id": np.array([10, 11, 12, 13], dtype=np.int32),
            "x_km": [0.0, 0.0, 10.0, 10.0],
            "y_km": [0.0, 1.0, 0.0, 1.0],
        }
    )
    t = pd.to_datetime(["2026-03-02 08:00"] * 4).astype("datetime64[s]")
    traces = pd.DataFrame(
        {
            "device_id": ["a", "a", "b", "b"],
            "time": t,
            "x_km": [0.0, 10.0, 9.8, 0.1],
            "y_km": [1.0, 0.0, 0.2, 0.1],
            "antenna_id": pd.array([11, 12, None, None], dtype="Int32"),
        }
    )
    return antennas, traces


@pytest.mark.parametrize("seed", range(5))
def test_merge_antennas_moves_records_to_the_centre_of_their_pair(seed):
    antennas, traces = _four_antennas()
    before = traces.copy()
    out = merge_antennas(traces, antennas, v=2, rng=seed)
    pd.testing.assert_frame_equal(traces, before)
    # Two clusters: antennas 10+11 at (0, 0.5) and 12+13 at (10, 0.5); the
    # records without antenna_id go to their nearest antenna's cluster.
    assert out["x_km"].tolist() == [0.0, 10.0, 10.0, 0.0]
    assert out["y_km"].tolist() == [0.5, 0.5, 0.5, 0.5]
    assert "antenna_id" not in out.columns
    validate_traces(out)
    everything = merge_antennas(traces, antennas, v=4, rng=seed)
    assert set(zip(everything["x_km"], everything["y_km"], strict=True)) == {(5.0, 0.5)}


def test_merge_antennas_warns_when_nothing_merges_and_refuses_bad_v():
    antennas, traces = _four_antennas()
    with pytest.warns(WeakTransformWarning, match="stays on its own"):
        out = merge_antennas(traces, antennas, v=1, rng=0)
    assert out["x_km"].tolist() == [0.0, 10.0, 10.0, 0.0]
    for bad in (0, 0.5, -2, "many", float("nan")):
        with pytest.raises(FewpointsError, match="v must"):
            merge_antennas(traces, antennas, v=bad)


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
    out = add_noise(traces, sigma_m=200, rng=1)
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
        add_noise(traces, sigma_m=1, rng=1)
    for bad in (0, -5, "loud"):
        with pytest.raises(FewpointsError):
            add_noise(traces, sigma_m=bad)
        with pytest.raises(FewpointsError):
            geo_indistinguishable(traces, epsilon_per_km=bad)


def test_noise_on_antenna_data_warns_below_the_antenna_spacing(tiny_world):
    cdr = tiny_world.observations["cdr"]
    with pytest.warns(WeakTransformWarning, match="spacing of the antennas"):
        out = add_noise(cdr, sigma_m=5, rng=0)
    assert "antenna_id" not in out.columns


def test_subsample_and_sample_devices_keep_the_asked_share():
    traces = random_traces(4, n_devices=400, max_records=30)
    half = subsample(traces, keep=0.5, rng=2)
    assert len(half) == pytest.approx(len(traces) / 2, rel=0.1)
    assert set(_records(half)) <= set(_records(traces))
    some = sample_devices(traces, keep=0.25, rng=2)
    assert some["device_id"].nunique() == 100
    kept = set(some["device_id"])
    assert _records(some) == _records(traces[traces["device_id"].isin(kept)])
    for f in (subsample, sample_devices):
        with pytest.warns(WeakTransformWarning, match="keeps everything"):
            f(traces, keep=1.0)
        for bad in (0, -0.1, 1.5, "half"):
            with pytest.raises(FewpointsError, match="keep must"):
                f(traces, keep=bad)


def test_suppress_rare_drops_points_fewer_than_k_devices_share():
    traces = traces_from(
        {
            "ana": ["A@08", "B@09", "C@10"],
            "ben": ["A@08", "B@09"],
            "cy": ["A@08", "A@08", "D@11"],
        }
    )
    out = suppress_rare(traces, k=2)
    assert _records(out) == _records(
        traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08", "B@09"], "cy": ["A@08", "A@08"]})
    )
    three = suppress_rare(traces, k=3)
    assert sorted(three["device_id"].unique()) == ["ana", "ben", "cy"]
    assert len(three) == 4  # the record of cy at A@08 appears twice
    with pytest.warns(WeakTransformWarning, match="removed nothing"):
        suppress_rare(traces, k=1)
    with pytest.raises(FewpointsError, match="release nothing"):
        suppress_rare(traces, k=4)
    for bad in (0, 2.5, "two", True):
        with pytest.raises(FewpointsError, match="k must"):
            suppress_rare(traces, k=bad)


def test_truncate_keeps_the_first_days():
    traces = traces_from({"ana": ["A@08", "B@1/09", "C@2/23"], "ben": ["A@3/08"]})
    out = truncate(traces, days=2)
    assert _records(out) == _records(traces_from({"ana": ["A@08", "B@1/09"]}))
    with pytest.warns(WeakTransformWarning, match="spans 4 day"):
        truncate(traces, days=4)
    for bad in (0, 1.5, "week"):
        with pytest.raises(FewpointsError, match="days must"):
            truncate(traces, days=bad)


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
        "merge_antennas": lambda t: merge_antennas(t, antennas, v=2, rng=seed),
        "coarsen_space": lambda t: coarsen_space(t, cell_km=2.0),
        "coarsen_time": lambda t: coarsen_time(t, time_bin="3h"),
        "add_noise": lambda t: add_noise(t, sigma_m=300, rng=seed),
        "geo_indistinguishable": lambda t: geo_indistinguishable(t, epsilon_per_km=2, rng=seed),
        "subsample": lambda t: subsample(t, keep=0.6, rng=seed),
        "sample_devices": lambda t: sample_devices(t, keep=0.6, rng=seed),
        "truncate": lambda t: truncate(t, days=1),
        "suppress_rare": lambda t: suppress_rare(t, k=2),
    }


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
            lambda t: merge_antennas(t, antennas, v=2, rng=seed),
            lambda t: merge_antennas(t, antennas, v=3, rng=seed),
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
