"""The synthetic city: a polycentric population density, places of every kind, and antennas.

The city is a square of ``side_km`` kilometres. Residents live around a
downtown and a handful of sub-centres; workplaces cluster more tightly in
business districts; shops, cafes, schools and sensitive places (health,
worship, legal aid, shelters) follow the people. Antennas are placed where
people are, so a downtown antenna covers a few hundred metres and a suburban
one a few kilometres, as in real networks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from fewpoints.synth import names
from fewpoints.synth.guide import GuidedSearch

#: Place kinds in the order their ids are numbered; sensitive ones last.
KINDS = (
    "home",
    "work",
    "school",
    "shop",
    "food",
    "leisure",
    "out_of_town",
    "health",
    "worship",
    "legal_aid",
    "shelter",
)
SENSITIVE = frozenset({"health", "worship", "legal_aid", "shelter"})
#: People per place of each kind (homes come from the household size).
PEOPLE_PER_PLACE = {
    "work": 14.0,
    "school": 450.0,
    "shop": 110.0,
    "food": 90.0,
    "leisure": 220.0,
    "out_of_town": 400.0,
    "health": 900.0,
    "worship": 1100.0,
    "legal_aid": 9000.0,
    "shelter": 12000.0,
}
#: How strongly each kind draws discretionary trips (relative; lognormal spread on top).
APPEAL = {
    "shop": 1.0,
    "food": 1.0,
    "leisure": 0.8,
    "health": 0.25,
    "worship": 0.05,
    "legal_aid": 0.04,
    "shelter": 0.02,
}
#: The fewest places of a kind that any city has, however small.
MIN_COUNT = {
    "school": 2,
    "health": 3,
    "worship": 3,
    "legal_aid": 1,
    "shelter": 1,
    "leisure": 3,
    "out_of_town": 8,
}
#: Day-trip destinations lie in a few towns this far (km) from downtown, outside the city square.
OUT_OF_TOWN_KM = (25.0, 60.0)
N_TOWNS = 4


@dataclass(frozen=True)
class Density:
    """A mixture of Gaussian centres and a uniform background over a square."""

    side_km: float
    cx: np.ndarray
    cy: np.ndarray
    sigma: np.ndarray
    weight: np.ndarray  # last entry: the uniform background

    def sample(
        self,
        n: int,
        rng: np.random.Generator,
        *,
        tighten: float = 1.0,
        background: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` points; ``tighten`` < 1 concentrates them nearer the centres."""
        w = self.weight.copy()
        if background is not None:
            w[-1] = background * w[:-1].sum() / (1.0 - background)
        w = w / w.sum()
        comp = rng.choice(len(w), size=n, p=w)
        x = np.empty(n)
        y = np.empty(n)
        bg = comp == len(w) - 1
        x[bg] = rng.uniform(0, self.side_km, bg.sum())
        y[bg] = rng.uniform(0, self.side_km, bg.sum())
        c = comp[~bg]
        s = self.sigma[c] * tighten
        x[~bg] = self.cx[c] + s * rng.standard_normal(c.size)
        y[~bg] = self.cy[c] + s * rng.standard_normal(c.size)
        # Reflect points that fall outside the square back inside.
        for v in (x, y):
            np.abs(v, out=v)
            over = v > self.side_km
            v[over] = 2 * self.side_km - v[over]
            np.clip(v, 0.0, self.side_km, out=v)
        return x, y


def make_density(side_km: float, n_subcentres: int, rng: np.random.Generator) -> Density:
    """Downtown in the middle, sub-centres on a ring around it, and a thin uniform background."""
    angle = rng.uniform(0, 2 * np.pi) + np.arange(n_subcentres) * 2 * np.pi / max(n_subcentres, 1)
    angle += rng.normal(0, 0.25, n_subcentres)
    radius = side_km * rng.uniform(0.18, 0.38, n_subcentres)
    cx = np.concatenate([[side_km / 2], side_km / 2 + radius * np.cos(angle)])
    cy = np.concatenate([[side_km / 2], side_km / 2 + radius * np.sin(angle)])
    sigma = np.concatenate([[0.15 * side_km], side_km * rng.uniform(0.035, 0.07, n_subcentres)])
    w_sub = rng.lognormal(0, 0.5, n_subcentres)
    w_sub = 0.5 * w_sub / w_sub.sum()
    weight = np.concatenate([[0.38], w_sub, [0.18]])
    return Density(side_km, cx, cy, sigma, weight / weight.sum())


