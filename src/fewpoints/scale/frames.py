"""Dask frames and their partitions: the engine's small common ground.

Whether a table is a ``dask.dataframe`` (without importing Dask when it is
absent), importing Dask or saying in one line how to install it, the four
columns every pass reads, a partition's columns as arrays, and the running
of one task per partition on whatever scheduler is active, with progress.
Every other module of :mod:`fewpoints.scale` builds on these.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.schema import FewpointsError

COLUMNS = ["device_id", "time", "x_km", "y_km"]

#: How to install the engine, repeated in every message about it.
INSTALL_HINT = "pip install 'fewpoints[scale]'"


def is_dask_frame(obj) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (without importing Dask when it is absent)."""
    module = type(obj).__module__ or ""
    return module.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "npartitions")


def require_dask():
    """Import and return ``dask``, or fail with one line saying how to install it."""
    try:
        import dask
        import dask.dataframe
    except ImportError:
        raise FewpointsError(
            f"the Dask engine needs the optional 'scale' extra ({INSTALL_HINT})"
        ) from None
    return dask


def partition_columns(df: pd.DataFrame) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """device_id (str), x, y (float64, -0.0 as 0.0) and time (int64 seconds) of a partition.

    The arrays may be the partition's own (read-only): the passes only read them.
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise FewpointsError(
            f"traces miss column(s) {', '.join(missing)}; a traces table needs {', '.join(COLUMNS)}"
        )
    dev = df["device_id"]
    if dev.isna().any():
        raise FewpointsError("traces: device_id has missing values")
    x = _plain_zero(df["x_km"].to_numpy(dtype=np.float64, na_value=np.nan))
    y = _plain_zero(df["y_km"].to_numpy(dtype=np.float64, na_value=np.nan))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise FewpointsError("traces: x_km/y_km have missing or infinite values")
    time = df["time"]
    if not pd.api.types.is_datetime64_any_dtype(time):
        try:
            time = pd.to_datetime(time)
        except (ValueError, TypeError):
            raise FewpointsError("traces: time has values that are not dates and times") from None
    if time.isna().any():
        raise FewpointsError("traces: time has missing values")
    t = time.to_numpy().astype("datetime64[s]", copy=False).view(np.int64)
    return dev, x, y, t


def _plain_zero(v: np.ndarray) -> np.ndarray:
    """``v`` with -0.0 as 0.0: a new array only if ``v`` holds a zero (the arrays are only read)."""
    return v + 0.0 if (v == 0).any() else v


def factorize_devices(dev: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..n-1 of the devices present and their IDs as str, in sorted ID order."""
    if isinstance(dev.dtype, pd.CategoricalDtype):
        codes = dev.cat.codes.to_numpy().astype(np.int64)
        labels = np.asarray(dev.cat.categories.astype(str), dtype=object)
        present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
        order = present[np.argsort(labels[present], kind="stable")]
        remap = np.full(len(labels), -1, dtype=np.int64)
        remap[order] = np.arange(len(order))
        return remap[codes], labels[order]
    codes, ids = pd.factorize(dev.astype(str), sort=True)
    return codes.astype(np.int64), np.asarray(ids, dtype=object)


def per_partition(ddf, func, *args, meta) -> list:
    """One delayed ``func(partition, *args)`` per partition, fused with the partition's read.

    ``map_partitions`` lets Dask fuse reading a partition and working on it
    into one task, so a partition never travels between workers; small
    arguments (delayed) are sent once to every worker: the broadcast.
    """
    return list(ddf.map_partitions(func, *args, meta=meta, align_dataframes=False).to_delayed())


def compute_tasks(tasks: list, stage: str, progress) -> list:
    """Compute delayed tasks on the active scheduler, reporting progress per finished task."""
    dask = require_dask()
    report = progress or (lambda stage, fraction: None)
    report(stage, 0.0)
    client = None
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is None:
        out = list(dask.compute(*tasks))
        report(stage, 1.0)
        return out
    from distributed import as_completed

    futures = client.compute(tasks)
    done = 0
    for _ in as_completed(futures):
        done += 1
        report(stage, done / len(futures))
    return client.gather(futures)


def select_columns(ddf):
    missing = [c for c in COLUMNS if c not in ddf.columns]
    if missing:
        raise FewpointsError(
            f"traces miss column(s) {', '.join(missing)}; a traces table needs {', '.join(COLUMNS)}"
        )
    return ddf[COLUMNS]
