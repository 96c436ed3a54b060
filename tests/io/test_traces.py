"""The one reader of traces files: IDs as text, one rule per time column, degrees, refusals.

Each reproducer of issue 15 that concerns reading is a test here (the CLI ones are in
test_io_cli.py), then a property test feeds random mixes of valid and broken rows to
``read_traces`` and checks that it reads exactly what an independent reference parser
reads, or refuses in one line exactly when the reference finds the file broken.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fewpoints
from fewpoints.io import parse_times, project_lat_lon, read_traces
from fewpoints.schema import InputError, validate

HEADER = "device_id,time,x_km,y_km\n"


def write(tmp_path, name, text, *, compress=False):
    path = tmp_path / name
    data = text.encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def refused(path, **kw) -> str:
    with pytest.raises(InputError) as exc:
        read_traces(path, **kw)
    message = str(exc.value)
    assert "\n" not in message and str(path) in message
    return message


# --- device IDs are text ----------------------------------------------------------------


def test_ids_are_read_as_text_01_and_1_are_two_devices_and_na_is_a_device(tmp_path):
    path = write(
        tmp_path,
        "ids.csv",
        HEADER + "01,2026-03-02 08:00:00,0,0\n1,2026-03-02 09:00:00,1,1\nNA,2026-03-02,2,2\n",
    )
    df = read_traces(path)
    assert df["device_id"].tolist() == ["01", "1", "NA"]
    assert df["device_id"].nunique() == 3


def test_ids_from_parquet_integers_become_text_and_missing_ids_are_refused(tmp_path):
    path = tmp_path / "ids.parquet"
    times = pa.array([pd.Timestamp("2026-03-02 08:00")] * 2, pa.timestamp("s"))
    pq.write_table(
        pa.table({"device_id": [7, 70], "time": times, "x_km": [0.0, 1], "y_km": [0.0, 1]}), path
    )
    assert read_traces(path)["device_id"].tolist() == ["7", "70"]
    path = write(tmp_path, "gap.csv", HEADER + "a,2026-03-02 08:00,0,0\n,2026-03-02 09:00,1,1\n")
    assert "device_id has 1 missing value(s)" in refused(path)


def test_a_194_device_file_reads_as_194_devices(tmp_path):
    rows = [f"{i:02d},2026-03-02 {8 + i % 10:02d}:00:00,{i % 7},{i % 5}" for i in range(97)]
    rows += [f"{i},2026-03-02 {9 + i % 10:02d}:00:00,{i % 3},{i % 2}" for i in range(97)]
    df = read_traces(write(tmp_path, "many.csv", HEADER + "\n".join(rows) + "\n"))
    # 00..09 and 0..9 differ as text; 10..96 are written alike, so 97 + 10 devices
    assert df["device_id"].nunique() == 107


# --- one rule for a column of times -------------------------------------------------------


@pytest.mark.parametrize(
    ("times", "expected", "kw"),
    [
        # ISO 8601 without an offset: local times as written (a date alone is midnight)
        (
            ["2026-03-02 08:00:00", "2026-03-02T09:30", "2026-03-03"],
            ["2026-03-02 08:00:00", "2026-03-02 09:30:00", "2026-03-03 00:00:00"],
            {},
        ),
        # fractions of a second are dropped
        (["2026-03-02 08:00:00.999"], ["2026-03-02 08:00:00"], {}),
        # a single UTC offset is converted to the stated zone, never dropped
        (["2026-03-02T08:00:00+01:00"], ["2026-03-02 07:00:00"], {}),
        (["2026-03-02T08:00:00+01:00"], ["2026-03-02 08:00:00"], {"timezone": "Europe/Paris"}),
        # mixed offsets are one instant each, converted alike
        (
            ["2026-03-02T08:00:00+01:00", "2026-03-02T08:00:00Z", "2026-03-02T08:00-0500"],
            ["2026-03-02 07:00:00", "2026-03-02 08:00:00", "2026-03-02 13:00:00"],
            {},
        ),
        # Unix seconds and milliseconds, unambiguous between 2000 and 2100
        (["1772438400", "1772442000"], ["2026-03-02 08:00:00", "2026-03-02 09:00:00"], {}),
        (["1772438400000", "1772442000999"], ["2026-03-02 08:00:00", "2026-03-02 09:00:00"], {}),
        (["1772438400"], ["2026-03-02 09:00:00"], {"timezone": "Europe/Paris"}),
        # ... or in the unit asked for
        (["3600"], ["1970-01-01 01:00:00"], {"time_unit": "s"}),
        # day/month/year: the column tells which comes first, or the caller does
        (
            ["13/03/2026 08:00", "05/03/2026 09:15"],
            ["2026-03-13 08:00:00", "2026-03-05 09:15:00"],
            {},
        ),
        (
            ["03/13/2026 08:00", "05/03/2026 09:15"],
            ["2026-03-13 08:00:00", "2026-05-03 09:15:00"],
            {},
        ),
        (
            ["04/03/2026", "05.03.2026"],
            ["2026-03-04 00:00:00", "2026-03-05 00:00:00"],
            {"dayfirst": True},
        ),
        (["04/03/2026"], ["2026-04-03 00:00:00"], {"dayfirst": False}),
    ],
)
def test_the_time_rule(tmp_path, times, expected, kw):
    text = HEADER + "".join(f"d{i},{t},0,0\n" for i, t in enumerate(times))
    df = read_traces(write(tmp_path, "t.csv", text), **kw)
    assert df["time"].dtype == "datetime64[s]"
    assert df["time"].tolist() == [pd.Timestamp(e) for e in expected]


@pytest.mark.parametrize(
    ("times", "message", "kw"),
    [
        (
            ["13/03/2026 08:00", "05/13/2026 09:00"],
            "dates with the day first ('13/03/2026 08:00' on line 2) and with the month first ('05/13/2026 09:00' on line 3)",
            {},
        ),
        (
            ["04/03/2026", "05/03/2026"],
            "may be day/month or month/day and no value tells which; say which with dayfirst=True or False (--day-first or --month-first",
            {},
        ),
        (["13/03/2026"], "not a valid date read as month/day/year", {"dayfirst": False}),
        (["08:00"], "'08:00' on line 2 is a time without a date", {}),
        (["2026-03-02 08:00", "09:15:00"], "'09:15:00' on line 3 is a time without a date", {}),
        (
            ["2026-03-02T08:00:00+01:00", "2026-03-02 08:00:00"],
            "mixes times with a UTC offset ('2026-03-02T08:00:00+01:00' on line 2) and without ('2026-03-02 08:00:00' on line 3)",
            {},
        ),
        (["2026-03-02", "05/03/2026"], "mixes ISO dates", {}),
        (
            ["2026-02-30 08:00:00"],
            "'2026-02-30 08:00:00' on line 2 is not a valid date and time",
            {},
        ),
        (["2026-03-02 08:00:00", "yesterday-ish"], "unparsable time 'yesterday-ish' on line 3", {}),
        (
            ["12345", "99"],
            "not Unix times in seconds or milliseconds between 2000 and 2100; if they are Unix times, say the unit with time_unit='s' or 'ms'",
            {},
        ),
        (["1772438400", "1772438400000"], "not Unix times in seconds or milliseconds", {}),
        (["2026-03-02 08:00", ""], "has 1 missing time(s)", {}),
        (["2026-03-02 08:00"], "unknown time zone 'Mars/Olympus'", {"timezone": "Mars/Olympus"}),
    ],
)
def test_times_that_break_the_rule_are_refused_naming_the_fix(tmp_path, times, message, kw):
    text = HEADER + "".join(f"d{i},{t},0,0\n" for i, t in enumerate(times))
    assert message in refused(write(tmp_path, "t.csv", text), **kw)


def test_no_date_less_time_is_ever_given_todays_date():
    with pytest.raises(InputError, match="time without a date"):
        parse_times(["2026-03-02 08:00:00", "08:00"])


def test_parquet_datetimes_follow_the_rule(tmp_path):
    local = pa.array([pd.Timestamp("2026-03-02 08:00:00.7")], pa.timestamp("ms"))
    aware = pa.array(
        [pd.Timestamp("2026-03-02 08:00", tz="Europe/Paris")], pa.timestamp("s", tz="Europe/Paris")
    )
    for times, want in ((local, "2026-03-02 08:00:00"), (aware, "2026-03-02 07:00:00")):
        path = tmp_path / "t.parquet"
        pq.write_table(
            pa.table({"device_id": ["a"], "time": times, "x_km": [0.0], "y_km": [0.0]}), path
        )
        assert str(read_traces(path)["time"].iloc[0]) == want


# --- coordinates ----------------------------------------------------------------------------


def test_longitudes_across_the_antimeridian_stay_close(tmp_path):
    text = "device_id,time,lat,lon\na,2026-03-02 08:00,0,179.995\nb,2026-03-02 08:00,0,-179.995\n"
    df = read_traces(write(tmp_path, "ll.csv", text))
    gap = float(np.hypot(*(df[["x_km", "y_km"]].iloc[0] - df[["x_km", "y_km"]].iloc[1])))
    assert gap == pytest.approx(1.112, abs=0.002)  # 0.01 degree at the equator, not 19,710 km
    x, y = project_lat_lon(np.array([10.0, 10.0]), np.array([-179.99, 179.99]))
    assert abs(x[0] - x[1]) == pytest.approx(2.19, abs=0.01)


def test_boolean_columns_are_refused_as_coordinates(tmp_path):
    text = HEADER + "a,2026-03-02 08:00,True,0\nb,2026-03-02 09:00,False,1\n"
    assert "column x_km holds true/false values, not numbers" in refused(
        write(tmp_path, "b.csv", text)
    )
    path = tmp_path / "b.parquet"
    times = pa.array([pd.Timestamp("2026-03-02 08:00")] * 2, pa.timestamp("s"))
    pq.write_table(
        pa.table(
            {"device_id": ["a", "b"], "time": times, "x_km": [True, False], "y_km": [0.0, 1.0]}
        ),
        path,
    )
    assert "column x_km holds true/false values" in refused(path)
    frame = pd.DataFrame(
        {
            "device_id": ["a"],
            "time": pd.to_datetime(["2026-03-02"]).astype("datetime64[s]"),
            "x_km": [True],
            "y_km": [0.0],
        }
    )
    with pytest.raises(InputError, match="traces.x_km holds true/false values"):
        validate(frame, "traces")
    with pytest.raises(InputError, match="holds true/false values"):
        fewpoints.attacks.unicity(frame, 1)


# --- files that are not what they claim -------------------------------------------------------


def test_junk_truncated_empty_and_disguised_files_are_refused_in_one_line(tmp_path):
    (tmp_path / "junk.parquet").write_bytes(b"definitely not parquet")
    assert "not a readable Parquet file" in refused(tmp_path / "junk.parquet")
    body = HEADER + "".join(f"d{i},2026-03-02 08:00:00,{i},0\n" for i in range(20_000))
    blob = gzip.compress(body.encode())
    (tmp_path / "cut.csv.gz").write_bytes(blob[: len(blob) // 2])
    assert "not a readable CSV file" in refused(tmp_path / "cut.csv.gz")
    (tmp_path / "empty.csv").write_bytes(b"")
    assert "the file is empty" in refused(tmp_path / "empty.csv")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    assert "not a readable CSV file" in refused(tmp_path / "bin.csv")
    (tmp_path / "plain.csv.gz").write_text(body)
    assert "named .gz but not gzip-compressed" in refused(tmp_path / "plain.csv.gz")
    # gzip text named .csv (what the old anonymize wrote) is read for what it is
    (tmp_path / "zipped.csv").write_bytes(blob)
    assert len(read_traces(tmp_path / "zipped.csv")) == 20_000
    ragged = write(tmp_path, "ragged.csv", HEADER + "a,2026-03-02 08:00,0,0,9\n")
    assert "a row has 5 value(s) where the header names 4 columns: 'a,2026-03-02 08:00,0,0,9'" in (
        refused(ragged)
    )
    short = write(tmp_path, "short.csv", HEADER + "a,2026-03-02 08:00,0,0\nb,2026-03-02,1\n")
    assert "a row has 3 value(s) where the header names 4 columns: 'b,2026-03-02,1'" in (
        refused(short)
    )
    dup = write(tmp_path, "dup.csv", "device_id,time,x_km,x_km,y_km\na,2026-03-02,0,0,0\n")
    assert "column x_km appears more than once" in refused(dup)


def test_an_unreadable_file_is_one_line(tmp_path, monkeypatch):
    path = write(tmp_path, "t.csv", HEADER + "a,2026-03-02 08:00,0,0\n")
    real_open = open

    def no_access(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_access)
    assert "cannot read it (permission denied)" in refused(path)


# --- the property: exactly what a reference parser reads, or a one-line refusal -------------

_REF_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?")
_REF_OFFSET = re.compile(
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)(Z|[+-]\d{2}(?::?\d{2})?)"
)
_REF_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_REF_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _ref_naive(text: str) -> dt.datetime:
    date, _, clock = text.replace("T", " ").partition(" ")
    y, m, d = (int(v) for v in date.split("-"))
    parts = clock.split(":") if clock else []
    hh = int(parts[0]) if parts else 0
    mm = int(parts[1]) if len(parts) > 1 else 0
    ss = int(parts[2].split(".")[0]) if len(parts) > 2 else 0
    return dt.datetime(y, m, d, hh, mm, ss)  # raises ValueError on an impossible date


def _ref_time_column(values: list[str]):
    """The reference reading of a time column: datetimes (UTC/local) or None if it breaks the rule."""
    try:
        if all(re.fullmatch(r"[+-]?\d+(\.\d*)?", v) for v in values):
            nums = [float(v) for v in values]
            if all(946_684_800 <= n < 4_102_444_800 for n in nums):
                return [dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(n // 1)) for n in nums]
            if all(946_684_800_000 <= n < 4_102_444_800_000 for n in nums):
                return [
                    dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(n // 1000)) for n in nums
                ]
            return None
        if all(_REF_NAIVE.fullmatch(v) for v in values):
            return [_ref_naive(v) for v in values]
        if all(_REF_OFFSET.fullmatch(v) for v in values):
            out = []
            for v in values:
                m = _REF_OFFSET.fullmatch(v)
                local, off = _ref_naive(m[1]), m[2]
                if off == "Z":
                    minutes = 0
                else:
                    digits = off[1:].replace(":", "")
                    hh, mm = int(digits[:2]), int(digits[2:] or 0)
                    if hh > 23 or mm > 59:
                        return None
                    minutes = (hh * 60 + mm) * (1 if off[0] == "+" else -1)
                out.append(local - dt.timedelta(minutes=minutes))
            return out
        matches = [_REF_DMY.fullmatch(v) for v in values]
        if all(matches):
            a = [int(m[1]) for m in matches]
            b = [int(m[2]) for m in matches]
            if any(x > 12 for x in a) == any(x > 12 for x in b):
                return None  # both or neither: refused
            dayfirst = any(x > 12 for x in a)
            out = []
            for m in matches:
                day, month = (int(m[1]), int(m[2])) if dayfirst else (int(m[2]), int(m[1]))
                out.append(
                    dt.datetime(
                        int(m[3]), month, day, int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
                    )
                )
            return out
    except ValueError:
        return None
    return None


def reference(text: str):
    """Read a traces CSV by the documented rules, with the standard library only; None if broken."""
    rows = list(csv.reader(io.StringIO(text)))
    body = rows[1:]
    if not body or any(len(r) != 4 for r in body):
        return None
    devices, times, xs, ys = zip(*body, strict=True)
    if any(d == "" for d in devices):
        return None
    coords = []
    for col in (xs, ys):
        if not all(_REF_FLOAT.fullmatch(v) for v in col):
            return None  # text, true/false, missing or infinite values
        coords.append([float(v) for v in col])
    parsed = _ref_time_column(list(times))
    if parsed is None:
        return None
    return list(devices), parsed, coords[0], coords[1]


_device = st.one_of(
    st.text(alphabet='ab0Z1 _-,"', min_size=1, max_size=6),
    st.sampled_from(["01", "1", "NA", "null", "007"]),
)
_moment = st.datetimes(min_value=dt.datetime(1995, 1, 1), max_value=dt.datetime(2060, 1, 1))
_naive = st.builds(
    lambda t, fmt: t.strftime(fmt),
    _moment,
    st.sampled_from(
        ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%Y-%m-%d %H", "%Y-%m-%d %H:%M:%S.%f"]
    ),
)
_offset = st.builds(
    lambda t, off: t.strftime("%Y-%m-%dT%H:%M:%S") + off,
    _moment,
    st.sampled_from(["Z", "+01:00", "-05:00", "+0530", "+14", "-00:45"]),
)
_dmy = st.builds(
    lambda t, fmt: t.strftime(fmt),
    _moment,
    st.sampled_from(["%d/%m/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y %H:%M:%S"]),
)
_unix = st.integers(1_000_000_000, 4_000_000_000).map(str)
_bad_time = st.sampled_from(
    [
        "08:00",
        "yesterday",
        "2026-02-30 08:00:00",
        "",
        "2026-13-01",
        "2026/03/02",
        "2026-03-02 25:00",
        "2026-03-02T08:00:00+25:00",
    ]
)
_number = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.floats(-100, 100, allow_nan=False).map(lambda v: f"{v:.3f}"),
    st.integers(-1000, 1000).map(str),
)
_bad_number = st.sampled_from(["north", "True", "", "NA", "inf", "-Infinity", "nan", "1,5", "0x10"])


@st.composite
def traces_csv(draw):
    family = draw(st.sampled_from([_naive, _offset, _dmy, _unix]))
    n = draw(st.integers(1, 12))
    rows = []
    for _ in range(n):
        broken = draw(st.integers(0, 9)) == 0  # about one row in ten has a broken field
        field = draw(st.integers(0, 3)) if broken else -1
        mix = draw(st.integers(0, 19)) == 0  # now and then a time of another form
        time = draw(
            _bad_time
            if field == 1
            else (st.one_of(_naive, _offset, _dmy, _unix) if mix else family)
        )
        rows.append(
            [
                "" if field == 0 else draw(_device),
                time,
                draw(_bad_number if field == 2 else _number),
                draw(_bad_number if field == 3 else _number),
            ]
        )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["device_id", "time", "x_km", "y_km"])
    writer.writerows(rows)
    return buf.getvalue()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=traces_csv())
def test_read_traces_reads_what_the_reference_reads_or_refuses_in_one_line(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    want = reference(text)
    try:
        got = read_traces(path)
    except InputError as exc:
        assert "\n" not in str(exc)
        assert want is None, f"refused a file the reference reads: {exc}"
        return
    assert want is not None, "read a file the reference refuses"
    devices, times, xs, ys = want
    assert got["device_id"].tolist() == devices
    assert got["time"].tolist() == [pd.Timestamp(t) for t in times]
    assert got["x_km"].tolist() == xs and got["y_km"].tolist() == ys
