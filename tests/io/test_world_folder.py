"""Writing and reading whole worlds: round trips, reproducible files, --force, nothing left behind."""

from __future__ import annotations

import pandas as pd
import pytest

import fewpoints
import fewpoints.io
from fewpoints.io import read_traces
from fewpoints.schema import FewpointsError, InputError


def test_world_round_trips_through_files(tiny_world, tmp_path):
    written = tiny_world.write(tmp_path / "w")
    assert {p.name for p in written} >= {"places.csv.gz", "traces_cdr.csv.gz", "world.json"}
    back = fewpoints.read_world(tmp_path / "w")
    assert back.params == tiny_world.params
    for name, df in tiny_world.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name], df, check_exact=True, obj=name)


def test_written_files_depend_only_on_the_world(tiny_world, tmp_path):
    tiny_world.write(tmp_path / "a")
    tiny_world.write(tmp_path / "b")
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_existing_output_is_kept_unless_forced_and_force_replaces_only_its_own(
    tiny_world, tmp_path
):
    out = tmp_path / "w"
    tiny_world.write(out)
    with pytest.raises(FewpointsError, match="exists and is not empty; use --force"):
        tiny_world.write(out)
    tiny_world.write(out, force=True)  # only what fewpoints wrote there: replaced
    (out / "notes.txt").write_text("mine")
    with pytest.raises(
        FewpointsError, match=r"holds 1 file\(s\) fewpoints did not write \(notes.txt\)"
    ):
        tiny_world.write(out, force=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "world.json").exists()


def test_a_failed_write_leaves_nothing_behind(tiny_world, tmp_path, monkeypatch):
    calls = []

    def failing(df, path, on_rows=None):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        path.write_text("partial")

    monkeypatch.setattr(fewpoints.io.world_folder, "_write_csv_gz", failing)
    with pytest.raises(
        FewpointsError, match=r"could not write it \(disk full\); nothing was written"
    ):
        tiny_world.write(tmp_path / "w")
    assert list(tmp_path.iterdir()) == []


def test_read_world_needs_a_world_folder(tmp_path):
    with pytest.raises(InputError, match="not a fewpoints world folder"):
        fewpoints.read_world(tmp_path)


def test_parquet_is_written_and_read_when_pyarrow_is_installed(tiny_world, tmp_path):
    pytest.importorskip("pyarrow")
    tiny_world.write(tmp_path / "w", parquet=True)
    assert (tmp_path / "w" / "traces_cdr.parquet").exists()
    back = read_traces(tmp_path / "w" / "traces_cdr.parquet")
    assert len(back) == len(tiny_world.observations["cdr"])


def test_parquet_without_pyarrow_is_a_clear_error(tiny_world, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow":
            raise ImportError("no pyarrow here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(FewpointsError, match="writing Parquet needs pyarrow"):
        tiny_world.write(tmp_path / "w", parquet=True)
    assert not (tmp_path / "w").exists()
