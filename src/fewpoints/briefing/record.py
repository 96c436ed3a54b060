"""What the pack records besides its pictures: the run, ``captions.md`` and ``results.json``.

:class:`RunInfo` is the command, version and date of the run;
:func:`captions_md` writes every figure's title, caption and alt text;
:func:`results_json` every number the pack states, as data (with
:func:`jsonable` for NumPy values and NaN).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fewpoints.briefing.context import BriefingFigure
from fewpoints.briefing.summary import summary_numbers
from fewpoints.briefing.words import SYNTHETIC


@dataclass(frozen=True)
class RunInfo:
    """What made the pack: the command, the fewpoints version and the date of the run."""

    command: str
    version: str
    date: str  # ISO date of the run (SOURCE_DATE_EPOCH when set, for reproducible builds)

    @classmethod
    def now(cls, command: str) -> RunInfo:
        import datetime as dt

        from fewpoints import __version__

        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        when = (
            dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
            if epoch and epoch.isdigit()
            else dt.datetime.now(dt.timezone.utc)
        )
        return cls(command=command, version=__version__, date=when.strftime("%Y-%m-%d"))


def figure_sections(figs: Sequence[BriefingFigure]) -> list[str]:
    """captions.md's lines for each figure: title, picture, caption, alt text and files."""
    lines: list[str] = []
    for i, fig in enumerate(figs, 1):
        lines += [
            f"## Figure {i}. {fig.title}",
            "",
            f"![{fig.alt}]({fig.name}.png)",
            "",
            fig.caption,
            "",
            f"**Alt text.** {fig.alt}",
            "",
            f"Files: `{fig.name}.png` (300 dpi), `{fig.name}.svg`, `{fig.name}.pdf`.",
            "",
        ]
    return lines


def captions_md(figs: Sequence[BriefingFigure], command: str) -> str:
    lines = [
        "# fewpoints briefing: captions and alt text",
        "",
        f"Made with `{command}`. {SYNTHETIC}",
        "",
    ]
    numbers = summary_numbers(figs)
    if numbers:
        lines += ["## Summary: the numbers that matter (synthetic data)", ""]
        for k in numbers:
            lines += [f"- {k.statement} ({k.interval()}; {k.figure}). {k.follows}"]
        lines += [""]
    lines += figure_sections(figs)
    return "\n".join(lines)


def jsonable(v):
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return None if not np.isfinite(v) else v
    if isinstance(v, (str, int, bool)) or v is None:
        return v
    return str(v)


def results_json(figs: Sequence[BriefingFigure], run: RunInfo) -> dict:
    """What the pack states, as data: each figure's facts and tables, and the summary numbers.

    ``benchmarks/briefing_tables.py`` makes the results tables from it, and the tests
    check that a share stated twice is the same number.
    """
    out = {
        "run": {"command": run.command, "version": run.version, "date": run.date},
        "summary": [jsonable(vars(k)) for k in summary_numbers(figs)],
        "figures": [],
    }
    for fig in figs:
        entry = {"name": fig.name, "title": fig.title, "headline": fig.headline,
                 "facts": jsonable(fig.facts)}  # fmt: skip
        table = getattr(fig.result, "table", fig.result)
        if isinstance(table, pd.DataFrame) and len(table) <= 500:
            entry["table"] = jsonable(table.to_dict(orient="records"))
        out["figures"].append(entry)
    return out
