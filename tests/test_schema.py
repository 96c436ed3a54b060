"""Validation, and reading a user's traces."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from fewpoints.io import read_traces
from fewpoints.schema import InputError, validate


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
