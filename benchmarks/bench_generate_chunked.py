"""Time, memory and disk of generating a world in chunks to a partitioned Parquet dataset.

    .venv/bin/python benchmarks/bench_generate_chunked.py --out /work/data/crowd-parquet \\
        --preset crowd --cdr-time-bin 1h --chunk-people 100000          # 1M people, minutes
    .venv/bin/python benchmarks/bench_generate_chunked.py --out /tmp/w --preset crowd \\
        --people 10000000 --cdr-time-bin 1h --chunk-people 250000 --no-stays

The command line itself (``fewpoints generate --parquet --chunk-people N``)
runs in a child process. This script samples the resident memory of the
child's whole process tree from /proc every 0.2 s (and reads the child's
``ru_maxrss`` at the end as a check), timestamps each progress line the child
prints, and measures the folder on disk. The output folder is kept (it is
the dataset other benchmarks read). Results go to
``benchmarks/results/generate_chunked_<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
from pathlib import Path

from _common import machine, run_sampled

HERE = Path(__file__).resolve().parent


def folder_bytes(path: Path) -> dict[str, int]:
    """Bytes on disk of each top-level entry of ``path`` (a folder's files summed)."""
    out = {}
    for entry in sorted(path.iterdir()):
        files = [entry] if entry.is_file() else [f for f in entry.rglob("*") if f.is_file()]
        out[entry.name] = sum(f.stat().st_size for f in files)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="world folder to write (replaced if it exists)")
    ap.add_argument("--preset", default="crowd")
    ap.add_argument("--people", type=int)
    ap.add_argument("--days", type=int)
    ap.add_argument("--observe", default="cdr")
    ap.add_argument("--cdr-time-bin", default="1h")
    ap.add_argument("--chunk-people", type=int, default=100_000)
    ap.add_argument("--no-stays", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--name", help="results file suffix (default: the output folder's name)")
    ap.add_argument("--note", default="", help="a remark stored with the results")
    args = ap.parse_args(argv)

    cmd = [
        sys.executable,
        "-m",
        "fewpoints",
        "generate",
        "--preset",
        args.preset,
        "--seed",
        str(args.seed),
        "--observe",
        args.observe,
        "--cdr-time-bin",
        args.cdr_time_bin,
        "--parquet",
        "--chunk-people",
        str(args.chunk_people),
        "--out",
        args.out,
        "--force",
    ]
    if args.people:
        cmd += ["--people", str(args.people)]
    if args.days:
        cmd += ["--days", str(args.days)]
    if args.no_stays:
        cmd.append("--no-stays")
    shown = " ".join(["fewpoints", *cmd[3:]])
    print(f"running: {shown}", flush=True)

    run = run_sampled(cmd)
    seconds, stdout, peak = run["seconds"], run["stdout"], run["peak_tree_rss_bytes"]
    samples, stages = run["samples"], run["stages"]
    if run["returncode"] != 0:
        print(stdout)
        raise SystemExit(f"generate failed (exit {run['returncode']})")
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024

    # Wall time of the city and of each chunk, from the timestamped progress lines.
    chunk_start: dict[int, float] = {}
    city_end = None
    for t, line in stages:
        m = re.match(r"chunk (\d+) of (\d+):", line)
        if m and int(m.group(1)) not in chunk_start:
            chunk_start[int(m.group(1))] = t
            city_end = city_end if city_end is not None else t
    starts = [chunk_start[k] for k in sorted(chunk_start)] + [seconds]
    per_chunk = [b - a for a, b in zip(starts[:-1], starts[1:], strict=True)]

    meta = json.loads((Path(args.out) / "world.json").read_text())
    disk = folder_bytes(Path(args.out))
    records = sum(v for k, v in meta["tables"].items() if k.startswith("traces"))
    result = {
        "command": shown,
        "seconds": seconds,
        "city_seconds": city_end,
        "chunk_seconds": per_chunk,
        "peak_tree_rss_bytes": peak,
        "child_ru_maxrss_bytes": maxrss,
        "disk_bytes": disk,
        "disk_total_bytes": sum(disk.values()),
        "people": meta["params"]["n_people"],
        "days": meta["params"]["days"],
        "records": records,
        "tables": meta["tables"],
        "chunked": {k: meta["chunked"][k] for k in ("chunk_people", "n_chunks")},
        "summary": stdout.strip().splitlines()[:6],
        "note": args.note,
    }
    info = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "result": result,
        "memory_samples": samples[:: max(1, len(samples) // 400)],
    }
    name = args.name or Path(args.out).name
    path = HERE / "results" / f"generate_chunked_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2) + "\n")
    print(stdout)
    print(
        f"{result['people']:,} people, {records:,} records, {meta['chunked']['n_chunks']} chunks: "
        f"{seconds:.1f} s (city {city_end or 0:.1f} s, chunk median "
        f"{sorted(per_chunk)[len(per_chunk) // 2] if per_chunk else 0:.1f} s), "
        f"peak memory of the process tree {peak / 1e9:.2f} GB (ru_maxrss {maxrss / 1e9:.2f} GB), "
        f"disk {result['disk_total_bytes'] / 1e9:.2f} GB"
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
