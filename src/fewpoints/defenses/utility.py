"""Utility: how far released device counts are from the true ones (:func:`utility_error`).

Two count tables are aligned on the union of their cells (a cell missing from
one counts 0) and compared cell by cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.common import OneRow
from fewpoints.compat import DictAccess
from fewpoints.schema import FewpointsError

_KEYS = ["x_km", "y_km", "time"]


@dataclass(frozen=True)
class UtilityError(OneRow, DictAccess):
    """How far released counts are from the true ones (:func:`utility_error`).

    Attributes
    ----------
    mae : float
        Mean absolute error over the cells with at least one true device.
    mre : float
        Mean of ``|released - true| / true`` over the cells with at least
        ``min_count`` true devices (NaN if there are none).
    share_error_exceeds_count : float
        Share of the cells with at least one true device whose absolute
        error is larger than their true count.
    false_cells : int
        Cells released with at least one device (0.5 or more) where there
        was none.
    n_cells : int
        Cells behind ``mae`` (at least one true device).
    n_cells_mre : int
        Cells behind ``mre`` (at least ``min_count`` true devices).

    Notes
    -----
    It used to be a dict: ``error["mre"]`` still works for one release,
    with a :class:`DeprecationWarning`; read ``error.mre``.
    """

    mae: float
    mre: float
    share_error_exceeds_count: float
    false_cells: int
    n_cells: int
    n_cells_mre: int


def utility_error(
    true_counts: pd.DataFrame, released: pd.DataFrame, *, min_count: int = 10
) -> UtilityError:
    """How far released counts are from the true ones.

    Parameters
    ----------
    true_counts : DataFrame
        ``x_km, y_km, time, devices``: the true counts (from :func:`aggregate`).
    released : DataFrame
        The same columns on the same grid: a noisy release, or counts made
        from transformed traces. A cell missing from a table counts 0.
    min_count : int, default 10
        Relative errors are averaged over cells with at least this many true
        devices (relative errors on tiny counts say little).

    Returns
    -------
    UtilityError
        ``mae``: mean absolute error over the cells with at least one true
        device; ``mre``: mean of ``|released - true| / true`` over cells
        with at least ``min_count`` true devices (NaN if there are none);
        ``share_error_exceeds_count``: share of cells with at least one
        true device whose absolute error is larger than their true count;
        ``false_cells``: cells released with at least one device (0.5 or
        more) where there was none; ``n_cells``, ``n_cells_mre``: the cells
        behind ``mae`` and ``mre`` (``.to_frame()``: the same as a one-row
        table).

    Notes
    -----
    Cells that are empty in truth and released as 0 are not counted by
    ``mae``: over a large, mostly empty grid they would make any release
    look accurate. Phantom crowds are reported by ``false_cells`` instead.
    """
    for name, df in (("true_counts", true_counts), ("released", released)):
        missing = [c for c in (*_KEYS, "devices") if c not in df.columns]
        if missing:
            raise FewpointsError(f"{name} lacks column(s) {', '.join(missing)}")
    t, r = align(true_counts, released)
    err = np.abs(r - t)
    seen = t >= 1
    big = t >= min_count
    return UtilityError(
        mae=float(err[seen].mean()) if seen.any() else float("nan"),
        mre=float((err[big] / t[big]).mean()) if big.any() else float("nan"),
        share_error_exceeds_count=float((err[seen] > t[seen]).mean())
        if seen.any()
        else float("nan"),
        false_cells=int(((~seen) & (r >= 0.5)).sum()),
        n_cells=int(seen.sum()),
        n_cells_mre=int(big.sum()),
    )


def align(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The ``devices`` of two count tables on the union of their cells (0 where absent; repeats summed)."""
    n = len(a)
    codes = []
    for col in _KEYS:
        va, vb = a[col].to_numpy(), b[col].to_numpy()
        if col == "time":
            va = va.astype("datetime64[s]").view(np.int64)
            vb = vb.astype("datetime64[s]").view(np.int64)
        code, uniq = pd.factorize(np.concatenate([va, vb]))
        codes.append((code.astype(np.int64), max(len(uniq), 1)))
    (cx, nx), (cy, ny), (ct, nt) = codes
    if nx * ny * nt < 2**62:
        key = (ct * nx + cx) * ny + cy
    else:
        key = pd.MultiIndex.from_arrays([ct, cx, cy])
    cell, uniq = pd.factorize(key)
    k = len(uniq)
    wa = a["devices"].to_numpy(dtype=np.float64)
    wb = b["devices"].to_numpy(dtype=np.float64)
    return (
        np.bincount(cell[:n], weights=wa, minlength=k),
        np.bincount(cell[n:], weights=wb, minlength=k),
    )
