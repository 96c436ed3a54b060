"""``make_world``: independent random streams, the ``World`` container, and a world read back.

The parameters and presets are :mod:`fewpoints.synth.params` (importable
from here too); this module makes a world from them, stage by stage, each
stage from its own random stream (:data:`STREAMS`), refuses one that would
not fit in the free memory (:func:`check_memory`), and reads a world folder
back into a :class:`World` (:func:`read_world`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.common import renamed, seed_of
from fewpoints.io import available_memory, read_world_tables, write_world_tables
from fewpoints.schema import COLUMNS, FewpointsError, validate
from fewpoints.synth.params import (
    OBSERVATION_MODELS,
    PRESETS,
    WorldParams,
    params_from_json,
    resolve_params,
    world_metadata,
)

__all__ = [
    "OBSERVATION_MODELS",
    "PRESETS",
    "World",
    "WorldParams",
    "check_memory",
    "estimate_memory",
    "make_world",
    "read_world",
    "resolve_params",
]

#: Names of the independent random streams, in a fixed order. A stage draws
#: only from its own stream, so changing the number of days (mobility,
#: observation) never moves a home (city, population).
STREAMS = ("city", "population", "mobility", "cdr", "pings", "directory", "posts")

ProgressFn = Callable[[str, float], None]


@dataclass
class World:
    """A synthetic world: the public map, the ground truth, and the released data.

    Attributes
    ----------
    places, antennas : DataFrame
        The public map.
    people, stays : DataFrame
        Ground truth, never part of a release: who lives and works where, and
        where each person really was.
    observations : dict of str to DataFrame
        The broker's ``traces`` for each observation model simulated
        (``"cdr"``, ``"pings"``); they carry only a pseudonymous ``device_id``.
    directory, posts : DataFrame
        Public auxiliary data for linkage: a synthetic directory of names and
        addresses, and geotagged posts under real (synthetic) names.
    params : WorldParams
        Everything needed to make the same world again.
    """

    places: pd.DataFrame
    antennas: pd.DataFrame
    people: pd.DataFrame
    stays: pd.DataFrame
    observations: dict[str, pd.DataFrame]
    directory: pd.DataFrame
    posts: pd.DataFrame
    params: WorldParams = field(default_factory=WorldParams)

    @property
    def traces(self) -> pd.DataFrame:
        """The traces of the first observation model in ``params.observe``."""
        return self.observations[next(iter(self.observations))]

    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by file name (``traces_cdr``, ``traces_pings``, ...)."""
        out = {
            "places": self.places,
            "antennas": self.antennas,
            "people": self.people,
            "stays": self.stays,
            "directory": self.directory,
            "posts": self.posts,
        }
        for model, df in self.observations.items():
            out[f"traces_{model}"] = df
        return out

    def metadata(self) -> dict:
        return world_metadata(self.params, {name: len(df) for name, df in self.tables().items()})

    def write(
        self,
        out: str | os.PathLike,
        *,
        force: bool = False,
        parquet: bool = False,
        progress: ProgressFn | None = None,
    ) -> list[Path]:
        """Write every table (gzip CSV) and ``world.json`` to folder ``out`` (see ``fewpoints.io.write_world_tables``)."""
        return write_world_tables(
            self.tables(), self.metadata(), out, force=force, parquet=parquet, progress=progress
        )

    def summary(self) -> str:
        """A few lines describing the world, for a terminal or a notebook."""
        per_device = {
            model: df.groupby("device_id", observed=True).size().to_numpy()
            for model, df in self.observations.items()
        }
        counts = {name: len(df) for name, df in self.tables().items()}
        return summarize(self.params, self.places, len(self.antennas), counts, per_device)


def summarize(
    params: WorldParams,
    places: pd.DataFrame,
    n_antennas: int,
    rows: dict[str, int],
    per_device: dict[str, np.ndarray],
) -> str:
    """The lines of :meth:`World.summary`, from table sizes and records per device of each model."""
    p = params
    lines = [
        f"fewpoints synthetic world (preset {p.preset}, seed {p.seed}) -- no real person is in it",
        f"  city      {len(places):,} places ({int(places['sensitive'].sum()):,} sensitive), "
        f"{n_antennas:,} antennas, {_extent_km(places)}",
        f"  people    {rows.get('people', 0):,} over {p.days} days from {p.start}; "
        + (f"{rows['stays']:,} stays (ground truth)" if "stays" in rows else "stays not written"),
    ]
    for model, per in per_device.items():
        per_month = pd.Series(per, dtype=float) * (30.0 / p.days)
        lines.append(
            f"  {model:<9} {rows.get(f'traces_{model}', int(per.sum())):,} records; per device per month: "
            f"median {per_month.median():,.0f}, mean {per_month.mean():,.0f}, "
            f"99th pct {per_month.quantile(0.99):,.0f}"
        )
    lines.append(
        f"  public    {rows.get('directory', 0):,} directory entries, "
        f"{rows.get('posts', 0):,} geotagged posts"
    )
    return "\n".join(lines)


