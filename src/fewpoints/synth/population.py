"""People: names, homes, workplaces or schools (gravity model), habits, phones, and the public directory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.synth import names
from fewpoints.synth.city import City, Gravity

ROLES = ("worker", "student", "other")
#: Places an EPR memory can hold; when full, a new place replaces the least visited one.
MEMORY_SLOTS = 32
#: Favourite places each person starts with (found by exploring from home).
INITIAL_FAVOURITES = 3


@dataclass
class People:
    """The ``people`` table and the per-person arrays mobility and observation use."""

    table: pd.DataFrame
    home: np.ndarray  # place index
    work: np.ndarray  # place index, -1 without work or school
    role: np.ndarray  # int8 index into ROLES
    leave_h: np.ndarray  # habitual hour of leaving home on workdays
    work_h: np.ndarray  # habitual hours at work or school
    outings: np.ndarray  # propensity for discretionary trips (mean trips per evening)
    roaming: np.ndarray  # chance that an exploration goes across town rather than nearby
    day_trips: np.ndarray  # chance, each weekend day, of a day trip out of town
    worship: np.ndarray  # place index of a regular place of worship, -1 for none
    worship_day: np.ndarray  # weekday (0 = Monday) of attendance
    calls_per_day: np.ndarray
    pings_per_day: np.ndarray
    favourites: np.ndarray  # (n, INITIAL_FAVOURITES) place indices
    device_rank: np.ndarray  # rank of each person's device_id in sorted order (row order of traces)

    def __len__(self) -> int:
        return self.home.size


def _device_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unique pseudonymous advertising-style ids: 12 hexadecimal digits."""
    ids = np.unique(rng.integers(0, 16**12, size=int(n * 1.01) + 16, dtype=np.int64))
    while ids.size < n:
        ids = np.unique(np.concatenate([ids, rng.integers(0, 16**12, size=n, dtype=np.int64)]))
    ids = rng.permutation(ids)[:n]
    return np.char.zfill(np.char.mod("%x", ids), 12).astype(object)


def make_people(params, city: City, *, rng: np.random.Generator) -> People:
    """Draw ``params.n_people`` people living in ``city``.

    Every home gets at least one resident; the rest are spread over homes at
    random, so households have one to several members who share a family name
    most of the time. Workers pick a workplace and students a school with a
    gravity model (jobs or pupils x distance^-beta); habits (departure time,
    hours, appetite for outings) and phone use are personal and heavy-tailed.
    """
    n = params.n_people
    homes = city.of_kind("home")
    first = homes[: min(n, homes.size)]
    rest = rng.choice(homes, size=n - first.size) if n > first.size else np.empty(0, np.int32)
    home = rng.permutation(np.concatenate([first, rest])).astype(np.int32)

    u = rng.random(n)
    role = np.where(
        u < params.worker_share, 0, np.where(u < params.worker_share + params.student_share, 1, 2)
    ).astype(np.int8)
    home_cell = city.place_cell[home]
    work = np.full(n, -1, dtype=np.int32)
    workplaces = city.of_kind("work")
    jobs = rng.lognormal(0.0, 1.1, workplaces.size)  # firm sizes are heavy-tailed
    to_work = Gravity(city.grid, city.place_cell, workplaces, jobs, beta=1.3, d0_km=1.5)
    w = role == 0
    work[w] = to_work.sample(home_cell[w], rng)
    schools = city.of_kind("school")
    to_school = Gravity(
        city.grid, city.place_cell, schools, np.ones(schools.size), beta=2.5, d0_km=0.5
    )
    s = role == 1
    work[s] = to_school.sample(home_cell[s], rng)

    leave_h = np.where(role == 1, rng.normal(7.6, 0.3, n), rng.normal(8.0, 0.8, n)).clip(5.0, 11.0)
    work_h = np.where(role == 1, rng.normal(6.8, 0.4, n), rng.normal(8.6, 1.0, n)).clip(3.0, 11.0)
    outings = 0.2 + rng.gamma(2.0, 0.35, n)
    # Most people explore their neighbourhood; a few roam the whole city (heavy-tailed radius of gyration).
    roaming = rng.beta(0.5, 3.0, n)
    day_trips = np.minimum(rng.gamma(0.3, 0.12, n), 0.6)

    worship = np.full(n, -1, dtype=np.int32)
    worshippers = rng.random(n) < 0.18
    temples = city.of_kind("worship")
    worship[worshippers] = Gravity(
        city.grid, city.place_cell, temples, np.ones(temples.size), beta=2.0, d0_km=1.0
    ).sample(home_cell[worshippers], rng)
    worship_day = rng.choice([4, 5, 6], size=n, p=[0.2, 0.3, 0.5]).astype(np.int8)

    mean_calls = params.cdr_events_per_month / 30.0
    s_c = params.cdr_activity_sigma
    calls = rng.lognormal(np.log(mean_calls) - s_c**2 / 2, s_c, n)
    pings = np.minimum(
        rng.lognormal(np.log(params.pings_median_per_day), params.pings_activity_sigma, n), 1440.0
    )

    favourites = city.explore.sample(np.repeat(home_cell, INITIAL_FAVOURITES), rng).reshape(
        n, INITIAL_FAVOURITES
    )

    given, family = names.make_vocabulary(rng)
    household_family = names.draw_names(family, city.places.shape[0], rng, exponent=0.6)
    own_family = names.draw_names(family, n, rng, exponent=0.6)
    fam = np.where(rng.random(n) < 0.8, household_family[home], own_family)
    full_name = names.draw_names(given, n, rng, exponent=1.0) + " " + fam

    device_id = _device_ids(n, rng)
    device_rank = np.empty(n, dtype=np.int32)
    device_rank[np.argsort(device_id.astype(str), kind="stable")] = np.arange(n, dtype=np.int32)

    table = pd.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64),
            "name": pd.array(full_name, dtype="str"),
            "home_place_id": home.astype(np.int64),
            "work_place_id": pd.arrays.IntegerArray(
                np.where(work >= 0, work, 0).astype(np.int64), mask=work < 0
            ),
            "device_id": pd.array(device_id, dtype="str"),
            "role": pd.array(np.array(ROLES, dtype=object)[role], dtype="str"),
            "calls_per_day": np.round(calls, 3),
            "pings_per_day": np.round(pings, 3),
        }
    )
    return People(
        table=table,
        home=home,
        work=work,
        role=role,
        leave_h=leave_h,
        work_h=work_h,
        outings=outings,
        roaming=roaming,
        day_trips=day_trips,
        worship=worship,
        worship_day=worship_day,
        calls_per_day=calls,
        pings_per_day=pings,
        favourites=favourites,
        device_rank=device_rank,
    )


def make_directory(params, city: City, people: People, *, rng: np.random.Generator) -> pd.DataFrame:
    """A synthetic public directory (think voter roll): name, address and home place of listed adults.

    Returns
    -------
    DataFrame
        ``name``, ``address``, ``place_id``, sorted by name as a printed
        directory is. There is no person or device id: linking it to the
        traces is the attacker's job.
    """
    adult = people.role != 1
    listed = adult & (rng.random(len(people)) < params.directory_coverage)
    idx = np.flatnonzero(listed)
    home = people.home[idx]
    df = pd.DataFrame(
        {
            "name": people.table["name"].to_numpy()[idx],
            "address": city.places["address"].to_numpy()[home],
            "place_id": home.astype(np.int64),
        }
    )
    df = df.sort_values(["name", "address"], kind="stable").reset_index(drop=True)
    df["name"] = df["name"].astype("str")
    df["address"] = df["address"].astype("str")
    return df
