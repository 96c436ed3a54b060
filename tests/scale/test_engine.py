"""The Dask engine gives the in-memory engine's answers exactly: same targets, points and sets."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time
from fewpoints.attacks import unicity, unicity_curve
from fewpoints.attacks.dask_engine import (
    coarsen_dask,
    connect,
    is_dask_frame,
    read_traces_dask,
)
from fewpoints.cli import main
from fewpoints.schema import FewpointsError

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

T0 = pd.Timestamp("2026-03-02 08:00")


def table(rows) -> pd.DataFrame:
    """rows: (device, x, y, hour)."""
    dev, x, y, h = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "device_id": list(dev),
            "time": T0 + pd.to_timedelta(list(h), unit="h"),
            "x_km": np.asarray(x, dtype=float),
            "y_km": np.asarray(y, dtype=float),
        }
    )


def by_device(df: pd.DataFrame, n: int):
    """A Dask frame whose n partitions each hold whole devices."""
    ids = np.sort(df["device_id"].unique())
    groups = np.array_split(ids, n)
    parts = [df[df["device_id"].isin(g)] for g in groups if len(g)]
    return dd.from_delayed([dask.delayed(p) for p in parts], meta=df.iloc[:0])


def split_rows(df: pd.DataFrame, n: int):
    """A Dask frame cut by row position: a device may span partitions."""
    return dd.from_pandas(df, npartitions=n, sort=False)


def same(a, b) -> None:
    pd.testing.assert_frame_equal(
        a.targets.reset_index(drop=True), b.targets.reset_index(drop=True), check_dtype=False
    )
    pd.testing.assert_frame_equal(
        a.points.reset_index(drop=True), b.points.reset_index(drop=True), check_dtype=False
    )
    assert (a.value, a.n_devices, a.n_eligible) == (b.value, b.n_devices, b.n_eligible)


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


# Devices a and b share the points (0,0,h0) and (1,1,h1); c shares (0,0,h0) only.
TINY = table(
    [
        ("a", 0, 0, 0),
        ("a", 1, 1, 1),
        ("a", 1, 1, 1),  # a repeated record is one point
        ("b", 0, 0, 0),
        ("b", 1, 1, 1),
        ("b", 2, 2, 2),
        ("c", 0, 0, 0),
        ("c", 3, 3, 3),
    ]
)


@pytest.mark.parametrize("make", [by_device, split_rows])
def test_tiny_table_exact_sets(make):
    ddf = make(TINY, 2)
    assert is_dask_frame(ddf) and not is_dask_frame(TINY)
    res = unicity(ddf, 2, n_targets=10, rng=0)
    # Every device is a target (all have 2 points); a's two points are b's too.
    sizes = dict(zip(res.targets["device_id"], res.targets["anonymity_set_size"], strict=True))
    assert sizes["a"] == 2
    # b's and c's sets depend on which 2 of their points were drawn: check by hand.
    for dev, pts in res.points.groupby("device_id"):
        keys = set(zip(pts["x_km"], pts["y_km"], pts["time"], strict=True))
        holders = [
            d
            for d, g in TINY.groupby("device_id")
            if keys <= set(zip(g["x_km"], g["y_km"], g["time"], strict=True))
        ]
        assert sizes[dev] == len(holders)
    same(unicity(TINY, 2, n_targets=10, rng=0), res)


def test_one_point_sets_on_tiny_table():
    res = unicity(by_device(TINY, 3), 1, n_targets=10, rng=5)
    for _, row in res.points.iterrows():
        want = TINY[
            (TINY["x_km"] == row["x_km"])
            & (TINY["y_km"] == row["y_km"])
            & (TINY["time"] == row["time"])
        ]["device_id"].nunique()
        got = res.targets.set_index("device_id").loc[row["device_id"], "anonymity_set_size"]
        assert got == want


rows = st.lists(
    st.tuples(
        st.sampled_from(["d0", "d1", "d2", "d3", "d4", "d5", "d6", "x7"]),
        st.integers(0, 3),
        st.integers(0, 2),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows,
    n_parts=st.integers(1, 4),
    whole_devices=st.booleans(),
    p=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_same_answers_as_in_memory(rows, n_parts, whole_devices, p, seed):
    df = table(rows)
    df = df.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)
    ddf = by_device(df, n_parts) if whole_devices else split_rows(df, n_parts)
    try:
        want = unicity(df, p, n_targets=5, rng=seed)
    except FewpointsError as exc:
        with pytest.raises(FewpointsError, match="no device has"):
            unicity(ddf, p, n_targets=5, rng=seed)
        assert "no device has" in str(exc)
        return
    same(want, unicity(ddf, p, n_targets=5, rng=seed))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, seed=st.integers(0, 2**32 - 1), cell=st.sampled_from([1.5, 2.0, 5.0]))
def test_same_answers_coarsened(rows, seed, cell):
    df = table(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        coarse = coarsen_time(coarsen_space(df, cell_km=cell), time_bin="2h")
    ddf = coarsen_dask(by_device(df, 2), cell_km=cell, time_bin="2h")
    same(unicity(coarse, 1, n_targets=6, rng=seed), unicity(ddf, 1, n_targets=6, rng=seed))


def _per_setting(ddf, jobs, n_targets):
    """The sweep as it was computed before ``dask_sweep``: one table coarsened and read per job."""
    from fewpoints.scale import dask_unicity

    out = []
    for cell, tb, ps, rng in jobs:
        part = ddf if cell is None and tb is None else coarsen_dask(ddf, cell_km=cell, time_bin=tb)
        out.append(dask_unicity(part, ps, n_targets=n_targets, rng=rng))
    return out


SWEEP_SETTINGS = [(None, "2h"), (1.5, None), (2.0, "2h")]


def _jobs(seed):
    shared = np.random.default_rng(seed)
    return [(None, None, [2, 1], np.random.default_rng(seed))] + [
        (c, b, [1], shared) for c, b in SWEEP_SETTINGS
    ]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, seed=st.integers(0, 2**32 - 1), n_parts=st.integers(1, 3))
def test_sweep_in_three_passes_equals_one_table_per_setting(rows, seed, n_parts):
    from fewpoints.scale import dask_sweep

    # x on half-km steps puts points on cell edges; times on the hour and off it.
    df = table(rows)
    df["x_km"] = df["x_km"] * 0.75
    df["time"] = df["time"] + pd.to_timedelta(df["y_km"] * 20, unit="min")
    ddf = by_device(df, n_parts)
    try:
        want = _per_setting(ddf, _jobs(seed), 3)
    except FewpointsError as exc:
        with pytest.raises(FewpointsError, match=str(exc)[:20]):
            dask_sweep(ddf, _jobs(seed), n_targets=3)
        return
    got = dask_sweep(ddf, _jobs(seed), n_targets=3)
    assert len(got) == len(want)
    for (res_a, counts_a), (res_b, counts_b) in zip(want, got, strict=True):
        assert np.array_equal(counts_a.points_per_device(), counts_b.points_per_device())
        assert len(res_a) == len(res_b)
        for a, b in zip(res_a, res_b, strict=True):
            same(a, b)


@pytest.mark.slow
def test_sweep_on_a_local_cluster_equals_the_in_memory_sweep(parquet_world):
    from fewpoints.attacks import resolution_sweep
    from fewpoints.scale import dask_sweep

    folder, csv = parquet_world
    traces = pd.read_csv(csv, parse_dates=["time"])
    cells, bins = [None, 1.0, 2.0], [None, "1h", "4h"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        want = resolution_sweep(traces, cell_km=cells, time_bin=bins, n_points_range=(2,),
                                n_targets=40, rng=7).table  # fmt: skip
    shared = np.random.default_rng(7)
    jobs = [(c, b, [2], shared) for c in cells for b in bins]
    with dask.config.set(scheduler=None), connect(workers=2, memory_limit="1GB"):
        got = dask_sweep(read_traces_dask(folder), jobs, n_targets=40)
    assert len(got) == len(want) == 9
    for (c, b, _, _), (res, _), row in zip(jobs, got, want.itertuples(), strict=True):
        assert (pd.isna(row.cell_km) and c is None) or row.cell_km == c
        assert row.time_bin == b or (pd.isna(row.time_bin) and b is None)
        assert (res[0].value, res[0].ci_low, res[0].n_targets) == (row.unicity, row.ci_low,
                                                                   row.n_targets)  # fmt: skip


def test_curve_matches_in_memory_on_a_world(tiny_world):
    traces = tiny_world.traces
    ddf = split_rows(traces, 3)
    a = unicity_curve(traces, [1, 2, 4], n_targets=50, rng=11)
    b = unicity_curve(ddf, [1, 2, 4], n_targets=50, rng=11)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_numeric_device_ids_are_text_as_in_memory():
    df = TINY.assign(device_id=TINY["device_id"].map({"a": 10, "b": 2, "c": 3}))
    same(unicity(df, 1, n_targets=3, rng=2), unicity(by_device(df, 2), 1, n_targets=3, rng=2))


def test_other_knowledge_refused():
    with pytest.raises(FewpointsError, match="knowledge='random' only"):
        unicity(by_device(TINY, 2), 1, knowledge="top")


def test_bad_values_name_the_problem():
    bad = TINY.copy()
    bad.loc[3, "x_km"] = np.nan
    with pytest.raises(FewpointsError, match="x_km/y_km have missing"):
        unicity(by_device(bad, 2), 1, rng=0)
    with pytest.raises(FewpointsError, match="miss column"):
        unicity(by_device(TINY.drop(columns="time"), 2), 1, rng=0)


def test_missing_extra_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(FewpointsError, match=r"fewpoints\[scale\]"):
        read_traces_dask(".")


# ---------------------------------------------------------------------------
# Parquet, a real local cluster and the command line
# ---------------------------------------------------------------------------


@pytest.fixture
def parquet_world(tmp_path, tiny_world):
    """The tiny world's call records as a folder of Parquet parts, whole devices per part."""
    pytest.importorskip("pyarrow")
    traces = tiny_world.traces.copy()
    traces["device_id"] = traces["device_id"].astype(str)
    folder = tmp_path / "traces"
    folder.mkdir()
    ids = np.sort(traces["device_id"].unique())
    for k, group in enumerate(np.array_split(ids, 3)):
        traces[traces["device_id"].isin(group)].to_parquet(folder / f"part-{k}.parquet")
    csv = tmp_path / "traces.csv.gz"
    traces.to_csv(csv, index=False)
    return folder, csv


