"""A binary search sped up by a guide table, with exactly the answer of ``np.searchsorted``.

The gravity models draw each destination as ``np.searchsorted(table, key,
side="right")`` in a sorted table of millions of cumulative weights: about
twenty dependent, cache-missing steps per draw. :class:`GuidedSearch` cuts
the key range into bins of width ``2**-bits`` and remembers, for each bin,
where the search would start and end. A key falls in a known bin
(``key * 2**bits`` is exact for a power of two, so ``floor`` of it is the
bin), and where the bin holds at most one step of the table, one comparison
settles the answer; the rare key in a crowded bin (where the table's steps
are close together, so little probability lies there) falls back to the
binary search. The answer is the binary search's, draw for draw.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GuidedSearch"]


class GuidedSearch:
    """``np.searchsorted(table, keys, side="right")`` for keys in ``[0, top)``, by table look-up.

    ``table`` must be sorted (non-decreasing) float64; ``top`` bounds the keys
    from above (for a key at or beyond it, or below 0, the binary search answers).
    With ``guided=False`` no guide is built (it costs a few tenths of a second
    for a table of millions): every key is binary-searched, for a table searched
    only once or twice.
    """

    def __init__(self, table: np.ndarray, top: float, *, bits: int = 12, guided: bool = True):
        self.table = np.ascontiguousarray(table, dtype=np.float64)
        self.guided = guided
        if not guided:
            return
        if not np.isfinite(self.table).all():
            raise ValueError("a guided search needs a finite table")
        self.scale = float(1 << bits)
        self.n_bins = int(np.ceil(top * self.scale))
        # bounds[i] = the number of entries at most i / 2**bits, the binary search's answer at
        # that bin edge: an entry v (scaled exactly by the power of two) is at most the edge i
        # when ceil(v) <= i, so the bounds are a running count of ceil(v), clipped to the bins.
        ceil = np.ceil(self.table * self.scale)
        np.clip(ceil, 0, self.n_bins + 1, out=ceil)
        bounds = np.cumsum(np.bincount(ceil.astype(np.intp), minlength=self.n_bins + 2))
        bounds = bounds[: self.n_bins + 1]
        dtype = np.int32 if self.table.size < 2**31 - 1 else np.int64
        #: Where the search of a key in each bin starts (the answer for a key at the bin's edge).
        self.lo = bounds[:-1].astype(dtype)
        #: True where a bin holds more than one step of the table: there the binary search answers.
        self.crowded = (bounds[1:] - bounds[:-1]) > 1
        #: The table, then +inf: the one comparison of a key with the first entry past its bin's edge.
        self.ext = np.append(self.table, np.inf)

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, dtype=np.float64)
        if not self.guided:
            return np.searchsorted(self.table, keys, side="right")
        b = keys * self.scale
        if keys.size and not ((b.min() >= 0.0) and (b.max() < self.n_bins)):
            return np.searchsorted(self.table, keys, side="right")
        i = b.astype(np.intp)
        del b
        lo = self.lo[i]
        out = lo.astype(np.intp)
        out += self.ext[lo] <= keys
        hard = np.flatnonzero(self.crowded[i])
        if hard.size:
            out[hard] = np.searchsorted(self.table, keys[hard], side="right")
        return out
