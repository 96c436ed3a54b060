"""Unicity: exact anonymity sets on tables whose answer is obvious by eye, and against brute force."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fewpoints.anonymize import coarsen_time
from fewpoints.attacks import PointIndex, unicity, unicity_curve
from fewpoints.attacks.draws import floyd_sample
from fewpoints.schema import FewpointsError, InputError
from tests.builders import brute_sizes, point_sets, random_traces, traces_from

# ---------------------------------------------------------------------------
# tables whose answer is obvious by eye
# ---------------------------------------------------------------------------


def test_two_of_three_devices_are_not_unique():
    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08", "B@09"], "cy": ["A@08", "C@09"]})
    res = unicity(traces, 2, rng=0)
    sizes = dict(zip(res.targets["device_id"], res.targets["anonymity_set_size"], strict=True))
    assert sizes == {"ana": 2, "ben": 2, "cy": 1}
    assert res.value == pytest.approx(1 / 3)
    assert res.n_targets == 3 and res.n_points == 2


def test_one_point_anonymity_set_is_everyone_there_then():
    traces = traces_from(
        {
            "ana": ["A@08"],
            "ben": ["A@08", "A@09"],
            "cy": ["A@08", "B@08"],
            "dan": ["A@09"],  # same place, other hour
            "eve": ["B@1/08"],  # same hour, other day
        }
    )
    res = unicity(traces, 1, rng=1)
    # With one point per target, each target's point says who else was there then.
    points = res.points.assign(size=res.targets["anonymity_set_size"].to_numpy())
    expected = {(0.5, "2026-03-02 08:00"): 3, (0.5, "2026-03-02 09:00"): 2}
    expected |= {(1.5, "2026-03-02 08:00"): 1, (1.5, "2026-03-03 08:00"): 1}
    for row in points.itertuples():
        assert row.size == expected[(row.x_km, str(row.time)[:16])]


def test_duplicate_records_and_call_bursts_count_once():
    traces = traces_from({"ana": ["A@08", "A@08", "A@08", "B@09"], "ben": ["A@08", "C@10"]})
    index = PointIndex.from_traces(traces)
    assert index.n_points == 3
    assert list(index.points_per_device()) == [2, 2]
    res = unicity(index, 2, rng=0)
    assert set(res.targets["anonymity_set_size"]) == {1}


def test_more_known_points_than_a_trace_holds_is_a_clear_error():
    traces = traces_from({"ana": ["A@08", "B@09"], "ben": ["A@08"]})
    with pytest.raises(
        FewpointsError, match=r"no device has 3 distinct point\(s\).*most any device has is 2"
    ):
        unicity(traces, 3)
    # Devices with fewer points than asked are never targets.
    res = unicity(traces, 2, rng=0)
    assert list(res.targets["device_id"]) == ["ana"]


def test_top_places_ignore_time():
    traces = traces_from(
        {
            "ana": ["A@08", "A@1/08", "A@2/08", "B@12", "B@1/12", "C@20"],
            "ben": ["A@03", "B@04", "D@05", "D@1/05", "D@2/05"],
            "cy": ["A@08", "C@09", "C@10"],
        }
    )
    res = unicity(traces, 2, knowledge="top", rng=0)
    sizes = dict(zip(res.targets["device_id"], res.targets["anonymity_set_size"], strict=True))
    # ana's top two: A, B (ben visited both at other times); ben's: D, then A or B tied
    # (lower location code first: A), held by ana and cy too; cy's: C, A, held by ana.
    assert sizes == {"ana": 2, "ben": 1, "cy": 2}
    assert res.points["time"].isna().all()
    assert set(res.points["window"]) == {"any time"}


def test_home_work_uses_night_and_weekday_daytime_places():
    traces = traces_from(
        {
            # ana sleeps at A, works at B; ben sleeps at A, works at C; cy sleeps at A, works at B.
            "ana": ["A@23", "A@1/02", "B@1/10", "B@2/11", "C@1/19"],
            "ben": ["A@23", "C@10", "C@1/10"],
            "cy": ["A@2/01", "B@3/14", "D@5/10", "D@5/11"],  # day 5 is Saturday: not a workday
        }
    )
    one = unicity(traces, 1, knowledge="home_work", rng=0)
    assert set(one.targets["anonymity_set_size"]) == {3}
    two = unicity(traces, 2, knowledge="home_work", rng=0)
    sizes = dict(zip(two.targets["device_id"], two.targets["anonymity_set_size"], strict=True))
    assert sizes == {"ana": 2, "ben": 1, "cy": 2}
    assert list(two.points["window"][:2]) == ["night 22:00-06:00", "weekday 09:00-17:00"]
    with pytest.raises(FewpointsError, match="at most 2"):
        unicity(traces, 3, knowledge="home_work")


# ---------------------------------------------------------------------------
# against brute force
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_random_knowledge_matches_brute_force(seed, p):
    traces = random_traces(seed)
    res = unicity(traces, p, n_targets=25, rng=seed)
    assert res.targets["anonymity_set_size"].tolist() == brute_sizes(traces, res.points)
    # The known points are distinct points of the target's own trace.
    sets = point_sets(traces)
    for dev, grp in res.points.groupby("device_id"):
        known = {
            (x, y, pd.Timestamp(t))
            for x, y, t in grp[["x_km", "y_km", "time"]].itertuples(index=False)
        }
        assert len(known) == p and known <= sets[dev]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_top_knowledge_matches_brute_force(seed, p):
    traces = random_traces(seed, n_hours=30)
    res = unicity(traces, p, n_targets=40, knowledge="top", rng=seed)
    places = traces.groupby("device_id")[["x_km", "y_km"]].apply(
        lambda g: set(map(tuple, g.to_numpy()))
    )
    counts = (
        traces.drop_duplicates()
        .groupby(["device_id", "x_km", "y_km"])
        .size()
        .rename("n")
        .reset_index()
    )
    for (dev, grp), size in zip(
        res.points.groupby("device_id", sort=False), res.targets["anonymity_set_size"], strict=True
    ):
        known = set(map(tuple, grp[["x_km", "y_km"]].to_numpy()))
        assert size == sum(known <= s for s in places)
        # The known places are the device's most frequent ones.
        mine = counts[counts["device_id"] == dev]["n"].sort_values(ascending=False).to_numpy()
        got = counts[(counts["device_id"] == dev)].set_index(["x_km", "y_km"])["n"]
        assert sorted((got[k] for k in known), reverse=True) == list(mine[:p])


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("p", [1, 2])
def test_home_work_knowledge_matches_brute_force(seed, p):
    traces = random_traces(seed, n_devices=30, n_hours=24 * 7, max_records=40)
    res = unicity(traces, p, n_targets=30, knowledge="home_work", rng=seed)
    t = traces["time"]
    night = (t.dt.hour >= 22) | (t.dt.hour < 6)
    day = (t.dt.day_of_week < 5) & (t.dt.hour >= 9) & (t.dt.hour < 17)
    seen = {
        "night 22:00-06:00": traces[night].groupby("device_id")[["x_km", "y_km"]],
        "weekday 09:00-17:00": traces[day].groupby("device_id")[["x_km", "y_km"]],
    }
    seen = {w: g.apply(lambda g: set(map(tuple, g.to_numpy()))).to_dict() for w, g in seen.items()}
    devices = traces["device_id"].unique()
    for (dev, grp), size in zip(
        res.points.groupby("device_id", sort=False), res.targets["anonymity_set_size"], strict=True
    ):
        assert len(grp) == p
        expected = sum(
            all(
                (x, y) in seen[w].get(other, set())
                for x, y, w in grp[["x_km", "y_km", "window"]].itertuples(index=False)
            )
            for other in devices
        )
        assert size == expected
        # The night place is the device's most frequent night place (in distinct hours).
        nights = traces[night & (traces["device_id"] == dev)].drop_duplicates()
        counts = nights.groupby(["x_km", "y_km"]).size()
        x, y = grp[["x_km", "y_km"]].iloc[0]
        assert counts[(x, y)] == counts.max()


def test_index_is_reusable_and_gives_the_same_answer_as_the_table():
    traces = random_traces(3)
    index = PointIndex.from_traces(traces)
    a = unicity(traces, 3, rng=9)
    b = unicity(index, 3, rng=9)
    pd.testing.assert_frame_equal(a.targets, b.targets)
    pd.testing.assert_frame_equal(a.points, b.points)
    assert index.count_matching(a.points).tolist() == a.targets["anonymity_set_size"].tolist()


def test_chunking_does_not_change_the_answer():
    traces = random_traces(5, n_devices=200, n_places=3, n_hours=4)
    index = PointIndex.from_traces(traces)
    res = unicity(index, 2, n_targets=150, rng=1)
    codes = index.point_codes(res.points["x_km"], res.points["y_km"], res.points["time"])
    items = codes.reshape(-1, 2)
    whole = index.points.anonymity_sets(items)
    small = index.points.anonymity_sets(items, max_work=7)
    assert whole.tolist() == small.tolist() == res.targets["anonymity_set_size"].tolist()


def test_categorical_ids_with_unused_categories():
    traces = random_traces(2)
    cat = traces.assign(
        device_id=pd.Categorical(
            traces["device_id"], categories=[*sorted(set(traces["device_id"])), "ghost"]
        )
    )
    res = unicity(cat, 2, n_targets=1000, rng=0)
    assert res.n_devices == traces["device_id"].nunique()
    assert "ghost" not in set(res.targets["device_id"])
    assert res.targets["anonymity_set_size"].tolist() == brute_sizes(traces, res.points)


def test_targets_are_sampled_without_replacement_and_reproducibly():
    traces = random_traces(1, n_devices=60)
    a = unicity(traces, 1, n_targets=30, rng=4)
    b = unicity(traces, 1, n_targets=30, rng=4)
    c = unicity(traces, 1, n_targets=30, rng=5)
    assert a.targets["device_id"].is_unique and a.n_targets == 30
    pd.testing.assert_frame_equal(a.points, b.points)
    assert not a.points.equals(c.points)


def test_points_are_drawn_uniformly():
    rng = np.random.default_rng(0)
    m = np.full(20_000, 7)
    draws = floyd_sample(m, 3, rng)
    assert (np.diff(draws, axis=1) > 0).all() and draws.min() == 0 and draws.max() == 6
    freq = np.bincount(draws.ravel(), minlength=7) / len(m)
    assert np.allclose(freq, 3 / 7, atol=0.015)
    # All 35 three-subsets appear about equally often.
    combos = pd.Series(map(tuple, draws)).value_counts()
    assert len(combos) == math.comb(7, 3)
    assert combos.max() / combos.min() < 1.3


def test_bad_arguments_are_one_line_errors():
    traces = random_traces(0)
    for kwargs, msg in [
        ({"n_points": 0}, "at least 1"),
        ({"n_points": 2.5}, "whole number"),
        ({"n_targets": 0}, "at least 1"),
        ({"knowledge": "psychic"}, "unknown knowledge"),
    ]:
        with pytest.raises(FewpointsError, match=msg):
            unicity(traces, **{"n_points": 2, **kwargs})
    with pytest.raises(InputError, match="missing column"):
        unicity(traces.drop(columns=["time"]))
    with pytest.raises(InputError, match="infinite"):
        unicity(traces.assign(x_km=np.inf))
    with pytest.raises(FewpointsError, match="DataFrame or a PointIndex"):
        unicity([1, 2, 3])


def test_result_reads_well():
    res = unicity(random_traces(0), 2, rng=0)
    assert "UnicityResult(p=2" in repr(res) and "95% CI" in repr(res)
    assert "unique among" in res.summary()
    assert list(res.targets.columns) == ["device_id", "anonymity_set_size"]
    assert list(res.points.columns) == ["device_id", "x_km", "y_km", "time"]
    assert res.ci_low <= res.value <= res.ci_high


def test_unicity_curve_is_tidy():
    curve = unicity_curve(random_traces(4), [1, 2, 3], n_targets=20, rng=0)
    assert list(curve["n_points"]) == [1, 2, 3]
    assert {"unicity", "ci_low", "ci_high", "n_targets", "knowledge"} <= set(curve.columns)
    assert ((curve["ci_low"] <= curve["unicity"]) & (curve["unicity"] <= curve["ci_high"])).all()


def test_hourly_cdr_world_is_mostly_unique_from_a_few_points(tiny_world):
    traces = coarsen_time(tiny_world.observations["cdr"], time_bin="1h")
    res = unicity(traces, 4, rng=0)
    assert res.targets["anonymity_set_size"].min() == 1
    assert res.targets["anonymity_set_size"].tolist() == brute_sizes(traces, res.points)


def test_curve_reads_points_once_but_answers_as_unicity_per_p(tiny_world):
    """unicity_curve draws as unicity called for each p in turn with one generator."""
    from fewpoints.attacks import PointIndex
    from fewpoints.attacks.result import curve_row

    index = PointIndex.from_traces(tiny_world.traces)
    rng = np.random.default_rng(8)
    loop = pd.DataFrame([curve_row(unicity(index, p, n_targets=40, rng=rng)) for p in (1, 3, 6)])
    curve = unicity_curve(PointIndex.from_traces(tiny_world.traces), (1, 3, 6), n_targets=40, rng=8)
    pd.testing.assert_frame_equal(curve, loop)
