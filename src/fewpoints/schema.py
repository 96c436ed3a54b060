"""The tables every stage speaks: their columns and their validation.

fewpoints works on long-format pandas DataFrames with literal column names
(see docs/data-model.md). Coordinates are kilometres in the synthetic
city's own frame; times are ``datetime64[s]`` in one synthetic local time zone.

``traces`` is the one interface between stages: the broker's dataset, one row
per observation, with a pseudonymous ``device_id`` and nothing else about the
person. Everything in ``people`` and ``stays`` is ground truth and is never
part of a released table.

Reading and writing them (files, worlds, Parquet parts, the output folder)
is :mod:`fewpoints.io`; its functions are importable from here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "TIME_UNIT",
    "FewpointsError",
    "InputError",
    "validate",
    "validate_traces",
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

    Examples
    --------
    >>> import pandas as pd
    >>> traces = pd.DataFrame({
    ...     "device_id": ["a"], "time": pd.to_datetime(["2026-03-02 08:00"]),
    ...     "x_km": [0.0], "y_km": [0.0],
    ... })
    >>> validate(traces, "traces") is traces
    True
    >>> validate(traces.drop(columns="y_km"), "traces")
    Traceback (most recent call last):
        ...
    fewpoints.schema.InputError: traces table is missing column(s) y_km; expected device_id, time, x_km, y_km
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
    clean = not optional and kind != "Int" and _surely_clean(s)
    if kind != "Int" and not clean and s.isna().any():
        raise InputError(f"{label} has {int(s.isna().sum()):,} missing value(s)")
    if kind in ("float", "int", "Int") and pd.api.types.is_bool_dtype(s):
        raise InputError(f"{label} holds true/false values, not numbers")
    if kind == "float":
        if not pd.api.types.is_numeric_dtype(s):
            raise InputError(f"{label} must be numeric, got {s.dtype}")
        bad = np.zeros(1, dtype=bool) if clean else ~np.isfinite(s.to_numpy(dtype=float))
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


def _surely_clean(s: pd.Series) -> bool:
    """True if ``s`` has no missing value and, if float, no infinite one, read in one pass.

    A float column's sum is finite only if every value is (NaN and infinity
    propagate; a sum that overflows says False and the exact checks run);
    missing times are NaT, the lowest int64; a categorical's missing code is
    -1. False means "check exactly", never "bad".
    """
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = s.array.codes  # no copy
        return len(codes) == 0 or int(codes.min()) >= 0
    if not isinstance(dtype, np.dtype) or len(s) == 0:
        return False
    if dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(s.to_numpy().sum()))
    if dtype.kind == "M":
        return int(s.to_numpy().view(np.int64).min()) != np.iinfo(np.int64).min
    return dtype.kind in "iub"


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
# Reading and writing live in fewpoints.io; their old import paths keep working.
# ---------------------------------------------------------------------------

_FROM_IO = frozenset(
    {
        "PART_GLOB",
        "PART_NAME",
        "ROW_GROUP_ROWS",
        "OutputError",
        "atomic_folder",
        "check_fits",
        "check_output_folder",
        "read_parts",
        "read_table",
        "read_traces",
        "read_world_tables",
        "require_pyarrow",
        "write_part",
        "write_world_tables",
    }
)


def __getattr__(name: str):
    """Old import paths of the readers and writers: they work, with a DeprecationWarning."""
    if name in _FROM_IO:
        import warnings

        from fewpoints import io

        warnings.warn(
            f"fewpoints.schema.{name} moved to fewpoints.io.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
