"""The tables every stage speaks: their columns, their validation, and reading and writing them.

fewpoints works on long-format pandas DataFrames with literal column names
(see the table in README.md). Coordinates are kilometres in the synthetic
city's own frame; times are ``datetime64[s]`` in one synthetic local time zone.

``traces`` is the one interface between stages: the broker's dataset, one row
per observation, with a pseudonymous ``device_id`` and nothing else about the
person. Everything in ``people`` and ``stays`` is ground truth and is never
part of a released table.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "TIME_UNIT",
    "FewpointsError",
    "InputError",
    "atomic_folder",
    "read_parts",
    "read_table",
    "read_traces",
    "read_world_tables",
    "validate",
    "validate_traces",
    "write_part",
    "write_world_tables",
]

TIME_UNIT = "datetime64[s]"

#: Required columns of each table, with their kind. Extra columns are allowed.
COLUMNS: dict[str, dict[str, str]] = {
    "places": {
        "place_id": "int",
        "x_km": "float",
        "y_km": "float",
        "kind": "str",
        "sensitive": "bool",
        "name": "str",
    },
    "antennas": {"antenna_id": "int", "x_km": "float", "y_km": "float"},
    "people": {
        "person_id": "int",
        "name": "str",
        "home_place_id": "int",
        "work_place_id": "Int",  # nullable: not everyone works or studies
        "device_id": "str",
        "role": "str",
    },
    "stays": {"person_id": "int", "place_id": "int", "start": "time", "end": "time"},
    "traces": {"device_id": "str", "time": "time", "x_km": "float", "y_km": "float"},
    "directory": {"name": "str", "address": "str", "place_id": "int"},
    "posts": {"name": "str", "time": "time", "x_km": "float", "y_km": "float"},
}

#: Columns that must hold unique values (a table's key).
KEYS = {"places": "place_id", "antennas": "antenna_id", "people": "person_id"}

#: Optional columns of ``traces`` (present where the observation model knows them).
TRACE_OPTIONAL = {"antenna_id": "int", "accuracy_m": "float"}


class FewpointsError(ValueError):
    """A problem with the caller's input or parameters, stated in one line.

    The command line prints the message and exits with status 2; library users
    can catch it as a ``ValueError``.
    """


class InputError(FewpointsError):
    """A table or file that does not follow the schema."""


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def validate(df: pd.DataFrame, table: str, *, source: str | None = None) -> pd.DataFrame:
    """Check that ``df`` is a well-formed ``table`` and return it unchanged.

    Parameters
    ----------
    df : DataFrame
        The table to check.
    table : str
        One of the names in :data:`COLUMNS`.
    source : str, optional
        Where the table came from (a file name), used in error messages.

    Raises
    ------
    InputError
        With a one-line message naming the first problem found: a missing
        column, an empty ``traces`` table, missing or non-finite values, a
        column of the wrong kind, or a duplicated key.
    """
    if table not in COLUMNS:
        raise ValueError(f"unknown table {table!r}; expected one of {sorted(COLUMNS)}")
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"{_where(source)}{table} must be a pandas DataFrame, got {type(df).__name__}"
        )
    spec = COLUMNS[table]
    missing = [c for c in spec if c not in df.columns]
    if missing:
        raise InputError(
            f"{_where(source)}{table} table is missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(spec)}"
        )
    if table == "traces" and len(df) == 0:
        raise InputError(f"{_where(source)}traces table is empty")
    for col, kind in spec.items():
        _check_column(df[col], kind, f"{_where(source)}{table}.{col}")
    if table == "traces":
        for col, kind in TRACE_OPTIONAL.items():
            if col in df.columns:
                _check_column(df[col], kind, f"{_where(source)}traces.{col}", optional=True)
    key = KEYS.get(table)
    if key is not None and df[key].duplicated().any():
        raise InputError(f"{_where(source)}{table}.{key} has duplicated values")
    if table == "stays" and (df["end"] < df["start"]).any():
        raise InputError(f"{_where(source)}stays has stays that end before they start")
    return df


def _check_column(s: pd.Series, kind: str, label: str, *, optional: bool = False) -> None:
    """Raise InputError naming ``label`` if column ``s`` is not of ``kind`` or has missing values.

    An ``optional`` column (``antenna_id``, ``accuracy_m``) may have missing
    values (not known for that record), but what it holds must be of its kind.
    """
    if optional:
        s = s.dropna()
        if kind == "int" and pd.api.types.is_float_dtype(s) and (s == np.floor(s)).all():
            return
    if kind != "Int" and s.isna().any():
        raise InputError(f"{label} has {int(s.isna().sum()):,} missing value(s)")
    if kind == "float":
        if not pd.api.types.is_numeric_dtype(s):
            raise InputError(f"{label} must be numeric, got {s.dtype}")
        bad = ~np.isfinite(s.to_numpy(dtype=float))
        if bad.any():
            raise InputError(f"{label} has {int(bad.sum()):,} infinite value(s)")
    elif kind in ("int", "Int"):
        if not (pd.api.types.is_integer_dtype(s) or (kind == "Int" and s.isna().all())):
            raise InputError(f"{label} must be integer, got {s.dtype}")
    elif kind == "time":
        if not pd.api.types.is_datetime64_any_dtype(s):
            raise InputError(f"{label} must be a datetime, got {s.dtype}")
    elif kind == "bool":
        if not pd.api.types.is_bool_dtype(s):
            raise InputError(f"{label} must be boolean, got {s.dtype}")


def validate_traces(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check a ``traces`` table (see :func:`validate`)."""
    return validate(df, "traces", source=source)


