"""Where a trip goes in a region: mostly within the traveller's town, sometimes to a neighbour.

How often a trip of each kind leaves its town (:func:`leave_share`: small
towns send more), and :class:`RegionGravity`, the gravity model that draws
a destination place within the town or in one of its nearest neighbours.
"""

from __future__ import annotations

import numpy as np

from fewpoints.synth.towns import Towns

#: Chance that a trip of each kind leaves a town of :data:`REFERENCE_PEOPLE` residents (work:
#: ``commute_share``). Smaller towns have fewer jobs, shops and services, so their people leave
#: more often, as the square root of the size ratio; larger ones less. At most :data:`MAX_LEAVE`.
LEAVE = {"school": 0.03, "worship": 0.05, "explore": 0.01, "explore_far": 0.3}
REFERENCE_PEOPLE = 50_000
MAX_LEAVE = {"work": 0.7, "school": 0.5, "worship": 0.5, "explore": 0.25, "explore_far": 0.8}
#: Trips to another town choose among this many nearest towns, by their pull x distance^-2.
NEIGHBOURS = 12
TOWN_BETA, TOWN_D0_KM = 2.0, 2.0


def leave_share(people: np.ndarray, share: float, most: float) -> np.ndarray:
    """Chance that a trip leaves each town: ``share`` at :data:`REFERENCE_PEOPLE` residents, as the
    square root of the size ratio elsewhere (small towns send more), at most ``most``."""
    ratio = REFERENCE_PEOPLE / np.maximum(np.asarray(people, dtype=float), 1.0)
    return np.clip(share * np.sqrt(ratio), 0.0, most)


