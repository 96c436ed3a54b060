"""A country of towns: the ``region`` layout of a synthetic world.

A city preset puts everybody in one city; a **region** spreads them over a
country: a few cities, many towns and a rural background of villages, with
sizes that follow a rank-size (Zipf) law, as settlements do. Each town is a
small city of its own (see :mod:`fewpoints.synth.city`): a downtown and
sub-centres, business districts where work places cluster, homes, shops,
schools and sensitive places in proportion to its residents, and antennas
at the same residents-per-antenna density as the city presets.

People live in one town. Most work, study and spend their evenings there; a
share (larger in small towns) commute to a neighbouring town, and weekend
day trips go to other towns. Between towns lies empty country: no place, no
antenna.

This is the world the population lesson needs. Adding towns to a region
(a broker covering more of the country) adds people who are almost never
at the same antennas as the people already covered; putting more people in
the same towns (a broker with a larger market share) adds look-alikes in
the same streets. The two are different experiments
(:func:`fewpoints.attacks.population_curve`, ``axis="towns"`` or
``"subsets"``).

Everything is vectorised over places and people; Python loops run only over
the towns while they are placed, and over distinct town sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.synth import names
from fewpoints.synth.city import (
    APPEAL,
    KINDS,
    PEOPLE_PER_PLACE,
    SENSITIVE,
    City,
    nearest_two,
)

__all__ = ["Region", "RegionGravity", "coverage_order", "device_towns", "make_region", "town_sizes"]

#: The fewest places of a kind in a town, however small (a village has a shop and a school;
#: clinics, shelters and legal aid come with the people, and villagers travel to them).
TOWN_MIN_COUNT = {"work": 1, "school": 1, "shop": 1, "food": 1}
#: Chance that a trip of each kind leaves a town of :data:`REFERENCE_PEOPLE` residents (work:
#: ``commute_share``). Smaller towns have fewer jobs, shops and services, so their people leave
#: more often, as the square root of the size ratio; larger ones less. At most :data:`MAX_LEAVE`.
LEAVE = {"school": 0.03, "worship": 0.05, "explore": 0.01, "explore_far": 0.3}
REFERENCE_PEOPLE = 50_000
MAX_LEAVE = {"work": 0.7, "school": 0.5, "worship": 0.5, "explore": 0.25, "explore_far": 0.8}
#: Trips to another town choose among this many nearest towns, by their pull x distance^-2.
NEIGHBOURS = 12
TOWN_BETA, TOWN_D0_KM = 2.0, 2.0
#: The smallest side of a town's square (km) and the empty margin kept between two towns.
MIN_TOWN_SIDE_KM, TOWN_GAP_KM = 1.0, 0.5
#: Cells of a town's gravity grid: about this size (km), at most this many per side.
CELL_KM, MAX_CELLS_PER_SIDE = 0.5, 40


def leave_share(people: np.ndarray, share: float, most: float) -> np.ndarray:
    """Chance that a trip leaves each town: ``share`` at :data:`REFERENCE_PEOPLE` residents, as the
    square root of the size ratio elsewhere (small towns send more), at most ``most``."""
    ratio = REFERENCE_PEOPLE / np.maximum(np.asarray(people, dtype=float), 1.0)
    return np.clip(share * np.sqrt(ratio), 0.0, most)


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
class _Towns:
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


def _make_towns(params, rng: np.random.Generator) -> _Towns:
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
    towns = _Towns(
        people=people,
        side=side,
        x0=x0,
        y0=y0,
        cx=cx,
        cy=cy,
        names=names.town_names(rng, people.size),
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
        towns: _Towns,
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
    def _cell_tables(towns: _Towns, mass: np.ndarray, beta: float, d0_km: float) -> np.ndarray:
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
    def _neighbours(towns: _Towns, town_mass: np.ndarray):
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


@dataclass
class Region(City):
    """A :class:`~fewpoints.synth.city.City` made of many towns (``places`` has a ``town`` column).

    Attributes (beyond a city's)
    ----------------------------
    towns : DataFrame
        ``town``, ``name``, ``x_km``, ``y_km`` (downtown), ``side_km``,
        ``people`` (residents planned), ``antennas``.
    place_town : ndarray
        The town of each place.
    """

    towns: pd.DataFrame = None
    place_town: np.ndarray = None
    _towns: _Towns = None
    commute_share: float = 0.12

    def _leave(self, trip: str) -> np.ndarray:
        share = self.commute_share if trip == "work" else LEAVE.get(trip, 0.0)
        return leave_share(self._towns.people, share, MAX_LEAVE.get(trip, 1.0))

    def gravity(
        self, places: np.ndarray, weights: np.ndarray, *, beta: float, d0_km: float, trip: str
    ) -> RegionGravity:
        return RegionGravity(
            self._towns,
            self.place_cell,
            places,
            weights,
            beta=beta,
            d0_km=d0_km,
            leave=self._leave(trip),
        )

    def day_trip(self, origin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A weekend day trip: a shop, cafe or leisure place in a neighbouring town."""
        return self.explore_far.sample(self.place_cell[origin], rng, away=True)


def make_region(params, *, rng: np.random.Generator) -> Region:
    """Build the towns, places and antennas of a region for ``params.n_people`` residents.

    Returns
    -------
    Region
        ``places`` (place_id, x_km, y_km, kind, sensitive, name, address,
        town), ``antennas`` (antenna_id, x_km, y_km), ``towns`` and the arrays
        behind them.
    """
    towns = _make_towns(params, rng)
    n_towns = towns.n
    counts = {"home": np.ceil(towns.people / params.household_size).astype(np.int64)}
    for kind in KINDS[1:]:
        if kind == "out_of_town":  # day trips go to other towns
            counts[kind] = np.zeros(n_towns, dtype=np.int64)
            continue
        want = np.round(towns.people / PEOPLE_PER_PLACE[kind]).astype(np.int64)
        counts[kind] = np.maximum(want, TOWN_MIN_COUNT.get(kind, 0))
    t_parts, x_parts, y_parts = [], [], []
    for kind in KINDS:
        if kind == "work":
            t, x, y = towns.sample(counts[kind], rng, tighten=0.6, background=0.05)
        elif kind in ("home", "school"):
            t, x, y = towns.sample(counts[kind], rng)
        else:
            t, x, y = towns.sample(counts[kind], rng, tighten=0.8)
        t_parts.append(t)
        x_parts.append(x)
        y_parts.append(y)
    place_town = np.concatenate(t_parts)
    x = np.round(np.concatenate(x_parts), 3)
    y = np.round(np.concatenate(y_parts), 3)
    kind_idx = np.repeat(
        np.arange(len(KINDS), dtype=np.int8), [int(counts[k].sum()) for k in KINDS]
    )
    cell = towns.cell_of(place_town, x, y)

    # Addresses: a street of the neighbourhood (cell), a number, and the town's name.
    n_home = int(counts["home"].sum())
    streets = names.street_names(rng, max(8, int(np.sqrt(n_home / max(n_towns, 1)) * 2)))
    street = streets[(cell.astype(np.int64) * 7 + rng.integers(0, 3, x.size)) % streets.size]
    number = rng.integers(1, 400, x.size).astype(str).astype(object)
    address = number + " " + street + ", " + towns.names.astype(object)[place_town]
    name = address.copy()
    offset = n_home
    for kind in KINDS[1:]:
        k = int(counts[kind].sum())
        name[offset : offset + k] = names.place_names(kind, k, rng)
        offset += k
    places = pd.DataFrame(
        {
            "place_id": np.arange(x.size, dtype=np.int64),
            "x_km": x,
            "y_km": y,
            "kind": pd.array(np.array(KINDS, dtype=object)[kind_idx], dtype="str"),
            "sensitive": np.isin(kind_idx, [KINDS.index(k) for k in SENSITIVE]),
            "name": pd.array(name, dtype="str"),
            "address": pd.array(address, dtype="str"),
            "town": place_town.astype(np.int32),
        }
    )

    n_ant = np.maximum(np.round(towns.people / params.people_per_antenna), 2).astype(np.int64)
    _, ax, ay = towns.sample(n_ant, rng, background=0.2)
    ax, ay = np.round(ax, 3), np.round(ay, 3)
    antennas = pd.DataFrame(
        {"antenna_id": np.arange(ax.size, dtype=np.int32), "x_km": ax, "y_km": ay}
    )
    serving, backup = nearest_two(x, y, ax, ay)

    disc_kinds = [KINDS.index(k) for k in APPEAL]
    disc = np.flatnonzero(np.isin(kind_idx, disc_kinds)).astype(np.int32)
    appeal = np.array([APPEAL.get(KINDS[k], 0.0) for k in kind_idx[disc]]) * rng.lognormal(
        0.0, 1.0, disc.size
    )

    def gravity(beta, d0, trip):
        leave = leave_share(towns.people, LEAVE[trip], MAX_LEAVE[trip])
        return RegionGravity(towns, cell, disc, appeal, beta=beta, d0_km=d0, leave=leave)

    table = pd.DataFrame(
        {
            "town": np.arange(n_towns, dtype=np.int32),
            "name": pd.array(towns.names, dtype="str"),
            "x_km": np.round(towns.cx, 3),
            "y_km": np.round(towns.cy, 3),
            "side_km": np.round(towns.side, 3),
            "people": towns.people,
            "antennas": n_ant,
        }
    )
    return Region(
        places=places,
        antennas=antennas,
        density=None,
        grid=None,
        place_x=x,
        place_y=y,
        place_kind=kind_idx,
        place_cell=cell,
        serving_antenna=serving,
        backup_antenna=backup,
        explore=gravity(2.8, 0.3, "explore"),
        explore_far=gravity(1.0, 1.0, "explore_far"),
        towns=table,
        place_town=place_town,
        _towns=towns,
        commute_share=float(params.commute_share),
    )


# ---------------------------------------------------------------------------
# towns of devices, for the population experiments
# ---------------------------------------------------------------------------


def device_towns(people: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """The home town of each device: ``device_id``, ``town`` (from ``people`` and the ``places`` map).

    Raises
    ------
    ValueError
        If ``places`` has no ``town`` column (a world made with the city layout).
    """
    from fewpoints.schema import FewpointsError

    if "town" not in places.columns:
        raise FewpointsError("these places have no towns: make the world with the region layout")
    town_of = np.full(int(places["place_id"].max()) + 1, -1, dtype=np.int64)
    town_of[places["place_id"].to_numpy()] = places["town"].to_numpy()
    return pd.DataFrame(
        {
            "device_id": people["device_id"].astype(str).to_numpy(),
            "town": town_of[people["home_place_id"].to_numpy(dtype=np.int64)],
        }
    )


def coverage_order(places: pd.DataFrame) -> np.ndarray:
    """Town ids in the order a broker spreading from one corner of the country would cover them.

    Towns are sorted by the distance of their homes' centre from the
    south-west corner of the region (the smallest x and y of any home), so
    each prefix of the order is a contiguous stretch of country.
    """
    homes = places[places["kind"] == "home"]
    town = homes["town"].to_numpy()
    n = int(places["town"].max()) + 1
    count = np.bincount(town, minlength=n)
    cx = np.bincount(town, weights=homes["x_km"].to_numpy(), minlength=n) / np.maximum(count, 1)
    cy = np.bincount(town, weights=homes["y_km"].to_numpy(), minlength=n) / np.maximum(count, 1)
    d = np.hypot(cx - homes["x_km"].min(), cy - homes["y_km"].min())
    return np.lexsort((np.arange(n), d)).astype(np.int64)
