"""What the benchmark scripts share: memory readings, a world made in a child process, a timed child.

    from _common import generate_in_child, peak_gb, run_sampled, share, PeakSampler, tree_rss

Every script in this folder is run as ``python benchmarks/NAME.py``, so this module is
imported by its plain name (the script's folder is first on ``sys.path``).

- ``peak_gb()``: this process's peak resident memory so far (``ru_maxrss``).
- ``tree_rss(pid)``: the resident bytes of a process and all its descendants, now (/proc).
- ``PeakSampler(pid)``: samples ``tree_rss`` every 0.2 s in a thread while its block runs.
- ``run_sampled(cmd)``: runs a command, echoes its progress lines (stderr) with their time,
  and returns its output, wall time, peak memory of its process tree and progress lines.
- ``generate_in_child(preset, seed, ...)``: makes a world in a fresh child process and hands
  one observed traces table (and the antenna map) back as numpy columns, so the child's
  memory is its own and the caller's peak is the table plus what it measures.
- ``share(k, n)``: a share with its 95% Wilson interval, as the JSON results store it.
- ``machine()``: the machine a result was measured on, as the JSON results store it.
- ``points_to_devices(devices, frame)`` and ``intersection_sizes(index, groups)``: the
  published research code's baseline (a Python dict point -> set of devices, sets
  intersected per target), against which the engine is timed.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import resource
import subprocess
import tempfile
import threading
import time

import numpy as np
import pandas as pd

PAGE = os.sysconf("SC_PAGE_SIZE")

__all__ = [
    "PeakSampler",
    "generate_in_child",
    "intersection_sizes",
    "machine",
    "peak_gb",
    "points_to_devices",
    "run_sampled",
    "share",
    "tree_rss",
]


def peak_gb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def tree_rss(root: int) -> int:
    """Resident bytes of process ``root`` and all its descendants, now."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


class PeakSampler:
    """Sample the resident memory of process ``pid``'s tree every ``every`` s while in the block.

    ``peak`` is the largest reading; with ``t0`` (a ``time.perf_counter()`` value) every
    reading is also kept in ``samples`` as ``(seconds since t0, bytes)``.
    """

    def __init__(self, pid: int, *, every: float = 0.2, t0: float | None = None):
        self.pid, self.every, self.t0 = pid, every, t0
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            now = tree_rss(self.pid)
            self.peak = max(self.peak, now)
            if self.t0 is not None:
                self.samples.append((round(time.perf_counter() - self.t0, 1), now))
            self._done.wait(self.every)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def run_sampled(cmd: list[str]) -> dict:
    """Run ``cmd``, echo each progress line (its stderr) with its time, sample its memory.

    Returns ``returncode``, ``stdout`` (the whole text), ``seconds`` (wall time),
    ``peak_tree_rss_bytes``, ``samples`` (seconds, bytes) and ``stages`` (seconds since
    the start, the progress line).
    """
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stages: list[tuple[float, str]] = []

    def read_progress() -> None:
        for line in child.stderr:
            stages.append((time.perf_counter() - t0, line.strip()))
            print(f"  [{stages[-1][0]:7.1f} s] {line.strip()}", flush=True)

    with PeakSampler(child.pid, t0=t0) as sampler:
        reader = threading.Thread(target=read_progress)
        reader.start()
        stdout = child.stdout.read()
        child.wait()
        seconds = time.perf_counter() - t0
    reader.join()
    return {
        "returncode": child.returncode,
        "stdout": stdout,
        "seconds": seconds,
        "peak_tree_rss_bytes": sampler.peak,
        "samples": sampler.samples,
        "stages": stages,
    }