def _extent_km(places: pd.DataFrame) -> str:
    town = places[places["kind"] == "home"]
    w = town["x_km"].max() - town["x_km"].min()
    h = town["y_km"].max() - town["y_km"].min()
    if "town" in places.columns:
        homes = np.bincount(town["town"].to_numpy(), minlength=int(places["town"].max()) + 1)
        return (
            f"{homes.size:,} towns over {w:.0f} x {h:.0f} km "
            f"(largest {homes.max():,} homes, smallest {homes.min():,})"
        )
    trips = int((places["kind"] == "out_of_town").sum())
    return f"{w:.0f} x {h:.0f} km (plus {trips} day-trip places out of town)"


# ---------------------------------------------------------------------------
# memory estimate
# ---------------------------------------------------------------------------


def estimate_memory(params: WorldParams) -> int:
    """Rough peak bytes that generating ``params`` needs (tables plus working arrays).

    Set from the measured peaks (``benchmarks/results/generate.json``): the
    crowd world's 9.50 GB, with 10% to spare, since the peak moves by about
    1 GB between runs of the same code.
    """
    n, d = params.n_people, params.days
    plans = n * d * 8 * 8  # eight int32 (place, start) slots per person-day
    stays = n * d * 2.4 * 24  # about 2.3 stays per person-day after merging, 24 bytes each
    # The ground truth is built on a thread while the days are observed, so its working
    # arrays are alive beside the observations (the crowd's peak rose 6.83 -> 9.50 GB).
    stays += n * d * 2.4 * 12
    records = 0.0
    if "cdr" in params.observe:
        records += n * d * params.cdr_events_per_month / 30.0 * 44  # 32 bytes a row + assembly
    if "pings" in params.observe:
        mean_pings = params.pings_median_per_day * np.exp(params.pings_activity_sigma**2 / 2)
        records += n * d * mean_pings * 64
    return int(1.1 * (plans + stays + records + n * 400) + 300e6)


def check_memory(params: WorldParams, *, available: int | None = None) -> None:
    """Refuse, before any work, a world that would not fit in the free memory."""
    need = estimate_memory(params)
    have = available_memory() if available is None else available
    if have is not None and need > have:
        raise FewpointsError(
            f"this world needs about {need / 1e9:.1f} GB of memory but only {have / 1e9:.1f} GB is free; "
            "use a smaller world (fewer people or days, or one observation model)"
        )


# ---------------------------------------------------------------------------
# make_world
# ---------------------------------------------------------------------------


@renamed(seed="rng")
def make_world(
    preset: str | WorldParams = "classroom",
    *,
    rng: int | np.random.Generator | None = 0,
    params: WorldParams | None = None,
    progress: ProgressFn | None = None,
    **overrides,
) -> World:
    """Generate a synthetic world.

    Parameters
    ----------
    preset : str or WorldParams, default "classroom"
        A name in :data:`PRESETS` (``tiny``, ``classroom``, ``city``, ``crowd``, ...).
    rng : int, Generator or None, default 0
        The world's seed. The same seed and parameters give identical tables,
        bit for bit. A Generator gives a seed drawn from it, and None a fresh
        one; the seed is recorded in ``world.params.seed`` (and ``world.json``),
        so any world can be made again from its record. (``seed=`` is the
        deprecated name of this keyword.)
    params : WorldParams, optional
        Fully resolved parameters (as from :func:`resolve_params`); overrides
        ``preset``, ``rng`` and ``overrides``.
    progress : callable, optional
        Called as ``progress(stage, fraction_done)`` during long work.
    **overrides
        Any :class:`WorldParams` field, e.g. ``days=7``, ``n_people=1000``,
        ``observe=("cdr",)``.

    Returns
    -------
    World

    Notes
    -----
    Each stage draws from its own stream (``np.random.SeedSequence(seed).spawn``),
    so the city and the people do not change when only the days or the
    observation models do, and mobility and observations are drawn day by
    day, so a shorter world is exactly the first days of a longer one.

    Examples
    --------
    >>> world = make_world("tiny", rng=0)
    >>> len(world.people), list(world.observations)
    (200, ['cdr', 'pings'])
    >>> list(world.traces.columns)
    ['device_id', 'time', 'x_km', 'y_km', 'antenna_id']
    >>> make_world("tiny", rng=0).traces.equals(world.traces)
    True
    """
    if params is None:
        params = resolve_params(preset, seed=seed_of(rng), **overrides)
    report = progress or (lambda stage, fraction: None)
    streams, town = build_city(params, report)
    people, stays, observations, directory, posts = populate_city(params, town, streams, report)
    world = World(
        places=town.places,
        antennas=town.antennas,
        people=people,
        stays=stays,
        observations=observations,
        directory=directory,
        posts=posts,
        params=params,
    )
    for name, df in world.tables().items():
        # A world of a handful of quiet people can have an empty release; it is still well-formed.
        if not (name.startswith("traces") and df.empty):
            validate(df, "traces" if name.startswith("traces") else name)
    return world


