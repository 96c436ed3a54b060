"""Figures: one house style and a ``plot_*`` function per finding.

Every ``plot_*(result, *, ax=None) -> Axes`` only draws a result computed
elsewhere (an attack's table or result object); none of them runs an
analysis. They share one style, :data:`HOUSE_STYLE`: the Okabe-Ito palette
(safe for colour-blind readers), type sized for a figure printed at A4 text
width, no chart junk, plain-language axis labels with units, the headline
number written on the chart, and a small source line saying the data are
synthetic.

>>> from fewpoints.figures import house_style, plot_unicity_curve
>>> with house_style():                                    # doctest: +SKIP
...     ax = plot_unicity_curve(curve)

The package: :mod:`~fewpoints.figures.style` (the house style and saving),
:mod:`~fewpoints.figures.labels` (words, axes and headline helpers), then one
module per family of plots: :mod:`~fewpoints.figures.unicity` (points known,
coarsening), :mod:`~fewpoints.figures.population` (dataset size),
:mod:`~fewpoints.figures.person` (home and work, naming, one week) and
:mod:`~fewpoints.figures.protection` (privacy against utility).
"""

from __future__ import annotations

from fewpoints.attacks.sensitive import (  # noqa: F401 (re-exported)
    top_sensitive_place,
)
from fewpoints.figures.labels import (  # noqa: F401 (re-exported)
    annotate_headline,
    clear_spot,
    error_bars,
    fmt_count,
    fmt_round,
    hours_label,
    need_columns,
    percent_axis,
    source_line,
    space_column,
    space_label,
)
from fewpoints.figures.person import (  # noqa: F401 (re-exported)
    MEASURE_WORDS,
    plot_anonymity_sets,
    plot_device_week,
    plot_naming,
)
from fewpoints.figures.population import (  # noqa: F401 (re-exported)
    POPULATION_LABELS,
    PUBLISHED_LOWER_BOUND,
    PUBLISHED_POPULATION,
    plot_population,
)
from fewpoints.figures.protection import (
    plot_privacy_utility,
    privacy_utility_size,
    spread_labels,
)
from fewpoints.figures.style import (  # noqa: F401 (re-exported)
    CYCLE,
    FAINT,
    FIGSIZE,
    HOUSE_STYLE,
    MUTED,
    OKABE_ITO,
    OURS,
    PUBLISHED,
    SAVE_METADATA,
    SOURCE_LINE,
    data_labels,
    house_style,
    new_axes,
    save_figure,
    use_house_style,
)
from fewpoints.figures.unicity import (  # noqa: F401 (re-exported)
    PUBLISHED_UNICITY,
    plot_resolution,
    plot_unicity_curve,
)

__all__ = [
    "FIGSIZE",
    "HOUSE_STYLE",
    "OKABE_ITO",
    "SAVE_METADATA",
    "SOURCE_LINE",
    "data_labels",
    "house_style",
    "new_axes",
    "plot_anonymity_sets",
    "plot_device_week",
    "plot_naming",
    "plot_population",
    "plot_privacy_utility",
    "plot_resolution",
    "privacy_utility_size",
    "plot_unicity_curve",
    "save_figure",
    "use_house_style",
]

# The helpers' names before the split, which the tests still read.
_headline = annotate_headline
_clear_spot = clear_spot
_spread_labels = spread_labels
