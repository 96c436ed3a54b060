"""Defenses that do work, and what they cost: aggregate counts, with and without differential privacy.

A broker who releases traces releases fingerprints (see ``fewpoints.attacks``).
What many uses of location data need is much less: how many devices were in
each place at each hour. :func:`aggregate` computes exactly that, and
:func:`dp_aggregate` releases it with the Laplace mechanism, a formal
guarantee that holds per device over the whole release (:func:`dp_release`:
the same release with its privacy parameters). :func:`utility_error`
says what the guarantee cost in accuracy, and :func:`privacy_utility` puts
every transform of ``fewpoints.anonymize`` and these releases side by side:
unicity beside utility, on the same data.

Modules: ``aggregates`` (the count releases), ``utility`` (their error) and
``comparison`` (the settings and :func:`privacy_utility`); the attack on
noisy releases is :func:`fewpoints.attacks.near_unicity.near_unicity`.
"""

# _near_unicity, _apply and _align: the names these had in defenses.py, still importable here.
from fewpoints.attacks.near_unicity import near_unicity as _near_unicity  # noqa: F401
from fewpoints.defenses.aggregates import MAX_DOMAIN_CELLS as MAX_DOMAIN_CELLS
from fewpoints.defenses.aggregates import DPRelease, aggregate, dp_aggregate, dp_release
from fewpoints.defenses.comparison import PRIVACY_UTILITY_COLUMNS as PRIVACY_UTILITY_COLUMNS
from fewpoints.defenses.comparison import (
    Setting,
    default_settings,
    privacy_utility,
)
from fewpoints.defenses.comparison import apply as _apply  # noqa: F401
from fewpoints.defenses.utility import UtilityError, utility_error
from fewpoints.defenses.utility import align as _align  # noqa: F401

__all__ = [
    "DPRelease",
    "Setting",
    "UtilityError",
    "aggregate",
    "default_settings",
    "dp_aggregate",
    "dp_release",
    "privacy_utility",
    "utility_error",
]
