"""Parquet input for the Dask engine, read by the rules every reader of fewpoints follows.

:func:`read_traces_dask` opens a Parquet file, a folder of them or a world
folder as a lazy ``dask.dataframe``: columns recognised by the names
:mod:`fewpoints.io` recognises, times by one rule decided once for the
whole dataset, degrees projected by one projection, each partition one file
or a run of row groups holding whole devices.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.common import renamed
from fewpoints.scale.frames import COLUMNS, require_dask
from fewpoints.schema import FewpointsError

#: Rows per partition when a world's row groups can be regrouped (whole devices in each).
ROWS_PER_PARTITION = 8_000_000


@renamed(model="observe")
def read_traces_dask(
    path: str | os.PathLike,
    *,
    observe: str | None = None,
    rows_per_partition: int = ROWS_PER_PARTITION,
    columns: dict | str | None = None,
    time_unit: str | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    info: dict | None = None,
):
    """A lazy ``dask.dataframe`` of the traces in a Parquet file, folder or world folder.

    Parameters
    ----------
    path : str or path
        A ``.parquet`` file, a folder of Parquet files (a partitioned
        dataset), or a world folder written with ``fewpoints generate
        --parquet`` (its ``traces_<observe>`` folder or file is read).
    observe : str, optional
        Which traces of a world folder (``"cdr"``, ``"pings"``); default: the
        world's first. ``model=`` is its deprecated name.
    rows_per_partition : int, default 8,000,000
        For a world written with ``--chunk-people`` (whose row groups each
        hold whole devices), row groups are gathered into partitions of
        about this many rows, which bounds a worker's memory (about 150
        bytes per row at the peak of a pass). Other datasets are read one
        file per partition.
    columns, time_unit, dayfirst, timezone, info
        As for :func:`fewpoints.io.read_traces`, whose rules every partition
        is read by: columns recognised by the same names (or ``columns``),
        times by one rule decided once for the whole dataset (the unit of Unix
        times from the column's range, the form of text times from its first
        row group), degrees projected by one projection for the whole dataset
        (:meth:`fewpoints.io.Projection.from_counts`, counted in one pass over
        the coordinates, which also refuses impossible degrees before any work).

    Raises
    ------
    FewpointsError
        If the path holds no Parquet traces, or the extra is missing.
    """
    require_dask()
    import dask.dataframe as dd

    path = Path(path)
    if not path.exists():
        raise FewpointsError(f"{path}: no such file or folder")
    target, whole = path, False
    if (path / "world.json").is_file():
        # The world is read as every reader reads it: world.json against its schema, its
        # parameters field by field, the table named by the world and confined to its folder.
        from fewpoints.io import read_world_meta, world_table_path
        from fewpoints.synth.world import params_from_json

        meta = read_world_meta(path)
        params = params_from_json(meta["params"], source=str(path / "world.json"))
        whole = bool(meta.get("chunked", {}).get("whole_devices", False))
        model = observe or (params.observe[0] if params.observe else "cdr")
        target = world_table_path(path, meta, f"traces_{model}")
        if target is None:
            raise FewpointsError(f"{path}: world.json lists traces_{model} but its file is missing")
        if target.name.endswith(".csv.gz"):
            raise FewpointsError(
                f"{path}: the Dask engine reads Parquet, and this world is gzip CSV; "
                "write it with 'fewpoints generate --parquet' (or use --engine memory)"
            )
    elif observe is not None:
        raise FewpointsError(
            "--observe applies to a world folder, not to a Parquet file or dataset"
        )
    if target.is_dir():
        files = sorted(f for f in target.rglob("*.parquet") if not f.name.startswith((".", "_")))
        if not files:
            raise FewpointsError(f"{target}: a folder without Parquet files")
    elif target.suffix == ".parquet":
        files = [target]
    else:
        raise FewpointsError(
            f"{target}: the Dask engine reads Parquet (a .parquet file or a folder of them)"
        )
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(files[0])
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise FewpointsError(f"{files[0]}: not a readable Parquet file ({exc})") from None
    # Which column is which is recognised where every reader recognises it (fewpoints.io).
    from fewpoints.io import check_read_options, fill_info, trace_columns

    check_read_options(time_unit, dayfirst, timezone, str(target))
    found = trace_columns(schema.names, str(files[0]), columns)
    degrees = "x_km" not in found
    wanted = ["device_id", "time", *(("lat", "lon") if degrees else ("x_km", "y_km"))]
    wanted += [c for c in ("accuracy_m",) if c in found]
    source = {c: found[c] for c in wanted}
    _check_types(schema, source, str(files[0]))
    rule = _time_rule(files, schema, source["time"], time_unit, dayfirst, timezone, str(target))
    projection = _projection(files, source, str(target)) if degrees else None
    convert = {"rule": rule, "timezone": timezone, "projection": projection}
    out_columns = COLUMNS + [c for c in ("accuracy_m",) if c in found]
    fill_info(info, found, rule, timezone, projection)
    pieces = _pieces(files, rows_per_partition) if whole else [(f, None) for f in files]
    meta = _read_part((files[0], None), out_columns, source=source, empty=True, convert=convert)
    return dd.from_map(
        _read_part, pieces, columns=out_columns, source=source, convert=convert, meta=meta,
        label="read-traces",
    )  # fmt: skip


def _time_rule(files, schema, name: str, time_unit, dayfirst, timezone, where: str) -> dict:
    """How every partition reads its times: one rule for the whole dataset, decided here.

    Unix times get their unit from the column's range over every row group
    (its Parquet statistics, or the values when a file has none); text
    times their form from the first row group. Datetimes need no rule.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fewpoints.io import parse_times

    t = schema.field(name).type
    rule: dict = {"time_unit": time_unit, "dayfirst": dayfirst}
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        parse_times(pa.array([], type=t), timezone=timezone, rule=rule)
        return rule
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        lo, hi = np.inf, -np.inf
        for f in files:
            pf = pq.ParquetFile(f)
            i = pf.schema_arrow.get_field_index(name)
            for g in range(pf.metadata.num_row_groups):
                st = pf.metadata.row_group(g).column(i).statistics
                if st is not None and st.has_min_max:
                    lo, hi = min(lo, st.min), max(hi, st.max)
                else:
                    v = pf.read_row_group(g, columns=[name]).column(0)
                    v = v.to_numpy(zero_copy_only=False)
                    if len(v):
                        lo, hi = min(lo, v.min()), max(hi, v.max())
        if np.isfinite(lo):
            parse_times(np.array([lo, hi]), what=f"{where}: column {name}", time_unit=time_unit,
                        timezone=timezone, rule=rule)  # fmt: skip
        return rule
    first = pq.ParquetFile(files[0])
    if first.metadata.num_row_groups:
        sample = first.read_row_group(0, columns=[name]).column(0)
        parse_times(sample, what=f"{where}: column {name}", time_unit=time_unit,
                    dayfirst=dayfirst, timezone=timezone, rule=rule)  # fmt: skip
    return rule


