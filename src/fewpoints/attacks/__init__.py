"""Attacks on ``traces``: how few points single a device out.

Every attack accepts a raw or an anonymized ``traces`` table (or a prebuilt
:class:`PointIndex`) and returns a result that carries its own evidence.
"""

from fewpoints.attacks.index import PointIndex
from fewpoints.attacks.unicity import (
    KNOWLEDGE,
    PopulationCurve,
    ResolutionSweep,
    RiskResult,
    UnicityResult,
    population_curve,
    resolution_sweep,
    unicity,
    unicity_curve,
    wilson_interval,
    worst_case_risk,
)

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
