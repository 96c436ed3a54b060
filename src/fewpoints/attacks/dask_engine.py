"""The Dask engine at its old path: every name re-exported from :mod:`fewpoints.scale`.

The engine, its Parquet input, its cluster set-up and its transform live in
the :mod:`fewpoints.scale` package (one module per concept); this module
keeps ``from fewpoints.attacks.dask_engine import ...`` working for the
attacks, the audit, the CLI, the benchmarks and the notebooks.
"""

# Every public name of the engine, in ``__all__`` or not, is importable from here as before.
from fewpoints.scale import (  # noqa: F401
    FETCH_META,
    INSTALL_HINT,
    MATCH_META,
    ROWS_PER_PARTITION,
    coarsen_dask,
    compute_tasks,
    connect,
    count_points,
    dask_holders,
    dask_map,
    dask_unicity,
    factorize_devices,
    fetch_partition,
    is_dask_frame,
    match_frame,
    partition_columns,
    per_partition,
    read_traces_dask,
    require_dask,
    select_columns,
)
from fewpoints.scale.engine import DeviceCounts

__all__ = [
    "DeviceCounts",
    "coarsen_dask",
    "connect",
    "dask_unicity",
    "is_dask_frame",
    "read_traces_dask",
    "require_dask",
]
