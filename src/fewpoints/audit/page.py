"""The report as one self-contained HTML page (``report.html``; ``report.pdf`` is its print).

:func:`report_html` lays out the cover (what was audited), the summary,
each figure with its table, the limits, the methods and the references.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from fewpoints.audit.coarsening import coarsening_table
from fewpoints.audit.contents import METHODS, REFERENCE_KEYS, limits, summary_numbers
from fewpoints.audit.result import FEW, Audit


def _reading_rows(a: Audit) -> list[tuple[str, str]]:
    ab = a.about
    rd = ab.get("reading", {})
    rows = [
        ("File", a.source),
        ("Records", f"{ab['n_records']:,}"),
        ("Devices", f"{ab['n_devices']:,}"),
        ("Period", f"{ab['first']} to {ab['last']} ({ab['days']:g} days)"),
        (
            "Records per device",
            f"median {ab['points_per_device']['median']:,.0f}, mean "
            f"{ab['points_per_device']['mean']:,.1f}",
        ),
        ("Locations", ab["locations_words"]),
        ("Time step", ab["time_step_words"]),
    ]
    for key, label in (
        ("columns", "Columns recognised"),
        ("time", "Times"),
        ("timezone", "Time zone"),
        ("projection", "Projection"),
        ("dropped", "Dropped"),
    ):
        if rd.get(key):
            rows.append((label, str(rd[key])))
    rows.append(("Engine", a.engine))
    return rows


#: Print rules of the report on top of the briefing's (its footer names the file, not synthetic data).
def _css(a: Audit) -> str:
    from fewpoints.briefing import CSS

    footer = f"fewpoints audit · measured on {a.source}".replace('"', "'")
    return CSS + (
        "\ndl.read { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; "
        "font-size: .92rem; }\ndl.read dt { font-weight: bold; }\ndl.read dd { margin: 0; }\n"
        ".measured { border-left: 4px solid #D55E00; padding: .5rem .75rem; background: #fbf1ea; }\n"
        "@media screen { section.page { margin-top: 3.5rem; border-top: 1px solid #d0d0d0; "
        "padding-top: .5rem; } }\n"
        '@media print { @page { @bottom-left { content: "' + footer + '"; } } '
        "table.keep { break-before: auto; } }\n"
    )


def report_html(a: Audit, figs: Sequence, run, images: dict) -> str:
    """The whole report as one self-contained HTML page (figures inline, no network)."""
    import html

    from fewpoints.briefing import RESEARCH_SOURCES, cite, figure_html, page_head, pct

    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    refs = [(k, t) for k, t in RESEARCH_SOURCES if k in REFERENCE_KEYS]
    numbers = {k: i for i, (k, _) in enumerate(refs, 1)}
    title = f"How identifying is {a.source}? A re-identification risk audit"
    measured = (
        f"Every number in this report is measured on {a.source}, by fewpoints {run.version} "
        f"on {run.date}, from the file alone: no ground truth, no simulated city. The audit "
        "ran on this machine and nothing was sent anywhere (fewpoints makes no network "
        "connection)."
    )
    parts = page_head(
        title,
        "fewpoints audit",
        author="fewpoints audit",
        description=measured,
        keywords="location data, re-identification, unicity, audit",
        run=run,
        css=_css(a),
        kicker=f"fewpoints audit · measured on {a.source}",
    )
    parts += [
        '<section class="cover" aria-labelledby="file-h">',
        '<h2 id="file-h">What was audited</h2>',
        f'<p class="measured">{esc(measured)}</p>',
        "<p>The question: can a record without a name still point to one device, and so to "
        "one person? Each figure asks it as a buyer of the file could, with the file's own "
        "records.</p>",
        '<dl class="read">',
    ]
    for k, v in _reading_rows(a):
        parts += [f"<dt>{esc(k)}</dt>", f"<dd>{esc(v)}</dd>"]
    parts += ["</dl>", '<h3 id="figures-h">What the figures show</h3>', "<ol>"]
    parts += [f'<li><a href="#{esc(f.name)}">{esc(f.title)}</a></li>' for f in figs]
    parts += [
        "</ol>",
        f'<p class="run">fewpoints {esc(run.version)}, run on {esc(run.date)}. Reproduce '
        f"with <code>{esc(run.command)}</code>.</p>",
        "</section>",
        '<section class="page" id="summary" aria-labelledby="summary-h">',
        '<h2 id="summary-h">Summary: the numbers that matter</h2>',
        f"<p>Measured on {esc(a.source)}; each with its 95% interval.</p>",
        '<ol class="key">',
    ]
    by_number = {f"Figure {i}": f.name for i, f in enumerate(figs, 1)}
    for k in summary_numbers(a, figs):
        parts.append(
            f'<li><span class="value">{esc(pct(k.value))}</span>{esc(k.statement)} '
            f'({esc(k.interval())}; <a href="#{esc(by_number[k.figure])}">{esc(k.figure)}</a>).'
            f'<span class="follows">{esc(k.follows)}</span></li>'
        )
    parts += ["</ol>", "</section>"]
    for i, fig in enumerate(figs, 1):
        parts += figure_html(fig, i, images[fig.name])
        kind = fig.name.split("-", 1)[1]
        if kind == "coarsening":
            parts += _coarsening_rows(a, i, esc)
        elif kind == "per-device-risk":
            parts += _risk_rows(a, i, esc)
        elif kind == "sensitive-places":
            parts += _sensitive_rows(a, i, esc)
        parts.append("</section>")
    parts += [
        '<section class="page" id="limits" aria-labelledby="limits-h">',
        '<h2 id="limits-h">What this report cannot tell</h2>',
        "<ul>",
    ]
    for text in limits(a):
        head, _, rest = text.partition(". ")
        parts.append(f"<li><strong>{esc(head)}.</strong> {esc(rest)}</li>")
    parts += ["</ul>", '<h2 id="methods-h">Methods</h2>']
    parts += [f"<p>{cite(p, numbers)}</p>" for p in METHODS]
    parts += [
        f"<p>Reproduce. fewpoints {esc(run.version)}, run on {esc(run.date)}: "
        f"<code>{esc(run.command)}</code>. The same file and seed give the same numbers.</p>",
        '<h2 id="references-h">References</h2>',
        '<ol class="refs">',
    ]
    parts += [f'<li id="ref-{k}">{esc(t)}</li>' for k, t in refs]
    parts += ["</ol>", "</section>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _table(caption: str, head: list[str], rows: list[list[str]], esc, num: set[int]) -> list[str]:
    cls = {True: ' class="num"', False: ""}
    out = ['<table class="keep">', f"<caption>{esc(caption)}</caption>", "<thead><tr>"]
    out += [f'<th scope="col"{cls[j in num]}>{esc(h)}</th>' for j, h in enumerate(head)]
    out += ["</tr></thead>", "<tbody>"]
    for r in rows:
        cells = [f'<th scope="row">{esc(r[0])}</th>']
        cells += [f"<td{cls[j in num]}>{esc(v)}</td>" for j, v in enumerate(r[1:], 1)]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    return out


def _coarsening_rows(a: Audit, number: int, esc) -> list[str]:
    t = coarsening_table(a)
    rows = [
        [
            r.setting,
            f"{r.unicity:.1%}",
            f"{r.ci_low:.1%} to {r.ci_high:.1%}",
            f"{r.moved_km:.2f} km",
            f"{r.shifted_minutes:.0f} min",
            "yes" if r.under_10_percent else "",
        ]
        for r in t.itertuples()
    ]
    return _table(
        f"Table to figure {number}: every coarsening tried, measured on {a.source} "
        f"({a.sizes.sweep_points} random points; 95% intervals; cost: mean move of a record)",
        [
            "setting",
            "singled out",
            "95% interval",
            "location moved",
            "time moved",
            f"under {FEW:.0%}",
        ],  # fmt: skip
        rows,
        esc,
        {1, 2, 3, 4},
    )


def _risk_rows(a: Audit, number: int, esc) -> list[str]:
    rows = [
        [
            r.label,
            f"{r.n_devices:,}",
            f"{r.share:.1%}",
            f"{r.ci_low:.1%} to {r.ci_high:.1%}",
            "" if pd.isna(r.cumulative) else f"{r.cumulative:.1%}",
        ]
        for r in a.risk.itertuples()
    ]
    return _table(
        f"Table to figure {number}: devices by the fewest random points that single them out "
        f"(of {int(a.risk['n_targets'].iloc[0]):,} sampled; measured on {a.source})",
        ["fewest points", "devices", "share", "95% interval", "by this many or fewer"],
        rows,
        esc,
        {1, 2, 3, 4},
    )


def _sensitive_rows(a: Audit, number: int, esc) -> list[str]:
    rows = [
        [r.kind.replace("_", " "), f"{r.n_devices:,}", f"{r.share:.1%}", f"{r.n_places:,}"]
        for r in a.sensitive.itertuples()
    ]
    return _table(
        f"Table to figure {number}: devices with a visit near each kind of sensitive place "
        f"(measured on {a.source})",
        ["kind of place", "devices", "share of all devices", "places visited"],
        rows,
        esc,
        {1, 2, 3},
    )
