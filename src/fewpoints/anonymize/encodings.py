"""Integer encodings the transforms share: dense codes, sorted-unique keys, fast Categoricals.

The transforms work on integer codes rather than on the values themselves: a
dense code per key (by a bincount when the key range is small), a sorted
unique by one sort, a key per (x, y) pair, the antenna of each row, and
Categoricals built from codes known to be valid without pandas' hashing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def code_dtype(n: int) -> type:
    """The integer type pandas keeps the codes of ``n`` categories in."""
    for dtype in (np.int8, np.int16, np.int32):
        if n < np.iinfo(dtype).max:
            return dtype
    return np.int64


def categorical(
    codes: np.ndarray, categories: pd.Index, *, ordered: bool = False
) -> pd.Categorical:
    """A Categorical from valid codes and categories known to be distinct.

    pandas checks new categories for uniqueness by hashing them: seconds for
    the 20M Python strings of rotated IDs. Ours are distinct by construction,
    so the check is skipped where pandas offers its fast path (and made
    otherwise).
    """
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if fast is not None:
        dtype = fast(categories, ordered)
    else:  # pragma: no cover - older or newer pandas without the fast path
        dtype = pd.CategoricalDtype(categories, ordered=ordered)
    return pd.Categorical.from_codes(
        codes.astype(code_dtype(len(categories)), copy=False), dtype=dtype, validate=False
    )


def dense_codes(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..n-1 for non-negative int64 keys, in increasing key order, and n.

    A bincount over the key range when it is small (no hashing, no sort),
    else pandas' hash factorization.
    """
    keys = np.asarray(keys, dtype=np.int64)
    top = int(keys.max()) + 1 if len(keys) else 0
    if top <= 4 * len(keys) + 1024:
        present = np.bincount(keys, minlength=top) > 0
        rank = np.cumsum(present) - 1
        return rank[keys], int(present.sum())
    codes, uniques = pd.factorize(keys, sort=True)
    return codes.astype(np.int64), len(uniques)


def sorted_unique(keys: np.ndarray, kind: str | None = None) -> np.ndarray:
    """``np.unique`` for int64 keys by one sort (much faster than np.unique on large arrays)."""
    keys = np.sort(keys, kind=kind)
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def xy_codes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """An int64 key per (x, y) pair, equal exactly when both coordinates are (-0.0 counts as 0.0)."""
    xc, xu = pd.factorize(x + 0.0)
    yc, _ = pd.factorize(y + 0.0)
    return xc.astype(np.int64) * (int(yc.max()) + 1 if len(yc) else 1) + yc


def antenna_xy(traces: pd.DataFrame, *, partial: bool = False):
    """(antenna code of each row, x and y of each antenna seen, rows used), or None.

    With ``partial`` the rows without an antenna id are left out (``rows`` is
    their mask, else None); without it, a table with any such row gives None.
    Per-antenna coordinates by one scatter of the rows (O(n), no hashing of the
    coordinates); codes are dense, in increasing ``antenna_id`` order.
    """
    if "antenna_id" not in traces.columns or not len(traces):
        return None
    col = traces["antenna_id"]
    missing = col.isna().to_numpy()
    rows = None
    x = traces["x_km"].to_numpy(dtype=np.float64)
    y = traces["y_km"].to_numpy(dtype=np.float64)
    if missing.any():
        if not partial or missing.all():
            return None
        rows = ~missing
        aid = col.to_numpy(dtype=np.float64)[rows].astype(np.int64)
        x, y = x[rows], y[rows]
    else:
        aid = col.to_numpy(dtype=np.int64)
    codes, n = dense_codes(aid - aid.min())
    del aid
    ax = np.empty(n)
    ay = np.empty(n)
    ax[codes] = x
    ay[codes] = y
    return codes, ax, ay, rows
