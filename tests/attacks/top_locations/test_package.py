"""The top-locations attacks as a whole read released tables only, never the ground truth."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fewpoints
from fewpoints.attacks import anonymity_table, home_work, top_locations

SRC = Path(fewpoints.__file__).parent


# ---------------------------------------------------------------------------
# the attacks read only released and public tables
# ---------------------------------------------------------------------------

GROUND_TRUTH_NAMES = {"people", "stays", "person_id", "home_place_id", "work_place_id"}


TOP_LOCATIONS_MODULES = sorted(
    p.relative_to(SRC / "attacks").as_posix()
    for p in (SRC / "attacks" / "top_locations").glob("*.py")
)


@pytest.mark.parametrize("module", [*TOP_LOCATIONS_MODULES, "inference.py"])
def test_attack_modules_never_mention_ground_truth(module):
    tree = ast.parse((SRC / "attacks" / module).read_text())
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used.add(node.value)
        elif isinstance(node, ast.alias):
            used.add(node.name.rsplit(".", 1)[-1])
    assert not (used & GROUND_TRUTH_NAMES)
    assert "fewpoints.synth" not in (SRC / "attacks" / module).read_text()


class _Sealed:
    """A world whose ground truth raises on access: attacks get only what a buyer gets."""

    def __init__(self, world):
        self._world = world

    def __getattr__(self, name):
        if name in ("people", "stays"):
            raise AssertionError(f"an attack read the ground truth table {name!r}")
        return getattr(self._world, name)


def test_attacks_run_on_released_tables_only(tiny_world):
    from fewpoints.attacks import sensitive_visits

    sealed = _Sealed(tiny_world)
    for model in ("cdr", "pings"):
        traces = sealed.observations[model]
        assert not ({"person_id", "name"} & set(traces.columns))
        home_work(traces)
        top_locations(traces)
        anonymity_table(traces, places=sealed.places)
        sensitive_visits(traces, sealed.places, antennas=sealed.antennas)
    with pytest.raises(AssertionError, match="ground truth"):
        _ = sealed.people
