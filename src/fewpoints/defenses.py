"""Defenses that do work, and what they cost: aggregate counts, with and without differential privacy.

A broker who releases traces releases fingerprints (see ``fewpoints.attacks``).
What many uses of location data need is much less: how many devices were in
each place at each hour. :func:`aggregate` computes exactly that, and
:func:`dp_aggregate` releases it with the Laplace mechanism, a formal
guarantee that holds per device over the whole release. :func:`utility_error`
says what the guarantee cost in accuracy, and :func:`privacy_utility` puts
every transform of ``fewpoints.anonymize`` and these releases side by side:
unicity beside utility, on the same data.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fewpoints import anonymize
from fewpoints.attacks.index import PointIndex
from fewpoints.attacks.result import wilson_interval
from fewpoints.attacks.unicity import unicity
from fewpoints.common import (
    check_points,
    check_targets,
    device_code_range,
    duration_seconds,
    positive,
)
from fewpoints.schema import FewpointsError, validate_traces

__all__ = [
    "Setting",
    "aggregate",
    "default_settings",
    "dp_aggregate",
    "privacy_utility",
    "utility_error",
]

#: Largest grid (cells x time bins) a DP release will build.
MAX_DOMAIN_CELLS = 200_000_000

#: Columns of the table :func:`privacy_utility` returns, in order.
PRIVACY_UTILITY_COLUMNS = (
    "setting",
    "transform",
    "strength",
    "unicity",
    "ci_low",
    "ci_high",
    "epsilon",
    "utility_error",
    "utility_metric",
    "n_targets",
    "n_devices",
)


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


def dp_aggregate(
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
) -> pd.DataFrame:
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
        float with ``"none"``), sorted by time, then place. ``attrs`` holds
        ``epsilon``, ``sensitivity``, ``noise_scale``, ``domain_cells`` and
        ``capped_share`` (the share of device-cell contributions the cap
        removed).

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
    their places are under-counted (``attrs["capped_share"]`` says how
    much); a small m means less noise but more of this bias. Rounding and
    clipping at 0 are post-processing, which costs no privacy, and avoid
    negative counts, but they bias small counts upwards (an empty cell is
    released as m / (2 epsilon) devices on average, before rounding).

    References
    ----------
    .. [1] Dwork, C., McSherry, F., Nissim, K., Smith, A. (2006). Calibrating
       noise to sensitivity in private data analysis. Theory of
       Cryptography Conference (TCC), LNCS 3876:265-284.
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
    out.attrs.update(
        epsilon=eps,
        sensitivity=m,
        noise_scale=scale,
        domain_cells=n_cells,
        capped_share=capped_share,
    )
    return out


# ---------------------------------------------------------------------------
# utility
# ---------------------------------------------------------------------------

_KEYS = ["x_km", "y_km", "time"]


def utility_error(
    true_counts: pd.DataFrame, released: pd.DataFrame, *, min_count: int = 10
) -> dict:
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
    dict
        ``mae``: mean absolute error over the cells with at least one true
        device; ``mre``: mean of ``|released - true| / true`` over cells
        with at least ``min_count`` true devices (NaN if there are none);
        ``share_error_exceeds_count``: share of cells with at least one
        true device whose absolute error is larger than their true count;
        ``false_cells``: cells released with at least one device (0.5 or
        more) where there was none; ``n_cells``, ``n_cells_mre``: the cells
        behind ``mae`` and ``mre``.

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
    t, r = _align(true_counts, released)
    err = np.abs(r - t)
    seen = t >= 1
    big = t >= min_count
    return {
        "mae": float(err[seen].mean()) if seen.any() else float("nan"),
        "mre": float((err[big] / t[big]).mean()) if big.any() else float("nan"),
        "share_error_exceeds_count": float((err[seen] > t[seen]).mean())
        if seen.any()
        else float("nan"),
        "false_cells": int(((~seen) & (r >= 0.5)).sum()),
        "n_cells": int(seen.sum()),
        "n_cells_mre": int(big.sum()),
    }


def _align(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
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


# ---------------------------------------------------------------------------
# privacy versus utility
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One named way of releasing the data, for :func:`privacy_utility`.

    Attributes
    ----------
    label : str
        Unique name in plain words (``"coarsened to 2 km x 4 h"``).
    transform : str
        ``"none"``; the name of a function of ``fewpoints.anonymize``
        (``"coarsen_space"``, ``"add_noise"``, ...); ``"coarsen"``
        (``coarsen_space`` with ``cell_km``, then ``coarsen_time`` with
        ``time_bin`` unless the times already fall on that bin: the setting
        names the resolution released); or ``"dp_aggregate"`` (counts, no
        traces).
    strength : str
        The option in plain words (``"2 km x 4 h"``, ``"epsilon = 1"``).
    options : mapping
        Keyword options of the transform.
    match_km : float or None
        For transforms that move points (noise): the attacker knows the
        target's true points and accepts released records within this many
        kilometres of them, at the same time (see :func:`privacy_utility`).
    count_scale : float, default 1.0
        Factor the analyst applies to counts made from the released traces
        (``1 / keep`` for ``sample_devices``).
    """

    label: str
    transform: str
    strength: str
    options: Mapping = field(default_factory=dict)
    match_km: float | None = None
    count_scale: float = 1.0


