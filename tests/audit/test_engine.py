"""Choosing the engine for a file: in memory or Dask."""

from __future__ import annotations

import pytest

from fewpoints import audit as A
from fewpoints.schema import InputError


def test_choose_engine(tmp_path, tiny_world):
    csv = tmp_path / "t.csv"
    tiny_world.traces.to_csv(csv, index=False)
    pq = tmp_path / "t.parquet"
    tiny_world.traces.assign(device_id=tiny_world.traces["device_id"].astype(str)).to_parquet(pq)
    assert A.choose_engine(csv, "auto", available=10**12) == "memory"
    assert A.choose_engine(pq, "auto", available=10**12) == "memory"
    assert A.choose_engine(pq, "auto", available=1000) == "dask"
    with pytest.raises(InputError, match="Dask engine reads Parquet"):
        A.choose_engine(csv, "auto", available=1000)
    with pytest.raises(InputError, match="Dask engine reads Parquet"):
        A.choose_engine(csv, "dask")
    assert A.estimate_records(pq) == len(tiny_world.traces)
