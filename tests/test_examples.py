"""The tiny example tables of ``fewpoints.examples``: valid, deterministic, fresh copies."""

import doctest

import pandas as pd
import pytest

from fewpoints import examples, unicity, validate
from fewpoints.attacks.top_locations import home_work

BUILDERS = {
    "tiny_traces": lambda: {"traces": examples.tiny_traces()},
    "tiny_commutes": lambda: {"traces": examples.tiny_commutes()},
    "tiny_homes": examples.tiny_homes,
    "tiny_clinic": examples.tiny_clinic,
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_table_is_valid_and_the_same_each_call(name):
    first, second = BUILDERS[name](), BUILDERS[name]()
    for table, df in first.items():
        validate(df, table)
        pd.testing.assert_frame_equal(df, second[table])


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_each_call_returns_a_fresh_copy(name):
    first = BUILDERS[name]()
    for df in first.values():
        df["scratch"] = 1
    assert all("scratch" not in df for df in BUILDERS[name]().values())


def test_all_names_the_builders():
    assert sorted(examples.__all__) == sorted(BUILDERS)


def test_tiny_traces_singles_out_b_alone_from_two_points():
    assert unicity(examples.tiny_traces(), 2, n_targets=3, rng=0).value == pytest.approx(1 / 3)


def test_tiny_commutes_homes_and_the_shared_work():
    homes = home_work(examples.tiny_commutes())
    assert homes[["device_id", "home_x_km", "work_x_km"]].values.tolist() == [
        ["a", 0.0, 3.0],
        ["b", 1.0, 3.0],
    ]


def test_the_module_examples_run():
    result = doctest.testmod(examples, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted >= 5
