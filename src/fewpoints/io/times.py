"""One rule for a column of times: :func:`parse_times`.

Datetimes as Parquet stores them, Unix seconds or milliseconds, ISO 8601
text with or without a UTC offset, or day/month/year text: the whole column
is read by one rule, decided from the column itself or from the reading
options (:func:`check_read_options`), and anything that breaks it is refused
in one line naming the first value, its line and the fix.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from fewpoints.io.messages import first, row, show
from fewpoints.schema import TIME_UNIT, InputError

#: The forms of text time this reader accepts (the whole column in one form).
_NAIVE_ISO = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?$"
_OFFSET_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)$"
_DMY = (
    r"^(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
_TIME_ONLY = r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"
_NUMBER = r"^[+-]?\d+(\.\d*)?$"
#: Unix times a column is taken for without being told the unit: 2000-01-01 to 2100-01-01.
_UNIX_RANGE = {"s": (946_684_800, 4_102_444_800), "ms": (946_684_800_000, 4_102_444_800_000)}
_FORMS = (
    "ISO 8601 like 2026-03-02 08:15:00 (or 2026-03-02T08:15:00+01:00), DD/MM/YYYY HH:MM, "
    "or Unix seconds or milliseconds"
)


def _tz(timezone: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(
            f"unknown time zone {timezone!r}; give a name like UTC or Europe/Paris"
        ) from None


def check_read_options(time_unit, dayfirst, timezone, where: str) -> None:
    """Refuse reading options that are not options, before anything is read."""
    if time_unit not in (None, "s", "ms"):
        raise InputError(f"{where}: time_unit must be 's' or 'ms', got {time_unit!r}")
    if dayfirst not in (None, True, False):
        raise InputError(f"{where}: dayfirst must be True, False or None, got {dayfirst!r}")
    if str(timezone).upper() != "UTC":
        try:
            _tz(timezone)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None


def _to_local(utc_seconds: np.ndarray, timezone: str) -> np.ndarray:
    """Instants (datetime64[s], UTC) as wall-clock times in ``timezone`` (naive datetime64[s])."""
    if str(timezone).upper() == "UTC":
        return utc_seconds
    tz = _tz(timezone)
    local = pd.DatetimeIndex(utc_seconds).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    return local.to_numpy().astype(TIME_UNIT)


def parse_times(
    values,
    *,
    what: str = "column time",
    time_unit: str | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    first_line: int | None = None,
    rule: dict | None = None,
) -> np.ndarray:
    """Read a column of times by one rule for the whole column; return naive ``datetime64[s]``.

    The rule, the same for every file:

    - **datetimes** (as Parquet stores them): naive ones are local times as
      they stand; ones with a time zone are converted to ``timezone``;
    - **numbers** (or text that is only digits): Unix times, which are UTC,
      converted to ``timezone``; in seconds or milliseconds as ``time_unit``
      says, or without it when every value lies between 2000 and 2100 in
      exactly one of the two units;
    - **ISO 8601 text**: ``YYYY-MM-DD``, optionally followed by ``T`` or a
      space and ``HH``, ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.fff``; either
      every value carries a UTC offset (``Z``, ``+01``, ``+0100``,
      ``+01:00``) and is converted to ``timezone``, or none does and each is
      a local time as written;
    - **day/month/year text** (``05/03/2026 08:15``, with ``/``, ``.`` or
      ``-``): the whole column day-first or month-first, as ``dayfirst``
      says, or as the values show (a first number above 12 means day-first,
      a second one above 12 month-first); a column where both readings fit
      every value is refused, since 05/03 may be 5 March or 3 May.

    Anything else is refused, naming the first value that breaks the rule: a
    time without a date (never given today's date), an impossible date,
    missing times, a column mixing forms. Fractions of a second are dropped.

    Parameters
    ----------
    values : pyarrow array, pandas Series or array-like
    what : str
        How to name the column in messages.
    time_unit : {"s", "ms"}, optional
        The unit of Unix times.
    dayfirst : bool, optional
        For day/month/year text: True for day-first, False for month-first.
    timezone : str, default "UTC"
        The local time zone the times are given in (an IANA name).
    first_line : int, optional
        The file line of the first value (2 for a CSV file with a header);
        messages then name lines, else rows.
    rule : dict, optional
        Filled with how the column was read: ``form`` (plain words, e.g.
        "Unix seconds (UTC)"), and ``time_unit`` or ``dayfirst`` where they
        were decided, so that the parts of a file can be read by the same rule.

    Raises
    ------
    InputError
        One line naming the problem, the line and the fix.
    """
    import pyarrow as pa

    rule = {} if rule is None else rule
    check_read_options(time_unit, dayfirst, timezone, what)
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if arr.null_count:
        raise InputError(f"{what} has {arr.null_count:,} missing time(s)")
    if pa.types.is_timestamp(t):
        rule["form"] = (
            "datetimes with a time zone" if t.tz else "datetimes without a time zone (local times)"
        )
        return _arrow_datetimes(arr, timezone)
    if pa.types.is_date(t):
        rule["form"] = "dates"
        return arr.cast(pa.timestamp("s")).to_numpy(zero_copy_only=False).astype(TIME_UNIT)
    if pa.types.is_boolean(t):
        raise InputError(f"{what} holds true/false values, not times")
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        v = arr.to_numpy(zero_copy_only=False)
        return _unix(v, what, time_unit, timezone, first_line, rule)
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_large_string(t):
        arr = arr.cast(pa.string())
    elif not pa.types.is_string(t):
        raise InputError(f"{what} holds {t}, not times")
    return _text_times(arr, what, time_unit, dayfirst, timezone, first_line, rule)


def _arrow_datetimes(arr, timezone: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if arr.type.tz is None:  # floored to the second as integers (no calendar needed)
        ticks = arr.cast(pa.int64()).to_numpy(zero_copy_only=False)
        per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[arr.type.unit]
        return (ticks // per_second if per_second > 1 else ticks.copy()).view(TIME_UNIT)
    utc = pc.floor_temporal(arr, unit="second").cast(pa.timestamp("s", tz="UTC"))
    seconds = utc.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(TIME_UNIT)
    return _to_local(seconds, timezone)


def _unix(v: np.ndarray, what, time_unit, timezone, first_line, rule=None) -> np.ndarray:
    v = np.asarray(v)
    if v.dtype.kind == "f":
        bad = ~np.isfinite(v)
        if bad.any():
            where, value = first(bad, v, first_line)
            raise InputError(f"{what} has a number that is not a time ({show(value)} on {where})")
    unit = time_unit
    if unit is None:
        fits = {u: bool(((v >= lo) & (v < hi)).all()) for u, (lo, hi) in _UNIX_RANGE.items()}
        if fits["s"] != fits["ms"]:
            unit = "s" if fits["s"] else "ms"
        else:
            raise InputError(
                f"{what} holds numbers that are not Unix times in seconds or milliseconds between "
                "2000 and 2100; if they are Unix times, say the unit with time_unit='s' or 'ms' "
                "(--time-unit s or ms on the command line)"
            )
    if rule is not None:
        rule["form"] = "Unix " + ("seconds" if unit == "s" else "milliseconds") + " (UTC)"
        rule["time_unit"] = unit
    scale = 1 if unit == "s" else 1000
    limit = 2**62 // 10**9 * scale  # keeps the seconds within what datetime64 holds
    out_of_range = np.abs(v) > limit
    if out_of_range.any():
        where, value = first(out_of_range, v, first_line)
        raise InputError(f"{what}: {show(value)} on {where} is too large for a Unix time in {unit}")
    seconds = np.floor_divide(v, scale) if v.dtype.kind in "iu" else np.floor(v / scale)
    return _to_local(seconds.astype(np.int64).astype(TIME_UNIT), timezone)


def _refuse_mix(what, text, first_line, one: tuple, other: tuple, fix: str) -> None:
    """Refuse a column holding times of two forms (each ``(mask, words)``), naming one of each."""
    (mask_a, words_a), (mask_b, words_b) = one, other
    if mask_a.any() and mask_b.any():
        a, va = first(mask_a, text, first_line)
        b, vb = first(mask_b, text, first_line)
        raise InputError(
            f"{what} mixes {words_a} ({va!r} on {a}) and {words_b} ({vb!r} on {b}); {fix}"
        )


def _text_times(arr, what, time_unit, dayfirst, timezone, first_line, rule) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(arr) == 0:
        return np.empty(0, dtype=TIME_UNIT)
    empty = pc.equal(pc.utf8_length(arr), 0).to_numpy(zero_copy_only=False)
    if empty.any():
        raise InputError(f"{what} has {int(empty.sum()):,} missing time(s)")
    # The usual cases in one vectorised pass each: all naive ISO, or all ISO with an offset.
    try:
        naive = pc.cast(arr, pa.timestamp("ns"))
        rule["form"] = "ISO 8601 without a UTC offset (local times as written)"
        return _arrow_datetimes(naive, timezone)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        aware = pc.cast(arr, pa.timestamp("ns", tz="UTC"))
        rule["form"] = "ISO 8601 with a UTC offset"
        return _arrow_datetimes(aware, timezone)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass

    def matches(pattern: str) -> np.ndarray:
        return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)

    text = arr.to_numpy(zero_copy_only=False)
    number = matches(_NUMBER)
    if number.all():
        as_int = pc.match_substring_regex(arr, r"^[+-]?\d+$").to_numpy(zero_copy_only=False)
        if as_int.all() and (pc.utf8_length(arr).to_numpy(zero_copy_only=False) <= 18).all():
            v = pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)
        else:
            v = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
        return _unix(v, what, time_unit, timezone, first_line, rule)
    naive_iso, offset_iso, dmy = matches(_NAIVE_ISO), matches(_OFFSET_ISO), matches(_DMY)
    iso = naive_iso | offset_iso
    _refuse_mix(
        what,
        text,
        first_line,
        (offset_iso, "times with a UTC offset"),
        (naive_iso, "without"),
        "give every time an offset, or none",
    )
    _refuse_mix(
        what,
        text,
        first_line,
        (iso, "ISO dates"),
        (dmy, "day/month/year dates"),
        "write every date one way",
    )
    known = iso | dmy
    if not known.all():
        bad = ~known
        where, value = first(bad, text, first_line)
        if re.match(_TIME_ONLY, str(value)):
            raise InputError(
                f"{what}: {show(value)} on {where} is a time without a date; write the date too "
                "(2026-03-02 08:15:00)"
            )
        raise InputError(
            f"{what} has an unparsable time {show(value)} on {where}; write times as {_FORMS}"
        )
    if dmy.all():
        return _dmy_times(arr, text, what, dayfirst, first_line, rule)
    # Every value has an ISO form, yet the column did not parse: an impossible date or offset.
    kind = pa.timestamp("ns", tz="UTC") if offset_iso.any() else pa.timestamp("ns")
    where, value = _first_invalid(arr, kind, text, first_line)
    raise InputError(
        f"{what}: {show(value)} on {where} is not a valid date and time (or is outside the "
        "years 1678 to 2261)"
    )


def _first_invalid(arr, kind, text, first_line):
    """The first value of ``arr`` that does not cast to ``kind`` (bisecting, then one by one)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lo, n = 0, len(arr)
    while n > 64:
        half = n // 2
        try:
            pc.cast(arr.slice(lo, half), kind)
            lo, n = lo + half, n - half
        except pa.ArrowInvalid:
            n = half
    for i in range(lo, lo + n):
        try:
            pc.cast(arr.slice(i, 1), kind)
        except pa.ArrowInvalid:
            return row(i, first_line), text[i]
    return row(lo, first_line), text[lo]  # pragma: no cover


def _dmy_times(arr, text, what, dayfirst, first_line, rule) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = pc.extract_regex(arr, _DMY)
    cols = {}
    for i, field in enumerate(parts.type):
        part = parts.field(i)
        part = pc.if_else(pc.equal(part, ""), "0", part)
        cols[field.name] = pc.cast(part, pa.int64()).to_numpy(zero_copy_only=False)
    a, b = cols["a"], cols["b"]
    if dayfirst is None:
        day_first, month_first = a > 12, b > 12
        if day_first.any() and month_first.any():
            wa, va = first(day_first, text, first_line)
            wb, vb = first(month_first, text, first_line)
            raise InputError(
                f"{what} has dates with the day first ({va!r} on {wa}) and with the month first "
                f"({vb!r} on {wb}); write every date one way, or as ISO 8601 (2026-03-05)"
            )
        if not (day_first.any() or month_first.any()):
            raise InputError(
                f"{what}: dates like {text[0]!r} may be day/month or month/day and no value "
                "tells which; say which with dayfirst=True or False (--day-first or "
                "--month-first on the command line), or write ISO 8601 dates (2026-03-05)"
            )
        dayfirst = bool(day_first.any())
    rule["form"] = "day/month/year" if dayfirst else "month/day/year"
    rule["dayfirst"] = dayfirst
    day, month = (a, b) if dayfirst else (b, a)
    stamps = pd.to_datetime(
        pd.DataFrame(
            {
                "year": cols["y"],
                "month": month,
                "day": day,
                "hour": cols["H"],
                "minute": cols["M"],
                "second": cols["S"],
            }
        ),
        errors="coerce",
    )
    bad = stamps.isna().to_numpy() | (cols["H"] > 23) | (cols["M"] > 59) | (cols["S"] > 59)
    if bad.any():
        where, value = first(bad, text, first_line)
        order = "day/month/year" if dayfirst else "month/day/year"
        raise InputError(f"{what}: {show(value)} on {where} is not a valid date read as {order}")
    return stamps.to_numpy().astype(TIME_UNIT)
