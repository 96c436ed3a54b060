"""The unicity test on data larger than memory: the Dask engine, its Parquet input and its cluster.

The one public seam the attacks call (install the ``scale`` extra:
``pip install 'fewpoints[scale]'``). One module per concept:

* :mod:`~fewpoints.scale.frames`: telling a Dask table apart, requiring
  Dask, a partition's columns, and running one task per partition;
* :mod:`~fewpoints.scale.passes`: the per-partition work of the three
  passes (runs on the workers);
* :mod:`~fewpoints.scale.holders`: pass 3's core, the devices holding all
  of each target's points, in memory bounded by the matched pairs;
* :mod:`~fewpoints.scale.engine`: the client side of the passes,
  :func:`dask_unicity`, exact against the in-memory engine;
* :mod:`~fewpoints.scale.parquet`: :func:`read_traces_dask`, Parquet read
  by the rules of :mod:`fewpoints.io`;
* :mod:`~fewpoints.scale.cluster`: :func:`connect`, a local cluster or a
  remote scheduler;
* :mod:`~fewpoints.scale.transform`: :func:`coarsen_dask` and
  :func:`dask_map`, partition by partition.
"""

from fewpoints.scale.cluster import connect
from fewpoints.scale.engine import (
    DeviceCounts,
    count_points,
    dask_holders,
    dask_sweep,
    dask_unicity,
)
from fewpoints.scale.frames import (
    INSTALL_HINT,
    compute_tasks,
    factorize_devices,
    is_dask_frame,
    partition_columns,
    per_partition,
    require_dask,
    select_columns,
)
from fewpoints.scale.parquet import ROWS_PER_PARTITION, read_traces_dask
from fewpoints.scale.passes import FETCH_META, MATCH_META, fetch_partition, match_frame
from fewpoints.scale.transform import coarsen_dask, dask_map

__all__ = [
    "DeviceCounts",
    "FETCH_META",
    "INSTALL_HINT",
    "MATCH_META",
    "ROWS_PER_PARTITION",
    "coarsen_dask",
    "compute_tasks",
    "connect",
    "count_points",
    "dask_holders",
    "dask_map",
    "dask_sweep",
    "dask_unicity",
    "factorize_devices",
    "fetch_partition",
    "is_dask_frame",
    "match_frame",
    "partition_columns",
    "per_partition",
    "read_traces_dask",
    "require_dask",
    "select_columns",
]
