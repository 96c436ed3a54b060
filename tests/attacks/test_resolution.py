"""``resolution_sweep`` with merged antennas, and the resolution law of "Unique in the Crowd" on it.

Published (de Montjoye et al. 2013, fitted on real CDR of 1.5M people):
unicity = alpha - (v*h)**beta with beta = 0.157 - 0.007 p (0.129 at p = 4);
halving the resolution costs about 9% at p = 4. Checked here on a synthetic
medium world; the full world is checked by benchmarks/bench_anonymize.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fewpoints
from fewpoints.attacks import resolution_sweep
from fewpoints.attacks.resolution import antenna_map, fit_resolution_law
from fewpoints.schema import FewpointsError
from tests.builders import random_traces


def _two_pairs_of_antennas() -> pd.DataFrame:
    """Antennas A (0, 0) and B (0, 1) close together, C (10, 0) and D (10, 1) far from them.

    ana: A@08, C@09; ben: B@08, D@09; cy: A@08, D@10. As recorded all three are
    unique from their two points; with pairs of antennas merged ({A, B}, {C, D})
    ana and ben share both points and only cy stays unique.
    """
    place = {"A": (10, 0.0, 0.0), "B": (11, 0.0, 1.0), "C": (12, 10.0, 0.0), "D": (13, 10.0, 1.0)}
    spec = {"ana": ["A@08", "C@09"], "ben": ["B@08", "D@09"], "cy": ["A@08", "D@10"]}
    rows = [
        (dev, pd.Timestamp("2026-03-02") + pd.Timedelta(hours=int(h)), *place[a][1:], place[a][0])
        for dev, points in spec.items()
        for a, h in (p.split("@") for p in points)
    ]
    df = pd.DataFrame(rows, columns=["device_id", "time", "x_km", "y_km", "antenna_id"])
    return df.astype({"time": "datetime64[s]", "device_id": "category"})


def test_call_records_are_coarsened_by_merged_antennas_by_default():
    traces = _two_pairs_of_antennas()
    sweep = resolution_sweep(
        traces, merge_v=(1, 2), time_bin=("1h", "2h"), n_points_range=(2,), n_targets=3, rng=0
    )
    t = sweep.table.set_index(["merge_v", "time_bin"])
    assert t["cell_km"].isna().all()
    assert t["v"].to_dict() == {
        (1.0, "1h"): 1.0,
        (1.0, "2h"): 1.0,
        (2.0, "1h"): 2.0,
        (2.0, "2h"): 2.0,
    }
    assert t["unicity"].to_dict() == {
        (1.0, "1h"): 1.0,
        (1.0, "2h"): 1.0,  # 08 and 09 share a slot, but A, B, C, D still tell them apart
        (2.0, "1h"): pytest.approx(1 / 3),  # ana and ben now share both points
        (2.0, "2h"): pytest.approx(1 / 3),
    }
    # The map the table carries: each antenna at its records' position.
    assert antenna_map(traces).to_dict("list") == {
        "antenna_id": [10, 11, 12, 13],
        "x_km": [0.0, 0.0, 10.0, 10.0],
        "y_km": [0.0, 1.0, 0.0, 1.0],
    }
    # Square cells stay one keyword away: 20 km squares merge all four antennas.
    cells = resolution_sweep(traces, cell_km=(None, 20.0), time_bin=("1h",), n_points_range=(2,),
                             n_targets=3, rng=0).table  # fmt: skip
    assert cells["merge_v"].isna().all()
    assert cells["unicity"].tolist() == [1.0, pytest.approx(1 / 3)]


def test_the_default_equals_passing_the_antenna_map(tiny_world):
    cdr = tiny_world.observations["cdr"]
    kwargs = dict(time_bin=("1h", "4h"), n_points_range=(2,), n_targets=100, rng=4)
    default = resolution_sweep(cdr, **kwargs)
    ants = tiny_world.antennas
    used = ants[ants["antenna_id"].isin(cdr["antenna_id"])].reset_index(drop=True)
    explicit = resolution_sweep(cdr, antennas=used, **kwargs)
    pd.testing.assert_frame_equal(default.table, explicit.table)
    assert sorted(default.table["merge_v"].unique()) == [1.0, 2.0, 4.0, 8.0]
    assert (default.table.loc[default.table["merge_v"] > 1, "v"] > 1).all()


def test_a_table_that_does_not_hold_its_antenna_map_is_refused(tiny_world):
    cdr = tiny_world.observations["cdr"]
    moved = cdr.assign(x_km=cdr["x_km"] + np.arange(len(cdr)) % 2)
    with pytest.raises(FewpointsError, match="several positions"):
        resolution_sweep(moved, n_targets=10)
    gaps = cdr.assign(antenna_id=cdr["antenna_id"].astype("Int64").mask(cdr.index == 0))
    with pytest.raises(FewpointsError, match="no antenna_id"):
        resolution_sweep(gaps, n_targets=10)
    # Asking for square cells needs no map.
    resolution_sweep(moved, cell_km=(None, 1.0), time_bin=("1h",), n_targets=10, rng=0)


def test_merged_sweep_reports_the_measured_merge_factor(tiny_world):
    cdr = tiny_world.observations["cdr"]
    sweep = resolution_sweep(
        cdr,
        antennas=tiny_world.antennas,
        merge_v=(1, 2, 4),
        time_bin=("1h", "4h"),
        n_points_range=(1, 2),
        n_targets=100,
        rng=0,
    )
    t = sweep.table
    assert len(t) == 3 * 2 * 2
    assert t["cell_km"].isna().all()
    assert sorted(t["merge_v"].unique()) == [1.0, 2.0, 4.0]
    v = t.groupby("merge_v")["v"].first()
    assert v[1.0] == 1.0
    # Measured: recorded locations per merged location, close to what was asked.
    n_ant = cdr[["x_km", "y_km"]].drop_duplicates().shape[0]
    assert v[2.0] > 1.3 and v[4.0] > v[2.0] and v[4.0] <= n_ant
    assert list(sweep.fit["n_points"]) == [1, 2]
    # Reproducible.
    again = resolution_sweep(
        cdr,
        antennas=tiny_world.antennas,
        merge_v=(1, 2, 4),
        time_bin=("1h", "4h"),
        n_points_range=(1, 2),
        n_targets=100,
        rng=0,
    )
    np.testing.assert_array_equal(again.table["unicity"], t["unicity"])


def test_square_cells_remain_and_are_the_only_choice_for_pings(tiny_world):
    pings = tiny_world.observations["pings"]
    default = resolution_sweep(pings, time_bin=("1h",), n_targets=50, rng=0).table
    assert default["merge_v"].isna().all()
    assert default["cell_km"].fillna(0).tolist() == [0.0, 1.0, 2.0, 4.0]
    with pytest.raises(FewpointsError, match="not located at antennas"):
        resolution_sweep(pings, merge_v=(1, 2), n_targets=50)
    sweep = resolution_sweep(pings, cell_km=(None, 1.0), time_bin=("1h",), n_targets=50, rng=0)
    assert sweep.table["merge_v"].isna().all() and sweep.table["cell_km"].isna().sum() == 1
    with pytest.raises(FewpointsError, match="antenna_id"):
        resolution_sweep(pings, antennas=tiny_world.antennas, n_targets=50)
    with pytest.raises(FewpointsError, match="not both"):
        resolution_sweep(
            tiny_world.observations["cdr"], antennas=tiny_world.antennas, cell_km=(1.0,)
        )


@pytest.mark.slow
def test_the_resolution_law_holds_with_merged_antennas():
    # Half the unique-in-the-crowd world (50,000 people, 229 antennas): about a minute.
    world = fewpoints.make_world("unique-in-the-crowd", rng=11, n_people=50_000)
    sweep = resolution_sweep(
        world.traces,
        antennas=world.antennas,
        merge_v=(1, 2, 4, 8),
        time_bin=("1h", "2h", "4h", "8h"),
        n_points_range=(4,),
        n_targets=3_000,
        rng=11,
    )
    u = sweep.table.set_index(["merge_v", "time_bin"])["unicity"]
    assert 1 - u[(2.0, "1h")] / u[(1.0, "1h")] < 0.15  # halving space
    assert 1 - u[(1.0, "2h")] / u[(1.0, "1h")] < 0.15  # halving time
    fit = sweep.fit.iloc[0]
    assert abs(fit["beta"] - (0.157 - 0.007 * 4)) <= 0.04
    assert fit["rmse"] < 0.05
    # Coarser is never more unique, along either axis.
    grid = u.unstack("time_bin")
    assert (np.diff(grid.to_numpy(), axis=0) <= 0.01).all()
    assert (np.diff(grid.to_numpy(), axis=1) <= 0.01).all()


def test_resolution_law_fit_recovers_known_constants():
    vh = np.array([1, 2, 4, 8, 16, 24, 48.0])
    eps = 1.6 - vh**0.13
    alpha, beta, rmse = fit_resolution_law(vh, eps)
    assert alpha == pytest.approx(1.6, abs=1e-3)
    assert beta == pytest.approx(0.13, abs=1e-3)
    assert rmse < 1e-3


def test_resolution_sweep_is_tidy_and_coarser_is_never_more_unique_on_average():
    traces = random_traces(1, n_devices=150, n_places=20, n_hours=48, max_records=30)
    traces["time"] = traces["time"] + pd.to_timedelta(np.arange(len(traces)) % 3600, unit="s")
    sweep = resolution_sweep(
        traces,
        cell_km=[None, 2.0],
        time_bin=["1h", "4h"],
        n_points_range=[2, 3],
        n_targets=150,
        rng=0,
    )
    t = sweep.table
    assert len(t) == 8 and set(sweep.fit["n_points"]) == {2, 3}
    assert (t.loc[t["cell_km"].isna(), "v"] == 1).all()
    assert (t.loc[t["cell_km"] == 2.0, "v"] > 1).all()
    assert set(t["h"]) == {1.0, 4.0}
    fine = t[(t["cell_km"].isna()) & (t["time_bin"] == "1h")]["unicity"].to_numpy()
    coarse = t[(t["cell_km"] == 2.0) & (t["time_bin"] == "4h")]["unicity"].to_numpy()
    assert (coarse <= fine + 0.05).all()
    assert "alpha" in repr(sweep)
