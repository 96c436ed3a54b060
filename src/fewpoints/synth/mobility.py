"""Daily life: where each person is, hour by hour, as a sequence of stays.

Each day is simulated for everybody at once (numpy arrays over people), one
day after another. A day is a chain of at most eight stays:

    home -> work or school [-> lunch out -> work] -> up to three outings -> home

* Nights are spent at home.
* On weekdays workers and students leave at a personal habitual hour (plus a
  little daily jitter) and stay a personal number of hours.
* Outings (evenings, days off, weekends) follow the exploration and
  preferential return model (EPR; Song et al. 2010): with probability
  ``rho * S**-gamma`` (``rho = 0.6``, ``gamma = 0.21``, ``S`` the number of
  distinct places the person has been to) the person explores a new place,
  drawn by a gravity model from where they are; otherwise they return to a
  place they know, in proportion to their past visits.
* Weekends are different: later starts, more and longer outings, and a weekly
  service for people with a place of worship.

The whole period is covered: every second of every day each person is at
exactly one place (travel time is folded into the stay it leads to).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.synth.city import City
from fewpoints.synth.population import INITIAL_FAVOURITES, MEMORY_SLOTS, People

DAY_S = 86_400
RHO, GAMMA = 0.6, 0.21
#: The columns of a day plan.
SLOTS = ("home", "work", "lunch", "work_pm", "outing1", "outing2", "outing3", "home_again")
K = len(SLOTS)
MAX_OUTINGS = 3
#: Chance of exploring a new place by the number of places in memory: ``rho * S**-gamma``,
#: where S counts home too, so a newcomer still explores with probability below rho.
_EXPLORE = RHO * (np.arange(MEMORY_SLOTS + 1) + 1.0) ** -GAMMA


@dataclass
class DayPlans:
    """Everybody's days: ``place[i, d, k]`` from ``start[i, d, k]`` seconds after the first midnight.

    Unused slots hold place -1 and the start of the next used slot, so for
    any time ``t`` of day ``d`` the person is at the last slot whose start is
    at most ``t``.
    """

    place: np.ndarray  # (n, days, K) int32
    start: np.ndarray  # (n, days, K) int32, seconds since the start of day 0

    @property
    def days(self) -> int:
        return self.place.shape[1]

    def locate(self, day: int, person: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """Place of each ``person`` at ``seconds`` (since the world's start) during ``day``."""
        starts = np.take(self.start[:, day, :], person, axis=0)
        col = count_true(starts <= seconds[:, None])
        flat = person.astype(np.intp)
        flat *= self.days * K
        flat += day * K - 1
        flat += col
        return self.place.reshape(-1)[flat]


def count_true(mask: np.ndarray) -> np.ndarray:
    """The number of True in each row of a C-contiguous boolean ``mask`` (``mask.sum(axis=1)``).

    Rows a multiple of eight wide are counted eight at a time, as the bits of a
    64-bit word (``np.bitwise_count``): several times faster than the sum.
    """
    width = mask.shape[1]
    if width % 8 or not mask.flags.c_contiguous:
        return mask.sum(axis=1)
    words = np.bitwise_count(mask.view(np.uint64))
    if width == 8:
        return words.reshape(-1)
    return words.sum(axis=1, dtype=np.intp)


class _Memory:
    """Each person's EPR memory: the discretionary places they know and how often they went."""

    def __init__(self, people: People):
        n = len(people)
        self.roaming = people.roaming
        self.place = np.full((n, MEMORY_SLOTS), -1, dtype=np.int32)
        self.count = np.zeros((n, MEMORY_SLOTS), dtype=np.int32)
        self.place[:, :INITIAL_FAVOURITES] = people.favourites
        self.count[:, :INITIAL_FAVOURITES] = np.arange(INITIAL_FAVOURITES, 0, -1)
        self.size = np.full(n, INITIAL_FAVOURITES, dtype=np.int32)

    def step(
        self, who: np.ndarray, origin: np.ndarray, city: City, rng: np.random.Generator
    ) -> np.ndarray:
        """Choose the next outing of each person in ``who`` (unique indices) leaving from place ``origin``."""
        chosen = np.empty(who.size, dtype=np.int32)
        explore = rng.random(who.size) < _EXPLORE[self.size[who]]
        e = np.flatnonzero(explore)
        r = np.flatnonzero(~explore)
        if r.size:
            pr = who[r]
            cum = np.cumsum(np.take(self.count, pr, axis=0), axis=1, dtype=np.int32)
            u = rng.random(r.size) * cum[:, -1]
            slot = pr.astype(np.intp)
            slot *= MEMORY_SLOTS
            slot += count_true(cum <= u[:, None])
            del cum
            chosen[r] = self.place.reshape(-1)[slot]
            self.count.reshape(-1)[slot] += 1
        if e.size:
            pe = who[e]
            far = rng.random(e.size) < self.roaming[pe]
            new = np.empty(e.size, dtype=np.int32)
            new[~far] = city.explore.sample(city.place_cell[origin[e[~far]]], rng)
            new[far] = city.explore_far.sample(city.place_cell[origin[e[far]]], rng)
            chosen[e] = new
            match = np.take(self.place, pe, axis=0) == new[:, None]
            known = count_true(match) > 0
            k = np.flatnonzero(known)
            self.count[pe[k], match[k].argmax(axis=1)] += 1
            del match
            u = np.flatnonzero(~known)
            pu = pe[u]
            size = self.size[pu]
            # A full memory forgets its least visited place to make room.
            slot = np.minimum(size, MEMORY_SLOTS - 1)
            full = np.flatnonzero(size >= MEMORY_SLOTS)
            slot[full] = np.take(self.count, pu[full], axis=0).argmin(axis=1)
            self.place[pu, slot] = new[u]
            self.count[pu, slot] = 1
            self.size[pu] = np.minimum(size + 1, MEMORY_SLOTS)
        return chosen


def simulate_days(
    params,
    city: City,
    people: People,
    *,
    seed: np.random.SeedSequence,
    progress: Callable[[float], None] | None = None,
    pool: Executor | None = None,
) -> DayPlans:
    """Simulate ``params.days`` days for everybody.

    Each day draws from its own child of ``seed``, so the first ``d`` days of
    a longer world are exactly the days of a ``d``-day world. With a ``pool``,
    each day's plan is written into the plans on one of its threads while the
    next day is planned (one day at most waits to be written).
    """
    n, n_days = len(people), params.days
    # Every day's slice is written whole by ``write`` (and first touched there, on the pool).
    place = np.empty((n, n_days, K), dtype=np.int32)
    start = np.empty((n, n_days, K), dtype=np.int32)
    memory = _Memory(people)
    weekday0 = pd.Timestamp(params.start).weekday()
    everyone = np.arange(n)

    def write(d: int, p: np.ndarray, hours: np.ndarray) -> None:
        # Start of each slot = leaving time + the hours of the used slots before it.
        cum = np.cumsum(hours, axis=1)
        s = np.empty((n, K), dtype=np.float64)
        s[:, 0] = 0.0
        s[:, 1:] = cum[:, :-1]
        secs = np.minimum(np.rint(s * 3600.0), DAY_S - 60).astype(np.int32)
        secs[:, 0] = 0
        place[:, d, :] = p
        start[:, d, :] = secs + d * DAY_S

    pending = None
    for d, day_seed in enumerate(seed.spawn(n_days)):
        rng = np.random.default_rng(day_seed)
        weekday = (weekday0 + d) % 7
        p, hours = _plan_day(weekday, city, people, memory, everyone, rng)
        if pending is not None:
            pending.result()
        if pool is None:
            write(d, p, hours)
        else:
            pending = pool.submit(write, d, p, hours)
        del p, hours
        if progress is not None:
            progress((d + 1) / n_days)
    if pending is not None:
        pending.result()
    return DayPlans(place=place, start=start)


def _plan_day(
    weekday: int,
    city: City,
    people: People,
    memory: _Memory,
    everyone: np.ndarray,
    rng: np.random.Generator,
):
    """Places (n, K) and hours (n, K): column 0 holds the hour of leaving home, the others each stay's length."""
    n = everyone.size
    weekend = weekday >= 5
    p = np.full((n, K), -1, dtype=np.int32)
    hours = np.zeros((n, K))
    p[:, 0] = people.home
    p[:, K - 1] = people.home

    goes = (people.work >= 0) & (not weekend) & (rng.random(n) < 0.92)
    at_work = np.where(goes, people.work_h + rng.normal(0.0, 0.5, n), 0.0).clip(0.0, 12.0)
    leave = np.where(
        goes,
        people.leave_h + rng.normal(0.0, 0.3, n),
        rng.normal(11.0 if weekend else 10.0, 1.5, n),
    ).clip(4.5, 15.0)
    hours[:, 0] = leave

    g = np.flatnonzero(goes)
    p[g, 1] = people.work[g]
    lunch = goes & (people.role == 0) & (rng.random(n) < 0.25)
    hours[:, 1] = np.where(lunch, 0.45 * at_work, at_work)
    lu = np.flatnonzero(lunch)
    p[lu, 2] = memory.step(lu, people.work[lu], city, rng)
    hours[lu, 2] = rng.uniform(0.5, 1.1, lu.size)
    p[lu, 3] = people.work[lu]
    hours[lu, 3] = 0.55 * at_work[lu]

    rate = people.outings * np.where(goes, 0.7, 1.6 if weekend else 1.1)
    k = np.minimum(rng.poisson(rate), MAX_OUTINGS)
    service = (people.worship >= 0) & (people.worship_day == weekday) & (rng.random(n) < 0.85)
    trip = weekend & ~service & (rng.random(n) < people.day_trips)
    k = np.where(service | trip, np.maximum(k, 1), k)

    here = np.where(goes, people.work, people.home).astype(np.int32)
    long_outing = 1.6 if weekend else 1.0
    for j in range(MAX_OUTINGS):
        col = 4 + j
        who = np.flatnonzero(k > j)
        if who.size == 0:
            break
        dest = np.empty(who.size, dtype=np.int32)
        svc = service[who] if j == 0 else np.zeros(who.size, dtype=bool)
        dest[svc] = people.worship[who[svc]]
        away = trip[who] if j == 0 else np.zeros(who.size, dtype=bool)
        dest[away] = city.day_trip(here[who[away]], rng)
        free = np.flatnonzero(~svc & ~away)
        dest[free] = memory.step(who[free], here[who[free]], city, rng)
        p[who, col] = dest
        length = np.where(
            svc, rng.uniform(1.0, 2.0, who.size), long_outing * rng.lognormal(0.0, 0.6, who.size)
        )
        hours[who, col] = np.where(away, rng.uniform(4.0, 9.0, who.size), length.clip(0.25, 6.0))
        here[who] = dest
    return p, hours


def epoch_seconds(params) -> int:
    """Seconds from 1970-01-01 to the world's first midnight (naive local time)."""
    return int(pd.Timestamp(params.start).normalize().value // 10**9)


def stays_table(plans: DayPlans, params) -> pd.DataFrame:
    """The ground-truth ``stays`` table: consecutive slots at the same place merged, nights included.

    Returns
    -------
    DataFrame
        ``person_id``, ``place_id``, ``start``, ``end`` (datetime64[s]), sorted
        by person and time; stays tile each person's whole period.
    """
    n, n_days, _ = plans.place.shape
    place = plans.place.reshape(n, -1)
    starts = plans.start.reshape(n, -1)
    # Starts never decrease along a person's slots, and an unused slot holds the start of
    # the next used one, so a used slot's stay ends where the next slot starts: a stay is
    # empty (cut short at midnight) when the next slot starts at the same second. The last
    # slot runs to the end of the period, never empty. Keep the used, non-empty slots.
    keep = np.ones(place.shape, dtype=bool)
    np.greater(starts[:, 1:], starts[:, :-1], out=keep[:, :-1])
    keep &= place >= 0
    per_person = np.count_nonzero(keep, axis=1)
    pl = place[keep]
    st = starts[keep]
    del keep
    # Each kept stay ends where the next kept one starts, so merging runs at one place (the
    # night at home) keeps the first stay of each run, which ends where the next run starts.
    head = np.cumsum(per_person) - per_person
    first = np.empty(pl.size, dtype=bool)
    np.not_equal(pl[1:], pl[:-1], out=first[1:])
    first[head] = True
    runs = np.add.reduceat(first, head, dtype=np.int64) if n else np.zeros(0, np.int64)
    base = epoch_seconds(params)
    start = st[first].astype(np.int64)
    del st
    stop = np.empty_like(start)
    stop[:-1] = start[1:]
    stop[np.cumsum(runs) - 1] = n_days * DAY_S
    start += base
    stop += base
    return pd.DataFrame(
        {
            "person_id": np.repeat(np.arange(n, dtype=np.int32), runs),
            "place_id": pl[first],
            "start": start.view("datetime64[s]"),
            "end": stop.view("datetime64[s]"),
        },
        copy=False,
    )
