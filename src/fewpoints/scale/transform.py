"""Transforms of a Dask table, partition by partition: coarsening, and any per-partition summary.

:func:`coarsen_dask` applies the in-memory coarsening of
:mod:`fewpoints.anonymize` to every partition (lazily); :func:`dask_map`
computes a module-level function on every partition and returns the
results in order (the population model's marginal counts, say).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fewpoints.scale.frames import compute_tasks, require_dask
from fewpoints.schema import FewpointsError


def _coarsen_partition(df: pd.DataFrame, cell_km, time_bin) -> pd.DataFrame:
    from fewpoints.anonymize import WeakTransformWarning, coarsen_space, coarsen_time

    if len(df) == 0:
        return df
    with warnings.catch_warnings():
        # A partition that a bin leaves unchanged says nothing about the table.
        warnings.simplefilter("ignore", WeakTransformWarning)
        if cell_km is not None:
            df = coarsen_space(df, cell_km=cell_km)
        if time_bin is not None:
            df = coarsen_time(df, time_bin=time_bin)
    return df


def coarsen_dask(ddf, *, cell_km: float | None = None, time_bin: str | None = None):
    """``anonymize.coarsen_space`` and ``coarsen_time`` applied partition by partition (lazily).

    Both act record by record (a cell or a bin depends only on the record),
    so coarsening each partition is coarsening the table.
    """
    require_dask()
    if time_bin is not None:
        try:
            if pd.Timedelta(time_bin) <= pd.Timedelta(0):
                raise ValueError
        except (ValueError, TypeError):
            raise FewpointsError(f"time bin is not a positive duration: {time_bin!r}") from None
    if cell_km is not None and not (np.isfinite(cell_km) and cell_km > 0):
        raise FewpointsError(f"cell size must be a positive number of km, got {cell_km!r}")
    return ddf.map_partitions(_coarsen_partition, cell_km, time_bin, meta=ddf._meta)


def dask_map(ddf, func, *args, stage: str, progress=None) -> list:
    """``func(partition, *args)`` for every partition, computed on the active scheduler, in order.

    For per-partition summaries that are not tables (the population model's
    marginal counts, say); ``func`` must be a module-level function.
    """
    dask = require_dask()
    tasks = [dask.delayed(func, pure=True)(part, *args) for part in ddf.to_delayed()]
    return compute_tasks(tasks, stage, progress)
