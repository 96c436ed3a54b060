"""Population size: bigger crowds do not hide you (Farzanehfar et al. 2021).

Two ways a dataset grows, both measured:

* **subsets** (``axis="subsets"``): nested random subsets of one dataset,
  the published design. A broker with a larger market share sees more of
  the same people, in the same streets.
* **towns** (``axis="towns"``): the same world grown town by town (a broker
  covering more of the country); needs each device's home town, as a
  region world has (:mod:`fewpoints.synth.region`).

:func:`population_table` measures unicity for several p, sizes and both
axes at once, on the in-memory engine or on the Dask engine (the same
targets, points and anonymity sets for the same seed).
:func:`population_curve` adds a convex model fitted to one series and the
linear lower bound extended to country scale; the published model of the
same paper, built from three marginal distributions of the data, is
:func:`fit_marginals` and :func:`marginals_unicity`.

One module per concept: :mod:`~fewpoints.attacks.population.table` (the
measurement over nested subsets and towns),
:mod:`~fewpoints.attacks.population.curve` (the Beta fit and the lower
bound), :mod:`~fewpoints.attacks.population.shipped` (the shipped scale
tables), and the marginals model:
:mod:`~fewpoints.attacks.population.marginals` (fitting the marginals),
:mod:`~fewpoints.attacks.population.clusters` (antenna clusters),
:mod:`~fewpoints.attacks.population.sampling` (the resampler) and
:mod:`~fewpoints.attacks.population.model` (the model's unicity).
"""

# Every public name of the attack is importable from here as before (``__all__`` unchanged).
from fewpoints.attacks.population.clusters import antenna_network, grow_clusters  # noqa: F401
from fewpoints.attacks.population.curve import (
    PopulationCurve,
    PopulationFit,
    fit_population_model,
)
from fewpoints.attacks.population.marginals import CLUSTER_SIZE, Marginals, fit_marginals  # noqa: F401
from fewpoints.attacks.population.model import MarginalsModel, marginals_unicity  # noqa: F401
from fewpoints.attacks.population.sampling import sample_marginal_traces  # noqa: F401
from fewpoints.attacks.population.shipped import SCALE_TABLES, scale_tables  # noqa: F401
from fewpoints.attacks.population.table import (
    AXES,
    PopulationMeasurement,
    population_curve,
    population_table,
)

__all__ = [
    "AXES",
    "PopulationCurve",
    "PopulationFit",
    "PopulationMeasurement",
    "fit_population_model",
    "population_curve",
    "population_table",
    "scale_tables",
]


def __getattr__(name: str):
    """``_beta_unicity``, the model's curve, which tests read at its old path."""
    if name == "_beta_unicity":
        from fewpoints.attacks.population.curve import _beta_unicity

        return _beta_unicity
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