def default_settings(
    *,
    epsilons: Sequence[float] = (1.0, 10.0),
    max_cells_per_device: int = 50,
) -> list[Setting]:
    """The ten or so settings the briefing, notebooks and benchmark compare.

    Parameters
    ----------
    epsilons : sequence of float, default (1.0, 10.0)
        Privacy budgets of the DP aggregate rows.
    max_cells_per_device : int, default 50
        Contribution cap of the DP aggregate rows.

    Returns
    -------
    list of Setting
        Raw data; coarsening to 1 km x 1 h and 2 km x 4 h; Gaussian noise
        (sigma 200 m, attacked within 500 m); geo-indistinguishability
        (epsilon 5 per km: 400 m on average, attacked within 1 km); half
        the records; half the devices; IDs rotated daily; points shared by
        fewer than 5 devices suppressed; and DP counts per 1 km cell and
        hour at each of ``epsilons``.
    """
    settings = [
        Setting("raw data", "none", "as released"),
        Setting(
            "coarsened to 1 km x 1 h", "coarsen", "1 km x 1 h", {"cell_km": 1.0, "time_bin": "1h"}
        ),
        Setting(
            "coarsened to 2 km x 4 h", "coarsen", "2 km x 4 h", {"cell_km": 2.0, "time_bin": "4h"}
        ),
        Setting(
            "Gaussian noise, 200 m", "add_noise", "sigma = 200 m", {"sigma_m": 200.0}, match_km=0.5
        ),
        Setting(
            "geo-indistinguishability, 5 per km",
            "geo_indistinguishable",
            "epsilon = 5 per km",
            {"epsilon_per_km": 5.0},
            match_km=1.0,
        ),
        Setting("half the records", "subsample", "keep 50%", {"keep": 0.5}),
        Setting("half the devices", "sample_devices", "keep 50%", {"keep": 0.5}, count_scale=2.0),
        Setting("IDs rotated daily", "pseudonymize", "new ID every day", {"rotate": "1D"}),
        Setting("rare points suppressed (k = 5)", "suppress_rare", "k = 5", {"k": 5}),
    ]
    for eps in epsilons:
        settings.append(
            Setting(
                f"DP counts, epsilon = {eps:g}",
                "dp_aggregate",
                f"epsilon = {eps:g}",
                {"epsilon": float(eps), "max_cells_per_device": max_cells_per_device},
            )
        )
    return settings


def _apply(setting: Setting, traces: pd.DataFrame, rng) -> pd.DataFrame:
    opts = dict(setting.options)
    if setting.transform == "none":
        return traces
    if setting.transform == "coarsen":
        try:
            cell, time_bin = opts.pop("cell_km"), opts.pop("time_bin")
        except KeyError:
            raise FewpointsError(
                f"setting {setting.label!r}: 'coarsen' needs options cell_km and time_bin"
            ) from None
        out = anonymize.coarsen_space(traces, cell_km=cell)
        # "1 km x 1 h" names the resolution released: on hourly data the clock
        # is already there, and only the space step has work to do.
        step = duration_seconds(time_bin, "time_bin")
        t = out["time"].to_numpy().astype("datetime64[s]").view(np.int64)
        if (t % step == 0).all():
            return out
        return anonymize.coarsen_time(out, time_bin=time_bin)
    func = getattr(anonymize, setting.transform, None)
    if func is None or setting.transform.startswith("_") or not callable(func):
        raise FewpointsError(
            f"setting {setting.label!r}: unknown transform {setting.transform!r} "
            "(not in fewpoints.anonymize)"
        )
    if "rng" in inspect.signature(func).parameters:
        opts["rng"] = rng
    try:
        return func(traces, **opts)
    except TypeError as exc:
        raise FewpointsError(f"setting {setting.label!r}: {exc}") from None


