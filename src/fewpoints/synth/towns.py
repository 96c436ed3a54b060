"""The towns of a region: their sizes, their squares on the map, their density and gravity grid.

Town sizes follow a rank-size (Zipf) law (:func:`town_sizes`); each town is
a square at the city presets' density, placed in the country apart from
every other (:func:`make_towns`), with a downtown and sub-centres that
places and antennas are drawn around, and a grid of cells that trips are
drawn over (:class:`Towns`, every town's arrays flattened into one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fewpoints.synth import names

#: The smallest side of a town's square (km) and the empty margin kept between two towns.
MIN_TOWN_SIDE_KM, TOWN_GAP_KM = 1.0, 0.5
#: Cells of a town's gravity grid: about this size (km), at most this many per side.
CELL_KM, MAX_CELLS_PER_SIDE = 0.5, 40


def town_sizes(
    n_people: int, *, zipf: float = 1.0, min_people: int = 500, rng: np.random.Generator
) -> np.ndarray:
    """Residents of each town, largest first, summing to ``n_people``.

    The rank-size rule: the k-th largest town has ``s1 * k**-zipf`` residents,
    down to about ``min_people`` (the rural background of villages), with a
    little lognormal jitter so that no two regions have the same ladder of
    sizes. ``s1`` is set so the sizes add up.
    """
    n = int(n_people)
    if n <= min_people:
        return np.array([n], dtype=np.int64)
    k_max = max(1, n // max(int(min_people), 1))
    k = np.arange(1, k_max + 1, dtype=float)
    harmonic = np.cumsum(k**-zipf)
    # Smallest number of towns whose ladder, ending at min_people, holds everybody.
    total = min_people * k**zipf * harmonic
    n_towns = int(min(np.searchsorted(total, n) + 1, k_max))
    share = k[:n_towns] ** -zipf * rng.lognormal(0.0, 0.25, n_towns)
    size = np.maximum(np.floor(n * share / share.sum()), 1).astype(np.int64)
    size = np.sort(size)[::-1].copy()
    size[0] += n - size.sum()
    if size[0] < size[1:2].max(initial=0):
        size = np.sort(size)[::-1].copy()
    return size


def _place_towns(side: np.ndarray, country_km: float, rng: np.random.Generator):
    """Centres of town squares (largest first), none overlapping another, inside the country."""
    n = side.size
    cx = np.empty(n)
    cy = np.empty(n)
    for t in range(n):
        half = side[t] / 2
        lo, hi = half, max(country_km - half, half + 1e-6)
        best, best_slack = None, -np.inf
        for _ in range(20):
            x = rng.uniform(lo, hi, 64)
            y = rng.uniform(lo, hi, 64)
            if t == 0:
                best = (x[0], y[0])
                break
            # Squares are apart when their centres are far enough apart along x or y.
            need = (side[:t] + side[t]) / 2 + TOWN_GAP_KM
            gap = np.maximum(np.abs(x[:, None] - cx[None, :t]), np.abs(y[:, None] - cy[None, :t]))
            slack = (gap - need[None, :]).min(axis=1)
            i = int(np.argmax(slack))
            if slack[i] > best_slack:
                best, best_slack = (x[i], y[i]), slack[i]
            if best_slack >= 0:
                break
        cx[t], cy[t] = best
    return cx, cy


@dataclass(frozen=True)
class Towns:
    """The towns as arrays: residents, squares, density components and gravity grid."""

    people: np.ndarray  # planned residents
    side: np.ndarray  # km
    x0: np.ndarray  # lower-left corner of the town's square
    y0: np.ndarray
    cx: np.ndarray  # downtown
    cy: np.ndarray
    names: np.ndarray
    # density components (downtown and sub-centres), flattened over towns
    comp_town: np.ndarray
    comp_x: np.ndarray
    comp_y: np.ndarray
    comp_sigma: np.ndarray
    comp_weight: np.ndarray
    # gravity grid
    n_side: np.ndarray  # cells per side
    cell_offset: np.ndarray  # first global cell of each town
    cell_town: np.ndarray  # town of each global cell
    centre_cell: np.ndarray  # the cell holding each town's downtown
    row_start: np.ndarray  # where each cell's row of a cell-to-cell table starts (flattened)

    @property
    def n(self) -> int:
        return self.people.size

    @property
    def cell_km(self) -> np.ndarray:
        return self.side / self.n_side

    def cell_of(self, town: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        n, km = self.n_side[town], self.cell_km[town]
        i = np.clip(((x - self.x0[town]) / km).astype(np.int64), 0, n - 1)
        j = np.clip(((y - self.y0[town]) / km).astype(np.int64), 0, n - 1)
        return (self.cell_offset[town] + i * n + j).astype(np.int32)

    def sample(
        self,
        counts: np.ndarray,
        rng: np.random.Generator,
        *,
        tighten: float = 1.0,
        background: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``counts[t]`` points in each town t from its density; returns (town, x, y)."""
        town = np.repeat(np.arange(self.n, dtype=np.int32), counts)
        # Each town's components, then its uniform background, as one flattened table.
        n_comp = np.bincount(self.comp_town, minlength=self.n)
        bg_raw = 0.18 * np.ones(self.n)
        w_comp = self.comp_weight.copy()
        if background is not None:
            comp_sum = np.bincount(self.comp_town, weights=w_comp, minlength=self.n)
            bg_raw = background * comp_sum / (1.0 - background)
        entry_town = np.concatenate([self.comp_town, np.arange(self.n, dtype=np.int32)])
        entry_w = np.concatenate([w_comp, bg_raw])
        entry_comp = np.concatenate([np.arange(self.comp_town.size), np.full(self.n, -1)])
        order = np.argsort(entry_town, kind="stable")
        entry_town, entry_w, entry_comp = entry_town[order], entry_w[order], entry_comp[order]
        total = np.bincount(entry_town, weights=entry_w, minlength=self.n)
        start = np.concatenate([[0], np.cumsum(n_comp + 1)])
        csum = np.cumsum(entry_w)
        before = np.concatenate([[0.0], csum])[start[:-1]]
        cdf = (csum - before[entry_town]) / total[entry_town] + entry_town
        cdf[start[1:] - 1] = np.arange(self.n) + 1.0
        e = np.searchsorted(cdf, town + rng.random(town.size), side="right")
        e = np.clip(e, start[town], start[town + 1] - 1)
        comp = entry_comp[e]
        bg = comp < 0
        x = np.empty(town.size)
        y = np.empty(town.size)
        side = self.side[town]
        x[bg] = rng.uniform(0.0, 1.0, bg.sum()) * side[bg]
        y[bg] = rng.uniform(0.0, 1.0, bg.sum()) * side[bg]
        c = comp[~bg]
        s = self.comp_sigma[c] * tighten
        x[~bg] = self.comp_x[c] - self.x0[town[~bg]] + s * rng.standard_normal(c.size)
        y[~bg] = self.comp_y[c] - self.y0[town[~bg]] + s * rng.standard_normal(c.size)
        for v in (x, y):  # reflect into the town's square
            np.abs(v, out=v)
            over = v > side
            v[over] = 2 * side[over] - v[over]
            np.clip(v, 0.0, side, out=v)
        return town, x + self.x0[town], y + self.y0[town]


