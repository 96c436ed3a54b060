"""``fewpoints anonymize``: writes the same format, refuses what it should, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fewpoints.cli import main
from fewpoints.io import read_traces
from fewpoints.synth.world import read_world
from tests.builders import traces_from


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory, tiny_world):
    path = tmp_path_factory.mktemp("w") / "tiny"
    tiny_world.write(path)
    return path


def _csv(tmp_path) -> str:
    traces = traces_from(
        {
            "ana": ["A@08", "B@09", "C@10", "D@11", "A@1/08"],
            "ben": ["A@08", "B@09", "C@10", "E@11"],
            "cy": ["A@08", "B@09", "F@10", "D@1/11"],
        }
    )
    path = tmp_path / "mine.csv"
    traces.to_csv(path, index=False)
    return str(path)


def test_world_in_world_out_with_the_public_tables_only(world_dir, tmp_path, capsys):
    out = tmp_path / "released"
    args = ["anonymize", str(world_dir), "--out", str(out), "--merge-antennas", "2"]
    assert main([*args, "--coarsen-time", "4h", "--targets", "100", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text and "before" in text and "after" in text and "95% CI" in text
    names = sorted(p.name for p in out.iterdir())
    assert "people.csv.gz" not in names and "stays.csv.gz" not in names
    assert {"antennas.csv.gz", "places.csv.gz", "traces_cdr.csv.gz", "world.json"} <= set(names)
    meta = json.loads((out / "world.json").read_text())
    assert meta["synthetic"] and meta["anonymized"]["seed"] == 1
    released = read_world(out)
    cdr = released.observations["cdr"]
    assert "antenna_id" not in cdr.columns
    assert (cdr["time"].dt.hour % 4 == 0).all() and (cdr["time"].dt.minute == 0).all()
    assert released.people.empty
    # Same seed, same release.
    again = tmp_path / "again"
    assert (
        main(
            [*args, "--out", str(again), "--coarsen-time", "4h", "--targets", "100", "--seed", "1"]
        )
        == 0
    )
    pd.testing.assert_frame_equal(read_world(again).observations["cdr"], cdr)


def test_csv_in_csv_out(tmp_path, capsys):
    src = _csv(tmp_path)
    out = tmp_path / "out.csv"
    assert main(["anonymize", src, "--out", str(out), "--suppress-rare", "2"]) == 0
    text = capsys.readouterr().out
    assert "your data" in text and "SYNTHETIC" not in text
    got = read_traces(out)
    # Only A@08 and B@09 (all three) and C@10 (ana and ben) are shared.
    assert len(got) == 8 and set(got["device_id"]) == {"ana", "ben", "cy"}


def test_existing_output_is_refused_without_force(world_dir, tmp_path, capsys):
    src = _csv(tmp_path)
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    assert main(["anonymize", src, "--out", str(out), "--subsample", "0.5"]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["anonymize", src, "--out", str(out), "--subsample", "0.5", "--force"]) == 0
    assert len(read_traces(out)) > 0
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "x").write_text("x")
    assert main(["anonymize", str(world_dir), "--out", str(folder), "--rotate", "1D"]) == 2
    assert (folder / "x").read_text() == "x"


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--coarsen-space", "1 furlong"], "--coarsen-space"),
        (["--coarsen-space=-1km"], "positive"),
        (["--noise", "100 ft"], "--noise"),
        (["--geo-ind", "0"], "epsilon must be positive"),
        (["--subsample", "1.5"], "(0, 1]"),
        (["--subsample", "0"], "(0, 1]"),
        (["--suppress-rare", "0"], "at least 1"),
        (["--suppress-rare", "two"], "expected a number"),
        (["--coarsen-time", "soon"], "not a duration"),
        (["--rotate", "0s"], "whole number of seconds"),
        (["--merge-antennas", "4"], "antenna map"),
        ([], "no anonymization chosen"),
    ],
)
def test_bad_options_one_line_exit_2_nothing_written(options, needle, tmp_path, capsys):
    src = _csv(tmp_path)
    out = tmp_path / "out.csv"
    assert main(["anonymize", src, "--out", str(out), *options]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("fewpoints anonymize: error:")
    assert needle in err and captured.out == ""
    assert list(tmp_path.iterdir()) == [tmp_path / "mine.csv"]


def test_a_step_that_fails_midway_writes_nothing(world_dir, tmp_path, capsys):
    out = tmp_path / "released"
    # cdr times to the second: no point is shared by 50 devices.
    assert main(["anonymize", str(world_dir), "--out", str(out), "--suppress-rare", "50"]) == 2
    err = capsys.readouterr().err.strip()
    assert "release nothing" in err and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_weak_settings_warn_on_stderr(world_dir, tmp_path, capsys):
    out = tmp_path / "released"
    assert (
        main(
            ["anonymize", str(world_dir), "--out", str(out), "--observe", "cdr", "--subsample", "1"]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "warning: --subsample" in err and "keeps everything" in err
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("traces")) == [
        "traces_cdr.csv.gz"
    ]
