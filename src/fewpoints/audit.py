"""The audit: the briefing's analyses on a user's own location file, from the released data alone.

``fewpoints audit FILE --out DIR`` reads a file in the shape data brokers and
researchers ship it (one row per location fix: an ID, a time, a place) and
writes a risk report of the same kind as the briefing: how few points single
a device out, what coarsening would buy and cost, how identifying the homes
and workplaces inferred from the data are, what a larger release would do,
how the risk spreads over the devices, and (given a public map of places)
how many devices show visits near sensitive places. Nothing here uses ground
truth or a synthetic world: every number is measured on the file, and the
report says so. Nothing leaves the machine.

:func:`audit` runs the analyses on a traces table in memory and returns an
:class:`Audit`; :func:`write_audit` writes the figures (PNG, SVG, PDF), their
captions and alt text, ``report.html``, ``report.pdf`` and ``audit.json``
with every number, through the same machinery as the briefing.

>>> from fewpoints.audit import audit, write_audit
>>> result = audit(traces, source="sample.csv")          # doctest: +SKIP
>>> write_audit(result, "audit-out")                     # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fewpoints import figures as F
from fewpoints.io import Projection
from fewpoints.schema import FewpointsError, InputError

__all__ = [
    "BROKER_ORIGIN",
    "BROKER_TIMEZONE",
    "FEW",
    "MIN_DEVICES",
    "SENSITIVE_KINDS",
    "Audit",
    "AuditSizes",
    "audit",
    "audit_dask",
    "audit_figures",
    "audit_json",
    "broker_form",
    "check_auditable",
    "check_device_ids",
    "choose_engine",
    "coarsening_table",
    "per_device_risk",
    "plot_coarsening",
    "plot_risk",
    "plot_sensitive",
    "population_bounds",
    "read_for_audit",
    "read_for_audit_dask",
    "read_places",
    "report_html",
    "sensitive_exposure",
    "write_audit",
]

#: A release singles out "few" devices below this share (the coarsening table's target).
FEW = 0.10
#: Fewest devices an audit measures (with fewer, nobody can hide among others).
MIN_DEVICES = 10
#: Kinds of place whose visits reveal health, religion, legal trouble or hardship
#: (a places file without a ``sensitive`` column is read by its ``kind``).
SENSITIVE_KINDS = frozenset(
    {
        "health",
        "clinic",
        "hospital",
        "doctors",
        "doctor",
        "dentist",
        "pharmacy",
        "abortion",
        "family_planning",
        "mental_health",
        "addiction",
        "worship",
        "place_of_worship",
        "church",
        "mosque",
        "synagogue",
        "temple",
        "legal_aid",
        "lawyer",
        "court",
        "immigration",
        "shelter",
        "social_facility",
        "homeless_shelter",
        "refugee",
    }
)
#: Largest share of rows that may repeat another exactly (two events in one second at one
#: antenna happen; a file that holds its fixes twice is refused).
MAX_REPEATS = 0.05
#: Locations that repeat this much (distinct locations per record at most this) are antennas or cells.
_REPEATING = 0.05
#: Radius of a GPS stay point and of "near a place" (km): the attacks' defaults.
_GPS_KM = 0.05


# ---------------------------------------------------------------------------
# what an audit measures, and what it returns
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditSizes:
    """How much work each analysis of the audit does (more targets: narrower intervals).

    The unicity curve, the coarsening table and the per-device risk sample
    the same number of devices; the curve's 4-point test and the coarsening
    table's "as recorded" row start from the same random state, so the
    file's share at 4 points is one number wherever the report states it.
    """

    n_targets: int = 10_000
    curve_points: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10)
    #: Square cells (km) of the coarsening table; None keeps the recorded locations.
    sweep_cells: tuple[float | None, ...] = (None, 0.5, 1.0, 2.0, 5.0, 10.0)
    #: Time slots of the coarsening table; None keeps the recorded times. Slots no longer
    #: than the file's own time step are left out (they change nothing).
    sweep_bins: tuple[str | None, ...] = (None, "1h", "4h", "12h", "1D")
    sweep_points: int = 4
    population_targets: int = 5_000
    risk_points: int = 10
    #: Square cells (km) of the home/work and top-n anonymity sets (plus the recorded
    #: locations when they are antennas or cells).
    granularities: tuple[float, ...] = (0.1, 0.5, 2.0)


@dataclass
class Audit:
    """Everything an audit measured on one file, with the evidence behind each number.

    Attributes
    ----------
    source : str
        How the report names the file (its name as given).
    about : dict
        The file as read: ``n_records``, ``n_devices``, ``first``, ``last``,
        ``days``, ``locations`` (what a location is), ``time_step`` (seconds),
        and ``reading`` (which column was which, how times were read, the
        time zone, the projection).
    curve : DataFrame
        Unicity against the number of known points: ``n_points, unicity,
        ci_low, ci_high, n_targets, median_anonymity_set, knowledge``.
    sweep : ResolutionSweep
        Unicity with 4 points at every square cell x time slot tried.
    release : dict or None
        The finest setting tried whose 95% interval lies below :data:`FEW`,
        with what it costs (``cell_km``, ``time_bin``, ``unicity``,
        ``ci_low``, ``ci_high``, ``moved_km``, ``shifted_minutes``); None if
        no setting tried gets there (``coarsest`` says how far it got).
    home_work : dict
        Homes and workplaces inferred: ``n_devices``, ``homes``, ``works``,
        ``both``, ``median_home_support``, ``median_work_support``.
    anonymity : DataFrame
        :func:`fewpoints.attacks.anonymity_table` of the file.
    population : PopulationCurve
        Unicity in random subsets of the devices, the model and the lower bound.
    risk : DataFrame
        :func:`per_device_risk`: how many devices the fewest points single out.
    sensitive : DataFrame or None
        :func:`sensitive_exposure`, when a places file was given.
    seconds : dict
        How long each step took.
    """

    source: str
    about: dict
    curve: pd.DataFrame
    sweep: object
    release: dict | None
    coarsest: dict
    home_work: dict
    anonymity: pd.DataFrame
    population: object
    risk: pd.DataFrame
    sensitive: pd.DataFrame | None = None
    #: What each coarsening costs: ``moved_km`` by square size (0 as recorded) and
    #: ``shifted_minutes`` by time slot ("" as recorded), means over the records.
    costs: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    engine: str = "memory"
    seed: int = 0
    sizes: AuditSizes = field(default_factory=AuditSizes)

    @property
    def raw4(self) -> dict:
        """The file's share singled out by 4 random points (the number the summary leads with)."""
        row = self.curve.set_index("n_points").loc[4]
        return {k: float(row[k]) for k in ("unicity", "ci_low", "ci_high")} | {
            "n_targets": int(row["n_targets"])
        }

    def __repr__(self) -> str:
        r = self.raw4
        return (
            f"Audit({self.source}: {self.about['n_devices']:,} devices, "
            f"{self.about['n_records']:,} records; 4 points single out {r['unicity']:.1%})"
        )


# ---------------------------------------------------------------------------
# a world's traces in the form brokers ship them (for tests and benchmarks)
# ---------------------------------------------------------------------------

#: Where :func:`broker_form` places a synthetic city by default: near Phoenix, Arizona, whose
#: time zone keeps one UTC offset all year (so Unix times and local times map one to one).
BROKER_ORIGIN = (33.0, -112.0)
BROKER_TIMEZONE = "America/Phoenix"
_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _advertising_ids(n: int, rng) -> pd.Index:
    """``n`` distinct random advertising IDs (IDFA-style UUIDs, upper case), sorted, vectorised."""
    from fewpoints.common import ascii_index

    ids = np.empty((0, 36), dtype=np.uint8)
    while len(ids) < n:
        nib = rng.integers(0, 16, size=(n - len(ids), 32), dtype=np.uint8)
        nib[:, 12] = 4  # version 4
        nib[:, 16] = 8 | (nib[:, 16] & 3)  # RFC 4122 variant
        text = np.empty((len(nib), 36), dtype=np.uint8)
        cols = [c for c in range(36) if c not in (8, 13, 18, 23)]
        text[:, cols] = _HEX[nib]
        text[:, [8, 13, 18, 23]] = ord("-")
        ids = np.concatenate([ids, text])
        keys = np.unique(ids.view("S36").ravel())
        ids = keys.view(np.uint8).reshape(-1, 36)
    return ascii_index(np.ascontiguousarray(ids).reshape(-1), width=36)


def broker_form(
    traces: pd.DataFrame,
    *,
    origin: tuple[float, float] | None = None,
    timezone: str = BROKER_TIMEZONE,
    accuracy_m: float = 1000.0,
    rng=None,
) -> pd.DataFrame:
    """A traces table as a data broker ships it: advertising IDs, lat/lon, Unix times, accuracy.

    The synthetic city's kilometres are placed on the Earth by the inverse of
    the projection the audit reads degrees with (:class:`Projection`), around
    ``origin``; its local times are taken as wall-clock times in
    ``timezone`` and written as Unix seconds (UTC). Device IDs become random
    advertising IDs whose sort order is the devices' own, so every attack
    draws the same devices from either table: audited with ``--timezone
    timezone``, the file gives the numbers the API gives on ``traces``.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table (synthetic).
    origin : (lat, lon), optional
        Where the city's frame origin goes (default :data:`BROKER_ORIGIN`),
        rounded to the whole degree, as the audit's projection centre is (the
        file's median fix to the degree), so that the audit reads back the
        city's own kilometres.
    timezone : str, default "America/Phoenix"
        The zone of the city's clock (one without daylight saving time keeps
        every local time; elsewhere the skipped hour of spring cannot exist).
    accuracy_m : float, default 1000
        The horizontal accuracy written for records without one (call records
        are located at an antenna; brokers that resell them state its range).
    rng : int, Generator or None
        For the advertising IDs.

    Returns
    -------
    DataFrame
        ``advertiser_id, timestamp, latitude, longitude, horizontal_accuracy``,
        one row per record, in the order of ``traces``.
    """
    from fewpoints.common import device_codes

    rng = np.random.default_rng(rng)
    codes, labels = device_codes(traces["device_id"])
    ids = _advertising_ids(len(labels), rng)
    x = traces["x_km"].to_numpy(dtype=np.float64)
    y = traces["y_km"].to_numpy(dtype=np.float64)
    lat0, lon0 = BROKER_ORIGIN if origin is None else origin
    proj = Projection(float(round(lat0)), float(round(lon0)))
    lat, lon = proj.inverse(x, y)
    if Projection.for_data(lat, lon) != proj:
        raise FewpointsError(
            "the city's median fix is more than half a degree from its frame's origin; the "
            "audit would read it in another frame"
        )
    local = pd.DatetimeIndex(traces["time"].to_numpy())
    unix = (
        local.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        .tz_convert("UTC")
        .tz_localize(None)
        .to_numpy()
        .astype("datetime64[s]")
    )
    if np.isnat(unix).any():
        raise FewpointsError(
            f"{int(np.isnat(unix).sum()):,} local time(s) do not exist or repeat in {timezone} "
            "(daylight saving time); choose a zone without it, such as America/Phoenix"
        )
    acc = (
        traces["accuracy_m"].to_numpy(dtype=np.float64)
        if "accuracy_m" in traces.columns
        else np.full(len(traces), float(accuracy_m))
    )
    return pd.DataFrame(
        {
            "advertiser_id": ids.take(codes),
            "timestamp": unix.view(np.int64),
            "latitude": lat,
            "longitude": lon,
            "horizontal_accuracy": acc,
        }
    )


# ---------------------------------------------------------------------------
# checks before any work
# ---------------------------------------------------------------------------


def check_auditable(traces: pd.DataFrame, *, source: str = "the file", now=None) -> None:
    """Refuse, in one line naming the column and the fix, a table no audit can rightly measure.

    Checked: enough devices (:data:`MIN_DEVICES`); times after 2000 and not
    in the future (a wrong unit or clock); at most :data:`MAX_REPEATS` of the
    rows repeating another exactly (a file concatenated twice, or joined
    with another table on export, is not the release it claims to be).

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table as read (``device_id, time, x_km, y_km``).
    source : str
        How to name the file in messages.
    now : datetime-like, optional
        The present (default: the machine's clock), for times in the future.

    Raises
    ------
    InputError
    """
    devices = traces["device_id"]
    n_dev = devices.nunique()
    if n_dev < MIN_DEVICES:
        raise InputError(
            f"{source}: column device_id holds {n_dev:,} device(s); an audit measures how "
            f"devices hide among others and needs at least {MIN_DEVICES}: give the whole "
            "file, or map the ID column with --columns device_id=COLUMN"
        )
    t = traces["time"].to_numpy().astype("datetime64[s]")
    low = np.datetime64("2000-01-01T00:00:00", "s")
    now = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    high = np.datetime64((now + pd.Timedelta(days=1)).floor("s").to_datetime64(), "s")
    early = t < low
    if early.any():
        i = int(np.argmax(early))
        raise InputError(
            f"{source}: column time has {int(early.sum()):,} time(s) before 2000 (first "
            f"{pd.Timestamp(t[i])} on row {i + 1}); phone location data are younger: check "
            "the unit of Unix times (--time-unit s or ms) or the column mapped to time"
        )
    late = t > high
    if late.any():
        i = int(np.argmax(late))
        raise InputError(
            f"{source}: column time has {int(late.sum()):,} time(s) in the future (first "
            f"{pd.Timestamp(t[i])} on row {i + 1}); check the unit of Unix times "
            "(--time-unit s or ms), the day/month order, or the clock that wrote them"
        )
    keys = pd.DataFrame(
        {
            "d": pd.factorize(devices)[0],
            "t": t.view(np.int64),
            "x": traces["x_km"].to_numpy(dtype=np.float64),
            "y": traces["y_km"].to_numpy(dtype=np.float64),
        }
    )
    dup = keys.duplicated().to_numpy()
    if dup.mean() > MAX_REPEATS:
        i = int(np.argmax(dup))
        raise InputError(
            f"{source}: {int(dup.sum()):,} row(s) ({dup.mean():.0%}) repeat another row's "
            f"device, time and place exactly (first on row {i + 1}); the file may hold the "
            "same fixes twice: remove the repeats, or pass --drop-duplicates to count each "
            "fix once"
        )


