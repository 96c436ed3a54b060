"""The README's Python examples run as written (so its first screens stay true)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    result = namespace["result"]
    assert 0.5 < result.value < 1.0
    assert "no real person is in it" in capsys.readouterr().out


def test_readme_first_screen_gives_the_two_commands():
    first_screen = "\n".join(README.read_text().splitlines()[:30])
    assert "make demo" in first_screen and "make test" in first_screen


def test_readme_tables_of_the_briefing_world_are_the_briefing_run():
    """The privacy-utility table and figure 4's rows are printed from the briefing's results."""
    import json
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import briefing_tables

    results = json.loads((ROOT / "benchmarks/results/briefing_city_2013.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert briefing_tables.privacy_table(results) in readme
    assert briefing_tables.home_work_table(results) in readme
    # ... and the run is the briefing make demo writes: its raw share is the summary's.
    raw = next(f for f in results["figures"] if f["name"].endswith("what-protects"))
    assert raw["facts"]["raw data, 4 points"]["unicity"] == results["summary"][0]["value"]
