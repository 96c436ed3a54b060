"""Attacks on ``traces``: how few points single a device out.

One module per attack: ``unicity`` (random or top points), ``worst_case``
(the most identifying points), ``resolution`` (coarsening), ``population``
(dataset size).

Every attack accepts a raw or an anonymized ``traces`` table (or a prebuilt
:class:`PointIndex`) and returns a result that carries its own evidence.
"""

from fewpoints.attacks.index import PointIndex
from fewpoints.attacks.population import PopulationCurve, population_curve
from fewpoints.attacks.resolution import ResolutionSweep, resolution_sweep
from fewpoints.attacks.unicity import (
    KNOWLEDGE,
    UnicityResult,
    unicity,
    unicity_curve,
    wilson_interval,
)
from fewpoints.attacks.worst_case import RiskResult, worst_case_risk

__all__ = [
    "KNOWLEDGE",
    "PointIndex",
    "PopulationCurve",
    "ResolutionSweep",
    "RiskResult",
    "UnicityResult",
    "population_curve",
    "resolution_sweep",
    "unicity",
    "unicity_curve",
    "wilson_interval",
    "worst_case_risk",
]
