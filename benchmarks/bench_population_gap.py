"""Why the paper's model on a synthetic region lands where it does at 60 million: one marginal at a time.

Usage (after ``bench_population.py`` on the same region; a few minutes on 2 cores):

    flock /tmp/fewpoints-heavy.lock .venv/bin/python benchmarks/bench_population_gap.py \\
        /work/data/h14-region10m --every 10

The model of Farzanehfar et al. (2021) is built from three marginals of the
data (``fewpoints.attacks.population.fit_marginals``). This script estimates
them from every ``--every``-th partition of a region world written in
chunks (read with the Dask engine), checks them against the whole region's
(``benchmarks/results/population-<name>.json``, written by
``bench_population.py``), and computes the model's unicity at 60 million on
the region's antenna map with the marginals as measured and with one of
them replaced at a time:

* **frequency**: each person's visits over their top 10 antennas replaced by
  the Zipf law of visit frequencies measured on real phone data,
  f_k ~ k^-1.2 (Song, Koren, Wang, Barabasi 2010, as DESIGN.md cites it);
* **activity**: the heaviest 10% of phones (points per person) brought down
  to the 90th percentile;
* **circadian**: points spread evenly over the hours that have any;
* **period**: the same rhythm and rate over 13 weeks (3 months, the paper's
  period) instead of 4: activity and hours both x 13/4.

It writes ``benchmarks/results/population-gap-<name>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIZES = (1e5, 1e6, 1e7, 6e7)
#: Visit frequency over a person's places, f_k ~ k^-1.2 (Song et al. 2010; REFERENCES.md).
ZIPF_EXPONENT = 1.2


def variants(m):
    """The measured marginals and each one-at-a-time replacement: ``{name: Marginals}``."""
    from fewpoints.attacks.population import Marginals

    out = {"as measured": m}
    k = np.arange(1, m.frequency.size + 1, dtype=float)
    zipf = k**-ZIPF_EXPONENT
    out["frequency: Zipf k^-1.2 (published)"] = Marginals(
        m.activity, zipf / zipf.sum(), m.circadian, m.n_people
    )
    cum = np.cumsum(m.activity)
    q90 = int(np.searchsorted(cum, 0.9))
    capped = m.activity.copy()
    capped[q90] += capped[q90 + 1 :].sum()
    capped[q90 + 1 :] = 0
    out["activity: tail cut at the 90th percentile"] = Marginals(
        capped / capped.sum(), m.frequency, m.circadian, m.n_people
    )
    flat = (m.circadian > 0).astype(float)
    out["circadian: even over the hours"] = Marginals(
        m.activity, m.frequency, flat / flat.sum(), m.n_people
    )
    weeks = m.n_hours / 168
    stretch = 13 / weeks
    hours = int(round(13 * 168))
    circ = np.tile(m.circadian, int(np.ceil(hours / m.n_hours)))[:hours]
    at = np.round(np.arange(m.activity.size) * stretch).astype(int)
    act = np.zeros(at.max() + 1)
    np.add.at(act, at, m.activity)
    out["period: 13 weeks instead of 4"] = Marginals(
        act, m.frequency, circ / circ.sum(), m.n_people
    )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="a Parquet region world written in chunks")
    ap.add_argument("--every", type=int, default=10, help="read every n-th partition")
    ap.add_argument("--targets", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=2014)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GB")
    args = ap.parse_args(argv)

    import pandas as pd
    import pyarrow.parquet as pq

    from fewpoints.attacks.dask_engine import connect, read_traces_dask
    from fewpoints.attacks.population import fit_marginals, marginals_unicity

    t0 = time.perf_counter()
    name = args.path.name
    whole_path = HERE / "results" / f"population-{name}.json"
    whole = json.loads(whole_path.read_text()) if whole_path.exists() else None
    antennas = pq.read_table(args.path / "antennas.parquet").to_pandas()
    with connect(workers=args.workers, memory_limit=args.memory_limit):
        ddf = read_traces_dask(args.path)
        part = ddf.partitions[:: args.every]
        m = fit_marginals(part)
    t_fit = time.perf_counter() - t0
    print(f"marginals of {m.n_people:,} people ({part.npartitions} of {ddf.npartitions} "
          f"partitions) in {t_fit:.0f} s", file=sys.stderr)  # fmt: skip
    rows = []
    for label, mm in variants(m).items():
        t = time.perf_counter()
        r = marginals_unicity(mm, antennas, SIZES, n_points_range=(4, 5), n_targets=args.targets,
                              rng=args.seed)  # fmt: skip
        for row in r.table.to_dict(orient="records"):
            rows.append({"variant": label, **row, **{f"marginal_{k}": v for k, v in dataclasses.asdict(mm.summary()).items()}})  # fmt: skip
        print(f"  {label:<45} {time.perf_counter() - t:6.1f} s", file=sys.stderr)
    table = pd.DataFrame(rows)
    out = {
        "command": "python benchmarks/bench_population_gap.py " + shlex.join(argv or sys.argv[1:]),
        "world": name,
        "people_sampled": int(m.n_people),
        "partitions": [int(part.npartitions), int(ddf.npartitions)],
        "marginals_sampled": dataclasses.asdict(m.summary()),
        "marginals_whole": whole["marginals"] if whole else None,
        "frequency_sampled": m.frequency.tolist(),
        "n_antennas": len(antennas),
        "seconds": time.perf_counter() - t0,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "table": table.to_dict(orient="records"),
    }
    path = HERE / "results" / f"population-gap-{name}.json"
    path.write_text(json.dumps(out, indent=2, default=float) + "\n")
    wide = table[table["n_devices"] == 6e7].pivot(
        index="variant", columns="n_points", values="unicity"
    )
    print((100 * wide).round(1).to_string())
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
