"""Worlds written in chunks (``generate --parquet --chunk-people N``): layout, reproducibility, ids, reading back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fewpoints
import fewpoints.io
from fewpoints.cli import main
from fewpoints.io import read_traces, write_world_tables
from fewpoints.schema import FewpointsError, validate
from fewpoints.synth import chunked, city, population
from fewpoints.synth.chunked import chunk_streams, write_world_chunked
from fewpoints.synth.world import resolve_params

pq = pytest.importorskip("pyarrow.parquet")


def parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


@pytest.fixture(scope="module")
def tiny_chunked(tmp_path_factory):
    """The tiny world (200 people, 7 days, cdr and pings) written in chunks of 70: 3 parts."""
    out = tmp_path_factory.mktemp("chunked") / "w"
    write_world_chunked(resolve_params("tiny", seed=7), out, chunk_people=70)
    return out


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------


def brute_nearest_two(px, py, ax, ay):
    """Every place against every antenna in float32, ties to the lower id (the reference)."""
    d2 = (px[:, None].astype(np.float32) - ax[None, :].astype(np.float32)) ** 2 + (
        py[:, None].astype(np.float32) - ay[None, :].astype(np.float32)
    ) ** 2
    first = np.argmin(d2, axis=1)
    d2[np.arange(px.size), first] = np.inf
    return first, np.argmin(d2, axis=1)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_places=st.integers(1, 400),
    n_antennas=st.integers(2, 80),
    scale=st.sampled_from([0.01, 1.0, 60.0]),
    decimals=st.integers(0, 3),
)
def test_nearest_antennas_by_tiles_equal_every_place_against_every_antenna(
    seed, n_places, n_antennas, scale, decimals
):
    rng = np.random.default_rng(seed)
    px, py = np.round(rng.normal(0, scale, (2, n_places)), decimals)
    ax, ay = np.round(rng.normal(0, scale, (2, n_antennas)), decimals)
    # Duplicated antennas: exact ties, which must go to the lower id.
    ax[: n_antennas // 2], ay[: n_antennas // 2] = (
        ax[-(n_antennas // 2) :],
        ay[-(n_antennas // 2) :],
    )
    got = city._nearest_two(px, py, ax, ay)
    want = brute_nearest_two(px, py, ax, ay)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@settings(max_examples=30, deadline=None)
@given(key=st.lists(st.integers(0, 2**24 - 1), min_size=4, max_size=4), start=st.integers(0, 2**40))
def test_device_ids_are_a_one_to_one_map_of_person_ids(key, start):
    people = np.arange(start, start + 5_000, dtype=np.uint64)
    ids = population.pseudonyms(people, np.array(key, dtype=np.uint64))
    assert np.unique(ids).size == people.size
    assert (ids < 2**48).all()
    # Random-looking: consecutive people do not get consecutive ids.
    assert np.median(np.abs(np.diff(ids.astype(np.float64)))) > 2**30


def test_cohorts_share_out_every_home_and_every_person():
    params = resolve_params("tiny", seed=2)
    town = city.make_city(params, rng=np.random.default_rng(0))
    cohorts = population.make_cohorts(params, town, chunk_people=70, rng=np.random.default_rng(1))
    assert [c.size for c in cohorts] == [70, 70, 60]
    assert [c.first_person for c in cohorts] == [0, 70, 140]
    homes = np.concatenate([c.homes for c in cohorts])
    np.testing.assert_array_equal(np.sort(homes), town.of_kind("home"))
    ids = np.concatenate([c.device_ids() for c in cohorts])
    assert len(set(ids)) == 200 and all(len(i) == 12 for i in ids)
    assert all(int(i, 16) >= 0 for i in ids)


def test_a_chunks_streams_depend_only_on_the_seed_and_its_number():
    a, b = chunk_streams(5, 3), chunk_streams(5, 3)
    assert all(a[s].generate_state(2).tolist() == b[s].generate_state(2).tolist() for s in a)
    other = chunk_streams(5, 4)
    assert a["mobility"].generate_state(2).tolist() != other["mobility"].generate_state(2).tolist()
    world = np.random.SeedSequence(5).spawn(7)[2]
    assert a["mobility"].generate_state(2).tolist() != world.generate_state(2).tolist()


# ---------------------------------------------------------------------------
# the dataset on disk
# ---------------------------------------------------------------------------


def test_layout_and_world_json(tiny_chunked):
    meta = json.loads((tiny_chunked / "world.json").read_text())
    c = meta["chunked"]
    assert c["chunk_people"] == 70 and c["n_chunks"] == 3 and c["whole_devices"] is True
    assert c["sorted_by"] == ["device_id", "time"]
    assert meta["format"] == "parquet" and meta["synthetic"] is True
    assert "--parquet --chunk-people 70" in meta["command"]
    assert (tiny_chunked / "places.parquet").is_file()
    assert (tiny_chunked / "antennas.parquet").is_file()
    for name in ("traces_cdr", "traces_pings", "people", "stays", "directory", "posts"):
        files = parts(tiny_chunked / name)
        assert [f.name for f in files] == [f"part-{k:05d}.parquet" for k in range(3)]
        rows = [pq.ParquetFile(f).metadata.num_rows for f in files]
        assert rows == c["part_rows"][name]
        assert sum(rows) == meta["tables"][name]
    assert meta["tables"]["people"] == 200


def test_every_device_is_in_exactly_one_part_and_ids_never_collide(tiny_chunked):
    people = pd.concat([pd.read_parquet(f) for f in parts(tiny_chunked / "people")])
    assert people["person_id"].tolist() == list(range(200))
    assert people["device_id"].is_unique
    for model in ("cdr", "pings"):
        seen = []
        for f in parts(tiny_chunked / f"traces_{model}"):
            tr = pd.read_parquet(f)
            assert tr["device_id"].dtype == "str" or pd.api.types.is_string_dtype(tr["device_id"])
            key = tr[["device_id", "time"]]
            assert key.equals(key.sort_values(["device_id", "time"], kind="stable"))
            seen.append(set(tr["device_id"]))
        union = set().union(*seen)
        assert sum(len(s) for s in seen) == len(union), "a device appears in two parts"
        assert union <= set(people["device_id"])


def test_households_never_span_two_chunks(tiny_chunked):
    homes = [set(pd.read_parquet(f)["home_place_id"]) for f in parts(tiny_chunked / "people")]
    assert not (homes[0] & homes[1]) and not (homes[1] & homes[2]) and not (homes[0] & homes[2])


def test_row_groups_hold_whole_devices(tmp_path, monkeypatch):
    monkeypatch.setattr(fewpoints.io.tables, "ROW_GROUP_ROWS", 500)
    out = tmp_path / "w"
    write_world_chunked(
        resolve_params("tiny", seed=1, observe=("cdr",)), out, chunk_people=100, stays=False
    )
    groups = 0
    for f in parts(out / "traces_cdr"):
        pf = pq.ParquetFile(f)
        seen: set[str] = set()
        for g in range(pf.metadata.num_row_groups):
            devices = set(pf.read_row_group(g, columns=["device_id"]).column(0).to_pylist())
            assert not devices & seen, "a device is split between two row groups"
            seen |= devices
            groups += 1
    assert groups > 4
    assert not (out / "stays").exists()
    assert "stays" not in json.loads((out / "world.json").read_text())["tables"]


def test_same_seed_same_files_other_seed_other_files(tmp_path, tiny_chunked):
    again = tmp_path / "again"
    write_world_chunked(resolve_params("tiny", seed=7), again, chunk_people=70)
    for name in ("traces_cdr", "traces_pings", "people", "stays", "directory", "posts"):
        for a, b in zip(parts(tiny_chunked / name), parts(again / name), strict=True):
            assert a.read_bytes() == b.read_bytes(), a
    other = tmp_path / "other"
    write_world_chunked(resolve_params("tiny", seed=8), other, chunk_people=70)
    a = pd.read_parquet(tiny_chunked / "traces_cdr" / "part-00001.parquet")
    b = pd.read_parquet(other / "traces_cdr" / "part-00001.parquet")
    assert not a["device_id"].isin(b["device_id"]).any()


def test_dask_engine_reads_one_partition_per_chunk(tiny_chunked):
    pytest.importorskip("dask.dataframe")
    from fewpoints.attacks.dask_engine import read_traces_dask

    ddf = read_traces_dask(tiny_chunked)
    assert ddf.npartitions == 3
    assert list(ddf.columns) == ["device_id", "time", "x_km", "y_km"]
    assert pd.api.types.is_datetime64_any_dtype(ddf["time"].dtype)
    parts = [p.compute(scheduler="sync") for p in ddf.to_delayed()]
    rows = json.loads((tiny_chunked / "world.json").read_text())["chunked"]["part_rows"]
    assert [len(p) for p in parts] == rows["traces_cdr"]
    devices = [set(p["device_id"].astype(str)) for p in parts]
    assert sum(map(len, devices)) == len(set().union(*devices))  # whole devices per part


# ---------------------------------------------------------------------------
# reading back
# ---------------------------------------------------------------------------


def test_read_world_concatenates_the_parts_into_valid_tables(tiny_chunked):
    world = fewpoints.read_world(tiny_chunked)
    assert world.params.n_people == 200 and list(world.observations) == ["cdr", "pings"]
    for name, df in world.tables().items():
        validate(df, "traces" if name.startswith("traces") else name)
    tr = world.observations["cdr"]
    assert isinstance(tr["device_id"].dtype, pd.CategoricalDtype)
    assert tr["time"].dtype == "datetime64[s]"
    key = pd.DataFrame({"d": tr["device_id"].astype(str), "t": tr["time"]})
    assert key.equals(key.sort_values(["d", "t"], kind="stable"))
    assert world.people["work_place_id"].dtype == "Int64"
    assert world.people["work_place_id"].isna().any()
    assert set(world.stays["person_id"]) == set(range(200))
    # Same records as the parts, and as read_traces on the traces folder.
    assert len(tr) == sum(len(pd.read_parquet(f)) for f in parts(tiny_chunked / "traces_cdr"))
    pd.testing.assert_frame_equal(read_traces(tiny_chunked / "traces_cdr"), tr)
    # The attacks take it like any other world.
    result = fewpoints.unicity(tr, 2, n_targets=50, rng=0)
    assert 0.0 <= result.value <= 1.0 and result.n_devices == tr["device_id"].nunique()


def test_a_chunked_world_too_big_for_memory_is_refused_naming_the_dask_engine(
    tiny_chunked, monkeypatch, capsys
):
    monkeypatch.setattr("fewpoints.io.memory.available_memory", lambda: 10_000)
    with pytest.raises(FewpointsError, match="Dask engine"):
        fewpoints.read_world(tiny_chunked)
    with pytest.raises(FewpointsError, match="Dask engine"):
        read_traces(tiny_chunked / "traces_cdr")
    assert main(["unicity", str(tiny_chunked), "--targets", "20"]) == 2
    err = capsys.readouterr().err
    assert "Dask engine" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unicity_cli_runs_on_a_chunked_world_that_fits(tiny_chunked, capsys):
    assert main(["unicity", str(tiny_chunked), "--targets", "30", "--points", "2"]) == 0
    out = capsys.readouterr().out
    records = sum(len(pd.read_parquet(f)) for f in parts(tiny_chunked / "traces_cdr"))
    assert "SYNTHETIC" in out and f"{records:,} records" in out


def test_a_flat_world_written_from_chunked_tables_is_not_marked_chunked(tiny_chunked, tmp_path):
    tables, meta = fewpoints.io.read_world_tables(tiny_chunked)
    write_world_tables(tables, meta, tmp_path / "flat")
    flat = json.loads((tmp_path / "flat" / "world.json").read_text())
    assert "chunked" not in flat and "format" not in flat
    assert fewpoints.read_world(tmp_path / "flat").traces.shape == tables["traces_cdr"].shape


# ---------------------------------------------------------------------------
# statistics: a chunked world is the same kind of world
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_chunked_and_unchunked_worlds_have_the_same_statistics(tmp_path, medium_world):
    out = tmp_path / "classroom"
    write_world_chunked(resolve_params("classroom", seed=5), out, chunk_people=1_000)
    world = fewpoints.read_world(out)
    assert json.loads((out / "world.json").read_text())["chunked"]["n_chunks"] == 5
    for model in ("cdr", "pings"):
        a = medium_world.observations[model].groupby("device_id", observed=True).size()
        b = world.observations[model].groupby("device_id", observed=True).size()
        assert b.mean() == pytest.approx(a.mean(), rel=0.08), model
        assert b.median() == pytest.approx(a.median(), rel=0.15), model
        assert b.size == pytest.approx(a.size, rel=0.02), model
    stays_a = len(medium_world.stays) / len(medium_world.people)
    assert len(world.stays) / len(world.people) == pytest.approx(stays_a, rel=0.05)
    workers = world.people["work_place_id"].notna().mean()
    assert workers == pytest.approx(medium_world.people["work_place_id"].notna().mean(), abs=0.03)
    # Every home has at least one resident, as in a world made at once.
    homes = world.places.loc[world.places["kind"] == "home", "place_id"]
    assert homes.isin(world.people["home_place_id"]).all()
    # Distinct antennas per device (how spread a trace is) match too.
    spread_a = medium_world.traces.groupby("device_id", observed=True)["antenna_id"].nunique()
    spread_b = world.traces.groupby("device_id", observed=True)["antenna_id"].nunique()
    assert spread_b.mean() == pytest.approx(spread_a.mean(), rel=0.1)


# ---------------------------------------------------------------------------
# refusals: one line, nothing written
# ---------------------------------------------------------------------------


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "fewpoints", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--chunk-people", "50"],
            "--chunk-people writes a partitioned Parquet dataset; add --parquet",
        ),
        (["--parquet", "--chunk-people", "0"], "must be positive, got 0"),
        (["--parquet", "--chunk-people", "-5"], "must be positive"),
        (["--parquet", "--chunk-people", "many"], "expected a whole number"),
        (["--no-stays"], "--no-stays applies to a world written in chunks"),
    ],
)
def test_bad_chunk_options_are_one_line_and_exit_status_2(tmp_path, args, message):
    out = tmp_path / "w"
    result = run_cli("generate", "--preset", "tiny", "--out", str(out), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_missing_pyarrow_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out = tmp_path / "w"
    status = main(
        ["generate", "--preset", "tiny", "--out", str(out), "--parquet", "--chunk-people", "50"]
    )
    assert status == 2
    assert "needs pyarrow" in capsys.readouterr().err
    assert not out.exists()


def test_a_chunk_too_big_for_memory_or_disk_is_refused_up_front(tmp_path, monkeypatch):
    params = resolve_params("tiny", seed=1)
    monkeypatch.setattr(chunked, "available_memory", lambda: 1_000_000)
    with pytest.raises(FewpointsError, match="use fewer people per chunk"):
        write_world_chunked(params, tmp_path / "a", chunk_people=100)
    monkeypatch.setattr(chunked, "available_memory", lambda: None)
    monkeypatch.setattr(chunked, "_free_disk", lambda out: 1_000)
    with pytest.raises(FewpointsError, match="GB of disk"):
        write_world_chunked(params, tmp_path / "b", chunk_people=100)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_force_and_force_replaces_it(tmp_path):
    out = tmp_path / "w"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    args = ["generate", "--preset", "tiny", "--days", "2", "--out", str(out), "--parquet"]
    result = run_cli(*args, "--chunk-people", "100", "--quiet")
    assert result.returncode == 2 and "use --force" in result.stderr
    assert (out / "keep.txt").read_text() == "precious"
    result = run_cli(*args, "--chunk-people", "100", "--quiet", "--force")
    assert result.returncode == 2 and "fewpoints did not write (keep.txt)" in result.stderr
    assert (out / "keep.txt").read_text() == "precious"
    (out / "keep.txt").unlink()
    assert run_cli(*args, "--chunk-people", "50", "--quiet").returncode == 0
    result = run_cli(*args, "--chunk-people", "100", "--quiet", "--force")
    assert result.returncode == 0, result.stderr
    assert len(parts(out / "traces_cdr")) == 2
    assert "wrote 2 chunks of up to 100 people" in result.stdout
    assert "chunk 2 of 2: moving people" not in result.stdout


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_an_interruption_leaves_no_half_written_output(tmp_path, monkeypatch, error):
    calls = []
    real = chunked.write_part

    def failing(df, path, **kw):
        calls.append(path)
        if len(calls) == 6:
            raise error("stop")
        return real(df, path, **kw)

    monkeypatch.setattr(chunked, "write_part", failing)
    params = resolve_params("tiny", seed=1, days=2)
    # A file-system error comes back as one line (FewpointsError), an interruption as itself.
    raised = FewpointsError if error is OSError else error
    with pytest.raises(raised):
        write_world_chunked(params, tmp_path / "w", chunk_people=100)
    assert list(tmp_path.iterdir()) == []
    # With --force over an existing world, the old world survives the interruption.
    old = tmp_path / "old"
    old.mkdir()
    (old / "world.json").write_text("{}")
    calls.clear()
    with pytest.raises(raised):
        write_world_chunked(params, old, chunk_people=100, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]
    assert (old / "world.json").read_text() == "{}"


def test_progress_names_the_chunk(tmp_path):
    stages = []
    write_world_chunked(
        resolve_params("tiny", seed=1, days=1),
        tmp_path / "w",
        chunk_people=120,
        progress=lambda stage, f: stages.append(stage),
    )
    assert stages[0] == "building the city"
    assert "chunk 1 of 2: moving people" in stages and "chunk 2 of 2: writing files" in stages
