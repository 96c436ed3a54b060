"""The audit on the Dask engine gives the in-memory numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints import audit as A

# ---------------------------------------------------------------------------
# the Dask engine: the in-memory audit's numbers, partition by partition
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["cdr", "pings"])
def test_audit_dask_gives_the_in_memory_numbers(tiny_world, tiny_audits, model):
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    traces = tiny_world.observations[model].copy()
    traces["device_id"] = traces["device_id"].astype(str)
    ids = np.sort(traces["device_id"].unique())
    parts = [traces[traces["device_id"].isin(g)] for g in np.array_split(ids, 3)]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=traces.iloc[:0])
    a = tiny_audits[model]
    with dask.config.set(scheduler="synchronous"):
        b = A.audit_dask(ddf, source=a.source, places=tiny_world.places, sizes=a.sizes, rng=4)
    assert b.engine == "dask"
    pd.testing.assert_frame_equal(a.curve, b.curve, check_dtype=False)
    cols = ["cell_km", "time_bin", "h", "n_points", "unicity", "ci_low", "ci_high", "n_targets"]
    pd.testing.assert_frame_equal(a.sweep.table[cols], b.sweep.table[cols], check_dtype=False)
    pd.testing.assert_frame_equal(a.anonymity, b.anonymity, check_dtype=False)
    pd.testing.assert_frame_equal(a.sensitive, b.sensitive, check_dtype=False)
    pd.testing.assert_frame_equal(a.risk, b.risk, check_dtype=False)
    assert a.home_work == b.home_work
    assert {k: v for k, v in a.about.items() if k != "reading"} == {
        k: v for k, v in b.about.items() if k != "reading"
    }
    for key in ("moved_km", "shifted_minutes"):
        assert a.costs[key].keys() == b.costs[key].keys()
        for k in a.costs[key]:
            assert b.costs[key][k] == pytest.approx(a.costs[key][k], rel=1e-12, abs=1e-12)
    assert (a.release is None) == (b.release is None)
    if a.release is not None:
        assert a.release["words"] == b.release["words"]
        assert a.release["unicity"] == b.release["unicity"]
