"""The population plot draws the measured points, the model and the caveat legibly."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from fewpoints import figures as F
from fewpoints.attacks.population import PopulationCurve, PopulationFit
from tests.builders import _by_gid, _headline


def _population():
    table = pd.DataFrame(
        {"n_devices": [100, 1000, 10_000], "n_points": 4, "unicity": [0.99, 0.97, 0.93],
         "ci_low": [0.98, 0.96, 0.92], "ci_high": [1.0, 0.98, 0.94], "n_targets": 500}
    )  # fmt: skip
    out = PopulationCurve(
        table=table,
        fit=PopulationFit(a=0.5, b=1e4, rmse=0.0, slope=-4e-6, fit_from=100.0),
        extrapolation=pd.DataFrame(),
    )
    ex = np.array([1e5, 1e6])
    out.extrapolation = pd.DataFrame(
        {"n_devices": ex, "model": out.predict(ex), "lower_bound": out.lower_bound(ex)}
    )
    return out


def test_population_draws_measured_points_model_and_caveat():
    curve = _population()
    ax = F.plot_population(curve)
    measured = _by_gid(ax, "measured")
    xy = measured.get_xydata()
    np.testing.assert_array_equal(xy[:, 0], curve.table["n_devices"])
    np.testing.assert_array_equal(xy[:, 1], curve.table["unicity"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("measured") and any("models beyond the data" in s for s in labels)
    assert "93%" in _headline(ax) and "10,000" in _headline(ax)
    pub = _by_gid(ax, "published")
    assert pub.get_xdata()[0] == 60e6 and ax.get_xlim()[1] > 60e6
    low = _by_gid(ax, "published-lower-bound")
    assert (low.get_xdata()[0], low.get_ydata()[0]) == (60e6, 0.22)
    # The band starts after the largest measurement and runs to the right edge.
    band = _by_gid(ax, "extrapolated")
    left, right = band.get_x(), band.get_x() + band.get_width()
    assert left > 10_000 and right == pytest.approx(ax.get_xlim()[1])
    # The model is dashed beyond the data only; the lower bound starts at the last point.
    model = _by_gid(ax, "model").get_xdata()
    assert model.min() == pytest.approx(10_000) and model.max() == pytest.approx(60e6)
    lb = _by_gid(ax, "lower-bound")
    assert lb.get_ydata()[0] == pytest.approx(0.93) and lb.get_ydata()[-1] == 0.0


def test_population_draws_both_axes_live_points_and_the_paper_model_legibly():
    curve = _population()
    towns = pd.DataFrame({"n_devices": [120, 1500, 10_000], "unicity": [0.95, 0.94, 0.93],
                          "ci_low": [0.94, 0.93, 0.92], "ci_high": [0.96, 0.95, 0.94]})  # fmt: skip
    live = curve.table.assign(n_devices=curve.table["n_devices"] / 10)
    paper = pd.DataFrame({"n_devices": [1e4, 1e6, 6e7], "unicity": [0.99, 0.9, 0.7]})
    ax = F.plot_population(
        curve, towns=towns, live=live, paper_model=paper, note="measured on a region, `cmd`",
        labels={"live": "measured now: subsets of this city"},
    )  # fmt: skip
    np.testing.assert_array_equal(_by_gid(ax, "towns").get_xdata(), towns["n_devices"])
    np.testing.assert_array_equal(_by_gid(ax, "live").get_ydata(), live["unicity"])
    np.testing.assert_array_equal(_by_gid(ax, "paper-model").get_ydata(), paper["unicity"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == [
        F.POPULATION_LABELS["measured"], F.POPULATION_LABELS["towns"],
        "measured now: subsets of this city",
    ]  # fmt: skip
    assert "`cmd`" in _by_gid(ax, "population-note").get_text()
    assert ax.get_xlim()[0] < live["n_devices"].min()
    # Greyscale: each measured series has its own marker, each model its own dash pattern.
    markers = {_by_gid(ax, g).get_marker() for g in ("measured", "towns", "live", "paper-model")}
    assert len(markers) == 3 or _by_gid(ax, "live").get_markerfacecolor() == "white"
    dashes = {str(_by_gid(ax, g).get_linestyle()) for g in ("model", "lower-bound", "paper-model")}
    assert len(dashes) == 3
    fig = ax.figure
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
    assert min(sizes) >= 8  # readable at print size
    # Nothing is drawn outside the figure (legend and note included).
    renderer = fig.canvas.get_renderer()
    for artist in (ax.get_legend(), _by_gid(ax, "population-note")):
        box = artist.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 1 and box.y0 >= 0
