"""The shared base layer: encodings and argument checks every stage uses.

Small, dependency-free helpers (numpy and pandas only) that several stages
need: device codes, sorted-unique keys, the checks of a number of points, of
targets, of positive numbers, shares and durations, the nearest centre of a
point, and the one-row table of a result made of numbers (:class:`OneRow`).
A stage imports these from here, never another stage's private helpers.
"""

from __future__ import annotations

import dataclasses

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
    codes = s.cat.codes.to_numpy()
    labels = np.asarray(s.cat.categories.astype(str), dtype=object)
    counts = _code_counts(codes, len(labels))
    present = counts > 0
    if not present.all():
        remap = (np.cumsum(present) - 1).astype(codes.dtype)
        codes = remap[codes]
        labels, counts = labels[present], counts[present]
    return codes, labels, counts


def _code_counts(codes: np.ndarray, n: int) -> np.ndarray:
    """How many times each of 0..n-1 occurs in ``codes`` (binary searches when sorted)."""
    if n < np.iinfo(codes.dtype).max and len(codes) > 1 and (codes[1:] >= codes[:-1]).all():
        return np.diff(np.searchsorted(codes, np.arange(n + 1, dtype=codes.dtype))).astype(np.int64)
    return np.bincount(codes, minlength=n)


def dedupe_sorted(keys: np.ndarray) -> np.ndarray:
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys if keep.all() else keys[keep]


def check_points(n_points) -> int:
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)):
        raise FewpointsError(f"n_points must be a whole number, got {n_points!r}")
    if n_points < 1:
        raise FewpointsError(f"n_points must be at least 1, got {n_points}")
    return int(n_points)


def check_targets(n_targets) -> int:
    if isinstance(n_targets, bool) or not isinstance(n_targets, (int, np.integer)):
        raise FewpointsError(f"n_targets must be a whole number, got {n_targets!r}")
    if n_targets < 1:
        raise FewpointsError(f"n_targets must be at least 1, got {n_targets}")
    return int(n_targets)
