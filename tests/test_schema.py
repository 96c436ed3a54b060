"""Validation, reading a user's traces, and writing / reading whole worlds."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import fewpoints
import fewpoints.io
from fewpoints.schema import FewpointsError, InputError, read_traces, validate


def _traces(**cols):
    base = {
        "device_id": ["a", "a", "b"],
        "time": pd.to_datetime(["2026-03-02 08:00", "2026-03-02 09:00", "2026-03-02 08:00"]).astype(
            "datetime64[s]"
        ),
        "x_km": [1.0, 2.0, 1.0],
        "y_km": [0.0, 0.5, 0.0],
    }
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_traces().drop(columns="y_km"), "missing column(s) y_km"),
        (_traces().iloc[:0], "traces table is empty"),
        (_traces(x_km=[1.0, np.nan, 2.0]), "traces.x_km has 1 missing value(s)"),
        (_traces(y_km=[1.0, np.inf, 2.0]), "traces.y_km has 1 infinite value(s)"),
        (_traces(x_km=["1", "2", "3"]), "traces.x_km must be numeric"),
        (_traces(time=["x", "y", "z"]), "traces.time must be a datetime"),
        (_traces(accuracy_m=[5.0, np.inf, 7.0]), "traces.accuracy_m has 1 infinite value(s)"),
        (_traces(antenna_id=[1.5, 2.0, 3.0]), "traces.antenna_id must be integer"),
    ],
)
def test_validate_names_the_problem_in_one_line(frame, message):
    with pytest.raises(InputError) as exc:
        validate(frame, "traces")
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_validate_accepts_a_good_table_and_rejects_duplicate_keys(tiny_world):
    assert validate(_traces(), "traces") is not None
    # Optional columns may be unknown for some records.
    assert (
        validate(_traces(accuracy_m=[5.0, np.nan, 7.0], antenna_id=[1.0, np.nan, 3.0]), "traces")
        is not None
    )
    places = tiny_world.places
    with pytest.raises(InputError, match="places.place_id has duplicated values"):
        validate(pd.concat([places, places.iloc[:1]]), "places")


def write(tmp_path, name, text, *, compress=False):
    path = tmp_path / name
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_read_traces_reads_km_and_converts_lat_lon(tmp_path):
    km = read_traces(
        write(tmp_path, "t.csv", "device_id,time,x_km,y_km\nd1,2026-03-02 08:00:00,1.5,2.5\n")
    )
    assert km.loc[0, "x_km"] == 1.5 and km["time"].dtype == "datetime64[s]"
    text = "device_id,time,lat,lon\nd1,2026-03-02T08:00:00,48.0,2.0\nd2,2026-03-02T09:00:00,48.01,2.0\nd3,2026-03-02T10:00:00,48.0,2.01\n"
    ll = read_traces(write(tmp_path, "ll.csv.gz", text, compress=True))
    # 0.01 degree of latitude is 1.11 km; of longitude at 48 degrees north, 0.744 km.
    assert ll.loc[1, "y_km"] - ll.loc[0, "y_km"] == pytest.approx(1.112, abs=0.002)
    assert ll.loc[2, "x_km"] - ll.loc[0, "x_km"] == pytest.approx(0.744, abs=0.002)
    assert {"lat", "lon"}.isdisjoint(ll.columns)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("device_id,time,x_km\nd1,2026-03-02 08:00,1\n", "missing column(s) y_km"),
        ("device_id,time,x_km,y_km\nd1,yesterday-ish,1,2\n", "unparsable time 'yesterday-ish'"),
        (
            "device_id,time,x_km,y_km\nd1,2026-03-02 08:00,,2\n",
            "traces.x_km has 1 missing value(s)",
        ),
        (
            "device_id,time,x_km,y_km\nd1,2026-03-02 08:00,inf,2\n",
            "traces.x_km has 1 infinite value(s)",
        ),
        (
            "device_id,time,x_km,y_km\nd1,2026-03-02 08:00,north,2\n",
            "column x_km must be numeric (found 'north' on line 2)",
        ),
        ("device_id,time,x_km,y_km\n", "the traces table is empty"),
        ("", "the file is empty"),
        ("device_id,time,lat,lon\nd1,2026-03-02 08:00,95,2\n", "lat must be within +-90"),
    ],
)
def test_read_traces_rejects_bad_files_in_one_line(tmp_path, text, message):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as exc:
        read_traces(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_read_traces_rejects_missing_files_and_folders(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_traces(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        read_traces(tmp_path)
    with pytest.raises(InputError, match="expected a .csv"):
        read_traces(write(tmp_path, "t.xlsx", "x"))
    with pytest.raises(InputError, match="not a readable CSV"):
        read_traces(write(tmp_path, "t.csv.gz", "not gzip at all"))


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