def drop_duplicates(traces: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The table with each (device, time, place) once; and how many repeats were dropped."""
    dup = traces.duplicated(subset=["device_id", "time", "x_km", "y_km"])
    n = int(dup.sum())
    return (traces.loc[~dup.to_numpy()].reset_index(drop=True) if n else traces), n


# ---------------------------------------------------------------------------
# describing the file
# ---------------------------------------------------------------------------


def _time_step(seconds: np.ndarray) -> int:
    """The file's own time resolution: the largest step (s) every distinct time is a multiple of."""
    t = np.unique(seconds)
    if len(t) < 2:
        return 1
    return max(int(np.gcd.reduce(t - t[0])), 1)


def _location_kind(traces: pd.DataFrame, n_locations: int) -> str:
    """What a location of the file is, by what the data show.

    ``"repeating"`` when there are at most 1 distinct location per 20 records
    (antennas, cells, snapped points: used as recorded, whatever accuracy
    the file states), else ``"gps"`` with an ``accuracy_m`` column and
    ``"gps-like"`` without (fixes clustered into stay points).
    """
    if n_locations <= _REPEATING * len(traces):
        return "repeating"
    return "gps" if "accuracy_m" in traces.columns else "gps-like"


LOCATION_WORDS = {
    "gps": "GPS fixes with their horizontal accuracy",
    "gps-like": "fixes that rarely repeat, taken as GPS without a stated accuracy",
    "repeating": "locations that repeat (antennas, cells or snapped points)",
}


def _step_words(seconds: int) -> str:
    """``the second``, ``the hour``, ``15 minutes``: how precise the file's times are."""
    for unit, name in ((86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % unit == 0:
            k = seconds // unit
            return f"the {name}" if k == 1 else f"{k:,} {name}s"
    return f"{seconds:,} seconds"  # pragma: no cover


def describe(traces: pd.DataFrame, index, reading: dict | None = None) -> dict:
    """The file as read, in numbers: records, devices, period, what a location is, the time step."""
    seconds = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    first, last = int(seconds.min()), int(seconds.max())
    step = _time_step(index.point_time) if hasattr(index, "point_time") else _time_step(seconds)
    kind = _location_kind(traces, index.n_locations)
    per_device = index.points_per_device()
    return {
        "n_records": int(len(traces)),
        "n_devices": int(index.n_devices),
        "n_points": int(per_device.sum()),
        "n_locations": int(index.n_locations),
        "first": str(pd.Timestamp(first, unit="s")),
        "last": str(pd.Timestamp(last, unit="s")),
        "days": round((last - first) / 86_400, 1),
        "locations": kind,
        "locations_words": LOCATION_WORDS[kind],
        "time_step": step,
        "time_step_words": _step_words(step),
        "points_per_device": {
            "median": float(np.median(per_device)),
            "mean": float(per_device.mean()),
            "p99": float(np.percentile(per_device, 99)),
        },
        "reading": {k: v for k, v in (reading or {}).items() if k != "projector"},
    }


# ---------------------------------------------------------------------------
# analyses that are the audit's own
# ---------------------------------------------------------------------------


def per_device_risk(traces, *, max_points: int = 10, n_targets: int = 10_000, rng=None):
    """How many devices the fewest of their own points single out: the spread of the risk.

    For each sampled device, its points are put in a random order and
    revealed one by one; the device's **risk** is the number of points after
    which no other device's trace holds all of them. Devices are never
    named: the result counts them.

    Parameters
    ----------
    traces : DataFrame or PointIndex
    max_points : int, default 10
        Points revealed at most.
    n_targets : int, default 10,000
        Devices sampled at random (all of them when there are fewer).
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        One row per outcome, in order: ``fewest_points`` (1 to
        ``max_points``; ``max_points + 1`` for "not within max_points
        points"; 0 for "never: not even all its points single it out"),
        ``label``, ``n_devices`` (of the sample), ``share`` with its 95%
        Wilson interval ``ci_low, ci_high``, ``cumulative`` (share singled
        out by at most that many points) with ``cumulative_low,
        cumulative_high``, ``n_targets``.

    Notes
    -----
    The share singled out by at most p points equals, in expectation, the
    unicity with p random points; this table adds how the rest spreads:
    which devices need many points, and which never stand out (devices with
    few points, all of them shared). An attacker who chooses the points
    does better (see :func:`fewpoints.attacks.worst_case_risk`).

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd. Scientific Reports 3:1376.
    """
    from fewpoints.attacks.index import as_index
    from fewpoints.common import check_points, check_targets

    rng = np.random.default_rng(rng)
    P = check_points(max_points)
    n_targets = check_targets(n_targets)
    index = as_index(traces)
    targets, m, ranks = _risk_draws(index.points_per_device(), P, n_targets, rng)
    items = index.nth_points_batch([(targets, ranks)])[0]
    first = np.zeros(len(targets), dtype=np.int64)
    for p in range(1, P + 1):
        todo = np.flatnonzero((first == 0) & (m >= p))
        if not len(todo):
            break
        sizes = index.points.anonymity_sets(items[todo, :p])
        first[todo[sizes == 1]] = p
    return _risk_table(first, m, P)


def _risk_draws(m_all: np.ndarray, P: int, n_targets: int, rng):
    """The sampled devices, their numbers of points, and a random order of up to P of them.

    Both engines draw through here (the same calls in the same order), so the
    same seed samples the same devices and reveals the same points.
    """
    from fewpoints.attacks.draws import floyd_sample

    eligible = np.flatnonzero(m_all > 0)
    n = min(n_targets, len(eligible))
    targets = np.sort(rng.choice(eligible, size=n, replace=False))
    m = m_all[targets].astype(np.int64)
    ranks = np.empty((n, P), dtype=np.int64)
    big = m >= P
    if big.any():
        ranks[big] = rng.permuted(floyd_sample(m[big], P, rng), axis=1)
    small = np.flatnonzero(~big)
    if len(small):
        # A random order of all of a small device's points; the columns past its
        # last point repeat its first (a repeated point changes no anonymity set).
        col = np.arange(P)[None, :]
        keys = np.where(col < m[small][:, None], rng.random((len(small), P)), 2.0)
        perm = np.argsort(keys, axis=1)
        ranks[small] = np.where(col < m[small][:, None], perm, perm[:, :1])
    return targets, m, ranks


def _risk_table(first: np.ndarray, m: np.ndarray, P: int) -> pd.DataFrame:
    """The per-device risk table from each sampled device's fewest points (0: not singled out)."""
    from fewpoints.attacks.result import wilson_interval

    n = len(first)
    outcome = np.where(first > 0, first, np.where(m > P, P + 1, 0))
    rows = []
    order = [*range(1, P + 2), 0]
    counts = np.bincount(outcome, minlength=P + 2)
    cum = 0
    nan = float("nan")
    for k in order:
        c = int(counts[k])
        if k == 0:
            label = "never (all its points shared)"
        elif k == P + 1:
            label = f"not within {P} points"
        else:
            label = f"{k} point" + ("s" if k > 1 else "")
        lo, hi = wilson_interval(c, n)
        row = {"fewest_points": k, "label": label, "n_devices": c, "share": c / n,
               "ci_low": lo, "ci_high": hi}  # fmt: skip
        if 1 <= k <= P:
            cum += c
            clo, chi = wilson_interval(cum, n)
            row |= {"cumulative": cum / n, "cumulative_low": clo, "cumulative_high": chi}
        else:
            row |= {"cumulative": nan, "cumulative_low": nan, "cumulative_high": nan}
        rows.append(row | {"n_targets": n})
    return pd.DataFrame(rows)


def population_bounds(index, *, n_targets: int = 5_000, n_points: int = 4, rng=None):
    """What a larger release would do: unicity in nested subsets, the model and its lower bound.

    The one place the audit asks the population work (Farzanehfar et al.
    2021), so that a better model is one change: today
    :func:`fewpoints.attacks.population_curve` (nested random subsets of the
    devices, a convex Beta model fitted to them, and the straight-line lower
    bound through the two largest subsets), extrapolated to 10 and 100 times
    the file's devices and to the 60 million people of the published study.
    """
    from fewpoints.attacks import population_curve

    n = index.n_devices
    far = sorted({float(10 * n), float(100 * n), 6e7} - {float(n)})
    far = [v for v in far if v > n]
    lo = min(max(10, n // 100), n)
    sizes = np.unique(np.geomspace(lo, n, 8).round().astype(int)) if n > lo else [n]
    return population_curve(
        index, sizes, n_points=n_points, n_targets=n_targets, extrapolate_to=far, rng=rng
    )


def _cheapest_release(sweep_table: pd.DataFrame, costs: dict, p: int):
    """The least coarsening whose 95% interval lies under FEW (with its cost), and the coarsest tried.

    Coarsenings are ordered by how much a released point still says: the
    area of its square times the hours of its slot (km² h), then by the
    square. "The least" is the first under :data:`FEW`; the other settings
    under it that are not coarser in both space and time than another are
    named as alternatives.
    """
    t = sweep_table[sweep_table["n_points"] == p].copy()
    t["cell_sort"] = t["cell_km"].fillna(0.0)
    t["volume"] = t["cell_sort"] ** 2 * t["h"]
    t = t.sort_values(["volume", "cell_sort", "h"], kind="stable")
    coarsest = _setting(t.iloc[-1], costs)
    ok = t[(t["ci_high"] < FEW) & ~(t["cell_km"].isna() & t["time_bin"].isna())]
    if ok.empty:
        return None, coarsest
    frontier = [
        _release_words(None if r.cell_sort == 0 else r.cell_sort, _bin(r.time_bin))
        for r in ok.itertuples()
        if not (
            ((ok["cell_sort"] <= r.cell_sort) & (ok["h"] <= r.h))
            & ((ok["cell_sort"] < r.cell_sort) | (ok["h"] < r.h))
        ).any()
    ]
    out = _setting(ok.iloc[0], costs)
    out["alternatives"] = [w for w in frontier if w != out["words"]]
    return out, coarsest


def _bin(value) -> str | None:
    return value if isinstance(value, str) else None


def _setting(row, costs: dict) -> dict:
    """A row of the coarsening table as a release: its unicity and what it costs in precision."""
    cell = None if pd.isna(row["cell_km"]) else float(row["cell_km"])
    tb = _bin(row["time_bin"])
    return {
        "cell_km": cell,
        "time_bin": tb,
        "hours": float(row["h"]),
        "unicity": float(row["unicity"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "n_targets": int(row["n_targets"]),
        "moved_km": float(costs["moved_km"][0.0 if cell is None else cell]),
        "shifted_minutes": float(costs["shifted_minutes"]["" if tb is None else tb]),
        "words": _release_words(cell, tb),
    }


def _moved_km(traces: pd.DataFrame, cell: float | None) -> float:
    """Mean distance (km) a record moves when snapped to the centre of its square."""
    return _move_sums(traces, [cell], [])["moved_km"][0.0 if cell is None else float(cell)]


def _move_sums(traces: pd.DataFrame, cells, bins, *, mean: bool = True) -> dict:
    """Per square size the distance records move to its centre, per slot the time to its start.

    Means over the records (or, ``mean=False``, sums, to add up over a file's parts).
    """
    n = max(len(traces), 1) if mean else 1
    x = traces["x_km"].to_numpy(dtype=np.float64)
    y = traces["y_km"].to_numpy(dtype=np.float64)
    moved = {}
    for c in cells:
        if c is None:
            moved[0.0] = 0.0
            continue
        c = float(c)
        dx = x - (np.floor(x / c) + 0.5) * c
        dy = y - (np.floor(y / c) + 0.5) * c
        moved[c] = float(np.hypot(dx, dy).sum() / n)
    shifted = {}
    if bins:
        s = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
        for b in bins:
            step = None if b is None else int(pd.Timedelta(b).total_seconds())
            shifted["" if b is None else b] = (
                0.0 if step is None else float((s % step).sum() / 60 / n)
            )
    return {"moved_km": moved, "shifted_minutes": shifted}


def release_costs(traces: pd.DataFrame, cells, bins) -> dict:
    """What each square size and time slot of the coarsening table costs, on average per record."""
    return _move_sums(traces, cells, bins)


def _release_words(cell, tb) -> str:
    space = "locations as recorded" if cell is None else f"{cell:g} km squares"
    slot = "times as recorded" if tb is None else f"{F.hours_label(_hours(tb))} time slots"
    return f"{space} and {slot}"


def _hours(tb) -> float:
    return pd.Timedelta(tb).total_seconds() / 3600.0


def read_places(path, *, projection=None) -> pd.DataFrame:
    """A public map of places (CSV or Parquet) as a ``places`` table in the traces' frame.

    Columns: ``kind`` and either ``x_km, y_km`` or ``lat, lon`` (also
    ``latitude``/``longitude``), projected like the traces (``projection``);
    ``name`` and ``place_id`` are optional, and so is ``sensitive``
    (true/false): without it, a place is sensitive when its kind is one of
    :data:`SENSITIVE_KINDS` (health, worship, legal aid, shelter, ...).
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such places file")
    try:
        if path.name.lower().endswith(".parquet"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable places file ({exc})".splitlines()[0]) from None
    df.columns = [str(c).strip() for c in df.columns]
    lower = {c.lower(): c for c in df.columns}
    if "kind" not in lower:
        hint = next((lower[c] for c in ("amenity", "type", "category") if c in lower), None)
        if hint is None:
            raise InputError(f"{path}: places need a kind column (health, worship, legal_aid, ...)")
        lower["kind"] = hint
    out = pd.DataFrame({"kind": df[lower["kind"]].astype(str).str.strip().str.lower()})

    def number(col):
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(v).all():
            i = int(np.argmax(~np.isfinite(v)))
            raise InputError(f"{path}: column {col} must be numeric (found {df[col].iloc[i]!r})")
        return v

    if "x_km" in lower and "y_km" in lower:
        out["x_km"], out["y_km"] = number(lower["x_km"]), number(lower["y_km"])
    else:
        lat = next((lower[c] for c in ("lat", "latitude") if c in lower), None)
        lon = next((lower[c] for c in ("lon", "lng", "longitude") if c in lower), None)
        if lat is None or lon is None:
            raise InputError(f"{path}: places need x_km,y_km or lat,lon columns")
        if projection is None:
            raise InputError(
                f"{path}: places in degrees need the traces in degrees too (to share a projection)"
            )
        out["x_km"], out["y_km"] = projection.forward(number(lat), number(lon))
    out["name"] = df[lower["name"]].astype(str) if "name" in lower else out["kind"]
    out["place_id"] = (
        pd.to_numeric(df[lower["place_id"]], errors="coerce").fillna(-1).astype(np.int64)
        if "place_id" in lower
        else np.arange(len(df), dtype=np.int64)
    )
    if "sensitive" in lower:
        s = df[lower["sensitive"]].astype(str).str.strip().str.lower()
        out["sensitive"] = s.isin(["true", "1", "yes"])
    else:
        out["sensitive"] = out["kind"].isin(SENSITIVE_KINDS)
    out = out[["place_id", "x_km", "y_km", "kind", "sensitive", "name"]]
    if not out["sensitive"].any():
        raise InputError(
            f"{path}: no sensitive place in it (kinds such as health, worship, legal_aid, "
            "shelter, or a sensitive column of true/false)"
        )
    return out


def sensitive_exposure(traces: pd.DataFrame, places: pd.DataFrame, *, gps: bool) -> pd.DataFrame:
    """How many devices show visits near sensitive places, by kind of place (never which devices).

    Parameters
    ----------
    traces : DataFrame
    places : DataFrame
        A public ``places`` table; its ``sensitive`` rows are searched.
    gps : bool
        Fixes located by GPS: a visit is a fix within 50 m of the place (with
        an accuracy of 50 m or better when the file states it). Otherwise the
        locations are antennas or cells: a visit is a record at the location
        nearest the place (weak evidence: everyone served there shows up).

    Returns
    -------
    DataFrame
        ``kind, n_devices, share, n_visits, n_places`` (one row per kind with
        a visit, then ``"any sensitive place"``), shares of all devices.
    """
    from fewpoints.attacks import sensitive_visits

    if gps and "accuracy_m" not in traces.columns:
        traces = traces.assign(accuracy_m=0.0)  # no stated accuracy: each fix taken as given
    elif not gps and "accuracy_m" in traces.columns:
        traces = traces.drop(columns="accuracy_m")
    visits = sensitive_visits(traces, places, radius_km=_GPS_KM)
    return _sensitive_table(visits, places, traces["device_id"].nunique())


def _sensitive_table(visits: pd.DataFrame, places: pd.DataFrame, n_all: int) -> pd.DataFrame:
    """Devices, visits and places visited per kind of sensitive place (and for any kind)."""
    rows = []
    for kind, g in visits.groupby("kind", sort=True):
        rows.append(
            {
                "kind": kind,
                "n_devices": int(g["device_id"].nunique()),
                "n_visits": int(len(g)),
                "n_places": int(g["place_id"].nunique()),
            }
        )
    rows.sort(key=lambda r: -r["n_devices"])
    rows.append(
        {
            "kind": "any sensitive place",
            "n_devices": int(visits["device_id"].nunique()),
            "n_visits": int(len(visits)),
            "n_places": int(visits["place_id"].nunique()),
        }
    )
    out = pd.DataFrame(rows)
    out["share"] = out["n_devices"] / n_all
    out["n_sensitive_places"] = int(places["sensitive"].sum())
    return out[["kind", "n_devices", "share", "n_visits", "n_places", "n_sensitive_places"]]


# ---------------------------------------------------------------------------
# the audit
# ---------------------------------------------------------------------------


def audit(
    traces: pd.DataFrame,
    *,
    source: str = "the file",
    places: pd.DataFrame | None = None,
    reading: dict | None = None,
    sizes: AuditSizes | None = None,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> Audit:
    """Measure the re-identification risk of a traces table, from the table alone.

    Parameters
    ----------
    traces : DataFrame
        The released data (``device_id, time, x_km, y_km``, and
        ``accuracy_m`` for GPS fixes), as :func:`fewpoints.schema.read_traces`
        reads a file. Times are local times: they decide what is night and
        what is a working day.
    source : str
        How the report names the data ("measured on ...").
    places : DataFrame, optional
        A public map of places (:func:`read_places`), for the sensitive visits.
    reading : dict, optional
        How the file was read (columns, time rule, time zone, projection),
        repeated in the report.
    sizes : AuditSizes, optional
    seed : int, default 0
        Seed of every random draw (the same seed, the same numbers).
    progress : callable, optional
        ``progress(stage, fraction)``.

    Returns
    -------
    Audit

    Notes
    -----
    Every analysis runs on the whole table. The attacks are those of the
    briefing: random points (de Montjoye et al. 2013) against the file as
    recorded and coarsened, the inferred home and work and the top places
    (Golle & Partridge 2009; Zang & Bolot 2011), nested subsets for the
    population (Farzanehfar et al. 2021), and proximity to sensitive places.
    """
    from fewpoints.anonymize import WeakTransformWarning
    from fewpoints.attacks import (
        HourlyVisits,
        PointIndex,
        anonymity_table,
        home_work,
        resolution_sweep,
        unicity_curve,
    )
    from fewpoints.briefing import attack_rng

    sizes = sizes or AuditSizes()
    report = progress or (lambda stage, fraction: None)
    seconds: dict[str, float] = {}
    check_auditable(traces, source=source)

    def step(name):
        report(name, 0.0)
        return time.perf_counter()

    def done(name, t0):
        seconds[name] = time.perf_counter() - t0
        report(name, 1.0)

    t0 = step("indexing the points")
    index = PointIndex.from_traces(traces)
    about = describe(traces, index, reading)
    done("indexing the points", t0)

    t0 = step("unicity against points known")
    ps = list(sizes.curve_points)
    ps = [4, *(p for p in ps if p != 4)] if 4 in ps else ps
    m = index.points_per_device()
    ps = [p for p in ps if (m >= p).any()]
    curve = unicity_curve(index, ps, n_targets=sizes.n_targets, rng=attack_rng(seed))
    curve = curve.sort_values("n_points", ignore_index=True)
    done("unicity against points known", t0)

    t0 = step("coarsening table")
    step_s = about["time_step"]
    bins = [b for b in sizes.sweep_bins if b is None or pd.Timedelta(b).total_seconds() > step_s]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakTransformWarning)
        sweep = resolution_sweep(
            traces.drop(columns=["antenna_id"], errors="ignore"),
            cell_km=list(sizes.sweep_cells),
            time_bin=bins,
            n_points=(sizes.sweep_points,),
            n_targets=sizes.n_targets,
            rng=attack_rng(seed),
        )
    costs = release_costs(traces, sizes.sweep_cells, bins)
    release, coarsest = _cheapest_release(sweep.table, costs, sizes.sweep_points)
    done("coarsening table", t0)

    t0 = step("home, work and top places")
    kind = about["locations"]
    radius = None if kind == "repeating" else _GPS_KM
    visits = HourlyVisits.from_traces(traces, cluster_km=radius)
    hw = home_work(visits)
    grans = (["antenna"] if radius is None else []) + list(sizes.granularities)
    table = anonymity_table(visits, n=(1, 2, 3), unordered=(), granularities=grans)
    if radius is None:
        table["granularity"] = table["granularity"].replace(
            {"antenna": "as recorded", "as recorded": "as recorded"}
        )
    homes = hw["home_x_km"].notna()
    works = hw["work_x_km"].notna()
    home_work_summary = {
        "n_devices": int(len(hw)),
        "homes": int(homes.sum()),
        "works": int(works.sum()),
        "both": int((homes & works).sum()),
        "median_home_support": float(hw["home_support"].median()) if homes.any() else None,
        "median_work_support": float(hw["work_support"].median()) if works.any() else None,
        "stay_point_km": radius,
    }
    del visits
    done("home, work and top places", t0)

    t0 = step("population bounds")
    population = population_bounds(
        index, n_targets=sizes.population_targets, rng=np.random.default_rng([seed, 3])
    )
    done("population bounds", t0)

    t0 = step("per-device risk")
    risk = per_device_risk(
        index,
        max_points=sizes.risk_points,
        n_targets=sizes.n_targets,
        rng=np.random.default_rng([seed, 5]),
    )
    done("per-device risk", t0)

    sensitive = None
    if places is not None:
        t0 = step("sensitive places")
        sensitive = sensitive_exposure(traces, places, gps=kind != "repeating")
        done("sensitive places", t0)
    return Audit(
        source=source,
        about=about,
        curve=curve,
        sweep=sweep,
        release=release,
        coarsest=coarsest,
        home_work=home_work_summary,
        anonymity=table,
        population=population,
        risk=risk,
        sensitive=sensitive,
        costs=costs,
        seconds=seconds,
        seed=seed,
        sizes=sizes,
    )


# ---------------------------------------------------------------------------
# figures: each finding with its title, caption and alt text, computed from the result
# ---------------------------------------------------------------------------


def _measured(a: Audit) -> str:
    return f"Measured on {a.source}"


def _labels(a: Audit) -> dict:
    """The words charts use for the file (instead of "synthetic city")."""
    return {
        "source": f"Measured on {a.source} - fewpoints audit",
        "series": f"{a.source} (measured)",
        "here": a.source if len(a.source) <= 24 else "This file",
        "recorded": "as recorded",
    }


def _about_words(a: Audit) -> str:
    ab = a.about
    return (
        f"{ab['n_devices']:,} devices and {ab['n_records']:,} records over {ab['days']:g} days "
        f"({ab['locations_words']}; times to {ab['time_step_words']})"
    )


def _fig_curve(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    c = a.curve
    at = c.set_index("n_points")
    u4 = at.loc[4]
    first, last = c.iloc[0], c.iloc[-1]
    two = f"; two single out {pct(at.loc[2, 'unicity'])}" if 2 in at.index else ""
    n_t = int(u4["n_targets"])
    if first["unicity"] >= 0.5 and u4["unicity"] - first["unicity"] < 0.01:
        title = (
            f"In {a.source}, a single point of a device's own trace (a place and a time to "
            f"{a.about['time_step_words']}) singles out {pct(first['unicity'])} of devices."
        )
    elif first["unicity"] >= 0.5:
        title = (
            f"In {a.source}, {int(first['n_points'])} point of a device's own trace already "
            f"singles out {pct(first['unicity'])} of devices, and 4 points "
            f"{pct(u4['unicity'])}."
        )
    else:
        title = (
            f"In {a.source}, 4 points of a device's own trace single out "
            f"{pct(u4['unicity'])} of devices."
        )
    return BriefingFigure(
        name="1-how-few-points",
        title=title,
        caption=(
            f"{_measured(a)}: each dot is the share of sampled devices whose known points "
            f"(a place and a time at the file's own precision, drawn at random from the "
            f"device's trace) match no other device among {_about_words(a)}. One point singles "
            f"out {pct(first['unicity'])}{two}; four single out {pct(u4['unicity'])} (95% "
            f"interval {pct(u4['ci_low'])} to {pct(u4['ci_high'])}, {n_t:,} devices "
            "sampled). Points are matched exactly, as an attacker who knows them to the "
            "file's precision would; figure 2 asks the same question of coarser versions of "
            "the file, as of an attacker who knows less. Published: on call records of 1.5 "
            "million people located "
            "at antennas, by the hour, de Montjoye et al. (2013) found 95% unique with 4 "
            "points (diamond)."
        ),
        alt=(
            f"Line chart of the share of devices singled out against the number of points "
            f"known, from {int(first['n_points'])} to {int(last['n_points'])}, measured on "
            f"{a.source}: {pct(first['unicity'])} with {int(first['n_points'])}, "
            f"{pct(u4['unicity'])} with four, {pct(last['unicity'])} with "
            f"{int(last['n_points'])}. A marker at 4 points shows the published 95%."
        ),
        headline=f"{pct(u4['unicity'])} of devices singled out by 4 points (as recorded)",
        draw=lambda ax: F.plot_unicity_curve(c, ax=ax),
        result=c,
        facts={"as recorded, 4 points": _fact(u4)},
    )


def _fact(row) -> dict:
    return {
        "unicity": float(row["unicity"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "n_targets": int(row["n_targets"]),
    }


def coarsening_table(a: Audit) -> pd.DataFrame:
    """The coarsening table as the report prints it: every setting with its unicity and its cost."""
    t = a.sweep.table
    t = t[t["n_points"] == a.sizes.sweep_points].copy()
    out = pd.DataFrame(
        {
            "cell_km": t["cell_km"].to_numpy(),
            "time_bin": t["time_bin"].to_numpy(),
            "hours": t["h"].to_numpy(),
            "unicity": t["unicity"].to_numpy(),
            "ci_low": t["ci_low"].to_numpy(),
            "ci_high": t["ci_high"].to_numpy(),
            "n_targets": t["n_targets"].to_numpy(),
            "under_10_percent": (t["ci_high"] < FEW).to_numpy(),
        }
    )
    out["setting"] = [
        _release_words(None if pd.isna(c) else c, b if isinstance(b, str) else None)
        for c, b in zip(out["cell_km"], out["time_bin"], strict=True)
    ]
    out["moved_km"] = out["cell_km"].fillna(0.0).map(a.costs["moved_km"]).astype(float)
    out["shifted_minutes"] = (
        out["time_bin"].fillna("").map(a.costs["shifted_minutes"]).astype(float)
    )
    return out


def plot_coarsening(table: pd.DataFrame, *, mark=None, few: float = FEW, ax=None):
    """The coarsening table as a grid: the share singled out at each square size x time slot.

    Parameters
    ----------
    table : DataFrame
        From :func:`coarsening_table`: ``cell_km`` (NaN: as recorded),
        ``time_bin`` (None: as recorded), ``unicity``, ``ci_low``, ``ci_high``.
    mark : (cell_km or None, time_bin or None), optional
        The setting to ring (the least coarsening under ``few``).
    few : float, default 0.10
        Settings whose 95% interval lies under this share are outlined.
    ax : Axes, optional

    Returns
    -------
    Axes
        Rows from the recorded locations (top) to the largest squares, columns
        from the recorded times to the longest slots; each cell says the share
        singled out, darker where more are.
    """
    from matplotlib.patches import Rectangle

    table = F.need_columns(
        table, ["cell_km", "time_bin", "unicity", "ci_low", "ci_high"], "plot_coarsening"
    )
    cells = list(dict.fromkeys(table["cell_km"].fillna(0.0)))
    bins = list(dict.fromkeys(table["time_bin"].fillna("")))
    cells.sort()
    bins.sort(key=lambda b: 0 if b == "" else pd.Timedelta(b).total_seconds())
    grid = np.full((len(cells), len(bins)), np.nan)
    high = np.full_like(grid, np.nan)
    for r in table.itertuples():
        i = cells.index(0.0 if pd.isna(r.cell_km) else r.cell_km)
        j = bins.index(r.time_bin if isinstance(r.time_bin, str) else "")
        grid[i, j], high[i, j] = r.unicity, r.ci_high
    ax = F.new_axes(ax)
    ax.imshow(grid, cmap="OrRd", vmin=0, vmax=1.25, aspect="auto", zorder=1)
    for i in range(len(cells)):
        for j in range(len(bins)):
            v = grid[i, j]
            if np.isnan(v):
                continue
            text = f"{v:.0%}" if v >= 0.005 or v == 0 else "<1%"
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    fontweight="bold" if high[i, j] < few else "normal",
                    color="white" if v > 0.6 else "#111111", zorder=3)  # fmt: skip
            if high[i, j] < few:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.2,
                                       ec=F.OKABE_ITO["blue"], ls="--", zorder=4))  # fmt: skip
    if mark is not None:
        i = cells.index(0.0 if mark[0] is None else float(mark[0]))
        j = bins.index(mark[1] or "")
        ax.add_patch(Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, lw=2.6,
                               ec="#111111", zorder=5, gid="marked"))  # fmt: skip
    ax.set_xticks(range(len(bins)))
    ax.set_xticklabels(["as recorded" if b == "" else F.hours_label(_hours(b)) for b in bins])
    ax.set_yticks(range(len(cells)))
    ax.set_yticklabels(["as recorded" if c == 0 else f"{c:g} km" for c in cells])
    ax.set_xlabel("Times floored to slots of")
    ax.set_ylabel("Locations snapped to squares of")
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=F.OKABE_ITO["blue"], ls="--", lw=1.2)]
    labels = [f"95% interval under {few:.0%} (bold)"]
    if mark is not None:
        handles.append(Line2D([], [], color="#111111", lw=2.6))
        labels.append(f"least coarsening under {few:.0%}")
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
              fontsize=8)  # fmt: skip
    F.source_line(ax)
    return ax


def _fig_coarsening(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    p = a.sizes.sweep_points
    r, c = a.release, a.coarsest
    raw = a.raw4
    if r is not None:
        alt_words = f" (or {r['alternatives'][0]})" if r["alternatives"] else ""
        title = (
            f"Only coarsened to {r['words']}{alt_words} do fewer than {FEW:.0%} of devices "
            f"stand out by {p} points ({pct(r['unicity'])}); locations then move "
            f"{r['moved_km']:.1f} km on average."
        )
        mark = (r["cell_km"], r["time_bin"])
        verdict = (
            f"The least coarsening tried whose 95% interval lies under {FEW:.0%} is {r['words']}: "
            f"{pct(r['unicity'])} singled out (95% interval {pct(r['ci_low'])} to "
            f"{pct(r['ci_high'])}). Its cost in precision: every location moved to the centre "
            f"of its square, {r['moved_km']:.2f} km from where it was on average, and every "
            f"time to the start of its slot, {r['shifted_minutes']:.0f} minutes earlier on "
            "average."
            + (
                f" Also under {FEW:.0%}, and not coarser in both space and time: "
                + "; ".join(r["alternatives"])
                + "."
                if r["alternatives"]
                else ""
            )
        )
    else:
        title = (
            f"No coarsening tried brings the share singled out by {p} points under {FEW:.0%}: "
            f"even {c['words']} single out {pct(c['unicity'])}."
        )
        mark = None
        verdict = (
            f"No setting tried, up to {c['words']}, brings it under {FEW:.0%}: the coarsest "
            f"still singles out {pct(c['unicity'])} (95% interval {pct(c['ci_low'])} to "
            f"{pct(c['ci_high'])})."
        )
    t = coarsening_table(a)
    cells = ", ".join(f"{v:g} km" for v in dict.fromkeys(t["cell_km"].dropna()))
    bins = ", ".join(F.hours_label(_hours(v)) for v in dict.fromkeys(t["time_bin"].dropna()))
    return BriefingFigure(
        name="2-coarsening",
        title=title,
        caption=(
            f"{_measured(a)}: the test of figure 1 with {p} points on coarser versions of the "
            f"file, locations snapped to the centres of squares ({cells}) and times floored "
            f"to slots ({bins}); each cell of the grid is one setting and the share of devices "
            f"it still singles out. As recorded, {p} points single out "
            f"{pct(raw['unicity'])}. {verdict} Published: on real call records, de Montjoye "
            "et al. (2013) found that unicity falls only about as the 1/10 power of the "
            "resolution. The table after this figure lists every setting with its interval "
            "and cost."
        ),
        alt=(
            f"Grid of the share of devices singled out by {p} points, with location squares "
            f"from as recorded to {cells.split(', ')[-1] if cells else 'as recorded'} down "
            f"the side and time slots from as recorded to "
            f"{bins.split(', ')[-1] if bins else 'as recorded'} across, measured on "
            f"{a.source}: {pct(raw['unicity'])} as recorded; "
            + (
                f"{pct(r['unicity'])} at {r['words']}, the least coarsening under {FEW:.0%}; "
                if r is not None
                else ""
            )
            + f"{pct(c['unicity'])} at the coarsest setting, {c['words']}."
        ),
        headline=(
            f"under {FEW:.0%} only at {r['words']} ({pct(r['unicity'])})"
            if r is not None
            else f"no coarsening tried gets under {FEW:.0%} ({pct(c['unicity'])} at {c['words']})"
        ),
        draw=lambda ax: plot_coarsening(t, mark=mark, ax=ax),
        result=t,
        facts={
            "as recorded, 4 points": _fact(t[t["cell_km"].isna() & t["time_bin"].isna()].iloc[0])
        }
        if p == 4
        else {},
    )


def _precision(granularity: str) -> str:
    """``at 0.5 km precision``, or ``with locations as recorded``."""
    if str(granularity).startswith("as recorded"):
        return "with locations as recorded"
    return f"at {granularity} precision"


def _fig_anonymity(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    table = a.anonymity
    hw = table[(table["measure"] == "home/work")].dropna(subset=["share_unique"])
    top2 = table[(table["measure"] == "top-2")].dropna(subset=["share_unique"])
    s = a.home_work
    grans = ", ".join(dict.fromkeys(table["granularity"]))
    if len(hw):
        fine, coarse = hw.iloc[0], hw.iloc[-1]
        title = (
            f"Home and work inferred from {a.source} single out {pct(fine['share_unique'])} "
            f"of devices {_precision(fine['granularity'])}, and "
            f"{pct(coarse['share_unique'])} {_precision(coarse['granularity'])}."
        )
        pair = (
            f"The home and work pair singles out {pct(fine['share_unique'])} of the "
            f"{int(fine['n_devices']):,} devices with both {_precision(fine['granularity'])} "
            f"(median {fine['median_set_size']:,.0f} device(s) per pair) and "
            f"{pct(coarse['share_unique'])} {_precision(coarse['granularity'])}"
        )
    else:
        title = f"No device in {a.source} has both a night-time and a weekday-daytime place."
        pair = "No device has both a home and a work place"
    t2 = (
        f"; the top 2 places, in order, single out {pct(top2.iloc[0]['share_unique'])} "
        f"{_precision(top2.iloc[0]['granularity'])}"
        if len(top2)
        else ""
    )
    tz = a.about.get("reading", {}).get("timezone", "the file's own time")
    stay = (
        f" GPS fixes are first clustered into stay points of {s['stay_point_km'] * 1000:.0f} m."
        if s.get("stay_point_km")
        else ""
    )
    return BriefingFigure(
        name="3-home-work",
        title=title,
        caption=(
            f"{_measured(a)}: each device's home is taken as the place it is seen at most "
            f"between 22:00 and 06:00, its work as the place other than home seen most on "
            f"weekdays 09:00-17:00 (local times read in {tz}), and its top places as those "
            f"seen in the most distinct hours.{stay} A home was found for {s['homes']:,} of "
            f"{s['n_devices']:,} devices and both a home and a work for {s['both']:,}. A "
            f"device is singled out when no other device has the same places at that "
            f"precision ({grans}). {pair}{t2}. Published: Golle and Partridge (2009) found a "
            "median of 1 person sharing a home/work pair at census-block level in the US; Zang "
            "and Bolot (2011) found that the top 2 or 3 places identify most phone users."
        ),
        alt=(
            f"Chart of the share of devices singled out by their top 1, 2 or 3 places or by "
            f"home and work, at precisions {grans}, measured on {a.source}. Home and work: "
            + (
                ", ".join(f"{pct(r.share_unique)} at {r.granularity}" for r in hw.itertuples())
                or "none found"
            )
            + "."
        ),
        headline=(
            f"{pct(hw.iloc[0]['share_unique'])} singled out by home and work "
            f"({hw.iloc[0]['granularity']})"
            if len(hw)
            else "no home/work pairs"
        ),
        draw=lambda ax: F.plot_anonymity_sets(table, ax=ax),
        result=table,
    )


def _fig_population(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    curve = a.population
    t, ex = curve.table, curve.extrapolation
    first, last = t.iloc[0], t.iloc[-1]
    ten = ex.iloc[0]
    far = ex.iloc[-1]
    falls = last["unicity"] < first["unicity"] - 0.05
    title = (
        f"A release larger than {a.source} would hide few more devices: the model gives "
        f"{pct(ten['model'])} singled out at {F.fmt_count(ten['n_devices'])} devices."
        if ten["model"] >= 0.5
        else f"In a release larger than {a.source}, the model gives "
        f"{pct(ten['model'])} singled out at {F.fmt_count(ten['n_devices'])} devices."
    )
    if abs(last["unicity"] - first["unicity"]) < 0.005:
        how = "stays"
    elif falls:
        how = "falls slowly" if last["unicity"] > 0.5 else "falls"
    else:
        how = "barely moves"

    def draw(ax):
        F.plot_population(curve, ax=ax)
        legend = ax.get_legend()
        for text in legend.get_texts() if legend is not None else []:
            if text.get_text().startswith("measured, synthetic"):
                text.set_text(f"measured on subsets of {a.source} (95% interval)")
        return ax

    return BriefingFigure(
        name="4-population",
        title=title,
        caption=(
            f"{_measured(a)}: the 4-point test in random subsets of the file's devices, "
            f"nested like a broker's growing market share: from "
            f"{F.fmt_count(first['n_devices'])} to {F.fmt_count(last['n_devices'])} "
            f"devices unicity {how}"
            + (
                f" at {pct(last['unicity'])}. "
                if how == "stays"
                else f", from {pct(first['unicity'])} to {pct(last['unicity'])}. "
            )
            + f"Beyond the file (shaded), a convex model of the form Farzanehfar et al. (2021) "
            f"proved, U(n) = E[(1 - P)^(n - 1)], with P drawn from a Beta distribution fitted "
            f"to these points (our choice of family), gives {pct(ten['model'])} at {F.fmt_count(ten['n_devices'])} "
            f"devices and {pct(far['model'])} at {F.fmt_count(far['n_devices'])}; the "
            f"straight line through the two largest subsets, a lower bound for any convex "
            f"curve, gives {pct(ten['lower_bound'])} and {pct(far['lower_bound'])}. Both "
            "are extrapolations from this file, not measurements: a larger release with "
            "other kinds of people or places may differ. Published: on real data, "
            "Farzanehfar et al. estimated 93% unique with 4 points among 60 million people "
            "(diamond)."
        ),
        alt=(
            f"Chart of the share singled out by 4 points against the number of devices (log "
            f"scale), measured on subsets of {a.source}: {pct(first['unicity'])} at "
            f"{F.fmt_count(first['n_devices'])} devices, {pct(last['unicity'])} at "
            f"{F.fmt_count(last['n_devices'])}; a dashed model continues to "
            f"{pct(far['model'])} at {F.fmt_count(far['n_devices'])}, a dotted lower bound "
            f"to {pct(far['lower_bound'])}. A diamond marks the published 93% at 60 million."
        ),
        headline=(
            f"{pct(ten['model'])} at {F.fmt_count(ten['n_devices'])} devices (model; lower "
            f"bound {pct(ten['lower_bound'])})"
        ),
        draw=draw,
        result=curve,
    )


def plot_risk(risk: pd.DataFrame, *, ax=None):
    """How the risk spreads: the share of devices the fewest points single out, as bars.

    Parameters
    ----------
    risk : DataFrame
        From :func:`per_device_risk`.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    risk = F.need_columns(
        risk, ["fewest_points", "label", "share", "ci_low", "ci_high"], "plot_risk"
    )
    ax = F.new_axes(ax)
    x = np.arange(len(risk))
    within = (risk["fewest_points"] >= 1) & (
        risk["fewest_points"] <= risk["fewest_points"].max() - 1
    )
    colours = np.where(within, F.OURS, F.FAINT)
    ax.bar(x, risk["share"], color=colours, width=0.7, zorder=3, gid="risk")
    ax.errorbar(
        x, risk["share"], yerr=F.error_bars(risk, "share"), ls="none", color="#333333",
        elinewidth=0.9, capsize=0, zorder=4,
    )  # fmt: skip
    labels = [
        str(k) if 1 <= k <= len(risk) - 2 else ("more" if k > 0 else "never")
        for k in risk["fewest_points"]
    ]
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    top = float(max(risk["ci_high"].max(), 0.05))
    F.percent_axis(ax, top=min(1.04, top * 1.25))
    ax.set_xlabel("Fewest random points of its own trace that single a device out")
    ax.set_ylabel("Devices (share of those sampled)")
    k2 = risk[risk["fewest_points"] == 2]
    if len(k2):
        ax.text(
            0.97, 0.95, f"{float(k2['cumulative'].iloc[0]):.0%} singled out\nby 2 points or fewer",
            transform=ax.transAxes, ha="right", va="top", fontsize=10, fontweight="bold",
            color="#111111", gid="headline", zorder=6,
        )  # fmt: skip
    F.source_line(ax)
    return ax


def _fig_risk(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    r = a.risk
    P = a.sizes.risk_points
    by = r.set_index("fewest_points")
    n = int(r["n_targets"].iloc[0])
    one = by.loc[1, "share"]
    two = by.loc[2, "cumulative"] if 2 in by.index else float("nan")
    four = by.loc[4, "cumulative"] if 4 in by.index else float("nan")
    more = by.loc[P + 1, "share"]
    never = by.loc[0, "share"]
    within = r[(r["fewest_points"] >= 1) & (r["fewest_points"] <= P)]
    median_k = None
    if within["n_devices"].sum():
        c = within["cumulative"].to_numpy()
        if c[-1] >= 0.5:
            median_k = int(within["fewest_points"].to_numpy()[np.argmax(c >= 0.5)])
    if one >= 0.5:
        title = (
            f"One random point of its own trace singles out {pct(one)} of the devices in "
            f"{a.source}; {pct(never + more)} are not singled out by {P}."
        )
    elif median_k is not None:
        title = (
            f"Half the devices in {a.source} stand out after {median_k} random points of "
            f"their own; {pct(never + more)} are not singled out by {P}."
        )
    else:
        title = f"Most devices in {a.source} are not singled out by {P} random points of their own."
    return BriefingFigure(
        name="5-per-device-risk",
        title=title,
        caption=(
            f"{_measured(a)}: for {n:,} devices drawn at random, their points are revealed "
            f"one by one in a random order until no other device's trace holds them all; "
            f"each bar is the share of devices that many points single out (with its 95% "
            f"interval). One point is enough for {pct(one)}, two or fewer for {pct(two)}, "
            f"four or fewer for {pct(four)}; {pct(more)} need more than {P}, and "
            f"{pct(never)} are never singled out because every point they have is shared "
            "(devices with few records). The report counts devices and never lists which: "
            "no device ID is in any file it writes."
        ),
        alt=(
            f"Bar chart of the share of devices singled out by each number of random points of "
            f"their own, from 1 to {P}, then more than {P}, then never, measured on "
            f"{a.source}: "
            + ", ".join(f"{pct(row.share)} {row.label}" for row in r.itertuples())
            + "."
        ),
        headline=f"{pct(two)} of devices singled out by 2 points or fewer",
        draw=lambda ax: plot_risk(r, ax=ax),
        result=r,
    )


def plot_sensitive(table: pd.DataFrame, *, ax=None):
    """Share of devices with a visit near each kind of sensitive place, as horizontal bars."""
    table = F.need_columns(table, ["kind", "share", "n_devices"], "plot_sensitive")
    ax = F.new_axes(ax)
    t = table.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(t))
    anyrow = t["kind"] == "any sensitive place"
    ax.barh(y, t["share"], color=np.where(anyrow, F.OKABE_ITO["vermillion"], F.OURS), height=0.6,
            zorder=3, gid="sensitive")  # fmt: skip
    for yi, (share, n) in enumerate(zip(t["share"], t["n_devices"], strict=True)):
        ax.text(share, yi, f"  {share:.0%} ({n:,})", va="center", fontsize=8.5)
    ax.set_yticks(y)
    ax.set_yticklabels([k.replace("_", " ") for k in t["kind"]])
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    F.percent_axis(ax, "x", top=min(1.0, float(t["share"].max()) * 1.35 + 0.02))
    ax.set_xlabel("Devices with at least one visit near such a place (share of all devices)")
    F.source_line(ax)
    return ax


def _fig_sensitive(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    t = a.sensitive
    anyrow = t[t["kind"] == "any sensitive place"].iloc[0]
    kinds = t[t["kind"] != "any sensitive place"]
    gps = a.about["locations"] != "repeating"
    how = (
        "a fix within 50 m of the place"
        + (" with an accuracy of 50 m or better" if a.about["locations"] == "gps" else "")
        if gps
        else "a record at the location nearest the place (the serving antenna or cell): weak "
        "evidence, since everyone served there shows up"
    )
    return BriefingFigure(
        name="6-sensitive-places",
        title=(
            f"{pct(anyrow['share'])} of the devices in {a.source} show a visit near a "
            "sensitive place (health, worship, legal aid, shelter)."
        ),
        caption=(
            f"{_measured(a)}, against the {int(anyrow['n_sensitive_places']):,} sensitive "
            f"places of the public places file: a visit is {how}, away from the device's own "
            f"inferred home and work. {int(anyrow['n_devices']):,} devices "
            f"({pct(anyrow['share'])}) show at least one, "
            + "; ".join(
                f"{int(r.n_devices):,} near {r.kind.replace('_', ' ')}" for r in kinds.itertuples()
            )
            + ". Once a device is singled out and named, each such visit is known about a "
            "person. A visit near a place is a lead, not proof."
        ),
        alt=(
            f"Horizontal bar chart of the share of devices with a visit near each kind of "
            f"sensitive place, measured on {a.source}: "
            + ", ".join(f"{r.kind.replace('_', ' ')} {pct(r.share)}" for r in t.itertuples())
            + "."
        ),
        headline=f"{pct(anyrow['share'])} of devices near a sensitive place",
        draw=lambda ax: plot_sensitive(t, ax=ax),
        result=t,
    )


def audit_figures(a: Audit) -> list:
    """The report's figures in reading order (:class:`fewpoints.briefing.BriefingFigure`)."""
    figs = [_fig_curve(a), _fig_coarsening(a), _fig_anonymity(a)]
    if a.population is not None:
        figs.append(_fig_population(a))
    if a.risk is not None:
        figs.append(_fig_risk(a))
    if a.sensitive is not None and len(a.sensitive):
        figs.append(_fig_sensitive(a))
    return figs


# ---------------------------------------------------------------------------
# the report: summary, limits, methods; report.html, report.pdf, audit.json
# ---------------------------------------------------------------------------


def summary_numbers(a: Audit, figs: Sequence) -> list:
    """The numbers that matter, each with its interval and what follows from it."""
    from fewpoints.briefing import KeyNumber, pct

    num = {f.name.split("-", 1)[0]: f"Figure {i}" for i, f in enumerate(figs, 1)}
    raw = a.raw4
    out = [
        KeyNumber(
            num["1"],
            "as recorded, 4 points",
            raw["unicity"],
            raw["ci_low"],
            raw["ci_high"],
            f"{pct(raw['unicity'])} of the devices in {a.source} are singled out by 4 "
            "places and times from their own trace",
            "Replacing names with advertising IDs does not make this file anonymous: a few "
            "sightings of a person (a photo, a post, a delivery, a meeting) pick out their "
            "device and with it the whole trace.",
        )
    ]
    r, c = a.release, a.coarsest
    if r is not None:
        out.append(
            KeyNumber(
                num["2"],
                f"coarsened to {r['words']}",
                r["unicity"],
                r["ci_low"],
                r["ci_high"],
                f"Only coarsened to {r['words']} would fewer than {FEW:.0%} be singled out by 4 "
                f"points ({pct(r['unicity'])}), at a cost of {r['moved_km']:.1f} km per "
                f"location and {r['shifted_minutes']:.0f} minutes per time on average",
                "Anyone asked to sign that this file is anonymized should weigh that cost: "
                + (
                    "blurring enough to protect removes much of what location data are bought "
                    "for (where a phone was, to the street and the hour)."
                    if r["moved_km"] >= 0.5 or r["hours"] >= 4
                    else "here a modest blur would protect, and the table says what it keeps."
                ),
            )
        )
    else:
        out.append(
            KeyNumber(
                num["2"],
                f"coarsest tried: {c['words']}",
                c["unicity"],
                c["ci_low"],
                c["ci_high"],
                f"No coarsening tried brings it under {FEW:.0%}: even {c['words']} single "
                f"out {pct(c['unicity'])} with 4 points",
                "Coarsening this file is not a way to release it safely; aggregate counts with "
                "a formal guarantee (differential privacy) are.",
            )
        )
    hw = a.anonymity[a.anonymity["measure"] == "home/work"].dropna(subset=["share_unique"])
    if len(hw):
        h = hw.iloc[0]
        out.append(
            KeyNumber(
                num["3"],
                f"home and work, {h['granularity']}",
                float(h["share_unique"]),
                float(h["ci_low"]),
                float(h["ci_high"]),
                f"The home and work inferred from the file single out "
                f"{pct(h['share_unique'])} of devices {_precision(h['granularity'])}",
                "A home and a workplace are what a public directory, a property record or a "
                "colleague knows: they turn a pseudonymous trace into a named person.",
            )
        )
    risk = a.risk.set_index("fewest_points") if a.risk is not None else pd.DataFrame()
    if 2 in risk.index:
        k = risk.loc[2]
        out.append(
            KeyNumber(
                num["5"],
                "2 points or fewer",
                float(k["cumulative"]),
                float(k["cumulative_low"]),
                float(k["cumulative_high"]),
                f"{pct(k['cumulative'])} of devices are singled out by at most 2 random "
                "points of their own",
                "The risk is not carried by a few unusual devices: it is the common case."
                if k["cumulative"] >= 0.5
                else "Most devices need more than 2 points, but those that stand out do so "
                "with little an acquaintance would not know.",
            )
        )
    return out


def limits(a: Audit) -> list[str]:
    """What the report cannot tell, in plain sentences computed from what was measured."""
    ab = a.about
    rd = ab.get("reading", {})
    tz = rd.get("timezone", "UTC")
    fig = {f.name.split("-", 1)[1]: f"figure {i}" for i, f in enumerate(audit_figures(a), 1)}
    bigger = (
        f"; {fig['population']} estimates how much that lowers the share (a model and a lower "
        "bound, not a measurement)."
        if "population" in fig
        else "; the population bounds were not measured by this engine."
    )
    out = [
        f"A sample of a larger release. Unicity is measured among the {ab['n_devices']:,} "
        "devices in this file. A broker's whole data hold more devices that might share a "
        "target's points" + bigger,
        f"Clock and accuracy errors. Points are compared exactly at the file's precision "
        f"(times to {ab['time_step_words']}; {ab['locations_words']}). An attacker rarely "
        "knows a moment to the second or a place to the metre, and clocks and GPS fixes "
        f"err; the coarsening table ({fig['coarsening']}) shows the share singled out by "
        "knowledge as "
        "coarse as whole hours and kilometres.",
        f"Local time. Night and working hours, which decide the inferred home and work, are "
        f"read in {tz}"
        + (
            " (the stated default: if the file's times are local to another zone, give it "
            "with --timezone)."
            if str(tz).upper() == "UTC"
            else "."
        ),
        "The attacker. The points known here are drawn at random from a device's trace. An "
        f"attacker who knows a person's routine (home, work, regular places: {fig['home-work']}) or "
        "picks the rarest points does at least as well.",
        "Singled out is not named. Naming a singled-out device needs outside data (an "
        "address, a post, a sighting); research has shown such data are often at hand "
        "(Golle and Partridge 2009; de Montjoye et al. 2013).",
        "No ground truth. The audit cannot check that an inferred home is right; it "
        "measures what the data let anyone infer.",
    ]
    proj = rd.get("projection")
    if proj:
        out.append(f"Distances. {proj}")
    if a.sensitive is not None:
        out.append(
            "Sensitive places. A fix near a place is not proof of a visit, and the places "
            "file may miss places or list them in the wrong spot."
        )
    return out


METHODS = (
    "Unicity. For a sample of devices, p points (a place and a time at the file's "
    "precision) are drawn at random from each device's own trace; a device is singled out "
    "when no other device's trace contains all p. The share is reported with a 95% Wilson "
    "interval over the sampled devices [demontjoye2013]. Every analysis runs on the whole "
    "file; the 4-point test of the file as recorded draws the same devices and points "
    "wherever it appears, so it is one number throughout.",
    "Coarsening. The same test on copies of the file with locations snapped to the centres "
    "of square cells and times floored to slots; the least coarsening is the setting whose "
    "released points say the most (the smallest square area times slot hours) among those "
    "whose 95% interval lies under 10%. Its cost is the mean distance a record moves to "
    "the centre of its square and the mean time it moves to the start of its slot.",
    "Home, work and top places. A device's places are ranked by the distinct hours it is "
    "seen there; home is the most frequent place between 22:00 and 06:00, work the most "
    "frequent other place on weekdays 09:00-17:00 [golle2009]; anonymity sets count the "
    "devices with the same places at a given precision [zang2011].",
    "Population. Unicity in nested random subsets of the devices, a convex model of the "
    "form proved by Farzanehfar et al. fitted to it, and their straight-line lower bound "
    "[farzanehfar2021].",
)

_REFERENCE_KEYS = ("demontjoye2013", "farzanehfar2021", "golle2009", "zang2011")


def _reading_rows(a: Audit) -> list[tuple[str, str]]:
    ab = a.about
    rd = ab.get("reading", {})
    rows = [
        ("File", a.source),
        ("Records", f"{ab['n_records']:,}"),
        ("Devices", f"{ab['n_devices']:,}"),
        ("Period", f"{ab['first']} to {ab['last']} ({ab['days']:g} days)"),
        (
            "Records per device",
            f"median {ab['points_per_device']['median']:,.0f}, mean "
            f"{ab['points_per_device']['mean']:,.1f}",
        ),
        ("Locations", ab["locations_words"]),
        ("Time step", ab["time_step_words"]),
    ]
    for key, label in (
        ("columns", "Columns recognised"),
        ("time", "Times"),
        ("timezone", "Time zone"),
        ("projection", "Projection"),
        ("dropped", "Dropped"),
    ):
        if rd.get(key):
            rows.append((label, str(rd[key])))
    rows.append(("Engine", a.engine))
    return rows


#: Print rules of the report on top of the briefing's (its footer names the file, not synthetic data).
def _css(a: Audit) -> str:
    from fewpoints.briefing import CSS

    footer = f"fewpoints audit · measured on {a.source}".replace('"', "'")
    return CSS + (
        "\ndl.read { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; "
        "font-size: .92rem; }\ndl.read dt { font-weight: bold; }\ndl.read dd { margin: 0; }\n"
        ".measured { border-left: 4px solid #D55E00; padding: .5rem .75rem; background: #fbf1ea; }\n"
        "@media screen { section.page { margin-top: 3.5rem; border-top: 1px solid #d0d0d0; "
        "padding-top: .5rem; } }\n"
        '@media print { @page { @bottom-left { content: "' + footer + '"; } } '
        "table.keep { break-before: auto; } }\n"
    )


def report_html(a: Audit, figs: Sequence, run, images: dict) -> str:
    """The whole report as one self-contained HTML page (figures inline, no network)."""
    import html

    from fewpoints.briefing import RESEARCH_SOURCES, cite, figure_html, pct

    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    refs = [(k, t) for k, t in RESEARCH_SOURCES if k in _REFERENCE_KEYS]
    numbers = {k: i for i, (k, _) in enumerate(refs, 1)}
    title = f"How identifying is {a.source}? A re-identification risk audit"
    measured = (
        f"Every number in this report is measured on {a.source}, by fewpoints {run.version} "
        f"on {run.date}, from the file alone: no ground truth, no simulated city. The audit "
        "ran on this machine and nothing was sent anywhere (fewpoints makes no network "
        "connection)."
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)} (fewpoints audit)</title>",
        '<meta name="author" content="fewpoints audit">',
        f'<meta name="description" content="{esc(measured)}">',
        '<meta name="keywords" content="location data, re-identification, unicity, audit">',
        f'<meta name="generator" content="fewpoints {esc(run.version)}">',
        f'<meta name="dcterms.created" content="{esc(run.date)}">',
        f"<style>{_css(a)}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#summary">Skip to the summary</a>',
        "<header>",
        f'<p class="kicker">fewpoints audit · measured on {esc(a.source)}</p>',
        f"<h1>{esc(title)}</h1>",
        "</header>",
        "<main>",
        '<section class="cover" aria-labelledby="file-h">',
        '<h2 id="file-h">What was audited</h2>',
        f'<p class="measured">{esc(measured)}</p>',
        "<p>The question: can a record without a name still point to one device, and so to "
        "one person? Each figure asks it as a buyer of the file could, with the file's own "
        "records.</p>",
        '<dl class="read">',
    ]
    for k, v in _reading_rows(a):
        parts += [f"<dt>{esc(k)}</dt>", f"<dd>{esc(v)}</dd>"]
    parts += ["</dl>", '<h3 id="figures-h">What the figures show</h3>', "<ol>"]
    parts += [f'<li><a href="#{esc(f.name)}">{esc(f.title)}</a></li>' for f in figs]
    parts += [
        "</ol>",
        f'<p class="run">fewpoints {esc(run.version)}, run on {esc(run.date)}. Reproduce '
        f"with <code>{esc(run.command)}</code>.</p>",
        "</section>",
        '<section class="page" id="summary" aria-labelledby="summary-h">',
        '<h2 id="summary-h">Summary: the numbers that matter</h2>',
        f"<p>Measured on {esc(a.source)}; each with its 95% interval.</p>",
        '<ol class="key">',
    ]
    by_number = {f"Figure {i}": f.name for i, f in enumerate(figs, 1)}
    for k in summary_numbers(a, figs):
        parts.append(
            f'<li><span class="value">{esc(pct(k.value))}</span>{esc(k.statement)} '
            f'({esc(k.interval())}; <a href="#{esc(by_number[k.figure])}">{esc(k.figure)}</a>).'
            f'<span class="follows">{esc(k.follows)}</span></li>'
        )
    parts += ["</ol>", "</section>"]
    for i, fig in enumerate(figs, 1):
        parts += figure_html(fig, i, images[fig.name])
        kind = fig.name.split("-", 1)[1]
        if kind == "coarsening":
            parts += _coarsening_rows(a, i, esc)
        elif kind == "per-device-risk":
            parts += _risk_rows(a, i, esc)
        elif kind == "sensitive-places":
            parts += _sensitive_rows(a, i, esc)
        parts.append("</section>")
    parts += [
        '<section class="page" id="limits" aria-labelledby="limits-h">',
        '<h2 id="limits-h">What this report cannot tell</h2>',
        "<ul>",
    ]
    for text in limits(a):
        head, _, rest = text.partition(". ")
        parts.append(f"<li><strong>{esc(head)}.</strong> {esc(rest)}</li>")
    parts += ["</ul>", '<h2 id="methods-h">Methods</h2>']
    parts += [f"<p>{cite(p, numbers)}</p>" for p in METHODS]
    parts += [
        f"<p>Reproduce. fewpoints {esc(run.version)}, run on {esc(run.date)}: "
        f"<code>{esc(run.command)}</code>. The same file and seed give the same numbers.</p>",
        '<h2 id="references-h">References</h2>',
        '<ol class="refs">',
    ]
    parts += [f'<li id="ref-{k}">{esc(t)}</li>' for k, t in refs]
    parts += ["</ol>", "</section>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _table(caption: str, head: list[str], rows: list[list[str]], esc, num: set[int]) -> list[str]:
    cls = {True: ' class="num"', False: ""}
    out = ['<table class="keep">', f"<caption>{esc(caption)}</caption>", "<thead><tr>"]
    out += [f'<th scope="col"{cls[j in num]}>{esc(h)}</th>' for j, h in enumerate(head)]
    out += ["</tr></thead>", "<tbody>"]
    for r in rows:
        cells = [f'<th scope="row">{esc(r[0])}</th>']
        cells += [f"<td{cls[j in num]}>{esc(v)}</td>" for j, v in enumerate(r[1:], 1)]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    return out


def _coarsening_rows(a: Audit, number: int, esc) -> list[str]:
    t = coarsening_table(a)
    rows = [
        [
            r.setting,
            f"{r.unicity:.1%}",
            f"{r.ci_low:.1%} to {r.ci_high:.1%}",
            f"{r.moved_km:.2f} km",
            f"{r.shifted_minutes:.0f} min",
            "yes" if r.under_10_percent else "",
        ]
        for r in t.itertuples()
    ]
    return _table(
        f"Table to figure {number}: every coarsening tried, measured on {a.source} "
        f"({a.sizes.sweep_points} random points; 95% intervals; cost: mean move of a record)",
        [
            "setting",
            "singled out",
            "95% interval",
            "location moved",
            "time moved",
            f"under {FEW:.0%}",
        ],  # fmt: skip
        rows,
        esc,
        {1, 2, 3, 4},
    )


def _risk_rows(a: Audit, number: int, esc) -> list[str]:
    rows = [
        [
            r.label,
            f"{r.n_devices:,}",
            f"{r.share:.1%}",
            f"{r.ci_low:.1%} to {r.ci_high:.1%}",
            "" if pd.isna(r.cumulative) else f"{r.cumulative:.1%}",
        ]
        for r in a.risk.itertuples()
    ]
    return _table(
        f"Table to figure {number}: devices by the fewest random points that single them out "
        f"(of {int(a.risk['n_targets'].iloc[0]):,} sampled; measured on {a.source})",
        ["fewest points", "devices", "share", "95% interval", "by this many or fewer"],
        rows,
        esc,
        {1, 2, 3, 4},
    )


def _sensitive_rows(a: Audit, number: int, esc) -> list[str]:
    rows = [
        [r.kind.replace("_", " "), f"{r.n_devices:,}", f"{r.share:.1%}", f"{r.n_places:,}"]
        for r in a.sensitive.itertuples()
    ]
    return _table(
        f"Table to figure {number}: devices with a visit near each kind of sensitive place "
        f"(measured on {a.source})",
        ["kind of place", "devices", "share of all devices", "places visited"],
        rows,
        esc,
        {1, 2, 3},
    )


def audit_json(a: Audit, figs: Sequence, run) -> dict:
    """Every number the report states, as data (no device is listed)."""
    from fewpoints.briefing import jsonable

    def records(df):
        return jsonable(df.to_dict(orient="records"))

    pop = a.population
    population = None
    if pop is not None:
        population = {
            "table": records(pop.table),
            "fit": jsonable(pop.fit),
            "extrapolation": records(pop.extrapolation),
            "model": "Beta model of Farzanehfar et al. (2021) fitted to nested random subsets; "
            "lower bound: the chord through the two largest subsets, continued",
        }
    out = {
        "run": {"command": run.command, "version": run.version, "date": run.date},
        "measured_on": a.source,
        "synthetic": False,
        "engine": a.engine,
        "seed": a.seed,
        "about": jsonable(a.about),
        "summary": [jsonable(vars(k)) for k in summary_numbers(a, figs)],
        "unicity": records(a.curve),
        "coarsening": {
            "few": FEW,
            "n_points": a.sizes.sweep_points,
            "release": jsonable(a.release),
            "coarsest": jsonable(a.coarsest),
            "table": records(coarsening_table(a)),
            "fit": records(a.sweep.fit),
        },
        "home_work": jsonable(a.home_work),
        "anonymity_sets": records(a.anonymity),
        "population": population,
        "per_device_risk": None if a.risk is None else records(a.risk),
        "sensitive_places": None if a.sensitive is None else records(a.sensitive),
        "limits": limits(a),
        "figures": [
            {
                "name": f.name,
                "title": f.title,
                "headline": f.headline,
                "caption": f.caption,
                "alt": f.alt,
                "facts": jsonable(f.facts),
            }  # fmt: skip
            for f in figs
        ],
        "seconds": jsonable(a.seconds),
    }
    return out


def _captions_md(a: Audit, figs: Sequence, command: str) -> str:
    lines = [
        f"# fewpoints audit of {a.source}: captions and alt text",
        "",
        f"Made with `{command}`. Every number is measured on {a.source}.",
        "",
        "## Summary: the numbers that matter",
        "",
    ]
    lines += [f"- {k.statement} ({k.interval()}; {k.figure}). {k.follows}"
              for k in summary_numbers(a, figs)]  # fmt: skip
    lines += [""]
    for i, fig in enumerate(figs, 1):
        lines += [
            f"## Figure {i}. {fig.title}",
            "",
            f"![{fig.alt}]({fig.name}.png)",
            "",
            fig.caption,
            "",
            f"**Alt text.** {fig.alt}",
            "",
            f"Files: `{fig.name}.png` (300 dpi), `{fig.name}.svg`, `{fig.name}.pdf`.",
            "",
        ]
    lines += ["## What this report cannot tell", ""]
    lines += [f"- {t}" for t in limits(a)]
    return "\n".join(lines) + "\n"


def write_audit(
    a: Audit,
    out,
    *,
    force: bool = False,
    command: str = "fewpoints audit",
    progress: Callable[[str, float], None] | None = None,
) -> list:
    """Write the audit report to folder ``out``; return the files written.

    Each figure as ``NAME.png`` (300 dpi), ``NAME.svg`` and ``NAME.pdf``,
    then ``captions.md``, ``audit.json`` (every number), ``report.html`` (one
    self-contained, accessible page) and ``report.pdf`` (the same page laid
    out for print by WeasyPrint, tagged PDF/UA), all written at once through
    the output writer: nothing half-written is ever seen, and an existing
    non-empty ``out`` is refused unless ``force``.
    """
    import json
    from pathlib import Path

    from matplotlib import pyplot as plt

    from fewpoints.briefing import RunInfo, briefing_pdf, pdf_renderer, picture
    from fewpoints.io import atomic_folder

    pdf_renderer()  # a missing PDF library is said before any work
    run = RunInfo.now(command)
    figs = audit_figures(a)
    out = Path(out)
    with atomic_folder(out, force=force) as tmp:
        images = {}
        with F.data_labels(**_labels(a)):
            for i, fig in enumerate(figs):
                if progress:
                    progress("writing figures", i / len(figs))
                mfig = fig.figure()
                F.save_figure(mfig, tmp / fig.name)
                plt.close(mfig)
                images[fig.name] = picture(fig, tmp / fig.name)
        if progress:
            progress("writing figures", 1.0)
            progress("writing report.html and report.pdf", 0.0)
        (tmp / "captions.md").write_text(_captions_md(a, figs, command), encoding="utf-8")
        (tmp / "audit.json").write_text(
            json.dumps(audit_json(a, figs, run), indent=1, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        page = report_html(a, figs, run, images)
        (tmp / "report.html").write_text(page, encoding="utf-8")
        briefing_pdf(tmp / "report.pdf", page)
        if progress:
            progress("writing report.html and report.pdf", 1.0)
        names = sorted(p.name for p in tmp.iterdir())
    return [out / n for n in names]


# ---------------------------------------------------------------------------
# reading a user's file (the reader's options; the reader itself is fewpoints' one reader)
# ---------------------------------------------------------------------------


def _reading_words(info: dict) -> dict:
    """How a file was read, in the words the report and the one line before the work use."""
    tz = info.get("timezone", "UTC")
    words = {
        "columns": info.get("columns_words", ""),
        "time": info.get("time", ""),
        "timezone": tz
        if str(tz).upper() != "UTC"
        else "UTC (the default: give the file's local zone with --timezone)",
    }
    proj = info.get("projection")
    if proj is not None:
        words["projection"] = proj.describe()
        words["projector"] = proj
    return words


def read_for_audit(path, *, columns=None, timezone="UTC", time_unit=None, dayfirst=None):
    """The file as a traces table (:func:`fewpoints.io.read_traces`), and how it was read."""
    from fewpoints.io import read_traces

    info: dict = {}
    traces = read_traces(
        path, columns=columns, timezone=timezone, time_unit=time_unit, dayfirst=dayfirst, info=info
    )
    check_device_ids(traces, source=str(path), column=info["columns"]["device_id"])
    return traces, _reading_words(info)


_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"


def check_device_ids(traces: pd.DataFrame, *, source: str, column: str = "device_id") -> None:
    """Refuse a column of device IDs that mixes kinds of ID (advertising IDs and others).

    A column where some IDs are advertising IDs (UUIDs) and others are not
    (numbers, names), or where whole numbers are written as decimals
    (``12.0``, as spreadsheets save them), is not one pseudonym per device.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pd.unique(traces["device_id"].astype(str))
    arr = pa.array(ids, type=pa.string())
    uuid = pc.match_substring_regex(arr, _UUID).to_numpy(zero_copy_only=False)
    if uuid.any() and not uuid.all():
        other = ids[np.argmax(~uuid)]
        first = ids[np.argmax(uuid)]
        raise InputError(
            f"{source}: column {column} mixes advertising IDs ({first!r}) with other IDs "
            f"({other!r}); one device should have one kind of ID: map the right column with "
            f"--columns device_id=COLUMN, or keep the rows of one kind"
        )
    decimal = pc.match_substring_regex(arr, r"^[+-]?\d+\.0+$").to_numpy(zero_copy_only=False)
    if decimal.any():
        raise InputError(
            f"{source}: column {column} holds whole numbers written as decimals ({ids[np.argmax(decimal)]!r}); "
            "the file was probably saved by a spreadsheet, which may also have rounded long IDs: "
            "export the IDs as text"
        )


def reading_line(path, traces, reading: dict) -> str:
    """The one line said before the work starts: what was recognised, and what was read."""
    tz = str(reading.get("timezone", "UTC")).split(" ")[0]
    parts = [
        f"read {path}: {reading.get('columns', '')}",
        f"times {reading.get('time', '')}, local time {tz}",
    ]
    proj = reading.get("projector")
    if proj is not None:
        ns, ew = ("N" if proj.lat0 >= 0 else "S"), ("E" if proj.lon0 >= 0 else "W")
        parts.append(
            f"degrees to km by an equal-area projection centred at {abs(proj.lat0):.0f}°{ns} "
            f"{abs(proj.lon0):.0f}°{ew}"
        )
    if isinstance(traces, pd.DataFrame):
        t = traces["time"]
        parts.append(
            f"{len(traces):,} records, {traces['device_id'].nunique():,} devices, "
            f"{t.min()} to {t.max()}"
        )
    else:  # a Dask table: counted as the work goes
        parts.append(f"{traces.npartitions:,} partitions (Dask engine)")
    return "; ".join(parts)


#: Memory the in-memory audit needs per record at its peak (the table, its index, the hourly
#: visits, a coarsened index; measured on the city world, benchmarks/README.md).
BYTES_PER_RECORD = 400


def _parquet_files(path) -> list:
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        return sorted(f for f in path.rglob("*.parquet") if not f.name.startswith((".", "_")))
    return [path] if path.name.lower().endswith(".parquet") else []


def estimate_records(path) -> int:
    """About how many records a file holds (exact for Parquet, from the size for CSV)."""
    from pathlib import Path

    files = _parquet_files(path)
    if files:
        import pyarrow.parquet as pq

        try:
            return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{path}: not a readable Parquet file ({exc})".splitlines()[0]
            ) from None
    size = Path(path).stat().st_size if Path(path).is_file() else 0
    per_row = 20 if str(path).lower().endswith(".gz") else 70  # bytes of CSV text per fix
    return size // per_row


def choose_engine(path, engine: str = "auto", *, available: int | None = None) -> str:
    """``memory`` or ``dask`` for a file: as asked, or (``auto``) by whether the audit fits.

    Raises
    ------
    InputError
        When the Dask engine is asked for (or needed) and the file is not
        Parquet, or the engine is not installed.
    """
    from pathlib import Path

    from fewpoints.io import available_memory

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if engine not in ("auto", "memory", "dask"):
        raise FewpointsError(f"unknown engine {engine!r}; choose auto, memory or dask")
    parquet = bool(_parquet_files(path))
    if engine == "auto":
        have = available_memory() if available is None else available
        need = estimate_records(path) * BYTES_PER_RECORD
        if have is None or need <= have:
            return "memory"
        if not parquet:
            raise InputError(
                f"{path}: auditing it in memory needs about {need / 1e9:.0f} GB and "
                f"{have / 1e9:.0f} GB is free; the Dask engine reads Parquet: convert the file "
                "(e.g. with pyarrow or DuckDB) and audit the Parquet file or folder"
            )
        engine = "dask"
    if engine == "dask":
        from fewpoints.attacks.dask_engine import require_dask

        require_dask()
        if not parquet:
            raise InputError(
                f"{path}: the Dask engine reads Parquet (a .parquet file or a folder of them); "
                "use --engine memory for CSV"
            )
    return engine


def read_for_audit_dask(path, *, columns=None, timezone="UTC", time_unit=None, dayfirst=None):
    """A Parquet file or folder as a lazy Dask table for :func:`audit_dask`, and how it is read.

    Read by the reader's rules (:func:`fewpoints.attacks.dask_engine.read_traces_dask`):
    the same column names, one time rule and one projection for the whole dataset.
    """
    from fewpoints.attacks.dask_engine import read_traces_dask

    info: dict = {}
    ddf = read_traces_dask(
        path, columns=columns, timezone=timezone, time_unit=time_unit, dayfirst=dayfirst, info=info
    )
    return ddf, _reading_words(info)


# ---------------------------------------------------------------------------
# the audit of a file larger than memory: the Dask engine, partition by partition
# ---------------------------------------------------------------------------


def _describe_partition(df: pd.DataFrame, cells, bins, max_locations: int) -> dict:
    """Pass 0 on one partition: its times, its locations, the cost sums of every coarsening."""
    if len(df) == 0:
        return {"n": 0}
    t = df["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    u = np.unique(t)
    xy = pd.DataFrame({"x": df["x_km"].to_numpy(np.float64) + 0.0,
                       "y": df["y_km"].to_numpy(np.float64) + 0.0}).drop_duplicates()  # fmt: skip
    return {
        "n": len(df),
        "t_min": int(u[0]),
        "t_max": int(u[-1]),
        "t_gcd": int(np.gcd.reduce(u - u[0])) if len(u) > 1 else 0,
        "n_locations": len(xy),
        "locations": xy if len(xy) <= max_locations else None,
        "accuracy": "accuracy_m" in df.columns,
        "sums": _move_sums(df, cells, bins, mean=False),
    }


def _describe_dask(ddf, cells, bins, progress) -> dict:
    """The file's time range and step, its locations, and the costs of each coarsening (one pass)."""
    from fewpoints.attacks.dask_engine import compute_tasks as compute
    from fewpoints.attacks.dask_engine import require_dask

    dask = require_dask()
    parts = compute(
        [dask.delayed(_describe_partition)(p, cells, bins, 2_000_000) for p in ddf.to_delayed()],
        "pass 0: describing the file",
        progress,
    )
    parts = [p for p in parts if p["n"]]
    if not parts:
        raise InputError("the traces table is empty")
    n = sum(p["n"] for p in parts)
    t0 = min(p["t_min"] for p in parts)
    step = int(np.gcd.reduce([p["t_gcd"] for p in parts] + [p["t_min"] - t0 for p in parts]))
    locs = [p["locations"] for p in parts]
    if all(v is not None for v in locs):
        locations = pd.concat(locs, ignore_index=True).drop_duplicates(ignore_index=True)
        n_loc = len(locations)
    else:
        locations, n_loc = None, sum(p["n_locations"] for p in parts)  # an upper bound
    costs = {"moved_km": {}, "shifted_minutes": {}}
    for key in costs:
        for k in parts[0]["sums"][key]:
            costs[key][k] = sum(p["sums"][key][k] for p in parts) / n
    return {
        "n_records": n,
        "first": t0,
        "last": max(p["t_max"] for p in parts),
        "time_step": max(step, 1),
        "n_locations": int(n_loc),
        "locations": locations,
        "accuracy": any(p["accuracy"] for p in parts),
        "costs": costs,
    }


def _hw_partition(df: pd.DataFrame, radius, grans, ns) -> pd.DataFrame:
    """Each device's home, work and top places at every granularity, as coordinates (one partition).

    The same computation as :func:`fewpoints.attacks.anonymity_table` on the
    partition's devices (whole in it): home and work found at the finest
    level and placed in their cell; the top places ranked on the visits
    coarsened to each cell. Coordinates (cell centres, or locations as
    recorded) compare across partitions as the codes do within one table.
    """
    from fewpoints.attacks.top_locations import (
        HourlyVisits,
        home_work_codes,
        ranked_places,
        resolve_granularity,
    )

    visits = HourlyVisits.from_traces(df, cluster_km=radius)
    home, home_support, work, work_support = home_work_codes(visits)
    out = {"device_id": pd.array(visits.device_ids, dtype="string[pyarrow]")}
    out["has_home"] = home >= 0
    out["has_work"] = work >= 0
    out["home_support"], out["work_support"] = home_support, work_support
    n_dev = visits.n_devices
    for g in grans:
        label, mapping = resolve_granularity(g, visits, None, None)
        if mapping is None:
            at = visits
            unit_x, unit_y, unit = visits.loc_x, visits.loc_y, np.arange(visits.n_locations)
        else:
            unit, unit_x, unit_y = mapping
            at = visits.coarsen(unit, unit_x, unit_y, label)
        for name, code in (("home", home), ("work", work)):
            u = unit[np.maximum(code, 0)]
            out[f"{label}|{name}_x"] = np.where(code >= 0, unit_x[u], np.nan)
            out[f"{label}|{name}_y"] = np.where(code >= 0, unit_y[u], np.nan)
        pairs = at.location_hours(windows=False)
        order, rank = ranked_places(pairs, n_dev)
        out[f"{label}|n_loc"] = np.bincount(pairs.dev, minlength=n_dev)
        for k in range(max(ns)):
            sel = order[rank == k]
            x = np.full(n_dev, np.nan)
            y = np.full(n_dev, np.nan)
            x[pairs.dev[sel]] = at.loc_x[pairs.loc[sel]]
            y[pairs.dev[sel]] = at.loc_y[pairs.loc[sel]]
            out[f"{label}|top{k + 1}_x"], out[f"{label}|top{k + 1}_y"] = x, y
    return pd.DataFrame(out)


def _set_sizes(cols: list[np.ndarray]) -> np.ndarray:
    """How many rows equal each row of the columns (exact float keys)."""
    codes = [pd.factorize(c + 0.0)[0].astype(np.int64) for c in cols]
    key = pd.MultiIndex.from_arrays(codes)
    inv, uniq = pd.factorize(key)
    return np.bincount(inv)[inv]


def _anonymity_rows(keys: pd.DataFrame, labels: list[str], ns) -> tuple[pd.DataFrame, dict]:
    """:func:`fewpoints.attacks.anonymity_table` rows from the per-device keys of every partition."""
    from fewpoints.attacks.result import wilson_interval
    from fewpoints.attacks.top_locations import TABLE_COLUMNS

    rows = []

    def row(measure, label, sizes):
        if len(sizes) == 0:
            nan = float("nan")
            return dict(zip(TABLE_COLUMNS, [measure, label, nan, nan, nan, nan, 0], strict=True))
        k = int((sizes == 1).sum())
        lo, hi = wilson_interval(k, len(sizes))
        return {"measure": measure, "granularity": label, "share_unique": k / len(sizes),
                "ci_low": lo, "ci_high": hi, "median_set_size": float(np.median(sizes)),
                "n_devices": int(len(sizes))}  # fmt: skip

    both = (keys["has_home"] & keys["has_work"]).to_numpy()
    for label in labels:
        for n in ns:
            ok = (keys[f"{label}|n_loc"] >= n).to_numpy()
            cols = []
            for k in range(n):
                cols += [keys[f"{label}|top{k + 1}_x"].to_numpy()[ok],
                         keys[f"{label}|top{k + 1}_y"].to_numpy()[ok]]  # fmt: skip
            rows.append(row(f"top-{n}", label, _set_sizes(cols) if ok.any() else np.empty(0)))
        cols = [keys[f"{label}|{w}_{c}"].to_numpy()[both] for w in ("home", "work") for c in "xy"]
        rows.append(row("home/work", label, _set_sizes(cols) if both.any() else np.empty(0)))
    summary = {
        "n_devices": int(len(keys)),
        "homes": int(keys["has_home"].sum()),
        "works": int(keys["has_work"].sum()),
        "both": int(both.sum()),
    }
    for w in ("home", "work"):
        has = keys[f"has_{w}"].to_numpy()
        summary[f"median_{w}_support"] = (
            float(np.median(keys[f"{w}_support"].to_numpy()[has])) if has.any() else None
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS), summary


def _dask_risk(ddf, counts, max_points: int, n_targets: int, rng, progress) -> pd.DataFrame:
    """:func:`per_device_risk` by the Dask engine: the same draws, two passes over the data.

    Pass 2 fetches every sampled device's revealed points; pass 3 broadcasts,
    for each device and each number p of points revealed, its first p points,
    and counts the devices holding all of them (the engine's broadcast join).
    """
    from fewpoints.attacks.dask_engine import (
        FETCH_META,
        MATCH_META,
        compute_tasks,
        fetch_partition,
        match_frame,
        per_partition,
        require_dask,
    )

    dask = require_dask()
    P = int(max_points)
    targets, m, ranks = _risk_draws(counts.points_per_device(), P, n_targets, rng)
    n = len(targets)
    want = pd.DataFrame({"device_id": pd.Series(np.repeat(counts.ids(targets), P), dtype=str),
                         "rank": ranks.ravel()})  # fmt: skip
    want["request"] = np.arange(len(want), dtype=np.int64)
    got = compute_tasks(
        per_partition(ddf, fetch_partition, dask.delayed(want, pure=True), meta=FETCH_META),
        "per-device risk: revealed points",
        progress,
    )
    got = pd.concat(got, ignore_index=True).sort_values("request")
    if len(got) != len(want):
        raise FewpointsError(
            "the traces changed while they were read (a device's points are missing)"
        )
    x = got["x"].to_numpy().reshape(n, P)
    y = got["y"].to_numpy().reshape(n, P)
    t = got["t"].to_numpy().reshape(n, P)
    # One group per (device, p) with m >= p: its first p points.
    rows_of, p_of, occ_group, occ_x, occ_y, occ_t = [], [], [], [], [], []
    g0 = 0
    for p in range(1, P + 1):
        rows = np.flatnonzero(m >= p)
        rows_of.append(rows)
        p_of.append(np.full(len(rows), p))
        occ_group.append(np.repeat(np.arange(g0, g0 + len(rows)), p))
        occ_x.append(x[rows, :p].ravel())
        occ_y.append(y[rows, :p].ravel())
        occ_t.append(t[rows, :p].ravel())
        g0 += len(rows)
    rows_of, p_of = np.concatenate(rows_of), np.concatenate(p_of)
    owner = np.concatenate(occ_group)
    pts = pd.DataFrame({"x": np.concatenate(occ_x), "y": np.concatenate(occ_y),
                        "t": np.concatenate(occ_t)})  # fmt: skip
    pid, uniq = pd.factorize(pd.MultiIndex.from_frame(pts))
    order = np.argsort(pid, kind="stable")
    offsets = np.zeros(len(uniq) + 1, dtype=np.int64)
    np.cumsum(np.bincount(pid, minlength=len(uniq)), out=offsets[1:])
    known = {
        "x": uniq.get_level_values(0).to_numpy(dtype=np.float64),
        "y": uniq.get_level_values(1).to_numpy(dtype=np.float64),
        "t": uniq.get_level_values(2).to_numpy(dtype=np.int64),
        "offsets": offsets,
        "targets": owner[order].astype(np.int64),
        "need": p_of.astype(np.int64),
    }
    hits = compute_tasks(
        per_partition(ddf, match_frame, dask.delayed(known, pure=True), meta=MATCH_META),
        "per-device risk: matching",
        progress,
    )
    hits = pd.concat(hits, ignore_index=True) if hits else MATCH_META
    sizes = np.bincount(hits["target"].to_numpy(), weights=hits["holders"].to_numpy(),
                        minlength=g0).astype(np.int64)  # fmt: skip
    first = np.zeros(n, dtype=np.int64)
    for p in range(1, P + 1):  # the fewest p: groups in order of p
        sel = (p_of == p) & (sizes == 1)
        rows = rows_of[sel]
        first[rows[first[rows] == 0]] = p
    return _risk_table(first, m, P)


def _sensitive_partition(df: pd.DataFrame, places: pd.DataFrame, antennas, gps: bool):
    from fewpoints.attacks import sensitive_visits

    if len(df) == 0:
        return pd.DataFrame({"kind": [], "device_id": [], "place_id": []})
    if gps and "accuracy_m" not in df.columns:
        df = df.assign(accuracy_m=0.0)
    elif not gps and "accuracy_m" in df.columns:
        df = df.drop(columns="accuracy_m")
    v = sensitive_visits(df.assign(device_id=df["device_id"].astype(str)), places,
                         radius_km=_GPS_KM, antennas=antennas)  # fmt: skip
    return v[["kind", "device_id", "place_id"]]


def audit_dask(ddf, **kwargs) -> Audit:
    """:func:`audit` on a Dask DataFrame (a file larger than memory); see :func:`_audit_dask`."""
    import warnings

    with warnings.catch_warnings():
        # The targets' known points travel with the task graph on purpose (a broadcast join).
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        return _audit_dask(ddf, **kwargs)


def _audit_dask(
    ddf,
    *,
    source: str = "the file",
    places: pd.DataFrame | None = None,
    reading: dict | None = None,
    sizes: AuditSizes | None = None,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> Audit:
    """:func:`audit` on a Dask DataFrame (a file larger than memory), partition by partition.

    The same seed gives the same targets, points and numbers as :func:`audit`
    on the table in memory: the unicity curve and the coarsening table by
    the Dask engine's three passes (:func:`fewpoints.attacks.dask_engine.dask_unicity`)
    with the in-memory engine's draws; home, work and top places per device
    in each partition (every device is whole in one), their anonymity sets
    counted on the client; the costs of coarsening and the description of
    the file in one more pass. Each device must be in one partition (as
    ``fewpoints generate --chunk-people`` writes them).
    """
    from fewpoints.attacks.dask_engine import (
        coarsen_dask,
        compute_tasks,
        dask_unicity,
        require_dask,
        select_columns,
    )
    from fewpoints.attacks.resolution import ResolutionSweep
    from fewpoints.attacks.result import curve_row
    from fewpoints.briefing import attack_rng

    dask = require_dask()
    sizes = sizes or AuditSizes()
    report = progress or (lambda stage, fraction: None)
    seconds: dict[str, float] = {}
    has_accuracy = "accuracy_m" in ddf.columns
    cols = ["device_id", "time", "x_km", "y_km"] + (["accuracy_m"] if has_accuracy else [])
    ddf = ddf[cols]

    t0 = time.perf_counter()
    d = _describe_dask(ddf, list(sizes.sweep_cells), list(sizes.sweep_bins), report)
    seconds["describing the file"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ps = list(sizes.curve_points)
    ps = [4, *(p for p in ps if p != 4)] if 4 in ps else ps
    results, counts = dask_unicity(
        select_columns(ddf), ps, n_targets=sizes.n_targets, rng=attack_rng(seed), progress=report
    )
    if counts.n_devices < MIN_DEVICES:
        raise InputError(
            f"{source}: column device_id holds {counts.n_devices:,} device(s); an audit needs "
            f"at least {MIN_DEVICES}"
        )
    curve = pd.DataFrame([curve_row(r) for r in results])
    curve = curve.sort_values("n_points", ignore_index=True)
    seconds["unicity against points known"] = time.perf_counter() - t0

    per_device = counts.points_per_device()
    kind = (
        "repeating"
        if d["n_locations"] <= _REPEATING * d["n_records"]
        else ("gps" if d["accuracy"] else "gps-like")
    )
    about = {
        "n_records": int(d["n_records"]),
        "n_devices": int(counts.n_devices),
        "n_points": int(per_device.sum()),
        "n_locations": int(d["n_locations"]),
        "first": str(pd.Timestamp(d["first"], unit="s")),
        "last": str(pd.Timestamp(d["last"], unit="s")),
        "days": round((d["last"] - d["first"]) / 86_400, 1),
        "locations": kind,
        "locations_words": LOCATION_WORDS[kind],
        "time_step": int(d["time_step"]),
        "time_step_words": _step_words(int(d["time_step"])),
        "points_per_device": {
            "median": float(np.median(per_device)),
            "mean": float(per_device.mean()),
            "p99": float(np.percentile(per_device, 99)),
        },
        "reading": {k: v for k, v in (reading or {}).items() if k != "projector"},
    }

    t0 = time.perf_counter()
    step_s = about["time_step"]
    bins = [b for b in sizes.sweep_bins if b is None or pd.Timedelta(b).total_seconds() > step_s]
    rng = attack_rng(seed)
    rows = []
    settings_ = [(c, b) for c in sizes.sweep_cells for b in bins]
    for i, (c, b) in enumerate(settings_, 1):
        stage = f"coarsening {i}/{len(settings_)}: {_release_words(c, b)}"
        part = (
            select_columns(ddf)
            if c is None and b is None
            else coarsen_dask(select_columns(ddf), cell_km=c, time_bin=b)
        )
        res, _ = dask_unicity(part, [sizes.sweep_points], n_targets=sizes.n_targets, rng=rng,
                              progress=lambda s, f, stage=stage: report(stage, f))  # fmt: skip
        h = step_s / 3600.0 if b is None else _hours(b)
        rows.append({"cell_km": np.nan if c is None else float(c), "merge_v": np.nan,
                     "time_bin": b, "v": np.nan, "h": h, **curve_row(res[0])})  # fmt: skip
    table = pd.DataFrame(rows)
    table["fitted"] = np.nan
    sweep = ResolutionSweep(table=table, fit=pd.DataFrame(
        [{"n_points": sizes.sweep_points, "alpha": np.nan, "beta": np.nan, "rmse": np.nan,
          "halving_drop": np.nan}]))  # fmt: skip
    costs = {
        "moved_km": {(0.0 if c is None else float(c)): d["costs"]["moved_km"][0.0 if c is None else float(c)]
                     for c in sizes.sweep_cells},
        "shifted_minutes": {("" if b is None else b): d["costs"]["shifted_minutes"]["" if b is None else b]
                            for b in bins},
    }  # fmt: skip
    release, coarsest = _cheapest_release(table, costs, sizes.sweep_points)
    seconds["coarsening table"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    risk = _dask_risk(select_columns(ddf), counts, sizes.risk_points, sizes.n_targets,
                      np.random.default_rng([seed, 5]), report)  # fmt: skip
    seconds["per-device risk"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    radius = None if kind == "repeating" else _GPS_KM
    grans = (["antenna"] if radius is None else []) + list(sizes.granularities)
    ns = (1, 2, 3)
    frames = compute_tasks(
        [dask.delayed(_hw_partition)(p, radius, grans, ns) for p in ddf.to_delayed()],
        "home, work and top places",
        report,
    )
    keys = pd.concat(frames, ignore_index=True)
    del frames
    labels = [("antenna" if "antenna_id" in ddf.columns else "as recorded") if g == "antenna"
              else f"{float(g):g} km" for g in grans]  # fmt: skip
    anonymity, hw = _anonymity_rows(keys, labels, ns)
    del keys
    hw["stay_point_km"] = radius
    anonymity["granularity"] = anonymity["granularity"].replace({"antenna": "as recorded"})
    seconds["home, work and top places"] = time.perf_counter() - t0

    sensitive = None
    if places is not None:
        t0 = time.perf_counter()
        antennas = None
        if kind == "repeating" and d["locations"] is not None:
            loc = d["locations"]
            antennas = pd.DataFrame({"antenna_id": np.arange(len(loc)), "x_km": loc["x"].to_numpy(),
                                     "y_km": loc["y"].to_numpy()})  # fmt: skip
        parts = compute_tasks(
            [
                dask.delayed(_sensitive_partition)(p, places, antennas, kind != "repeating")
                for p in ddf.to_delayed()
            ],  # fmt: skip
            "sensitive places",
            report,
        )
        v = pd.concat(parts, ignore_index=True)
        sensitive = _sensitive_table(v, places, counts.n_devices)
        seconds["sensitive places"] = time.perf_counter() - t0

    return Audit(
        source=source,
        about=about,
        curve=curve,
        sweep=sweep,
        release=release,
        coarsest=coarsest,
        home_work=hw,
        anonymity=anonymity,
        population=None,
        risk=risk,
        sensitive=sensitive,
        costs=costs,
        seconds=seconds,
        engine="dask",
        seed=seed,
        sizes=sizes,
    )
