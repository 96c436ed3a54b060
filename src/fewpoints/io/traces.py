"""A traces file: :func:`read_traces`, the one reader of a user's traces, and :func:`write_traces`.

Every column is read by one rule for the whole column: device IDs as text
exactly as written (:func:`as_ids`), numbers as numbers and never true/false
(:func:`as_numbers`), times by :func:`fewpoints.io.times.parse_times`,
degrees projected once by :class:`fewpoints.io.projection.Projection`; so a
file is either read exactly or refused with one line naming the column, the
line and the fix. :func:`write_traces` writes a traces table in the format
its file name says, all at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.io.columns import recognised_words, trace_columns
from fewpoints.io.files import (
    NA_TOKENS,
    TEXT_SUFFIXES,
    gzip_compressed,
    header,
    open_check,
    read_csv,
    read_parquet,
    write_text,
)
from fewpoints.io.messages import first, show
from fewpoints.io.output import OutputError, atomic_file
from fewpoints.io.projection import KM_DECIMALS, Projection, check_degrees
from fewpoints.io.tables import PART_GLOB, read_parts, write_part
from fewpoints.io.times import check_read_options, parse_times
from fewpoints.schema import InputError, validate

#: A number in a text file: decimal or scientific notation, or an infinity (refused later).
_FLOAT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^(?i:[+-]?(inf|infinity))$"
_NAN = r"^(?i:[+-]?nan)$"


def as_numbers(col, what: str, first_line: int | None) -> np.ndarray:
    """A column of numbers as float64 (missing values NaN); refuses text and true/false values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_boolean(t):
        raise InputError(f"{what} holds true/false values, not numbers")
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise InputError(f"{what} holds {t}, not numbers")
    col = col.fill_null("")
    trimmed = pc.utf8_trim_whitespace(col)
    missing = pc.is_in(trimmed, value_set=pa.array(NA_TOKENS)).to_numpy(zero_copy_only=False)
    missing |= pc.match_substring_regex(trimmed, _NAN).to_numpy(zero_copy_only=False)
    ok = pc.match_substring_regex(trimmed, _FLOAT).to_numpy(zero_copy_only=False)
    bad = ~(ok | missing)
    if bad.any():
        where, value = first(bad, col.to_numpy(zero_copy_only=False), first_line)
        if str(value).strip() in ("True", "False", "true", "false", "TRUE", "FALSE"):
            raise InputError(
                f"{what} holds true/false values, not numbers ({show(value)} on {where})"
            )
        raise InputError(f"{what} must be numeric (found {show(value)} on {where})")
    out = np.full(len(col), np.nan)
    keep = ~missing
    if keep.any():
        out[keep] = pc.cast(pc.filter(trimmed, pa.array(keep)), pa.float64()).to_numpy(
            zero_copy_only=False
        )
    return out


