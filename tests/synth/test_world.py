"""The synthetic world: structure of the tables, determinism, and independent random streams."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fewpoints
from fewpoints.schema import COLUMNS, FewpointsError, validate
from fewpoints.synth.world import PRESETS, estimate_memory, resolve_params


def assert_same_tables(a, b):
    ta, tb = a.tables(), b.tables()
    assert list(ta) == list(tb)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


def assert_stays_tile_time(world):
    """Each person is at exactly one place at every second of the period."""
    st = world.stays
    start = pd.Timestamp(world.params.start)
    end = start + pd.Timedelta(days=world.params.days)
    person = st["person_id"].to_numpy()
    assert (np.diff(person) >= 0).all(), "stays sorted by person"
    new = np.r_[True, person[1:] != person[:-1]]
    last = np.r_[person[1:] != person[:-1], True]
    assert (st["start"].to_numpy()[new] == start.to_datetime64()).all()
    assert (st["end"].to_numpy()[last] == end.to_datetime64()).all()
    same = ~last
    assert (st["end"].to_numpy()[same] == st["start"].to_numpy()[1:][same[:-1]]).all()
    assert (st["end"] > st["start"]).all()
    place = st["place_id"].to_numpy()
    assert not ((place[1:] == place[:-1]) & ~new[1:]).any(), (
        "consecutive stays at one place are merged"
    )
    assert set(np.unique(person)) == set(world.people["person_id"])


def test_every_table_follows_the_schema(tiny_world):
    for name, df in tiny_world.tables().items():
        kind = "traces" if name.startswith("traces") else name
        validate(df, kind)
        assert list(COLUMNS[kind]) == list(df.columns[: len(COLUMNS[kind])])


def test_traces_are_pseudonymous_and_sorted(tiny_world):
    for model, tr in tiny_world.observations.items():
        assert "person_id" not in tr.columns and "name" not in tr.columns
        assert set(tr["device_id"].astype(str)) <= set(tiny_world.people["device_id"])
        key = pd.DataFrame({"d": tr["device_id"].astype(str), "t": tr["time"]})
        assert key.equals(key.sort_values(["d", "t"], kind="stable")), model
    assert "antenna_id" in tiny_world.observations["cdr"].columns
    assert "accuracy_m" in tiny_world.observations["pings"].columns


def test_cdr_records_sit_on_antennas_and_pings_near_places(tiny_world):
    cdr = tiny_world.observations["cdr"]
    ant = tiny_world.antennas.set_index("antenna_id")
    np.testing.assert_array_equal(
        cdr["x_km"].to_numpy(), ant.loc[cdr["antenna_id"], "x_km"].to_numpy()
    )
    np.testing.assert_array_equal(
        cdr["y_km"].to_numpy(), ant.loc[cdr["antenna_id"], "y_km"].to_numpy()
    )
    pings = tiny_world.observations["pings"]
    assert (pings["accuracy_m"] > 0).all()


def test_records_are_where_the_person_really_was(tiny_world):
    """Each ping lies near the place of the stay that covers its time (ground truth)."""
    w = tiny_world
    pings = w.observations["pings"]
    person = (
        w.people.set_index("device_id").loc[pings["device_id"].astype(str), "person_id"].to_numpy()
    )
    st = w.stays
    key_st = (
        st["person_id"].to_numpy().astype(np.int64) * 10**10
        + st["start"].astype("int64").to_numpy()
    )
    key = person.astype(np.int64) * 10**10 + pings["time"].astype("int64").to_numpy()
    idx = np.searchsorted(key_st, key, side="right") - 1
    place = st["place_id"].to_numpy()[idx]
    dx = pings["x_km"].to_numpy() - w.places["x_km"].to_numpy()[place]
    dy = pings["y_km"].to_numpy() - w.places["y_km"].to_numpy()[place]
    err_m = np.hypot(dx, dy) * 1000
    # Within four times the reported accuracy (plus rounding to the metre) nearly always.
    assert np.mean(err_m <= 4 * pings["accuracy_m"].to_numpy() + 1.5) > 0.99


def test_stays_tile_the_whole_period(tiny_world, medium_world):
    assert_stays_tile_time(tiny_world)
    assert_stays_tile_time(medium_world)


def test_people_have_homes_and_fitting_workplaces(medium_world):
    w = medium_world
    kind = w.places.set_index("place_id")["kind"]
    people = w.people
    assert (kind.loc[people["home_place_id"]].to_numpy() == "home").all()
    homes = w.places.loc[w.places["kind"] == "home", "place_id"]
    assert set(homes) == set(people["home_place_id"]), "every home has a resident"
    work = people.loc[people["role"] == "worker", "work_place_id"]
    school = people.loc[people["role"] == "student", "work_place_id"]
    assert (kind.loc[work.to_numpy(dtype=np.int64)].to_numpy() == "work").all()
    assert (kind.loc[school.to_numpy(dtype=np.int64)].to_numpy() == "school").all()
    assert people.loc[people["role"] == "other", "work_place_id"].isna().all()
    assert people["device_id"].is_unique
    # Sensitive places exist and people visit them.
    sensitive = w.places.loc[w.places["sensitive"], "place_id"]
    assert set(w.places.loc[w.places["sensitive"], "kind"]) == {
        "health",
        "worship",
        "legal_aid",
        "shelter",
    }
    assert w.stays["place_id"].isin(sensitive).mean() > 0.001


def test_antennas_are_denser_where_people_live(medium_world):
    w = medium_world
    side = w.places.loc[w.places["kind"] == "home", "x_km"].max()
    centre = side / 2
    ant = w.antennas
    d = np.hypot(ant["x_km"] - centre, ant["y_km"] - centre)
    inner = (d < side / 4).sum() / (np.pi * (side / 4) ** 2)
    outer = ((d >= side / 4) & (d < side / 2)).sum() / (np.pi * ((side / 2) ** 2 - (side / 4) ** 2))
    assert inner > 1.5 * outer


def test_public_auxiliary_data_names_real_synthetic_people(tiny_world):
    w = tiny_world
    names = set(w.people["name"])
    assert set(w.directory["name"]) <= names
    assert set(w.posts["name"]) <= names
    assert "device_id" not in w.directory.columns and "person_id" not in w.directory.columns
    listed = w.directory.merge(
        w.people, left_on=["name", "place_id"], right_on=["name", "home_place_id"]
    )
    assert len(listed) >= len(w.directory), "each entry is somebody's name at their home"
    assert w.posts["time"].is_monotonic_increasing


# ---------------------------------------------------------------------------
# determinism and streams
# ---------------------------------------------------------------------------


def test_same_seed_same_world_bit_for_bit():
    a = fewpoints.make_world("tiny", rng=3)
    b = fewpoints.make_world("tiny", rng=3)
    assert_same_tables(a, b)


def test_different_seed_different_world():
    a = fewpoints.make_world("tiny", rng=3)
    b = fewpoints.make_world("tiny", rng=4)
    assert not a.places[["x_km", "y_km"]].equals(b.places[["x_km", "y_km"]])
    assert not a.traces.equals(b.traces)


def test_changing_days_moves_nobody_and_keeps_the_first_days():
    short = fewpoints.make_world("tiny", rng=8, days=3)
    long = fewpoints.make_world("tiny", rng=8, days=9)
    pd.testing.assert_frame_equal(short.places, long.places)
    pd.testing.assert_frame_equal(short.antennas, long.antennas)
    pd.testing.assert_frame_equal(short.people, long.people)
    pd.testing.assert_frame_equal(short.directory, long.directory)
    # Days are drawn one by one from their own streams: the short world is the long one's start.
    cut = pd.Timestamp(short.params.start) + pd.Timedelta(days=3)
    for model in ("cdr", "pings"):
        a = short.observations[model]
        b = long.observations[model]
        b = b[b["time"] < cut].reset_index(drop=True)
        b["device_id"] = b["device_id"].cat.remove_unused_categories()
        pd.testing.assert_frame_equal(a, b, check_categorical=False)
    ls = long.stays[long.stays["start"] < cut].reset_index(drop=True)
    ss = short.stays
    pd.testing.assert_frame_equal(
        ss[["person_id", "place_id", "start"]], ls[["person_id", "place_id", "start"]]
    )


def test_observation_models_do_not_disturb_each_other():
    both = fewpoints.make_world("tiny", rng=2, observe=("cdr", "pings"))
    cdr_only = fewpoints.make_world("tiny", rng=2, observe="cdr")
    pings_only = fewpoints.make_world("tiny", rng=2, observe=("pings",))
    pd.testing.assert_frame_equal(both.observations["cdr"], cdr_only.observations["cdr"])
    pd.testing.assert_frame_equal(both.observations["pings"], pings_only.observations["pings"])
    pd.testing.assert_frame_equal(both.stays, pings_only.stays)
    assert list(cdr_only.observations) == ["cdr"]


def test_cdr_time_bin_floors_times_and_nothing_else():
    raw = fewpoints.make_world("tiny", rng=6, observe="cdr")
    hourly = fewpoints.make_world("tiny", rng=6, observe="cdr", cdr_time_bin="1h")
    pd.testing.assert_series_equal(hourly.traces["time"], raw.traces["time"].dt.floor("h"))
    pd.testing.assert_frame_equal(
        hourly.traces.drop(columns="time"), raw.traces.drop(columns="time")
    )


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_people=st.integers(1, 60),
    days=st.integers(1, 4),
    start=st.sampled_from(["2026-03-02", "2026-03-07", "2025-12-31"]),
)
def test_any_small_world_is_well_formed(seed, n_people, days, start):
    w = fewpoints.make_world("tiny", rng=seed, n_people=n_people, days=days, start=start)
    assert len(w.people) == n_people
    for name, df in w.tables().items():
        if name.startswith("traces"):
            assert list(df.columns[:4]) == list(COLUMNS["traces"])
            if len(df):
                validate(df, "traces")
        else:
            validate(df, name)
    assert_stays_tile_time(w)
    again = fewpoints.make_world("tiny", rng=seed, n_people=n_people, days=days, start=start)
    assert_same_tables(w, again)


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "megacity"}, "unknown preset 'megacity'"),
        ({"n_people": 0}, "people must be a positive whole number"),
        ({"days": -2}, "days must be a positive whole number"),
        ({"observe": ("radar",)}, "unknown observation model 'radar'"),
        ({"worker_share": 1.5}, "worker_share must be between 0 and 1"),
        ({"cdr_time_bin": "soon"}, "cdr_time_bin is not a duration"),
        ({"start": "someday"}, "start is not a date"),
        ({"colour": "blue"}, "unknown world parameter(s) colour"),
    ],
)
def test_impossible_parameters_are_refused_with_a_clear_message(kwargs, message):
    preset = kwargs.pop("preset", "tiny")
    with pytest.raises(FewpointsError) as exc:
        fewpoints.make_world(preset, rng=1, **kwargs)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_presets_have_the_documented_sizes():
    assert PRESETS["tiny"].n_people == 200 and PRESETS["tiny"].days == 7
    assert PRESETS["classroom"].n_people == 5_000 and PRESETS["classroom"].days == 28
    assert PRESETS["city"].n_people == 100_000
    assert PRESETS["crowd"].n_people == 1_000_000 and PRESETS["crowd"].observe == ("cdr",)
    uitc = PRESETS["unique-in-the-crowd"]
    assert (
        uitc.observe == ("cdr",) and uitc.cdr_time_bin == "1h" and uitc.cdr_events_per_month == 114
    )
    for name, params in PRESETS.items():
        assert params.preset == name


def test_memory_estimate_grows_with_the_world():
    small = estimate_memory(resolve_params("classroom"))
    assert estimate_memory(resolve_params("classroom", days=56)) > small
    # Beyond a fixed overhead, memory grows in proportion to people.
    overhead = estimate_memory(resolve_params("classroom", n_people=1))
    ten_times = estimate_memory(resolve_params("classroom", n_people=50_000))
    assert ten_times - overhead == pytest.approx(10 * (small - overhead), rel=0.01)


def test_memory_estimate_covers_the_measured_peaks():
    # Each preset's peak as bench_generate.py last measured it; the check before generating
    # must not be optimistic: 10% to spare (the peak moves by about 1 GB between runs), and
    # not so pessimistic that it refuses a world that fits twice over.
    results = Path(__file__).parents[2] / "benchmarks" / "results" / "generate.json"
    measured = {r["preset"]: r["peak_bytes"] for r in json.loads(results.read_text())["results"]}
    assert "crowd" in measured
    for preset, peak in measured.items():
        estimate = estimate_memory(resolve_params(preset))
        assert 1.1 * peak <= estimate <= max(2.5 * peak, peak + 0.5e9), (preset, peak, estimate)


def test_helper_thread_reports_its_stages_as_their_work_starts_and_ends(monkeypatch):
    # The ground truth and the public records are built on a thread alongside the days:
    # their progress must bracket the work itself, not arrive at 0 then 1 once it is done.
    from fewpoints.synth import mobility, observe, population

    log = []

    def marked(name, work):
        def run(*args, **kwargs):
            log.append(f"{name} starts")
            out = work(*args, **kwargs)
            log.append(f"{name} ends")
            return out

        return run

    monkeypatch.setattr(mobility, "stays_table", marked("stays", mobility.stays_table))
    monkeypatch.setattr(
        population, "make_directory", marked("directory", population.make_directory)
    )
    monkeypatch.setattr(observe, "make_posts", marked("posts", observe.make_posts))
    world = fewpoints.make_world("tiny", rng=2, progress=lambda s, f: log.append((s, f)))
    at = log.index
    assert (
        at(("ground truth", 0.0))
        < at("stays starts")
        < at("stays ends")
        < at(("ground truth", 1.0))
    )
    assert at(("public records", 0.0)) < at("directory starts") < at("directory ends")
    assert at("directory ends") < at(("public records", 0.5)) < at("posts starts")
    assert at("posts ends") < at(("public records", 1.0))
    # reporting changes nothing generated
    quiet = fewpoints.make_world("tiny", rng=2)
    for name, table in world.tables().items():
        pd.testing.assert_frame_equal(table, quiet.tables()[name])
