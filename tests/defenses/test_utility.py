"""The utility error of a released table against the truth, by hand."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from fewpoints.defenses import aggregate, utility_error
from fewpoints.schema import FewpointsError
from tests.builders import _hour, random_traces

# ---------------------------------------------------------------------------
# utility_error
# ---------------------------------------------------------------------------


def test_utility_error_by_hand():
    truth = pd.DataFrame(
        {
            "x_km": [0.5, 1.5, 2.5],
            "y_km": [0.5, 0.5, 0.5],
            "time": [_hour(8)] * 3,
            "devices": [10, 20, 1],
        }
    )
    released = pd.DataFrame(
        {
            "x_km": [0.5, 1.5, 2.5, 9.5],
            "y_km": [0.5, 0.5, 0.5, 0.5],
            "time": [_hour(8)] * 4,
            "devices": [12, 10, 3, 4],
        }
    )
    got = utility_error(truth, released)
    # errors 2, 10, 2 on the true cells; 4 devices in a cell that had none
    assert got.mae == pytest.approx(14 / 3)
    assert got.mre == pytest.approx((0.2 + 0.5) / 2)
    assert got.share_error_exceeds_count == pytest.approx(1 / 3)  # 2 > 1 only in the last
    assert got.false_cells == 1
    assert (got.n_cells, got.n_cells_mre) == (3, 2)
    # A cell missing from the release counts 0.
    got = utility_error(truth, released.iloc[[0]])
    assert got.mae == pytest.approx((2 + 20 + 1) / 3)
    assert math.isnan(utility_error(truth.assign(devices=1), released).mre)


def test_utility_error_read_as_the_old_dict_warns_and_agrees():
    got = utility_error(aggregate(random_traces(1)), aggregate(random_traces(2)), min_count=1)
    assert got.n_cells_mre > 0 and not math.isnan(got.mre)
    assert got.to_frame().to_dict("records") == [dataclasses.asdict(got)]
    for name in ("mae", "mre", "share_error_exceeds_count", "false_cells", "n_cells"):
        with pytest.warns(DeprecationWarning, match="UtilityError"):
            assert got[name] == getattr(got, name)
    with pytest.warns(DeprecationWarning):
        assert "n_cells_mre" in got and "nope" not in got
    with pytest.warns(DeprecationWarning):
        assert dict(got) == dataclasses.asdict(got)
    with pytest.warns(DeprecationWarning), pytest.raises(KeyError):
        got["nope"]


def test_utility_error_names_a_missing_column():
    with pytest.raises(FewpointsError, match="devices"):
        utility_error(
            pd.DataFrame({"x_km": [], "y_km": [], "time": []}), aggregate(random_traces(0))
        )
