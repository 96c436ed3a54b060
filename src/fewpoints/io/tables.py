"""A world's table on disk: its column types, one file (CSV.gz or Parquet) or a folder of Parquet parts.

:func:`read_table` reads one table file with the table's own column types
and checks it; a table larger than memory is written as Parquet parts
(:func:`write_part`, :data:`PART_NAME`) and read back whole by
:func:`read_parts` when it fits (:func:`fewpoints.io.memory.check_fits`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.io.files import read_csv, read_parquet, require_pyarrow
from fewpoints.io.memory import check_fits
from fewpoints.io.times import parse_times
from fewpoints.schema import COLUMNS, TIME_UNIT, InputError, validate

_DTYPES: dict[str, dict[str, str]] = {
    "places": {
        "place_id": "int64",
        "x_km": "float64",
        "y_km": "float64",
        "kind": "str",
        "sensitive": "bool",
        "name": "str",
        "address": "str",
    },
    "antennas": {"antenna_id": "int32", "x_km": "float64", "y_km": "float64"},
    "people": {
        "person_id": "int64",
        "name": "str",
        "home_place_id": "int64",
        "work_place_id": "Int64",
        "device_id": "str",
        "role": "str",
        "calls_per_day": "float64",
        "pings_per_day": "float64",
    },
    "stays": {"person_id": "int32", "place_id": "int32", "start": "time", "end": "time"},
    "traces": {
        "device_id": "str",
        "time": "time",
        "x_km": "float64",
        "y_km": "float64",
        "antenna_id": "int32",
        "accuracy_m": "float64",
    },
    "directory": {"name": "str", "address": "str", "place_id": "int64"},
    "posts": {"name": "str", "time": "time", "x_km": "float64", "y_km": "float64"},
}
_TIME_COLUMNS = {"stays": ["start", "end"], "traces": ["time"], "posts": ["time"]}


def table_kind(name: str) -> str:
    return "traces" if name.startswith("traces") else name


def _arrow_type(dtype: str):
    import pyarrow as pa

    return {
        "int64": pa.int64(),
        "Int64": pa.int64(),
        "int32": pa.int32(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "str": pa.string(),
        "time": pa.timestamp("s"),
    }[dtype]


def _frame(table, kind: str, where: str) -> pd.DataFrame:
    """An Arrow table of a world as a DataFrame of the table's own dtypes."""
    import pyarrow as pa

    spec = _DTYPES.get(kind, {})
    out = {}
    for name in table.column_names:
        col = table.column(name)
        dtype = spec.get(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if dtype == "time" or pa.types.is_timestamp(col.type):
            out[name] = parse_times(col, what=f"{where}: column {name}")
        elif dtype == "str" or pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            out[name] = pd.array(col.to_pandas(), dtype="str")
        elif dtype == "Int64":
            out[name] = pa.table({name: col}).to_pandas(
                types_mapper={pa.int64(): pd.Int64Dtype()}.get
            )[name]
        elif dtype is not None and col.null_count == 0:
            try:
                out[name] = col.to_numpy(zero_copy_only=False).astype(dtype)
            except (ValueError, TypeError, OverflowError):
                raise InputError(f"{where}: column {name} is not {dtype}") from None
        else:
            out[name] = col.to_pandas()
    df = pd.DataFrame(out)
    if kind == "traces" and "device_id" in df.columns:
        df["device_id"] = df["device_id"].astype("category")
    return df


def read_table(path: str | os.PathLike, name: str | None = None) -> pd.DataFrame:
    """Read one table of a world (CSV.gz or Parquet), with its own column types, and check it."""
    path = Path(path)
    kind = table_kind(name or path.name.split(".")[0])
    where = str(path)
    if path.name.endswith(".parquet"):
        table = read_parquet(path)
    else:
        types = {c: _arrow_type(d) for c, d in _DTYPES.get(kind, {}).items()}
        table = read_csv(path, types, newlines=False)  # fewpoints writes none inside values
    df = _frame(table, kind, where)
    if kind in COLUMNS:
        if not (kind == "traces" and len(df) == 0):
            validate(df, kind, source=where)
    return df


# ---------------------------------------------------------------------------
# Partitioned tables: one Parquet file per chunk (worlds larger than memory)
# ---------------------------------------------------------------------------

#: File names of the parts of a partitioned table, in order.
PART_NAME = "part-{:05d}.parquet"
PART_GLOB = "part-*.parquet"
#: Rows per Parquet row group, rounded up to the end of a device.
ROW_GROUP_ROWS = 1_000_000


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
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = 0
    for f in files:
        try:
            total += pq.ParquetFile(f).metadata.num_rows
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{f}: not a readable Parquet file ({exc})") from None
    return total


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
    import pyarrow as pa
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
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{f}: not a readable Parquet file ({exc})") from exc
        frames.append(table.to_pandas())
    if traces:
        if any("device_id" not in f.columns for f in frames):
            raise InputError(f"{folder}: a part has no device_id column")
        for f in frames:
            if not isinstance(f["device_id"].dtype, pd.CategoricalDtype):
                f["device_id"] = f["device_id"].astype(str).astype("category")
        df = _concat_traces(frames)
    else:
        df = pd.concat(frames, ignore_index=True)
    del frames
    for col in _TIME_COLUMNS.get(kind, []):
        if col in df.columns:
            df[col] = df[col].astype(TIME_UNIT)
    for col, dtype in _DTYPES.get(kind, {}).items():
        if dtype == "time" or col == "device_id" or col not in df.columns:
            continue
        if df[col].dtype != dtype:
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
