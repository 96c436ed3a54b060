"""The audit of a user's own file: the API's numbers, the least coarsening, locations and sensitive exposure."""

from __future__ import annotations

import pandas as pd
import pytest

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


@pytest.mark.parametrize("model", ["cdr", "pings"])
def test_audit_gives_the_apis_numbers(tiny_world, tiny_audits, model):
    a = tiny_audits[model]
    traces = tiny_world.observations[model]
    s = a.sizes
    index = PointIndex.from_traces(traces)
    four = unicity(index, 4, n_targets=s.n_targets, rng=attack_rng(4))
    assert a.raw4.unicity == four.value and a.raw4.n_targets == four.n_targets
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
        time_bin=bins, n_points_range=(4,), n_targets=s.n_targets, rng=attack_rng(4),
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
    assert first["unicity"] == a.raw4.unicity


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
    from fewpoints.audit.about import location_kind

    assert location_kind(100, 2, accuracy=True) == "repeating"
    assert location_kind(100, 50, accuracy=True) == "gps"
    assert location_kind(100, 50, accuracy=False) == "gps-like"


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
