"""The shipped scale tables: unicity measured by size on a synthetic region, and the paper's model.

:func:`scale_tables` reads the two tables ``benchmarks/bench_population.py``
writes into ``synthetic_data/`` (and the wheel carries as ``fewpoints/data/``).
"""

from __future__ import annotations

import pandas as pd

from fewpoints.schema import FewpointsError

#: The measured scale table and the paper's model on the same region, as
#: ``benchmarks/bench_population.py`` writes them into ``synthetic_data/`` (and the wheel
#: carries them as ``fewpoints/data/``).
SCALE_TABLES = ("population_scale.csv", "population_model.csv")


def scale_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped scale table and the paper's model table: ``(measured, model)``.

    ``measured`` has one row per axis, size and p (``axis``, ``n_devices``,
    ``n_towns``, ``n_points``, ``unicity``, ``ci_low``, ``ci_high``,
    ``n_targets``, ``median_anonymity_set``) and ``model`` one per size and
    p (``n_devices``, ``n_points``, ``unicity``, ``ci_low``, ``ci_high``);
    both carry ``world``, ``world_command``, ``world_seed``, ``attack_seed``,
    ``engine``, ``command`` and ``version`` on every row. Measured on a
    synthetic region by ``benchmarks/bench_population.py`` (see
    ``synthetic_data/README.md``); nothing in them is typed by hand.
    """
    from importlib import resources
    from pathlib import Path

    out = []
    for name in SCALE_TABLES:
        packaged = resources.files("fewpoints").joinpath("data", name)
        checkout = Path(__file__).resolve().parents[4] / "synthetic_data" / name
        if packaged.is_file():
            with packaged.open("rb") as fh:
                out.append(pd.read_csv(fh))
        elif checkout.is_file():
            out.append(pd.read_csv(checkout))
        else:
            raise FewpointsError(
                f"the measured scale table {name} is missing from this install "
                "(benchmarks/bench_population.py writes it into synthetic_data/)"
            )
    measured, model = out
    measured["n_towns"] = measured["n_towns"].astype("Int64")
    return measured, model
