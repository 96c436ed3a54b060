"""The report's files: the figures, ``captions.md``, ``audit.json``, ``report.html`` and ``report.pdf``.

:func:`write_audit` writes them all at once through the atomic output
folder; :func:`audit_json` holds every number the report states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from fewpoints import figures as F
from fewpoints.audit.coarsening import coarsening_table
from fewpoints.audit.contents import audit_figures, limits, summary_numbers
from fewpoints.audit.fig_words import labels
from fewpoints.audit.page import report_html
from fewpoints.audit.result import FEW, Audit


def audit_json(a: Audit, figs: Sequence, run) -> dict:
    """Every number the report states, as data (no device is listed)."""
    from fewpoints.briefing import jsonable

    def records(df):
        return jsonable(df.to_dict(orient="records"))

    pop = a.population
    population = None
    if pop is not None:
        population = {
            "table": records(pop.table),
            "fit": jsonable(dataclasses.asdict(pop.fit)),
            "extrapolation": records(pop.extrapolation),
            "model": "Beta model of Farzanehfar et al. (2021) fitted to nested random subsets; "
            "lower bound: the chord through the two largest subsets, continued",
        }
    out = {
        "run": {"command": run.command, "version": run.version, "date": run.date},
        "measured_on": a.source,
        "synthetic": False,
        "engine": a.engine,
        "seed": a.seed,
        "about": jsonable(a.about),
        "summary": [jsonable(vars(k)) for k in summary_numbers(a, figs)],
        "unicity": records(a.curve),
        "coarsening": {
            "few": FEW,
            "n_points": a.sizes.sweep_points,
            "release": jsonable(a.release),
            "coarsest": jsonable(a.coarsest),
            "table": records(coarsening_table(a)),
            "fit": records(a.sweep.fit),
        },
        "home_work": jsonable(a.home_work),
        "anonymity_sets": records(a.anonymity),
        "population": population,
        "per_device_risk": None if a.risk is None else records(a.risk),
        "sensitive_places": None if a.sensitive is None else records(a.sensitive),
        "limits": limits(a),
        "figures": [
            {
                "name": f.name,
                "title": f.title,
                "headline": f.headline,
                "caption": f.caption,
                "alt": f.alt,
                "facts": jsonable(f.facts),
            }  # fmt: skip
            for f in figs
        ],
        "seconds": jsonable(a.seconds),
    }
    return out


def _captions_md(a: Audit, figs: Sequence, command: str) -> str:
    from fewpoints.briefing.record import figure_sections

    lines = [
        f"# fewpoints audit of {a.source}: captions and alt text",
        "",
        f"Made with `{command}`. Every number is measured on {a.source}.",
        "",
        "## Summary: the numbers that matter",
        "",
    ]
    lines += [f"- {k.statement} ({k.interval()}; {k.figure}). {k.follows}"
              for k in summary_numbers(a, figs)]  # fmt: skip
    lines += [""]
    lines += figure_sections(figs)
    lines += ["## What this report cannot tell", ""]
    lines += [f"- {t}" for t in limits(a)]
    return "\n".join(lines) + "\n"


def write_audit(
    a: Audit,
    out,
    *,
    force: bool = False,
    command: str = "fewpoints audit",
    progress: Callable[[str, float], None] | None = None,
) -> list:
    """Write the audit report to folder ``out``; return the files written.

    Each figure as ``NAME.png`` (300 dpi), ``NAME.svg`` and ``NAME.pdf``,
    then ``captions.md``, ``audit.json`` (every number), ``report.html`` (one
    self-contained, accessible page) and ``report.pdf`` (the same page laid
    out for print by WeasyPrint, tagged PDF/UA), all written at once through
    the output writer: nothing half-written is ever seen, and an existing
    non-empty ``out`` is refused unless ``force``.
    """
    from pathlib import Path

    from fewpoints.briefing import RunInfo, pdf_renderer, write_figures, write_page, write_record
    from fewpoints.io import atomic_folder

    pdf_renderer()  # a missing PDF library is said before any work
    run = RunInfo.now(command)
    figs = audit_figures(a)
    out = Path(out)
    with atomic_folder(out, force=force) as tmp:
        with F.data_labels(**labels(a)):
            images = write_figures(figs, tmp, progress)
        if progress:
            progress("writing report.html and report.pdf", 0.0)
        write_record(tmp, _captions_md(a, figs, command), "audit.json", audit_json(a, figs, run))
        write_page(tmp, "report", report_html(a, figs, run, images))
        if progress:
            progress("writing report.html and report.pdf", 1.0)
        names = sorted(p.name for p in tmp.iterdir())
    return [out / n for n in names]