def test_world_row_groups_regrouped(tmp_path, tiny_world):
    """A chunked world's row groups (whole devices each) become partitions of bounded size."""
    pytest.importorskip("pyarrow")
    import json

    traces = tiny_world.traces.copy()
    traces["device_id"] = traces["device_id"].astype(str)
    traces = traces.sort_values(["device_id", "time"], ignore_index=True)
    world = tmp_path / "w"
    (world / "traces_cdr").mkdir(parents=True)
    tables = {"places": 0, "antennas": 0, "directory": 0, "posts": 0, "traces_cdr": len(traces)}
    meta = {"params": {"observe": ["cdr"]}, "chunked": {"whole_devices": True}, "tables": tables}
    (world / "world.json").write_text(json.dumps(meta))
    ids = traces["device_id"].unique()
    for k, half in enumerate(np.array_split(ids, 2)):
        part = traces[traces["device_id"].isin(half)]
        # Row groups cut at device boundaries, as the chunked writer does.
        cuts = np.flatnonzero(part["device_id"].ne(part["device_id"].shift()).to_numpy())[::10]
        import pyarrow as pa
        import pyarrow.parquet as pq

        with pq.ParquetWriter(
            world / "traces_cdr" / f"part-{k}.parquet",
            pa.Schema.from_pandas(part, preserve_index=False),
        ) as w:
            for a, b in zip(cuts, [*cuts[1:], len(part)], strict=True):
                w.write_table(pa.Table.from_pandas(part.iloc[a:b], preserve_index=False))
    ddf = read_traces_dask(world, rows_per_partition=len(traces) // 7)
    assert ddf.npartitions > 2
    seen = [set(part.compute()["device_id"].astype(str)) for part in ddf.to_delayed()]
    assert sum(map(len, seen)) == len(set().union(*seen)) == len(ids)  # whole devices each
    assert read_traces_dask(world).npartitions == 2
    same(unicity(traces, 2, n_targets=80, rng=3), unicity(ddf, 2, n_targets=80, rng=3))


@pytest.fixture
def world_folder(tmp_path, tiny_world):
    """The tiny world written with --parquet (its tables as CSV and as Parquet)."""
    pytest.importorskip("pyarrow")
    out = tmp_path / "w"
    tiny_world.write(out, parquet=True)
    return out


def _edit_world_json(world, change) -> None:
    import json

    meta = json.loads((world / "world.json").read_text())
    change(meta)
    (world / "world.json").write_text(json.dumps(meta))


def test_a_world_is_read_through_the_checked_world_json(world_folder, tiny_world):
    """The engine reads a world's world.json as every reader does: schema, parameters, table names."""
    from fewpoints.schema import InputError

    assert len(read_traces_dask(world_folder)) == len(tiny_world.traces)
    assert len(read_traces_dask(world_folder, observe="pings")) == len(
        tiny_world.observations["pings"]
    )
    with pytest.raises(InputError, match="lists no table 'traces_../../etc'"):
        read_traces_dask(world_folder, observe="../../etc")
    _edit_world_json(world_folder, lambda m: m["params"].update(observe="cdr"))
    with pytest.raises(InputError, match="params.observe must be a list of names"):
        read_traces_dask(world_folder)
    _edit_world_json(world_folder, lambda m: m["params"].update(observe=["cdr"], n_people="lots"))
    with pytest.raises(InputError, match="params.n_people must be int, got 'lots'"):
        read_traces_dask(world_folder)
    _edit_world_json(world_folder, lambda m: m.pop("tables"))
    with pytest.raises(InputError, match="has no 'tables'"):
        read_traces_dask(world_folder)


def test_a_world_table_leading_outside_the_folder_is_refused(world_folder, tmp_path):
    from fewpoints.schema import InputError

    elsewhere = tmp_path / "elsewhere.parquet"
    (world_folder / "traces_cdr.parquet").rename(elsewhere)
    (world_folder / "traces_cdr.parquet").symlink_to(elsewhere)
    with pytest.raises(InputError, match="leads outside the world folder"):
        read_traces_dask(world_folder)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ("[1]", "must hold a JSON object"), ("", "is empty")],
)
def test_cli_dask_corrupt_world_json_is_one_line(world_folder, capsys, content, message):
    (world_folder / "world.json").write_text(content)
    assert main(["unicity", str(world_folder), "--engine", "dask", "--points", "1"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_dask_on_a_csv_world_names_the_fix(tmp_path, tiny_world, capsys):
    tiny_world.write(tmp_path / "w")
    assert main(["unicity", str(tmp_path / "w"), "--engine", "dask"]) == 2
    assert "write it with 'fewpoints generate --parquet'" in capsys.readouterr().err


def test_parquet_columns_are_recognised_by_the_one_reader(tmp_path, tiny_world):
    """A Parquet file's columns are told apart by fewpoints.io, as read_traces tells them."""
    from fewpoints.schema import InputError

    traces = tiny_world.traces.assign(device_id=lambda d: d["device_id"].astype(str))
    traces.drop(columns="time").to_parquet(tmp_path / "no-time.parquet")
    with pytest.raises(InputError, match=r"missing column\(s\) time; a traces file needs"):
        read_traces_dask(tmp_path / "no-time.parquet")
    traces.assign(x_km=traces["x_km"] > 3).to_parquet(tmp_path / "bool.parquet")
    with pytest.raises(FewpointsError, match="column x_km holds bool, not numbers"):
        read_traces_dask(tmp_path / "bool.parquet")
    # Degrees, Unix times and broker names are read by the reader's rules, as read_traces reads them.
    from fewpoints.audit import broker_form
    from fewpoints.io import read_traces

    broker = broker_form(traces, rng=0).rename(columns={"advertiser_id": "maid"})
    broker.to_parquet(tmp_path / "broker.parquet")
    for tz in ("UTC", "America/Phoenix"):
        want = read_traces(tmp_path / "broker.parquet", timezone=tz)
        info = {}
        ddf = read_traces_dask(tmp_path / "broker.parquet", timezone=tz, info=info)
        got = ddf.compute()
        assert info["columns"]["device_id"] == "maid" and info["time"] == "Unix seconds (UTC)"
        for c in ("time", "x_km", "y_km", "accuracy_m"):
            assert np.array_equal(got[c].to_numpy(), want[c].to_numpy()), c
        assert list(got["device_id"].astype(str)) == list(want["device_id"])
    ms = broker.assign(timestamp=broker["timestamp"] * 1000, latitude=broker["latitude"] + 100)
    ms.to_parquet(tmp_path / "bad-degrees.parquet")
    with pytest.raises(InputError, match="beyond \\+-90 degrees of latitude"):
        read_traces_dask(tmp_path / "bad-degrees.parquet")  # refused before any work
    traces.to_parquet(tmp_path / "ok.parquet")
    ddf = read_traces_dask(tmp_path / "ok.parquet")
    assert list(ddf.columns) == ["device_id", "time", "x_km", "y_km"]
    assert len(ddf[["device_id", "time"]].compute()) == len(traces)


def _table_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("points"))
    return [line for line in lines[start:] if line.strip()]


@pytest.mark.slow
def test_cli_on_a_local_cluster_matches_memory(parquet_world, capsys):
    folder, csv = parquet_world
    args = ["--points", "1-3", "--targets", "60", "--seed", "4"]
    assert main(["unicity", str(csv), *args]) == 0
    memory = capsys.readouterr().out
    assert main(["unicity", str(folder), *args, "--engine", "dask", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 partitions" in out and "local cluster of 2 workers" in out
    assert _table_lines(out) == _table_lines(memory)


@pytest.mark.slow
def test_connect_runs_on_a_local_cluster(parquet_world):
    folder, csv = parquet_world
    want = unicity(pd.read_csv(csv, parse_dates=["time"]), 2, n_targets=40, rng=1)
    with dask.config.set(scheduler=None), connect(workers=2, memory_limit="1GB") as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = unicity(read_traces_dask(folder), 2, n_targets=40, rng=1)
    same(want, got)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--knowledge", "top"], "random points only"),
        (["--worst-case"], "needs the table in memory"),
        (["--memory-limit", "lots"], "not a size"),
        (["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "a remote scheduler has its own"),
    ],
)
def test_cli_dask_errors(parquet_world, capsys, extra, message):
    folder, _ = parquet_world
    assert main(["unicity", str(folder), "--engine", "dask", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_cli_dask_needs_parquet(parquet_world, capsys):
    _, csv = parquet_world
    assert main(["unicity", str(csv), "--engine", "dask"]) == 2
    assert "reads Parquet" in capsys.readouterr().err


def test_cli_dask_options_need_the_engine(parquet_world, capsys):
    _, csv = parquet_world
    assert main(["unicity", str(csv), "--workers", "2"]) == 2
    assert "--workers applies to --engine dask" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_unreachable_scheduler(parquet_world, capsys):
    folder, _ = parquet_world
    assert (
        main(["unicity", str(folder), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    )
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert len(err.strip().splitlines()) == 1
