"""Transforms a data broker might call "anonymization": ``traces`` in, new ``traces`` out.

Every function returns a new table with the same columns (less any column
that would give a finer value away, such as ``antenna_id`` after moving a
point) and never changes its input. The attacks accept raw and transformed
tables alike, so the effect of a transform is measured by running the same
attack on its output.

- identities: :func:`pseudonymize` (new IDs, optionally rotated every period)
- space: :func:`coarsen_space` (square cells), :func:`merge_antennas`
  (neighbouring antennas merged), :func:`add_noise` (Gaussian),
  :func:`geo_indistinguishable` (planar Laplace)
- time: :func:`coarsen_time`, :func:`truncate`
- less data: :func:`subsample` (records), :func:`sample_devices` (devices),
  :func:`suppress_rare` (points fewer than k devices share)

A setting too weak to change anything raises :class:`WeakTransformWarning`
with the reason.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fewpoints.common import (
    ascii_index,
    check_share,
    device_code_range,
    duration_seconds,
    nearest,
    positive,
    within_earth,
)
from fewpoints.schema import FewpointsError, validate, validate_traces

__all__ = [
    "WeakTransformWarning",
    "add_noise",
    "coarsen_space",
    "coarsen_time",
    "geo_indistinguishable",
    "merge_antennas",
    "pseudonymize",
    "sample_devices",
    "subsample",
    "suppress_rare",
    "truncate",
]


class WeakTransformWarning(UserWarning):
    """A transform that changes little or nothing (for example a time bin finer than the data's own)."""


def coarsen_space(traces: pd.DataFrame, *, cell_km: float = 1.0) -> pd.DataFrame:
    """Snap every location to the centre of a square grid cell of side ``cell_km``.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    cell_km : float, default 1.0
        Side of the grid cells, in kilometres. The grid is aligned with the
        city frame's origin.

    Returns
    -------
    DataFrame
        A copy with ``x_km`` and ``y_km`` replaced by cell centres.
        ``antenna_id`` is dropped (it would give the finer location away).

    Notes
    -----
    Coarsening hides where in a cell a phone was, but not that it was in
    that cell at that time; a trace of a few cells at a few moments is
    still a near-unique fingerprint, so coarsening alone buys surprisingly
    little anonymity (de Montjoye et al. 2013 found unicity falls only as
    about the 1/10 power of the resolution).

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    cell = positive(cell_km, "cell_km")
    out = traces.drop(columns=["antenna_id"], errors="ignore").copy()
    for col in ("x_km", "y_km"):
        v = traces[col].to_numpy(dtype=np.float64)
        out[col] = (np.floor(v / cell) + 0.5) * cell
    return out


def coarsen_time(traces: pd.DataFrame, *, time_bin: str | pd.Timedelta = "1h") -> pd.DataFrame:
    """Floor every time to the start of its bin (``"15min"``, ``"1h"``, ``"1D"``, ...).

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    time_bin : str or Timedelta, default "1h"
        Bin length. Bins are aligned on midnight of 1970-01-01, so bins of
        whole hours or days start on the hour or at midnight.

    Returns
    -------
    DataFrame
        A copy with ``time`` floored (still ``datetime64[s]``).

    Warns
    -----
    WeakTransformWarning
        When every time is already a multiple of the bin, so nothing changes.

    Notes
    -----
    A coarser clock hides the minute of each call but not the hour, and an
    hour at a place is still rare: "Unique in the Crowd" found 95% of people
    unique from 4 points on exactly such hourly data.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    s = duration_seconds(time_bin, "time_bin")
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    floored = t - np.mod(t, s)
    if np.array_equal(floored, t):
        warnings.warn(
            f"every time is already a multiple of {time_bin}; coarsen_time changed nothing",
            WeakTransformWarning,
            stacklevel=2,
        )
    out = traces.copy()
    out["time"] = floored.view("datetime64[s]")
    return out


# ---------------------------------------------------------------------------
# identities
# ---------------------------------------------------------------------------


def pseudonymize(traces: pd.DataFrame, *, rotate: str | None = None, rng=None) -> pd.DataFrame:
    """Replace every device ID by a fresh random one; with ``rotate``, a new one every period.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    rotate : str or None, default None
        None: one new ID per device for the whole table. A duration such as
        ``"1D"`` or ``"7D"``: a device gets a new ID in every period, so one
        phone becomes several "devices". Periods start at midnight of the
        table's first day.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        The same records with ``device_id`` replaced by 12-hex-digit IDs
        (Categorical, rows sorted by it, each device's rows in their
        original order).

    Warns
    -----
    WeakTransformWarning
        Without rotation (new names change no trace), or when the period is
        so long that no device's ID actually rotates.

    Notes
    -----
    New IDs hide nothing an attacker uses: unicity matches points, not
    names, so without rotation every anonymity set is exactly what it was.
    Rotation (as advertising IDs are reset) cuts each trace into shorter
    pieces, which is what really protects: a day of a life is less unique
    than a month. It does not stop linking the pieces again: the same home
    every night joins one day's ID to the next.

    References
    ----------
    .. [1] Zang, H., Bolot, J. (2011). Anonymization of location data does not
       work: a large-scale measurement study. MobiCom '11, 145-156.
    """
    validate_traces(traces)
    rng = np.random.default_rng(rng)
    dev = _device_codes_view(traces)
    period = None
    if rotate is None:
        warnings.warn(
            "pseudonymize without rotate only renames devices; every trace stays whole, so "
            "every anonymity set is unchanged (an attacker matches points, not names)",
            WeakTransformWarning,
            stacklevel=2,
        )
    else:
        step = duration_seconds(rotate, "rotate")
        t = traces["time"].to_numpy().astype("datetime64[s]", copy=False).view(np.int64)
        day0 = int(t.min()) - int(t.min()) % 86_400
        period = t - day0  # a new array (t may be the input's own data)
        del t
        period //= step
    # Rows sorted by device then time (as tables are) hold each piece (a
    # device, or a device in one period) in one run of rows: the runs are
    # found in one pass and move whole, with no sort.
    start = _piece_starts(dev, period)
    if start is None:
        key = dev.astype(np.int64)
        if period is not None:
            key *= int(period.max()) + 1
            key += period
        piece, n_new = _dense_codes(key)
        del key
    else:
        n_new = len(start)
    if rotate is not None:
        if start is None:
            n_devices = np.count_nonzero(np.bincount(dev))
        else:
            n_devices = len(_run_starts(dev[start]))
        if n_new == n_devices:
            warnings.warn(
                f"rotate={rotate!r} is longer than any device's stretch of data: no ID "
                "rotates, so every trace stays whole and no anonymity set changes",
                WeakTransformWarning,
                stacklevel=2,
            )
    del dev
    # The new IDs in increasing order, and a random order of the pieces: the
    # r-th piece of ``order`` gets the r-th smallest ID (code r).
    order = _random_order(n_new, rng)
    categories = _random_hex_ids(n_new, rng)
    if start is None:  # rows not grouped by piece: a stable argsort of the new codes
        code_of = np.empty(n_new, dtype=np.int64)
        code_of[order] = np.arange(n_new)
        codes = code_of[piece]
        dest = np.empty(len(codes), dtype=np.int64)
        dest[np.argsort(codes, kind="stable")] = np.arange(len(codes))
        codes = np.sort(codes).astype(_code_dtype(n_new))
    else:  # whole blocks of rows move; the new codes in row order are runs 0, 1, 2, ...
        length = np.diff(start, append=len(traces))
        codes = _run_codes(length[order], _code_dtype(n_new))
        dest = _block_destination(start, length, order, out=period)
    del period
    columns = {}
    for c in traces.columns:
        if c == "device_id":
            columns[c] = _categorical(codes, categories)
        else:
            columns[c] = _scatter(traces[c], dest)
    return pd.DataFrame(columns, copy=False)


def _piece_starts(dev: np.ndarray, period: np.ndarray | None) -> np.ndarray | None:
    """First row of each run of one device (and one ``period``), or None unless rows are in
    device then period order."""
    if period is None or len(dev) < 2:
        return _run_starts(dev)
    same = dev[1:] == dev[:-1]
    back = period[1:] < period[:-1]
    back &= same
    if back.any() or not (dev[1:] >= dev[:-1]).all():
        return None
    new = np.not_equal(period[1:], period[:-1], out=back)
    new |= ~same
    return _starts(new)


def _run_starts(keys: np.ndarray) -> np.ndarray | None:
    """Start of each run of equal values when ``keys`` never decreases, else None."""
    if len(keys) < 2:
        return np.zeros(len(keys), dtype=np.int64)
    if not (keys[1:] >= keys[:-1]).all():
        return None
    return _starts(keys[1:] != keys[:-1])


def _starts(changed: np.ndarray) -> np.ndarray:
    """Run starts from ``changed[i]``: row ``i + 1`` differs from row ``i``."""
    start = np.empty(np.count_nonzero(changed) + 1, dtype=np.int64)
    start[0] = 0
    start[1:] = np.flatnonzero(changed)
    start[1:] += 1
    return start


def _run_codes(length: np.ndarray, dtype) -> np.ndarray:
    """``0`` repeated ``length[0]`` times, then ``1`` ``length[1]`` times, ... (lengths > 0)."""
    codes = np.zeros(int(length.sum()), dtype=dtype)
    codes[np.cumsum(length[:-1])] = 1
    np.cumsum(codes, dtype=dtype, out=codes)
    return codes


def _block_destination(start, length, order, *, out=None) -> np.ndarray:
    """Where each row goes when the blocks ``[start, start + length)`` (all rows, in row
    order) are laid out in the order ``order``, each block kept whole.

    ``out``, an int64 array with one entry per row, is reused when given.
    """
    new_start = np.zeros(len(order), dtype=np.int64)
    np.cumsum(length[order][:-1], out=new_start[1:])
    first = np.empty_like(new_start)
    first[order] = new_start  # where each block's first row goes
    n = int(length.sum())
    dest = (
        out
        if out is not None and out.dtype == np.int64 and len(out) == n
        else np.empty(n, np.int64)
    )
    # +1 from row to row, and a jump where each block begins: one cumsum.
    dest.fill(1)
    jump = first.copy()
    jump[1:] -= first[:-1] + length[:-1] - 1
    dest[start] = jump
    np.cumsum(dest, out=dest)
    return dest


def _random_order(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``0..n-1`` from one sort of packed keys (much faster than
    ``rng.permutation`` for tens of millions).

    Each index is tagged with random high bits and the tagged keys are sorted:
    the order is uniformly random except among indices whose random bits tie
    (at least 38 bits for 20 million), which keep their order.
    """
    bits = max(1, int(n - 1).bit_length())
    keys = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64, endpoint=True)
    keys >>= bits
    keys <<= bits
    keys |= np.arange(n, dtype=np.int64)
    keys.sort()
    keys &= (1 << bits) - 1
    return keys


def _scatter(column: pd.Series, dest: np.ndarray):
    """``column`` with row ``i`` moved to ``dest[i]``: a numpy scatter when it is a numpy
    column (it reads the rows in order: several times faster than a gather at 100M rows)."""
    if isinstance(column.dtype, np.dtype):
        values = column.to_numpy()
        moved = np.empty_like(values)
        moved[dest] = values
        return moved
    take = np.empty(len(dest), dtype=np.int64)
    take[dest] = np.arange(len(dest))
    return column.array.take(take)


#: The two hex digits of each byte, as a 2-byte ASCII code (widened to uint32).
_HEX_PAIRS = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype="<u2").astype(
    np.uint32
)
#: The four hex digits of every 16-bit value, as one 4-byte ASCII code each.
_HEX_QUADS = _HEX_PAIRS[np.arange(65536) >> 8] | (_HEX_PAIRS[np.arange(65536) & 255] << 16)


def _random_hex_ids(n: int, rng: np.random.Generator) -> pd.Index:
    """``n`` distinct random 12-hex-digit IDs in increasing order, as a string Index (vectorised)."""
    ids = _sorted_unique(rng.integers(0, 16**12, size=n + n // 100 + 16, dtype=np.int64))
    while ids.size < n:
        more = rng.integers(0, 16**12, size=n, dtype=np.int64)
        ids = _sorted_unique(np.concatenate([ids, more]))
    if ids.size > n:
        ids = np.delete(ids, rng.choice(ids.size, size=ids.size - n, replace=False))
    # Three 16-bit chunks per ID, each looked up as its four ASCII hex digits.
    text = np.empty((n, 3), dtype="<u4")
    for j, shift in enumerate((32, 16, 0)):
        text[:, j] = _HEX_QUADS[(ids >> shift) & 0xFFFF]
    return ascii_index(text.view(np.uint8).reshape(-1), width=12)


# ---------------------------------------------------------------------------
# space
# ---------------------------------------------------------------------------


def merge_antennas(
    traces: pd.DataFrame, antennas: pd.DataFrame, *, v: float, rng=None
) -> pd.DataFrame:
    """Merge neighbouring antennas into clusters of about ``v`` and move each record to its cluster.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table. A record is placed at its ``antenna_id`` when it
        has one, otherwise at the antenna nearest its coordinates (GPS pings).
    antennas : DataFrame
        The public antenna map (``antenna_id, x_km, y_km``).
    v : float
        Antennas per cluster, on average: the antennas are grouped into
        ``round(n_antennas / v)`` compact clusters by k-means on their
        coordinates (k-means++ start, seeded by ``rng``).
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        A copy with ``x_km, y_km`` the centroid of the record's cluster.
        ``antenna_id`` is dropped (it would give the finer location away).

    Warns
    -----
    WeakTransformWarning
        When ``v`` is so small that every antenna stays on its own.

    Notes
    -----
    This is the spatial coarsening of "Unique in the Crowd": Voronoi cells
    of neighbouring antennas merged, so that ``v`` means the same thing
    downtown, where antennas are a few hundred metres apart, as in the
    suburbs. A square grid does not: a 1 km cell downtown merges far more
    antennas than one in the suburbs, so square cells overstate what
    coarsening buys. Either way a merged cell at an hour is still rare, and
    unicity falls only as about the 1/10 power of ``v``.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    validate(antennas, "antennas")
    v = positive(v, "v")
    if v < 1:
        raise FewpointsError(f"v must be at least 1 (antennas per cluster), got {v!r}")
    rng = np.random.default_rng(rng)
    ax = antennas["x_km"].to_numpy(dtype=np.float64)
    ay = antennas["y_km"].to_numpy(dtype=np.float64)
    k = max(1, int(round(len(ax) / v)))
    if k >= len(ax):
        warnings.warn(
            f"v={v:g} groups {len(ax):,} antennas into {len(ax):,} clusters: every antenna "
            "stays on its own and only antenna_id is dropped",
            WeakTransformWarning,
            stacklevel=2,
        )
    cluster, cx, cy = _kmeans(ax, ay, k, rng)
    row = np.full(len(traces), -1, dtype=np.int64)
    if "antenna_id" in traces.columns:
        ids = pd.Index(antennas["antenna_id"].to_numpy(dtype=np.int64))
        known = traces["antenna_id"].notna().to_numpy()
        aid = traces["antenna_id"].to_numpy(dtype=np.float64)
        row[known] = ids.get_indexer(aid[known].astype(np.int64))
    need = row < 0
    if need.any():
        x = traces["x_km"].to_numpy(dtype=np.float64)[need]
        y = traces["y_km"].to_numpy(dtype=np.float64)[need]
        row[need] = nearest(x, y, ax, ay)
    out = traces.drop(columns=["antenna_id"], errors="ignore").copy()
    out["x_km"] = cx[cluster[row]]
    out["y_km"] = cy[cluster[row]]
    return out


def _kmeans(x: np.ndarray, y: np.ndarray, k: int, rng, n_iter: int = 100):
    """Seeded k-means on points (x, y): (label of each point, centre x, centre y).

    k-means++ start (each new centre drawn in proportion to the squared
    distance to the nearest chosen one), then Lloyd iterations until no
    label changes. Vectorised over points; loops only over centres at the
    start and over iterations after.
    """
    n = len(x)
    if k >= n:
        return np.arange(n), x.copy(), y.copy()
    pts = np.column_stack([x, y])
    centres = np.empty((k, 2))
    centres[0] = pts[rng.integers(n)]
    d2 = ((pts - centres[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        total = d2.sum()
        i = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres[j] = pts[i]
        np.minimum(d2, ((pts - centres[j]) ** 2).sum(axis=1), out=d2)
    label = np.full(n, -1)
    for _ in range(n_iter):
        new = nearest(pts[:, 0], pts[:, 1], centres[:, 0], centres[:, 1])
        if np.array_equal(new, label):
            break
        label = new
        counts = np.bincount(label, minlength=k)
        filled = counts > 0
        for dim in (0, 1):
            sums = np.bincount(label, weights=pts[:, dim], minlength=k)
            centres[filled, dim] = sums[filled] / counts[filled]
    # Renumber the clusters actually used, so every label has members.
    used = np.flatnonzero(np.bincount(label, minlength=k))
    label, _ = _dense_codes(label)
    return label, centres[used, 0], centres[used, 1]


def add_noise(traces: pd.DataFrame, *, sigma_m: float, rng=None) -> pd.DataFrame:
    """Move every location by independent Gaussian noise of ``sigma_m`` metres per axis.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    sigma_m : float
        Standard deviation of the noise on each coordinate, in metres.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        A copy with noisy ``x_km, y_km``; ``antenna_id`` dropped (it would
        give the true location away); ``accuracy_m``, when present, widened
        to the 68% radius of the recorded error plus the noise.

    Warns
    -----
    WeakTransformWarning
        When ``sigma_m`` is under a tenth of the data's own resolution (the
        median ``accuracy_m`` of GPS pings, or the median spacing of the
        antennas of antenna-located data): a point still names its place.

    Notes
    -----
    Noise blurs each point, but every visit to the same place is blurred
    independently: averaging a device's nightly points finds its home again
    to within ``sigma_m`` divided by the square root of the number of
    nights. The exact-match attack of this package finds every noisy point
    unique (no two are equal), so noise is measured after coarsening to
    cells, as an attacker would do.

    References
    ----------
    .. [1] Krumm, J. (2007). Inference attacks on location tracks. Pervasive
       Computing, LNCS 4480, 127-143.
    """
    validate_traces(traces)
    sigma = positive(sigma_m, "sigma_m")
    within_earth(sigma / 1000.0, f"sigma_m {sigma_m!r}", "a standard deviation of")
    rng = np.random.default_rng(rng)
    _warn_if_below_resolution(traces, sigma, f"Gaussian noise of {sigma:g} m")
    # float32 draws: half the memory traffic, and 0.1 m of noise is still exact to a micrometre.
    dx = rng.standard_normal(len(traces), dtype=np.float32)
    dx *= np.float32(sigma / 1000.0)
    dy = rng.standard_normal(len(traces), dtype=np.float32)
    dy *= np.float32(sigma / 1000.0)
    return _moved(traces, dx, dy, _GAUSS_68 * sigma)


def geo_indistinguishable(traces: pd.DataFrame, *, epsilon_per_km: float, rng=None) -> pd.DataFrame:
    """Planar Laplace noise (geo-indistinguishability): a uniform direction, a Gamma(2, 1/epsilon) distance.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    epsilon_per_km : float
        Privacy parameter per kilometre: two places ``d`` km apart are
        ``exp(epsilon_per_km * d)``-indistinguishable for one report. The
        mean displacement is ``2 / epsilon_per_km`` km.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        A copy with displaced ``x_km, y_km``; ``antenna_id`` dropped;
        ``accuracy_m``, when present, widened by the noise's 68% radius
        (``2.35 / epsilon_per_km`` km).

    Warns
    -----
    WeakTransformWarning
        When the mean displacement is under a tenth of the data's own
        resolution.

    Notes
    -----
    The guarantee holds for one report. A trace is many reports of the same
    few places, and the privacy costs add up: n reports of home cost
    ``n * epsilon``, and averaging the nightly reports finds the home again.
    It protects a single check-in, not a month of pings.

    References
    ----------
    .. [1] Andres, M. E., Bordenabe, N. E., Chatzikokolakis, K., Palamidessi, C.
       (2013). Geo-indistinguishability: differential privacy for
       location-based systems. CCS '13, 901-914.
    """
    validate_traces(traces)
    eps = positive(epsilon_per_km, "epsilon_per_km")
    within_earth(2.0 / eps, f"epsilon_per_km {epsilon_per_km!r}", "a mean displacement of")
    rng = np.random.default_rng(rng)
    _warn_if_below_resolution(
        traces,
        2000.0 / eps,
        f"planar Laplace noise with epsilon {eps:g}/km (mean {2000 / eps:g} m)",
    )
    # float32 draws and trigonometry (a 1 km displacement is exact to well under
    # a millimetre; float64 sin/cos of 100M angles alone took most of the time).
    theta = rng.random(len(traces), dtype=np.float32)
    theta *= np.float32(2.0 * np.pi)
    r = rng.standard_gamma(2.0, len(traces), dtype=np.float32)
    r /= np.float32(eps)
    return _moved(traces, r * np.cos(theta), r * np.sin(theta), _LAPLACE_68 * 1000.0 / eps)


#: 68% radius of a 2-D Gaussian, in units of its per-axis sigma.
_GAUSS_68 = 1.5096
#: 68% radius of the planar Laplace distribution, in units of 1/epsilon.
_LAPLACE_68 = 2.3457


def _moved(traces: pd.DataFrame, dx_km, dy_km, radius68_m: float) -> pd.DataFrame:
    # No deep copy: the unchanged columns are shared (copy-on-write) and the moved
    # ones are new arrays, so the input is never written to.
    out = traces.drop(columns=["antenna_id"], errors="ignore")
    out["x_km"] = np.add(traces["x_km"].to_numpy(dtype=np.float64), dx_km, dtype=np.float64)
    del dx_km
    out["y_km"] = np.add(traces["y_km"].to_numpy(dtype=np.float64), dy_km, dtype=np.float64)
    if "accuracy_m" in out.columns:
        acc = traces["accuracy_m"].to_numpy(dtype=np.float64)
        out["accuracy_m"] = np.round(np.hypot(acc, radius68_m), 1)
    return out


def _resolution_m(traces: pd.DataFrame) -> tuple[float, str] | None:
    """The data's own spatial resolution in metres and what it is, or None if unknown."""
    if "accuracy_m" in traces.columns:
        acc = traces["accuracy_m"].dropna()
        if len(acc):
            return float(acc.median()), "median GPS accuracy"
    ant = _antenna_xy(traces, partial=True)
    if ant is not None:
        ax, ay = ant[1], ant[2]
        if len(ax) > 20_000:
            pick = np.random.default_rng(0).choice(len(ax), 20_000, replace=False)
            ax, ay = ax[pick], ay[pick]
        if len(ax) >= 2:
            gap = np.empty(len(ax))
            chunk = max(1, (1 << 22) // len(ax))
            for s in range(0, len(ax), chunk):
                dx = ax[s : s + chunk, None] - ax[None, :]
                d2 = ay[s : s + chunk, None] - ay[None, :]
                d2 *= d2
                d2 += dx * dx
                d2[np.arange(d2.shape[0]), np.arange(s, s + d2.shape[0])] = np.inf
                gap[s : s + chunk] = np.sqrt(d2.min(axis=1))
            return float(np.median(gap) * 1000.0), "median spacing of the antennas"
    return None


def _antenna_xy(traces: pd.DataFrame, *, partial: bool = False):
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
    codes, n = _dense_codes(aid - aid.min())
    del aid
    ax = np.empty(n)
    ay = np.empty(n)
    ax[codes] = x
    ay[codes] = y
    return codes, ax, ay, rows


def _warn_if_below_resolution(traces: pd.DataFrame, scale_m: float, what: str) -> None:
    res = _resolution_m(traces)
    if res is not None and scale_m < 0.1 * res[0]:
        warnings.warn(
            f"{what} is far below the data's own resolution ({res[1]} {res[0]:,.0f} m): "
            "each point still names the same place",
            WeakTransformWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------
# fewer records, fewer devices, fewer days
# ---------------------------------------------------------------------------


def subsample(traces: pd.DataFrame, *, keep: float, rng=None) -> pd.DataFrame:
    """Keep each record independently with probability ``keep``.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    keep : float in (0, 1]
        Share of records released, on average.
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        The kept rows, in their order; devices left with no record are gone.

    Warns
    -----
    WeakTransformWarning
        When ``keep`` is 1 (nothing is dropped).

    Notes
    -----
    Fewer records mean fewer points to choose from, but the points that
    remain are as rare as before: an attacker who knows p of them still
    singles most devices out. Sparser traces do help a little, because
    fewer other devices are seen at the same places at the same hours.

    References
    ----------
    .. [1] de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D.
       (2013). Unique in the Crowd: The privacy bounds of human mobility.
       Scientific Reports 3:1376.
    """
    validate_traces(traces)
    keep = check_share(keep, "keep")
    rng = np.random.default_rng(rng)
    if keep == 1.0:
        _warn_keep_all("subsample")
    mask = rng.random(len(traces)) < keep
    return _rows(traces, mask, "subsample")


def sample_devices(traces: pd.DataFrame, *, keep: float, rng=None) -> pd.DataFrame:
    """Release every record of a random ``keep`` share of the devices, and nothing of the rest.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    keep : float in (0, 1]
        Share of devices released (``round(keep * n_devices)``, at least one).
    rng : int, Generator or None

    Returns
    -------
    DataFrame
        The rows of the chosen devices, in their order.

    Warns
    -----
    WeakTransformWarning
        When every device is kept.

    Notes
    -----
    A released device has fewer others to hide among, but a trace is so
    particular that a few points single it out among thousands as among
    millions: unicity falls only slowly with the size of the population,
    so releasing a sample barely helps, and whoever is in it is as exposed
    as before.

    References
    ----------
    .. [1] Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk
       of re-identification remains high even in country-scale location
       datasets. Patterns 2(3):100204.
    """
    validate_traces(traces)
    keep = check_share(keep, "keep")
    rng = np.random.default_rng(rng)
    dev, n_dev = device_code_range(traces)
    present = np.flatnonzero(np.bincount(dev, minlength=n_dev))
    m = max(1, int(round(keep * len(present))))
    if m == len(present):
        _warn_keep_all("sample_devices")
    chosen = np.zeros(n_dev, dtype=bool)
    chosen[rng.choice(present, size=m, replace=False)] = True
    return _rows(traces, chosen[dev], "sample_devices")


def suppress_rare(traces: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Drop every point (place and time) that fewer than ``k`` devices share.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    k : int
        Minimum number of distinct devices that must share a point
        (the same ``x_km, y_km, time``) for its records to be released.

    Returns
    -------
    DataFrame
        The records of points shared by at least ``k`` devices.

    Raises
    ------
    FewpointsError
        If no point is shared by ``k`` devices (nothing would be released).

    Warns
    -----
    WeakTransformWarning
        When nothing is dropped (``k`` = 1, or every point already shared).

    Notes
    -----
    k-anonymity applied point by point: every released point is shared by
    at least k devices, yet a combination of such points is still rare, so
    a few of them still single most devices out. Suppression also throws
    away exactly the records that make data useful: the quiet places and
    hours.

    References
    ----------
    .. [1] Sweeney, L. (2002). k-anonymity: a model for protecting privacy.
       International Journal of Uncertainty, Fuzziness and Knowledge-Based
       Systems 10(5):557-570.
    """
    validate_traces(traces)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise FewpointsError(f"k must be a whole number of devices, at least 1, got {k!r}")
    dev, n_dev = device_code_range(traces)
    point, n_points = _point_codes(traces)
    # Distinct devices per point: sort the (device, point) pairs, drop repeats, count.
    # Points are coded time first, so a table in device then time order gives
    # nearly sorted pairs, which a stable (run-merging) sort handles in about O(n).
    in_order = len(dev) < 2 or bool((dev[1:] >= dev[:-1]).all())
    pairs = _sorted_unique(dev * n_points + point, kind="stable" if in_order else None)
    del dev
    shared = np.bincount(pairs % n_points, minlength=n_points)
    del pairs
    mask = (shared >= k)[point]  # a boolean table per point: a cache-friendly gather
    if mask.all():
        warnings.warn(
            f"every point is already shared by at least {k} devices; suppress_rare removed nothing",
            WeakTransformWarning,
            stacklevel=2,
        )
    if not mask.any():
        raise FewpointsError(
            f"no point is shared by {k} devices; suppress_rare(k={k}) would release nothing "
            "(coarsen space or time first)"
        )
    return _rows(traces, mask, "suppress_rare")


def truncate(traces: pd.DataFrame, *, days: int) -> pd.DataFrame:
    """Release only the first ``days`` days, counted from midnight of the table's first day.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table.
    days : int
        Whole days to keep.

    Returns
    -------
    DataFrame
        The records before midnight of day ``days`` (day 0 is the first).

    Warns
    -----
    WeakTransformWarning
        When the table spans no more than ``days`` days (nothing is dropped).

    Notes
    -----
    A shorter release holds fewer points per device and is less unique, and
    Zang and Bolot (2011) found short collection periods among the few
    things that help. But a single day of a person's calls already holds
    their home and work, and a week is enough for most to stand out.

    References
    ----------
    .. [1] Zang, H., Bolot, J. (2011). Anonymization of location data does not
       work: a large-scale measurement study. MobiCom '11, 145-156.
    """
    validate_traces(traces)
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise FewpointsError(f"days must be a whole number, at least 1, got {days!r}")
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    day0 = int(t.min()) - int(t.min()) % 86_400
    mask = t < day0 + int(days) * 86_400
    if mask.all():
        span = (int(t.max()) - day0) // 86_400 + 1
        warnings.warn(
            f"the table spans {span} day(s), no more than days={days}; truncate removed nothing",
            WeakTransformWarning,
            stacklevel=2,
        )
    return _rows(traces, mask, "truncate")


# ---------------------------------------------------------------------------
# shared checks and helpers
# ---------------------------------------------------------------------------


def _rows(traces: pd.DataFrame, mask: np.ndarray, what: str) -> pd.DataFrame:
    """The rows where ``mask`` holds, index reset, unused device categories removed."""
    if not mask.any():
        raise FewpointsError(f"{what} kept no record")
    if mask.all():
        return traces.copy()
    # Column by column with numpy boolean indexing (pandas' .loc + reset_index +
    # remove_unused_categories took seconds per 10M rows).
    columns = {}
    for name in traces.columns:
        col = traces[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            columns[name] = _kept_categorical(col.array, mask)
        elif isinstance(col.dtype, np.dtype):
            columns[name] = col.to_numpy()[mask]
        else:
            columns[name] = col.array[mask]
    return pd.DataFrame(columns, copy=False)


def _kept_categorical(values: pd.Categorical, mask: np.ndarray) -> pd.Categorical:
    """``values[mask]`` with the categories no kept row uses removed (their order kept)."""
    codes = values.codes[mask]
    cats = values.categories
    if len(codes) and codes.min() < 0:  # missing values: leave it to pandas
        return values[mask].remove_unused_categories()
    used = np.bincount(codes, minlength=len(cats)) > 0
    if not used.all():
        codes = (np.cumsum(used) - 1).astype(codes.dtype)[codes]
        cats = cats[used]
    return _categorical(codes, cats, ordered=values.ordered)


def _code_dtype(n: int) -> type:
    """The integer type pandas keeps the codes of ``n`` categories in."""
    for dtype in (np.int8, np.int16, np.int32):
        if n < np.iinfo(dtype).max:
            return dtype
    return np.int64


def _categorical(
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
        codes.astype(_code_dtype(len(categories)), copy=False), dtype=dtype, validate=False
    )


def _device_codes_view(traces: pd.DataFrame) -> np.ndarray:
    """Integer code of each row's device, in increasing device order; the Categorical's own
    codes when it is one (no copy)."""
    s = traces["device_id"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.array.codes
    return pd.factorize(s, sort=True)[0]


def _dense_codes(keys: np.ndarray) -> tuple[np.ndarray, int]:
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


def _sorted_unique(keys: np.ndarray, kind: str | None = None) -> np.ndarray:
    """``np.unique`` for int64 keys by one sort (much faster than np.unique on large arrays)."""
    keys = np.sort(keys, kind=kind)
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _point_codes(traces: pd.DataFrame) -> tuple[np.ndarray, int]:
    """A code for each row's point (its distinct ``(x_km, y_km, time)``) and the number of points.

    Codes are time-major (all places of the first time, then the next), so
    rows in time order have nondecreasing codes up to the places of one time.
    When every row has an ``antenna_id`` and each antenna one position (antenna
    data), places are coded through the antennas: a scatter and a gather of the
    rows instead of hashing 100M coordinates.
    """
    loc = None
    ant = _antenna_xy(traces)
    if ant is not None:
        codes, ax, ay, _ = ant
        x = traces["x_km"].to_numpy(dtype=np.float64)
        y = traces["y_km"].to_numpy(dtype=np.float64)
        if np.array_equal(ax[codes], x) and np.array_equal(ay[codes], y):
            ant_loc, _ = _dense_codes(_xy_codes(ax, ay))
            loc = ant_loc[codes]
        del codes, x, y
    if loc is None:
        loc, _ = _dense_codes(
            _xy_codes(
                traces["x_km"].to_numpy(dtype=np.float64), traces["y_km"].to_numpy(dtype=np.float64)
            )
        )
    n_loc = int(loc.max()) + 1
    t = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    tc, n_t = _dense_codes(t - t.min())
    del t
    point = tc * n_loc + loc
    if n_t * n_loc <= 4 * len(point) + 1024:  # dense enough already (antennas x hours)
        return point, n_t * n_loc
    return _dense_codes(point)


def _xy_codes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """An int64 key per (x, y) pair, equal exactly when both coordinates are (-0.0 counts as 0.0)."""
    xc, xu = pd.factorize(x + 0.0)
    yc, _ = pd.factorize(y + 0.0)
    return xc.astype(np.int64) * (int(yc.max()) + 1 if len(yc) else 1) + yc


def _warn_keep_all(what: str) -> None:
    warnings.warn(
        f"{what} keeps everything at keep=1: the release is the whole table",
        WeakTransformWarning,
        stacklevel=3,
    )
