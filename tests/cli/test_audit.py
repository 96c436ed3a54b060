"""``fewpoints audit FILE``: what brokers ship is read, careless files are refused, a round trip holds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fewpoints import audit as A
from fewpoints.cli import main
from fewpoints.io import read_traces

TZ = "America/Phoenix"


@pytest.fixture(scope="module")
def broker(tiny_world):
    """The tiny world's pings as a broker ships them, and the original table."""
    traces = tiny_world.observations["pings"]
    return A.broker_form(traces, rng=2), traces


def _write(tmp_path, name, df):
    path = tmp_path / name
    if name.endswith(".parquet"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------------
# what brokers and researchers ship is read, and read the same way
# ---------------------------------------------------------------------------


def test_broker_file_read_back_to_the_original_table(tmp_path, broker):
    b, traces = broker
    info = {}
    got = read_traces(_write(tmp_path, "b.csv", b), timezone=TZ, info=info)
    assert info["columns"] == {
        "device_id": "advertiser_id", "time": "timestamp", "lat": "latitude",
        "lon": "longitude", "accuracy_m": "horizontal_accuracy",
    }  # fmt: skip
    assert info["time"] == "Unix seconds (UTC)"
    assert info["projection"].lat0 == 33.0 and info["projection"].lon0 == -112.0
    assert np.array_equal(got["time"].to_numpy(), traces["time"].to_numpy())
    assert np.array_equal(got["x_km"].to_numpy(), traces["x_km"].to_numpy())
    assert np.array_equal(got["y_km"].to_numpy(), traces["y_km"].to_numpy())
    assert np.array_equal(got["accuracy_m"].to_numpy(), traces["accuracy_m"].to_numpy())
    # one advertising ID per device, in the devices' own order
    codes = pd.factorize(got["device_id"], sort=True)[0]
    assert np.array_equal(codes, pd.factorize(traces["device_id"].astype(str), sort=True)[0])


def _variants(b: pd.DataFrame):
    """The same fixes as brokers and researchers ship them in other shapes."""
    ms = b.assign(timestamp=b["timestamp"] * 1000)
    iso = b.assign(
        timestamp=pd.to_datetime(b["timestamp"], unit="s", utc=True)
        .dt.tz_convert(TZ)
        .dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    utc = b.assign(
        timestamp=pd.to_datetime(b["timestamp"], unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    renamed = b.rename(columns={"advertiser_id": "hashed_ifa", "timestamp": "seen",
                                "latitude": "y_deg", "longitude": "x_deg",
                                "horizontal_accuracy": "acc_m"})  # fmt: skip
    short = b.rename(columns={"advertiser_id": "maid", "timestamp": "utc_timestamp",
                              "latitude": "lat", "longitude": "lng",
                              "horizontal_accuracy": "accuracy"})  # fmt: skip
    mapping = "device_id=hashed_ifa,time=seen,lat=y_deg,lon=x_deg,accuracy_m=acc_m"
    return [
        ("ms.csv", ms, None),
        ("offsets.csv", iso, None),
        ("zulu.csv.gz", utc, None),
        ("renamed.csv", renamed, mapping),
        ("short.parquet", short, None),
    ]


@pytest.mark.parametrize("k", range(5))
def test_every_shape_reads_to_the_same_table(tmp_path, broker, k):
    b, _ = broker
    want = read_traces(_write(tmp_path, "b.csv", b), timezone=TZ)
    name, df, columns = _variants(b)[k]
    got = read_traces(_write(tmp_path, name, df), timezone=TZ, columns=columns)
    pd.testing.assert_frame_equal(got, want)


def test_timezone_is_utc_unless_given(tmp_path, broker):
    b, traces = broker
    got = read_traces(_write(tmp_path, "b.csv", b))
    shift = got["time"].to_numpy() - traces["time"].to_numpy()
    assert (shift == np.timedelta64(7, "h")).all()  # UTC is 7 hours ahead of Phoenix


# ---------------------------------------------------------------------------
# the round trip: the broker form audited gives the API's numbers on the original table
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory, broker, tiny_world):
    b, _ = broker
    root = tmp_path_factory.mktemp("round")
    path = _write(root, "broker.csv", b)
    out = root / "report"
    args = ["audit", str(path), "--out", str(out), "--timezone", TZ, "--targets", "300"]
    return main([*args, "--quiet"]), out


def test_round_trip_gives_the_apis_numbers(round_trip, broker, capsys):
    status, out = round_trip
    assert status == 0
    _, traces = broker
    sizes = A.AuditSizes(n_targets=300, population_targets=300)
    api = A.audit(traces, source="broker.csv", sizes=sizes, rng=0)
    data = json.loads((out / "audit.json").read_text())
    assert data["measured_on"] == "broker.csv" and data["engine"] == "memory"
    assert data["about"]["reading"]["columns"].startswith("device_id <- advertiser_id")
    got = pd.DataFrame(data["unicity"])
    pd.testing.assert_frame_equal(got, api.curve, check_dtype=False)
    table = pd.DataFrame(data["coarsening"]["table"])
    want = A.coarsening_table(api)
    for col in ("unicity", "ci_low", "ci_high", "n_targets", "moved_km", "shifted_minutes"):
        assert np.allclose(table[col], want[col], rtol=1e-12, atol=1e-12), col
    assert data["coarsening"]["release"]["words"] == api.release["words"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(data["anonymity_sets"]), api.anonymity, check_dtype=False
    )
    assert data["home_work"]["homes"] == api.home_work["homes"]
    assert data["home_work"]["both"] == api.home_work["both"]
    assert (
        pd.DataFrame(data["per_device_risk"])["n_devices"].tolist()
        == api.risk["n_devices"].tolist()
    )


def test_round_trip_prints_what_it_recognised_first(tmp_path, broker, capsys):
    b, _ = broker
    path = _write(tmp_path, "b.csv", b)
    args = ["audit", str(path), "--out", str(tmp_path / "r"), "--targets", "100", "--quiet"]
    assert main([*args, "--timezone", TZ]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = lines[0]
    for words in (
        "device_id <- advertiser_id",
        "time <- timestamp",
        "lat/lon <- latitude/longitude",
        "accuracy_m <- horizontal_accuracy",
        "Unix seconds (UTC)",
        "local time America/Phoenix",
        "equal-area projection centred at 33°N 112°W",
        "200 devices",
    ):
        assert words in first, words
    assert lines[1].startswith("Audit -- measured on b.csv")


# ---------------------------------------------------------------------------
# careless files: one line, exit status 2, nothing written
# ---------------------------------------------------------------------------


def _careless(b: pd.DataFrame) -> dict:
    one = b[b["advertiser_id"] == b["advertiser_id"].iloc[0]]
    mixed = b.copy()
    first = mixed["advertiser_id"] == mixed["advertiser_id"].iloc[0]
    mixed["advertiser_id"] = mixed["advertiser_id"].astype(object)
    mixed.loc[first, "advertiser_id"] = "1234567"
    missing = b.astype({"latitude": object})
    missing.loc[5, "latitude"] = ""
    offsets = b.assign(
        timestamp=pd.to_datetime(b["timestamp"], unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    )
    offsets.loc[3, "timestamp"] = "2026-03-02T08:00:00"
    return {
        "mixed-ids.csv": (mixed, "mixes advertising IDs"),
        "swapped.csv": (
            b.rename(columns={"latitude": "longitude", "longitude": "latitude"}),
            "latitude and longitude look swapped; map them with --columns lat=longitude,lon=latitude",
        ),
        "lat-range.csv": (
            b.assign(latitude=b["latitude"] + 120, longitude=b["longitude"] - 100),
            "beyond +-90 degrees of latitude",
        ),  # fmt: skip
        "lon-range.csv": (b.assign(longitude=b["longitude"] * 10), "beyond +-180 degrees"),
        "future.csv": (b.assign(timestamp=b["timestamp"] + 5 * 365 * 86_400), "in the future"),
        "before-2000.csv": (
            b.assign(timestamp=pd.to_datetime(b["timestamp"] - 30 * 365 * 86_400, unit="s")),
            "before 2000",
        ),
        "twice.csv": (pd.concat([b, b], ignore_index=True), "--drop-duplicates"),
        "one-device.csv": (one, "needs at least 10"),
        "microseconds.csv": (b.assign(timestamp=b["timestamp"] * 1_000_000), "--time-unit"),
        "no-time.csv": (
            b.rename(columns={"timestamp": "seen_at"}),
            "missing column(s) time; a traces file needs",
        ),  # fmt: skip
        "missing-lat.csv": (missing, "column latitude has 1 missing value(s) (first on line 7)"),
        "mixed-offsets.csv": (offsets, "mixes times with a UTC offset"),
    }


@pytest.mark.parametrize("name", list(_careless(pd.DataFrame(columns=["advertiser_id", "timestamp", "latitude", "longitude"], data=[["a", 0, 0, 0]] * 6))))  # fmt: skip
def test_careless_files_end_in_one_line(tmp_path, broker, capsys, name):
    b, _ = broker
    df, words = _careless(b)[name]
    path = _write(tmp_path, name, df)
    out = tmp_path / "out"
    assert main(["audit", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("fewpoints audit: error: ") and "Traceback" not in err
    assert words in err, err
    assert name in err  # the message names the file
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing left beside it
    # with progress on, the error is still the last and only line that is not progress
    assert main(["audit", str(path), "--out", str(out)]) == 2
    lines = capsys.readouterr().err.rstrip().splitlines()
    assert lines[-1].startswith("fewpoints audit: error: ")
    assert all(line.startswith("  ") for line in lines[:-1])


def test_drop_duplicates_audits_the_twice_written_file(tmp_path, broker, capsys):
    b, _ = broker
    path = _write(tmp_path, "twice.csv", pd.concat([b, b], ignore_index=True))
    args = ["audit", str(path), "--out", str(tmp_path / "r"), "--targets", "100", "--quiet"]
    assert main([*args, "--drop-duplicates"]) == 0
    data = json.loads((tmp_path / "r" / "audit.json").read_text())
    assert data["about"]["n_records"] == len(b)
    assert "repeated fix(es)" in data["about"]["reading"]["dropped"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--columns", "device=maid"], "--columns: unknown column 'device'"),
        (["--columns", "time"], "expected ROLE=COLUMN pairs"),
        (["--columns", "time=ts"], "--columns time=ts: the file has no column ts"),
        (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--engine", "dask"], "the Dask engine reads Parquet"),
        (["--workers", "2"], "--workers applies to the Dask engine"),
        (["--places", "nowhere.csv"], "nowhere.csv: no such places file"),
    ],
)
def test_bad_options_end_in_one_line_before_any_work(tmp_path, broker, capsys, extra, words):
    b, _ = broker
    path = _write(tmp_path, "b.csv", b)
    out = tmp_path / "out"
    assert main(["audit", str(path), "--out", str(out), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err, err
    assert not out.exists()


def test_existing_output_is_kept_without_force(tmp_path, broker, capsys):
    b, _ = broker
    path = _write(tmp_path, "b.csv", b)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert main(["audit", str(path), "--out", str(out)]) == 2
    assert "use --force" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "keep"


def test_places_file_in_degrees_shares_the_traces_projection(tmp_path, tiny_world, broker):
    b, traces = broker
    places = tiny_world.places
    info = {}
    read_traces(_write(tmp_path, "b.csv", b), timezone=TZ, info=info)
    lat, lon = info["projection"].inverse(places["x_km"], places["y_km"])
    osm = pd.DataFrame({"name": places["name"], "amenity": places["kind"], "latitude": lat,
                        "longitude": lon})  # fmt: skip
    got = A.read_places(_write(tmp_path, "places.csv", osm), projection=info["projection"])
    assert np.abs(got["x_km"].to_numpy() - places["x_km"].to_numpy()).max() < 1e-9
    assert got["sensitive"].tolist() == places["sensitive"].tolist()  # read from the kind


@pytest.mark.slow
def test_dask_engine_on_broker_parquet_gives_the_memory_numbers(tmp_path, broker, round_trip):
    """Broker-form Parquet parts audited by the Dask engine on a local cluster: the same report."""
    pytest.importorskip("distributed")
    b, _ = broker
    folder = tmp_path / "parts"
    folder.mkdir()
    ids = np.sort(b["advertiser_id"].unique())
    for k, group in enumerate(np.array_split(ids, 3)):
        b[b["advertiser_id"].isin(group)].to_parquet(folder / f"part-{k}.parquet", index=False)
    out = tmp_path / "report"
    args = ["audit", str(folder), "--out", str(out), "--timezone", TZ, "--targets", "300"]
    assert main([*args, "--engine", "dask", "--workers", "2", "--quiet"]) == 0
    got = json.loads((out / "audit.json").read_text())
    want = json.loads((round_trip[1] / "audit.json").read_text())
    assert got["engine"] == "dask" and want["engine"] == "memory"
    assert got["unicity"] == want["unicity"]
    assert got["anonymity_sets"] == want["anonymity_sets"]
    keys = ("cell_km", "time_bin", "unicity", "ci_low", "ci_high", "n_targets")
    assert [{k: r[k] for k in keys} for r in got["coarsening"]["table"]] == [
        {k: r[k] for k in keys} for r in want["coarsening"]["table"]
    ]
    assert got["about"]["reading"]["projection"] == want["about"]["reading"]["projection"]


def test_readme_and_data_card_say_how_to_audit_and_that_nothing_leaves():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    section = readme.split("## Audit your own data", 1)[1].split("\n## ", 1)[0]
    assert "fewpoints audit broker-sample.csv --out audit-report" in section
    assert "UTC is the default" in section and "nothing leaves your machine" in section
    card = (root / "synthetic_data" / "README.md").read_text()
    assert "The shipped data are synthetic" in card
    assert "the audit never leaves the machine" in card
