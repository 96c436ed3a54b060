"""People: names, homes, workplaces or schools (gravity model), habits, phones, and the public directory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.synth import names
from fewpoints.synth.city import City

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


@dataclass(frozen=True)
class Cohort:
    """One slice of a population too large to generate at once (see :mod:`fewpoints.synth.chunked`).

    The draws the whole population must share are made once, by
    :func:`make_cohorts`, and handed to every cohort: the homes are split
    between cohorts (so a household never spans two), firm sizes and the name
    vocabulary are common, and device ids come from one keyed permutation of
    the person ids, so they can never collide across cohorts.
    """

    first_person: int  # person_id of the cohort's first person
    size: int  # people in the cohort
    homes: np.ndarray  # place indices of the homes the cohort lives in
    jobs: np.ndarray  # size of every workplace (its pull in the gravity model)
    given: np.ndarray  # given-name vocabulary
    family: np.ndarray  # family-name vocabulary
    device_key: np.ndarray  # round keys of the device-id permutation

    def device_numbers(self) -> np.ndarray:
        """The numbers (below 16**12) written as the cohort's device ids, unique across cohorts."""
        person = np.arange(self.first_person, self.first_person + self.size, dtype=np.uint64)
        return pseudonyms(person, self.device_key)

    def device_ids(self) -> np.ndarray:
        """The cohort's device ids (12 hexadecimal digits), unique across the whole population."""
        return _hex12(self.device_numbers())


#: Bits of a device id (12 hexadecimal digits) and the rounds of the permutation that makes them.
_ID_BITS, _ID_ROUNDS = 48, 4


