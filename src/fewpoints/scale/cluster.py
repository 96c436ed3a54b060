"""A Dask cluster for the engine: a remote scheduler's client, or a local cluster of processes.

:func:`connect` opens either for the duration of a ``with`` block, with
one-line errors for a missing extra, an unreachable scheduler or an
impossible option.
"""

from __future__ import annotations

import contextlib
import logging

from fewpoints.scale.frames import INSTALL_HINT, require_dask
from fewpoints.schema import FewpointsError


@contextlib.contextmanager
def connect(*, scheduler: str | None = None, workers: int | None = None, memory_limit=None):
    """A Dask client for the duration of a ``with`` block: a scheduler's address, or a local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Default: start
        a local cluster of processes on this machine.
    workers : int, optional
        Local workers (one thread each; default 2).
    memory_limit : str or int, optional
        Memory per local worker (``"3GB"``); Dask spills to disk and pauses
        a worker that nears it. Default: an equal share of the machine.

    Raises
    ------
    FewpointsError
        If the extra is missing, the scheduler cannot be reached, or an
        option is impossible.

    Notes
    -----
    The local cluster's workers are new processes that import the calling
    script again: in a script (not a notebook), open it under
    ``if __name__ == "__main__":``, as for any ``multiprocessing`` program.
    """
    require_dask()
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise FewpointsError(
            f"the Dask engine's cluster needs 'distributed' ({INSTALL_HINT})"
        ) from None
    if scheduler is not None and (workers is not None or memory_limit is not None):
        raise FewpointsError(
            "--workers and --memory-limit start a local cluster; a remote scheduler has its own"
        )
    if memory_limit is not None:
        from dask.utils import parse_bytes

        try:
            limit = parse_bytes(memory_limit)
        except (ValueError, TypeError):
            raise FewpointsError(
                f"memory limit is not a size: {memory_limit!r} (e.g. 3GB)"
            ) from None
        if limit <= 0:
            raise FewpointsError(f"memory limit must be positive, got {memory_limit!r}")
    quiet = logging.ERROR
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise FewpointsError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc})"
            ) from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers or 2,
        threads_per_worker=1,
        memory_limit=memory_limit if memory_limit is not None else "auto",
        dashboard_address=None,
        silence_logs=quiet,
    )
    with cluster, Client(cluster) as client:
        yield client
