"""Pseudonyms: each device renamed once, or once per rotation period, with fresh strings."""

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

from fewpoints.anonymize import WeakTransformWarning, pseudonymize
from fewpoints.schema import FewpointsError
from tests.builders import _check_schema, random_traces, traces_from


def _per_device(df: pd.DataFrame) -> list[list[tuple]]:
    """Each device's records without its name: what renaming must leave untouched."""
    groups = df.groupby(df["device_id"].astype(str), sort=False)
    return sorted(
        sorted(zip(g["time"].astype("int64"), g["x_km"], g["y_km"], strict=True)) for _, g in groups
    )


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


@pytest.mark.slow
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
