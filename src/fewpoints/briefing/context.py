"""What a recipe runs on and what it returns: the world and its shared tables, the sizes, the figure.

A :class:`Recipe` turns a :class:`BriefingContext` (one synthetic world, the
:class:`Sizes` of the analyses and the seed, with the hourly antenna traces,
their index and the raw data's 4-point test built once and shared) into a
:class:`BriefingFigure`: the finding as a title, the caption, the alt text
and a ``draw(ax)`` that plots the computed result. :func:`attack_rng` is the
random stream every 4-point test of the raw data starts from.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from fewpoints import figures as F
from fewpoints.schema import FewpointsError


@dataclass
class BriefingFigure:
    """One figure of the briefing: its finding, caption, alt text, and how to draw it.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"1-how-few-points"``.
    title : str
        The finding in one sentence.
    caption : str
        Two or three plain sentences, the synthetic-data caveat, and the
        published comparison where one exists.
    alt : str
        Alt text: what the chart shows, with its numbers, for a reader who cannot see it.
    headline : str
        One short line with the headline number (for a terminal).
    draw : callable
        ``draw(ax) -> Axes``: plots the computed result on ``ax``.
    figsize : (float, float)
        Size of the stand-alone figure in inches.
    result : object
        The analysis result the figure draws (a table or a result object).
    seconds : float
        How long its analysis took (set by :func:`build_briefing`).
    facts : dict
        Shares the figure states that others may state too (see :func:`check_consistency`).
    """

    name: str
    title: str
    caption: str
    alt: str
    headline: str
    draw: Callable
    figsize: tuple[float, float] = F.FIGSIZE
    result: object = None
    seconds: float = 0.0
    #: The shares this figure states that another figure or the summary may state too,
    #: by name (``"raw data, 4 points"``): ``{"unicity", "ci_low", "ci_high", "n_targets"}``.
    facts: dict = field(default_factory=dict)

    def figure(self):
        """A new house-style matplotlib Figure with this figure drawn on it."""
        from matplotlib import pyplot as plt

        with F.house_style():
            fig = plt.figure(figsize=self.figsize, layout="constrained")
            self.draw(fig.add_subplot())
        return fig


@dataclass(frozen=True)
class Sizes:
    """How much work each analysis does (more targets: narrower intervals, longer runs).

    Every analysis runs on the whole world. The tests that report the share
    of phones 4 points single out (the unicity curve, the coarsening sweep,
    the privacy-utility comparison) sample the same number of targets,
    ``n_targets``, from the same random state, so the raw data's share is
    one number wherever it appears.
    """

    n_targets: int = 10_000
    curve_points: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10)
    #: Targets per setting of the coarsening sweep (default: ``n_targets``).
    sweep_targets: int | None = None
    #: Antennas per merged group (call records located at antennas, as in the published law).
    sweep_merge: tuple[float, ...] = (1, 2, 4, 8)
    #: Square cells, only for records not located at antennas.
    sweep_cells: tuple[float | None, ...] = (None, 1.0, 2.0, 4.0)
    sweep_bins: tuple[str, ...] = ("1h", "2h", "4h", "8h")
    sweep_points: tuple[int, ...] = (4, 8)
    population_targets: int = 5_000
    extrapolate_to: tuple[float, ...] = (1e6,)
    #: Targets per release in the privacy-utility comparison (default: ``n_targets``).
    other_targets: int | None = None
    #: Kept for old callers; the briefing no longer samples devices (None: all of them).
    max_devices: int | None = None

    @property
    def shared_targets(self) -> tuple[int, int]:
        """Targets of the sweep and of the privacy-utility comparison."""
        return (self.sweep_targets or self.n_targets, self.other_targets or self.n_targets)


def sizes_for(n_people: int) -> Sizes:
    """Analysis sizes that keep a world of ``n_people`` within the demo's time budget.

    Each setting of the coarsening sweep re-indexes the whole table, so a
    large world sweeps a 3 x 3 grid (up to 4 antennas and 4 h) instead of 4 x 4.
    """
    if n_people <= 20_000:
        return Sizes(n_targets=2_000, population_targets=2_000)
    return Sizes(sweep_merge=(1, 2, 4), sweep_cells=(None, 1.0, 2.0), sweep_bins=("1h", "2h", "4h"))


#: The random stream every 4-point test of the raw data starts from (see :func:`attack_rng`).
ATTACK_STREAM = 0


def attack_rng(seed: int) -> np.random.Generator:
    """The generator the briefing's unicity tests of seed ``seed`` start from.

    The unicity curve (4 points first), the coarsening sweep and the
    privacy-utility comparison all draw their first targets from a fresh
    copy of it, so on the same table they pick the same phones and points:
    the raw data's share at p = 4 is the same number in every figure, and
    ``benchmarks/bench_privacy.py`` reproduces the briefing's rows.
    """
    return np.random.default_rng([int(seed), ATTACK_STREAM])


@dataclass
class BriefingContext:
    """A world and what the recipes share: its hourly antenna traces and their index, built once."""

    world: object
    sizes: Sizes = field(default_factory=Sizes)
    seed: int = 0

    def rng(self, stream: int) -> np.random.Generator:
        """An independent random stream per recipe: adding a recipe changes no other figure."""
        return np.random.default_rng([self.seed, stream])

    def attack_rng(self) -> np.random.Generator:
        """A fresh copy of the stream every 4-point test of the raw data starts from."""
        return attack_rng(self.seed)

    @cached_property
    def raw4(self):
        """The 4-point test of the hourly call records: the briefing's one raw-data share."""
        from fewpoints.attacks import unicity

        return unicity(self.hourly_index, 4, n_targets=self.sizes.n_targets, rng=self.attack_rng())

    @property
    def cdr(self) -> pd.DataFrame:
        obs = self.world.observations
        if "cdr" not in obs:
            raise FewpointsError("the briefing needs a world with cdr traces (call records)")
        return obs["cdr"]

    @cached_property
    def hourly(self) -> pd.DataFrame:
        """Call records at antenna x hour, as in "Unique in the Crowd"."""
        from fewpoints.anonymize import coarsen_time

        return coarsen_time(self.cdr, time_bin="1h")

    @cached_property
    def hourly_index(self):
        from fewpoints.attacks import PointIndex

        return PointIndex.from_traces(self.hourly)

    def sample(self, traces: pd.DataFrame, stream: int) -> pd.DataFrame:
        """``traces`` of at most ``sizes.max_devices`` devices, drawn at random (all if fewer)."""
        from fewpoints.anonymize import sample_devices

        n = traces["device_id"].nunique()
        cap = self.sizes.max_devices
        if cap is None or n <= cap:
            return traces
        return sample_devices(traces, keep=cap / n, rng=self.rng(stream))

    @property
    def about(self) -> str:
        """The dataset in a few words, for captions."""
        p = self.world.params
        return (
            f"{self.hourly_index.n_devices:,} phones over {p.days} days "
            f"(call records located at the serving antenna, times rounded to the hour)"
        )


@dataclass(frozen=True)
class Recipe:
    """A briefing figure's recipe: ``make(ctx) -> BriefingFigure``; ``needs``: modules it imports."""

    name: str
    make: Callable[[BriefingContext], BriefingFigure]
    needs: tuple[str, ...] = ()

    def available(self) -> bool:
        """True when every module the recipe needs is installed in this build."""
        return all(importlib.util.find_spec(m) is not None for m in self.needs)
