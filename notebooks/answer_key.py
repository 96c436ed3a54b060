"""Measure the answer key: run every lesson's answers on several seeds and write what they print.

Each teacher's edition (``notebooks/teacher/*.ipynb``) is executed once per seed, with the
setup cell's ``SEED = 0`` replaced by ``SEED = k`` (the random draws of targets and phones;
the synthetic city itself stays seed 2013, as every lesson builds it). Every line an
answer prints is kept as printed at seed 0, and each number in it with its smallest and
largest value over the seeds. The result goes to ``notebooks/answer_key.json`` and, as a
table per lesson, into the teacher's guide (``notebooks/README.md``, between the
``answer-key`` markers). ``tests/test_notebooks.py`` checks that the guide shows exactly
what the JSON holds and that the seed-0 lines are what the lessons print today.

Run it after changing a lesson (several minutes; two lessons at a time)::

    flock /tmp/fewpoints-heavy.lock .venv/bin/python notebooks/answer_key.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent
KEY = HERE / "answer_key.json"
GUIDE = HERE / "README.md"
START, END = "<!-- answer-key:start -->", "<!-- answer-key:end -->"
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?")
SEEDS = (0, 1, 2, 3, 4)


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def answer_lines(nb) -> list[list[str]]:
    """Per exercise (in order), the non-empty lines its answer printed."""
    return [
        [line.rstrip() for line in _text(c).splitlines() if line.strip()]
        for c in nb.cells
        if "solution" in c.get("metadata", {}).get("tags", [])
    ]


def run(path: Path, seed: int) -> list[list[str]]:
    """Execute one teacher's edition with ``SEED = seed``; its answers' lines."""
    nb = nbformat.read(path, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code" and "SEED = 0" in c.source)
    setup.source = setup.source.replace("SEED = 0", f"SEED = {seed}")
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(HERE)}}
    ).execute()
    return answer_lines(nb)


def _template(line: str) -> str:
    return NUMBER.sub("#", line)


def _value(token: str) -> float:
    return float(token.replace(",", "").rstrip("%"))


def measure(by_seed: dict[int, list[list[str]]]) -> list[dict]:
    """Exercises: each line at the first seed, each number with its range over the seeds."""
    first = by_seed[min(by_seed)]
    exercises = []
    for n, lines in enumerate(first, start=1):
        out = []
        for i, line in enumerate(lines):
            tokens = NUMBER.findall(line)
            same = [
                s[n - 1][i]
                for s in by_seed.values()
                if len(s[n - 1]) == len(lines) and _template(s[n - 1][i]) == _template(line)
            ]
            values = [[_value(t) for t in NUMBER.findall(x)] for x in same]
            ranges = [
                [min(v[j] for v in values), max(v[j] for v in values)] for j in range(len(tokens))
            ]
            out.append({"text": line, "ranges": ranges, "seeds": len(same)})
        exercises.append({"exercise": n, "lines": out})
    return exercises


def _fmt(x: float, like: str) -> str:
    digits = like.rstrip("%")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    text = f"{x:,.{decimals}f}" if "," in digits else f"{x:.{decimals}f}"
    return text + ("%" if like.endswith("%") else "")


def render_line(line: dict) -> str:
    """A printed line with each number that varies across seeds followed by its range."""
    tokens = iter(line["ranges"])

    def annotate(m):
        lo, hi = next(tokens)
        if lo == hi:
            return m.group(0)
        return f"{m.group(0)} [{_fmt(lo, m.group(0))} to {_fmt(hi, m.group(0))}]"

    return NUMBER.sub(annotate, line["text"])


def render(key: dict) -> str:
    """The answer key as Markdown, one table per lesson."""
    seeds = key["seeds"]
    out = [
        START,
        "",
        f"*Measured by `notebooks/answer_key.py` (do not edit by hand): each answer run with "
        f"`SEED` = {', '.join(map(str, seeds))}; the line is what a class sees at `SEED = 0`, "
        "and [low to high] is the range over those seeds where a number varies. A line with "
        "no range printed the same number on every seed.*",
    ]
    for stem, exercises in key["lessons"].items():
        out += ["", f"**{stem.replace('_', ' ')[3:].capitalize()}** (lesson {int(stem[:2])})", ""]
        out += ["| exercise | expected answer |", "|---|---|"]
        for ex in exercises:
            lines = [render_line(li).replace("|", "\\|") for li in ex["lines"]]
            cell = "<br>".join(f"`{li}`" for li in lines[:12])
            if len(lines) > 12:
                cell += f"<br>(and {len(lines) - 12} more lines)"
            out.append(f"| {ex['exercise']} | {cell} |")
    out += ["", END]
    return "\n".join(out)


def write_guide(key: dict) -> None:
    text = GUIDE.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{GUIDE}: no {START} ... {END} section to fill")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    GUIDE.write_text(head + render(key) + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--guide-only", action="store_true", help="rewrite the guide from the JSON")
    args = parser.parse_args(argv)
    if args.guide_only:
        write_guide(json.loads(KEY.read_text()))
        return 0
    paths = sorted((HERE / "teacher").glob("[0-9][0-9]_*.ipynb"))
    jobs = [(p, s) for p in paths for s in args.seeds]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: run(*job), jobs))
    print(f"ran {len(jobs)} notebooks in {time.monotonic() - start:.0f} s", file=sys.stderr)
    lessons = {}
    for path in paths:
        by_seed = {s: r for (p, s), r in zip(jobs, results, strict=True) if p == path}
        lessons[path.stem] = measure(by_seed)
    key = {"seeds": args.seeds, "lessons": lessons}
    KEY.write_text(json.dumps(key, indent=1, ensure_ascii=False) + "\n")
    write_guide(key)
    print(
        f"wrote {KEY.relative_to(HERE.parent)} and the answer key in {GUIDE.name}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