def as_ids(col, what: str) -> np.ndarray:
    """Device IDs as text, exactly as written (``01`` and ``1`` are two devices)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    if pa.types.is_integer(t):
        col = col.cast(pa.string())
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise InputError(f"{what} holds {t}; device IDs must be text or whole numbers")
    lengths = pc.utf8_length(col.fill_null("")).to_numpy(zero_copy_only=False)
    missing = int((lengths == 0).sum())
    if missing:
        raise InputError(f"{what} has {missing:,} missing value(s)")
    return col


def _arrow_types(found: dict[str, str]) -> dict[str, object]:
    import pyarrow as pa

    number = {"x_km", "y_km", "lat", "lon", "accuracy_m", "antenna_id"}
    return {
        name: (pa.float64() if column in number else pa.string()) for column, name in found.items()
    }


def fill_info(info: dict | None, found: dict[str, str], rule: dict, timezone, projection) -> None:
    """Fill a reader's ``info`` (when one was given) with how the file was read.

    ``columns`` (the file's name of each column) and ``columns_words`` (the
    same in words), ``time`` and ``rule`` (the rule its times were read by),
    ``timezone``, and ``projection`` (None for kilometres): the same keys for
    :func:`read_traces` and the Dask reader.
    """
    if info is not None:
        info.update(
            columns=dict(found),
            columns_words=recognised_words(found),
            time=rule.get("form", ""),
            rule=rule,
            timezone=str(timezone),
            projection=projection,
        )


def read_traces(
    path: str | os.PathLike,
    *,
    time_unit: str | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    columns: dict | str | None = None,
    projection: Projection | None = None,
    info: dict | None = None,
) -> pd.DataFrame:
    """Read a traces table from CSV (optionally gzip-compressed) or Parquet.

    The one reader of a traces file, with one rule per column:

    - ``device_id`` is text, exactly as written (``01`` and ``1`` are two
      devices; ``NA`` is a device called NA); an empty one is refused;
    - ``time`` follows :func:`parse_times` (ISO 8601 with or without a UTC
      offset, Unix seconds or milliseconds, day/month/year text when the
      column says which; never a time without a date);
    - coordinates are ``x_km, y_km`` (kilometres), or ``lat, lon`` (degrees,
      projected once for the whole file by :class:`Projection`, kept to the
      micrometre); numbers only, never true/false, none missing or infinite,
      latitudes within +-90 and longitudes within +-180 (swapped columns are
      named as such);
    - ``antenna_id`` and ``accuracy_m`` are kept when present, as are other
      columns (as text).

    Columns are recognised by the names brokers and researchers ship
    (:data:`TRACE_COLUMN_NAMES`: ``maid``, ``advertiser_id``, ``idfa``, ...;
    ``timestamp``, ``datetime``, ...; ``latitude``/``longitude``, ``lng``;
    ``horizontal_accuracy``, ...), or as ``columns`` maps them.

    Parameters
    ----------
    path : str or Path
        The file to read, or a folder of Parquet parts (``part-*.parquet``,
        as in a world written in chunks), read whole if it fits in memory.
    time_unit : {"s", "ms"}, optional
        The unit of Unix times (needed only when the values do not tell).
    dayfirst : bool, optional
        For day/month/year dates that do not tell which comes first.
    timezone : str, default "UTC"
        The local time zone: times with a UTC offset, and Unix times, are
        converted to it; times without an offset are taken as local already.
    columns : dict or str, optional
        Which column is which, for names not recognised: ``{"device_id":
        "maid", "time": "ts"}`` or ``"device_id=maid,time=ts"``.
    projection : Projection, optional
        For degrees: the projection to use (default: the file's own,
        :meth:`Projection.for_data`), e.g. to put two files in one frame.
    info : dict, optional
        Filled with how the file was read: ``columns`` (the file's name of
        each column), ``time`` (the rule its times were read by),
        ``timezone``, and ``projection`` for degrees.

    Returns
    -------
    DataFrame
        ``device_id`` (str), ``time`` (datetime64[s]), ``x_km``, ``y_km``
        (float), then ``antenna_id`` / ``accuracy_m`` and any other columns
        the file has.

    Raises
    ------
    InputError
        One line naming the problem: a missing or unreadable file, a missing
        column, an unparsable value (with its line), an empty table.

    Examples
    --------
    A broker's file with its own column names, in degrees:

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "pings.csv")
    ...     _ = path.write_text(
    ...         "maid,timestamp,lat,lon\\n"
    ...         "ab12,2026-03-02T08:00:00Z,48.85,2.35\\n"
    ...         "ab12,2026-03-02T09:30:00Z,48.86,2.35\\n"
    ...     )
    ...     info = {}
    ...     traces = read_traces(path, info=info)
    >>> list(traces.columns)
    ['device_id', 'time', 'x_km', 'y_km']
    >>> info["columns"]["device_id"], info["columns"]["time"]
    ('maid', 'timestamp')
    >>> traces["time"].dt.strftime("%H:%M").tolist()
    ['08:00', '09:30']
    >>> float(round(traces["y_km"].iloc[1] - traces["y_km"].iloc[0], 2))  # 0.01 degree north
    1.11
    """
    import pyarrow as pa

    path = Path(path)
    check_read_options(time_unit, dayfirst, timezone, str(path))
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        if any(path.glob(PART_GLOB)):
            return read_parts(path, "traces")
        raise InputError(
            f"{path}: is a folder; give a traces file, a folder of Parquet parts "
            "(a chunked world's traces_cdr/), or a world folder to read_world"
        )
    where = str(path)
    name = path.name.lower()
    if name.endswith(".parquet"):
        table, first_line = read_parquet(path), None
        found = trace_columns(table.column_names, where, columns)
    elif name.endswith(TEXT_SUFFIXES):
        magic = open_check(path)
        sep = "\t" if ".tsv" in name else ","
        found = trace_columns(header(path, sep, gzip_compressed(path, magic)), where, columns)
        try:
            table = read_csv(path, _arrow_types(found))
        except InputError:
            # A number column that is not numbers: read it as text to name the value and line.
            table = read_csv(path, {})
        first_line = 2
    else:
        raise InputError(f"{path}: expected a .csv, .csv.gz or .parquet file")
    if table.num_rows == 0:
        raise InputError(f"{where}: the traces table is empty")
    out: dict[str, object] = {}
    device = as_ids(table.column(found["device_id"]), f"{where}: column {found['device_id']}")
    out["device_id"] = device.to_pandas().astype("str")
    rule: dict = {}
    out["time"] = parse_times(
        table.column(found["time"]),
        what=f"{where}: column {found['time']}",
        time_unit=time_unit,
        dayfirst=dayfirst,
        timezone=timezone,
        first_line=first_line,
        rule=rule,
    )
    if "x_km" in found:
        for c in ("x_km", "y_km"):
            out[c] = as_numbers(table.column(found[c]), f"{where}: column {found[c]}", first_line)
    else:
        lat = as_numbers(table.column(found["lat"]), f"{where}: column {found['lat']}", first_line)
        lon = as_numbers(table.column(found["lon"]), f"{where}: column {found['lon']}", first_line)
        check_degrees(lat, lon, (found["lat"], found["lon"]), where, first_line)
        projection = projection or Projection.for_data(lat, lon)
        x, y = projection.forward(lat, lon)
        del lat, lon
        out["x_km"], out["y_km"] = np.round(x, KM_DECIMALS), np.round(y, KM_DECIMALS)
        del x, y
    for c in ("antenna_id", "accuracy_m"):
        if c in found:
            v = as_numbers(table.column(found[c]), f"{where}: column {found[c]}", first_line)
            if c == "antenna_id" and not np.isnan(v).any() and (v == np.floor(v)).all():
                v = v.astype(np.int64)
            out[c] = v
    fill_info(info, found, rule, timezone, None if "x_km" in found else projection)
    used = set(found.values())
    df = pd.DataFrame(out)
    for extra in table.column_names:
        if extra not in used and extra not in df.columns:
            col = table.column(extra)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                df[extra] = pd.array(col.to_pandas(), dtype="str")
            else:
                df[extra] = col.to_pandas()
    return validate(df, "traces", source=where)


# ---------------------------------------------------------------------------
# Writing a traces file in the format its name says
# ---------------------------------------------------------------------------

#: Output formats by the end of the file name.
_OUTPUT_FORMATS = {
    ".csv.gz": "csv.gz",
    ".tsv.gz": "tsv.gz",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
}


def output_format(path: str | os.PathLike) -> str:
    """The format a file name asks for: ``csv``, ``csv.gz``, ``tsv``, ``tsv.gz`` or ``parquet``."""
    name = Path(path).name.lower()
    for suffix, fmt in _OUTPUT_FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise OutputError(
        f"{path}: name the output's format by its extension: " + ", ".join(_OUTPUT_FORMATS)
    )


def write_traces(df: pd.DataFrame, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a traces table to ``path`` in the format its name says, all at once.

    ``.csv`` (text), ``.csv.gz`` (gzip text whose bytes depend only on the
    table), ``.tsv`` / ``.tsv.gz`` (tab-separated) or ``.parquet``. The file
    is written beside ``path`` and renamed into place when complete; an
    existing file is refused unless ``force``.
    """
    fmt = output_format(path)
    df = df.assign(device_id=df["device_id"].astype(str))
    with atomic_file(path, force=force) as tmp:
        if fmt == "parquet":
            write_part(df, tmp)
        else:
            write_text(
                df, tmp, sep="\t" if fmt.startswith("tsv") else ",", compress=fmt.endswith(".gz")
            )
    return Path(path)
