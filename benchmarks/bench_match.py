"""Time and memory of the Dask sweep's three passes on one partition, the audit's 31 settings.

One partition the size the crowd audit's are (25,000 devices), cut from a
chunked world's Parquet part, swept as ``fewpoints audit --engine dask``
sweeps (``AuditSizes``: the unicity curve and 30 coarsenings, 10,000
targets each) on the synchronous scheduler, so the process's peak resident
memory is one worker's:

    flock /tmp/fewpoints-heavy.lock nice -n 10 .venv/bin/python benchmarks/bench_match.py \\
        /work/data/h19/crowd/traces_cdr/part-00000.parquet --devices 25000

Prints the seconds of each pass and the peak resident memory of the sweep alone
(``VmHWM`` reset after the partition is loaded); writes
``benchmarks/results/match_partition.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine  # noqa: E402


def main(argv=None) -> int:
    import dask
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from fewpoints.audit.result import AuditSizes
    from fewpoints.briefing import attack_rng
    from fewpoints.scale import dask_sweep

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", help="a Parquet part of a chunked world (device_id, time, x_km, y_km)")
    ap.add_argument("--devices", type=int, default=25_000)
    ap.add_argument("--seed", type=int, default=2013)
    args = ap.parse_args(argv)

    dev = pq.read_table(args.part, columns=["device_id"]).column("device_id")
    ids = np.sort(pd.unique(dev.to_numpy()))[: args.devices]
    del dev
    cols = ["device_id", "time", "x_km", "y_km"]
    df = pq.read_table(
        args.part, columns=cols, filters=[("device_id", "in", list(ids))]
    ).to_pandas()
    df["time"] = df["time"].astype("datetime64[s]")
    sizes = AuditSizes()
    rng = attack_rng(args.seed)
    settings = [(c, b) for c in sizes.sweep_cells for b in sizes.sweep_bins]
    jobs = [(None, None, sizes.curve_order(), attack_rng(args.seed))] + [
        (c, b, [sizes.sweep_points], rng) for c, b in settings
    ]
    ddf = dd.from_delayed([dask.delayed(df)], meta=df.iloc[:0])
    stages: dict[str, list[float]] = {}

    def progress(stage: str, fraction: float) -> None:
        now = time.perf_counter()
        stages.setdefault(stage, [now, now])[1] = now

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # restart the peak resident memory here
    base = _status("VmRSS")
    t0 = time.perf_counter()
    with dask.config.set(scheduler="synchronous"):
        out = dask_sweep(ddf, jobs, n_targets=sizes.n_targets, progress=progress)
    total = time.perf_counter() - t0
    passes = {s: round(b - a, 1) for s, (a, b) in stages.items()}
    coarsest = out[-1][0][0]
    result = {
        "command": " ".join(sys.argv),
        "devices": int(len(ids)),
        "records": int(len(df)),
        "settings": len(jobs),
        "n_targets": sizes.n_targets,
        "seconds": round(total, 1),
        "passes": passes,
        "rss_before_gb": round(base / 2**20, 2),
        "peak_rss_gb": round(_status("VmHWM") / 2**20, 2),
        "coarsest_median_set": float(np.median(coarsest.targets["anonymity_set_size"])),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "machine": machine(),
    }
    print(json.dumps(result, indent=1))
    (HERE / "results" / "match_partition.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


def _status(field: str) -> int:
    """A field of /proc/self/status, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


if __name__ == "__main__":
    raise SystemExit(main())
