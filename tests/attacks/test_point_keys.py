"""Building the index by one sort of packed keys: the same index as a plain reference, for any input.

``PointIndex.from_traces`` codes coordinates on integer grids without hashing
when it can, counts times in steps, fills its tables from samples, packs each
record into one key and decodes the sorted keys block by block. None of that
may change a single array, so every test compares, array for array, with a
reference written the plain way (``np.unique`` on rows of floats and ints),
on coordinates of every kind (km to the metre, cell centres, negative,
``-0.0``, lat/lon-sized decimals, GPS-like floats, a grid too fine for a
table), times of every kind (seconds, hours, milliseconds, nanoseconds,
before 1970, one time off the step, time zones) and with every fallback
forced (samples that miss, tiny blocks, keys too wide to pack).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.attacks import PointIndex, record_keys, unicity
from fewpoints.attacks import point_keys as index_module
from fewpoints.attacks.index import location_codes
from fewpoints.common import device_codes

SETTINGS = settings(max_examples=60, deadline=None)
START = np.datetime64("2026-03-02T00:00:00", "s")


def reference_location_codes(x, y):
    """Location codes the plain way: sorted distinct (x, y) rows, -0.0 as 0.0."""
    xy = np.stack([np.asarray(x, dtype=float) + 0.0, np.asarray(y, dtype=float) + 0.0], axis=1)
    uniq, loc = np.unique(xy, axis=0, return_inverse=True)
    return loc.ravel().astype(np.int64), uniq[:, 0], uniq[:, 1]


def reference_index(traces: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every array of the index, built by sorting rows with ``np.unique``."""
    dev, device_ids = device_codes(traces["device_id"])
    n_dev = len(device_ids)
    loc, loc_x, loc_y = reference_location_codes(traces["x_km"], traces["y_km"])
    with warnings.catch_warnings():  # time zones: numpy converts to UTC, with a warning
        warnings.simplefilter("ignore", UserWarning)
        t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    points, pcode = np.unique(np.stack([loc, t], axis=1), axis=0, return_inverse=True)
    keys = np.unique(pcode.ravel() * n_dev + dev)
    n_pts = len(points)
    return {
        "device_ids": device_ids,
        "loc_x": loc_x,
        "loc_y": loc_y,
        "point_loc": points[:, 0],
        "point_time": points[:, 1],
        "keys": keys,
        "offsets": np.searchsorted(keys, np.arange(n_pts + 1) * n_dev),
        "dev_offsets": np.concatenate([[0], np.cumsum(np.bincount(keys % n_dev, minlength=n_dev))]),
    }


def assert_index_is(index: PointIndex, ref: dict[str, np.ndarray]) -> None:
    """The index equals the reference, array for array, with the index's own dtypes."""
    got = {
        "device_ids": index.device_ids,
        "loc_x": index.loc_x,
        "loc_y": index.loc_y,
        "point_loc": index.point_loc,
        "point_time": index.point_time,
        "keys": index.points.keys,
        "offsets": index.points.offsets,
        "dev_offsets": index.dev_offsets,
    }
    for name, want in ref.items():
        np.testing.assert_array_equal(got[name], want, err_msg=name)
    assert index.loc_x.dtype == index.loc_y.dtype == np.float64
    assert index.point_loc.dtype == np.int32
    for name in ("point_time", "keys", "offsets", "dev_offsets"):
        assert got[name].dtype == np.int64, name
    # The cached device of every pair is what the keys say.
    np.testing.assert_array_equal(index.pair_devices(), index.points.keys % index.n_devices)
    assert index.pair_devices().dtype == np.int32


# ---------------------------------------------------------------------------
# tables of every kind
# ---------------------------------------------------------------------------

COORDS = (
    "km3",  # km to the metre, as the generator writes them
    "whole",  # whole km, negative too
    "centres",  # centres of 0.5 km cells (odd multiples of 0.25)
    "negative",  # 3 decimals around zero, with -0.0
    "latlon",  # degrees to 1e-6, far from zero
    "gps",  # arbitrary floats: hashed
    "fine",  # 1e-9 km over 1,000 km: a grid too large for a table
    "mixed",  # x on a grid, y not
)


