"""Time and measure the memory of world generation, one preset per child process.

Usage:
    python benchmarks/bench_generate.py                      # classroom and crowd
    python benchmarks/bench_generate.py --presets tiny classroom --repeat 3

Each run happens in a fresh child process, so its peak resident memory
(``ru_maxrss``) is that run's alone. Results are printed as a table and
written to benchmarks/results/generate.json, with the seconds from each
stage's first progress report to the next stage's (``stages``: stages run
partly at once on two threads, so a stage's figure is the time until the
next one starts, the wait included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import machine

CHILD = r"""
import json, resource, sys, time
import fewpoints
preset, seed = sys.argv[1], int(sys.argv[2])
marks = []  # (stage, time it was first reported)
def progress(stage, fraction):
    if not marks or marks[-1][0] != stage:
        marks.append((stage, time.perf_counter()))
t0 = time.perf_counter()
world = fewpoints.make_world(preset, rng=seed, progress=progress)
elapsed = time.perf_counter() - t0
ends = [t for _, t in marks[1:]] + [t0 + elapsed]
stages = {name: round(end - t, 2) for (name, t), end in zip(marks, ends)}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
rows = {name: len(df) for name, df in world.tables().items()}
print(json.dumps({"preset": preset, "seed": seed, "seconds": elapsed, "peak_bytes": peak,
                  "people": len(world.people), "days": world.params.days, "rows": rows,
                  "stages": stages, "fewpoints": fewpoints.__file__}))
"""

TARGETS = {"classroom": {"seconds": 10.0}, "crowd": {"seconds": 180.0, "peak_bytes": 10e9}}


def run(preset: str, seed: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, preset, str(seed)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["classroom", "crowd"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per preset; the fastest is reported"
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "generate.json"))
    args = parser.parse_args(argv)

    results = []
    for preset in args.presets:
        runs = [run(preset, args.seed) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        best["peak_bytes"] = max(r["peak_bytes"] for r in runs)
        best["target"] = TARGETS.get(preset, {})
        results.append(best)

    print(
        f"{'preset':<10} {'people':>10} {'days':>5} {'records':>13} {'seconds':>8} {'peak GB':>8}  target"
    )
    for r in results:
        records = sum(v for k, v in r["rows"].items() if k.startswith("traces"))
        target = r["target"]
        goal = ", ".join(
            f"< {v:.0f} s" if k == "seconds" else f"< {v / 1e9:.0f} GB" for k, v in target.items()
        )
        ok = all(r[k] < v for k, v in target.items())
        print(
            f"{r['preset']:<10} {r['people']:>10,} {r['days']:>5} {records:>13,} {r['seconds']:>8.1f} "
            f"{r['peak_bytes'] / 1e9:>8.2f}  {goal}{'' if not target else (' ok' if ok else ' MISSED')}"
        )
        print("    " + ", ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items()))
    meta = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
