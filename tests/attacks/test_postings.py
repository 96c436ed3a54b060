"""Bitset posting lists and coarsening an index: the same answers as sorted lists and as the table.

The engine keeps points held by many devices as bitsets (``Postings.dense``)
and builds coarse indexes from fine ones (``PointIndex.coarsen``). Neither may
change a single anonymity set, so everything here is compared exactly with
brute force (Python sets) and with indexing the coarsened table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time
from fewpoints.attacks import PointIndex, unicity
from fewpoints.attacks import postings as index_module
from fewpoints.schema import FewpointsError
from tests.builders import random_traces, traces_from

SETTINGS = settings(max_examples=40, deadline=None)

#: Bitset thresholds: every list a bitset, a mix, and no bitset at all.
THRESHOLDS = (1, 2, 5, None, 10**9)


def brute_sets(post, items: np.ndarray, members=None) -> list[int]:
    """Anonymity sets by Python set intersection of the sorted posting lists."""
    out = []
    for row in items:
        common = None
        for item in row:
            lo, hi = post.offsets[item], post.offsets[item + 1]
            devs = set((post.keys[lo:hi] - item * post.n_devices).tolist())
            common = devs if common is None else common & devs
        if members is not None:
            common = {d for d in common if members[d]}
        out.append(len(common))
    return out


def assert_same_index(a: PointIndex, b: PointIndex) -> None:
    """Every array of two indexes equal, dtype included."""
    for name in ("device_ids", "loc_x", "loc_y", "point_loc", "point_time", "dev_offsets"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert getattr(a, name).dtype == getattr(b, name).dtype, name
    np.testing.assert_array_equal(a.dev_points, b.dev_points)
    assert a.dev_points.dtype == b.dev_points.dtype
    np.testing.assert_array_equal(a.points.keys, b.points.keys)
    np.testing.assert_array_equal(a.points.offsets, b.points.offsets)
    assert a.points.n_devices == b.points.n_devices
    assert a.n_records == b.n_records


# ---------------------------------------------------------------------------
# bitsets
# ---------------------------------------------------------------------------


def test_bitset_and_list_answers_agree_on_a_table_read_by_eye():
    # A@08 is held by everyone, B@09 by ana, bo and cy, C@10 by ana only.
    traces = traces_from(
        {
            "ana": ["A@08", "B@09", "C@10"],
            "bo": ["A@08", "B@09"],
            "cy": ["A@08", "B@09"],
            "di": ["A@08"],
            "ed": ["A@08"],
        }
    )
    index = PointIndex.from_traces(traces)
    a, b, c = index.point_codes([0.5, 1.5, 2.5], [0.5, 0.5, 0.5], traces["time"].iloc[:3])
    items = np.array([[a, a], [a, b], [b, a], [a, c], [b, c], [c, c]])
    for dense_min in THRESHOLDS:
        post = index.points.with_dense_min(dense_min)
        assert post.anonymity_sets(items).tolist() == [5, 3, 3, 1, 1, 1]
        members = np.array([False, True, True, True, False])  # bo, cy, di
        assert post.anonymity_sets(items, members=members).tolist() == [3, 2, 2, 0, 0, 0]
    slot, bits = index.points.with_dense_min(3).dense()
    assert slot[[a, b, c]].tolist() == [0, 1, -1]  # 5 and 3 devices: bitsets; 1: a list
    assert bits.shape == (2, 1)
    assert int(bits[0, 0]) == 0b11111 and int(bits[1, 0]) == 0b00111  # devices ana..ed = 0..4


def test_bitsets_span_several_words_and_a_partial_last_word():
    n_dev = 150  # 3 words, the last one partly used
    devs = np.arange(n_dev)
    item0 = devs  # everyone
    item1 = devs[devs % 3 == 0]
    item2 = devs[(devs >= 60) & (devs < 130)]
    items = np.concatenate([np.zeros(len(item0)), np.ones(len(item1)), np.full(len(item2), 2)])
    post = index_module.Postings.from_pairs(
        items.astype(np.int64), np.concatenate([item0, item1, item2]), 3, n_dev
    )
    query = np.array([[0, 1], [1, 2], [0, 2], [1, 0], [2, 2]])
    expected = [50, len(set(item1) & set(item2)), 70, 50, 70]
    for dense_min in THRESHOLDS:
        assert post.with_dense_min(dense_min).anonymity_sets(query).tolist() == expected
    members = devs % 2 == 0
    assert post.with_dense_min(1).anonymity_sets(query, members=members).tolist() == [
        brute_sets(post, query, members)[i] for i in range(5)
    ]


def test_popcount_table_agrees_with_the_native_count():
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**63, size=(7, 5), dtype=np.int64).astype(np.uint64)
    words[0] = np.uint64(2**64 - 1)
    words[1] = 0
    expected = [sum(bin(int(w)).count("1") for w in row) for row in words]
    assert index_module._popcount_rows_table(words).tolist() == expected
    if hasattr(np, "bitwise_count"):
        assert index_module._popcount_rows_native(words).tolist() == expected


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    n_devices=st.integers(1, 200),
    p=st.integers(1, 5),
    dense_min=st.sampled_from(THRESHOLDS),
    with_members=st.booleans(),
    chunk=st.sampled_from([1, 7, 1 << 22]),
)
def test_anonymity_sets_equal_brute_force_for_any_bitset_threshold(
    seed, n_devices, p, dense_min, with_members, chunk
):
    traces = random_traces(seed, n_devices=n_devices, n_places=3, n_hours=4, max_records=10)
    index = PointIndex.from_traces(traces)
    rng = np.random.default_rng(seed)
    items = rng.integers(0, index.n_points, size=(30, p))
    members = rng.random(index.n_devices) < 0.6 if with_members else None
    post = index.points.with_dense_min(dense_min)
    got = post.anonymity_sets(items, members=members, max_work=chunk)
    assert got.tolist() == brute_sets(index.points, items, members)


def test_popcount_fallback_gives_the_same_unicity(monkeypatch):
    traces = random_traces(3, n_devices=120, n_places=3, n_hours=3)
    native = unicity(traces, 3, n_targets=100, rng=1)
    monkeypatch.setattr(index_module, "popcount_rows", index_module._popcount_rows_table)
    fallback = unicity(traces, 3, n_targets=100, rng=1)
    pd.testing.assert_frame_equal(native.targets, fallback.targets)


# ---------------------------------------------------------------------------
# coarsening an index
# ---------------------------------------------------------------------------


def _with_seconds(traces: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    secs = rng.integers(0, 3600, len(traces)) * rng.integers(0, 2, len(traces))
    return traces.assign(time=traces["time"] + pd.to_timedelta(secs, unit="s"))


def _coarse_table(traces, cell_km, time_bin):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bin that changes nothing is fine here
        out = traces if cell_km is None else coarsen_space(traces, cell_km=cell_km)
        return out if time_bin is None else coarsen_time(out, time_bin=time_bin)


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    n_devices=st.integers(2, 60),
    cell=st.sampled_from([None, 0.3, 1.0, 2.5, 10.0]),
    time_bin=st.sampled_from([None, "10min", "1h", "3h", "1D"]),
)
def test_coarsened_index_equals_the_index_of_the_coarsened_table(seed, n_devices, cell, time_bin):
    traces = _with_seconds(random_traces(seed, n_devices=n_devices, n_places=8), seed)
    index = PointIndex.from_traces(traces)
    coarse = index.coarsen(cell_km=cell, time_bin=time_bin)
    assert_same_index(coarse, PointIndex.from_traces(_coarse_table(traces, cell, time_bin)))
    # Coarsening twice is coarsening once to the coarser grid (bins that nest).
    if time_bin in ("10min", "1h"):
        twice = coarse.coarsen(time_bin="3h")
        assert_same_index(twice, index.coarsen(cell_km=cell, time_bin="3h"))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), p=st.integers(1, 4), time_bin=st.sampled_from(["1h", "4h"]))
def test_unicity_on_a_coarsened_index_matches_the_table_and_brute_force(seed, p, time_bin):
    traces = _with_seconds(random_traces(seed, n_devices=50, n_places=8), seed)
    table = _coarse_table(traces, 2.0, time_bin)
    coarse = PointIndex.from_traces(traces).coarsen(cell_km=2.0, time_bin=time_bin)
    if coarse.points_per_device().max() < p:
        return
    a = unicity(coarse, p, n_targets=40, rng=seed)
    b = unicity(table, p, n_targets=40, rng=seed)
    pd.testing.assert_frame_equal(a.targets, b.targets)
    pd.testing.assert_frame_equal(a.points, b.points)
    # Brute force on the coarse table itself.
    for dev, pts in a.points.groupby("device_id", sort=False):
        holders = None
        for x, y, t in zip(pts["x_km"], pts["y_km"], pts["time"], strict=True):
            at = table[(table["x_km"] == x) & (table["y_km"] == y) & (table["time"] == t)]
            devs = set(at["device_id"])
            holders = devs if holders is None else holders & devs
        size = a.targets.loc[a.targets["device_id"] == dev, "anonymity_set_size"].iloc[0]
        assert size == len(holders)


def test_coarsen_with_a_location_mapping_merges_postings():
    # A and B merge into one place; C stays. ana and bo meet there at 08.
    traces = traces_from({"ana": ["A@08", "C@09"], "bo": ["B@08", "C@09"], "cy": ["C@08"]})
    index = PointIndex.from_traces(traces)
    locs = index.locations()
    assert locs.to_dict("list") == {"x_km": [0.5, 1.5, 2.5], "y_km": [0.5, 0.5, 0.5]}
    merged = locs.assign(x_km=[1.0, 1.0, 2.5])
    coarse = index.coarsen(locations=merged)
    moved = traces.assign(x_km=traces["x_km"].replace({0.5: 1.0, 1.5: 1.0}))
    assert_same_index(coarse, PointIndex.from_traces(moved))
    code = coarse.point_codes([1.0, 2.5], [0.5, 0.5], moved["time"].iloc[:2])
    assert coarse.points.anonymity_sets(code[None, :]).tolist() == [2]
    assert coarse.coarsen(time_bin="1D").points.anonymity_sets(code[:1, None]).tolist() == [2]


def test_coarsen_rejects_bad_input_in_one_line():
    index = PointIndex.from_traces(traces_from({"ana": ["A@08"], "bo": ["B@09"]}))
    with pytest.raises(FewpointsError, match="not both"):
        index.coarsen(cell_km=1.0, locations=index.locations())
    with pytest.raises(FewpointsError, match="1 rows"):
        index.coarsen(locations=index.locations().iloc[:1])
    with pytest.raises(FewpointsError, match="x_km and y_km"):
        index.coarsen(locations=pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(FewpointsError, match="infinite"):
        index.coarsen(locations=index.locations().assign(x_km=[np.nan, 1.0]))
    with pytest.raises(FewpointsError, match="cell_km"):
        index.coarsen(cell_km=-1)
    with pytest.raises(FewpointsError, match="time_bin"):
        index.coarsen(time_bin="soon")


# ---------------------------------------------------------------------------
# resolution_sweep builds its coarse indexes from the base index
# ---------------------------------------------------------------------------


def _table_path(monkeypatch, traces, **kwargs):
    """The sweep with every coarse index built from the coarsened table (the reference)."""
    from fewpoints.attacks import resolution

    real = resolution._sweep_rows
    calls = []

    def by_table(*args):
        calls.append(args[-1])
        return real(*args[:-1], False)

    with monkeypatch.context() as m:
        m.setattr(resolution, "_sweep_rows", by_table)
        out = resolution.resolution_sweep(traces, **kwargs)
    assert calls == [True]  # the public path coarsens the index
    return out


def test_sweep_by_coarsening_the_index_equals_the_table_path_with_cells(monkeypatch):
    from fewpoints.attacks import resolution_sweep

    traces = _with_seconds(random_traces(1, n_devices=150, n_places=20, n_hours=48), 1)
    kwargs = {"time_bin": [None, "1h", "4h"], "n_points": [2, 3], "n_targets": 60}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = resolution_sweep(traces, cell_km=[None, 0.7, 2.0], rng=5, **kwargs)
        slow = _table_path(monkeypatch, traces, cell_km=[None, 0.7, 2.0], rng=5, **kwargs)
    pd.testing.assert_frame_equal(fast.table, slow.table)
    pd.testing.assert_frame_equal(fast.fit, slow.fit)
    assert fast.table["unicity"].nunique() > 2  # the sweep measured something


def test_sweep_with_merged_antennas_equals_the_table_path(monkeypatch, tiny_world):
    from fewpoints.attacks import resolution_sweep

    traces = tiny_world.observations["cdr"]
    antennas = tiny_world.antennas
    kwargs = {"time_bin": ["1h", "6h"], "n_points": [2], "n_targets": 80}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = resolution_sweep(traces, antennas=antennas, merge_v=[1, 2, 5], rng=3, **kwargs)
        slow = _table_path(
            monkeypatch, traces, antennas=antennas, merge_v=[1, 2, 5], rng=3, **kwargs
        )
    pd.testing.assert_frame_equal(fast.table, slow.table)
    assert (fast.table.loc[fast.table["merge_v"] == 5, "v"] > 3).all()


def test_records_away_from_their_antenna_fall_back_to_the_table(tiny_world):
    from fewpoints.attacks.resolution import _records_at_antennas

    traces = tiny_world.observations["cdr"]
    antennas = tiny_world.antennas
    assert _records_at_antennas(traces, antennas)
    moved = traces.assign(x_km=traces["x_km"] + np.where(np.arange(len(traces)) == 3, 0.01, 0))
    assert not _records_at_antennas(moved, antennas)
    assert not _records_at_antennas(traces.assign(antenna_id=-5), antennas)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_devices=st.integers(1, 40))
def test_a_targets_points_are_the_same_before_and_after_sorting_every_device(seed, n_devices):
    traces = random_traces(seed, n_devices=n_devices)
    lazy = PointIndex.from_traces(traces)
    eager = PointIndex.from_traces(traces)
    eager.dev_points  # noqa: B018 - sort every device's points now
    rng = np.random.default_rng(seed)
    devices = rng.integers(0, lazy.n_devices, 15)  # repeats allowed
    ranks = rng.integers(0, 1000, (15, 3)) % lazy.points_per_device()[devices][:, None]
    got = lazy.nth_points(devices, ranks)
    assert lazy._dev_points is None  # only these devices were sorted
    np.testing.assert_array_equal(got, eager.nth_points(devices, ranks))
    for index in (lazy, eager):
        rows, pts = index.device_points(devices)
        for i, d in enumerate(devices):
            own = traces[traces["device_id"] == index.device_ids[d]]
            codes = index.point_codes(own["x_km"], own["y_km"], own["time"])
            assert pts[rows == i].tolist() == sorted(set(codes.tolist()))


def test_coarsening_that_merges_nothing_returns_the_same_index():
    traces = traces_from({"ana": ["A@08", "B@09"], "bo": ["B@08"]})
    index = PointIndex.from_traces(traces)
    with pytest.warns(WeakTransformWarning):
        assert index.coarsen(time_bin="1h") is index
    assert index.coarsen(cell_km=1.0) is index  # cell centres are where the places are
    moved = index.coarsen(cell_km=2.0)  # A and B merge into (1, 1)
    assert moved is not index and moved.n_locations == 1
    shifted = index.coarsen(locations=index.locations().assign(y_km=3.0))  # moved, not merged
    assert shifted is not index and shifted.loc_y.tolist() == [3.0, 3.0]
