"""The unicity curve and the resolution plot return Axes under Agg and draw exactly what their result holds."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from fewpoints import figures as F
from fewpoints.attacks.resolution import ResolutionSweep
from fewpoints.schema import FewpointsError
from tests.builders import CURVE, _by_gid, _headline


def _source(ax) -> str:
    return " ".join(t.get_text() for t in ax.figure.texts if t.get_gid() == "fewpoints-source")


def test_unicity_curve_draws_the_table_and_the_published_marker_apart():
    ax = F.plot_unicity_curve(CURVE)
    assert isinstance(ax, matplotlib.axes.Axes)
    line = _by_gid(ax, "unicity")
    np.testing.assert_array_equal(line.get_xdata(), CURVE["n_points"])
    np.testing.assert_array_equal(line.get_ydata(), CURVE["unicity"])
    pub = _by_gid(ax, "published")
    assert (pub.get_xdata()[0], pub.get_ydata()[0]) == (4, 0.95)
    labels = ax.get_legend_handles_labels()[1]
    assert any("Published" in s and "de Montjoye et al. 2013" in s for s in labels)
    assert "93%" in _headline(ax) and "4 points" in _headline(ax)
    assert _source(ax) == "Synthetic data - fewpoints"


def test_unicity_curve_on_a_given_axes_and_without_published():
    fig, (a, b) = plt.subplots(1, 2)
    assert F.plot_unicity_curve(CURVE, ax=b, published=False) is b
    assert not [x for x in b.get_children() if x.get_gid() == "published"]
    F.plot_unicity_curve(CURVE, ax=a)
    assert sum(t.get_gid() == "fewpoints-source" for t in fig.texts) == 1


def test_unicity_curve_without_4_points_heads_with_the_middle():
    ax = F.plot_unicity_curve(CURVE[CURVE["n_points"] != 4])
    assert "84%" in _headline(ax) and "3 points" in _headline(ax)


def test_bad_tables_name_the_problem():
    with pytest.raises(FewpointsError, match="lacks column.*ci_low"):
        F.plot_unicity_curve(CURVE.drop(columns="ci_low"))
    with pytest.raises(FewpointsError, match="empty"):
        F.plot_unicity_curve(CURVE.iloc[:0])
    with pytest.raises(FewpointsError, match="DataFrame"):
        F.plot_naming([1, 2, 3])


def _sweep():
    rows = []
    for cell, v in ((np.nan, 1.0), (2.0, 5.0)):
        for h in (1.0, 2.0, 4.0):
            u = 0.95 - 0.03 * np.log2(v * h)
            rows.append(
                dict(cell_km=cell, time_bin=f"{h:g}h", v=v, h=h, n_points=4, unicity=u,
                     ci_low=u - 0.01, ci_high=u + 0.01, n_targets=500, fitted=u + 0.002)
            )  # fmt: skip
    fit = pd.DataFrame(
        {"n_points": [4], "alpha": [1.9], "beta": [0.05], "rmse": [0.01], "halving_drop": [0.06]}
    )
    return ResolutionSweep(table=pd.DataFrame(rows), fit=fit)


def test_resolution_draws_each_setting_at_its_coarsening_and_the_fitted_law():
    sweep = _sweep()
    ax = F.plot_resolution(sweep)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["as recorded (antenna)", "2 km squares"]
    # Plain words in the legend (the formula is in the caption), no formula.
    assert "4 points known (filled; law dashed)" in labels
    assert not any("^" in label for label in labels)
    dots = np.concatenate(
        [ln.get_xydata() for ln in ax.get_lines() if ln.get_gid() == "measured-4"]
    )
    t = sweep.table
    want = np.c_[t["v"] * t["h"], t["unicity"]]
    # Settings at the same v*h are drawn side by side (within 10%), never on top of each other.
    got, exp = dots[np.lexsort(dots.T[::-1])], want[np.lexsort(want.T[::-1])]
    np.testing.assert_allclose(got[:, 1], exp[:, 1])
    assert np.all(np.abs(np.log(got[:, 0] / exp[:, 0])) < np.log(1.1))
    assert len({tuple(d) for d in dots}) == len(dots)
    # Ticks at the settings tried, and markers differ in shape per location precision.
    ticks = ax.get_xticks()
    assert all(np.min(np.abs(np.log(ticks / v))) < np.log(1.25) for v in want[:, 0])
    markers = {ln.get_marker() for ln in ax.get_lines() if ln.get_gid() == "measured-4"}
    assert len(markers) == 2
    (law,) = [ln for ln in ax.get_lines() if ln.get_gid() == "fitted-4"]
    x, y = law.get_xdata(), law.get_ydata()
    np.testing.assert_allclose(y, np.clip(1.9 - x**0.05, 0, 1))
    assert y.max() <= 1.0  # a share: the fitted law never starts above 100%
    assert x.min() == 1.0 and x.max() == 20.0
    coarsest = t.iloc[-1]["unicity"]
    assert f"{coarsest:.0%} by 4 points" in _headline(ax) and "2 km" in _headline(ax)
    ax = F.plot_resolution(sweep, mark=(None, 2.0))
    first = t[t["cell_km"].isna() & (t["h"] == 2.0)]["unicity"].iloc[0]
    assert _headline(ax) == f"Blurred to antennas,\n2 h slots: {first:.0%} by 4 points"


def test_resolution_with_a_second_number_of_points():
    sweep = _sweep()
    more = sweep.table.assign(n_points=8, unicity=0.99, ci_low=0.98, ci_high=1.0)
    sweep.table = pd.concat([sweep.table, more], ignore_index=True)
    ax = F.plot_resolution(sweep, n_points_range=(4, 8))
    assert "by 4 points" in _headline(ax) and "99% by 8 points" in _headline(ax)
    assert len([ln for ln in ax.get_lines() if ln.get_gid() == "measured-8"]) == 2
    assert "8 points known (open)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_resolution_of_merged_antennas_is_labelled_in_antennas():
    sweep = _sweep()
    # The same numbers as a merged-antenna sweep: merge_v 1 (as recorded) and 5.
    sweep.table = sweep.table.assign(merge_v=sweep.table["cell_km"].isna().map({True: 1.0, False: 5.0}),
                                     cell_km=np.nan)  # fmt: skip
    ax = F.plot_resolution(sweep, mark=(5, 2.0))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["as recorded (antenna)", "groups of 5 antennas"]
    t = sweep.table
    at = t[(t["merge_v"] == 5.0) & (t["h"] == 2.0)]["unicity"].iloc[0]
    assert _headline(ax) == f"Blurred to groups of 5 antennas,\n2 h slots: {at:.0%} by 4 points"
    ax = F.plot_resolution(sweep, mark=(None, 1.0))
    assert _headline(ax).startswith("Blurred to antennas,\n1 h slots")
    with pytest.raises(FewpointsError, match="merge_v=3"):
        F.plot_resolution(sweep, mark=(3, 1.0))


def test_resolution_refuses_a_missing_p():
    with pytest.raises(FewpointsError, match="no rows for 3 points"):
        F.plot_resolution(_sweep(), n_points_range=3)
