"""Time and memory of the Dask sweep's three passes on one partition, the audit's 31 settings.

One partition the size the crowd audit's are (25,000 devices), cut from a
chunked world's Parquet part, swept as ``fewpoints audit --engine dask``
sweeps (``AuditSizes``: the unicity curve and 30 coarsenings, 10,000
targets each) on the synchronous scheduler, so the process's peak resident
memory is one worker's:

    flock /tmp/fewpoints-heavy.lock nice -n 10 .venv/bin/python benchmarks/bench_match.py \\
        /work/data/h19/crowd/traces_cdr/part-00000.parquet --devices 25000

The worst case beside the broadcast join it replaced (read from the commit
before it, 89a27f7): N devices all holding one coarse point, known by N
targets, one ``sweep_match_partition`` call each, allocations traced:

    nice -n 10 .venv/bin/python benchmarks/bench_match.py --worst-case 4000

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
    ap.add_argument(
        "part", nargs="?", help="a Parquet part of a chunked world (device_id, time, x_km, y_km)"
    )
    ap.add_argument("--devices", type=int, default=25_000)
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--worst-case", type=int, metavar="N", help="the worst case, old and new")
    args = ap.parse_args(argv)
    if args.worst_case:
        return worst_case(args.worst_case)
    if not args.part:
        ap.error("give a Parquet part, or --worst-case N")

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
        "command": " ".join(["python", *sys.argv]),
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


def worst_case(n_dev: int) -> int:
    """The old and the new pass 3 on ``n_dev`` devices in one coarse point known by ``n_dev`` targets."""
    import importlib.util
    import subprocess
    import tempfile
    import tracemalloc

    import numpy as np
    import pandas as pd

    import fewpoints.scale.passes as new

    src = subprocess.run(["git", "show", "89a27f7:src/fewpoints/scale/passes.py"], cwd=HERE,
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "old_passes.py"
        path.write_text(src)
        spec = importlib.util.spec_from_file_location("old_passes", path)
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
    rng = np.random.default_rng(0)
    n = 3 * n_dev
    t0 = pd.Timestamp("2026-03-02 08:00")
    df = pd.DataFrame({"device_id": np.repeat([f"d{i:06d}" for i in range(n_dev)], 3),
                       "time": t0 + pd.to_timedelta(rng.integers(0, 12 * 3600, n), unit="s"),
                       "x_km": rng.uniform(0.1, 9.9, n), "y_km": rng.uniform(0.1, 9.9, n)})  # fmt: skip
    known = {"x": np.array([5.0]), "y": np.array([5.0]),
             "t": np.array([t0.floor("D").value // 10**9], dtype=np.int64),
             "offsets": np.array([0, n_dev]), "targets": np.arange(n_dev, dtype=np.int64),
             "need": np.ones(n_dev, dtype=np.int64)}  # fmt: skip
    out = {"command": " ".join(["python", *sys.argv]), "devices": n_dev, "targets": n_dev}
    for name, mod in (("holder sets", new), ("broadcast join (89a27f7)", old)):
        tracemalloc.start()
        start = time.perf_counter()
        frame = mod.sweep_match_partition(df, [known], [(10.0, 86400)])
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert frame["holders"].tolist() == [n_dev] * n_dev
        out[name] = {"seconds": round(seconds, 3), "peak_traced_mb": round(peak / 1e6, 1)}
    out["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(out, indent=1))
    return 0


def _status(field: str) -> int:
    """A field of /proc/self/status, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


if __name__ == "__main__":
    raise SystemExit(main())
