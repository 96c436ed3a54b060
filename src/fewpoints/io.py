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
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import dataclasses
import errno
import gzip
import json
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from fewpoints.schema import (
    COLUMNS,
    TIME_UNIT,
    FewpointsError,
    InputError,
    validate,
)

try:  # POSIX: a lock on each temporary output tells a live writer from a killed one
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

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


class OutputError(FewpointsError):
    """An output that cannot be written where asked (the message says why, in one line)."""


# ---------------------------------------------------------------------------
# The output folder: atomic, with a manifest, cleaning up after killed runs
# ---------------------------------------------------------------------------

#: The file, inside every folder fewpoints writes, that lists what it wrote there.
MANIFEST = ".fewpoints-manifest.json"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<token>[0-9a-f]{16})\.(?P<kind>partial|replaced)$")


def _real(out: str | os.PathLike) -> tuple[Path, Path]:
    """(the path as given, the real path it names); a symlinked output is followed, the link kept.

    Refuses the root of the file system and the current folder or any folder
    holding it (``--out .``, ``--out ..``): replacing those would pull the
    ground from under the caller.
    """
    given = Path(out)
    if str(out).strip() == "":
        raise OutputError("the output path is empty")
    real = Path(os.path.realpath(given))
    if real == Path(real.anchor):
        raise OutputError(f"{given}: is the root of the file system; name a folder to write")
    cwd = Path(os.path.realpath(Path.cwd()))
    if real == cwd or real in cwd.parents:
        raise OutputError(
            f"{given}: is the current folder or holds it; name a new folder to write "
            f"into (for example {Path(given) / 'out'})"
        )
    return given, real


