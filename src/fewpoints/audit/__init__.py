"""The audit: the briefing's analyses on a user's own location file, from the released data alone.

``fewpoints audit FILE --out DIR`` reads a file in the shape data brokers and
researchers ship it (one row per location fix: an ID, a time, a place) and
writes a risk report of the same kind as the briefing: how few points single
a device out, what coarsening would buy and cost, how identifying the homes
and workplaces inferred from the data are, what a larger release would do,
how the risk spreads over the devices, and (given a public map of places)
how many devices show visits near sensitive places. Nothing here uses ground
truth or a synthetic world: every number is measured on the file, and the
report says so. Nothing leaves the machine.

:func:`audit` runs the analyses on a traces table in memory and returns an
:class:`Audit`; :func:`write_audit` writes the figures (PNG, SVG, PDF), their
captions and alt text, ``report.html``, ``report.pdf`` and ``audit.json``
with every number, through the same machinery as the briefing.

One concept per module: ``result`` (sizes, thresholds, :class:`Audit`);
reading a file (``reading``, ``checks``, ``engine``, and ``broker`` for a
world in broker form); the analyses (``about``, ``coarsening``, ``risk``,
``population``, ``sensitive``) that ``measure`` runs in memory and
``dask_analyses`` / ``dask_audit`` run through the Dask engine; the figures
(``fig_words`` and one ``fig_*`` module per one or two figures); the report
(``contents``, ``page``, ``write``). Import the public names from ``fewpoints.audit``.

>>> from fewpoints.audit import audit, write_audit
>>> result = audit(traces, source="sample.csv")          # doctest: +SKIP
>>> write_audit(result, "audit-out")                     # doctest: +SKIP
"""

# Names marked F401 were public in the single module and stay importable from here,
# though not in __all__.
from fewpoints.audit.about import LOCATION_WORDS, describe  # noqa: F401
from fewpoints.audit.broker import BROKER_ORIGIN, BROKER_TIMEZONE, broker_form
from fewpoints.audit.checks import (  # noqa: F401
    MAX_REPEATS,
    check_auditable,
    check_device_ids,
    drop_duplicates,
)
from fewpoints.audit.coarsening import coarsening_table, release_costs  # noqa: F401
from fewpoints.audit.contents import METHODS, audit_figures, limits, summary_numbers  # noqa: F401
from fewpoints.audit.dask_audit import audit_dask
from fewpoints.audit.engine import BYTES_PER_RECORD, choose_engine, estimate_records  # noqa: F401
from fewpoints.audit.fig_risk import plot_risk
from fewpoints.audit.fig_sensitive import plot_sensitive
from fewpoints.audit.fig_unicity import plot_coarsening
from fewpoints.audit.measure import audit
from fewpoints.audit.page import report_html
from fewpoints.audit.population import population_bounds
from fewpoints.audit.reading import read_for_audit, read_for_audit_dask, reading_line  # noqa: F401
from fewpoints.audit.result import FEW, MIN_DEVICES, Audit, AuditSizes, RawShare
from fewpoints.audit.risk import per_device_risk
from fewpoints.audit.sensitive import SENSITIVE_KINDS, read_places, sensitive_exposure
from fewpoints.audit.write import audit_json, write_audit

__all__ = [
    "BROKER_ORIGIN",
    "BROKER_TIMEZONE",
    "FEW",
    "MIN_DEVICES",
    "SENSITIVE_KINDS",
    "Audit",
    "AuditSizes",
    "RawShare",
    "audit",
    "audit_dask",
    "audit_figures",
    "audit_json",
    "broker_form",
    "check_auditable",
    "check_device_ids",
    "choose_engine",
    "coarsening_table",
    "per_device_risk",
    "plot_coarsening",
    "plot_risk",
    "plot_sensitive",
    "population_bounds",
    "read_for_audit",
    "read_for_audit_dask",
    "read_places",
    "report_html",
    "sensitive_exposure",
    "write_audit",
]

#: Private helpers the tests read as ``fewpoints.audit._name`` (from before the package),
#: found where they live now.
_MOVED = {"_hours": ("fewpoints.audit.coarsening", "hours")}


def __getattr__(name: str):
    """``fewpoints.audit._hours`` as before the package (no other name)."""
    if name in _MOVED:
        from importlib import import_module

        module, attr = _MOVED[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
