"""The briefing as one page: self-contained, accessible HTML, and the same page laid out as a PDF.

:func:`briefing_html` lays out the cover (context with citations), the
summary page and glossary, one section per figure (:func:`figure_html`, with
the release table of the last), methods and references, styled by
:data:`CSS`, whose print rules :func:`briefing_pdf` lays out with WeasyPrint
as a tagged PDF (:func:`pdf_renderer` says in one line what is missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fewpoints.briefing.context import BriefingFigure
from fewpoints.briefing.document import (
    CONTEXT_SOURCES,
    COVER,
    COVER_TITLE,
    GLOSSARY,
    METHODS,
    RESEARCH_SOURCES,
)
from fewpoints.briefing.record import RunInfo
from fewpoints.briefing.summary import summary_numbers
from fewpoints.briefing.words import SYNTHETIC, error_pct, pct
from fewpoints.schema import FewpointsError


def cite(text: str, numbers: dict[str, int]) -> str:
    """HTML-escape ``text`` and turn its ``[key]`` markers into linked reference numbers."""
    import html
    import re

    def link(m):
        key = m.group(1)
        if key not in numbers:
            return m.group(0)
        return f'<a class="cite" href="#ref-{key}">[{numbers[key]}]</a>'

    return re.sub(r"\[([a-z0-9]+)\]", link, html.escape(text, quote=False))


#: The stylesheet of briefing.html; the print rules are what briefing.pdf is laid out with.
CSS = """
:root { --ink: #111; --muted: #555; --rule: #d0d0d0; --accent: #0b5394; --dp: #e4f2ea; }
html { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       line-height: 1.5; }
body { margin: 0 auto; max-width: 46rem; padding: 1.5rem 1.25rem 3rem; font-size: 1rem; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .25rem .5rem; }
.kicker { color: var(--muted); font-size: .9rem; margin: 0 0 .5rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: .25rem 0 1rem; }
h2 { font-size: 1.3rem; line-height: 1.3; margin: 2.5rem 0 .75rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.synthetic { border-left: 4px solid var(--accent); padding: .5rem .75rem; background: #f3f6fa; }
.run { color: var(--muted); font-size: .9rem; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .85em; word-break: break-all; }
figure { margin: 1rem 0 0; }
figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: .95rem; margin-top: .5rem; }
.fignum { color: var(--muted); font-size: .9rem; margin: 0; }
.key { list-style: none; padding: 0; }
.key li { border-top: 1px solid var(--rule); padding: .75rem 0; }
.key .value { font-size: 1.6rem; font-weight: bold; display: block; }
.key .follows { display: block; margin-top: .25rem; }
dl.glossary dt { font-weight: bold; margin-top: .5rem; }
dl.glossary dd { margin: 0 0 0 1.25rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-top: 1rem; }
caption { text-align: left; font-weight: bold; padding-bottom: .35rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .4rem; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.dp td { background: var(--dp); }
ol.refs li { margin-bottom: .35rem; font-size: .9rem; }
@media print {
  @page { size: A4; margin: 18mm 20mm 20mm;
          @bottom-left { content: "fewpoints briefing · synthetic data"; font-size: 8pt;
                         color: #555; font-family: "DejaVu Sans", sans-serif; }
          @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt;
                          color: #555; font-family: "DejaVu Sans", sans-serif; } }
  html { font-size: 9.5pt; }
  body { max-width: none; padding: 0; }
  .skip { display: none; }
  h1 { font-size: 17pt; }
  h2 { font-size: 13pt; margin-top: 0; }
  section.page { break-before: page; }
  figure { break-inside: avoid; }
  figure img { width: 6.3in; max-width: 100%; }
  a { color: inherit; text-decoration: none; }
  a.cite { color: #0b5394; }
  table { font-size: 8pt; break-before: page; }
  tr { break-inside: avoid; }
  section.cover p, section.cover li { font-size: 8.8pt; line-height: 1.4; }
  section.cover h3 { margin-top: .8rem; }
  section.cover ol { margin: .3rem 0; }
  #methods p { font-size: 9pt; }
  ol.refs li { font-size: 8pt; margin-bottom: .15rem; }
}
"""


def _data_uri(mime: str, data: bytes) -> str:
    import base64

    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def page_head(
    title: str,
    tag: str,
    *,
    author: str,
    description: str,
    keywords: str,
    run: RunInfo,
    css: str,
    kicker: str,
) -> list[str]:
    """The lines of a self-contained page from ``<!DOCTYPE html>`` to ``<main>``.

    The head (``title (tag)``, the author, description, keywords, the
    fewpoints version and run date, the ``css``), a link that skips to the
    summary, and the header (``kicker`` above the ``title``). Every text is
    escaped; the briefing and the audit report open alike.
    """
    import html

    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)} ({esc(tag)})</title>",
        f'<meta name="author" content="{esc(author)}">',
        f'<meta name="description" content="{esc(description)}">',
        f'<meta name="keywords" content="{esc(keywords)}">',
        f'<meta name="generator" content="fewpoints {esc(run.version)}">',
        f'<meta name="dcterms.created" content="{esc(run.date)}">',
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#summary">Skip to the summary</a>',
        "<header>",
        f'<p class="kicker">{esc(kicker)}</p>',
        f"<h1>{esc(title)}</h1>",
        "</header>",
        "<main>",
    ]


def briefing_html(
    figs: Sequence[BriefingFigure], run: RunInfo, images: dict[str, tuple[str, bytes]]
) -> str:
    """The whole briefing as one self-contained HTML page (figures inline, no network).

    ``images`` maps each figure's name to ``(mime type, bytes)`` of its picture.
    The same page, laid out by its print rules, is briefing.pdf.
    """
    import html

    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    keys = [k for k, _, _ in CONTEXT_SOURCES] + [k for k, _ in RESEARCH_SOURCES]
    numbers = {k: i for i, k in enumerate(keys, 1)}
    parts = page_head(
        COVER_TITLE,
        "fewpoints briefing, synthetic data",
        author="fewpoints contributors",
        description=SYNTHETIC,
        keywords="location data, re-identification, unicity, synthetic data, privacy",
        run=run,
        css=CSS,
        kicker="fewpoints briefing · synthetic data",
    )
    parts += [
        '<section class="cover" aria-labelledby="context-h">',
        '<h2 id="context-h">The question</h2>',
    ]
    parts += [f"<p>{cite(p, numbers)}</p>" for p in COVER]
    parts += ['<h3 id="figures-h">What the figures show</h3>', "<ol>"]
    parts += [f'<li><a href="#{esc(f.name)}">{esc(f.title)}</a></li>' for f in figs]
    parts += [
        "</ol>",
        f'<p class="synthetic">{esc(SYNTHETIC)}</p>',
        f'<p class="run">fewpoints {esc(run.version)}, run on {esc(run.date)}. Reproduce '
        f"with <code>{esc(run.command)}</code>.</p>",
        "</section>",
    ]
    # Summary page.
    numbers_ = summary_numbers(figs)
    parts += [
        '<section class="page" id="summary" aria-labelledby="summary-h">',
        '<h2 id="summary-h">Summary: the numbers that matter</h2>',
        "<p>Measured on the simulated city (synthetic data, not a real population); "
        "each with its 95% interval.</p>",
        '<ol class="key">',
    ]
    for k in numbers_:
        parts.append(
            f'<li><span class="value">{esc(pct(k.value))}</span>'
            f"{esc(k.statement)} ({esc(k.interval())}; "
            f'<a href="#{esc(next(f.name for i, f in enumerate(figs, 1) if f"Figure {i}" == k.figure))}">'
            f'{esc(k.figure)}</a>).<span class="follows">{esc(k.follows)}</span></li>'
        )
    parts += ["</ol>", '<h3 id="glossary-h">Glossary</h3>', '<dl class="glossary">']
    for term, words in GLOSSARY:
        parts += [f"<dt>{esc(term)}</dt>", f"<dd>{esc(words)}</dd>"]
    parts += ["</dl>", "</section>"]
    # One section per figure.
    for i, fig in enumerate(figs, 1):
        parts += figure_html(fig, i, images[fig.name])
        if fig.name.endswith("what-protects") and isinstance(fig.result, pd.DataFrame):
            parts += _release_table(fig.result, i, esc)
        parts.append("</section>")
    # Methods, references.
    parts += [
        '<section class="page" id="methods" aria-labelledby="methods-h">',
        '<h2 id="methods-h">Methods and limits</h2>',
    ]
    parts += [f"<p>{cite(p, numbers)}</p>" for p in METHODS]
    parts += [
        f"<p>Reproduce. fewpoints {esc(run.version)}, run on {esc(run.date)}: "
        f"<code>{esc(run.command)}</code>. The same seed gives the same figures, byte for "
        "byte (PNG and SVG), and the same numbers.</p>",
        '<h2 id="references-h">References</h2>',
        '<ol class="refs">',
    ]
    for key, text, url in CONTEXT_SOURCES:
        link = f' <a href="{esc(url)}">{esc(url)}</a>' if url else ""
        parts.append(f'<li id="ref-{key}">{esc(text)}{link}</li>')
    for key, text in RESEARCH_SOURCES:
        parts.append(f'<li id="ref-{key}">{esc(text)}</li>')
    parts += ["</ol>", "</section>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def figure_html(fig: BriefingFigure, number: int, image: tuple[str, bytes]) -> list[str]:
    """The opening of a figure's page: its number, its finding as heading, the picture, the caption.

    ``image`` is ``(mime type, bytes)``. The caller adds any table and closes
    the ``section`` (the briefing and the audit lay out their figures alike).
    """
    import html

    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    mime, data = image
    return [
        f'<section class="page" id="{esc(fig.name)}" aria-labelledby="{esc(fig.name)}-h">',
        f'<p class="fignum">Figure {number}</p>',
        f'<h2 id="{esc(fig.name)}-h">{esc(fig.title)}</h2>',
        "<figure>",
        f'<img src="{_data_uri(mime, data)}" alt="{esc(fig.alt)}" '
        f'width="{int(fig.figsize[0] * 96)}" height="{int(fig.figsize[1] * 96)}">',
        f"<figcaption>{esc(fig.caption)}</figcaption>",
        "</figure>",
    ]


def _release_table(table: pd.DataFrame, number: int, esc) -> list[str]:
    rows = [
        "<table>",
        f"<caption>Table to figure {number}: every release compared (synthetic data; 4 known "
        "points; 95% intervals)</caption>",
        '<thead><tr><th scope="col">release</th><th scope="col" class="num">phones singled '
        'out</th><th scope="col" class="num">95% interval</th><th scope="col" class="num">'
        "error of hourly counts</th></tr></thead>",
        "<tbody>",
    ]
    for r in table.itertuples():
        if pd.isna(r.unicity):
            u, ci, cls = "no traces released", "", ' class="dp"'
        else:
            u, ci, cls = f"{r.unicity:.1%}", f"{r.ci_low:.1%} to {r.ci_high:.1%}", ""
        rows.append(
            f'<tr{cls}><th scope="row">{esc(r.setting)}</th><td class="num">{esc(u)}</td>'
            f'<td class="num">{esc(ci)}</td><td class="num">{error_pct(r.utility_error)}</td></tr>'
        )
    rows += ["</tbody>", "</table>"]
    return rows


def pdf_renderer():
    """WeasyPrint's HTML class, or a FewpointsError saying in one line what is missing."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise FewpointsError(
            "briefing.pdf needs WeasyPrint: pip install weasyprint (a dependency of fewpoints)"
        ) from None
    except OSError as exc:  # Pango or its libraries are missing
        raise FewpointsError(
            "briefing.pdf needs the Pango library for WeasyPrint "
            f"(apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}".splitlines()[0]
        ) from None
    return HTML


def briefing_pdf(path: Path, page: str) -> None:
    """Lay out the HTML page as a tagged PDF (PDF/UA-1: structure, alt text, bookmarks)."""
    HTML = pdf_renderer()
    HTML(string=page).write_pdf(path, pdf_variant="pdf/ua-1")