def coordinates(kind: str, place: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    n_places = int(place.max()) + 1
    if kind == "km3":
        px, py = (
            np.round(rng.uniform(0, 30, n_places), 3),
            np.round(rng.uniform(0, 30, n_places), 3),
        )
    elif kind == "whole":
        px, py = rng.integers(-5, 5, n_places) * 1.0, rng.integers(-5, 5, n_places) * 1.0
    elif kind == "centres":
        px = (rng.integers(-8, 8, n_places) + 0.5) * 0.5
        py = (rng.integers(-8, 8, n_places) + 0.5) * 0.5
    elif kind == "negative":
        px = np.round(rng.uniform(-0.01, 0.01, n_places), 3)
        py = np.round(rng.uniform(-0.01, 0.01, n_places), 3)
        px[0], py[0] = -0.0, 0.0
        if n_places > 1:
            px[1], py[1] = 0.0, -0.0  # the same location as place 0 once -0.0 is 0.0
    elif kind == "latlon":
        px = np.round(48.8 + rng.uniform(0, 0.01, n_places), 6)
        py = np.round(2.3 + rng.uniform(0, 0.01, n_places), 6)
    elif kind == "gps":
        px, py = rng.normal(0, 5, n_places), rng.normal(0, 5, n_places)
    elif kind == "fine":
        px = np.round(rng.uniform(-500, 500, n_places), 9)
        py = np.round(rng.uniform(-500, 500, n_places), 9)
    else:
        px, py = np.round(rng.uniform(0, 30, n_places), 3), rng.normal(0, 5, n_places)
    return px[place], py[place]


TIMES = ("seconds", "hours", "4h-one-off", "ms", "ns", "before-1970", "utc")


def times(kind: str, n: int, rng) -> pd.Series | np.ndarray:
    if kind == "seconds":
        return START + rng.integers(0, 3 * 86400, n).astype("timedelta64[s]")
    if kind == "hours":
        return START + (rng.integers(0, 48, n) * 3600).astype("timedelta64[s]")
    if kind == "4h-one-off":
        t = START + (rng.integers(0, 12, n) * 14400).astype("timedelta64[s]")
        t[min(1, n - 1)] += np.timedelta64(1, "s")  # off the 4 h step, likely not sampled
        return t
    if kind == "ms":
        return np.datetime64("2026-03-02T00:00:00.000", "ms") + rng.integers(
            0, 4 * 3_600_000, n
        ).astype("timedelta64[ms]")
    if kind == "ns":
        return np.datetime64("2026-03-02T00:00:00", "ns") + (
            rng.integers(0, 4, n) * 3_600_000_000_000 + rng.integers(0, 3, n) * 400_000_000
        ).astype("timedelta64[ns]")
    if kind == "before-1970":
        return np.datetime64("1969-12-31T22:00:00.000", "ms") + rng.integers(
            0, 4 * 3_600_000, n
        ).astype("timedelta64[ms]")
    t = START + (rng.integers(0, 24, n) * 1800).astype("timedelta64[s]")
    return pd.Series(pd.to_datetime(t).tz_localize("UTC").tz_convert("Europe/Paris"))


def make_traces(seed: int, coord: str, time: str, *, n_devices=30, n_places=7, max_records=25):
    rng = np.random.default_rng(seed)
    per = rng.integers(1, max_records + 1, n_devices)
    dev = np.repeat(np.arange(n_devices), per)
    n = len(dev)
    x, y = coordinates(coord, rng.integers(0, n_places, n), rng)
    return pd.DataFrame(
        {
            "device_id": np.char.add("d", dev.astype(str)),
            "time": times(time, n, rng),
            "x_km": x,
            "y_km": y,
        }
    )


@pytest.mark.slow
@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    coord=st.sampled_from(COORDS),
    time=st.sampled_from(TIMES),
    n_places=st.integers(1, 40),
    n_devices=st.integers(1, 60),
    block=st.sampled_from([3, 1 << 15]),
    sampled=st.booleans(),
)
def test_the_index_equals_the_plain_reference_for_any_coordinates_and_times(
    seed, coord, time, n_places, n_devices, block, sampled
):
    traces = make_traces(seed, coord, time, n_places=n_places, n_devices=n_devices)
    want = reference_index(traces)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(index_module, "_BLOCK", block)
        if sampled:  # small tables: sample every 3rd record, trust any sample
            m.setattr(index_module, "_SAMPLE", 3)
            m.setattr(index_module, "_SAMPLE_REPEATS", 0)
            m.setattr(index_module, "_STEP_SAMPLE", 5)
        assert_index_is(PointIndex.from_traces(traces), want)