class RegionGravity:
    """Gravity-model choices in a region: mostly within the traveller's town, sometimes in a neighbour.

    Within a town, a destination is drawn as in a city (:class:`fewpoints.synth.city.Gravity`):
    a cell of the town's grid with probability proportional to its pull x
    (distance + d0)^-beta, then a place of that cell by weight; every town's
    cell-to-cell table is one block of a single flattened array, so a draw is
    two binary searches whatever the town. With the town's ``leave``
    probability (always, for a town with nothing of the kind), the trip goes
    to one of the :data:`NEIGHBOURS` nearest towns that have some, chosen by
    their total pull x distance^-2, and lands in it as if from its downtown.
    """

    def __init__(
        self,
        towns: Towns,
        place_cell: np.ndarray,
        places: np.ndarray,
        weights: np.ndarray,
        *,
        beta: float,
        d0_km: float,
        leave: np.ndarray,
    ):
        self.towns = towns
        self.places = np.asarray(places)
        order = np.argsort(place_cell[self.places], kind="stable")
        self.places = self.places[order]
        w = np.asarray(weights, dtype=float)[order]
        cells = place_cell[self.places].astype(np.int64)
        n_cells = towns.cell_town.size
        mass = np.bincount(cells, weights=w, minlength=n_cells)
        town_mass = np.bincount(towns.cell_town, weights=mass, minlength=towns.n)
        self._rows = self._cell_tables(towns, mass, beta, d0_km)
        # Within-cell choice by weight, as in city.Gravity.
        start = np.searchsorted(cells, np.arange(n_cells))
        csum = np.cumsum(w)
        before = np.concatenate([[0.0], csum])[start]
        within = (csum - before[cells]) / mass[cells]
        within[np.r_[cells[1:] != cells[:-1], True]] = 1.0
        self._place_cdf = cells + within
        has = town_mass > 0
        self.leave = np.where(has, np.asarray(leave, dtype=float), 1.0)
        self._jump_towns, self._jump_cdf = self._neighbours(towns, town_mass)
        if not has.any():
            raise ValueError("a gravity model needs at least one place with weight")

    @staticmethod
    def _cell_tables(towns: Towns, mass: np.ndarray, beta: float, d0_km: float) -> np.ndarray:
        """Every cell's cumulative row over its town's cells, offset by the cell's number."""
        m = towns.n_side**2
        out = np.empty(int((m * m).sum()))
        rows_before = np.concatenate([[0], np.cumsum(m * m)[:-1]])
        for n in np.unique(towns.n_side):
            ts = np.flatnonzero(towns.n_side == n)
            k = int(n) * int(n)
            c = np.arange(n) + 0.5
            gx, gy = np.repeat(c, n), np.tile(c, n)
            unit = np.hypot(gx[:, None] - gx[None, :], gy[:, None] - gy[None, :])
            np.fill_diagonal(unit, 1.0 / 3.0)
            cells = towns.cell_offset[ts][:, None] + np.arange(k)[None, :]
            for part in np.array_split(np.arange(ts.size), max(1, ts.size * k * k // 4_000_000)):
                d = towns.cell_km[ts[part]][:, None, None] * unit[None, :, :]
                row = mass[cells[part]][:, None, :] * (d + d0_km) ** -beta
                cdf = np.cumsum(row, axis=2)
                tot = cdf[:, :, -1:]
                empty = tot[:, 0, 0] <= 0
                cdf[empty] = np.arange(1, k + 1) / k  # never used: such a town always sends away
                tot[empty] = 1.0
                cdf /= tot
                cdf[:, :, -1] = 1.0
                cdf += cells[part][:, :, None]
                idx = rows_before[ts[part]][:, None] + np.arange(k * k)[None, :]
                out[idx] = cdf.reshape(len(part), k * k)
        return out

    @staticmethod
    def _neighbours(towns: Towns, town_mass: np.ndarray):
        """For each town, its nearest towns with some pull (not itself) and a cumulative choice."""
        able = np.flatnonzero(town_mass > 0)
        k = min(NEIGHBOURS, max(able.size - 1, 1))
        near = np.empty((towns.n, k), dtype=np.int64)
        cdf = np.empty((towns.n, k))
        for part in np.array_split(np.arange(towns.n), max(1, towns.n * able.size // 4_000_000)):
            d = np.hypot(
                towns.cx[part, None] - towns.cx[None, able],
                towns.cy[part, None] - towns.cy[None, able],
            )
            d[able[None, :] == part[:, None]] = np.inf  # not to itself
            if able.size == 1:
                d[:] = 0.0  # the only town with any: everybody goes there
            pick = np.argsort(d, axis=1)[:, :k]
            dist = np.take_along_axis(d, pick, axis=1)
            dist = np.where(np.isfinite(dist), dist, 1e9)
            pull = town_mass[able[pick]] * (dist + TOWN_D0_KM) ** -TOWN_BETA
            c = np.cumsum(pull, axis=1)
            c /= c[:, -1:]
            c[:, -1] = 1.0
            near[part], cdf[part] = able[pick], c
        return near, (cdf + np.arange(towns.n)[:, None]).ravel()

    def _jump(self, town: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        k = self._jump_towns.shape[1]
        flat = np.searchsorted(self._jump_cdf, town + rng.random(town.size), side="right")
        col = np.clip(flat - town * k, 0, k - 1)
        return self._jump_towns[town, col]

    def sample(
        self, origin_cells: np.ndarray, rng: np.random.Generator, *, away: bool = False
    ) -> np.ndarray:
        """One destination place for each origin cell; ``away``: always in another town."""
        o = np.asarray(origin_cells, dtype=np.int64)
        if o.size == 0:
            return np.empty(0, dtype=np.int32)
        t = self.towns.cell_town[o]
        go = np.ones(o.size, dtype=bool) if away else rng.random(o.size) < self.leave[t]
        row = o.copy()
        g = np.flatnonzero(go)
        if g.size:
            row[g] = self.towns.centre_cell[self._jump(t[g], rng)]
        tr = self.towns.cell_town[row]
        m = self.towns.n_side[tr] ** 2
        pos = np.searchsorted(self._rows, row + rng.random(o.size), side="right")
        local = np.clip(pos - self.towns.row_start[row], 0, m - 1)
        cell = self.towns.cell_offset[tr] + local
        k = np.searchsorted(self._place_cdf, cell + rng.random(o.size), side="right")
        return self.places[np.minimum(k, self.places.size - 1)].astype(np.int32)