def validate_places(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check a ``places`` table (see :func:`validate`)."""
    return validate(df, "places", source=source)


def validate_people(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check a ``people`` table (see :func:`validate`)."""
    return validate(df, "people", source=source)


def validate_stays(df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check a ``stays`` table (see :func:`validate`)."""
    return validate(df, "stays", source=source)


# ---------------------------------------------------------------------------
# Reading a user's traces
# ---------------------------------------------------------------------------

_EARTH_RADIUS_KM = 6371.0088


def _lat_lon_to_km(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection around the data's own centre (accurate to well under 1% across a city)."""
    lat0 = np.deg2rad(np.nanmean(lat))
    lon0 = np.nanmean(lon)
    x = np.deg2rad(lon - lon0) * np.cos(lat0) * _EARTH_RADIUS_KM
    y = np.deg2rad(lat - np.nanmean(lat)) * _EARTH_RADIUS_KM
    return x, y


def _read_frame(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(".parquet"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise InputError(
                f"{path}: reading Parquet needs pyarrow (pip install pyarrow)"
            ) from exc
    if not any(name.endswith(ext) for ext in (".csv", ".csv.gz", ".tsv", ".txt", ".gz")):
        raise InputError(f"{path}: expected a .csv, .csv.gz or .parquet file")
    sep = "\t" if ".tsv" in name else ","
    try:
        return pd.read_csv(path, sep=sep, low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable CSV file ({first})") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: the file is empty") from exc


def _to_time(s: pd.Series, what: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    elif pd.api.types.is_numeric_dtype(s):
        raise InputError(f"{what} holds numbers; write times as text like 2026-03-02 08:15:00")
    else:
        try:
            out = pd.to_datetime(s, format="mixed")
        except (ValueError, TypeError) as exc:
            bad = _first_unparsable(s)
            raise InputError(f"{what} has an unparsable time {bad!r}") from exc
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    if out.isna().any():
        raise InputError(f"{what} has {int(out.isna().sum()):,} missing time(s)")
    return out.astype(TIME_UNIT)


def _first_unparsable(s: pd.Series) -> str:
    for value in s.astype(str).unique()[:100_000]:
        try:
            pd.to_datetime(value)
        except (ValueError, TypeError):
            return value
    return str(s.iloc[0])


def read_traces(path: str | os.PathLike) -> pd.DataFrame:
    """Read a traces table from CSV (optionally gzip-compressed) or Parquet.

    Accepts the fewpoints columns ``device_id, time, x_km, y_km`` or, for
    data in degrees, ``device_id, time, lat, lon``, which are projected to
    kilometres around the data's own centre.

    Parameters
    ----------
    path : str or Path
        The file to read, or a folder of Parquet parts (``part-*.parquet``,
        as in a world written in chunks), read whole if it fits in memory.

    Returns
    -------
    DataFrame
        ``device_id`` (str), ``time`` (datetime64[s]), ``x_km``, ``y_km``
        (float), and ``antenna_id`` / ``accuracy_m`` when the file has them.

    Raises
    ------
    InputError
        One line naming the problem: missing file or columns, unparsable
        times, missing or infinite coordinates, an empty table.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        if any(path.glob(PART_GLOB)):
            return read_parts(path, "traces")
        raise InputError(
            f"{path}: is a folder; give a traces file, a folder of Parquet parts "
            "(a chunked world's traces_cdr/), or a world folder to read_world"
        )
    df = _read_frame(path)
    df.columns = [str(c).strip() for c in df.columns]
    where = str(path)
    if "x_km" not in df.columns and {"lat", "lon"} <= set(df.columns):
        for c in ("lat", "lon"):
            if not pd.api.types.is_numeric_dtype(df[c]):
                raise InputError(f"{where}: column {c} must be numeric degrees")
        lat, lon = df["lat"].to_numpy(float), df["lon"].to_numpy(float)
        if np.isnan(lat).any() or np.isnan(lon).any():
            raise InputError(f"{where}: lat/lon have missing values")
        if (np.abs(lat[np.isfinite(lat)]) > 90).any() or (
            np.abs(lon[np.isfinite(lon)]) > 180
        ).any():
            raise InputError(f"{where}: lat must be within +-90 and lon within +-180 degrees")
        if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
            raise InputError(f"{where}: lat/lon have infinite values")
        df["x_km"], df["y_km"] = _lat_lon_to_km(lat, lon)
        df = df.drop(columns=["lat", "lon"])
    missing = [c for c in COLUMNS["traces"] if c not in df.columns]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)}; a traces file needs "
            "device_id,time,x_km,y_km (or device_id,time,lat,lon)"
        )
    if len(df) == 0:
        raise InputError(f"{where}: the traces table is empty")
    if df["device_id"].isna().any():
        raise InputError(
            f"{where}: device_id has {int(df['device_id'].isna().sum()):,} missing value(s)"
        )
    for c in ("x_km", "y_km"):
        if not pd.api.types.is_numeric_dtype(df[c]):
            bad = pd.to_numeric(df[c], errors="coerce").isna() & df[c].notna()
            example = df.loc[bad, c].iloc[0] if bad.any() else "?"
            raise InputError(f"{where}: column {c} must be numeric (found {example!r})")
    df["time"] = _to_time(df["time"], f"{where}: column time")
    df["device_id"] = df["device_id"].astype(str)
    return validate(df, "traces", source=where)


# ---------------------------------------------------------------------------
# Reading and writing a whole world
# ---------------------------------------------------------------------------

_DTYPES: dict[str, dict[str, str]] = {
    "places": {
        "place_id": "int64",
        "kind": "str",
        "name": "str",
        "sensitive": "bool",
        "address": "str",
    },
    "antennas": {"antenna_id": "int32"},
    "people": {
        "person_id": "int64",
        "name": "str",
        "home_place_id": "int64",
        "work_place_id": "Int64",
        "device_id": "str",
        "role": "str",
    },
    "stays": {"person_id": "int32", "place_id": "int32"},
    "traces": {"device_id": "str", "antenna_id": "int32"},
    "directory": {"name": "str", "address": "str", "place_id": "int64"},
    "posts": {"name": "str"},
}
_TIME_COLUMNS = {"stays": ["start", "end"], "traces": ["time"], "posts": ["time"]}
_CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _table_kind(name: str) -> str:
    return "traces" if name.startswith("traces") else name


_CSV_CHUNK_ROWS = 500_000


def _write_csv_gz(df: pd.DataFrame, path: Path, on_rows=None) -> None:
    """Write gzip-compressed CSV whose bytes depend only on the table (no timestamp in the header).

    Rows are formatted in chunks, so a table of a hundred million rows never
    needs its whole text in memory; ``on_rows(n)`` is called after each chunk.
    """
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz,
    ):
        for start in range(0, max(len(df), 1), _CSV_CHUNK_ROWS):
            chunk = df.iloc[start : start + _CSV_CHUNK_ROWS]
            text = chunk.to_csv(
                index=False, header=start == 0, date_format=_CSV_TIME_FORMAT, lineterminator="\n"
            )
            gz.write(text.encode("utf-8"))
            if on_rows is not None:
                on_rows(len(chunk))


def read_table(path: str | os.PathLike, name: str | None = None) -> pd.DataFrame:
    """Read one table written by :func:`write_world_tables` (CSV.gz or Parquet)."""
    path = Path(path)
    stem = path.name.split(".")[0]
    kind = _table_kind(name or stem)
    if path.suffix == ".parquet":
        df = _read_frame(path)
    else:
        dtypes = _DTYPES.get(kind, {})
        df = pd.read_csv(path, dtype=dtypes, keep_default_na=True, na_values=[""])
        for col in _TIME_COLUMNS.get(kind, []):
            df[col] = pd.to_datetime(df[col], format=_CSV_TIME_FORMAT).astype(TIME_UNIT)
        if "device_id" in df.columns and kind == "traces":
            df["device_id"] = df["device_id"].astype("category")
    return df


def write_world_tables(
    tables: dict[str, pd.DataFrame],
    meta: dict,
    out: str | os.PathLike,
    *,
    force: bool = False,
    parquet: bool = False,
    progress=None,
) -> list[Path]:
    """Write tables (``name.csv.gz``) and ``world.json`` into folder ``out``, atomically.

    Everything is written into a temporary folder beside ``out`` and moved
    into place only when complete, so an interrupted run never leaves a
    half-written world. An existing non-empty ``out`` is refused unless
    ``force``.

    ``progress(stage, fraction)``, if given, hears how many rows are written.

    Returns
    -------
    list of Path
        The files written, in the order written.
    """
    if parquet:
        require_pyarrow("writing Parquet")
    # A flat world of CSV files is not a chunked one, whatever the tables came from.
    meta = {k: v for k, v in meta.items() if k not in ("chunked", "format")}
    total_rows = max(sum(len(df) for df in tables.values()), 1)
    done = [0]

    def on_rows(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress("writing files", done[0] / total_rows)

    out = Path(out)
    written = []
    with atomic_folder(out, force=force) as tmp:
        for name, df in tables.items():
            _write_csv_gz(df, tmp / f"{name}.csv.gz", on_rows)
            written.append(out / f"{name}.csv.gz")
            if parquet:
                df.to_parquet(tmp / f"{name}.parquet", index=False)
                written.append(out / f"{name}.parquet")
        (tmp / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        written.append(out / "world.json")
    return written


def check_output_folder(out: str | os.PathLike, *, force: bool = False) -> Path:
    """Refuse, before any work, an output that is a file, or a non-empty folder without ``force``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FewpointsError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise FewpointsError(f"{out} exists and is not empty; use --force to replace it")
    return out


@contextmanager
def atomic_folder(out: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Write a folder all at once: yield a temporary sibling that replaces ``out`` on success.

    On any error, and on Ctrl-C, the temporary folder is removed and ``out``
    is left as it was, so nobody ever sees a half-written output. An existing
    non-empty ``out`` is refused unless ``force``.
    """
    out = check_output_folder(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def require_pyarrow(what: str) -> None:
    """Raise a one-line FewpointsError if pyarrow is not installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise FewpointsError(f"{what} needs pyarrow (pip install pyarrow)") from exc


# ---------------------------------------------------------------------------
# Partitioned tables: one Parquet file per chunk (worlds larger than memory)
# ---------------------------------------------------------------------------

#: File names of the parts of a partitioned table, in order.
PART_NAME = "part-{:05d}.parquet"
PART_GLOB = "part-*.parquet"
#: Rows per Parquet row group, rounded up to the end of a device.
ROW_GROUP_ROWS = 1_000_000
#: Bytes a row of each table takes once read into pandas (to refuse what would not fit).
_ROW_BYTES = {"traces": 45, "stays": 24, "people": 200, "directory": 150, "posts": 120}


def write_part(df: pd.DataFrame, path: str | os.PathLike, *, whole: str | None = None) -> None:
    """Write one table, or one part of a partitioned table, as a Parquet file.

    ``device_id`` is written as plain strings (not a per-file dictionary), and
    no pandas metadata is stored, so any reader (pandas, Dask, Spark, DuckDB)
    sees the same columns in every part. Times are stored in milliseconds,
    Parquet's coarsest unit. With ``whole="device_id"`` the rows must be
    sorted by that column and no value is split between two row groups, so a
    reader that splits the file by row group still holds whole devices.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {}
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            arr = pa.DictionaryArray.from_arrays(
                pa.array(col.cat.codes.to_numpy(), type=pa.int32()),
                pa.array(col.cat.categories.to_numpy(dtype=object), type=pa.string()),
            ).dictionary_decode()
        elif pd.api.types.is_string_dtype(col.dtype) or col.dtype == object:
            arr = pa.array(col.to_numpy(dtype=object), type=pa.string())
        else:
            arr = pa.Array.from_pandas(col)
        columns[name] = arr
    table = pa.table(columns)
    del columns
    cuts = [0, len(df)]
    if whole is not None and len(df) > ROW_GROUP_ROWS:
        values = df[whole]
        codes = values.cat.codes.to_numpy() if hasattr(values, "cat") else pd.factorize(values)[0]
        starts = np.flatnonzero(np.diff(codes, prepend=codes[0] - 1))
        at = np.searchsorted(starts, np.arange(ROW_GROUP_ROWS, len(df), ROW_GROUP_ROWS))
        cuts = np.unique(np.concatenate([[0], starts[at[at < starts.size]], [len(df)]])).tolist()
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            writer.write_table(table.slice(a, b - a), row_group_size=max(b - a, 1))
        if len(df) == 0:
            writer.write_table(table)


def _parts(folder: Path) -> list[Path]:
    files = sorted(folder.glob(PART_GLOB))
    if not files:
        raise InputError(f"{folder}: no Parquet parts ({PART_GLOB}) in this folder")
    return files


def _parquet_rows(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def check_fits(rows: dict[str, int], where: str) -> None:
    """Refuse to read tables of ``rows`` (kind -> rows) that would not fit in the free memory."""
    from fewpoints.synth.world import available_memory

    need = sum(_ROW_BYTES.get(kind, 100) * n for kind, n in rows.items())
    have = available_memory()
    if have is not None and need > have:
        records = rows.get("traces", 0)
        raise InputError(
            f"{where}: reading it whole needs about {need / 1e9:.1f} GB of memory "
            f"({records:,} trace records) but only {have / 1e9:.1f} GB is free; "
            "use the Dask engine (fewpoints unicity PATH --engine dask, or "
            "dask.dataframe.read_parquet on its traces folder)"
        )


def read_parts(folder: str | os.PathLike, kind: str, *, check_memory: bool = True) -> pd.DataFrame:
    """Read a partitioned table (a folder of ``part-*.parquet``) into one DataFrame.

    A ``traces`` table comes back as one table of the usual form: ``device_id``
    categorical, rows sorted by device then time, ``time`` in seconds.

    Raises
    ------
    InputError
        If there are no parts, or if the table would not fit in the free
        memory (the message names the Dask engine, which reads it in parts).
    """
    import pyarrow.parquet as pq

    require_pyarrow("reading Parquet")
    folder = Path(folder)
    files = _parts(folder)
    if check_memory:
        check_fits({kind: _parquet_rows(files)}, str(folder))
    traces = kind == "traces"
    frames = []
    for f in files:
        try:
            table = pq.read_table(f, read_dictionary=["device_id"] if traces else None)
        except (OSError, ValueError) as exc:
            raise InputError(f"{f}: not a readable Parquet file ({exc})") from exc
        frames.append(table.to_pandas())
    if traces:
        df = _concat_traces(frames)
    else:
        df = pd.concat(frames, ignore_index=True)
    del frames
    for col in _TIME_COLUMNS.get(kind, []):
        if col in df.columns:
            df[col] = df[col].astype(TIME_UNIT)
    for col, dtype in _DTYPES.get(kind, {}).items():
        if col in df.columns and col != "device_id" and df[col].dtype != dtype:
            df[col] = df[col].astype(dtype)
    if kind == "directory":
        df = df.sort_values(["name", "address"], kind="stable", ignore_index=True)
    elif kind == "posts":
        df = df.sort_values("time", kind="stable", ignore_index=True)
    if traces and len(df) == 0:
        raise InputError(f"{folder}: the traces table is empty")
    return validate(df, kind, source=str(folder))


def _concat_traces(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One traces table from parts: device codes remapped to the sorted union of devices, rows sorted."""
    cats = [np.asarray(f["device_id"].cat.categories, dtype=object) for f in frames]
    devices = np.unique(np.concatenate(cats)) if cats else np.empty(0, dtype=object)
    codes = np.concatenate(
        [
            np.searchsorted(devices, c)[f["device_id"].cat.codes.to_numpy()].astype(np.int32)
            for f, c in zip(frames, cats, strict=True)
        ]
    )
    rest = pd.concat([f.drop(columns="device_id") for f in frames], ignore_index=True)
    order = np.lexsort((rest["time"].to_numpy(), codes))
    device = pd.Categorical.from_codes(
        codes[order], categories=pd.Index(devices, dtype="str"), validate=False
    )
    rest = rest.take(order).reset_index(drop=True)
    rest.insert(0, "device_id", device)
    return rest


def read_world_tables(path: str | os.PathLike) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read every table and the metadata of a world folder written by :func:`write_world_tables`."""
    path = Path(path)
    meta_file = path / "world.json"
    if not meta_file.is_file():
        raise InputError(f"{path}: not a fewpoints world folder (no world.json)")
    meta = json.loads(meta_file.read_text())
    tables = {}
    if meta.get("chunked"):
        rows = {}
        for name, n in meta.get("tables", {}).items():
            kind = _table_kind(name)
            rows[kind] = rows.get(kind, 0) + int(n)
        check_fits(rows, f"{path} (a world written in chunks)")
        for name in meta.get("tables", {}):
            single = path / f"{name}.parquet"
            if single.is_file():
                tables[name] = read_table(single, name)
            elif (path / name).is_dir():
                tables[name] = read_parts(path / name, _table_kind(name), check_memory=False)
            else:
                raise InputError(f"{path}: world.json lists {name} but {name}/ is missing")
        return tables, meta
    for name in meta.get("tables", {}):
        f = path / f"{name}.csv.gz"
        if not f.is_file():
            raise InputError(f"{path}: world.json lists {name} but {f.name} is missing")
        tables[name] = read_table(f, name)
    return tables, meta
