"""``fewpoints unicity``: a readable table, and one-line errors with exit status 2 for bad files."""

from __future__ import annotations

import pandas as pd
import pytest

from fewpoints.cli import _points_spec, main
from tests.builders import random_traces, traces_from


def _write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False)
    return str(path)


def _table_rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.strip().startswith("points"))
    rows = []
    for line in lines[head + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_table_for_a_users_csv(tmp_path, capsys):
    traces = random_traces(3, n_devices=30)
    path = _write(traces, tmp_path / "mine.csv")
    assert main(["unicity", path, "--points", "1-3", "--targets", "20", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "your data" in out and "SYNTHETIC" not in out
    rows = _table_rows(out)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    for r in rows:
        # points, unique %, CI low % "to" CI high %, targets, median set
        assert r[1].endswith("%") and r[3] == "to" and r[5] == "20"
        low, value, high = (float(r[i].rstrip("%")) for i in (2, 1, 4))
        assert low <= value <= high


def test_same_numbers_as_the_library(tmp_path, capsys):
    import numpy as np

    from fewpoints.attacks import PointIndex, unicity

    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08", "B@09"], "cy": ["A@08", "C@09"]})
    path = _write(traces, tmp_path / "three.csv")
    assert main(["unicity", path, "--points", "2"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    expected = unicity(PointIndex.from_traces(traces), 2, rng=np.random.default_rng(0))
    assert rows[0][1] == f"{expected.value:.1%}" == "33.3%"


def test_preset_is_labelled_synthetic_and_coarsening_is_reported(capsys):
    code = main(
        [
            "unicity",
            "tiny",
            "--points",
            "2",
            "--targets",
            "30",
            "--time-bin",
            "1h",
            "--cell-km",
            "2",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "no real person" in out
    assert "1h" in out and "2 km" in out


def test_world_folder(tmp_path, tiny_world, capsys):
    tiny_world.write(tmp_path / "w")
    assert (
        main(
            [
                "unicity",
                str(tmp_path / "w"),
                "--observe",
                "pings",
                "--points",
                "1",
                "--targets",
                "10",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "pings traces" in out and "SYNTHETIC" in out


BAD = {
    "missing columns": (
        lambda: pd.DataFrame({"device_id": ["a"], "time": ["2026-03-02 08:00"], "x_km": [1.0]}),
        "missing column",
    ),
    "unparsable times": (
        lambda: pd.DataFrame(
            {
                "device_id": ["a", "b"],
                "time": ["2026-03-02 08:00", "yesterday-ish"],
                "x_km": [1.0, 2.0],
                "y_km": [1.0, 2.0],
            }
        ),
        "unparsable time",
    ),
    "NaN coordinates": (
        lambda: pd.DataFrame(
            {
                "device_id": ["a", "b"],
                "time": ["2026-03-02 08:00"] * 2,
                "x_km": [1.0, None],
                "y_km": [1.0, 2.0],
            }
        ),
        "missing value",
    ),
    "infinite coordinates": (
        lambda: pd.DataFrame(
            {
                "device_id": ["a", "b"],
                "time": ["2026-03-02 08:00"] * 2,
                "x_km": [1.0, float("inf")],
                "y_km": [1.0, 2.0],
            }
        ),
        "infinite",
    ),
    "fewer points than asked": (
        lambda: traces_from({"ana": ["A@08", "B@09"], "ben": ["C@10"]}),
        "no device has 3 distinct point",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_give_one_line_and_exit_2(case, tmp_path, capsys):
    make, needle = BAD[case]
    path = _write(make(), tmp_path / "bad.csv")
    assert main(["unicity", path, "--points", "3"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("fewpoints unicity: error:")
    assert needle in err
    assert "Traceback" not in captured.err and captured.out == ""


def test_empty_file_and_missing_file(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header.csv"
    header_only.write_text("device_id,time,x_km,y_km\n")
    for path, needle in [
        (empty, "empty"),
        (header_only, "empty"),
        (tmp_path / "nope.csv", "no such file"),
    ]:
        assert main(["unicity", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err


def test_points_spec():
    assert _points_spec("4") == [4]
    assert _points_spec("1-10") == list(range(1, 11))
    assert _points_spec("1..3") == [1, 2, 3]
    assert _points_spec("4,1,2") == [1, 2, 4]
    for bad in ("0", "x", "5-2", "1-100", ""):
        with pytest.raises(Exception, match="points|expected"):
            _points_spec(bad)


def test_bad_options_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["unicity", "tiny", "--points", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["unicity", "tiny", "--cell-km", "-1"])
    assert exc.value.code == 2


def test_worst_case_column(tmp_path, capsys):
    traces = traces_from(
        {"ana": ["A@08", "B@09", "C@10"], "ben": ["A@08", "B@09"], "cy": ["A@08", "B@09", "C@10"]}
    )
    path = _write(traces, tmp_path / "t.csv")
    assert main(["unicity", path, "--points", "1", "--worst-case"]) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    # No single point of anyone's trace is theirs alone.
    assert rows[0][-1] == "0.0%" and "worst case" in out


def test_a_preset_too_large_for_free_memory_is_refused_before_generating(monkeypatch, capsys):
    monkeypatch.setattr("fewpoints.synth.world.available_memory", lambda: 10**9)
    assert main(["unicity", "crowd", "--points", "2"]) == 2
    err = capsys.readouterr().err
    assert "GB of memory but only 1.0 GB is free" in err
    assert "building the city" not in err