@SETTINGS
@given(seed=st.integers(0, 10_000), coord=st.sampled_from(COORDS), n_places=st.integers(1, 300))
def test_location_codes_equal_the_sorted_distinct_pairs(seed, coord, n_places):
    rng = np.random.default_rng(seed)
    x, y = coordinates(coord, rng.integers(0, n_places, 500), rng)
    loc, lx, ly = location_codes(x, y)
    want, wx, wy = reference_location_codes(x, y)
    np.testing.assert_array_equal(loc, want)
    np.testing.assert_array_equal(lx, wx)
    np.testing.assert_array_equal(ly, wy)
    assert loc.dtype == np.int64
    assert not np.signbit(lx).any() or (lx < 0).any()  # -0.0 never comes back as a value


# ---------------------------------------------------------------------------
# every fallback, forced
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("block", [1, 2, 7, 64])
@pytest.mark.parametrize("time", ["seconds", "hours", "4h-one-off"])
@pytest.mark.parametrize("coord", ["km3", "centres", "negative", "latlon"])
def test_block_boundaries_change_nothing(monkeypatch, block, time, coord):
    # Blocks of one or a few records: duplicates and points straddle every
    # boundary; the places are coded in one pass over the blocks.
    traces = make_traces(3, coord, time, n_devices=12, n_places=3)
    traces = pd.concat([traces, traces.iloc[::3]], ignore_index=True)  # duplicated records
    want = reference_index(traces)
    monkeypatch.setattr(index_module, "_BLOCK", block)
    monkeypatch.setattr(index_module, "_SAMPLE", 1)
    monkeypatch.setattr(index_module, "_SAMPLE_REPEATS", 1)
    x, y = traces["x_km"].to_numpy(), traces["y_km"].to_numpy()
    assert index_module._grid_locations(x, y) is not None  # the one-pass coding is tested
    assert_index_is(PointIndex.from_traces(traces), want)


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    coord=st.sampled_from(COORDS),
    time=st.sampled_from(TIMES),
    run=st.integers(1, 6),
    share=st.sampled_from([0.0, 0.5, 1.0]),
    block=st.sampled_from([1, 3, 1 << 15]),
)
def test_runs_of_records_coded_once_give_the_same_index(seed, coord, time, run, share, block):
    # Records sorted by device, each location held for up to `run` records in a
    # row (a phone staying at one antenna), -0.0 next to 0.0 in "negative":
    # each run is coded once, and its key spread to its records.
    traces = make_traces(seed, coord, time, n_devices=20, n_places=6)
    held = np.arange(len(traces)) // run * run
    traces["x_km"] = traces["x_km"].to_numpy()[held]
    traces["y_km"] = traces["y_km"].to_numpy()[held]
    if coord == "negative":
        traces.loc[traces.index[1::2], "x_km"] += 0.0  # -0.0 becomes 0.0 on every other row
    want = reference_index(traces)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(record_keys, "RUNS_SHARE", share)
        m.setattr(index_module, "_BLOCK", block)
        dev = device_codes(traces["device_id"])[0]
        x, y = traces["x_km"].to_numpy(), traces["y_km"].to_numpy()
        starts = index_module.record_runs(x, y, dev)
        if share == 1.0:
            assert starts is not None and starts[0] == 0
            assert (
                (x[starts[1:]] != x[starts[1:] - 1])
                | (dev[starts[1:]] != dev[starts[1:] - 1])
                | (y[starts[1:]] != y[starts[1:] - 1])
            ).all()
        elif share == 0.0:
            assert starts is None
        assert_index_is(PointIndex.from_traces(traces), want)


