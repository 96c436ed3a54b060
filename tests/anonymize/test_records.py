"""Dropping records and devices: subsample, sample_devices, suppress_rare and truncate keep what they say."""

from __future__ import annotations

import pytest

# ---------------------------------------------------------------------------
# the other transforms: tables whose answer is obvious by eye
# ---------------------------------------------------------------------------
from fewpoints.anonymize import (
    WeakTransformWarning,
    sample_devices,
    subsample,
    suppress_rare,
    truncate,
)
from fewpoints.schema import FewpointsError
from tests.builders import _records, random_traces, traces_from


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
