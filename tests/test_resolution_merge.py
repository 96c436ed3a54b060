"""``resolution_sweep`` with merged antennas, and the resolution law of "Unique in the Crowd" on it.

Published (de Montjoye et al. 2013, fitted on real CDR of 1.5M people):
unicity = alpha - (v*h)**beta with beta = 0.157 - 0.007 p (0.129 at p = 4);
halving the resolution costs about 9% at p = 4. Checked here on a synthetic
medium world; the full world is checked by benchmarks/bench_anonymize.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import fewpoints
from fewpoints.attacks import resolution_sweep
from fewpoints.schema import FewpointsError


def test_merged_sweep_reports_the_measured_merge_factor(tiny_world):
    cdr = tiny_world.observations["cdr"]
    sweep = resolution_sweep(
        cdr,
        antennas=tiny_world.antennas,
        merge_v=(1, 2, 4),
        time_bin=("1h", "4h"),
        n_points=(1, 2),
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
        n_points=(1, 2),
        n_targets=100,
        rng=0,
    )
    np.testing.assert_array_equal(again.table["unicity"], t["unicity"])


def test_square_cells_remain_and_are_the_only_choice_for_pings(tiny_world):
    pings = tiny_world.observations["pings"]
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
    world = fewpoints.make_world("unique-in-the-crowd", seed=11, n_people=50_000)
    sweep = resolution_sweep(
        world.traces,
        antennas=world.antennas,
        merge_v=(1, 2, 4, 8),
        time_bin=("1h", "2h", "4h", "8h"),
        n_points=(4,),
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
