"""Observation models: the records a phone's movements leave behind.

* ``cdr``: call detail records. Each call or text is located at the antenna
  that served it (usually the nearest to where the person is, sometimes the
  next one). Phone use is heavy-tailed across people (lognormal rates, about
  114 events per person per month on average, as in de Montjoye et al. 2013),
  follows the day's rhythm, and comes in bursts (a text, its reply).
* ``pings``: app location pings collected by advertising SDKs, the kind of
  data brokers sell. GPS-accurate (a ``accuracy_m`` radius of metres to tens
  of metres, occasionally hundreds when the fix comes from wifi or cell
  towers), at heavy-tailed rates: most devices a few a day, some hundreds.
* ``posts``: public geotagged posts under people's names, for linkage lessons.

The released ``traces`` carry a pseudonymous ``device_id`` only, and their
rows are sorted by ``device_id`` then ``time``, so even the row order says
nothing about the ground-truth ``person_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from fewpoints.synth.city import City
from fewpoints.synth.mobility import DAY_S, DayPlans, epoch_seconds
from fewpoints.synth.population import People

#: Relative activity by hour of day (0-23), weekday and weekend.
CIRCADIAN = {
    "cdr": (
        [
            0.8,
            0.4,
            0.25,
            0.15,
            0.15,
            0.3,
            1.0,
            2.5,
            4.0,
            5.0,
            5.5,
            5.8,
            6.0,
            5.8,
            5.5,
            5.6,
            5.8,
            6.3,
            6.6,
            6.4,
            5.8,
            4.8,
            3.2,
            1.8,
        ],
        [
            1.4,
            0.9,
            0.5,
            0.3,
            0.2,
            0.2,
            0.4,
            0.9,
            1.8,
            3.2,
            4.5,
            5.4,
            5.8,
            5.8,
            5.6,
            5.6,
            5.8,
            6.0,
            6.2,
            6.2,
            5.8,
            5.0,
            3.8,
            2.5,
        ],
    ),
    # Apps also report in the background at night, so pings are flatter.
    "pings": (
        [
            1.5,
            1.2,
            1.0,
            1.0,
            1.0,
            1.2,
            2.0,
            3.5,
            4.5,
            4.5,
            4.3,
            4.3,
            4.8,
            4.6,
            4.3,
            4.3,
            4.6,
            5.0,
            5.3,
            5.3,
            5.0,
            4.5,
            3.4,
            2.2,
        ],
        [
            1.8,
            1.5,
            1.2,
            1.0,
            1.0,
            1.0,
            1.3,
            2.0,
            3.0,
            3.8,
            4.3,
            4.6,
            4.8,
            4.8,
            4.6,
            4.6,
            4.8,
            5.0,
            5.2,
            5.2,
            5.0,
            4.6,
            3.6,
            2.5,
        ],
    ),
    "posts": (
        [
            0.3,
            0.1,
            0.05,
            0.05,
            0.05,
            0.05,
            0.2,
            0.8,
            1.2,
            1.2,
            1.2,
            1.5,
            2.5,
            2.0,
            1.5,
            1.5,
            1.8,
            2.5,
            3.2,
            3.5,
            3.5,
            3.0,
            2.0,
            0.9,
        ],
        [
            0.6,
            0.3,
            0.1,
            0.05,
            0.05,
            0.05,
            0.1,
            0.4,
            1.0,
            1.8,
            2.5,
            3.0,
            3.5,
            3.2,
            3.0,
            3.0,
            3.0,
            3.2,
            3.5,
            3.8,
            3.8,
            3.2,
            2.4,
            1.2,
        ],
    ),
}
#: Weekend phone use relative to weekdays.
WEEKEND_FACTOR = {"cdr": 0.85, "pings": 1.0, "posts": 1.4}
#: Calls and texts come in bursts of this many events on average (geometric sizes).
CDR_BURST_MEAN = 1.6
CDR_BURST_GAP_S = 120.0
#: Share of events served by the second-nearest antenna (load balancing, signal).
CDR_BACKUP_SHARE = 0.12
#: Ping accuracy: lognormal GPS fixes, plus a share of coarse wifi or cell fixes.
PING_ACCURACY_MEDIAN_M, PING_ACCURACY_SIGMA = 9.0, 0.6
PING_COARSE_SHARE = 0.06


def _day_factor(model: str, weekend: bool) -> float:
    """Activity of a weekday or weekend day relative to the average day of the week."""
    w = WEEKEND_FACTOR[model]
    weekday = 7.0 / (5.0 + 2.0 * w)
    return weekday * w if weekend else weekday


def _cdf(weights) -> np.ndarray:
    c = np.cumsum(weights, dtype=float)
    return c / c[-1]


#: Bins of the table that turns a uniform draw into an hour of the day (a power of two).
_HOUR_BINS = 1 << 12


def _hours(profile: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.searchsorted(profile, u, side="right")`` for draws ``u`` in [0, 1), by table look-up.

    The same answer as the binary search (``u * 2**12`` is exact, so each draw
    falls in a known bin, and a bin holds at most one step of the profile, which
    one comparison settles), about three times faster. A profile with two steps
    in one bin falls back to the binary search.
    """
    grid = np.arange(_HOUR_BINS) / _HOUR_BINS
    lo = np.searchsorted(profile, grid, side="right")
    ext = np.append(profile, np.inf)
    if not np.all(ext[np.minimum(lo + 1, profile.size)] >= grid + 1.0 / _HOUR_BINS):
        return np.searchsorted(profile, u, side="right")
    i = (u * _HOUR_BINS).astype(np.intp)
    hour = lo[i]
    hour += ext[lo][i] <= u
    return hour