def _near_unicity(raw_index, released, p, n_targets, radius, rng):
    """Re-identification from true points matched within ``radius`` km, at the same time.

    Targets and their p points are drawn from the raw data exactly as
    :func:`unicity` draws them. A released device matches a known point
    when it has a record at that time within ``radius`` of it; it matches
    the target when it matches all p. Returns (share re-identified, ci_low,
    ci_high, targets, released devices).
    """
    known = unicity(raw_index, p, n_targets=n_targets, rng=rng)
    pts = known.points
    # p points per target, target after target (as unicity draws them).
    labels = pd.unique(pts["device_id"].astype(str).to_numpy())
    qx = pts["x_km"].to_numpy(dtype=np.float64)
    qy = pts["y_km"].to_numpy(dtype=np.float64)
    qt = pts["time"].to_numpy().astype("datetime64[s]").view(np.int64)

    rx = released["x_km"].to_numpy(dtype=np.float64)
    ry = released["y_km"].to_numpy(dtype=np.float64)
    rt = released["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    ids = released["device_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        # The Categorical's own codes: no string per record (10M of them cost seconds).
        rdev = ids.cat.codes.to_numpy().astype(np.int64)
        rlabels = ids.cat.categories.astype(str)
    else:
        rdev, rlabels = pd.factorize(ids.astype(str))
    n_dev = max(len(rlabels), 1)
    # Records bucketed by (time, cell of side radius): a query's matches lie in its 3 x 3 cells.
    # Times coded in increasing order, so a table sorted by device and time gives sorted keys.
    t_code, t_uniq = pd.factorize(np.concatenate([rt, qt]), sort=True)
    r_tc, q_tc = t_code[: len(rt)].astype(np.int64), t_code[len(rt) :].astype(np.int64)
    gx, gy = np.floor(rx / radius).astype(np.int64), np.floor(ry / radius).astype(np.int64)
    hx, hy = np.floor(qx / radius).astype(np.int64), np.floor(qy / radius).astype(np.int64)
    x0, y0 = (
        min(gx.min(initial=0), hx.min(initial=0)) - 1,
        min(gy.min(initial=0), hy.min(initial=0)) - 1,
    )
    wx = max(gx.max(initial=0), hx.max(initial=0)) - x0 + 2
    wy = max(gy.max(initial=0), hy.max(initial=0)) - y0 + 2

    def bucket(tc, cx, cy):
        return (tc * wx + (cx - x0)) * wy + (cy - y0)

    own = pd.Index(rlabels).get_indexer(labels)  # the target's own code (-1: not released)
    rkey = bucket(r_tc, gx, gy)
    by_cell = np.argsort(rkey, kind="stable")
    rkey = rkey[by_cell]
    # Per known point: how many records lie in its 3 x 3 cells (an upper bound on its matches).
    offsets = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    ranges = []
    for dx, dy in offsets:
        k = bucket(q_tc, hx + dx, hy + dy)
        ranges.append((np.searchsorted(rkey, k, "left"), np.searchsorted(rkey, k, "right")))
    n_cand = sum(hi - lo for lo, hi in ranges)
    # Candidates come from each target's rarest point; the others are checked per device.
    n_t = len(labels)
    best = np.arange(n_t) * p + np.argmin(n_cand.reshape(n_t, p), axis=1)
    cand = []
    for lo, hi in ranges:
        lo, hi = lo[best], hi[best]
        n = hi - lo
        t = np.repeat(np.arange(n_t), n)
        first = np.zeros(n_t, dtype=np.int64)
        np.cumsum(n[:-1], out=first[1:])
        rec = by_cell[np.arange(int(n.sum())) + np.repeat(lo - first, n)]
        q = best[t]
        near = (rx[rec] - qx[q]) ** 2 + (ry[rec] - qy[q]) ** 2 <= radius * radius
        cand.append(t[near].astype(np.int64) * n_dev + rdev[rec[near]])
    pairs = np.concatenate(cand)
    pairs.sort()
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    t_of, d_of = pairs // n_dev, pairs % n_dev
    # Records by (device, time), to test a candidate device at another known point.
    n_times = max(len(t_uniq), 1)
    dkey = rdev.astype(np.int64) * n_times + r_tc
    if len(dkey) and bool((dkey[1:] >= dkey[:-1]).all()):
        by_dev = np.arange(len(dkey))  # the table's own order (by device, then time)
    else:
        by_dev = np.argsort(dkey, kind="stable")
        dkey = dkey[by_dev]
    ustart = np.flatnonzero(np.r_[True, dkey[1:] != dkey[:-1]]) if len(dkey) else np.zeros(0, int)
    ukey, ucount = dkey[ustart], np.diff(np.r_[ustart, len(dkey)])
    alive = np.ones(len(pairs), dtype=bool)
    for j in range(p):
        q = t_of * p + j
        idx = np.flatnonzero(alive & (q != best[t_of]))
        key = d_of[idx] * n_times + q_tc[q[idx]]
        # Sorted queries keep the binary search in cache.
        order = np.argsort(key)
        pos = np.minimum(np.searchsorted(ukey, key[order]), max(len(ukey) - 1, 0))
        hit = ukey[pos] == key[order] if len(ukey) else np.zeros(len(key), dtype=bool)
        lo, n = np.empty_like(key), np.empty_like(key)
        lo[order] = np.where(hit, ustart[pos], 0)
        n[order] = np.where(hit, ucount[pos], 0)
        row = np.repeat(np.arange(len(idx)), n)
        first = np.zeros(len(idx), dtype=np.int64)
        np.cumsum(n[:-1], out=first[1:])
        rec = by_dev[np.arange(int(n.sum())) + np.repeat(lo - first, n)]
        qq = q[idx][row]
        near = (rx[rec] - qx[qq]) ** 2 + (ry[rec] - qy[qq]) ** 2 <= radius * radius
        ok = np.bincount(row[near], minlength=len(idx)) > 0
        alive[idx[~ok]] = False
    t_of, d_of = t_of[alive], d_of[alive]
    sizes = np.bincount(t_of, minlength=n_t)
    found = np.zeros(n_t, dtype=bool)
    found[t_of[d_of == own[t_of]]] = True
    k_unique = int(((sizes == 1) & found).sum())
    lo_ci, hi_ci = wilson_interval(k_unique, n_t)
    return k_unique / n_t, lo_ci, hi_ci, n_t, len(rlabels)


def privacy_utility(
    traces: pd.DataFrame,
    settings: Sequence[Setting] | None = None,
    *,
    n_points: int = 4,
    n_targets: int = 10_000,
    cell_km: float = 1.0,
    time_bin="1h",
    min_count: int = 10,
    rng=None,
) -> pd.DataFrame:
    """Unicity beside utility, for each way of releasing the same data.

    Parameters
    ----------
    traces : DataFrame
        The raw ``traces`` table every setting starts from.
    settings : sequence of Setting, optional
        What to compare; default :func:`default_settings`.
    n_points : int, default 4
        Points the attacker knows about each target (p).
    n_targets : int, default 10_000
        Targets per setting.
    cell_km, time_bin : default 1 km, "1h"
        The grid of the utility measure (and of the DP releases).
    min_count : int, default 10
        Cells with fewer true devices are left out of the relative error.
    rng : int, Generator or None
        Randomness for the transforms, the DP noise and the attack.

    Returns
    -------
    DataFrame
        One row per setting: ``setting``, ``transform``, ``strength``,
        ``unicity``, ``ci_low``, ``ci_high`` (95% Wilson; NaN for DP rows,
        which release no traces), ``epsilon`` (NaN except DP rows),
        ``utility_error`` (the mean relative error of the device counts per
        cell and bin, on cells with at least ``min_count`` true devices),
        ``utility_metric`` (that measure in words), ``n_targets`` and
        ``n_devices`` (targets sampled and the population searched; 0 for
        DP rows, where nobody is searched).

    Notes
    -----
    **Privacy.** Unicity is the same attack as :func:`fewpoints.unicity`,
    run on the released table: p points drawn from a target's released
    trace, unique when exactly one released trace holds all of them. Every
    setting is attacked from the same random state, so the raw row equals
    ``unicity(traces, n_points, n_targets=n_targets, rng=rng)``. Who the
    targets are depends on the release:

    - rotated IDs (``pseudonymize(rotate=...)``): the targets are the
      pseudonyms, and a target is unique when its p points single out one
      pseudonym, i.e. one day (or week) of one phone. That is a lower bound
      on the risk: pseudonyms of the same phone are easy to chain (the same
      home every night), which gives the full trace back.
    - sampled devices (``sample_devices``): the population searched is the
      released devices. A target found unique there is unique in the
      release; the attacker does not know whether the person is in it, but
      whoever is, is exposed as before (Farzanehfar et al. 2021).
    - sampled records (``subsample``): the attacker knows p points that are
      in the release; fewer points per device make fewer eligible targets.
    - noise (settings with ``match_km``): points drawn from the noisy
      release would be points no attacker knows. Instead the attacker
      knows p true points of the target (drawn exactly as for the raw row)
      and looks for released traces with a record at each of those times
      within ``match_km`` of the true place; the target is re-identified
      when it is the only such trace. Noise can push one of its own
      records out of reach, so the attack can miss; a cleverer attacker
      (ranking traces by distance) would miss less, so these rows are a
      lower bound on the risk.

    **Utility.** One measure for every row: how well the release answers
    "how many devices were in each cell during each time bin". Traces are
    counted as released (times ``count_scale``, e.g. 2 for half the
    devices) and compared with the counts of the raw data; DP rows compare
    their noisy release. A release coarser than the grid cannot answer at
    the grid's resolution, and its error says so.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    rng = np.random.default_rng(rng)
    validate_traces(traces)
    p = check_points(n_points)
    n_targets = check_targets(n_targets)
    cell = positive(cell_km, "cell_km")
    step = duration_seconds(time_bin, "time_bin")
    settings = default_settings() if settings is None else list(settings)
    labels = [s.label for s in settings]
    if not settings:
        raise FewpointsError("no settings to compare")
    if len(set(labels)) != len(labels):
        raise FewpointsError("setting labels must be unique")
    attack_state = copy.deepcopy(rng)
    streams = rng.spawn(len(settings))
    metric = (
        f"mean relative error of device counts per {cell:g} km cell and "
        f"{_bin_words(step)} (cells with >= {min_count} devices)"
    )

    truth = aggregate(traces, cell_km=cell, time_bin=time_bin)
    raw_index = PointIndex.from_traces(traces)
    rows = []
    for setting, stream in zip(settings, streams, strict=True):
        attack_rng = copy.deepcopy(attack_state)
        row = {
            "setting": setting.label,
            "transform": setting.transform,
            "strength": setting.strength,
            "epsilon": float("nan"),
            "utility_metric": metric,
        }
        if setting.transform == "dp_aggregate":
            opts = dict(setting.options)
            for name, want in (("cell_km", cell), ("time_bin", time_bin)):
                if name in opts and opts.pop(name) != want:
                    raise FewpointsError(
                        f"setting {setting.label!r}: a DP release is compared on the "
                        f"utility grid; drop its {name} or pass it to privacy_utility"
                    )
            if "epsilon" not in opts:
                raise FewpointsError(f"setting {setting.label!r}: dp_aggregate needs epsilon")
            released = dp_aggregate(traces, cell_km=cell, time_bin=time_bin, rng=stream, **opts)
            row.update(
                unicity=float("nan"),
                ci_low=float("nan"),
                ci_high=float("nan"),
                epsilon=float(opts["epsilon"]),
                n_targets=0,
                n_devices=0,
            )
        else:
            out = _apply(setting, traces, stream)
            if setting.match_km is not None:
                value, lo, hi, n, n_dev = _near_unicity(
                    raw_index,
                    out,
                    p,
                    n_targets,
                    positive(setting.match_km, "match_km"),
                    attack_rng,
                )
            else:
                index = raw_index if setting.transform == "none" else PointIndex.from_traces(out)
                res = unicity(index, p, n_targets=n_targets, rng=attack_rng)
                value, lo, hi, n, n_dev = (
                    res.value,
                    res.ci_low,
                    res.ci_high,
                    res.n_targets,
                    res.n_devices,
                )
            row.update(unicity=value, ci_low=lo, ci_high=hi, n_targets=n, n_devices=n_dev)
            # The raw release's counts are the truth (counted once, above).
            released = (
                truth
                if setting.transform == "none"
                else aggregate(out, cell_km=cell, time_bin=time_bin)
            )
            if setting.count_scale != 1.0:
                released = released.assign(devices=released["devices"] * float(setting.count_scale))
        row["utility_error"] = utility_error(truth, released, min_count=min_count)["mre"]
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PRIVACY_UTILITY_COLUMNS))


def _bin_words(step: int) -> str:
    if step % 86400 == 0:
        return "day" if step == 86400 else f"{step // 86400} days"
    if step % 3600 == 0:
        return "hour" if step == 3600 else f"{step // 3600} hours"
    return f"{step // 60} minutes" if step % 60 == 0 else f"{step} s"
