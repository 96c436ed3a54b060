"""Top locations, home and work: where a device spends its hours, and how few such places single it out.

Every measure here starts from a device's **hourly visits**: the distinct
(location, hour) pairs of its trace. A location is where the record says the
phone was: the antenna's coordinates for call detail records, or, for GPS
pings, a **stay point** (the fixes of one device clustered within a radius,
so that the jitter of a GPS fix does not split a home into many places).
Locations are ranked by the number of distinct hours a device was seen there.

* :func:`top_locations`: each device's n most frequent locations.
* :func:`home_work`: the inferred home (most frequent location at night,
  22:00-06:00) and work (most frequent location on weekdays 09:00-17:00,
  other than home), each with the share of the window's hours behind it.
* :func:`top_n_anonymity` and :func:`home_work_anonymity`: how many devices
  share a device's ranked top-n locations, or its home/work pair, at a given
  granularity (as recorded, square cells, or districts of the city), the
  measures of Zang & Bolot (2011) and Golle & Partridge (2009).
* :func:`anonymity_table`: both measures over several granularities, one
  tidy table.

All of it reads the released ``traces`` (and, for districts, the public
``places`` map) and nothing else. Everything is numpy: one sort of the
records gives the hourly visits, and the rest is run-length counting and
sorting of integer keys, with no Python loop over records or devices.

Modules: ``visits`` (hourly visits, stay points, districts), ``ranking``
(top locations, home and work, granularities) and ``anonymity`` (the
anonymity sets).
"""

from fewpoints.attacks.top_locations.anonymity import (
    GRANULARITIES,
    AnonymityResult,
    anonymity_table,
    home_work_anonymity,
    top_n_anonymity,
)
from fewpoints.attacks.top_locations.anonymity import TABLE_COLUMNS as TABLE_COLUMNS
from fewpoints.attacks.top_locations.ranking import home_work, top_locations
from fewpoints.attacks.top_locations.ranking import home_work_codes as home_work_codes
from fewpoints.attacks.top_locations.ranking import ranked_places as ranked_places
from fewpoints.attacks.top_locations.ranking import resolve_granularity as resolve_granularity
from fewpoints.attacks.top_locations.visits import DEFAULT_CLUSTER_KM as DEFAULT_CLUSTER_KM
from fewpoints.attacks.top_locations.visits import HOMES_PER_DISTRICT as HOMES_PER_DISTRICT
from fewpoints.attacks.top_locations.visits import Districts, HourlyVisits
from fewpoints.attacks.top_locations.visits import as_visits as as_visits

__all__ = [
    "GRANULARITIES",
    "AnonymityResult",
    "Districts",
    "HourlyVisits",
    "anonymity_table",
    "home_work",
    "home_work_anonymity",
    "top_locations",
    "top_n_anonymity",
]
