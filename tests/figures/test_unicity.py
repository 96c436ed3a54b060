"""Each plot function returns Axes under Agg and draws exactly what its result holds."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from fewpoints import figures as F
from fewpoints.attacks.population import PopulationCurve
from fewpoints.attacks.resolution import ResolutionSweep
from fewpoints.schema import FewpointsError

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    found += [a for a in ax.figure.texts if a.get_gid() == gid]
    assert found, f"nothing drawn with gid {gid!r}"
    return found[0]


def _headline(ax) -> str:
    return _by_gid(ax, "headline").get_text()


def _source(ax) -> str:
    return " ".join(t.get_text() for t in ax.figure.texts if t.get_gid() == "fewpoints-source")


CURVE = pd.DataFrame(
    {
        "n_points": [1, 2, 3, 4, 5],
        "unicity": [0.01, 0.52, 0.84, 0.93, 0.97],
        "ci_low": [0.0, 0.50, 0.82, 0.91, 0.96],
        "ci_high": [0.02, 0.54, 0.86, 0.95, 0.98],
        "n_targets": [1000] * 5,
    }
)


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
    ax = F.plot_resolution(sweep, n_points=(4, 8))
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
        F.plot_resolution(_sweep(), n_points=3)


def _population():
    table = pd.DataFrame(
        {"n_devices": [100, 1000, 10_000], "n_points": 4, "unicity": [0.99, 0.97, 0.93],
         "ci_low": [0.98, 0.96, 0.92], "ci_high": [1.0, 0.98, 0.94], "n_targets": 500}
    )  # fmt: skip
    out = PopulationCurve(
        table=table,
        fit={"a": 0.5, "b": 1e4, "rmse": 0.0, "slope": -4e-6},
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


def test_house_style_is_scoped_and_saves_reproducibly(tmp_path):
    before = matplotlib.rcParams["svg.fonttype"]
    with F.house_style():
        assert matplotlib.rcParams["svg.fonttype"] == "none"
    assert matplotlib.rcParams["svg.fonttype"] == before
    for run in ("a", "b"):
        ax = F.plot_unicity_curve(CURVE)
        F.save_figure(ax.figure, tmp_path / run)
        plt.close(ax.figure)
    for ext in ("png", "svg"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
    svg = (tmp_path / "a.svg").read_text()
    assert "<text" in svg and "dc:date" not in svg
    pdf = (tmp_path / "a.pdf").read_bytes()
    assert b"/FontFile2" in pdf and b"CreationDate" not in pdf


def test_headline_goes_where_it_hides_no_marker():
    """Markers fill the top right: the headline moves to a corner they leave free."""
    fig, ax = plt.subplots(figsize=(6, 4))
    x, y = np.meshgrid(np.linspace(0.5, 1.0, 6), np.linspace(0.6, 1.0, 5))
    ax.plot(x.ravel(), y.ravel(), "o", ls="none")
    ax.set(xlim=(0, 1), ylim=(0, 1))
    note = F._headline(ax, "A headline\non two lines", (0.9, 0.9), (0.97, 0.95),
                       coords="axes fraction", ha="right", va="top")  # fmt: skip
    candidates = [((0.97, 0.95), "right", "top"), ((0.97, 0.05), "right", "bottom")]
    points = np.column_stack([x.ravel(), y.ravel()])
    F._clear_spot(ax, note, points, np.empty((0, 2)), candidates)
    assert note.get_position() == (0.97, 0.05) and note.get_verticalalignment() == "bottom"
    box = matplotlib.text.Text.get_window_extent(note, fig.canvas.get_renderer())
    shown = ax.transData.transform(points)
    assert not any(box.contains(px, py) for px, py in shown)
    # With nothing in the way, the first candidate is kept.
    F._clear_spot(ax, note, np.empty((0, 2)), np.empty((0, 2)), candidates)
    assert note.get_position() == (0.97, 0.95)
    plt.close(fig)
