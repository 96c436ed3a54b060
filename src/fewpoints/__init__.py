"""fewpoints: how few location points make "anonymized" phone data unique.

Everything here runs on a fully synthetic city: no real person is in any table.

>>> import fewpoints
>>> world = fewpoints.make_world("tiny", rng=1)
>>> sorted(world.tables())[:3]
['antennas', 'directory', 'people']
"""

__version__ = "0.1.0"

from fewpoints import anonymize
from fewpoints.attacks import (
    PointIndex,
    UnicityResult,
    anonymity_table,
    explain,
    home_work,
    link_directory,
    link_posts,
    population_curve,
    resolution_sweep,
    sensitive_visits,
    top_locations,
    top_n_anonymity,
    unicity,
    unicity_curve,
    worst_case_risk,
)
from fewpoints.defenses import privacy_utility
from fewpoints.io import read_traces
from fewpoints.schema import FewpointsError, InputError, validate, validate_traces
from fewpoints.synth import PRESETS, World, make_world, read_world

__all__ = [
    "PRESETS",
    "PointIndex",
    "UnicityResult",
    "FewpointsError",
    "InputError",
    "World",
    "__version__",
    "anonymity_table",
    "anonymize",
    "explain",
    "home_work",
    "link_directory",
    "link_posts",
    "make_world",
    "population_curve",
    "privacy_utility",
    "read_traces",
    "read_world",
    "resolution_sweep",
    "sensitive_visits",
    "top_locations",
    "top_n_anonymity",
    "unicity",
    "unicity_curve",
    "validate",
    "validate_traces",
    "worst_case_risk",
]
