"""The privacy-utility plot: one row per setting beside its error, labels that do not overlap."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from fewpoints import figures as F
from tests.builders import _by_gid

PU = pd.DataFrame(
    {
        "setting": ["raw data", "2 km squares", "4 h slots", "noise 1 km", "DP counts, eps 1"],
        "transform": ["none", "coarsen_space", "coarsen_time", "add_noise", "dp_aggregate"],
        "strength": ["", "2 km", "4h", "1 km", "1"],
        "unicity": [0.95, 0.85, 0.80, 0.70, np.nan],
        "ci_low": [0.94, 0.83, 0.78, 0.68, np.nan],
        "ci_high": [0.96, 0.87, 0.82, 0.72, np.nan],
        "epsilon": [np.nan] * 4 + [1.0],
        "utility_error": [0.0, 0.2, 0.15, 0.3, 0.05],
        "utility_metric": ["mean relative error of counts"] * 5,
    }
)


def test_privacy_utility_draws_one_row_per_setting_beside_its_error():
    ax = F.plot_privacy_utility(PU)
    dots = _by_gid(ax, "traces").get_xydata()
    # raw data first, then the releases from most to least singled out
    np.testing.assert_array_equal(dots[:, 0], [0.95, 0.85, 0.80, 0.70])
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "raw data", "2 km squares", "4 h slots", "noise 1 km", "DP counts, eps 1"
    ]  # fmt: skip
    notes = " ".join(t.get_text() for t in ax.texts if t.get_gid() == "dp-label")
    assert "no traces released" in notes and "epsilon" in notes  # epsilon explained
    right = ax.utility_axes
    bars = [b.get_width() for b in right.patches if b.get_height() < 1]
    np.testing.assert_allclose(sorted(bars), sorted(PU["utility_error"]))
    # the error axis is a percentage, and every bar carries its value
    assert right.xaxis.get_major_formatter()(0.5, 0) == "50%"
    assert {"0%", "20%", "15%", "30%", "5%"} <= {t.get_text() for t in right.texts}
    head = ax.figure._suptitle.get_text().replace("\n", " ")
    assert "Raw data: 95%" in head and "(noise 1 km): 70%" in head
    assert ax.figure._suptitle.get_gid() == "headline"
    fig = ax.figure
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
    assert min(sizes) >= 8  # readable at print size


def test_privacy_utility_labels_do_not_overlap():
    ys = np.array([0.98, 0.97, 0.99, 0.2, 0.0])
    out = F._spread_labels(ys, 0.05, 0.0, 1.0)
    assert np.all(np.diff(np.sort(out)) >= 0.05 - 1e-12)
    assert out.max() <= 1.0 and out.min() >= 0.0
    np.testing.assert_allclose(out[[3, 4]], [0.2, 0.0])  # labels far from the crowd stay put
    np.testing.assert_allclose(sorted(out[:3]), [0.9, 0.95, 1.0])
