"""The audit of a user's own file: exact answers on hand-built tables, the projection, the report."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_unicity import random_traces, traces_from

from fewpoints import audit as A
from fewpoints.attacks import (
    PointIndex,
    anonymity_table,
    home_work,
    resolution_sweep,
    unicity,
    unicity_curve,
)
from fewpoints.briefing import attack_rng
from fewpoints.io import Projection, centre_counts
from fewpoints.schema import InputError

matplotlib.use("Agg")


# ---------------------------------------------------------------------------
# per-device risk: exact on a table whose answer is plain by eye
# ---------------------------------------------------------------------------

#: cy and eve hold only a point everyone has; dan's one point is his alone; fay, gus and hal
#: each hold two points shared with one other device each, unique only together.
RISK_SPEC = {
    "cy": ["A@08"],
    "eve": ["A@08"],
    "dan": ["D@10"],
    "fay": ["A@08", "G@12"],
    "gus": ["G@12", "H@13"],
    "hal": ["A@08", "H@13"],
}


@pytest.mark.parametrize("seed", range(5))
def test_per_device_risk_exact_on_a_hand_built_table(seed):
    risk = A.per_device_risk(traces_from(RISK_SPEC), max_points=4, n_targets=100, rng=seed)
    by = risk.set_index("fewest_points")["n_devices"]
    assert by[1] == 1  # dan
    assert by[2] == 3  # fay, gus, hal: whatever order their points come in
    assert by[0] == 2  # cy and eve: every point they have is shared
    assert by[5] == 0 and by[3] == 0 and by[4] == 0
    assert risk["n_targets"].iloc[0] == 6
    assert risk["share"].sum() == pytest.approx(1.0)
    cum = risk.set_index("fewest_points")["cumulative"]
    assert cum[1] == pytest.approx(1 / 6) and cum[4] == pytest.approx(4 / 6)


def test_per_device_risk_not_within_max_points():
    # With one point revealed, fay, gus and hal are not singled out yet (they have more).
    risk = A.per_device_risk(traces_from(RISK_SPEC), max_points=1, n_targets=100, rng=0)
    by = risk.set_index("fewest_points")["n_devices"]
    assert (by[1], by[2], by[0]) == (1, 3, 2)  # 2 = "not within 1 point"
    assert list(risk["label"]) == [
        "1 point",
        "not within 1 points",
        "never (all its points shared)",
    ]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 6))
def test_per_device_risk_agrees_with_brute_force(seed, p):
    traces = random_traces(seed, n_devices=25)
    index = PointIndex.from_traces(traces)
    risk = A.per_device_risk(index, max_points=p, n_targets=1_000, rng=seed)
    assert risk["share"].sum() == pytest.approx(1.0)
    # Devices whose own points are all shared by one other device cannot be singled out;
    # devices with a point of their own are singled out by some order of at most p points.
    pts = traces.assign(t=traces["time"].astype("int64"))[["device_id", "x_km", "y_km", "t"]]
    pts = pts.drop_duplicates()
    sets = pts.groupby("device_id").apply(
        lambda g: frozenset(map(tuple, g[["x_km", "y_km", "t"]].to_numpy())), include_groups=False
    )
    never = sum(any(a <= b for j, b in sets.items() if j != i) for i, a in sets.items())
    by = risk.set_index("fewest_points")["n_devices"]
    assert by[0] <= never  # "never" needs all its points held by one other device
    small = sum(len(s) <= p for s in sets)
    assert by[0] + by[1:p + 1].sum() >= small - by[p + 1]  # fmt: skip


# ---------------------------------------------------------------------------
# checks before any work
# ---------------------------------------------------------------------------


def _table(n_dev=12, **changes):
    rng = np.random.default_rng(0)
    n = n_dev * 5
    df = pd.DataFrame(
        {
            "device_id": np.repeat([f"d{i}" for i in range(n_dev)], 5),
            "time": pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "x_km": rng.random(n),
            "y_km": rng.random(n),
        }
    )
    df["time"] = df["time"].astype("datetime64[s]")
    return df.assign(**changes)


def test_check_auditable_accepts_a_plain_table():
    A.check_auditable(_table(), source="f.csv", now="2026-12-01")


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (_table(n_dev=1), ["f.csv", "device_id", "1 device", "--columns"]),
        (_table(time=pd.Timestamp("1999-12-31")), ["before 2000", "--time-unit"]),
        (_table(time=pd.Timestamp("2031-01-01")), ["in the future", "clock"]),
    ],
)
def test_check_auditable_refuses_in_one_line(table, words):
    with pytest.raises(InputError) as err:
        A.check_auditable(table, source="f.csv", now="2026-12-01")
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_check_auditable_refuses_a_file_holding_its_fixes_twice_and_drops_them_when_asked():
    twice = pd.concat([_table(), _table()], ignore_index=True)
    with pytest.raises(InputError, match="repeat another row.*--drop-duplicates"):
        A.check_auditable(twice, source="f.csv", now="2026-12-01")
    once, n = A.drop_duplicates(twice)
    assert n == len(_table()) and len(once) == len(_table())
    A.check_auditable(once, source="f.csv", now="2026-12-01")
    # a few repeats (two events in one second at one antenna) are no reason to refuse
    few = pd.concat([_table(), _table().iloc[:2]], ignore_index=True)
    A.check_auditable(few, source="f.csv", now="2026-12-01")


# ---------------------------------------------------------------------------
# the projection
# ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    lat0=st.integers(-70, 70),
    lon0=st.integers(-180, 179),
    dx=st.floats(-1500, 1500),
    dy=st.floats(-1500, 1500),
)
def test_projection_round_trips(lat0, lon0, dx, dy):
    proj = Projection(float(lat0), float(lon0))
    lat, lon = proj.inverse([dx], [dy])
    assert -90 <= lat[0] <= 90 and -180 <= lon[0] < 180
    x, y = proj.forward(lat, lon)
    assert x[0] == pytest.approx(dx, abs=1e-8) and y[0] == pytest.approx(dy, abs=1e-8)


def _great_circle_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dl = np.deg2rad(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(h))


@pytest.mark.parametrize(("radius", "bound"), [(500, 0.001), (1000, 0.0035), (2000, 0.013)])
def test_projection_keeps_distances_as_documented(radius, bound):
    # Short steps (10 km) anywhere within `radius` of the centre: the projected length is
    # within `bound` of the great-circle length, in every direction.
    proj = Projection(45.0, 10.0)
    rng = np.random.default_rng(1)
    r = radius * np.sqrt(rng.random(2000))
    a = rng.random(2000) * 2 * np.pi
    x, y = r * np.cos(a), r * np.sin(a)
    b = rng.random(2000) * 2 * np.pi
    lat1, lon1 = proj.inverse(x, y)
    lat2, lon2 = proj.inverse(x + 10 * np.cos(b), y + 10 * np.sin(b))
    err = 10 / _great_circle_km(lat1, lon1, lat2, lon2) - 1
    assert np.abs(err).max() <= bound


def test_projection_is_equal_area():
    # A 0.1 x 0.1 degree cell far from the centre keeps its area on the sphere.
    proj = Projection(40.0, -100.0)
    lat, lon = 48.0, -80.0
    corners_lat = np.array([lat, lat, lat + 0.1, lat + 0.1])
    corners_lon = np.array([lon, lon + 0.1, lon + 0.1, lon])
    x, y = proj.forward(corners_lat, corners_lon)
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    R = 6371.0088
    true = R**2 * np.deg2rad(0.1) * (np.sin(np.deg2rad(lat + 0.1)) - np.sin(np.deg2rad(lat)))
    assert area == pytest.approx(true, rel=2e-4)


def test_projection_centre_rule():
    # The median fix to the degree; stray fixes far away do not move it.
    lat = np.r_[np.full(1000, 48.85), [-33.9, 35.7]]
    lon = np.r_[np.full(1000, 2.35), [151.2, 139.7]]
    assert Projection.for_data(lat, lon) == Projection(49.0, 2.0)
    # Fixes either side of the antimeridian stay together (Fiji).
    lon = np.r_[np.full(600, 179.6), np.full(500, -179.7)]
    proj = Projection.for_data(np.full(1100, -17.8), lon)
    assert proj == Projection(-18.0, 180.0) or proj == Projection(-18.0, -180.0)
    x, _ = proj.forward(np.full(2, -17.8), np.array([179.6, -179.7]))
    assert abs(x[1] - x[0]) == pytest.approx(0.7 * 111.2 * np.cos(np.deg2rad(17.8)), rel=0.01)


def test_projection_centre_from_parts_equals_whole():
    rng = np.random.default_rng(3)
    lat, lon = 20 + rng.normal(0, 2, 5000), 100 + rng.normal(0, 3, 5000)
    parts = [centre_counts(lat[i::3], lon[i::3]) for i in range(3)]
    summed = [sum(p[k] for p in parts) for k in range(2)]
    assert Projection.from_counts(*summed) == Projection.for_data(lat, lon)


# ---------------------------------------------------------------------------
# broker form
# ---------------------------------------------------------------------------


def test_broker_form_looks_like_a_brokers_file(tiny_world):
    traces = tiny_world.observations["pings"]
    b = A.broker_form(traces, rng=1)
    assert list(b.columns) == [
        "advertiser_id", "timestamp", "latitude", "longitude", "horizontal_accuracy",
    ]  # fmt: skip
    ids = b["advertiser_id"].astype(str)
    assert ids.str.fullmatch(
        r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}"
    ).all()
    # one ID per device, sorted as the devices are
    pairs = pd.DataFrame({"old": traces["device_id"].astype(str), "new": ids}).drop_duplicates()
    assert pairs["old"].is_unique and pairs["new"].is_unique
    pairs = pairs.sort_values("old")
    assert pairs["new"].is_monotonic_increasing
    # Unix seconds in UTC of Phoenix local times (UTC-7 all year)
    local = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    assert np.array_equal(b["timestamp"].to_numpy(), local + 7 * 3600)
    # degrees near Phoenix, read back to the city's own kilometres
    assert b["latitude"].between(32, 34).all() and b["longitude"].between(-113, -111).all()
    proj = Projection.for_data(b["latitude"], b["longitude"])
    x, y = proj.forward(b["latitude"], b["longitude"])
    assert np.abs(x - traces["x_km"].to_numpy()).max() < 1e-9
    assert np.abs(y - traces["y_km"].to_numpy()).max() < 1e-9
    assert np.array_equal(b["horizontal_accuracy"].to_numpy(), traces["accuracy_m"].to_numpy())
    # call records get the stated accuracy of an antenna
    assert (
        A.broker_form(tiny_world.observations["cdr"], rng=1)["horizontal_accuracy"] == 1000
    ).all()


# ---------------------------------------------------------------------------
# the audit on a world's traces: the API's numbers, one number per statement
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_audits(tiny_world):
    sizes = A.AuditSizes(n_targets=300, population_targets=200)
    return {
        m: A.audit(tr, source=f"tiny-{m}.csv", places=tiny_world.places, sizes=sizes, seed=4)
        for m, tr in tiny_world.observations.items()
    }


@pytest.mark.parametrize("model", ["cdr", "pings"])
def test_audit_gives_the_apis_numbers(tiny_world, tiny_audits, model):
    a = tiny_audits[model]
    traces = tiny_world.observations[model]
    s = a.sizes
    index = PointIndex.from_traces(traces)
    four = unicity(index, 4, n_targets=s.n_targets, rng=attack_rng(4))
    assert a.raw4["unicity"] == four.value and a.raw4["n_targets"] == four.n_targets
    curve = unicity_curve(
        index, [4, 1, 2, 3, 5, 6, 8, 10], n_targets=s.n_targets, rng=attack_rng(4)
    )
    pd.testing.assert_frame_equal(
        a.curve, curve.sort_values("n_points", ignore_index=True), check_dtype=False
    )
    bins = [
        b
        for b in s.sweep_bins
        if b is None or pd.Timedelta(b).total_seconds() > a.about["time_step"]
    ]
    sweep = resolution_sweep(
        traces.drop(columns=["antenna_id"], errors="ignore"), cell_km=list(s.sweep_cells),
        time_bin=bins, n_points=(4,), n_targets=s.n_targets, rng=attack_rng(4),
    )  # fmt: skip
    pd.testing.assert_frame_equal(a.sweep.table, sweep.table)
    radius = None if a.about["locations"] == "repeating" else 0.05
    grans = (["antenna"] if radius is None else []) + list(s.granularities)
    table = anonymity_table(
        traces, n=(1, 2, 3), unordered=(), granularities=grans, cluster_km=radius
    )
    table["granularity"] = table["granularity"].replace({"antenna": "as recorded"})
    pd.testing.assert_frame_equal(a.anonymity, table)
    hw = home_work(traces, cluster_km=radius)
    assert a.home_work["homes"] == hw["home_x_km"].notna().sum()
    assert a.home_work["both"] == (hw["home_x_km"].notna() & hw["work_x_km"].notna()).sum()
    # the file's 4-point share is one number: the curve and the coarsening table's first row
    first = a.sweep.table.iloc[0]
    assert pd.isna(first["cell_km"]) and pd.isna(first["time_bin"])
    assert first["unicity"] == a.raw4["unicity"]


def test_audit_least_coarsening_is_under_few_and_minimal(tiny_audits):
    for a in tiny_audits.values():
        t = a.sweep.table
        t = t.assign(volume=t["cell_km"].fillna(0) ** 2 * t["h"])
        ok = t[(t["ci_high"] < A.FEW) & ~(t["cell_km"].isna() & t["time_bin"].isna())]
        if a.release is None:
            assert ok.empty
            continue
        r = a.release
        assert r["ci_high"] < A.FEW
        # the least coarsening: the smallest square x slot (km2 h) under 10%
        assert (r["cell_km"] or 0) ** 2 * r["hours"] == pytest.approx(ok["volume"].min())
        for w in r["alternatives"]:
            assert w != r["words"] and w in set(A.coarsening_table(a)["setting"])
        assert 0 < r["moved_km"] < r["cell_km"]
        assert r["time_bin"] is None or 0 < r["shifted_minutes"] < A._hours(r["time_bin"]) * 60


def test_audit_locations_read_by_what_the_data_show(tiny_audits):
    assert tiny_audits["cdr"].about["locations"] == "repeating"
    assert tiny_audits["pings"].about["locations"] == "gps"
    # a broker's call records with a stated accuracy are still antennas
    t = pd.DataFrame({"accuracy_m": [1000.0]})
    assert A._location_kind(pd.concat([t] * 100), 2) == "repeating"


def test_sensitive_exposure_counts_devices_and_names_none(tiny_world, tiny_audits):
    s = tiny_audits["pings"].sensitive
    assert s["kind"].iloc[-1] == "any sensitive place"
    per_kind = s.iloc[:-1]
    assert (s["n_devices"].iloc[-1] >= per_kind["n_devices"]).all()
    assert s["n_devices"].iloc[-1] <= per_kind["n_devices"].sum()
    assert set(s.columns) == {
        "kind",
        "n_devices",
        "share",
        "n_visits",
        "n_places",
        "n_sensitive_places",
    }


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(tiny_audits, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "report"
    files = A.write_audit(tiny_audits["pings"], out, command="fewpoints audit tiny-pings.csv")
    return out, files


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.srcs, self.text, self.style = [], [], [], False

    def handle_endtag(self, tag):
        self.style = self.style and tag != "style"

    def handle_starttag(self, tag, attrs):
        self.style = tag == "style"
        attrs = dict(attrs)
        if tag == "img":
            self.imgs.append(attrs)
        for k in ("src", "href"):
            if k in attrs:
                self.srcs.append(attrs[k])

    def handle_data(self, data):
        if not self.style:
            self.text.append(data)


def test_report_files(report):
    out, files = report
    names = sorted(f.name for f in files)
    stems = [
        "1-how-few-points", "2-coarsening", "3-home-work", "4-population",
        "5-per-device-risk", "6-sensitive-places",
    ]  # fmt: skip
    expected = sorted(
        [f"{s}.{e}" for s in stems for e in ("png", "svg", "pdf")]
        + ["audit.json", "captions.md", "report.html", "report.pdf"]
    )
    assert names == expected
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == expected
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_report_says_measured_on_the_file_never_synthetic(report):
    out, _ = report
    page = _Page()
    page.feed((out / "report.html").read_text())
    text = " ".join(page.text)
    assert "Measured on tiny-pings.csv" in text
    assert not re.search(r"synthetic", text, re.I)
    for stem in ("1-how-few-points", "2-coarsening", "5-per-device-risk"):
        svg = (out / f"{stem}.svg").read_text()
        assert "Measured on tiny-pings.csv - fewpoints audit" in svg
        assert "ynthetic" not in svg
    captions = (out / "captions.md").read_text()
    assert "ynthetic" not in captions
    # every picture inline, with alt text; nothing fetched from the network
    assert len(page.imgs) == 6 and all(len(i.get("alt", "")) > 80 for i in page.imgs)
    assert all(s.startswith(("data:", "#")) for s in page.srcs)
    # the limits are named
    assert "What this report cannot tell" in text
    assert "A sample of a larger release" in text and "Clock and accuracy errors" in text


def test_report_states_each_number_once(report, tiny_audits):
    out, _ = report
    a = tiny_audits["pings"]
    data = json.loads((out / "audit.json").read_text())
    assert data["measured_on"] == "tiny-pings.csv" and data["synthetic"] is False
    raw = data["unicity"][[r["n_points"] for r in data["unicity"]].index(4)]["unicity"]
    summary = data["summary"][0]
    assert summary["value"] == raw == a.raw4["unicity"]
    row = data["coarsening"]["table"][0]
    assert row["cell_km"] is None and row["time_bin"] is None and row["unicity"] == raw
    facts = [f["facts"].get("as recorded, 4 points") for f in data["figures"]]
    assert [f["unicity"] for f in facts if f] == [raw, raw]
    # the captions print the same share
    from fewpoints.briefing import pct

    cap = (out / "captions.md").read_text()
    assert f"four single out {pct(raw)}" in cap and f"4 points single out {pct(raw)}" in cap


def test_report_lists_no_device(report, tiny_world):
    out, _ = report
    ids = set(tiny_world.observations["pings"]["device_id"].astype(str))
    for f in out.iterdir():
        if f.suffix in (".json", ".md", ".html", ".svg"):
            text = f.read_text()
            found = [d for d in ids if re.search(rf"\b{re.escape(d)}\b", text)]
            assert not found, (f.name, found[:3])


# ---------------------------------------------------------------------------
# the Dask engine: the in-memory audit's numbers, partition by partition
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["cdr", "pings"])
def test_audit_dask_gives_the_in_memory_numbers(tiny_world, tiny_audits, model):
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    traces = tiny_world.observations[model].copy()
    traces["device_id"] = traces["device_id"].astype(str)
    ids = np.sort(traces["device_id"].unique())
    parts = [traces[traces["device_id"].isin(g)] for g in np.array_split(ids, 3)]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=traces.iloc[:0])
    a = tiny_audits[model]
    with dask.config.set(scheduler="synchronous"):
        b = A.audit_dask(ddf, source=a.source, places=tiny_world.places, sizes=a.sizes, seed=4)
    assert b.engine == "dask"
    pd.testing.assert_frame_equal(a.curve, b.curve, check_dtype=False)
    cols = ["cell_km", "time_bin", "h", "n_points", "unicity", "ci_low", "ci_high", "n_targets"]
    pd.testing.assert_frame_equal(a.sweep.table[cols], b.sweep.table[cols], check_dtype=False)
    pd.testing.assert_frame_equal(a.anonymity, b.anonymity, check_dtype=False)
    pd.testing.assert_frame_equal(a.sensitive, b.sensitive, check_dtype=False)
    pd.testing.assert_frame_equal(a.risk, b.risk, check_dtype=False)
    assert a.home_work == b.home_work
    assert {k: v for k, v in a.about.items() if k != "reading"} == {
        k: v for k, v in b.about.items() if k != "reading"
    }
    for key in ("moved_km", "shifted_minutes"):
        assert a.costs[key].keys() == b.costs[key].keys()
        for k in a.costs[key]:
            assert b.costs[key][k] == pytest.approx(a.costs[key][k], rel=1e-12, abs=1e-12)
    assert (a.release is None) == (b.release is None)
    if a.release is not None:
        assert a.release["words"] == b.release["words"]
        assert a.release["unicity"] == b.release["unicity"]


def test_choose_engine(tmp_path, tiny_world):
    csv = tmp_path / "t.csv"
    tiny_world.traces.to_csv(csv, index=False)
    pq = tmp_path / "t.parquet"
    tiny_world.traces.assign(device_id=tiny_world.traces["device_id"].astype(str)).to_parquet(pq)
    assert A.choose_engine(csv, "auto", available=10**12) == "memory"
    assert A.choose_engine(pq, "auto", available=10**12) == "memory"
    assert A.choose_engine(pq, "auto", available=1000) == "dask"
    with pytest.raises(InputError, match="Dask engine reads Parquet"):
        A.choose_engine(csv, "auto", available=1000)
    with pytest.raises(InputError, match="Dask engine reads Parquet"):
        A.choose_engine(csv, "dask")
    assert A.estimate_records(pq) == len(tiny_world.traces)
