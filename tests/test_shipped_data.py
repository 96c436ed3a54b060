"""The shipped classroom world is exactly what its data card's command generates."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

import fewpoints
from fewpoints.cli import main

SHIPPED = Path(__file__).resolve().parents[1] / "synthetic_data" / "classroom"


@pytest.fixture(scope="module")
def meta():
    return json.loads((SHIPPED / "world.json").read_text())


def test_the_data_card_gives_the_command_in_world_json(meta):
    card = (SHIPPED.parent / "README.md").read_text()
    command = meta["command"].replace(" --observe cdr,pings", "")
    assert f"{command} --out synthetic_data/classroom" in card
    assert meta["synthetic"] is True
    assert meta["generator_version"] == fewpoints.__version__


def test_shipped_world_is_small_enough_for_git():
    total = sum(f.stat().st_size for f in SHIPPED.parent.rglob("*") if f.is_file())
    assert total < 25 * 2**20


@pytest.mark.slow
def test_regenerating_gives_identical_files(meta, tmp_path, capsys):
    args = shlex.split(meta["command"])
    assert args[:2] == ["fewpoints", "generate"]
    out = tmp_path / "classroom"
    assert main([*args[1:], "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    shipped = sorted(p.name for p in SHIPPED.iterdir())
    assert sorted(p.name for p in out.iterdir()) == shipped
    for name in shipped:
        assert (out / name).read_bytes() == (SHIPPED / name).read_bytes(), (
            f"{name} differs: run `make data`"
        )


@pytest.mark.slow
def test_shipped_world_reads_and_validates():
    world = fewpoints.read_world(SHIPPED)
    assert len(world.people) == 5_000
    assert set(world.observations) == {"cdr", "pings"}


# --- the population scale table (measured by benchmarks/bench_population.py) -------------

ROOT = SHIPPED.parents[1]


def _tables_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "population_tables", ROOT / "benchmarks" / "population_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scale_table_is_the_benchmark_run_row_for_row():
    """Nothing in the shipped table is typed by hand: it is the run recorded in results/."""
    import pandas as pd

    from fewpoints.attacks.population import scale_tables

    measured, model = scale_tables()
    T = _tables_module()
    run = T.results(measured)
    recorded = pd.DataFrame(run["table"])
    keys = ["axis", "n_devices", "n_points"]
    both = measured.merge(recorded, on=keys, suffixes=("", "_run"), validate="one_to_one")
    assert len(both) == len(measured) == len(recorded)
    for col in ("unicity", "ci_low", "ci_high", "n_targets"):
        assert (abs(both[col] - both[f"{col}_run"]) < 1e-5).all(), col
    paper = pd.DataFrame(run["model"]).merge(model, on=["n_devices", "n_points"])
    assert len(paper) == len(model) and (abs(paper["unicity_x"] - paper["unicity_y"]) < 1e-5).all()
    # Every row says what made it.
    for table in (measured, model):
        assert table["command"].str.startswith("python benchmarks/bench_population.py ").all()
        assert table["world_command"].str.startswith("fewpoints generate --preset region").all()
        assert (table["version"] == fewpoints.__version__).all()
        assert table["world"].nunique() == 1 and table["attack_seed"].nunique() == 1
    assert set(measured["axis"]) == {"subsets", "towns"}
    assert set(measured["n_points"]) == {2, 3, 4, 5} and measured["n_devices"].max() >= 10**6
    assert measured["ci_low"].le(measured["unicity"]).all()
    assert measured["unicity"].le(measured["ci_high"]).all()


def test_every_card_shows_the_scale_table_as_measured():
    import pandas as pd

    T = _tables_module()
    measured, model = pd.read_csv(T.SCALE), pd.read_csv(T.MODEL)
    card = (SHIPPED.parent / "README.md").read_text()
    bench = (ROOT / "benchmarks" / "README.md").read_text()
    for doc in (card, bench):
        assert T.scale_table(measured) in doc, "run benchmarks/population_tables.py"
        assert T.country_table(measured, model) in doc
    assert T.gap_table(measured) in bench

    # The commands, as given (a shell line continued with backslashes reads as one line).
    def joined(doc):
        return re.sub(r"\\\n\s*", "", doc)

    assert measured["world_command"].iloc[0] in card
    command = measured["command"].iloc[0].removeprefix("python ")
    assert command in joined(card) and command in joined(bench)
    # The README states the p = 4 measurements and the 60M table as the files hold them.
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert T.country_table(measured, model) in (ROOT / "README.md").read_text()
    assert T.gap_table(measured) in (ROOT / "README.md").read_text()
    for axis in ("subsets", "towns"):
        rows = measured.query(f"axis == '{axis}' and n_points == 4").sort_values("n_devices")
        first, last = (f"{100 * v:.1f}%" for v in rows["unicity"].iloc[[0, -1]])
        assert f"{first} to {last}" in readme, axis


def test_the_wheel_carries_the_scale_tables():
    tomllib = pytest.importorskip("tomllib")

    from fewpoints.attacks.population import SCALE_TABLES

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    forced = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert forced == {f"synthetic_data/{n}": f"fewpoints/data/{n}" for n in SCALE_TABLES}
