"""A world folder: its ``world.json``, checked, and its tables, read and written all at once.

:func:`read_world_meta` checks ``world.json`` (the object, its keys, its
table names and sizes); :func:`read_world_tables` reads every table it
lists, each a file or folder inside the world folder
(:func:`world_table_path`), of the size it says; :func:`write_world_tables`
writes them through :func:`fewpoints.io.output.atomic_folder`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from fewpoints.io.files import require_pyarrow, write_text
from fewpoints.io.memory import check_fits
from fewpoints.io.messages import why
from fewpoints.io.output import atomic_folder
from fewpoints.io.tables import read_parts, read_table, table_kind
from fewpoints.schema import InputError

#: Table names a world.json may list (never a path: no separators, no dots).
_TABLE_NAME = re.compile(r"^(places|antennas|people|stays|directory|posts|traces_[a-z][a-z0-9_]*)$")
#: The tables every world has (people and stays are left out of a released world).
_REQUIRED_TABLES = ("places", "antennas", "directory", "posts")
#: world.json's keys, with their JSON types and whether a world must have them.
WORLD_JSON_SCHEMA: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "generator": (str, False),
    "generator_version": (str, False),
    "synthetic": (bool, False),
    "command": (str, False),
    "params": (dict, True),
    "tables": (dict, True),
    "format": (str, False),
    "chunked": (dict, False),
    "anonymized": (dict, False),
}
_JSON_TYPE = {
    str: "text",
    bool: "true or false",
    dict: "an object",
    list: "a list",
    int: "a number",
}


def read_world_meta(path: str | os.PathLike) -> dict:
    """Read and check a world folder's ``world.json``: the object, its keys, its table names and sizes.

    Its ``params`` are checked by :func:`fewpoints.synth.world.read_world`
    against the world's parameters.

    Raises
    ------
    InputError
        One line: no world.json, not JSON, not an object, a key of the wrong
        kind, no tables, a table name that is not a table (a path, say), a
        size that is not a count.
    """
    path = Path(path)
    meta_file = path / "world.json"
    if not meta_file.is_file():
        raise InputError(f"{path}: not a fewpoints world folder (no world.json)")
    where = str(meta_file)
    try:
        text = meta_file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"{where}: cannot read it ({why(exc)})") from None
    except UnicodeDecodeError:
        raise InputError(f"{where}: not JSON text (binary data)") from None
    if not text.strip():
        raise InputError(f"{where}: is empty")
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{where}: must hold a JSON object, not {type(meta).__name__}")
    for key, (kind, required) in WORLD_JSON_SCHEMA.items():
        if key not in meta:
            if required:
                raise InputError(f"{where}: has no {key!r}")
            continue
        if not isinstance(meta[key], kind) or (kind is not bool and isinstance(meta[key], bool)):
            raise InputError(f"{where}: {key!r} must be {_JSON_TYPE[kind]}, got {meta[key]!r}")
    tables = meta["tables"]
    if not tables:
        raise InputError(f"{where}: lists no tables")
    for name, rows in tables.items():
        if not _TABLE_NAME.match(name):
            raise InputError(
                f"{where}: {name!r} is not a table name (places, antennas, people, stays, "
                "directory, posts, traces_MODEL); tables are files inside the world folder"
            )
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InputError(f"{where}: the size of {name} must be a count, got {rows!r}")
    missing = [t for t in _REQUIRED_TABLES if t not in tables]
    if missing:
        raise InputError(f"{where}: lists no {', '.join(missing)} table(s)")
    if not any(n.startswith("traces_") for n in tables):
        raise InputError(f"{where}: lists no traces (traces_cdr, traces_pings, ...)")
    chunked = meta.get("chunked")
    if chunked is not None and not isinstance(chunked.get("part_rows", {}), dict):
        raise InputError(f"{where}: 'chunked' has no valid part_rows")
    return meta


def _inside(folder: Path, target: Path) -> Path:
    """``target``, refused if it (or a link it is) leads outside ``folder``."""
    real_folder = Path(os.path.realpath(folder))
    real = Path(os.path.realpath(target))
    if real != real_folder and real_folder not in real.parents:
        raise InputError(f"{target}: leads outside the world folder {folder} (to {real})")
    return target


def world_table_path(folder: str | os.PathLike, meta: dict, name: str) -> Path | None:
    """Where table ``name`` of a world lies: ``name/`` (Parquet parts), ``name.parquet`` or ``name.csv.gz``.

    ``meta`` is the world's checked ``world.json`` (:func:`read_world_meta`);
    a table it does not list is refused, and so is one whose file (or a link
    it is) leads outside ``folder``. None when the world lists the table but
    it has none of the three forms.
    """
    folder = Path(folder)
    if name not in meta["tables"]:
        listed = ", ".join(n for n in meta["tables"] if n.startswith("traces_")) or "none"
        raise InputError(f"{folder}: world.json lists no table {name!r} (its traces: {listed})")
    for candidate in (folder / name, folder / f"{name}.parquet", folder / f"{name}.csv.gz"):
        if candidate.exists():
            return _inside(folder, candidate)
    return None


def read_world_tables(path: str | os.PathLike) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read every table and the metadata of a world folder written by :func:`write_world_tables`.

    ``world.json`` is checked first (:func:`read_world_meta`); every table it
    lists must be a file or folder inside the world folder, read with its own
    column types, of the size world.json says.
    """
    path = Path(path)
    meta = read_world_meta(path)
    tables = {}
    if meta.get("chunked") or meta.get("format") == "parquet":
        rows = {}
        for name, n in meta["tables"].items():
            kind = table_kind(name)
            rows[kind] = rows.get(kind, 0) + int(n)
        check_fits(rows, f"{path} (a world written in chunks)")
        for name in meta["tables"]:
            single = path / f"{name}.parquet"
            if single.is_file():
                tables[name] = read_table(_inside(path, single), name)
            elif (path / name).is_dir():
                tables[name] = read_parts(
                    _inside(path, path / name), table_kind(name), check_memory=False
                )
            else:
                raise InputError(f"{path}: world.json lists {name} but {name}/ is missing")
    else:
        for name in meta["tables"]:
            f = path / f"{name}.csv.gz"
            if not f.is_file():
                raise InputError(f"{path}: world.json lists {name} but {f.name} is missing")
            tables[name] = read_table(_inside(path, f), name)
    for name, df in tables.items():
        if len(df) != meta["tables"][name]:
            raise InputError(
                f"{path}: {name} has {len(df):,} rows but world.json says "
                f"{meta['tables'][name]:,}; the file is truncated or was changed"
            )
    return tables, meta


def _write_csv_gz(df: pd.DataFrame, path: Path, on_rows=None) -> None:
    write_text(df, path, sep=",", compress=True, on_rows=on_rows)


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

    Written through :func:`atomic_folder`: nothing half-written is ever seen,
    and an existing non-empty ``out`` is refused unless ``force`` (which
    replaces only what fewpoints wrote there).

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
    names = [f"{name}.csv.gz" for name in tables] + ["world.json"]
    if parquet:
        names += [f"{name}.parquet" for name in tables]
    written = []
    with atomic_folder(out, force=force, expect=names) as tmp:
        for name, df in tables.items():
            _write_csv_gz(df, tmp / f"{name}.csv.gz", on_rows)
            written.append(out / f"{name}.csv.gz")
            if parquet:
                df.to_parquet(tmp / f"{name}.parquet", index=False)
                written.append(out / f"{name}.parquet")
        (tmp / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        written.append(out / "world.json")
    return written
