"""The plots of one person: anonymity sets, the share named, a device's week."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from fewpoints import figures as F
from tests.builders import _by_gid, _headline


def _anonymity():
    rows = []
    for m, shares in (("top-1", [0.30, 0.10, 0.02]), ("home/work", [0.80, 0.45, 0.05])):
        for g, s in zip(["antenna", "2 km", "district"], shares, strict=True):
            rows.append(dict(measure=m, granularity=g, share_unique=s, ci_low=s - 0.02,
                             ci_high=s + 0.02, median_set_size=1 / max(s, 0.01), n_devices=100))  # fmt: skip
    return pd.DataFrame(rows)


def test_anonymity_sets_one_series_per_measure_in_granularity_order():
    table = _anonymity()
    ax = F.plot_anonymity_sets(table)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["antenna", "2 km", "district"]
    assert ax.get_legend_handles_labels()[1] == ["most visited place", "home and work"]
    assert _headline(ax) == (
        "Home and work: 80% singled out\nat antenna precision (median 1 phone per pair)"
    )
    ys = sorted(
        np.concatenate([ln.get_ydata() for ln in ax.get_lines() if len(ln.get_ydata()) == 3])
    )
    np.testing.assert_allclose(ys, sorted(table["share_unique"]))


def test_anonymity_sets_headline_and_legend_hide_no_data():
    """Curves high and falling across the chart (a large file): the headline and the
    legend cover no marker and no curve, and the headline stays inside the figure."""
    from matplotlib.transforms import Bbox

    rows = []
    shares = {"top-1": [0.0, 0.0, 0.0, 0.0], "top-2": [0.59, 0.58, 0.30, 0.01],
              "top-3": [0.92, 0.92, 0.83, 0.20], "home/work": [0.64, 0.63, 0.30, 0.01]}  # fmt: skip
    for m, values in shares.items():
        for g, s in zip(["as recorded", "0.1 km", "0.5 km", "2 km"], values, strict=True):
            rows.append(dict(measure=m, granularity=g, share_unique=s, ci_low=max(s - 0.01, 0),
                             ci_high=min(s + 0.01, 1), median_set_size=1.0, n_devices=999_087))  # fmt: skip
    ax = F.plot_anonymity_sets(pd.DataFrame(rows))
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    note = next(t for t in ax.texts if t.get_gid() == "headline")
    from matplotlib.text import Text

    text_box = Text.get_window_extent(note, renderer)
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert Bbox.intersection(text_box, legend_box) is None
    assert text_box.x0 >= fig.bbox.x0 and text_box.x1 <= fig.bbox.x1
    # every drawn curve, sampled densely along its segments, stays out of both boxes
    for line in ax.get_lines():
        xy = line.get_xydata()
        if len(xy) < 2:
            continue
        t = np.linspace(0, 1, 50)[:, None]
        dense = np.concatenate([a + t * (b - a) for a, b in zip(xy[:-1], xy[1:], strict=True)])
        px = ax.transData.transform(dense)
        for box in (text_box, legend_box):
            inside = (px[:, 0] >= box.x0) & (px[:, 0] <= box.x1)
            inside &= (px[:, 1] >= box.y0) & (px[:, 1] <= box.y1)
            assert not inside.any(), line.get_label()


NAMING = pd.DataFrame(
    {"n_posts": [1, 2, 3, 5], "n_names": 200, "share_named": [0.05, 0.3, 0.55, 0.8],
     "ci_low": [0.03, 0.25, 0.5, 0.75], "ci_high": [0.08, 0.35, 0.6, 0.85], "median_set_size": [40, 3, 1, 1]}
)  # fmt: skip


def test_naming_draws_the_share_named():
    ax = F.plot_naming(NAMING)
    line = _by_gid(ax, "share_named")
    np.testing.assert_array_equal(line.get_ydata(), NAMING["share_named"])
    assert "80% named" in _headline(ax) and "5 posts" in _headline(ax)


def _story(with_sensitive=True):
    times = pd.date_range("2026-03-02 07:00", periods=30, freq="9h")
    x = np.r_[np.zeros(15) + 1.0, np.zeros(15) + 4.0]
    trace = pd.DataFrame({"device_id": "d7", "time": times, "x_km": x, "y_km": x / 2})
    sensitive = pd.DataFrame(
        {"device_id": "d7", "place_id": [9, 9], "name": "Northside Clinic", "kind": "clinic",
         "x_km": 2.5, "y_km": 3.0, "start": times[:2], "end": times[:2], "minutes": [40, 50]}
    )  # fmt: skip
    return SimpleNamespace(
        device_id="d7",
        trace=trace,
        home={"x_km": 1.0, "y_km": 0.5, "support": 0.9},
        work={"x_km": 4.0, "y_km": 2.0, "support": 0.7},
        name="Ada Example",
        points_to_unique=3,
        sensitive=sensitive if with_sensitive else sensitive.iloc[:0],
    )


def test_device_week_draws_one_week_home_work_and_the_sensitive_place():
    story = _story()
    places = pd.DataFrame({"x_km": [0.0, 2.0, 50.0], "y_km": [0.0, 1.0, 50.0]})
    ax = F.plot_device_week(story, places=places)
    labels = ax.get_legend_handles_labels()[1]
    in_week = int((story.trace["time"] < pd.Timestamp("2026-03-09")).sum())
    assert f"{in_week} records, Mon 02 Mar to Sun 08 Mar" in labels
    assert "sensitive place: clinic" in labels
    assert any("home" in s for s in labels) and any("work" in s for s in labels)
    notes = " ".join(t.get_text() for t in ax.texts)
    assert "Northside Clinic" in notes and "2 visits in 12 days, 90 min" in notes
    assert "d7" in _headline(ax) and "Ada Example" in _headline(ax)
    x0, x1 = ax.get_xlim()
    assert x0 < 1.0 and x1 > 4.0 and x1 < 50  # framed on the trace, not the whole map


def test_device_week_without_sensitive_visits_or_work():
    story = _story(with_sensitive=False)
    story.work = None
    story.name = None
    ax = F.plot_device_week(story)
    labels = ax.get_legend_handles_labels()[1]
    assert not any("sensitive" in s or "work" in s for s in labels)
    assert "linked" not in _headline(ax)
