"""The shipped classroom world is exactly what its data card's command generates."""

from __future__ import annotations

import json
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


def test_shipped_world_reads_and_validates():
    world = fewpoints.read_world(SHIPPED)
    assert len(world.people) == 5_000
    assert set(world.observations) == {"cdr", "pings"}
