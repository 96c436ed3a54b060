"""The output folder: written all at once, with a manifest, cleaning up after killed runs.

:func:`atomic_folder` is the one writer of an output folder (a world, a
released world, the briefing pack): everything is written into a hidden
sibling and swapped into place when complete, with a manifest of the files
written (:data:`MANIFEST`), so ``force`` (``--force``) replaces only what
fewpoints wrote there. :func:`atomic_file` does the same for a single file;
:func:`check_output_folder` and :func:`check_output_file` refuse, before any
work, an output that may not be written; :func:`clean_leftovers` removes
what a killed run left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from fewpoints.io.messages import why
from fewpoints.schema import FewpointsError

try:  # POSIX: a lock on each temporary output tells a live writer from a killed one
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class OutputError(FewpointsError):
    """An output that cannot be written where asked (the message says why, in one line)."""


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
        raise OutputError(f"{given}: cannot write in {here} ({why(exc)})") from None


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


def _discard(tmp: Path | None, lock: int | None) -> None:
    """Remove an unfinished temporary output (if one is left) and release its lock."""
    if tmp is not None:
        _remove(tmp)
    if lock is not None:
        os.close(lock)


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
        f"{given}: could not write it ({why(exc)}); nothing was written and any earlier "
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
        _discard(tmp, lock)


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
        _discard(tmp, lock)