def _generate(preset, seed, model, columns, antennas, params, out, queue) -> None:
    """Child process: make the world, write one traces table (and the antennas) as .npy."""
    import fewpoints

    t0 = time.perf_counter()
    world = fewpoints.make_world(preset, rng=seed, **params)
    tr = world.observations[model]
    ant = world.antennas if antennas else None
    seconds = time.perf_counter() - t0
    del world
    dev = tr["device_id"]
    np.save(f"{out}/codes.npy", dev.cat.codes.to_numpy())
    np.save(f"{out}/categories.npy", np.asarray(dev.cat.categories.astype(str), dtype="U"))
    np.save(f"{out}/time.npy", tr["time"].to_numpy().astype("datetime64[s]").view(np.int64))
    for col in columns:
        np.save(f"{out}/{col}.npy", tr[col].to_numpy())
    if ant is not None:
        for col in ("antenna_id", "x_km", "y_km"):
            np.save(f"{out}/ant_{col}.npy", ant[col].to_numpy())
    queue.put({"seconds": seconds, "peak_gb": peak_gb(), "records": len(tr)})


def generate_in_child(
    preset: str,
    seed: int,
    *,
    model: str = "cdr",
    columns: tuple[str, ...] = ("x_km", "y_km"),
    antennas: bool = False,
    **params,
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """Make ``make_world(preset, rng=seed, **params)`` in a child; return its traces here.

    The traces come back with ``device_id`` (categorical), ``time`` (``datetime64[s]``)
    and ``columns``; ``antennas=True`` also returns the antenna map (else ``None``).
    Parameters given as ``None`` are left to the preset. ``info`` holds the child's
    ``seconds`` (generation only), ``peak_gb`` and ``records``.
    """
    params = {k: v for k, v in params.items() if v is not None}
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory(prefix="fewpoints-bench-") as tmp:
        args = (preset, seed, model, tuple(columns), antennas, params, tmp, queue)
        child = ctx.Process(target=_generate, args=args)
        child.start()
        info = queue.get()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"world generation failed (exit {child.exitcode})")
        codes = np.load(f"{tmp}/codes.npy")
        cats = pd.Index(np.load(f"{tmp}/categories.npy"), dtype="str")
        traces = pd.DataFrame(
            {
                "device_id": pd.Categorical.from_codes(codes, categories=cats),
                "time": np.load(f"{tmp}/time.npy").view("datetime64[s]"),
                **{col: np.load(f"{tmp}/{col}.npy") for col in columns},
            }
        )
        ant = None
        if antennas:
            ant = pd.DataFrame(
                {c: np.load(f"{tmp}/ant_{c}.npy") for c in ("antenna_id", "x_km", "y_km")}
            )
    return traces, ant, info


def share(k: int, n: int) -> dict:
    """``k`` of ``n`` as a share with its 95% Wilson interval (NaN when ``n`` is 0)."""
    from fewpoints.attacks import wilson_interval

    lo, hi = wilson_interval(k, n) if n else (float("nan"), float("nan"))
    return {
        "k": int(k),
        "n": int(n),
        "share": k / n if n else float("nan"),
        "ci_low": lo,
        "ci_high": hi,
    }


def machine(*, load: bool = False) -> dict:
    """Cores, Python and platform (and with ``load``, the load average) of this machine."""
    info = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if load:
        info["load"] = os.getloadavg()
    return info


def points_to_devices(devices: list, frame: pd.DataFrame) -> dict[tuple, set]:
    """A Python dict (x_km, y_km, time as int) -> set of the devices seen there."""
    index: dict[tuple, set] = {}
    for dev, x, y, t in zip(
        devices,
        frame["x_km"].tolist(),
        frame["y_km"].tolist(),
        frame["time"].astype("int64").tolist(),
        strict=True,
    ):
        index.setdefault((x, y, t), set()).add(dev)
    return index


def intersection_sizes(index: dict[tuple, set], groups) -> list[int]:
    """For each group of known points (a frame), how many devices were seen at all of them."""
    sizes = []
    for _, grp in groups:
        sets = [
            index[(x, y, t)]
            for x, y, t in zip(
                grp["x_km"].tolist(),
                grp["y_km"].tolist(),
                grp["time"].astype("int64").tolist(),
                strict=True,
            )
        ]
        sizes.append(len(set.intersection(*sets)))
    return sizes