def _projection(files, source: dict, where: str):
    """The dataset's one projection, from the fixes of every file (and its degrees checked)."""
    import pyarrow.parquet as pq

    from fewpoints.io import Projection, as_numbers, centre_counts, check_degrees

    lat_counts = lon_counts = 0
    names = (source["lat"], source["lon"])
    for f in files:
        pf = pq.ParquetFile(f)
        for g in range(pf.metadata.num_row_groups):
            table = pf.read_row_group(g, columns=list(names))
            lat = as_numbers(table.column(0), f"{f}: column {names[0]}", None)
            lon = as_numbers(table.column(1), f"{f}: column {names[1]}", None)
            check_degrees(lat, lon, names, str(f), None)
            a, b = centre_counts(lat, lon)
            lat_counts, lon_counts = lat_counts + a, lon_counts + b
    if np.isscalar(lat_counts):
        raise FewpointsError(f"{where}: the traces table is empty")
    return Projection.from_counts(lat_counts, lon_counts)


def _check_types(schema, source: dict[str, str], where: str) -> None:
    """Refuse columns of a type the engine would misread (booleans as coordinates, numbers as times).

    Parquet says each column's type once, so this is checked before any
    partition is read; values are checked as they are read.
    """
    import pyarrow as pa

    for column in ("x_km", "y_km", "lat", "lon", "accuracy_m"):
        if column not in source:
            continue
        t = schema.field(source[column]).type
        if pa.types.is_boolean(t) or not (pa.types.is_integer(t) or pa.types.is_floating(t)):
            unit = {"lat": "degrees", "lon": "degrees", "accuracy_m": "metres"}.get(
                column, "kilometres"
            )
            raise FewpointsError(
                f"{where}: column {source[column]} holds {t}, not numbers ({unit})"
            )
    t = schema.field(source["time"]).type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if not (
        pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_integer(t)
        or pa.types.is_floating(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
    ):  # fmt: skip
        raise FewpointsError(
            f"{where}: column {source['time']} holds {t}, not times (timestamps, Unix times "
            "or text)"
        )


def _pieces(files, rows_per_partition: int) -> list:
    """Runs of consecutive row groups of about ``rows_per_partition`` rows, file by file.

    Used only for worlds whose every row group holds whole devices (as
    ``generate --chunk-people`` writes them), so a partition still does.
    """
    import pyarrow.parquet as pq

    pieces = []
    for f in files:
        meta = pq.ParquetFile(f).metadata
        sizes = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        if len(sizes) == 0:
            continue
        # Cut where the running row count crosses each multiple of an even share.
        n_pieces = max(1, -(-int(sizes.sum()) // rows_per_partition))
        share = sizes.sum() / n_pieces
        piece = np.minimum((np.cumsum(sizes) - sizes / 2) // share, n_pieces - 1).astype(int)
        for k in np.unique(piece):
            pieces.append((f, np.flatnonzero(piece == k).tolist()))
    return pieces


def _read_part(piece, columns, source=None, empty: bool = False, convert=None) -> pd.DataFrame:
    """One Parquet file, or some of its row groups, as a partition; ``device_id`` as categorical.

    ``source`` names each of ``columns`` as the file has it (``fewpoints.io.trace_columns``);
    the partition gets the traces table's own names. Decoding a
    dictionary-encoded ID column as a dictionary is several times faster than
    building one string per record, and the engine works on the codes. With
    ``convert`` (the dataset's time rule, time zone and projection), times
    are read by the one rule (:func:`fewpoints.io.parse_times`) and degrees
    projected to ``x_km, y_km``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = source or {}
    if convert is None:
        names = [source.get(c, c) for c in columns]
    else:  # x_km, y_km come from lat, lon when the dataset is in degrees
        degrees = "lat" in source
        needed = []
        for c in columns:
            needed += ["lat", "lon"] if degrees and c in ("x_km", "y_km") else [c]
        names = list(dict.fromkeys(source[c] for c in needed))
    path, row_groups = piece
    try:
        if empty:
            table = pq.read_schema(path).empty_table().select(names)
        else:
            dev = source.get("device_id", "device_id")
            schema = pq.read_schema(path)
            text = dev in schema.names and (
                pa.types.is_string(schema.field(dev).type)
                or pa.types.is_large_string(schema.field(dev).type)
            )
            f = pq.ParquetFile(path, read_dictionary=[dev] if text else None)
            if row_groups is None:
                table = f.read(columns=names)
            else:
                table = f.read_row_groups(row_groups, columns=names)
    except (OSError, ValueError) as exc:
        raise FewpointsError(f"{path}: not a readable Parquet file ({exc})") from None
    if convert is None:
        df = table.rename_columns(columns).to_pandas()
        if empty:
            df["device_id"] = df["device_id"].astype("category")
        return df
    return _converted(table, source, convert, str(path))[list(columns)]


def _converted(table, source: dict, convert: dict, where: str) -> pd.DataFrame:
    """A partition in the traces table's own columns and types, by the dataset's one rule."""
    from fewpoints.io import KM_DECIMALS, as_numbers, parse_times

    rule = convert["rule"]
    have = set(table.column_names)
    source = {k: v for k, v in source.items() if v in have}
    out = {}
    if "device_id" in source:
        out["device_id"] = _device_column(table.column(source["device_id"]), source, where)
    if "time" in source:
        out["time"] = parse_times(
            table.column(source["time"]), what=f"{where}: column {source['time']}",
            time_unit=rule.get("time_unit"), dayfirst=rule.get("dayfirst"),
            timezone=convert["timezone"],
        )  # fmt: skip
    proj = convert["projection"]
    if proj is not None and "lat" in source and "lon" in source:
        lat = as_numbers(table.column(source["lat"]), f"{where}: column {source['lat']}", None)
        lon = as_numbers(table.column(source["lon"]), f"{where}: column {source['lon']}", None)
        x, y = proj.forward(lat, lon)
        out["x_km"], out["y_km"] = np.round(x, KM_DECIMALS), np.round(y, KM_DECIMALS)
    for c in ("x_km", "y_km", "accuracy_m"):
        if c in source and c not in out:
            out[c] = as_numbers(table.column(source[c]), f"{where}: column {source[c]}", None)
    for c, v in out.items():  # Arrow's own buffers are read-only; the partition is the caller's
        if isinstance(v, np.ndarray) and not v.flags.writeable:
            out[c] = v.copy()
    # One array per column, none copied again (without copy=False, pandas copies the
    # floats into one block, which took as long as decoding them).
    return pd.DataFrame(out, copy=False)


def _device_column(dev, source: dict, where: str) -> pd.Categorical:
    """Device IDs as a categorical of their text, from a dictionary column or any other."""
    import pyarrow as pa

    from fewpoints.io import as_ids

    if pa.types.is_dictionary(dev.type):
        dev = dev.unify_dictionaries().combine_chunks()
    else:
        dev = as_ids(dev, f"{where}: column {source['device_id']}").dictionary_encode()
        if isinstance(dev, pa.ChunkedArray):
            dev = dev.unify_dictionaries().combine_chunks()
    return pd.Categorical.from_codes(
        dev.indices.to_numpy(zero_copy_only=False).astype(np.int32),
        categories=pd.Index(dev.dictionary.to_pandas(), dtype="str"),
        validate=False,
    )
