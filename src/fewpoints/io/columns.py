"""Which column of a traces file is which: the names brokers and researchers ship.

:data:`TRACE_COLUMN_NAMES` lists, for each column of a traces table, the
names it goes by in the files people have (``maid``, ``advertiser_id``,
``timestamp``, ``latitude``, ...); :func:`trace_columns` recognises a file's
columns by them, or as ``--columns`` maps them (:func:`column_map`), and
refuses in one line a file that lacks one; :func:`recognised_words` says
what was recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fewpoints.schema import InputError

#: The names a traces column may have in a file, by the name it takes in the table: the
#: names brokers and researchers ship (compared in lower case, with spaces and dashes read
#: as underscores); the first name present wins. The one place where a file's columns are
#: recognised; ``--columns`` (``columns=``) names any other.
TRACE_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "device_id": (
        "device_id", "maid", "ad_id", "advertiser_id", "advertising_id", "mobile_ad_id",
        "idfa", "gaid", "aaid", "ifa", "deviceid", "device", "user_id", "userid", "uid",
        "subscriber_id", "caller_id",
    ),
    "time": (
        "time", "timestamp", "datetime", "utc_timestamp", "timestamp_utc", "time_utc",
        "datetime_utc", "ts", "event_time", "location_at", "date_time", "unix_time",
        "unix_timestamp", "epoch", "local_time",
    ),
    "x_km": ("x_km",),
    "y_km": ("y_km",),
    "lat": ("lat", "latitude", "lat_deg", "latitude_deg"),
    "lon": ("lon", "lng", "long", "longitude", "lon_deg", "longitude_deg"),
    "antenna_id": ("antenna_id", "cell_id", "cellid", "tower_id"),
    "accuracy_m": (
        "accuracy_m", "horizontal_accuracy", "horizontal_accuracy_m", "accuracy",
        "h_accuracy", "hacc", "accuracy_meters", "gps_accuracy",
    ),
}  # fmt: skip


def _normal(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def column_map(text: str | dict | None) -> dict[str, str]:
    """``--columns device_id=maid,time=ts,...`` as ``{"device_id": "maid", ...}``, checked.

    Raises
    ------
    InputError
        One line naming the pair that is not ``ROLE=COLUMN`` or the unknown role.
    """
    if text is None or isinstance(text, dict):
        pairs = dict(text or {})
    else:
        pairs = {}
        for part in str(text).split(","):
            if not part.strip():
                continue
            role, eq, name = part.partition("=")
            if not eq or not role.strip() or not name.strip():
                raise InputError(
                    f"--columns: expected ROLE=COLUMN pairs separated by commas (such as "
                    f"device_id=maid,time=ts), got {part.strip()!r}"
                )
            role = role.strip()
            if role in pairs:
                raise InputError(f"--columns: {role} is given twice")
            pairs[role] = name.strip()
    unknown = [r for r in pairs if r not in TRACE_COLUMN_NAMES]
    if unknown:
        raise InputError(
            f"--columns: unknown column {unknown[0]!r}; name one of "
            f"{', '.join(TRACE_COLUMN_NAMES)} (such as time=ts)"
        )
    return pairs


def _recognise(names: list[str], where: str = "", columns: dict | None = None) -> dict[str, str]:
    """Which column of the file is which column of a traces table (canonical -> file's name)."""
    found: dict[str, str] = {}
    for role, name in column_map(columns).items():
        hit = (
            name if name in names else next((n for n in names if _normal(n) == _normal(name)), None)
        )
        if hit is None:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise InputError(
                f"{where}: --columns {role}={name}: the file has no column {name} (it has {shown})"
            )
        found[role] = hit
    taken = set(found.values())
    by_normal: dict[str, str] = {}
    for n in names:
        by_normal.setdefault(_normal(n), n)
    for role, candidates in TRACE_COLUMN_NAMES.items():
        if role in found:
            continue
        hit = next(
            (by_normal[c] for c in candidates if c in by_normal and by_normal[c] not in taken),
            None,
        )
        if hit is not None:
            found[role] = hit
            taken.add(hit)
    mapped = set(column_map(columns))
    if {"x_km", "y_km"} <= set(found) and not ({"lat", "lon"} & mapped):
        found.pop("lat", None)
        found.pop("lon", None)
    elif {"lat", "lon"} & mapped:
        found.pop("x_km", None)
        found.pop("y_km", None)
    return found


def recognised_words(found: dict[str, str]) -> str:
    """``device_id <- maid, time <- ts, lat/lon <- latitude/longitude``: what was recognised."""
    words = []
    for role in ("device_id", "time"):
        words.append(f"{role} <- {found[role]}")
    if "x_km" in found:
        words.append(f"x_km/y_km <- {found['x_km']}/{found['y_km']}")
    else:
        words.append(f"lat/lon <- {found['lat']}/{found['lon']}")
    for role in ("accuracy_m", "antenna_id"):
        if role in found:
            words.append(f"{role} <- {found[role]}")
    return ", ".join(words)


def trace_columns(names: Iterable[str], where: str, columns=None) -> dict[str, str]:
    """Which of a file's columns is which traces column (``{"device_id": name in the file, ...}``).

    The one place where a traces file's column names are recognised (by
    :data:`TRACE_COLUMN_NAMES`, or as ``columns`` maps them: ``{"time": "ts"}``
    or ``"time=ts"``), for every reader (:func:`read_traces` and the Dask
    engine's Parquet reader). ``x_km, y_km`` win over ``lat, lon`` unless
    ``columns`` maps degrees.

    Raises
    ------
    InputError
        One line naming the missing columns, the names looked for and the fix.
    """
    names = [str(n).strip() for n in names]
    found = _recognise(names, where, columns)
    _require_columns(found, where, names)
    return found


def _require_columns(found: dict[str, str], where: str, names: list[str] = ()) -> None:
    need = ["device_id", "time"]
    if "x_km" in found or "y_km" in found or not ({"lat", "lon"} & set(found)):
        need += ["x_km", "y_km"]
    else:
        need += ["lat", "lon"]
    missing = [c for c in need if c not in found]
    if missing:
        if set(missing) == {"x_km", "y_km"}:
            missing = ["x_km", "y_km (or lat, lon)"]
        first = missing[0].split(" ")[0]
        looked = ", ".join(TRACE_COLUMN_NAMES[first][:6])
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)}; a traces file needs "
            f"device_id,time,x_km,y_km (or device_id,time,lat,lon) under these or common names "
            f"(for {first}: {looked}, ...): name yours with --columns {first}=COLUMN (the file "
            f"has: {shown})"
        )
