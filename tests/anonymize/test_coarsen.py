"""Coarsening and merging antennas: new frames, same schema, the right cells and bins, and a warning when nothing changes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

# ---------------------------------------------------------------------------
# the other transforms: tables whose answer is obvious by eye
# ---------------------------------------------------------------------------
from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time, merge_antennas
from fewpoints.schema import FewpointsError, validate_traces
from tests.builders import random_traces


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
    out = merge_antennas(traces, antennas, merge_v=2, rng=seed)
    pd.testing.assert_frame_equal(traces, before)
    # Two clusters: antennas 10+11 at (0, 0.5) and 12+13 at (10, 0.5); the
    # records without antenna_id go to their nearest antenna's cluster.
    assert out["x_km"].tolist() == [0.0, 10.0, 10.0, 0.0]
    assert out["y_km"].tolist() == [0.5, 0.5, 0.5, 0.5]
    assert "antenna_id" not in out.columns
    validate_traces(out)
    everything = merge_antennas(traces, antennas, merge_v=4, rng=seed)
    assert set(zip(everything["x_km"], everything["y_km"], strict=True)) == {(5.0, 0.5)}


def test_merge_antennas_warns_when_nothing_merges_and_refuses_bad_v():
    antennas, traces = _four_antennas()
    with pytest.warns(WeakTransformWarning, match="stays on its own"):
        out = merge_antennas(traces, antennas, merge_v=1, rng=0)
    assert out["x_km"].tolist() == [0.0, 10.0, 10.0, 0.0]
    for bad in (0, 0.5, -2, "many", float("nan")):
        with pytest.raises(FewpointsError, match="v must"):
            merge_antennas(traces, antennas, merge_v=bad)
