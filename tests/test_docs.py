"""The docs: results pages printed from the benchmark JSON, links that resolve, examples that run."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"


def _generate():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return _generate().result_pages()


def _json(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def test_committed_results_pages_are_what_the_json_gives(pages):
    committed = {p.name: p.read_text() for p in (DOCS / "results").glob("*.md")}
    assert set(committed) == set(pages), "run make docs (docs/generate.py)"
    for name, text in pages.items():
        assert committed[name] == text, f"docs/results/{name} is stale: run make docs"


def test_the_tables_are_the_benchmark_scripts_own(pages):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import pandas as pd

    import bench_anonymize
    import briefing_tables
    import population_tables as T

    brief = _json("briefing_city_2013.json")
    assert briefing_tables.privacy_table(brief) in pages["anonymization.md"]
    assert briefing_tables.home_work_table(brief) in pages["home-work.md"]
    assert bench_anonymize.readme_table(_json("anonymize.json")["law"]) in pages["coarsening.md"]
    measured, model = pd.read_csv(T.SCALE), pd.read_csv(T.MODEL)
    for table in (T.scale_table(measured), T.country_table(measured, model), T.gap_table(measured)):
        assert table in pages["population.md"]


def test_a_few_numbers_against_the_json(pages):
    # The raw data's share at p = 4 is the briefing's summary number.
    raw = _json("briefing_city_2013.json")["summary"][0]["value"]
    assert f"| raw data | {100 * raw:.1f}% (" in pages["anonymization.md"]
    # The calibration table's p = 4 cell at antenna x hour, with its interval.
    cal = next(r for r in _json("calibration_unique_in_the_crowd.json")["runs"][0]["table"]
               if r["n_points"] == 4)  # fmt: skip
    cell = f"**{100 * cal['unicity']:.1f}% ({100 * cal['ci_low']:.1f}-{100 * cal['ci_high']:.1f})**"
    assert cell in pages["how-few-points.md"]
    # The Dask engine's time on the crowd world, and the linkage shares of the city.
    dask = _json("dask-crowd-parquet.json")["runs"][0]
    assert (
        f"| {dask['seconds']:.0f} s | {dask['peak_tree_bytes'] / 1e9:.1f} GB |" in pages["speed.md"]
    )
    named = _json("linkage_city_pings.json")["models"]["pings"]["directory"]["named"]
    assert f"| city, pings | {100 * named['share']:.1f}% (" in pages["linkage.md"]
    # The grid's weakest coarsenings under 10% are bold, and only they.
    grid = {
        (r["cell_km"], r["time_bin"]): r["unicity"]
        for r in _json("privacy_readme.json")["coarsening"]
    }
    bold = re.findall(r"\*\*([\d.]+)%\*\*", pages["anonymization.md"].split("| cell \\ bin", 1)[1])
    assert sorted(float(b) for b in bold) == sorted(
        round(100 * grid[k], 1) for k in [(2.0, "12h"), (5.0, "1h")]
    )


def test_every_json_result_is_listed(pages):
    for path in RESULTS.glob("*.json"):
        assert f"`{path.name}`" in pages["index.md"], path.name


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)


def test_links_between_pages_resolve(pages):
    for page in [*DOCS.glob("*.md"), *(DOCS / "results").glob("*.md")]:
        for target in _links(page):
            if "://" in target:
                continue
            assert (page.parent / target).resolve().exists(), f"{page.name}: {target}"
    for name in ("index.md", "getting-started.md", "design.md", "api.md", "cli.md"):
        assert (DOCS / name).is_file()


def test_included_fragments_are_generated():
    named = set(_generate().FRAGMENTS)
    for page in DOCS.glob("*.md"):
        for fragment in re.findall(r"\{include\} _generated/([\w.-]+)", page.read_text()):
            assert fragment in named, f"{page.name} includes {fragment}, which nothing writes"


def test_data_model_is_read_from_the_schema():
    from fewpoints import schema

    text = _generate().data_model()
    for table, columns in schema.COLUMNS.items():
        assert f"### {table}" in text
        for column, kind in columns.items():
            assert f"| `{column}` | {kind} |" in text


@pytest.mark.slow
def test_python_examples_in_the_docs_run():
    """Each page's Python blocks, in order, in one namespace per page (as a reader runs them)."""
    ran = 0
    for page in [DOCS / "getting-started.md", *sorted((DOCS / "results").glob("*.md"))]:
        namespace: dict = {}
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
            exec(compile(block, str(page), "exec"), namespace)
            ran += 1
    assert ran >= 4
