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

The towns themselves are :mod:`fewpoints.synth.towns` and where a trip goes
among them :mod:`fewpoints.synth.region_gravity`; this module makes the
region's places and antennas (:func:`make_region`) and tells each device's
home town (:func:`device_towns`, :func:`coverage_order`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.synth import names
from fewpoints.synth.city import (
    KINDS,
    PEOPLE_PER_PLACE,
    SENSITIVE,
    City,
    discretionary_places,
    served_places,
)
from fewpoints.synth.region_gravity import LEAVE, MAX_LEAVE, RegionGravity, leave_share
from fewpoints.synth.towns import Towns, make_towns, town_sizes

__all__ = ["Region", "RegionGravity", "coverage_order", "device_towns", "make_region", "town_sizes"]

#: The fewest places of a kind in a town, however small (a village has a shop and a school;
#: clinics, shelters and legal aid come with the people, and villagers travel to them).
TOWN_MIN_COUNT = {"work": 1, "school": 1, "shop": 1, "food": 1}


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
    _towns: Towns = None
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
    towns = make_towns(params, rng)
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
    streets = names.street_names(max(8, int(np.sqrt(n_home / max(n_towns, 1)) * 2)), rng=rng)
    street = streets[(cell.astype(np.int64) * 7 + rng.integers(0, 3, x.size)) % streets.size]
    number = rng.integers(1, 400, x.size).astype(str).astype(object)
    address = number + " " + street + ", " + towns.names.astype(object)[place_town]
    name = address.copy()
    offset = n_home
    for kind in KINDS[1:]:
        k = int(counts[kind].sum())
        name[offset : offset + k] = names.place_names(kind, k, rng=rng)
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
    served = served_places(x, y, kind_idx, cell, ax, ay)
    disc, appeal = discretionary_places(kind_idx, rng)

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
        density=None,
        grid=None,
        **served,
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