def _entries(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` (folders with a trailing slash), manifest excluded."""
    found = set()
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        for d in dirs:
            p = rel / d
            # A symlink to a folder is listed as a file (it is never followed).
            found.add(p.as_posix() + ("" if (Path(root) / d).is_symlink() else "/"))
        for f in files:
            found.add((rel / f).as_posix())
    found.discard(MANIFEST)
    return found


def _manifest(folder: Path) -> set[str] | None:
    """What fewpoints wrote into ``folder`` by its manifest, or None without a readable one."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        return None
    return {e for e in data["entries"] if isinstance(e, str)}


def _write_manifest(folder: Path) -> None:
    entries = sorted(_entries(folder))
    text = json.dumps(
        {
            "written_by": "fewpoints",
            "note": "the files fewpoints wrote here; --force replaces these and nothing else",
            "entries": entries,
        },
        indent=1,
    )
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def _top(entries: Iterable[str]) -> set[str]:
    """The top-level names among ``entries`` (folders keep their trailing slash)."""
    return {e.split("/", 1)[0] + ("/" if "/" in e else "") for e in entries}


def _foreign(folder: Path, expect: Iterable[str] | None, *, deep: bool = False) -> list[str] | None:
    """Entries of ``folder`` that fewpoints did not write, or None if that cannot be told yet.

    With a manifest, anything not listed in it. Without one (a folder written
    before manifests existed), anything not in ``expect``, the entries the
    new output has: compared name by name at the top level, or (``deep``)
    path by path. With neither, None.
    """
    mine = _manifest(folder)
    if mine is not None:
        return sorted(_entries(folder) - mine)
    if expect is None:
        return None
    expect = set(expect)
    if deep:
        return sorted(_entries(folder) - expect)
    return sorted(_top(_entries(folder)) - _top(expect))


def _refuse_foreign(given: Path, foreign: list[str]) -> None:
    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3:,} more" if len(foreign) > 3 else "")
    raise OutputError(
        f"{given} holds {len(foreign):,} file(s) fewpoints did not write ({shown}); --force "
        "replaces only what fewpoints wrote: move them away or write elsewhere"
    )


def _probe_writable(real: Path, given: Path) -> None:
    """Refuse now, not after the work, an output whose nearest existing folder cannot be written."""
    here = real.parent
    while not here.exists():
        if here.is_symlink():  # a dangling link on the way
            raise OutputError(f"{given}: {here} is a broken symbolic link")
        here = here.parent
    if not here.is_dir():
        raise OutputError(f"{given}: {here} is not a folder")
    try:
        probe = _make_dir(here, ".fewpoints-probe")
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"{given}: cannot write in {here} ({_why(exc)})") from None


def check_output_folder(
    out: str | os.PathLike, *, force: bool = False, expect: Iterable[str] | None = None
) -> Path:
    """Refuse, before any work, an output folder fewpoints may not write; return it as given.

    Refused: a path that is a file; the current folder or one holding it; a
    non-empty folder without ``force``; with ``force``, a folder holding
    anything fewpoints did not write there (by its manifest; for a folder
    written before manifests, anything not named in ``expect``); a place
    whose nearest existing folder cannot be written.
    """
    given, real = _real(out)
    if real.exists() and not real.is_dir():
        raise OutputError(f"{given} exists and is not a folder")
    if real.is_dir() and any(real.iterdir()):
        if not force:
            raise OutputError(
                f"{given} exists and is not empty; use --force to replace what fewpoints wrote there"
            )
        foreign = _foreign(real, expect)
        if foreign:
            _refuse_foreign(given, foreign)
    _probe_writable(real, given)
    return given


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower() if isinstance(exc, OSError) else str(exc)


def _make_dir(parent: Path, stem: str, suffix: str = "") -> Path:
    """A new folder with a random name and the usual permissions (umask applied, not 0700)."""
    for _ in range(100):
        path = parent / f"{stem}.{secrets.token_hex(8)}{suffix}"
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))  # pragma: no cover


def _lock(path: Path) -> int | None:
    """Hold an exclusive lock on ``path`` for as long as this process lives (None where unsupported)."""
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _is_stale(path: Path) -> bool:
    """True when no live process holds ``path``'s lock (its writer was killed)."""
    if fcntl is None:  # pragma: no cover - no locks: only clean what is a day old
        import time

        try:
            return time.time() - path.lstat().st_mtime > 86_400
        except OSError:
            return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def clean_leftovers(out: str | os.PathLike) -> list[Path]:
    """Remove what killed runs left beside ``out``; restore ``out`` if a kill caught it mid-swap.

    A run writes into ``.NAME.<token>.partial`` beside ``NAME`` and holds a
    lock on it while it lives; a partial whose lock is free belongs to a run
    that was killed and is removed. Where folders cannot be swapped in one
    step, the old output waits in ``.NAME.<token>.replaced`` for a moment; if
    a kill left it there and ``NAME`` is gone, it is put back. Nothing else
    beside ``NAME`` (a ``.NAME.old`` of the user's, say) is ever touched.

    Returns the leftovers removed or restored.
    """
    real = Path(os.path.realpath(out))
    parent = real.parent
    if not parent.is_dir():
        return []
    found: dict[str, dict[str, Path]] = {}
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            m = _LEFTOVER.match(entry.name)
            if m and m["name"] == real.name:
                found.setdefault(m["token"], {})[m["kind"]] = entry
    done = []
    for kinds in found.values():
        partial, replaced = kinds.get("partial"), kinds.get("replaced")
        if partial is not None and not _is_stale(partial):
            continue  # a live run is writing it
        if replaced is not None:
            if not real.exists():
                os.rename(replaced, real)
            else:
                _remove(replaced)
            done.append(replaced)
        if partial is not None:
            _remove(partial)
            done.append(partial)
    return done


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C and SIGTERM for the moment of a swap, so it is never cut in half."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, real: Path) -> Path | None:
    """Put ``tmp`` at ``real``; return where the old contents now are (to delete), if any."""
    if not real.exists():
        os.rename(tmp, real)
        return None
    if _exchange(tmp, real):
        return tmp
    # Two renames; a kill between them leaves the old output in .replaced, and
    # clean_leftovers puts it back.
    token = _LEFTOVER.match(tmp.name)["token"]
    replaced = real.with_name(f".{real.name}.{token}.replaced")
    os.rename(real, replaced)
    os.rename(tmp, real)
    return replaced


def _output_error(given: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"{given}: could not write it ({_why(exc)}); nothing was written and any earlier "
        "output is as it was"
    )


@contextlib.contextmanager
def atomic_folder(
    out: str | os.PathLike, *, force: bool = False, expect: Iterable[str] | None = None
) -> Iterator[Path]:
    """Write a folder all at once: yield a temporary sibling that replaces ``out`` when complete.

    The one writer of every output folder. On success the folder gets a
    manifest of what was written (:data:`MANIFEST`) and replaces ``out`` in
    one step (the old contents are then deleted). On any error, Ctrl-C or
    SIGTERM, the temporary folder is removed and ``out`` is as it was; after
    a SIGKILL, the next run into the same place removes the leftovers.

    Parameters
    ----------
    out : path
        The folder to write. A symbolic link is followed (the link stays).
    force : bool, default False
        Replace an existing non-empty ``out``, provided it holds only what
        fewpoints wrote there (its manifest); anything else is named and
        refused, and never deleted.
    expect : iterable of str, optional
        The names the new output will have, for a folder written before
        manifests existed (it may be replaced if it holds nothing else).

    Raises
    ------
    OutputError
        One line: see :func:`check_output_folder`, or the disk filled up (or
        another error of the file system) while writing.
    """
    given = check_output_folder(out, force=force, expect=expect)
    real = Path(os.path.realpath(given))
    tmp = lock = None
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(real)
        tmp = _make_dir(real.parent, f".{real.name}", ".partial")
        lock = _lock(tmp)
        yield tmp
        _write_manifest(tmp)
        with _signals_held():
            if real.exists():
                if not real.is_dir():
                    raise OutputError(f"{given} exists and is not a folder")
                if any(real.iterdir()):
                    if not force:
                        raise OutputError(
                            f"{given} exists and is not empty; use --force to replace what "
                            "fewpoints wrote there"
                        )
                    foreign = _foreign(real, _entries(tmp), deep=True)
                    if foreign:
                        _refuse_foreign(given, foreign)
            old, tmp = _swap_in(tmp, real), None
        if old is not None:
            _remove(old)
    except OSError as exc:
        raise _output_error(given, exc) from None
    finally:
        if tmp is not None:
            _remove(tmp)
        if lock is not None:
            os.close(lock)


def check_output_file(out: str | os.PathLike, *, force: bool = False) -> Path:
    """Refuse, before any work, an output file fewpoints may not write; return it as given."""
    given, real = _real(out)
    if real.is_dir():
        raise OutputError(f"{given} is a folder; name a file to write")
    if real.exists() and not force:
        raise OutputError(f"{given} exists; use --force to replace it")
    _probe_writable(real, given)
    return given


@contextlib.contextmanager
def atomic_file(out: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Write one file all at once: yield a temporary path beside ``out`` that replaces it when complete."""
    given = check_output_file(out, force=force)
    real = Path(os.path.realpath(given))
    tmp = lock = None
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(real)
        for _ in range(100):
            tmp = real.with_name(f".{real.name}.{secrets.token_hex(8)}.partial")
            try:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                break
            except FileExistsError:
                continue
        lock = _lock(tmp)
        yield tmp
        with _signals_held():
            if real.exists() and not force:
                raise OutputError(f"{given} exists; use --force to replace it")
            os.replace(tmp, real)
            tmp = None
    except OSError as exc:
        raise _output_error(given, exc) from None
    finally:
        if tmp is not None:
            _remove(tmp)
        if lock is not None:
            os.close(lock)


# ---------------------------------------------------------------------------
# Opening a file
# ---------------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_TEXT_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz", ".gz")
#: What a text file holds where a value is missing (read as missing in number columns only;
#: text columns keep every value as written, so a device called "NA" stays "NA").
NA_TOKENS = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", "None")


def _open_check(path: Path) -> bytes:
    """The first bytes of ``path``, after checking it is a readable file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            return f.read(4)
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({_why(exc)})") from None


def _compressed(path: Path, magic: bytes) -> bool:
    """Whether a text file is gzip-compressed, by its first bytes (a .gz name must be)."""
    if magic.startswith(_GZIP_MAGIC):
        return True
    if path.name.lower().endswith(".gz"):
        raise InputError(f"{path}: not a readable CSV file (named .gz but not gzip-compressed)")
    return False


def _header(path: Path, sep: str, compressed: bool) -> list[str]:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            first = f.readline(1 << 20)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({_why(exc)})") from None
    if not first.strip():
        raise InputError(f"{path}: the file is empty")
    if b"\x00" in first:
        raise InputError(f"{path}: not a readable CSV file (binary data, not text)")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a readable CSV file (not UTF-8 text)") from None
    names = next(csv.reader([text.rstrip("\r\n")], delimiter=sep), [])
    return names


def _arrow_error(path: Path, exc: Exception, names: list[str] | None = None) -> InputError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    m = re.match(r"In CSV column #(\d+): (.*)", text)
    if m and names is not None and int(m[1]) < len(names):
        text = f"column {names[int(m[1])].strip()}: {m[2]}"
    m = re.match(r"CSV parse error: Expected (\d+) columns, got (\d+): (.*)", text)
    if m:
        text = f"a row has {m[2]} value(s) where the header names {m[1]} columns: {m[3][:80]!r}"
    return InputError(f"{path}: not a readable CSV file ({text})")


def _read_csv(path: Path, types: dict[str, object], *, newlines: bool = True):
    """A CSV file (gzip-compressed or not) as an Arrow table; columns not in ``types`` as text.

    Text columns are never missing (an empty cell is the empty string);
    number columns read :data:`NA_TOKENS` as missing.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    magic = _open_check(path)
    if magic.startswith(_PARQUET_MAGIC):
        raise InputError(f"{path}: holds Parquet, not CSV text; name it .parquet")
    compressed = _compressed(path, magic)
    sep = "\t" if ".tsv" in path.name.lower() else ","
    names = _header(path, sep, compressed)
    stripped = [n.strip() for n in names]
    dup = sorted({n for n in stripped if stripped.count(n) > 1})
    if dup:
        raise InputError(f"{path}: column {dup[0]} appears more than once")
    column_types = {}
    for raw, name in zip(names, stripped, strict=True):
        column_types[raw] = types.get(name, pa.string())
    try:
        stream = pa.input_stream(str(path), compression="gzip" if compressed else None)
        table = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=newlines),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types,
                null_values=list(NA_TOKENS),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                true_values=["True", "true", "TRUE"],
                false_values=["False", "false", "FALSE"],
            ),
        )
    except (pa.ArrowException, OSError, ValueError, EOFError) as exc:
        if "Empty CSV file" in str(exc):
            raise InputError(f"{path}: the file is empty") from None
        raise _arrow_error(path, exc, names) from None
    return table.rename_columns(stripped)


def _read_parquet(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    magic = _open_check(path)
    if not magic.startswith(_PARQUET_MAGIC):
        raise InputError(f"{path}: not a readable Parquet file (no Parquet header)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable Parquet file ({first})") from None
    names = [str(n).strip() for n in table.column_names]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{path}: column {dup[0]} appears more than once")
    return table.rename_columns(names)


# ---------------------------------------------------------------------------
# One rule for a column of times
# ---------------------------------------------------------------------------

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


def _row(i: int, first_line: int | None) -> str:
    return f"line {i + first_line}" if first_line is not None else f"row {i + 1}"


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


def _show(value) -> str:
    """A value as a user wrote it: numpy scalars as plain numbers (95.0, not np.float64(95.0))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first(mask, values, first_line) -> tuple[str, object]:
    """(where, value) of the first True of ``mask`` (a numpy bool array)."""
    i = int(np.argmax(mask))
    return _row(i, first_line), values[i]


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

    if arr.type.tz is None:
        return (
            pc.floor_temporal(arr, unit="second")
            .cast(pa.timestamp("s"))
            .to_numpy(zero_copy_only=False)
            .astype(TIME_UNIT)
        )
    utc = pc.floor_temporal(arr, unit="second").cast(pa.timestamp("s", tz="UTC"))
    seconds = utc.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(TIME_UNIT)
    return _to_local(seconds, timezone)


def _unix(v: np.ndarray, what, time_unit, timezone, first_line, rule=None) -> np.ndarray:
    v = np.asarray(v)
    if v.dtype.kind == "f":
        bad = ~np.isfinite(v)
        if bad.any():
            where, value = _first(bad, v, first_line)
            raise InputError(f"{what} has a number that is not a time ({_show(value)} on {where})")
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
        where, value = _first(out_of_range, v, first_line)
        raise InputError(
            f"{what}: {_show(value)} on {where} is too large for a Unix time in {unit}"
        )
    seconds = np.floor_divide(v, scale) if v.dtype.kind in "iu" else np.floor(v / scale)
    return _to_local(seconds.astype(np.int64).astype(TIME_UNIT), timezone)


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
    if naive_iso.any() and offset_iso.any():
        a, va = _first(offset_iso, text, first_line)
        b, vb = _first(naive_iso, text, first_line)
        raise InputError(
            f"{what} mixes times with a UTC offset ({va!r} on {a}) and without ({vb!r} on {b}); "
            "give every time an offset, or none"
        )
    if iso.any() and dmy.any():
        a, va = _first(iso, text, first_line)
        b, vb = _first(dmy, text, first_line)
        raise InputError(
            f"{what} mixes ISO dates ({va!r} on {a}) and day/month/year dates ({vb!r} on {b}); "
            "write every date one way"
        )
    known = iso | dmy
    if not known.all():
        bad = ~known
        where, value = _first(bad, text, first_line)
        if re.match(_TIME_ONLY, str(value)):
            raise InputError(
                f"{what}: {_show(value)} on {where} is a time without a date; write the date too "
                "(2026-03-02 08:15:00)"
            )
        raise InputError(
            f"{what} has an unparsable time {_show(value)} on {where}; write times as {_FORMS}"
        )
    if dmy.all():
        return _dmy_times(arr, text, what, dayfirst, first_line, rule)
    # Every value has an ISO form, yet the column did not parse: an impossible date or offset.
    kind = pa.timestamp("ns", tz="UTC") if offset_iso.any() else pa.timestamp("ns")
    where, value = _first_invalid(arr, kind, text, first_line)
    raise InputError(
        f"{what}: {_show(value)} on {where} is not a valid date and time (or is outside the "
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
            return _row(i, first_line), text[i]
    return _row(lo, first_line), text[lo]  # pragma: no cover


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
            wa, va = _first(day_first, text, first_line)
            wb, vb = _first(month_first, text, first_line)
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
        where, value = _first(bad, text, first_line)
        order = "day/month/year" if dayfirst else "month/day/year"
        raise InputError(f"{what}: {_show(value)} on {where} is not a valid date read as {order}")
    return stamps.to_numpy().astype(TIME_UNIT)


# ---------------------------------------------------------------------------
# Numbers, IDs, degrees
# ---------------------------------------------------------------------------


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
        where, value = _first(bad, col.to_numpy(zero_copy_only=False), first_line)
        if str(value).strip() in ("True", "False", "true", "false", "TRUE", "FALSE"):
            raise InputError(
                f"{what} holds true/false values, not numbers ({_show(value)} on {where})"
            )
        raise InputError(f"{what} must be numeric (found {_show(value)} on {where})")
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


_EARTH_RADIUS_KM = 6371.0088
#: Bins (degrees) in which a file's fixes are counted to find its median.
_CENTRE_STEP = 0.1


@dataclasses.dataclass(frozen=True)
class Projection:
    """Lambert azimuthal equal-area projection of the sphere, centred on ``(lat0, lon0)``, in km.

    Areas are exact on the sphere (a 1 km square covers 1 km² wherever it
    is), so square cells coarsen a whole country fairly, and distances stay
    within 0.1% of the sphere's up to 500 km from the centre, 0.35% up to
    1,000 km and 1.3% up to 2,000 km (the scale is ``1 / cos(c / 2)`` across
    and its inverse along the direction from the centre, ``c`` the angle
    from it). The Earth is taken as a sphere of radius 6,371.0088 km, which
    adds at most about 0.5% against the ellipsoid. The same projection
    (``x`` east, ``y`` north) is used for a traces file and its places file.
    """

    lat0: float
    lon0: float

    def forward(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """Degrees to kilometres east (x) and north (y) of the centre."""
        phi = np.deg2rad(np.asarray(lat, dtype=np.float64))
        dlam = np.deg2rad((np.asarray(lon, dtype=np.float64) - self.lon0 + 180.0) % 360.0 - 180.0)
        p0 = np.deg2rad(self.lat0)
        cos_c = np.sin(p0) * np.sin(phi) + np.cos(p0) * np.cos(phi) * np.cos(dlam)
        k = np.sqrt(2.0 / np.maximum(1.0 + cos_c, 1e-300))
        x = _EARTH_RADIUS_KM * k * np.cos(phi) * np.sin(dlam)
        y = (
            _EARTH_RADIUS_KM
            * k
            * (np.cos(p0) * np.sin(phi) - np.sin(p0) * np.cos(phi) * np.cos(dlam))
        )
        return x, y

    def inverse(self, x_km, y_km) -> tuple[np.ndarray, np.ndarray]:
        """Kilometres east and north of the centre to degrees (lat, lon in -180..180)."""
        x = np.asarray(x_km, dtype=np.float64)
        y = np.asarray(y_km, dtype=np.float64)
        rho = np.hypot(x, y)
        c = 2.0 * np.arcsin(np.clip(rho / (2.0 * _EARTH_RADIUS_KM), -1.0, 1.0))
        p0 = np.deg2rad(self.lat0)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(rho > 0, y * np.sin(c) * np.cos(p0) / np.where(rho > 0, rho, 1.0), 0.0)
        phi = np.arcsin(np.clip(np.cos(c) * np.sin(p0) + s, -1.0, 1.0))
        lam = np.arctan2(x * np.sin(c), rho * np.cos(p0) * np.cos(c) - y * np.sin(p0) * np.sin(c))
        lon = (self.lon0 + np.rad2deg(lam) + 180.0) % 360.0 - 180.0
        return np.rad2deg(phi), lon

    @classmethod
    def for_data(cls, lat, lon) -> Projection:
        """The projection of a file: centred on its median fix, rounded to the whole degree.

        The median latitude, and the median longitude on the circle cut at the
        widest gap between the fixes (so that data either side of the
        antimeridian stay together), counted in 0.1-degree bins and rounded to
        the nearest whole degree: a few stray fixes far away do not move it,
        files of one area share one frame, and a file read in parts
        (:func:`centre_counts`, summed) gets the same centre as read whole.
        The centre is then at most about 80 km from the median, which changes
        no distance by more than 0.01%.
        """
        return cls.from_counts(*centre_counts(lat, lon))

    @classmethod
    def from_counts(cls, lat_counts: np.ndarray, lon_counts: np.ndarray) -> Projection:
        """The projection of :meth:`for_data` from its bin counts (summed over a file's parts)."""
        lat_counts = np.asarray(lat_counts, dtype=np.int64)
        lon_counts = np.asarray(lon_counts, dtype=np.int64)
        if lat_counts.sum() == 0:
            raise InputError("no coordinates to centre a projection on")
        half = lat_counts.sum() / 2.0
        lat0 = (int(np.searchsorted(np.cumsum(lat_counts), half)) - 900) * _CENTRE_STEP
        n = len(lon_counts)
        # Cut the circle in the middle of its widest run of empty bins.
        occupied = np.flatnonzero(lon_counts)
        gaps = np.diff(np.append(occupied, occupied[0] + n))
        widest = int(np.argmax(gaps))
        cut = (occupied[widest] + gaps[widest] // 2 + 1) % n
        rolled = np.roll(lon_counts, -cut)
        k = (int(np.searchsorted(np.cumsum(rolled), half)) + cut) % n
        lon0 = (k - 1800) * _CENTRE_STEP
        lon0 = (lon0 + 180.0) % 360.0 - 180.0
        lat0 = float(np.clip(np.round(lat0), -90, 90))
        lon0 = float((np.round(lon0) + 180.0) % 360.0 - 180.0)
        return cls(lat0 + 0.0, lon0 + 0.0)

    def describe(self) -> str:
        ns = "N" if self.lat0 >= 0 else "S"
        ew = "E" if self.lon0 >= 0 else "W"
        return (
            f"latitude/longitude projected to km by a Lambert azimuthal equal-area projection "
            f"centred at {abs(self.lat0):.0f}°{ns} {abs(self.lon0):.0f}°{ew} (the file's "
            "median fix, to the degree): areas exact, distances within 0.35% up to 1,000 km "
            "from the centre and 1.3% up to 2,000 km"
        )


def centre_counts(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Fixes per 0.1-degree bin of latitude (1,801 bins) and of longitude (3,600), for a centre."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    i = np.clip(np.rint(lat / _CENTRE_STEP).astype(np.int64) + 900, 0, 1800)
    j = (np.rint(lon / _CENTRE_STEP).astype(np.int64) + 1800) % 3600
    return np.bincount(i, minlength=1801), np.bincount(j, minlength=3600)


def project_lat_lon(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Degrees to kilometres by the projection of the data themselves (:meth:`Projection.for_data`)."""
    return Projection.for_data(lat, lon).forward(lat, lon)


#: Projected kilometres are kept to the micrometre (9 decimals): no distance that matters
#: changes, and degrees written from kilometres read back to the same kilometres.
KM_DECIMALS = 9


def check_degrees(lat, lon, names: tuple[str, str], where: str, first_line) -> None:
    """Refuse, naming the column and the fix, degrees that cannot be latitude and longitude."""
    lat_name, lon_name = names
    for v, name in ((lat, lat_name), (lon, lon_name)):
        if np.isnan(v).any():
            where_, _ = _first(np.isnan(v), v, first_line)
            raise InputError(f"{where}: column {name} has {int(np.isnan(v).sum()):,} missing "
                             f"value(s) (first on {where_})")  # fmt: skip
        if not np.isfinite(v).all():
            raise InputError(f"{where}: column {name} has infinite values")
    bad_lat = np.abs(lat) > 90
    if bad_lat.any():
        at, value = _first(bad_lat, lat, first_line)
        if (np.abs(lon) <= 90).all():
            raise InputError(
                f"{where}: column {lat_name} holds {float(value):g} on {at}, beyond +-90 degrees "
                f"({lat_name} must be within +-90), while {lon_name} stays within +-90: "
                "latitude and longitude look swapped; map them "
                f"with --columns lat={lon_name},lon={lat_name}"
            )
        raise InputError(
            f"{where}: column {lat_name} holds {float(value):g} on {at}, beyond +-90 degrees of "
            f"latitude ({lat_name} must be within +-90); map the latitude column with "
            "--columns lat=COLUMN"
        )
    bad_lon = np.abs(lon) > 180
    if bad_lon.any():
        at, value = _first(bad_lon, lon, first_line)
        raise InputError(
            f"{where}: column {lon_name} holds {float(value):g} on {at}, beyond +-180 degrees of "
            "longitude (coordinates in metres or another projection? give them in degrees, or "
            "as x_km,y_km)"
        )


# ---------------------------------------------------------------------------
# read_traces: the one reader of a user's traces
# ---------------------------------------------------------------------------

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


def _arrow_types(found: dict[str, str]) -> dict[str, object]:
    import pyarrow as pa

    number = {"x_km", "y_km", "lat", "lon", "accuracy_m", "antenna_id"}
    return {
        name: (pa.float64() if column in number else pa.string()) for column, name in found.items()
    }


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
        table, first_line = _read_parquet(path), None
        found = trace_columns(table.column_names, where, columns)
    elif name.endswith(_TEXT_SUFFIXES):
        magic = _open_check(path)
        sep = "\t" if ".tsv" in name else ","
        found = trace_columns(_header(path, sep, _compressed(path, magic)), where, columns)
        try:
            table = _read_csv(path, _arrow_types(found))
        except InputError:
            # A number column that is not numbers: read it as text to name the value and line.
            table = _read_csv(path, {})
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
    if info is not None:
        info.update(
            columns=dict(found),
            columns_words=recognised_words(found),
            time=rule.get("form", ""),
            rule=rule,
            timezone=str(timezone),
            projection=None if "x_km" in found else projection,
        )
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
_CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_CSV_CHUNK_ROWS = 500_000


def output_format(path: str | os.PathLike) -> str:
    """The format a file name asks for: ``csv``, ``csv.gz``, ``tsv``, ``tsv.gz`` or ``parquet``."""
    name = Path(path).name.lower()
    for suffix, fmt in _OUTPUT_FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise OutputError(
        f"{path}: name the output's format by its extension: " + ", ".join(_OUTPUT_FORMATS)
    )


def _write_text(df: pd.DataFrame, path: Path, *, sep: str, compress: bool, on_rows=None) -> None:
    """CSV text, gzip-compressed or not; the bytes depend only on the table (no name or time in the gzip header).

    Rows are formatted in chunks, so a table of a hundred million rows never
    needs its whole text in memory; ``on_rows(n)`` is called after each chunk.
    """
    with open(path, "wb") as raw:
        gz = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
            if compress
            else None
        )
        out = gz if gz is not None else raw
        try:
            for start in range(0, max(len(df), 1), _CSV_CHUNK_ROWS):
                chunk = df.iloc[start : start + _CSV_CHUNK_ROWS]
                text = chunk.to_csv(
                    index=False,
                    header=start == 0,
                    sep=sep,
                    date_format=_CSV_TIME_FORMAT,
                    lineterminator="\n",
                )
                out.write(text.encode("utf-8"))
                if on_rows is not None:
                    on_rows(len(chunk))
        finally:
            if gz is not None:
                gz.close()


def _write_csv_gz(df: pd.DataFrame, path: Path, on_rows=None) -> None:
    _write_text(df, path, sep=",", compress=True, on_rows=on_rows)


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
            _write_text(
                df, tmp, sep="\t" if fmt.startswith("tsv") else ",", compress=fmt.endswith(".gz")
            )
    return Path(path)


# ---------------------------------------------------------------------------
# A world folder: world.json, its tables
# ---------------------------------------------------------------------------

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
        raise InputError(f"{where}: cannot read it ({_why(exc)})") from None
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


def _table_kind(name: str) -> str:
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
    kind = _table_kind(name or path.name.split(".")[0])
    where = str(path)
    if path.name.endswith(".parquet"):
        table = _read_parquet(path)
    else:
        types = {c: _arrow_type(d) for c, d in _DTYPES.get(kind, {}).items()}
        table = _read_csv(path, types, newlines=False)  # fewpoints writes none inside values
    df = _frame(table, kind, where)
    if kind in COLUMNS:
        if not (kind == "traces" and len(df) == 0):
            validate(df, kind, source=where)
    return df


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
            kind = _table_kind(name)
            rows[kind] = rows.get(kind, 0) + int(n)
        check_fits(rows, f"{path} (a world written in chunks)")
        for name in meta["tables"]:
            single = path / f"{name}.parquet"
            if single.is_file():
                tables[name] = read_table(_inside(path, single), name)
            elif (path / name).is_dir():
                tables[name] = read_parts(
                    _inside(path, path / name), _table_kind(name), check_memory=False
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = 0
    for f in files:
        try:
            total += pq.ParquetFile(f).metadata.num_rows
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{f}: not a readable Parquet file ({exc})") from None
    return total


def available_memory() -> int | None:
    """Bytes of memory available to this process now (None where it cannot be read)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(rows: dict[str, int], where: str) -> None:
    """Refuse to read tables of ``rows`` (kind -> rows) that would not fit in the free memory."""
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


# Kept for callers of the old name.
_lat_lon_to_km = project_lat_lon