def build_city(params: WorldParams, report: ProgressFn):
    """The world's random streams (one per stage, see :data:`STREAMS`) and its city (or region)."""
    from fewpoints.synth import city, region

    streams = dict(
        zip(STREAMS, np.random.SeedSequence(params.seed).spawn(len(STREAMS)), strict=True)
    )
    stage = "building the region" if params.layout == "region" else "building the city"
    report(stage, 0.0)
    make = region.make_region if params.layout == "region" else city.make_city
    town = make(params, rng=np.random.default_rng(streams["city"]))
    report(stage, 1.0)
    return streams, town


def populate_city(
    params: WorldParams,
    town,
    streams: dict,
    report: ProgressFn,
    *,
    cohort=None,
    with_stays: bool = True,
):
    """People, ground truth, observations and public records of ``town`` (or of one ``cohort``).

    Returns ``(people, stays, observations, directory, posts)``; ``stays`` is
    None when not wanted (it is the largest table of a big world).
    """
    from fewpoints.synth import mobility, observe, population

    report = _one_at_a_time(report)
    report("placing people", 0.0)
    people = population.make_people(
        params, town, rng=np.random.default_rng(streams["population"]), cohort=cohort
    )
    report("placing people", 1.0)
    # The machine's second core: the directory is made while the days are simulated (each day
    # written into the plans while the next is planned), then the ground truth and the posts
    # while the days are observed (two at once), and the traces are assembled two days at a
    # time. Every stage draws from its own stream and threads fill disjoint parts of the
    # arrays, so the tables are the same whatever runs when.
    with ThreadPoolExecutor(max_workers=1) as helper, ThreadPoolExecutor(max_workers=2) as pool:
        directory = helper.submit(
            _reported,
            report,
            "public records",
            (0.0, 0.5),
            population.make_directory,
            params,
            town,
            people,
            rng=np.random.default_rng(streams["directory"]),
        )
        day_plans = mobility.simulate_days(
            params,
            town,
            people,
            seed=streams["mobility"],
            progress=lambda f: report("moving people", f),
            pool=pool,
        )
        stays = None
        if with_stays:
            stays = helper.submit(
                _reported,
                report,
                "ground truth",
                (0.0, 1.0),
                mobility.stays_table,
                day_plans,
                params,
            )
        posts = helper.submit(
            _reported, report, "public records", (0.5, 1.0),
            observe.make_posts, params, town, people, day_plans, seed=streams["posts"],
        )  # fmt: skip
        events = {}
        for model in params.observe:
            events[model] = observe.observe_days(
                model,
                params,
                town,
                people,
                day_plans,
                seed=streams[model],
                progress=lambda f, m=model: report(f"observing ({m})", f),
                pool=pool,
            )
        # The helper reports its own stages as it starts and ends them.
        stays = None if stays is None else stays.result()
        directory, posts = directory.result(), posts.result()
        # The day plans are no longer needed: free them before the large tables are assembled.
        del day_plans
        observations = {}
        for model in params.observe:
            report(f"assembling traces ({model})", 0.0)
            observations[model] = observe.traces_table(
                model, events.pop(model), params, town, people, pool
            )
            report(f"assembling traces ({model})", 1.0)
    return people.table, stays, observations, directory, posts


def _one_at_a_time(report: ProgressFn) -> ProgressFn:
    """``report`` called by one thread at a time (the helper thread reports its own stages)."""
    lock = threading.Lock()

    def serialised(stage: str, fraction: float) -> None:
        with lock:
            report(stage, fraction)

    return serialised


def _reported(report: ProgressFn, stage: str, fractions, work, *args, **kwargs):
    """``work(*args, **kwargs)``, reporting ``stage`` at ``fractions`` when it starts and ends."""
    report(stage, fractions[0])
    out = work(*args, **kwargs)
    report(stage, fractions[1])
    return out


def read_world(path: str | os.PathLike) -> World:
    """Read a world folder written by ``World.write`` or ``fewpoints generate``.

    ``world.json`` is checked against its schema (``fewpoints.io.read_world_meta``)
    and its parameters against :class:`WorldParams`; every table is read with its
    own column types and checked. Anything wrong ends in one :class:`InputError` line.

    Examples
    --------
    >>> import os, tempfile
    >>> world = make_world("tiny", rng=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = world.write(os.path.join(tmp, "city"))
    ...     back = read_world(os.path.join(tmp, "city"))
    >>> back.traces.equals(world.traces), len(back.people)
    (True, 200)
    """
    tables, meta = read_world_tables(path)
    params = params_from_json(meta["params"], source=str(Path(path) / "world.json"))
    observations = {
        name.removeprefix("traces_"): df
        for name, df in tables.items()
        if name.startswith("traces_")
    }
    # A released (anonymized) world carries no ground truth: empty people and stays.
    for name in ("people", "stays"):
        if name not in tables:
            tables[name] = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS[name]})
    return World(
        places=tables["places"],
        antennas=tables["antennas"],
        people=tables["people"],
        stays=tables["stays"],
        observations=observations,
        directory=tables["directory"],
        posts=tables["posts"],
        params=params,
    )
