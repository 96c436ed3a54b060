"""The shared base layer: encodings and argument checks every stage uses.

Small, dependency-free helpers (numpy and pandas only) that several stages
need: device codes, sorted-unique keys, the checks of a number of points, of
targets, of positive numbers, shares and durations, the nearest centre of a
point, the one-row table of a result made of numbers (:class:`OneRow`), and
the one way an old keyword keeps working under its new name (:func:`renamed`).
A stage imports these from here, never another stage's private helpers.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np
import pandas as pd

from fewpoints.schema import FewpointsError


class OneRow:
    """Mixin for a dataclass result made of numbers: :meth:`to_frame` gives it as a one-row table."""

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row table, one column per field (rows of several concatenate)."""
        return pd.DataFrame([dataclasses.asdict(self)])


def positive(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FewpointsError(f"{name} must be a number, got {value!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise FewpointsError(f"{name} must be positive, got {value!r}")
    return v


def duration_seconds(value, name: str) -> int:
    try:
        step = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise FewpointsError(f"{name} is not a duration: {value!r}") from None
    seconds = step.total_seconds()
    if not seconds >= 1 or seconds != int(seconds):
        raise FewpointsError(f"{name} must be a whole number of seconds, got {value!r}")
    return int(seconds)


def check_share(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FewpointsError(f"{name} must be a number, got {value!r}") from None
    if not (0.0 < v <= 1.0):
        raise FewpointsError(f"{name} must be a share in (0, 1], got {value!r}")
    return v


#: Noise that moves points further than around the Earth has no meaning (and overflows).
EARTH_CIRCUMFERENCE_KM = 40_075.0


def within_earth(km: float, what: str, scale: str) -> None:
    if not km <= EARTH_CIRCUMFERENCE_KM:
        raise FewpointsError(
            f"{what} gives {scale} {km:,.3g} km, more than the Earth's circumference "
            f"({EARTH_CIRCUMFERENCE_KM:,.0f} km): nothing of the data would be left"
        )


def nearest(
    x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray, max_work: int = 1 << 24
) -> np.ndarray:
    """Index of the nearest of the centres (cx, cy) to each point (x, y), by chunks of points."""
    out = np.empty(len(x), dtype=np.int64)
    chunk = max(1, max_work // max(len(cx), 1))
    for s in range(0, len(x), chunk):
        dx = x[s : s + chunk, None] - cx[None, :]
        dy = y[s : s + chunk, None] - cy[None, :]
        out[s : s + chunk] = np.argmin(dx * dx + dy * dy, axis=1)
    return out


def ascii_index(text: np.ndarray, *, width: int) -> pd.Index:
    """A ``str`` Index of ``len(text) // width`` fixed-width ASCII strings packed in ``text``.

    With pyarrow (pandas' ``str`` is then Arrow-backed) the strings are the
    buffer itself, with no Python object; otherwise one decode and split makes
    the Python strings in C.
    """
    n = len(text) // width
    dtype = pd.Index([], dtype="str").dtype  # what this pandas means by "str"
    storage = getattr(dtype, "storage", None)
    if storage == "pyarrow":
        import pyarrow as pa

        offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
        values = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))
        return pd.Index(pd.arrays.ArrowStringArray(values, dtype=dtype), copy=False)
    lines = np.empty((n, width + 1), dtype=np.uint8)
    lines[:, :width] = text.reshape(n, width)
    lines[:, width] = ord("\n")
    words = str(memoryview(lines).cast("B"), "ascii").split("\n")
    del lines
    words.pop()  # after the last newline
    strings = np.array(words, dtype=object)
    del words
    if storage == "python":
        return pd.Index(pd.arrays.StringArray(strings, dtype=dtype), copy=False)
    return pd.Index(strings, dtype=dtype)  # older pandas: object (or its own string type)


def device_code_range(traces: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Integer code of each row's device (Categorical codes when it is one) and the code range."""
    s = traces["device_id"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), len(s.cat.categories)
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), len(uniques)


def device_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..n-1 for the devices present, and their labels as str."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, labels, _ = counted_device_codes(s)
        return codes.astype(np.int64), labels
    codes, uniques = pd.factorize(s.astype(str), sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def counted_device_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`device_codes` and the records of each device (int64); codes in any integer type.

    A categorical's own codes are kept (no copy) when every category is
    present, and counted without a pass of ``np.bincount`` when they are
    sorted (a table sorted by device).
    """
    if not isinstance(s.dtype, pd.CategoricalDtype):
        codes, labels = device_codes(s)
        return codes, labels, np.bincount(codes, minlength=len(labels))
    codes = s.array.codes  # the categorical's own codes, read-only (no copy)
    labels = np.asarray(s.cat.categories.astype(str), dtype=object)
    counts = _code_counts(codes, len(labels))
    present = counts > 0
    if not present.all():
        remap = (np.cumsum(present) - 1).astype(codes.dtype)
        codes = remap[codes]
        labels, counts = labels[present], counts[present]
    return codes, labels, counts


def _code_counts(codes: np.ndarray, n: int) -> np.ndarray:
    """How many times each of 0..n-1 occurs in ``codes`` (the lengths of their runs when sorted)."""
    if len(codes) > 1 and (codes[1:] >= codes[:-1]).all():
        starts = np.flatnonzero(codes[1:] != codes[:-1])
        starts += 1
        starts = np.concatenate([[0], starts])
        starts = starts[codes[starts] >= 0]  # missing values (-1) count for no code
        counts = np.zeros(n, dtype=np.int64)
        counts[codes[starts]] = np.diff(starts, append=len(codes))
        return counts
    return np.bincount(codes, minlength=n)


def dedupe_sorted(keys: np.ndarray) -> np.ndarray:
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys if keep.all() else keys[keep]


def check_count(value, name: str) -> int:
    """``value`` as an int when it is a whole number of at least 1, else an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise FewpointsError(f"{name} must be a whole number, got {value!r}")
    if value < 1:
        raise FewpointsError(f"{name} must be at least 1, got {value}")
    return int(value)


def check_points(n_points) -> int:
    return check_count(n_points, "n_points")


def check_targets(n_targets) -> int:
    return check_count(n_targets, "n_targets")


# ---------------------------------------------------------------------------
# deprecated names (docs/deprecations.md lists every one)
# ---------------------------------------------------------------------------

#: The release in which the old names below were deprecated (they go in the one after).
DEPRECATED_IN = "0.2.0"


class FewpointsDeprecationWarning(DeprecationWarning):
    """An old name of a fewpoints keyword or option: it still works, and the warning says its new name."""


def deprecation(old: str, new: str) -> str:
    """The one sentence every deprecated name gives (the CLI prints it on stderr)."""
    return f"{old} is deprecated since fewpoints {DEPRECATED_IN}; use {new} (same result)"


def renamed(**old_to_new):
    """Decorator: each keyword ``old`` still works as ``new``, with a :class:`FewpointsDeprecationWarning`.

    A value is the new name, or ``(new name, convert)`` when the old keyword
    had another unit (``convert`` turns an old value into the new one).
    Giving both names is a ``TypeError``, as for any keyword given twice.
    """

    def wrap(func):
        @functools.wraps(func)
        def call(*args, **kwargs):
            for old, spec in old_to_new.items():
                if old not in kwargs:
                    continue
                new, convert = (spec, None) if isinstance(spec, str) else spec
                if new in kwargs:
                    raise TypeError(f"{func.__name__}() got {old}= and {new}=; give {new}= only")
                value = kwargs.pop(old)
                warnings.warn(
                    deprecation(f"{func.__name__}({old}=...)", f"{new}="),
                    FewpointsDeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = value if convert is None else convert(value)
            return func(*args, **kwargs)

        return call

    return wrap


def rng_keyword(func):
    """Decorator: an ``rng`` given positionally (the old order) moves to ``rng=``, with a warning."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        at = [i for i, a in enumerate(args) if isinstance(a, np.random.Generator)]
        if at and "rng" not in kwargs:
            kwargs["rng"] = args[at[0]]
            args = args[: at[0]] + args[at[0] + 1 :]
            warnings.warn(
                deprecation(f"{func.__name__}() with rng given positionally", "rng="),
                FewpointsDeprecationWarning,
                stacklevel=2,
            )
        return func(*args, **kwargs)

    return call


def seed_of(rng, name: str = "rng") -> int:
    """The int seed a function that records its seed (a world, a briefing, an audit) runs on.

    An int (zero or more) is the seed; a Generator gives one drawn from it
    (``rng.integers(2**63)``) and None a fresh one, so the run is recorded
    and can be repeated from the record.
    """
    if rng is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63))
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)) or rng < 0:
        raise FewpointsError(
            f"{name} must be a whole number, zero or more, or a numpy Generator; got {rng!r}"
        )
    return int(rng)
