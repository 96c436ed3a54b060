"""New identities: :func:`pseudonymize`, optionally rotating each device's ID every period.

The records stay as they are; only ``device_id`` changes, to fresh random
12-hex-digit IDs. The rows move in whole blocks (one per device, or per device
and period) with no sort, and the IDs are made vectorised.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fewpoints.anonymize.encodings import categorical, code_dtype, dense_codes, sorted_unique
from fewpoints.anonymize.weak import WeakTransformWarning
from fewpoints.common import ascii_index, duration_seconds
from fewpoints.schema import validate_traces


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

    Examples
    --------
    >>> from fewpoints import examples
    >>> traces = examples.tiny_traces()

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # new names without rotation: a weak transform
    ...     renamed = pseudonymize(traces, rng=0)
    >>> ids = renamed["device_id"].astype(str)
    >>> ids.nunique(), len(renamed), sorted(set(ids.str.len()))
    (3, 6, [12])
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
        piece, n_new = dense_codes(key)
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
        codes = np.sort(codes).astype(code_dtype(n_new))
    else:  # whole blocks of rows move; the new codes in row order are runs 0, 1, 2, ...
        length = np.diff(start, append=len(traces))
        codes = _run_codes(length[order], code_dtype(n_new))
        dest = _block_destination(start, length, order, out=period)
    del period
    columns = {}
    for c in traces.columns:
        if c == "device_id":
            columns[c] = categorical(codes, categories)
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
    ids = sorted_unique(rng.integers(0, 16**12, size=n + n // 100 + 16, dtype=np.int64))
    while ids.size < n:
        more = rng.integers(0, 16**12, size=n, dtype=np.int64)
        ids = sorted_unique(np.concatenate([ids, more]))
    if ids.size > n:
        ids = np.delete(ids, rng.choice(ids.size, size=ids.size - n, replace=False))
    # Three 16-bit chunks per ID, each looked up as its four ASCII hex digits.
    text = np.empty((n, 3), dtype="<u4")
    for j, shift in enumerate((32, 16, 0)):
        text[:, j] = _HEX_QUADS[(ids >> shift) & 0xFFFF]
    return ascii_index(text.view(np.uint8).reshape(-1), width=12)


def _device_codes_view(traces: pd.DataFrame) -> np.ndarray:
    """Integer code of each row's device, in increasing device order; the Categorical's own
    codes when it is one (no copy)."""
    s = traces["device_id"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.array.codes
    return pd.factorize(s, sort=True)[0]
