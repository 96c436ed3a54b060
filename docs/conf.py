"""Sphinx configuration: the fewpoints documentation, built offline by ``make docs``.

Pages are Markdown (myst-parser). The API reference is read from the numpydoc docstrings
(autodoc + napoleon). Pages whose numbers, columns or options come from files or code are
written by ``docs/generate.py`` before the build (``make docs`` runs it): the results pages
from ``benchmarks/results/*.json``, the data model from ``fewpoints.schema.COLUMNS``, the
command line from each command's ``--help``.
"""

from __future__ import annotations

import fewpoints

project = "fewpoints"
author = "fewpoints contributors"
copyright = "fewpoints contributors, MIT licence"
release = fewpoints.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
# Unlabelled code blocks are shell commands and output, shown as they are.
highlight_language = "none"
exclude_patterns = ["_build", "_generated/*.md", "README.md"]

# Markdown: ::: fences, definition lists, heading anchors for links such as page.md#section.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The API reference: numpydoc sections (Parameters, Returns, Notes, References, Examples).
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# Attributes sections as fields, so a dataclass field is not described twice.
napoleon_use_ivar = True
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
# Cross-references from type hints and docstrings are not checked: many name pandas and
# numpy types that have no target offline (no intersphinx: the build makes no network call).
nitpicky = False

html_theme = "furo"
html_title = f"fewpoints {release}"
html_static_path = ["_static"]
html_css_files = ["fewpoints.css"]
html_show_sourcelink = False


def _unique_footnotes(app, what, name, obj, options, lines):
    """Make each docstring's numbered references ([1]) auto-numbered footnotes of its own.

    numpydoc References sections number their entries from 1 in every docstring; on a page
    that documents many functions those labels repeat (a docutils error). Labelled
    auto-numbered footnotes keep each function's references its own, numbered on the page.
    """
    import re

    key = re.sub(r"[^A-Za-z0-9]+", "-", name)
    for i, line in enumerate(lines):
        line = re.sub(r"^(\s*)\.\. \[(\d+)\]", rf"\1.. [#{key}-\2]", line)
        lines[i] = re.sub(r"\[(\d+)\]_", rf"[#{key}-\1]_", line)


def setup(app):
    app.connect("autodoc-process-docstring", _unique_footnotes)