def pseudonyms(values: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Map integers below 2**48 to random-looking integers below 2**48, one to one.

    A four-round Feistel network on two 24-bit halves: whatever the round
    function, each round can be undone, so distinct inputs always give distinct
    outputs. This is how device ids are made for a population generated in
    chunks: no chunk needs to know the others' ids.
    """
    half = _ID_BITS // 2
    mask = np.uint64((1 << half) - 1)
    v = np.asarray(values, dtype=np.uint64)
    left, right = v >> np.uint64(half), v & mask
    for k in np.asarray(key, dtype=np.uint64):
        # Round function: a multiplicative hash of the right half and the round key.
        h = ((right ^ k) * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)
        h ^= h >> np.uint64(15)
        h = (h * np.uint64(0x85EBCA77)) & np.uint64(0xFFFFFFFF)
        h ^= h >> np.uint64(13)
        left, right = right, left ^ (h & mask)
    return (left << np.uint64(half)) | right


#: The hexadecimal digits, as bytes.
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex12(ids: np.ndarray) -> np.ndarray:
    """Numbers below 16**12 as 12 lower-case hexadecimal digits (``"%012x"``), an object array of str.

    Made digit by digit with integer arithmetic, not by formatting each number.
    """
    ids = np.asarray(ids, dtype=np.uint64)
    if ids.size and int(ids.max()) >= 16**12:
        raise ValueError("a device number must be below 16**12")
    shifts = np.arange(44, -1, -4, dtype=np.uint64)
    chars = _HEX[((ids[:, None] >> shifts) & np.uint64(15)).astype(np.intp)]
    return chars.view("S12").reshape(-1).astype("U12").astype(object)


def firm_sizes(n: int, rng: np.random.Generator) -> np.ndarray:
    """Jobs at each of ``n`` workplaces: heavy-tailed, as firm sizes are."""
    return rng.lognormal(0.0, 1.1, n)


def make_cohorts(
    params, city: City, *, chunk_people: int, rng: np.random.Generator
) -> list[Cohort]:
    """Split ``params.n_people`` people into cohorts of ``chunk_people`` (the last one smaller).

    The homes are shuffled once and dealt out in proportion to each cohort's
    size, so every cohort is a random sample of the city and every home still
    gets at least one resident.
    """
    n = params.n_people
    homes = rng.permutation(city.of_kind("home")).astype(np.int32)
    jobs = firm_sizes(city.of_kind("work").size, rng)
    given, family = names.make_vocabulary(rng=rng)
    key = rng.integers(0, 2**24, size=_ID_ROUNDS, dtype=np.uint64)
    starts = np.arange(0, n, chunk_people, dtype=np.int64)
    stops = np.minimum(starts + chunk_people, n)
    cut = homes.size * np.append(starts, n) // n
    return [
        Cohort(int(a), int(b - a), homes[cut[i] : cut[i + 1]], jobs, given, family, key)
        for i, (a, b) in enumerate(zip(starts, stops, strict=True))
    ]


def _device_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unique numbers below 16**12, in random order: the device ids before they are written in hex."""
    ids = _sorted_unique(rng.integers(0, 16**12, size=int(n * 1.01) + 16, dtype=np.int64))
    while ids.size < n:
        ids = _sorted_unique(np.concatenate([ids, rng.integers(0, 16**12, size=n, dtype=np.int64)]))
    return rng.permutation(ids)[:n]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of integers by one sort (numpy's hashing unique is slower here)."""
    v = np.sort(values)
    keep = np.empty(v.size, dtype=bool)
    keep[:1] = True
    np.not_equal(v[1:], v[:-1], out=keep[1:])
    return v[keep]


def make_people(
    params, city: City, *, rng: np.random.Generator, cohort: Cohort | None = None
) -> People:
    """Draw ``params.n_people`` people living in ``city`` (or the people of one ``cohort``).

    Every home gets at least one resident; the rest are spread over homes at
    random, so households have one to several members who share a family name
    most of the time. Workers pick a workplace and students a school with a
    gravity model (jobs or pupils x distance^-beta); habits (departure time,
    hours, appetite for outings) and phone use are personal and heavy-tailed.
    A ``cohort`` (from :func:`make_cohorts`) lives in its own share of the
    homes and takes the population's shared draws from the cohort.
    """
    n = params.n_people if cohort is None else cohort.size
    homes = city.of_kind("home") if cohort is None else cohort.homes
    first = np.arange(min(n, homes.size))
    rest = rng.choice(homes.size, size=n - first.size) if n > first.size else first[:0]
    slot = rng.permutation(np.concatenate([first, rest]))
    home = homes[slot].astype(np.int32)

    u = rng.random(n)
    role = np.where(
        u < params.worker_share, 0, np.where(u < params.worker_share + params.student_share, 1, 2)
    ).astype(np.int8)
    home_cell = city.place_cell[home]
    work = np.full(n, -1, dtype=np.int32)
    workplaces = city.of_kind("work")
    jobs = firm_sizes(workplaces.size, rng) if cohort is None else cohort.jobs
    to_work = city.gravity(workplaces, jobs, beta=1.3, d0_km=1.5, trip="work")
    w = role == 0
    work[w] = to_work.sample(home_cell[w], rng)
    schools = city.of_kind("school")
    to_school = city.gravity(schools, np.ones(schools.size), beta=2.5, d0_km=0.5, trip="school")
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
    worship[worshippers] = city.gravity(
        temples, np.ones(temples.size), beta=2.0, d0_km=1.0, trip="worship"
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

    if cohort is None:
        given, family = names.make_vocabulary(rng=rng)
        household_family = names.draw_names(family, city.places.shape[0], exponent=0.6, rng=rng)[
            home
        ]
    else:
        given, family = cohort.given, cohort.family
        household_family = names.draw_names(family, homes.size, exponent=0.6, rng=rng)[slot]
    own_family = names.draw_names(family, n, exponent=0.6, rng=rng)
    fam = np.where(rng.random(n) < 0.8, household_family, own_family)
    full_name = names.draw_names(given, n, exponent=1.0, rng=rng) + " " + fam

    number = _device_numbers(n, rng) if cohort is None else cohort.device_numbers()
    device_id = _hex12(number)
    # Ids of twelve hex digits sort as their numbers do (and are unique): no string sort.
    device_rank = np.empty(n, dtype=np.int32)
    device_rank[np.argsort(number, kind="stable")] = np.arange(n, dtype=np.int32)

    table = pd.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64)
            + (0 if cohort is None else cohort.first_person),
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