@dataclass(frozen=True)
class Grid:
    """Square cells over the city, used to make gravity-model choices fast."""

    side_km: float
    cell_km: float
    n: int  # cells per side

    @classmethod
    def for_city(cls, side_km: float) -> Grid:
        n = int(np.clip(np.ceil(side_km / 0.5), 4, 40))
        return cls(side_km, side_km / n, n)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        i = np.clip((x / self.cell_km).astype(np.int64), 0, self.n - 1)
        j = np.clip((y / self.cell_km).astype(np.int64), 0, self.n - 1)
        return (i * self.n + j).astype(np.int32)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        c = (np.arange(self.n) + 0.5) * self.cell_km
        return np.repeat(c, self.n), np.tile(c, self.n)


class Gravity:
    """Draw destinations with probability proportional to weight x (distance + d0)^-beta.

    Distances are taken between grid-cell centres (within a cell: a third of
    the cell size), so a draw costs two searches whatever the number of
    places: pick a destination cell from the origin cell's row of a
    cell-to-cell table, then a place in that cell by weight. Both searches
    are guided (:class:`fewpoints.synth.guide.GuidedSearch`): the binary
    search's answer, mostly by one look-up and one comparison.
    """

    def __init__(
        self,
        grid: Grid,
        place_cell: np.ndarray,
        places: np.ndarray,
        weights: np.ndarray,
        *,
        beta: float,
        d0_km: float,
        guided: bool = False,
    ):
        self.places = np.asarray(places)
        order = np.argsort(place_cell[self.places], kind="stable")
        self.places = self.places[order]
        w = np.asarray(weights, dtype=float)[order]
        cells = place_cell[self.places].astype(np.int64)
        n_cells = grid.n * grid.n
        mass = np.bincount(cells, weights=w, minlength=n_cells)
        gx, gy = grid.centres()
        d = np.hypot(gx[:, None] - gx[None, :], gy[:, None] - gy[None, :])
        np.fill_diagonal(d, grid.cell_km / 3)
        row = mass[None, :] * (d + d0_km) ** -beta
        cdf = np.cumsum(row, axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        self._cell_cdf = (cdf + np.arange(n_cells)[:, None]).ravel()
        self._n_cells = n_cells
        # Within-cell choice by weight: cumulative weights per cell, offset by the cell number.
        start = np.searchsorted(cells, np.arange(n_cells))
        csum = np.cumsum(w)
        before = np.concatenate([[0.0], csum])[start]
        total = np.bincount(cells, weights=w, minlength=n_cells)
        within = (csum - before[cells]) / total[cells]
        within[np.r_[cells[1:] != cells[:-1], True]] = 1.0
        self._place_cdf = cells + within
        # Keys are below n_cells + 1 (an origin cell plus a draw in [0, 1), rounded). The guides
        # cost a few tenths of a second to build: worth it for a model drawn from every day.
        self._find_cell = GuidedSearch(self._cell_cdf, n_cells + 1, bits=12, guided=guided)
        self._find_place = GuidedSearch(self._place_cdf, n_cells + 1, bits=10, guided=guided)

    def sample(self, origin_cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One destination place for each origin cell."""
        o = np.asarray(origin_cells, dtype=np.int64)
        if o.size == 0:
            return np.empty(0, dtype=np.int32)
        flat = self._find_cell(o + rng.random(o.size))
        cell = np.minimum(flat - o * self._n_cells, self._n_cells - 1)
        k = self._find_place(cell + rng.random(o.size))
        return self.places[np.minimum(k, self.places.size - 1)].astype(np.int32)


@dataclass
class City:
    """The public map plus the arrays the other stages use."""

    places: pd.DataFrame
    antennas: pd.DataFrame
    density: Density
    grid: Grid
    place_x: np.ndarray
    place_y: np.ndarray
    place_kind: np.ndarray  # int8 index into KINDS
    place_cell: np.ndarray
    serving_antenna: np.ndarray  # nearest antenna of each place
    backup_antenna: np.ndarray  # second nearest
    explore: Gravity  # discretionary trips near where one is
    explore_far: Gravity  # discretionary trips across town

    def of_kind(self, kind: str) -> np.ndarray:
        return np.flatnonzero(self.place_kind == KINDS.index(kind)).astype(np.int32)

    def gravity(
        self, places: np.ndarray, weights: np.ndarray, *, beta: float, d0_km: float, trip: str
    ) -> Gravity:
        """A gravity model choosing among ``places`` by ``weights`` x (distance + d0)^-beta.

        ``trip`` names the kind of trip (``"work"``, ``"school"``, ``"worship"``,
        ...); a city ignores it, a region (:mod:`fewpoints.synth.region`) uses
        it to decide how often the trip leaves the traveller's own town.
        """
        return Gravity(self.grid, self.place_cell, places, weights, beta=beta, d0_km=d0_km)

    def day_trip(self, origin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A day-trip destination for travellers leaving from places ``origin``: a place out of town."""
        resorts = self._resorts
        return resorts[rng.integers(0, resorts.size, origin.size)]

    @cached_property
    def _resorts(self) -> np.ndarray:
        return self.of_kind("out_of_town")


def city_side_km(n_people: int, density_per_km2: float) -> float:
    return float(max(10.0, np.sqrt(n_people / density_per_km2)))


def nearest_two(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest and second-nearest antenna of every place.

    The answer is exactly that of comparing every place with every antenna
    (squared distances in float32, ties to the lower antenna id), but each
    place is compared only with the antennas that can win: places and
    antennas are put in square tiles, and the places of a tile are compared
    with the antennas within reach of the tile (the distance from its centre
    to its second-nearest antenna, plus the tile's diagonal, plus a metre for
    rounding). A country-sized region is then seconds, not an hour.
    """
    first = np.empty(px.size, dtype=np.int32)
    second = np.empty(px.size, dtype=np.int32)
    if px.size == 0:
        return first, second
    if ax.size < 2:
        first[:] = 0
        second[:] = 0
        return first, second
    x0, y0 = min(px.min(), ax.min()), min(py.min(), ay.min())
    span = max(max(px.max(), ax.max()) - x0, max(py.max(), ay.max()) - y0, 1e-6)
    side = int(np.clip(np.ceil(np.sqrt(ax.size / 2)), 1, 512))
    tile_km = span / side * (1 + 1e-9)

    def tiles(x, y):
        i = np.clip(((x - x0) / tile_km).astype(np.int64), 0, side - 1)
        j = np.clip(((y - y0) / tile_km).astype(np.int64), 0, side - 1)
        return i * side + j

    a_tile = tiles(ax, ay)
    a_order = np.argsort(a_tile, kind="stable").astype(np.int32)
    a_start = np.searchsorted(a_tile[a_order], np.arange(side * side + 1))
    p_tile = tiles(px, py)
    p_order = np.argsort(p_tile, kind="stable")
    p_start = np.searchsorted(p_tile[p_order], np.arange(side * side + 1))

    def box(i: int, j: int, r: int) -> np.ndarray:
        """Antennas in the tiles at most ``r`` rows and columns from tile (i, j)."""
        lo, hi = max(j - r, 0), min(j + r, side - 1)
        rows = range(max(i - r, 0), min(i + r, side - 1) + 1)
        return np.concatenate(
            [a_order[a_start[ii * side + lo] : a_start[ii * side + hi + 1]] for ii in rows]
        )

    ax32, ay32 = ax.astype(np.float32), ay.astype(np.float32)
    half_diagonal = tile_km / np.sqrt(2.0)
    for tile in np.flatnonzero(np.diff(p_start)):
        i, j = divmod(int(tile), side)
        cx, cy = x0 + (i + 0.5) * tile_km, y0 + (j + 0.5) * tile_km
        # Grow a square of tiles until it holds two antennas nearer the centre than its edge.
        r = 0
        while True:
            cand = box(i, j, r)
            if cand.size >= 2:
                reach = np.partition(np.hypot(ax[cand] - cx, ay[cand] - cy), 1)[1]
                if reach <= (r + 0.5) * tile_km or r >= side:
                    break
            r += 1
        reach += 2 * half_diagonal + 1e-3
        cand = np.sort(box(i, j, int(np.ceil(reach / tile_km))))
        cx32, cy32 = ax32[cand], ay32[cand]
        places = p_order[p_start[tile] : p_start[tile + 1]]
        for s in range(0, places.size, chunk):
            who = places[s : s + chunk]
            dx = px[who, None].astype(np.float32) - cx32[None, :]
            dy = py[who, None].astype(np.float32) - cy32[None, :]
            d2 = dx * dx + dy * dy
            a = np.argmin(d2, axis=1)
            first[who] = cand[a]
            d2[np.arange(who.size), a] = np.inf
            second[who] = cand[np.argmin(d2, axis=1)]
    return first, second


_nearest_two = nearest_two


def _other_towns(side_km: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Day-trip places (resorts, beaches, relatives) in a few towns well outside the city."""
    angle = rng.uniform(0, 2 * np.pi, N_TOWNS)
    dist = rng.uniform(*OUT_OF_TOWN_KM, N_TOWNS)
    town = rng.integers(0, N_TOWNS, n)
    town[:N_TOWNS] = np.arange(min(N_TOWNS, n))
    x = side_km / 2 + dist[town] * np.cos(angle[town]) + rng.normal(0, 1.2, n)
    y = side_km / 2 + dist[town] * np.sin(angle[town]) + rng.normal(0, 1.2, n)
    return x, y


def served_places(x, y, kind_idx, cell, ax, ay) -> dict:
    """The antenna table and the arrays of the places, as keywords of :class:`City`.

    Antenna coordinates are rounded to the metre; every place gets its
    nearest (serving) and second-nearest (backup) antenna.
    """
    ax, ay = np.round(ax, 3), np.round(ay, 3)
    serving, backup = nearest_two(x, y, ax, ay)
    return {
        "antennas": pd.DataFrame(
            {"antenna_id": np.arange(ax.size, dtype=np.int32), "x_km": ax, "y_km": ay}
        ),
        "place_x": x,
        "place_y": y,
        "place_kind": kind_idx,
        "place_cell": cell,
        "serving_antenna": serving,
        "backup_antenna": backup,
    }


def discretionary_places(kind_idx, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The places of discretionary trips (everyday and sensitive kinds) and their appeal.

    The appeal of a kind (:data:`APPEAL`) times a log-normal draw per place:
    a few places draw most of the visits.
    """
    disc_kinds = [KINDS.index(k) for k in APPEAL]
    disc = np.flatnonzero(np.isin(kind_idx, disc_kinds)).astype(np.int32)
    appeal = np.array([APPEAL.get(KINDS[k], 0.0) for k in kind_idx[disc]]) * rng.lognormal(
        0.0, 1.0, disc.size
    )
    return disc, appeal


def make_city(params, *, rng: np.random.Generator) -> City:
    """Build places and antennas for ``params.n_people`` residents.

    Returns
    -------
    City
        ``places`` (place_id, x_km, y_km, kind, sensitive, name, address) and
        ``antennas`` (antenna_id, x_km, y_km) tables, and the arrays behind them.
    """
    n = params.n_people
    side = city_side_km(n, params.density_per_km2)
    n_sub = (
        params.n_subcentres
        if params.n_subcentres is not None
        else int(np.clip(round(3 + 1.5 * np.log2(max(n, 1) / 5000)), 3, 12))
    )
    density = make_density(side, n_sub, rng)

    counts = {"home": int(np.ceil(n / params.household_size))}
    for kind, per in PEOPLE_PER_PLACE.items():
        counts[kind] = max(int(round(n / per)), MIN_COUNT.get(kind, 1))
    xs, ys = [], []
    for kind in KINDS:
        if kind == "out_of_town":
            x, y = _other_towns(side, counts[kind], rng)
        elif kind == "work":
            x, y = density.sample(counts[kind], rng, tighten=0.6, background=0.05)
        elif kind in ("home", "school"):
            x, y = density.sample(counts[kind], rng)
        else:
            x, y = density.sample(counts[kind], rng, tighten=0.8)
        xs.append(x)
        ys.append(y)
    x = np.round(np.concatenate(xs), 3)
    y = np.round(np.concatenate(ys), 3)
    kind_idx = np.repeat(np.arange(len(KINDS), dtype=np.int8), [counts[k] for k in KINDS])
    kind_names = np.array(KINDS, dtype=object)[kind_idx]

    # Names: homes get street addresses, other places a business-like name.
    n_home = counts["home"]
    streets = names.street_names(max(8, int(np.sqrt(n_home) * 2)), rng=rng)
    grid = Grid.for_city(side)
    cell = grid.cell_of(x, y)
    # A home's street follows its neighbourhood (cell), its number is random.
    home_street = streets[
        (cell[:n_home].astype(np.int64) * 7 + rng.integers(0, 3, n_home)) % streets.size
    ]
    home_number = rng.integers(1, 400, n_home).astype(str).astype(object)
    address = np.empty(x.size, dtype=object)
    address[:n_home] = home_number + " " + home_street
    other_street = streets[
        (cell[n_home:].astype(np.int64) * 7 + rng.integers(0, 3, x.size - n_home)) % streets.size
    ]
    address[n_home:] = (
        rng.integers(1, 400, x.size - n_home).astype(str).astype(object) + " " + other_street
    )
    name = address.copy()
    offset = n_home
    for kind in KINDS[1:]:
        name[offset : offset + counts[kind]] = names.place_names(kind, counts[kind], rng=rng)
        offset += counts[kind]

    places = pd.DataFrame(
        {
            "place_id": np.arange(x.size, dtype=np.int64),
            "x_km": x,
            "y_km": y,
            "kind": pd.array(kind_names, dtype="str"),
            "sensitive": np.isin(kind_idx, [KINDS.index(k) for k in SENSITIVE]),
            "name": pd.array(name, dtype="str"),
            "address": pd.array(address, dtype="str"),
        }
    )

    n_ant = max(4, int(round(n / params.people_per_antenna)))
    ax, ay = density.sample(n_ant, rng, background=0.2)
    # Each day-trip town has a few antennas of its own around its places.
    trips = kind_idx == KINDS.index("out_of_town")
    pick = rng.choice(np.flatnonzero(trips), size=3 * N_TOWNS, replace=trips.sum() < 3 * N_TOWNS)
    ax = np.concatenate([ax, x[pick] + rng.normal(0, 0.8, pick.size)])
    ay = np.concatenate([ay, y[pick] + rng.normal(0, 0.8, pick.size)])
    served = served_places(x, y, kind_idx, cell, ax, ay)

    # Discretionary destinations: everyday and sensitive places, with heavy-tailed appeal.
    disc, appeal = discretionary_places(kind_idx, rng)
    explore = Gravity(grid, cell, disc, appeal, beta=2.8, d0_km=0.3, guided=True)
    explore_far = Gravity(grid, cell, disc, appeal, beta=1.0, d0_km=1.0, guided=True)

    return City(
        places=places,
        density=density,
        grid=grid,
        **served,
        explore=explore,
        explore_far=explore_far,
    )
