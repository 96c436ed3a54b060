"""The population tables of the READMEs, printed from the shipped scale table and the benchmark results.

    .venv/bin/python benchmarks/population_tables.py

``benchmarks/bench_population.py`` writes ``synthetic_data/population_scale.csv``,
``synthetic_data/population_model.csv`` and ``benchmarks/results/population-<name>.json``;
``benchmarks/bench_population_gap.py`` writes ``results/population-gap-<name>.json``.
The tables in ``README.md``, ``benchmarks/README.md`` and ``synthetic_data/README.md``
are printed from them by this script, so they state the measured numbers and nothing typed
by hand (``tests/test_shipped_data.py`` checks it). All numbers are from synthetic data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCALE = ROOT / "synthetic_data" / "population_scale.csv"
MODEL = ROOT / "synthetic_data" / "population_model.csv"
PUBLISHED = {4: "93% (lower bound 22%)", 5: "lower bound 87%"}


def _name(measured: pd.DataFrame) -> str:
    """The region's folder name, as bench_population.py names its results file."""
    command = measured["command"].iloc[0].split()
    return Path(command[2]).name


def results(measured: pd.DataFrame, kind: str = "population") -> dict:
    return json.loads((HERE / "results" / f"{kind}-{_name(measured)}.json").read_text())


def _share(v: float) -> str:
    return f"{100 * v:.1f}%"


def scale_table(measured: pd.DataFrame) -> str:
    """Unicity by axis and size, p = 2..5 (p = 4 with its 95% interval)."""
    ps = sorted(measured["n_points"].unique())
    head = ["axis", "phones", "towns"] + [f"p = {p} (95% CI)" if p == 4 else f"p = {p}" for p in ps]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|" + "---:|" * len(ps)]
    for (axis, n), rows in measured.groupby(["axis", "n_devices"], sort=True):
        by = rows.set_index("n_points")
        cells = []
        for p in ps:
            r = by.loc[p]
            text = _share(r["unicity"])
            if p == 4:
                text += f" ({_share(r['ci_low'])}-{_share(r['ci_high'])})"
            cells.append(text)
        towns = by["n_towns"].iloc[0]
        lines.append(f"| {axis} | {n:,} | {int(towns):,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def country_table(measured: pd.DataFrame, model: pd.DataFrame) -> str:
    """At 60 million: the Beta model, the lower bound, the paper's model, beside the published."""
    extra = results(measured)["extrapolation_60M"]
    big = int(measured["n_devices"].max())
    lines = [
        f"| p | measured at {big:,} | Beta model at 60M | lower bound at 60M "
        "| paper's model at 60M | published at 60M (real data) |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for p in (4, 5):
        e = extra[str(p)]
        paper = model[(model["n_points"] == p) & (model["n_devices"] == 6e7)]["unicity"].iloc[0]
        lines.append(
            f"| {p} | {_share(e['measured_largest'])} | {_share(e['beta_60M'])} | "
            f"{_share(e['lower_bound_60M'])} | {_share(paper)} | {PUBLISHED[p]} |"
        )
    return "\n".join(lines)


def gap_table(measured: pd.DataFrame) -> str:
    """The paper's model at 60M with one marginal replaced at a time."""
    gap = results(measured, "population-gap")
    t = pd.DataFrame(gap["table"])
    t = t[t["n_devices"] == 6e7]
    lines = [
        "| marginals used by the model | top-1 share | top-3 share | points (median, 99th pct) "
        "| p = 4 at 60M | p = 5 at 60M |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for variant, rows in t.groupby("variant", sort=False):
        by = rows.set_index("n_points")
        r = by.iloc[0]
        lines.append(
            f"| {variant} | {r['marginal_top1_share']:.0%} | {r['marginal_top3_share']:.0%} | "
            f"{int(r['marginal_points_median'])}, {int(r['marginal_points_p99'])} | "
            f"{_share(by.loc[4, 'unicity'])} | {_share(by.loc[5, 'unicity'])} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    measured, model = pd.read_csv(SCALE), pd.read_csv(MODEL)
    print(f"<!-- from synthetic_data/population_scale.csv: {measured['command'].iloc[0]} -->")
    print(scale_table(measured))
    print()
    print(country_table(measured, model))
    print()
    print(gap_table(measured))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