@pytest.mark.parametrize("sample", [2, 8, 1000])
def test_locations_and_steps_missed_by_the_samples_are_found(monkeypatch, sample):
    # Every record on a grid and the hour, but for one rare place and one time
    # off the hour at row 1, which no sample of every k-th record starting at
    # row 0 contains.
    traces = make_traces(5, "km3", "hours", n_devices=200, n_places=4, max_records=60)
    traces.loc[1, "x_km"] = 99.999
    traces.loc[1, "time"] += pd.Timedelta(seconds=1)
    monkeypatch.setattr(index_module, "_SAMPLE", sample)
    monkeypatch.setattr(index_module, "_STEP_SAMPLE", len(traces) // sample)
    clocks, fast = [], []
    real_of, real_fast = index_module._Clock.of.__func__, index_module._grid_locations

    def spy_of(cls, ticks, per_second, *, exact=False):
        clocks.append(exact)
        return real_of(cls, ticks, per_second, exact=exact)

    def spy_fast(x, y):
        fast.append(real_fast(x, y))
        return fast[-1]

    monkeypatch.setattr(index_module._Clock, "of", classmethod(spy_of))
    monkeypatch.setattr(index_module, "_grid_locations", spy_fast)
    assert_index_is(PointIndex.from_traces(traces), reference_index(traces))
    assert clocks == [False, True]  # the sampled step (1 h) was wrong, then found exactly
    assert fast == [None]  # the sampled place tables missed a place: coded axis by axis


def test_the_sampled_time_step_is_checked_on_every_record(monkeypatch):
    traces = make_traces(1, "km3", "hours", n_devices=300, n_places=3, max_records=60)
    monkeypatch.setattr(index_module, "_STEP_SAMPLE", 50)
    ticks, per_second = index_module.time_ticks(traces["time"])
    hours = np.gcd.reduce((ticks - ticks.min()) // 3600)
    assert index_module._Clock.of(ticks, per_second).step == 3600 * hours
    traces.loc[1, "time"] += pd.Timedelta(minutes=30)
    ticks, per_second = index_module.time_ticks(traces["time"])
    assert index_module._Clock.of(ticks, per_second).step == 3600 * hours  # row 1 not sampled
    exact = index_module._Clock.of(ticks, per_second, exact=True)
    assert exact.step == 1800 * np.gcd.reduce((ticks - ticks.min()) // 1800)
    assert_index_is(PointIndex.from_traces(traces), reference_index(traces))


@pytest.mark.parametrize("runs", [0.0, 1.0])
@pytest.mark.parametrize("layout", ["fields-narrow", "product-narrow", "fields-wide", "compacted"])
def test_every_key_layout_gives_the_same_index(monkeypatch, layout, runs):
    traces = make_traces(8, "latlon", "seconds", n_devices=50, n_places=9)
    monkeypatch.setattr(record_keys, "RUNS_SHARE", runs)  # 0: per record, 1: per run
    want = reference_index(traces)
    real = index_module._Layout.of

    def forced(n_loc, n_slots, dev_bits):
        bits = index_module._bits
        if layout == "compacted":
            return None
        if layout == "fields-narrow":
            return index_module._Layout(n_slots, bits(n_slots), dev_bits, False)
        if layout == "product-narrow":
            return index_module._Layout(n_slots, 0, dev_bits, False)
        return real(n_loc, n_slots, dev_bits)

    monkeypatch.setattr(index_module._Layout, "of", staticmethod(forced))
    assert_index_is(PointIndex.from_traces(traces), want)


def test_32_bit_keys_are_used_when_points_and_devices_fit():
    # 2 km x 4 h: few cells and time steps, so each record's key fits in 32 bits.
    traces = make_traces(4, "centres", "hours", n_devices=40, n_places=5)
    n_loc = len(location_codes(traces["x_km"], traces["y_km"])[1])
    ticks, per_second = index_module.time_ticks(traces["time"])
    clock = index_module._Clock.of(ticks, per_second)
    layout = index_module._Layout.of(n_loc, clock.n_slots, index_module._bits(40))
    assert layout.narrow and layout.slot_bits
    assert_index_is(PointIndex.from_traces(traces), reference_index(traces))


def test_a_grid_too_fine_for_a_table_falls_back_to_hashing():
    x = np.array([0.0, 1e-9, 500.0, -500.0, 1e-9])
    assert index_module._Grid.find(x) is None  # 1e12 grid steps: no table
    loc, lx, ly = location_codes(x, np.zeros(5))
    np.testing.assert_array_equal(loc, [1, 2, 3, 0, 2])
    np.testing.assert_array_equal(lx, [-500.0, 0.0, 1e-9, 500.0])


def test_values_off_the_grid_are_caught_on_every_record():
    # A sample on the 1 m grid, one value between grid steps: never merged with a neighbour.
    x = np.round(np.linspace(0, 10, 5000), 3)
    x[4999] = 10.0004
    assert index_module._grid_codes(x) is None
    loc, lx, _ = location_codes(x, np.zeros_like(x))
    assert lx[-1] == 10.0004 and lx[-2] == x[4998]
    assert len(lx) == len(np.unique(x))


def test_answers_stay_those_of_unicity_on_a_categorical_table():
    # Devices as a categorical with unused categories, coordinates negative and -0.0.
    traces = make_traces(11, "negative", "seconds", n_devices=40, n_places=3)
    cat = traces.assign(
        device_id=pd.Categorical(
            traces["device_id"], categories=["zz", *sorted(set(traces.device_id))]
        )
    )
    a = unicity(traces, 2, n_targets=30, rng=1)
    b = unicity(cat, 2, n_targets=30, rng=1)
    pd.testing.assert_frame_equal(a.targets, b.targets)
    assert_index_is(PointIndex.from_traces(cat), reference_index(cat))


# ---------------------------------------------------------------------------
# device codes counted, bitsets found by blocks, columns read once
# ---------------------------------------------------------------------------


@SETTINGS
@given(
    codes=st.lists(st.integers(0, 6), min_size=1, max_size=80),
    n_cat=st.integers(7, 9),
    sort=st.booleans(),
)
def test_counted_device_codes_equal_device_codes_and_a_bincount(codes, n_cat, sort):
    # Sorted codes are counted by binary search, others by bincount; unused categories dropped.
    from fewpoints.common import counted_device_codes

    codes = np.sort(codes) if sort else np.asarray(codes)
    cats = [f"d{i}" for i in range(n_cat)][::-1]
    s = pd.Series(pd.Categorical.from_codes(codes, categories=cats))
    got, labels, counts = counted_device_codes(s)
    want, want_labels = device_codes(s)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(labels, want_labels)
    np.testing.assert_array_equal(counts, np.bincount(want, minlength=len(want_labels)))
    plain = counted_device_codes(s.astype(str))
    np.testing.assert_array_equal(plain[2], np.bincount(plain[0]))


@SETTINGS
@given(
    sizes=st.lists(st.integers(0, 9), min_size=0, max_size=60),
    threshold=st.integers(1, 10),
    block=st.integers(1, 7),
)
def test_items_of_size_read_in_blocks_equal_a_plain_diff(sizes, threshold, block):
    from fewpoints.attacks.postings import _items_of_size

    offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    want = np.flatnonzero(np.diff(offsets) >= threshold)
    np.testing.assert_array_equal(_items_of_size(offsets, threshold, block), want)


@SETTINGS
@given(
    values=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1.7e308)),
        min_size=1,
        max_size=30,
    )
)
def test_a_column_read_once_is_called_clean_only_when_it_is(values):
    from fewpoints.schema import _surely_clean

    s = pd.Series(np.asarray(values, dtype=np.float64))
    if _surely_clean(s):
        assert np.isfinite(s.to_numpy()).all()
    t = pd.Series(pd.to_datetime(["2026-03-02"] * len(values)))
    t[np.isnan(s.to_numpy())] = pd.NaT
    assert _surely_clean(t) == (not t.isna().any())
    c = pd.Series(pd.Categorical(np.where(np.isnan(s.to_numpy()), None, "a")))
    assert _surely_clean(c) == (not c.isna().any())


def test_no_bitset_means_a_slot_table_without_memory():
    traces = make_traces(2, "km3", "seconds", n_devices=30, n_places=5)
    index = PointIndex.from_traces(traces)
    slot, bits = index.points.with_dense_min(10**6).dense()
    assert bits.shape[0] == 0 and (slot == -1).all() and len(slot) == index.n_points
