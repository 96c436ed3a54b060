"""Pass 3's holder sets: exact against brute force, and bounded by the pairs at any coarseness."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time
from fewpoints.attacks import unicity
from fewpoints.scale.holders import holder_counts, holder_pairs
from fewpoints.scale.passes import sweep_match_partition

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")


def known_of(points_of: list[list[int]], n_known: int) -> dict:
    """A ``known`` dict (the engine's layout) for targets knowing the point ids ``points_of[g]``."""
    owner = np.concatenate([np.full(len(p), g) for g, p in enumerate(points_of)]).astype(np.int64)
    pid = np.concatenate([np.asarray(p) for p in points_of]).astype(np.int64)
    order = np.argsort(pid, kind="stable")
    offsets = np.zeros(n_known + 1, dtype=np.int64)
    np.cumsum(np.bincount(pid, minlength=n_known), out=offsets[1:])
    need = np.array([len(p) for p in points_of], dtype=np.int64)
    return {"offsets": offsets, "targets": owner[order], "need": need}


def brute(dcode, pid, points_of):
    """Per target, the sorted devices holding all its points (sets, by hand)."""
    held = {}
    for d, p in zip(dcode.tolist(), pid.tolist(), strict=True):
        held.setdefault(p, set()).add(d)
    return [sorted(set.intersection(*(held.get(p, set()) for p in pts))) for pts in points_of]


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n_dev=st.integers(1, 70),
    n_known=st.integers(1, 6),
    budget=st.sampled_from([1, 3, 50, 1 << 22]),
    dense=st.sampled_from([1, 4, 64, 10**6]),
)
def test_counts_and_pairs_equal_brute_force(data, n_dev, n_known, budget, dense):
    # dense=1 keeps every point as sorted pairs; 10**6 makes every shared point a bitset;
    # budget=1 puts each target in its own block.
    n = data.draw(st.integers(0, 300))
    dcode = np.asarray(data.draw(st.lists(st.integers(0, n_dev - 1), min_size=n, max_size=n)))
    pid = np.asarray(data.draw(st.lists(st.integers(0, n_known - 1), min_size=n, max_size=n)))
    targets = st.lists(st.integers(0, n_known - 1), min_size=1, max_size=4, unique=True)
    points_of = data.draw(st.lists(targets, min_size=1, max_size=12))
    known = known_of(points_of, n_known)
    want = brute(dcode.astype(np.int64), pid.astype(np.int64), points_of)
    got = holder_counts(dcode, n_dev, pid, known, budget=budget, dense=dense)
    assert got.tolist() == [len(w) for w in want]
    g, d = holder_pairs(dcode, n_dev, pid, known, budget=budget, dense=dense)
    assert list(zip(g.tolist(), d.tolist(), strict=True)) == [
        (t, x) for t, w in enumerate(want) for x in w
    ]


T0 = pd.Timestamp("2026-03-02 08:00")


def crowded(n_dev: int, seed: int = 0) -> pd.DataFrame:
    """The worst case: every device has three fixes inside one 10 km square on one day."""
    rng = np.random.default_rng(seed)
    n = 3 * n_dev
    return pd.DataFrame(
        {
            "device_id": np.repeat([f"d{i:05d}" for i in range(n_dev)], 3),
            "time": T0 + pd.to_timedelta(rng.integers(0, 12 * 3600, n), unit="s"),
            "x_km": rng.uniform(0.1, 9.9, n),
            "y_km": rng.uniform(0.1, 9.9, n),
        }
    )


def test_sweep_where_every_device_holds_the_coarse_point_equals_in_memory():
    from fewpoints.scale import dask_sweep

    df = crowded(120)
    parts = [df.iloc[i : i + 90] for i in range(0, len(df), 90)]  # 30 devices a partition
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=df.iloc[:0])
    jobs = [(10.0, "1D", [1], 3), (None, None, [2], 4)]
    with dask.config.set(scheduler="synchronous"):
        got = dask_sweep(ddf, jobs, n_targets=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        coarse = coarsen_time(coarsen_space(df, cell_km=10.0), time_bin="1D")
    for (res, _), table, (_, _, ps, rng) in zip(got, [coarse, df], jobs, strict=True):
        want = unicity(table, ps[0], n_targets=100, rng=rng)
        pd.testing.assert_frame_equal(res[0].targets, want.targets, check_dtype=False)
        assert res[0].value == want.value
    sizes = got[0][0][0].targets["anonymity_set_size"]
    assert (sizes == 120).all()  # everyone holds the one coarse point
    assert (got[1][0][0].targets["anonymity_set_size"] == 1).all()


def test_matching_memory_stays_with_the_pairs_not_pairs_times_targets():
    # 4,000 devices all hold the one coarse point, known by 4,000 targets: the broadcast
    # join's expansion would be 16M (target, device) rows (128 MB per int64 column).
    n_dev = 4000
    df = crowded(n_dev, seed=1)
    t = int(T0.floor("D").value // 10**9)
    known = known_of([[0]] * n_dev, 1) | {
        "x": np.array([5.0]),
        "y": np.array([5.0]),
        "t": np.array([t], dtype=np.int64),
    }
    tracemalloc.start()
    try:
        frame = sweep_match_partition(df, [known], [(10.0, 86400)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert frame["holders"].tolist() == [n_dev] * n_dev
    assert len(frame) == n_dev  # one row per target, not per (target, holder)
    records = len(df)
    assert peak < 1600 * records  # measured about 340 bytes a record; the old join took 1.2 GB
