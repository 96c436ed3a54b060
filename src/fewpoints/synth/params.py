"""The parameters of a synthetic world: :class:`WorldParams`, the named presets, and their record in ``world.json``.

:func:`resolve_params` turns a preset name (or parameters) and overrides
into checked parameters, every impossible value refused in one line;
:func:`world_metadata` writes what ``world.json`` records of a world (who
made it, the command that makes it again, its table sizes), and
:func:`params_from_json` reads its parameters back, each value checked
against its field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.schema import FewpointsError, InputError

__all__ = [
    "LAYOUTS",
    "OBSERVATION_MODELS",
    "PRESETS",
    "WorldParams",
    "params_from_json",
    "resolve_params",
    "world_metadata",
]


OBSERVATION_MODELS = ("cdr", "pings")


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
    # unicity curve emerges from these realistic settings (see docs/results/how-few-points.md).
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
