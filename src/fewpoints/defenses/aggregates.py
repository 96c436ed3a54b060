"""Aggregate counts: distinct devices per cell and time bin, exact or differentially private.

:func:`aggregate` counts, :func:`dp_aggregate` releases the same counts with
the Laplace mechanism (a contribution cap per device, noise on every cell of
the grid); both share the grid of ``coarsen_space`` and ``coarsen_time``.
:func:`dp_release` is the same release with its privacy parameters
(:class:`DPRelease`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.common import device_code_range, duration_seconds, positive
from fewpoints.compat import deprecate_attrs
from fewpoints.schema import FewpointsError, validate_traces

#: Largest grid (cells x time bins) a DP release will build.
MAX_DOMAIN_CELLS = 200_000_000


# ---------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------


def _grid_codes(traces: pd.DataFrame, cell: float, step: int):
    """Integer cell column, cell row and time bin of every record (the grid of ``coarsen_*``)."""
    ix = np.floor(traces["x_km"].to_numpy(dtype=np.float64) / cell).astype(np.int64)
    iy = np.floor(traces["y_km"].to_numpy(dtype=np.float64) / cell).astype(np.int64)
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    it = np.floor_divide(t, step)
    return ix, iy, it


def _cell_keys(ix, iy, it):
    """Integer code of each record's (cell, bin); returns ``code, n_codes, decode, ordered``.

    ``decode(codes)`` gives back ``(ix, iy, it)``. When the grid spanned by the
    data is small enough, the code is the cell's position in it (no hashing;
    codes in time, then x, then y order: ``ordered``); otherwise the
    distinct triples are numbered in order of first appearance.
    """
    lo = [int(a.min()) if len(a) else 0 for a in (ix, iy, it)]
    span = [
        int(a.max()) - low + 1 if len(a) else 1 for a, low in zip((ix, iy, it), lo, strict=True)
    ]
    size = span[0] * span[1] * span[2]
    if size <= max(10 * len(ix), 1_000_000):
        code = ((it - lo[2]) * span[0] + (ix - lo[0])) * span[1] + (iy - lo[1])

        def decode(c):
            t, rest = np.divmod(np.asarray(c, dtype=np.int64), span[0] * span[1])
            x, y = np.divmod(rest, span[1])
            return x + lo[0], y + lo[1], t + lo[2]

        return code, size, decode, True
    code, uniq = pd.factorize(pd.MultiIndex.from_arrays([ix, iy, it]))
    levels = [uniq.get_level_values(i).to_numpy() for i in range(3)]

    def decode_sparse(c):
        return tuple(level[c] for level in levels)

    return code.astype(np.int64), len(uniq), decode_sparse, False


def _distinct(traces: pd.DataFrame, cell: float, step: int):
    """Distinct (device, cell and bin) pairs: ``dev, code, n_codes, decode, ordered``."""
    ix, iy, it = _grid_codes(traces, cell, step)
    dev, n_dev = device_code_range(traces)
    n_dev = max(n_dev, 1)
    code, n_codes, decode, ordered = _cell_keys(ix, iy, it)
    if n_codes < (2**62) // n_dev:
        # One int64 key per record, device-major: a sort and a pass over neighbours
        # (about 10x faster than hashing 10M keys; the pairs come out by device, then cell).
        key = dev * n_codes + code
        key.sort()
        if len(key):
            key = key[np.r_[True, key[1:] != key[:-1]]]
        return key // n_codes, key % n_codes, n_codes, decode, ordered
    pair = pd.unique(code * n_dev + dev)
    return pair % n_dev, pair // n_dev, n_codes, decode, ordered


def _distinct_pairs(traces: pd.DataFrame, cell: float, step: int):
    """Distinct (device, cell, bin) triples as arrays ``dev, ix, iy, it``."""
    dev, code, _, decode, _ = _distinct(traces, cell, step)
    return (dev, *decode(code))


def _tidy(ix, iy, it, counts, cell: float, step: int, *, ordered: bool = False) -> pd.DataFrame:
    """The count table; rows sorted by time, then x, then y (``ordered``: they already are)."""
    if not ordered:
        order = np.lexsort((iy, ix, it))
        ix, iy, it, counts = ix[order], iy[order], it[order], counts[order]
    return pd.DataFrame(
        {
            "x_km": (ix + 0.5) * cell,
            "y_km": (iy + 0.5) * cell,
            "time": (it * step).astype("datetime64[s]"),
            "devices": counts,
        }
    )


# ---------------------------------------------------------------------------
# aggregate counts
# ---------------------------------------------------------------------------


def aggregate(traces: pd.DataFrame, *, cell_km: float = 1.0, time_bin="1h") -> pd.DataFrame:
    """Count the distinct devices seen in each square cell during each time bin.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    cell_km : float, default 1.0
        Side of the square cells, in kilometres; the grid of
        ``anonymize.coarsen_space`` (aligned with the city frame's origin).
    time_bin : str or Timedelta, default "1h"
        Length of the time bins; the bins of ``anonymize.coarsen_time``.

    Returns
    -------
    DataFrame
        One row per cell and bin with at least one device: ``x_km``,
        ``y_km`` (the cell's centre), ``time`` (the bin's start), ``devices``
        (int), sorted by time, then place. Cells no device visited are not
        listed (their count is 0).

    Notes
    -----
    A device counts once per cell and bin, however many records it left
    there. These counts are what a city planner or an epidemiologist needs,
    but they are not anonymous by themselves: a count of 1 at 3 a.m. in a
    residential cell is one household, and consecutive counts can be
    stitched back into trajectories (Xu et al. 2017 recovered most
    individual trajectories from such aggregates). :func:`dp_aggregate`
    adds the noise that makes them safe to release.

    References
    ----------
    .. [1] Xu, F., Tu, Z., Li, Y., Zhang, P., Fu, X., Jin, D. (2017).
       Trajectory recovery from ash: user privacy is not preserved in
       aggregated mobility data. Proceedings of WWW 2017, 1241-1250.
    """
    validate_traces(traces)
    cell = positive(cell_km, "cell_km")
    step = duration_seconds(time_bin, "time_bin")
    _, code, n_codes, decode, ordered = _distinct(traces, cell, step)
    if ordered:
        counts = np.bincount(code, minlength=n_codes)
        cells = np.flatnonzero(counts)
        counts = counts[cells]
    else:
        counts = np.bincount(code, minlength=n_codes)
        cells = np.arange(n_codes)
    return _tidy(*decode(cells), counts.astype(np.int64), cell, step, ordered=ordered)


def _check_cap(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise FewpointsError(f"max_cells_per_device must be a whole number >= 1, got {value!r}")
    return int(value)


def _domain_range(
    lo_hi, data_codes: np.ndarray, to_code, name: str, *, to_last=None
) -> tuple[int, int]:
    if lo_hi is None:
        if len(data_codes) == 0:
            raise FewpointsError("the table has no records; give bounds and period")
        return int(data_codes.min()), int(data_codes.max())
    try:
        lo, hi = lo_hi
    except (TypeError, ValueError):
        raise FewpointsError(f"{name} must be a pair (low, high), got {lo_hi!r}") from None
    a, b = to_code(lo), (to_last or to_code)(hi)
    if b < a:
        raise FewpointsError(f"{name} is empty: {lo_hi!r}")
    return a, b


def dp_aggregate(traces: pd.DataFrame, **options) -> pd.DataFrame:
    """Device counts per cell and time bin, released with epsilon-differential privacy.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    cell_km : float, default 1.0
        Side of the square cells, in kilometres (the grid of :func:`aggregate`).
    time_bin : str or Timedelta, default "1h"
        Length of the time bins.
    epsilon : float
        The privacy budget for the whole release, per device: smaller is more
        private and noisier. Must be positive.
    max_cells_per_device : int, default 50
        Each device contributes to at most this many (cell, bin) counts
        (the contribution cap, m below).
    bounds : (x_min, x_max, y_min, y_max) or None
        The released area, in kilometres: the cells that meet
        ``[x_min, x_max) x [y_min, y_max)``. None: the smallest grid covering
        the data (see Notes). Records outside it are dropped.
    period : (start, end) or None
        The released period (timestamps; ``end`` included). None: from the
        first to the last record. Records outside it are dropped.
    post_process : {"round", "none"}, default "round"
        ``"round"``: noisy counts rounded to whole devices, negatives set to
        0, and cells released as 0 left out of the table. ``"none"``: the raw
        noisy count (a float, possibly negative) of every cell of the grid.
    rng : int, Generator or None
        Randomness for the cap and the noise.

    Returns
    -------
    DataFrame
        ``x_km``, ``y_km``, ``time``, ``devices`` (int with ``"round"``,
        float with ``"none"``), sorted by time, then place: a table like
        :func:`aggregate`'s. The privacy parameters of the release
        (``epsilon``, ``sensitivity``, ``noise_scale``, ``domain_cells``,
        ``capped_share``) come with :func:`dp_release`, the same release as a
        :class:`DPRelease`; they are also in this table's ``attrs`` for one
        release more, deprecated (a read warns).

    Raises
    ------
    FewpointsError
        For a non-positive epsilon, a cap below 1, an empty or a too large
        grid, or an unknown ``post_process``.

    Notes
    -----
    **How it works.** First the cap: of the distinct (cell, bin) pairs a
    device was seen in, at most m = ``max_cells_per_device`` are kept,
    chosen uniformly at random, independently for each device. Adding or
    removing one device then changes at most m counts, each by 1: the L1
    sensitivity is m. Every cell of the grid, visited or not, gets
    independent Laplace noise of scale m / epsilon (standard deviation
    sqrt(2) m / epsilon). That is epsilon-differential privacy per device
    over the whole release: whatever anyone knows besides, the release
    barely changes (at most by a factor e^epsilon in probability) whether
    a given phone is in the data or not, over all its cells and hours at
    once. One device is one person in this synthetic world; a person with
    two phones gets 2 epsilon.

    **Empty cells.** Noise goes on every cell of the grid, including cells
    no device visited; releasing only visited cells would tell the set of
    places and hours where someone was, which is itself a trace. The grid
    should be public, fixed in advance (the city's map, the collection
    period): by default it is the smallest grid covering the data, and
    its edges then say where the outermost records were; pass ``bounds``
    and ``period`` for the strict guarantee.

    **What it costs.** The noise is unbiased: before post-processing, the
    expected release of every cell is its capped count. The cap removes
    contributions from devices seen in more than m cells and bins, so
    their places are under-counted (:attr:`DPRelease.capped_share` says how
    much); a small m means less noise but more of this bias. Rounding and
    clipping at 0 are post-processing, which costs no privacy, and avoid
    negative counts, but they bias small counts upwards (an empty cell is
    released as m / (2 epsilon) devices on average, before rounding).

    References
    ----------
    .. [1] Dwork, C., McSherry, F., Nissim, K., Smith, A. (2006). Calibrating
       noise to sensitivity in private data analysis. Theory of
       Cryptography Conference (TCC), LNCS 3876:265-284.

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_traces()

    With a huge budget the noise is negligible and the counts are the true
    ones (three phones at 08:00 in the first cell); a real release uses
    epsilon near 1:

    >>> counts = dp_aggregate(traces, cell_km=1.0, time_bin="1h", epsilon=1e9, rng=0)
    >>> counts["devices"].tolist()
    [3, 2, 1]
    >>> release = dp_release(traces, epsilon=1.0, rng=0)
    >>> release.sensitivity, release.noise_scale
    (50, 50.0)
    """
    release = dp_release(traces, **options)
    out = release.table.copy(deep=False)
    deprecate_attrs(
        out,
        {f: getattr(release, f) for f in DPRelease.PARAMETERS},
        instead="call dp_release(...) for the same release with its privacy parameters "
        "(release.epsilon, release.capped_share, ...) and release.table",
    )
    return out


@dataclass(frozen=True)
class DPRelease:
    """A differentially private release of device counts, with its privacy parameters.

    What :func:`dp_release` returns; :func:`dp_aggregate` returns its
    ``table`` alone.

    Attributes
    ----------
    table : DataFrame
        ``x_km``, ``y_km``, ``time``, ``devices``: the released counts, as
        :func:`dp_aggregate` returns them.
    epsilon : float
        The privacy budget of the whole release, per device.
    sensitivity : int
        The L1 sensitivity: the contribution cap ``max_cells_per_device``.
    noise_scale : float
        Scale of the Laplace noise on every cell, ``sensitivity / epsilon``.
    domain_cells : int
        Cells x time bins of the grid that got noise.
    capped_share : float
        Share of the device-cell contributions the cap removed.
    """

    #: The fields that say how private the release is (the old ``attrs``).
    PARAMETERS = ("epsilon", "sensitivity", "noise_scale", "domain_cells", "capped_share")

    table: pd.DataFrame
    epsilon: float
    sensitivity: int
    noise_scale: float
    domain_cells: int
    capped_share: float

    def __repr__(self) -> str:
        return (
            f"DPRelease(epsilon={self.epsilon:g}, sensitivity={self.sensitivity}, "
            f"noise_scale={self.noise_scale:g}, {len(self.table):,} cells released of "
            f"{self.domain_cells:,}, capped {self.capped_share:.1%})"
        )


def dp_release(
    traces: pd.DataFrame,
    *,
    cell_km: float = 1.0,
    time_bin="1h",
    epsilon: float,
    max_cells_per_device: int = 50,
    bounds: Sequence[float] | None = None,
    period: Sequence | None = None,
    post_process: str = "round",
    rng=None,
) -> DPRelease:
    """The release of :func:`dp_aggregate`, with its privacy parameters.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    cell_km, time_bin, epsilon, max_cells_per_device, bounds, period, post_process, rng
        As for :func:`dp_aggregate` (the same seed gives the same release).

    Returns
    -------
    DPRelease
        ``table`` (the counts :func:`dp_aggregate` returns), ``epsilon``,
        ``sensitivity``, ``noise_scale``, ``domain_cells`` and
        ``capped_share``.

    Notes
    -----
    How the release works and what it guarantees: :func:`dp_aggregate`.

    Examples
    --------
    >>> import pandas as pd
    >>> one_phone = pd.DataFrame({
    ...     "device_id": ["a", "a"],
    ...     "time": pd.to_datetime(["2026-03-02 08:00", "2026-03-02 18:00"]),
    ...     "x_km": [0.0, 1.0], "y_km": [0.0, 0.0],
    ... })

    Seen in two (cell, hour) pairs and capped at one, the phone loses half of
    its contributions; the noise scale is the cap over epsilon:

    >>> release = dp_release(one_phone, epsilon=2.0, max_cells_per_device=1, rng=0)
    >>> release.sensitivity, release.noise_scale, release.capped_share
    (1, 0.5, 0.5)
    """
    rng = np.random.default_rng(rng)
    validate_traces(traces)
    cell = positive(cell_km, "cell_km")
    step = duration_seconds(time_bin, "time_bin")
    eps = positive(epsilon, "epsilon")
    m = _check_cap(max_cells_per_device)
    if post_process not in ("round", "none"):
        raise FewpointsError(f"post_process must be 'round' or 'none', got {post_process!r}")

    dev, ix, iy, it = _distinct_pairs(traces, cell, step)
    if bounds is not None:
        try:
            x0, x1, y0, y1 = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise FewpointsError(
                f"bounds must be (x_min, x_max, y_min, y_max) in km, got {bounds!r}"
            ) from None
        xr, yr = (x0, x1), (y0, y1)
    else:
        xr = yr = None

    def space(v):
        return int(math.floor(float(v) / cell))

    def space_last(v):
        return int(math.ceil(float(v) / cell)) - 1

    def clock(v):
        try:
            t = pd.Timestamp(v).to_datetime64().astype("datetime64[s]").view(np.int64)
        except (TypeError, ValueError):
            raise FewpointsError(f"period must hold two timestamps, got {period!r}") from None
        return int(t // step)

    gx = _domain_range(xr, ix, space, "bounds (x)", to_last=space_last)
    gy = _domain_range(yr, iy, space, "bounds (y)", to_last=space_last)
    gt = _domain_range(period, it, clock, "period")
    shape = (gt[1] - gt[0] + 1, gx[1] - gx[0] + 1, gy[1] - gy[0] + 1)
    n_cells = shape[0] * shape[1] * shape[2]
    if n_cells > MAX_DOMAIN_CELLS:
        raise FewpointsError(
            f"the grid has {n_cells:,} cells x bins (more than {MAX_DOMAIN_CELLS:,}); "
            "use larger cells or bins, or smaller bounds or period"
        )
    inside = (
        (ix >= gx[0])
        & (ix <= gx[1])
        & (iy >= gy[0])
        & (iy <= gy[1])
        & (it >= gt[0])
        & (it <= gt[1])
    )
    dev, ix, iy, it = dev[inside], ix[inside], iy[inside], it[inside]

    # The cap: a random priority per (device, cell) pair; keep each device's m smallest.
    # One int64 sort of (device, 31 random bits) instead of a lexsort of floats.
    key = (dev << 31) | rng.integers(0, 2**31, size=len(dev), dtype=np.int64)
    order = np.argsort(key)
    del key
    sorted_dev = dev[order]
    starts = np.flatnonzero(np.r_[True, sorted_dev[1:] != sorted_dev[:-1]]) if len(dev) else dev
    first = np.repeat(starts, np.diff(np.r_[starts, len(dev)]))
    keep = order[(np.arange(len(order)) - first) < m]
    capped_share = 1.0 - len(keep) / len(dev) if len(dev) else 0.0

    flat = ((it[keep] - gt[0]) * shape[1] + (ix[keep] - gx[0])) * shape[2] + (iy[keep] - gy[0])
    counts = np.bincount(flat, minlength=n_cells).astype(np.float64)
    scale = m / eps
    noisy = counts + rng.laplace(0.0, scale, size=n_cells)
    if post_process == "round":
        released = np.maximum(np.rint(noisy), 0.0).astype(np.int64)
        where = np.flatnonzero(released > 0)
        values = released[where]
    else:
        where = np.arange(n_cells)
        values = noisy
    t_code, rest = np.divmod(where, shape[1] * shape[2])
    x_code, y_code = np.divmod(rest, shape[2])
    out = _tidy(x_code + gx[0], y_code + gy[0], t_code + gt[0], values, cell, step, ordered=True)
    return DPRelease(
        table=out,
        epsilon=eps,
        sensitivity=m,
        noise_scale=scale,
        domain_cells=n_cells,
        capped_share=capped_share,
    )


# dp_aggregate takes dp_release's keywords: show them in help() and the docs.
dp_aggregate.__signature__ = inspect.signature(dp_release).replace(return_annotation="pd.DataFrame")
