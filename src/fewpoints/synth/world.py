"""``make_world``: presets, parameters, independent random streams, and the ``World`` container."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.io import available_memory, read_world_tables, write_world_tables
from fewpoints.schema import COLUMNS, FewpointsError, InputError, validate

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

OBSERVATION_MODELS = ("cdr", "pings")

#: Names of the independent random streams, in a fixed order. A stage draws
#: only from its own stream, so changing the number of days (mobility,
#: observation) never moves a home (city, population).
STREAMS = ("city", "population", "mobility", "cdr", "pings", "directory", "posts")

ProgressFn = Callable[[str, float], None]


@dataclass(frozen=True)
class WorldParams:
    """Every setting of a synthetic world. Presets are named sets of these.

    Parameters
    ----------
    n_people : int
        People (one phone each).
    days : int
        Days observed, starting on ``start`` (a Monday by default).
    observe : tuple of str
        Observation models to simulate: ``"cdr"`` (calls and texts located at
        the serving antenna) and/or ``"pings"`` (app GPS pings).
    start : str
        The first day, in the synthetic city's local time.
    density_per_km2 : float
        Average residents per square kilometre; sets the city's size.
    n_subcentres : int or None
        Secondary centres around downtown (None: grows with the city).
    people_per_antenna : float
        Residents per antenna on average (antennas are denser where people are).
    household_size : float
        Average people per home (members share the home place).
    worker_share, student_share : float
        Shares of people with a workplace or a school.
    cdr_events_per_month : float
        Average calls and texts per person per 30 days (de Montjoye et al.
        2013 report about 114).
    cdr_activity_sigma : float
        Spread (log scale) of people's phone activity: larger is heavier-tailed.
    pings_median_per_day : float
        Median app location pings per device per day.
    pings_activity_sigma : float
        Spread (log scale) of ping rates across devices.
    cdr_time_bin : str or None
        If set (for example ``"1h"``), cdr times are released floored to this
        bin, as in the data of "Unique in the Crowd".
    directory_coverage : float
        Share of people listed in the public directory.
    poster_share : float
        Share of people who post geotagged messages publicly.
    posts_per_week : float
        Average geotagged posts per poster per week.
    layout : {"city", "region"}
        ``"city"``: everybody in one city of ``density_per_km2``. ``"region"``:
        a country of towns (:mod:`fewpoints.synth.region`), each at
        ``density_per_km2``, spread over a country of ``region_density_per_km2``.
    region_density_per_km2 : float
        Region layout: residents per square kilometre of the whole country
        (towns and the empty country between them); sets its size.
    town_zipf : float
        Region layout: exponent of the rank-size law of towns (the k-th
        largest has about 1/k**town_zipf of the largest's residents).
    min_town_people : int
        Region layout: residents of the smallest villages, where the law stops.
    commute_share : float
        Region layout: share of a 50,000-resident town's workers who work in
        another town (smaller towns send more, larger ones fewer).
    """

    n_people: int = 5_000
    days: int = 28
    observe: tuple[str, ...] = ("cdr", "pings")
    start: str = "2026-03-02"
    density_per_km2: float = 1_500.0
    n_subcentres: int | None = None
    people_per_antenna: float = 230.0
    household_size: float = 2.2
    worker_share: float = 0.58
    student_share: float = 0.16
    cdr_events_per_month: float = 114.0
    cdr_activity_sigma: float = 1.0
    pings_median_per_day: float = 4.0
    pings_activity_sigma: float = 1.3
    cdr_time_bin: str | None = None
    directory_coverage: float = 0.7
    poster_share: float = 0.25
    posts_per_week: float = 2.0
    layout: str = "city"
    region_density_per_km2: float = 120.0
    town_zipf: float = 1.0
    min_town_people: int = 500
    commute_share: float = 0.12
    preset: str = "custom"
    seed: int = 0

    def replace(self, **changes) -> WorldParams:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["observe"] = list(self.observe)
        return d


PRESETS: dict[str, WorldParams] = {
    # Unit tests: seconds to build, every table non-empty.
    "tiny": WorldParams(n_people=200, days=7, people_per_antenna=20.0, preset="tiny"),
    # The classroom dataset shipped in synthetic_data/.
    "classroom": WorldParams(n_people=5_000, days=28, people_per_antenna=100.0, preset="classroom"),
    # A mid-sized city for figures and the briefing.
    "city": WorldParams(n_people=100_000, days=28, preset="city"),
    # The setting of "Unique in the Crowd" (de Montjoye et al. 2013): call detail records at
    # antenna resolution with hourly times, about 114 events per person per month, about 230
    # residents per antenna. Nothing here is tuned to the attack: the published shape of the
    # unicity curve emerges from these realistic settings (see README, "Calibration").
    "unique-in-the-crowd": WorldParams(
        n_people=100_000,
        days=28,
        observe=("cdr",),
        cdr_time_bin="1h",
        people_per_antenna=230.0,
        cdr_events_per_month=114.0,
        preset="unique-in-the-crowd",
    ),
    # Country-scale stress test for the unicity engine.
    "crowd": WorldParams(n_people=1_000_000, days=28, observe=("cdr",), preset="crowd"),
    # A country of towns (cities, towns, villages: a rank-size law) in the setting of "Unique
    # in the Crowd": call records at the antenna, hourly, about 230 residents per antenna in
    # every town. The world of the population lesson; with --chunk-people, 10 million and more.
    "region": WorldParams(
        n_people=1_000_000,
        days=28,
        observe=("cdr",),
        cdr_time_bin="1h",
        layout="region",
        preset="region",
    ),
}

LAYOUTS = ("city", "region")


def resolve_params(
    preset: str | WorldParams = "classroom", *, seed: int | None = 0, **overrides
) -> WorldParams:
    """Turn a preset name (or params) plus overrides into checked :class:`WorldParams`.

    Raises
    ------
    FewpointsError
        On an unknown preset or parameter, or an impossible value.
    """
    if isinstance(preset, WorldParams):
        params = preset
    elif preset in PRESETS:
        params = PRESETS[preset]
    else:
        raise FewpointsError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    known = {f.name for f in dataclasses.fields(WorldParams)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise FewpointsError(f"unknown world parameter(s) {', '.join(unknown)}")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise FewpointsError(f"seed must be a whole number, zero or more, got {seed!r}")
    if isinstance(overrides.get("observe"), str):
        overrides["observe"] = (overrides["observe"],)
    params = params.replace(seed=int(seed), **overrides)
    _check(params)
    return params


def _check(p: WorldParams) -> None:
    def need(ok: bool, msg: str) -> None:
        if not ok:
            raise FewpointsError(msg)

    need(
        isinstance(p.n_people, (int, np.integer)) and p.n_people > 0,
        f"people must be a positive whole number, got {p.n_people}",
    )
    need(
        not isinstance(p.seed, bool) and isinstance(p.seed, (int, np.integer)) and p.seed >= 0,
        f"seed must be a whole number, zero or more, got {p.seed!r}",
    )
    need(
        isinstance(p.days, (int, np.integer)) and p.days > 0,
        f"days must be a positive whole number, got {p.days}",
    )
    need(p.days <= 366, f"days must be at most 366, got {p.days}")
    need(p.n_people <= 50_000_000, f"people must be at most 50,000,000, got {p.n_people:,}")
    need(len(p.observe) > 0, "observe needs at least one observation model (cdr or pings)")
    for m in p.observe:
        need(
            m in OBSERVATION_MODELS,
            f"unknown observation model {m!r}; choose from {', '.join(OBSERVATION_MODELS)}",
        )
    need(len(set(p.observe)) == len(p.observe), "observe lists a model twice")
    try:
        pd.Timestamp(p.start)
    except (ValueError, TypeError):
        raise FewpointsError(f"start is not a date: {p.start!r}") from None
    for name in (
        "density_per_km2",
        "people_per_antenna",
        "household_size",
        "cdr_events_per_month",
        "pings_median_per_day",
    ):
        v = getattr(p, name)
        need(np.isfinite(v) and v > 0, f"{name} must be positive, got {v}")
    need(p.layout in LAYOUTS, f"unknown layout {p.layout!r}; choose one of {', '.join(LAYOUTS)}")
    for name in ("region_density_per_km2", "town_zipf", "min_town_people"):
        v = getattr(p, name)
        need(np.isfinite(v) and v > 0, f"{name} must be positive, got {v}")
    need(
        p.region_density_per_km2 <= p.density_per_km2,
        "region_density_per_km2 (the whole country) must not exceed density_per_km2 (its towns)",
    )
    need(
        0.0 <= p.commute_share <= 1.0,
        f"commute_share must be between 0 and 1, got {p.commute_share}",
    )
    for name in ("cdr_activity_sigma", "pings_activity_sigma", "posts_per_week"):
        v = getattr(p, name)
        need(np.isfinite(v) and v >= 0, f"{name} must be zero or positive, got {v}")
    for name in ("worker_share", "student_share", "directory_coverage", "poster_share"):
        v = getattr(p, name)
        need(0.0 <= v <= 1.0, f"{name} must be between 0 and 1, got {v}")
    need(p.worker_share + p.student_share <= 1.0, "worker_share + student_share must be at most 1")
    need(p.household_size >= 1.0, f"household_size must be at least 1, got {p.household_size}")
    if p.cdr_time_bin is not None:
        try:
            td = pd.Timedelta(p.cdr_time_bin)
        except (ValueError, TypeError):
            raise FewpointsError(f"cdr_time_bin is not a duration: {p.cdr_time_bin!r}") from None
        # Times are kept to the second: a bin is a whole number of seconds, at least one.
        seconds = td.total_seconds()
        need(
            seconds >= 1 and seconds == int(seconds),
            f"cdr_time_bin must be a whole number of seconds (1s or more), got {p.cdr_time_bin!r}",
        )


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


def world_metadata(params: WorldParams, rows: dict[str, int], *, command: str = "") -> dict:
    """The contents of ``world.json``: who made the world, how to make it again, its table sizes."""
    from fewpoints import __version__

    p = params
    observe = ",".join(p.observe)
    cmd = f"fewpoints generate --preset {p.preset} --seed {p.seed} --observe {observe}"
    if p.preset in PRESETS:
        base = PRESETS[p.preset]
        if p.days != base.days:
            cmd += f" --days {p.days}"
        if p.n_people != base.n_people:
            cmd += f" --people {p.n_people}"
        if p.cdr_time_bin != base.cdr_time_bin and p.cdr_time_bin is not None:
            cmd += f" --cdr-time-bin {p.cdr_time_bin}"
    return {
        "generator": "fewpoints",
        "generator_version": __version__,
        "synthetic": True,
        "command": cmd + command,
        "params": p.to_dict(),
        "tables": dict(rows),
    }


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
    """Rough peak bytes that generating ``params`` needs (tables plus working arrays)."""
    n, d = params.n_people, params.days
    plans = n * d * 8 * 8  # eight int32 (place, start) slots per person-day
    stays = n * d * 2.4 * 24  # about 2.3 stays per person-day after merging, 24 bytes each
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


def make_world(
    preset: str | WorldParams = "classroom",
    *,
    seed: int | None = 0,
    params: WorldParams | None = None,
    progress: ProgressFn | None = None,
    **overrides,
) -> World:
    """Generate a synthetic world.

    Parameters
    ----------
    preset : str or WorldParams, default "classroom"
        A name in :data:`PRESETS` (``tiny``, ``classroom``, ``city``, ``crowd``, ...).
    seed : int or None, default 0
        The world's seed. The same seed and parameters give identical tables,
        bit for bit. None draws a fresh seed (recorded in ``world.params``).
    params : WorldParams, optional
        Fully resolved parameters (as from :func:`resolve_params`); overrides
        ``preset``, ``seed`` and ``overrides``.
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
    """
    if params is None:
        params = resolve_params(preset, seed=seed, **overrides)
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

    report("placing people", 0.0)
    people = population.make_people(
        params, town, rng=np.random.default_rng(streams["population"]), cohort=cohort
    )
    report("placing people", 1.0)
    day_plans = mobility.simulate_days(
        params,
        town,
        people,
        seed=streams["mobility"],
        progress=lambda f: report("moving people", f),
    )
    # The ground truth first: while it is built, the day plans are the only other large array.
    stays = None
    if with_stays:
        report("ground truth", 0.0)
        stays = mobility.stays_table(day_plans, params)
        report("ground truth", 1.0)
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
        )
    report("public records", 0.0)
    directory = population.make_directory(
        params, town, people, rng=np.random.default_rng(streams["directory"])
    )
    posts = observe.make_posts(params, town, people, day_plans, seed=streams["posts"])
    report("public records", 1.0)
    # The day plans are no longer needed: free them before the large tables are assembled.
    del day_plans
    observations = {}
    for model in params.observe:
        report(f"assembling traces ({model})", 0.0)
        observations[model] = observe.traces_table(model, events.pop(model), params, town, people)
        report(f"assembling traces ({model})", 1.0)
    return people.table, stays, observations, directory, posts


def _fits(value, annotation: str) -> bool:
    """Whether a JSON value fits a WorldParams field's annotation (``int``, ``str | None``, ...)."""
    for kind in (a.strip() for a in annotation.split("|")):
        if kind == "None" and value is None:
            return True
        if kind == "bool" and isinstance(value, bool):
            return True
        if isinstance(value, bool):
            continue
        if kind == "int" and isinstance(value, int):
            return True
        if kind == "float" and isinstance(value, (int, float)):
            return True
        if kind == "str" and isinstance(value, str):
            return True
        if kind.startswith(("tuple[str", "list[str")) and isinstance(value, list):
            return all(isinstance(v, str) for v in value)
        if kind not in ("None", "bool", "int", "float", "str") and not kind.startswith(
            ("tuple[", "list[")
        ):
            return True  # a field of a kind this check does not know
    return False


def params_from_json(params: dict, *, source: str = "world.json") -> WorldParams:
    """The :class:`WorldParams` a world.json records, each value checked against its field.

    Parameters a newer fewpoints wrote and this one does not know are left
    out; missing ones take their defaults.

    Raises
    ------
    InputError
        One line naming the parameter and what it must be.
    """
    if not isinstance(params, dict):
        raise InputError(f"{source}: 'params' must be an object, got {params!r}")
    fields = {f.name: f for f in dataclasses.fields(WorldParams)}
    values = {}
    for name, value in params.items():
        if name not in fields:
            continue
        annotation = str(fields[name].type)
        if not _fits(value, annotation):
            raise InputError(
                f"{source}: params.{name} must be {annotation.replace('tuple[str, ...]', 'a list of names')}, "
                f"got {value!r}"
            )
        values[name] = tuple(value) if isinstance(value, list) else value
    try:
        result = WorldParams(**values)
        _check(result)
    except FewpointsError as exc:
        raise InputError(f"{source}: params: {exc}") from None
    return result


def read_world(path: str | os.PathLike) -> World:
    """Read a world folder written by ``World.write`` or ``fewpoints generate``.

    ``world.json`` is checked against its schema (``fewpoints.io.read_world_meta``)
    and its parameters against :class:`WorldParams`; every table is read with its
    own column types and checked. Anything wrong ends in one :class:`InputError` line.
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
