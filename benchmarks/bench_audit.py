"""Time and peak memory of ``fewpoints audit`` on a world written in broker form.

Two steps (the second is the measurement):

    # a world's traces as a broker ships them (advertising IDs, lat/lon, Unix times, accuracy)
    .venv/bin/python benchmarks/bench_audit.py prepare --preset city --seed 2013 \\
        --observe cdr --out /work/data/h19/city-broker.csv
    .venv/bin/python benchmarks/bench_audit.py prepare --world /work/data/h19/crowd \\
        --out /work/data/h19/crowd-broker           # a chunked world: one Parquet part per part

    # the audit, in a child process, with the resident memory of its whole process tree
    .venv/bin/python benchmarks/bench_audit.py run /work/data/h19/city-broker.csv \\
        --out /work/data/h19/city-audit -- --timezone America/Phoenix
    .venv/bin/python benchmarks/bench_audit.py run /work/data/h19/crowd-broker \\
        --out /work/data/h19/crowd-audit -- --timezone America/Phoenix --engine dask \\
        --workers 2 --memory-limit 3GB

``run`` samples the resident memory of the child and all its descendants
(the Dask scheduler and workers included) from /proc every 0.2 s, reads the
child's ``ru_maxrss`` at the end as a check, and timestamps every progress
line. Results: ``benchmarks/results/audit_<name>.json``. Run both under
``flock /tmp/fewpoints-heavy.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine, run_sampled  # noqa: E402


def prepare(args) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fewpoints.audit import broker_form

    out = Path(args.out)
    t0 = time.perf_counter()
    if args.world:
        # A chunked world: each part in broker form, the IDs drawn part by part.
        parts = sorted((Path(args.world) / f"traces_{args.observe}").glob("part-*.parquet"))
        if not parts:
            raise SystemExit(f"{args.world}: no traces_{args.observe}/part-*.parquet")
        out.mkdir(parents=True, exist_ok=True)
        n = 0
        for k, part in enumerate(parts):
            traces = pq.read_table(part).to_pandas()
            b = broker_form(traces, rng=[args.seed, k])
            n += len(b)
            # sorted by advertising ID, as a broker's export by device would be
            order = np.argsort(b["advertiser_id"].to_numpy(), kind="stable")
            b = b.take(order).reset_index(drop=True)
            # files of about --rows-per-file rows, cut between devices (each file whole devices)
            ids = b["advertiser_id"].to_numpy()
            starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
            cuts = starts[np.searchsorted(starts, np.arange(0, len(b), args.rows_per_file))]
            cuts = np.unique(np.r_[cuts, len(b)])
            for j, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
                name = part.name.replace(".parquet", f"-{j}.parquet")
                piece = pa.Table.from_pandas(b.iloc[lo:hi], preserve_index=False)
                pq.write_table(piece, out / name, compression="zstd", row_group_size=1_000_000)
            print(f"  {part.name}: {len(b):,} rows in {len(cuts) - 1} files", flush=True)
    else:
        from fewpoints import make_world

        world = make_world(args.preset, rng=args.seed, observe=(args.observe,))
        traces = world.observations[args.observe]
        b = broker_form(traces, rng=args.seed)
        n = len(b)
        if out.name.endswith(".parquet"):
            b.to_parquet(out, index=False)
        else:
            b.to_csv(out, index=False)
    print(f"wrote {n:,} rows to {out} in {time.perf_counter() - t0:.0f} s")
    return 0


def run(args, extra: list[str]) -> int:
    cmd = [sys.executable, "-m", "fewpoints", "audit", args.file, "--out", args.out, "--force",
           *extra]  # fmt: skip
    shown = " ".join(["fewpoints", *cmd[3:]])
    print(f"running: {shown}", flush=True)
    run = run_sampled(cmd)
    seconds, stdout, peak = run["seconds"], run["stdout"], run["peak_tree_rss_bytes"]
    samples, stages = run["samples"], [(round(s, 1), line) for s, line in run["stages"]]
    print(stdout)
    if run["returncode"] != 0:
        raise SystemExit(f"audit failed (exit {run['returncode']})")
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    audit = json.loads((Path(args.out) / "audit.json").read_text())
    result = {
        "command": shown,
        "seconds": seconds,
        "peak_tree_rss_bytes": peak,
        "child_ru_maxrss_bytes": maxrss,
        "records": audit["about"]["n_records"],
        "devices": audit["about"]["n_devices"],
        "engine": audit["engine"],
        "steps_seconds": audit["seconds"],
        "stages": stages,
        "stdout": stdout.strip().splitlines(),
        "unicity_4": audit["summary"][0],
        "release": audit["coarsening"]["release"],
        "note": args.note,
    }
    info = {
        "machine": machine(load=True),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "result": result,
        "memory_samples": samples[:: max(1, len(samples) // 400)],
    }
    name = args.name or Path(args.file).name.split(".")[0]
    path = HERE / "results" / f"audit_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2) + "\n")
    print(
        f"{result['records']:,} records, {result['devices']:,} devices ({result['engine']} "
        f"engine): {seconds:.1f} s, peak memory of the process tree {peak / 1e9:.2f} GB "
        f"(ru_maxrss {maxrss / 1e9:.2f} GB)"
    )
    print(f"wrote {path}")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare", help="write a world's traces in broker form")
    p.add_argument("--out", required=True)
    p.add_argument("--preset", default="city")
    p.add_argument(
        "--world", help="a chunked world folder (its traces parts, converted one by one)"
    )
    p.add_argument("--observe", default="cdr")
    p.add_argument("--seed", type=int, default=2013)
    p.add_argument(
        "--rows-per-file",
        type=int,
        default=3_000_000,
        help="with --world: rows per Parquet file (each file holds whole devices)",
    )
    r = sub.add_parser("run", help="time fewpoints audit FILE (arguments after -- go to it)")
    r.add_argument("file")
    r.add_argument("--out", required=True)
    r.add_argument("--name", help="results file suffix (default: the file's name)")
    r.add_argument("--note", default="")
    args = ap.parse_args(argv)
    return prepare(args) if args.step == "prepare" else run(args, extra)


if __name__ == "__main__":
    raise SystemExit(main())