def _sort_within(person: np.ndarray, sec: np.ndarray) -> np.ndarray:
    """``sec`` sorted within each person's events (``person`` sorted, ``sec`` below a day).

    Sorting the key ``person * DAY_S + sec`` leaves ``person`` where it is; a
    stable sort (timsort) is fastest here, as the keys come in sorted runs.
    """
    base = person.astype(np.int64)
    base *= DAY_S
    key = base + sec
    key.sort(kind="stable")
    key -= base
    return key.astype(np.int32)


def _day_events(
    counts: np.ndarray, profile: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``counts[i]`` event times for each person i during one day, sorted by person then time.

    Returns ``(person, second_of_day)``.
    """
    person = np.repeat(np.arange(counts.size, dtype=np.int32), counts)
    hour = _hours(profile, rng.random(person.size))
    np.minimum(hour, 23, out=hour)
    hour *= 3600
    hour += rng.integers(0, 3600, person.size)
    return person, _sort_within(person, hour)


def _cdr_day(
    rate: np.ndarray, profile: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Bursty call and text times for one day: sessions, each of a geometric number of events."""
    sessions = rng.poisson(rate / CDR_BURST_MEAN)
    person, sec = _day_events(sessions, profile, rng)
    size = rng.geometric(1.0 / CDR_BURST_MEAN, person.size)
    person = np.repeat(person, size)
    start = np.repeat(sec, size)
    # Offsets within a burst: 0 for the first event, then exponential gaps.
    gaps = rng.exponential(CDR_BURST_GAP_S, person.size)
    first = np.cumsum(size)
    first -= size
    gaps[first] = 0.0
    csum = np.cumsum(gaps, out=gaps)
    csum -= np.repeat(csum[first], size)
    sec = start + csum.astype(np.int64)
    np.minimum(sec, DAY_S - 1, out=sec)
    return person, _sort_within(person, sec)


def _assemble(
    days: list[tuple[np.ndarray, ...]], rank: np.ndarray, dtypes: list, pool: Executor | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Interleave per-day event arrays into one table sorted by device rank, then time.

    ``days[d]`` is ``(person, column, column, ...)`` for day ``d``, sorted by
    person then time. Each day's arrays are scattered straight to their final
    rows (a counting sort: no global sort) and released as soon as they are
    placed, so memory holds little more than the output. Days fill disjoint
    rows, so the threads of ``pool`` may place several days at once. Returns
    the compact device code of each row (ranks of the devices that appear) and
    the columns.
    """
    n, n_days = rank.size, len(days)
    each = map if pool is None else pool.map
    counts = np.zeros((n, n_days), dtype=np.int64)

    def count(d: int, counts: np.ndarray = counts) -> None:
        counts[rank, d] = np.bincount(days[d][0], minlength=n)

    list(each(count, range(n_days)))
    present = counts.sum(axis=1) > 0
    code_of_rank = (np.cumsum(present) - 1).astype(np.int32)
    flat = counts.ravel()
    offsets = (np.cumsum(flat) - flat).reshape(n, n_days)
    total = int(flat.sum())
    del counts, flat
    codes = np.empty(total, dtype=np.int32)
    columns = [np.empty(total, dtype=dt) for dt in dtypes]

    def place(d: int) -> None:
        person, *values = days[d]
        days[d] = ()
        per = np.bincount(person, minlength=n)
        first_in_day = np.cumsum(per) - per
        r = rank[person]
        dest = offsets[r, d] + (np.arange(person.size, dtype=np.int64) - first_in_day[person])
        codes[dest] = code_of_rank[r]
        for out, v in zip(columns, values, strict=True):
            out[dest] = v

    list(each(place, range(n_days)))
    return codes, present, columns


def _time_column(params, seconds: np.ndarray) -> np.ndarray:
    t = seconds.astype(np.int64)
    t += epoch_seconds(params)
    return t.view("datetime64[s]")


def observe_days(
    model: str,
    params,
    city: City,
    people: People,
    plans: DayPlans,
    *,
    seed: np.random.SeedSequence,
    progress: Callable[[float], None] | None = None,
    pool: Executor | None = None,
) -> list[tuple[np.ndarray, ...]]:
    """Observe everybody's days through ``model`` (``"cdr"`` or ``"pings"``), day by day.

    Returns one tuple per day, ``(person, seconds, payload...)``, sorted by
    person then time; the caller may free the day plans before turning them
    into a table with :func:`traces_table`. Each day draws from its own child
    of ``seed`` and reads the plans only, so the days may be observed at once
    on the threads of ``pool`` (numpy lets go of the interpreter for the large
    array work): the same days, in order, whichever thread observed them.
    """
    n_days = plans.days
    weekday0 = pd.Timestamp(params.start).weekday()
    rate = people.calls_per_day if model == "cdr" else people.pings_per_day
    bin_s = (
        int(pd.Timedelta(params.cdr_time_bin).total_seconds())
        if model == "cdr" and params.cdr_time_bin
        else 0
    )

    def observe_day(d: int, day_seed: np.random.SeedSequence) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(day_seed)
        weekend = (weekday0 + d) % 7 >= 5
        profile = _cdf(CIRCADIAN[model][int(weekend)])
        r = rate * _day_factor(model, weekend)
        if model == "cdr":
            person, sec = _cdr_day(r, profile, rng)
        else:
            person, sec = _day_events(rng.poisson(r), profile, rng)
        t = sec + d * DAY_S
        place = plans.locate(d, person, t)
        if bin_s:
            t -= t % bin_s
        if model == "cdr":
            backup = rng.random(person.size) < CDR_BACKUP_SHARE
            antenna = np.where(
                backup, city.backup_antenna[place], city.serving_antenna[place]
            ).astype(np.int32)
            return person, t, antenna
        return person, t, *_ping_fix(city, place, rng)

    seeds = seed.spawn(n_days)
    if pool is None:
        results = (observe_day(d, s) for d, s in enumerate(seeds))
    else:
        results = (
            f.result() for f in [pool.submit(observe_day, d, s) for d, s in enumerate(seeds)]
        )
    days = []
    for d, day in enumerate(results):
        days.append(day)
        if progress is not None:
            progress((d + 1) / n_days)
    return days


def traces_table(
    model: str,
    days: list[tuple[np.ndarray, ...]],
    params,
    city: City,
    people: People,
    pool: Executor | None = None,
) -> pd.DataFrame:
    """Turn :func:`observe_days` output into the released ``traces`` table (empties ``days``).

    With a ``pool``, its threads place the days' records at once and gather the
    antennas' coordinates (same table).

    Returns
    -------
    DataFrame
        ``device_id`` (categorical), ``time`` (datetime64[s]), ``x_km``,
        ``y_km``, plus ``antenna_id`` (cdr) or ``accuracy_m`` (pings), sorted
        by ``device_id`` then ``time``.
    """
    dtypes = (
        [np.int32, np.int32] if model == "cdr" else [np.int32, np.float64, np.float64, np.float64]
    )
    codes, present, (t, *payload) = _assemble(days, people.device_rank, dtypes, pool)
    del days
    if model == "cdr":
        # Each record's antenna coordinates, gathered on the pool while the ids and times are made.
        (antenna,) = payload
        coords = [city.antennas[c].to_numpy() for c in ("x_km", "y_km")]
        gathered = [pool.submit(v.take, antenna) for v in coords] if pool is not None else None
    # The device ids in sorted order, put where their ranks say: no string sort.
    categories = np.empty(len(people), dtype=object)
    categories[people.device_rank] = people.table["device_id"].to_numpy(dtype=object)
    categories = categories[present]
    device = pd.Categorical.from_codes(
        codes, categories=pd.Index(categories, dtype="str"), validate=False
    )
    columns = {"device_id": device, "time": _time_column(params, t)}
    del t
    if model == "cdr":
        columns["x_km"], columns["y_km"] = (
            [f.result() for f in gathered] if gathered else [v.take(antenna) for v in coords]
        )
        columns["antenna_id"] = antenna
    else:
        columns["x_km"], columns["y_km"], columns["accuracy_m"] = payload
    del payload
    return pd.DataFrame(columns, copy=False)


def _ping_fix(
    city: City, place: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GPS-style fixes around each place: reported accuracy (68% radius, metres) and a position error to match."""
    m = place.size
    acc = rng.lognormal(np.log(PING_ACCURACY_MEDIAN_M), PING_ACCURACY_SIGMA, m)
    coarse = rng.random(m) < PING_COARSE_SHARE
    acc[coarse] = rng.uniform(100.0, 1500.0, int(coarse.sum()))
    acc = np.round(np.clip(acc, 3.0, 5000.0), 1)
    # A 2-D Gaussian error puts 68% of fixes within 1.51 sigma.
    sigma_km = acc / 1000.0 / 1.51
    x = np.round(city.place_x[place] + sigma_km * rng.standard_normal(m), 3)
    y = np.round(city.place_y[place] + sigma_km * rng.standard_normal(m), 3)
    return x, y, acc


def make_posts(
    params,
    city: City,
    people: People,
    plans: DayPlans,
    *,
    seed: np.random.SeedSequence,
) -> pd.DataFrame:
    """Public geotagged posts by the share of people who post, located where they really were.

    Returns
    -------
    DataFrame
        ``name``, ``time``, ``x_km``, ``y_km`` (the post's geotag, within
        tens of metres of the place), sorted by time as a public feed is.
    """
    n, n_days = len(people), plans.days
    weekday0 = pd.Timestamp(params.start).weekday()
    rng0 = np.random.default_rng(seed)
    poster = rng0.random(n) < params.poster_share
    rate = np.where(poster, params.posts_per_week / 7.0 * rng0.lognormal(-0.5, 1.0, n), 0.0)
    names = people.table["name"].to_numpy(dtype=object)
    parts = []
    for d, day_seed in enumerate(seed.spawn(n_days)):
        rng = np.random.default_rng(day_seed)
        weekend = (weekday0 + d) % 7 >= 5
        profile = _cdf(CIRCADIAN["posts"][int(weekend)])
        person, sec = _day_events(
            rng.poisson(rate * (WEEKEND_FACTOR["posts"] if weekend else 1.0)), profile, rng
        )
        t = sec + d * DAY_S
        place = plans.locate(d, person, t)
        x = np.round(city.place_x[place] + 0.015 * rng.standard_normal(place.size), 3)
        y = np.round(city.place_y[place] + 0.015 * rng.standard_normal(place.size), 3)
        parts.append((person, t, x, y))
    person = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    order = np.lexsort((person, t))
    return pd.DataFrame(
        {
            "name": pd.array(names[person[order]], dtype="str"),
            "time": _time_column(params, t[order]),
            "x_km": np.concatenate([p[2] for p in parts])[order],
            "y_km": np.concatenate([p[3] for p in parts])[order],
        }
    )
