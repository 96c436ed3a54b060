"""Attacks on ``traces``: how few points single a device out.

One module per attack: ``unicity`` (random or top points), ``worst_case``
(the most identifying points), ``resolution`` (coarsening), ``population``
(dataset size), ``top_locations`` (top places, home and work, and their
anonymity sets), ``inference`` (visits to sensitive places), ``linkage``
(names from a public directory or geotagged posts), and ``explain`` (one
device's story, all of them chained).

Every attack accepts a raw or an anonymized ``traces`` table (or a prebuilt
:class:`PointIndex`) and returns a result that carries its own evidence.
"""

from fewpoints.attacks.draws import KNOWLEDGE
from fewpoints.attacks.explain import DeviceStory, explain
from fewpoints.attacks.index import PointIndex
from fewpoints.attacks.inference import sensitive_visits
from fewpoints.attacks.linkage import (
    LinkageScore,
    link_directory,
    link_posts,
    linkage_score,
    naming_curve,
)
from fewpoints.attacks.population import PopulationCurve, PopulationFit, population_curve
from fewpoints.attacks.resolution import ResolutionSweep, resolution_sweep
from fewpoints.attacks.result import UnicityResult, wilson_interval
from fewpoints.attacks.top_locations import (
    AnonymityResult,
    Districts,
    HourlyVisits,
    anonymity_table,
    home_work,
    home_work_anonymity,
    top_locations,
    top_n_anonymity,
)
from fewpoints.attacks.unicity import unicity, unicity_curve
from fewpoints.attacks.worst_case import RiskResult, worst_case_risk

__all__ = [
    "KNOWLEDGE",
    "AnonymityResult",
    "DeviceStory",
    "Districts",
    "HourlyVisits",
    "LinkageScore",
    "PointIndex",
    "PopulationCurve",
    "PopulationFit",
    "ResolutionSweep",
    "RiskResult",
    "UnicityResult",
    "anonymity_table",
    "explain",
    "home_work",
    "home_work_anonymity",
    "link_directory",
    "link_posts",
    "linkage_score",
    "naming_curve",
    "population_curve",
    "resolution_sweep",
    "sensitive_visits",
    "top_locations",
    "top_n_anonymity",
    "unicity",
    "unicity_curve",
    "wilson_interval",
    "worst_case_risk",
]
