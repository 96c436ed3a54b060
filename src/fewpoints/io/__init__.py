"""Every read and write: a user's traces file, a world folder, Parquet parts, the output folder.

Reading. :func:`read_traces` is the one reader of a traces file (CSV, CSV.gz
or Parquet); :func:`read_world_tables` reads a world folder through the same
typed reader, after :func:`read_world_meta` has checked its ``world.json``.
Nothing is guessed row by row: every column is read as text (or as the type
Parquet stores) and converted by one rule for the whole column
(:func:`parse_times` for times, :func:`project_lat_lon` for degrees), so a
file is either read exactly or refused with one line naming the column, the
line and the fix.

Writing. :func:`atomic_folder` is the one writer of an output folder (a
world, a released world, the briefing pack): everything is written into a
hidden sibling and swapped into place when complete, with a manifest of the
files written, so ``force`` replaces only what fewpoints wrote there.
:func:`atomic_file` does the same for a single file (:func:`write_traces`).

One module per concept, every name importable from here:

- :mod:`~fewpoints.io.output`: the atomic output folder and file, the
  manifest, the ``--force`` rules (:class:`OutputError`);
- :mod:`~fewpoints.io.files`: the bytes of CSV (gzip or not) and Parquet files;
- :mod:`~fewpoints.io.times`: one rule for a column of times (:func:`parse_times`);
- :mod:`~fewpoints.io.projection`: degrees to kilometres (:class:`Projection`);
- :mod:`~fewpoints.io.columns`: which column of a traces file is which
  (:data:`TRACE_COLUMN_NAMES`);
- :mod:`~fewpoints.io.traces`: reading and writing a traces file;
- :mod:`~fewpoints.io.tables`: one table of a world, in one file or in Parquet parts;
- :mod:`~fewpoints.io.world_folder`: a world folder, its ``world.json`` and its tables;
- :mod:`~fewpoints.io.memory`: the free memory, and whether tables fit in it;
- :mod:`~fewpoints.io.messages`: the shared words of their one-line errors.
"""

from fewpoints.io.columns import TRACE_COLUMN_NAMES, trace_columns
from fewpoints.io.output import (
    MANIFEST,
    OutputError,
    atomic_file,
    atomic_folder,
    check_output_file,
    check_output_folder,
    clean_leftovers,
)
from fewpoints.io.projection import project_lat_lon
from fewpoints.io.tables import PART_GLOB, PART_NAME, read_parts, read_table, write_part
from fewpoints.io.times import parse_times
from fewpoints.io.traces import output_format, read_traces, write_traces
from fewpoints.io.world_folder import (
    read_world_meta,
    read_world_tables,
    world_table_path,
    write_world_tables,
)

# isort: split
# Not in __all__, and imported from here by the stages (the Dask engine, the
# CLI, the synthetic world, the audit): their paths fewpoints.io.NAME keep working.
from fewpoints.io.columns import column_map as column_map
from fewpoints.io.columns import recognised_words as recognised_words
from fewpoints.io.files import NA_TOKENS as NA_TOKENS
from fewpoints.io.files import require_pyarrow as require_pyarrow
from fewpoints.io.memory import available_memory as available_memory
from fewpoints.io.memory import check_fits as check_fits
from fewpoints.io.projection import KM_DECIMALS as KM_DECIMALS
from fewpoints.io.projection import Projection as Projection
from fewpoints.io.projection import centre_counts as centre_counts
from fewpoints.io.projection import check_degrees as check_degrees
from fewpoints.io.tables import ROW_GROUP_ROWS as ROW_GROUP_ROWS
from fewpoints.io.times import check_read_options as check_read_options
from fewpoints.io.traces import as_ids as as_ids
from fewpoints.io.traces import as_numbers as as_numbers
from fewpoints.io.traces import fill_info as fill_info
from fewpoints.io.world_folder import WORLD_JSON_SCHEMA as WORLD_JSON_SCHEMA

__all__ = [
    "MANIFEST",
    "PART_GLOB",
    "PART_NAME",
    "TRACE_COLUMN_NAMES",
    "OutputError",
    "atomic_file",
    "atomic_folder",
    "check_output_file",
    "check_output_folder",
    "clean_leftovers",
    "output_format",
    "parse_times",
    "project_lat_lon",
    "read_parts",
    "read_table",
    "read_traces",
    "read_world_meta",
    "read_world_tables",
    "trace_columns",
    "world_table_path",
    "write_part",
    "write_traces",
    "write_world_tables",
]

# Kept for callers of the old name.
_lat_lon_to_km = project_lat_lon