def make_towns(params, rng: np.random.Generator) -> Towns:
    p = params
    people = town_sizes(p.n_people, zipf=p.town_zipf, min_people=p.min_town_people, rng=rng)
    side = np.maximum(np.sqrt(people / p.density_per_km2), MIN_TOWN_SIDE_KM)
    # The country: its area at the average density, and room enough for the towns' squares.
    country = max(
        np.sqrt(p.n_people / p.region_density_per_km2),
        2.0 * np.sqrt(((side + TOWN_GAP_KM) ** 2).sum()),
        side.max() + 2 * TOWN_GAP_KM,
    )
    cx, cy = _place_towns(side, country, rng)
    x0, y0 = cx - side / 2, cy - side / 2
    # Downtown and sub-centres on a ring around it (as a city's, see city.make_density).
    n_sub = np.clip(np.round(3 + 1.5 * np.log2(people / 5000)), 1, 12).astype(np.int64)
    n_comp = n_sub + 1
    comp_town = np.repeat(np.arange(people.size, dtype=np.int32), n_comp)
    first = np.concatenate([[0], np.cumsum(n_comp)[:-1]])
    is_down = np.zeros(comp_town.size, dtype=bool)
    is_down[first] = True
    rank = np.arange(comp_town.size) - first[comp_town]  # 0 downtown, 1.. sub-centres
    s = side[comp_town]
    angle = rng.uniform(0, 2 * np.pi, people.size)[comp_town] + rank * 2 * np.pi / np.maximum(
        n_sub[comp_town], 1
    )
    angle += rng.normal(0, 0.25, comp_town.size)
    radius = s * rng.uniform(0.18, 0.38, comp_town.size)
    comp_x = np.where(is_down, cx[comp_town], cx[comp_town] + radius * np.cos(angle))
    comp_y = np.where(is_down, cy[comp_town], cy[comp_town] + radius * np.sin(angle))
    comp_sigma = np.where(is_down, 0.15 * s, s * rng.uniform(0.035, 0.07, comp_town.size))
    w = rng.lognormal(0, 0.5, comp_town.size)
    w_sub = np.bincount(comp_town, weights=np.where(is_down, 0.0, w), minlength=people.size)
    comp_weight = np.where(is_down, 0.38, 0.5 * w / np.maximum(w_sub[comp_town], 1e-12))

    n_side = np.clip(np.ceil(side / CELL_KM), 2, MAX_CELLS_PER_SIDE).astype(np.int64)
    m = n_side**2
    cell_offset = np.concatenate([[0], np.cumsum(m)[:-1]])
    cell_town = np.repeat(np.arange(people.size, dtype=np.int32), m)
    rows_before = np.concatenate([[0], np.cumsum(m * m)[:-1]])
    local = np.arange(cell_town.size) - cell_offset[cell_town]
    row_start = rows_before[cell_town] + local * m[cell_town]
    towns = Towns(
        people=people,
        side=side,
        x0=x0,
        y0=y0,
        cx=cx,
        cy=cy,
        names=names.town_names(people.size, rng=rng),
        comp_town=comp_town,
        comp_x=comp_x,
        comp_y=comp_y,
        comp_sigma=comp_sigma,
        comp_weight=comp_weight,
        n_side=n_side,
        cell_offset=cell_offset,
        cell_town=cell_town,
        centre_cell=np.zeros(people.size, dtype=np.int32),
        row_start=row_start,
    )
    centre = towns.cell_of(np.arange(people.size), cx, cy)
    object.__setattr__(towns, "centre_cell", centre)
    return towns
