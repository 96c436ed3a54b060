"""Unicity: exact anonymity sets on tables whose answer is obvious by eye, and against brute force."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fewpoints.anonymize import coarsen_time
from fewpoints.attacks import (
    PointIndex,
    population_curve,
    resolution_sweep,
    unicity,
    unicity_curve,
    wilson_interval,
    worst_case_risk,
)
from fewpoints.attacks.draws import floyd_sample
from fewpoints.attacks.population import fit_population_model
from fewpoints.attacks.resolution import fit_resolution_law
from fewpoints.schema import FewpointsError, InputError

START = pd.Timestamp("2026-03-02")  # a Monday

# ---------------------------------------------------------------------------
# helpers shared by the unicity test modules
# ---------------------------------------------------------------------------


def traces_from(spec: dict[str, list[str]]) -> pd.DataFrame:
    """A traces table from ``{"ana": ["A@08", "B@2/09"], ...}``: place letter @ [day/]hour.

    Place ``A`` is at (0.5, 0.5) km, ``B`` at (1.5, 0.5), and so on; day 0 is
    Monday 2026-03-02.
    """
    rows = []
    for device, points in spec.items():
        for point in points:
            place, when = point.split("@")
            day, hour = when.split("/") if "/" in when else ("0", when)
            k = ord(place) - ord("A")
            rows.append(
                {
                    "device_id": device,
                    "time": START + pd.Timedelta(days=int(day), hours=int(hour)),
                    "x_km": 0.5 + k % 5,
                    "y_km": 0.5 + k // 5,
                }
            )
    df = pd.DataFrame(rows)
    df["time"] = df["time"].astype("datetime64[s]")
    return df


def random_traces(
    seed: int, *, n_devices=40, n_places=6, n_hours=12, max_records=20
) -> pd.DataFrame:
    """Devices hopping among a few places over a few hourly times (many shared points)."""
    rng = np.random.default_rng(seed)
    per = rng.integers(1, max_records + 1, n_devices)
    dev = np.repeat(np.arange(n_devices), per)
    place = rng.integers(0, n_places, len(dev))
    hour = rng.integers(0, n_hours, len(dev))
    minute = rng.integers(0, 60, len(dev)) * 0  # on the hour: shared points
    df = pd.DataFrame(
        {
            "device_id": np.char.add("dev", dev.astype(str)),
            "time": (
                START.to_datetime64()
                + hour.astype("timedelta64[h]")
                + minute.astype("timedelta64[m]")
            ).astype("datetime64[s]"),
            "x_km": (place % 3).astype(float) + 0.25,
            "y_km": (place // 3).astype(float) - 0.75,
        }
    )
    return df


def point_sets(traces: pd.DataFrame) -> dict[str, set]:
    """Brute force: each device's set of (x, y, time)."""
    out: dict[str, set] = {}
    for d, x, y, t in zip(
        traces["device_id"].astype(str), traces["x_km"], traces["y_km"], traces["time"], strict=True
    ):
        out.setdefault(d, set()).add((float(x), float(y), pd.Timestamp(t)))
    return out


def brute_sizes(traces: pd.DataFrame, points: pd.DataFrame) -> list[int]:
    """Brute force: for each target in ``points``, devices whose trace holds all its points."""
    sets = point_sets(traces)
    out = []
    for _, grp in points.groupby("device_id", sort=False):
        known = {
            (float(x), float(y), pd.Timestamp(t))
            for x, y, t in grp[["x_km", "y_km", "time"]].itertuples(index=False)
        }
        out.append(sum(known <= s for s in sets.values()))
    return out


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


# ---------------------------------------------------------------------------
# Wilson interval
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (8, 10), (1, 3), (950, 1000), (5000, 10000)])
def test_wilson_interval_solves_its_defining_equation(k, n):
    # The Wilson bounds are the proportions q with |k/n - q| = z sqrt(q (1 - q) / n).
    z = 1.959963984540054
    lo, hi = wilson_interval(k, n)
    for q in (lo, hi):
        assert abs(k / n - q) == pytest.approx(z * math.sqrt(q * (1 - q) / n), abs=1e-9)
    assert 0 <= lo <= k / n <= hi <= 1
    # The roots of the quadratic, found independently with numpy.
    phat = k / n
    roots = np.sort(np.roots([1 + z * z / n, -(2 * phat + z * z / n), phat * phat]).real)
    assert (lo, hi) == pytest.approx(tuple(roots), abs=1e-7)


def test_wilson_interval_is_narrower_with_more_targets_and_wider_with_more_confidence():
    assert np.diff(wilson_interval(50, 100)) > np.diff(wilson_interval(500, 1000))
    assert np.diff(wilson_interval(50, 100, confidence=0.99)) > np.diff(wilson_interval(50, 100))
    with pytest.raises(FewpointsError):
        wilson_interval(3, 0)


# ---------------------------------------------------------------------------
# worst case, curves, sweeps
# ---------------------------------------------------------------------------


def test_worst_case_risk_finds_the_rarest_subset():
    traces = traces_from(
        {
            "ana": ["A@08", "B@09", "C@10"],
            "ben": ["A@08", "B@09"],
            "cy": ["A@08", "B@09", "C@10"],
            "dan": ["A@08", "D@11"],
        }
    )
    risk = worst_case_risk(traces, 1, n_targets=100, rng=0)
    got = dict(zip(risk.targets["device_id"], risk.targets["min_anonymity_set_size"], strict=True))
    assert got == {"ana": 2, "ben": 3, "cy": 2, "dan": 1}
    assert risk.targets["exhaustive"].all()
    assert risk.value == pytest.approx(1 / 4)
    assert risk.mean_risk == pytest.approx((1 / 2 + 1 / 3 + 1 / 2 + 1) / 4)


@pytest.mark.parametrize("seed", range(3))
def test_worst_case_risk_matches_brute_force_over_all_subsets(seed):
    from itertools import combinations

    traces = random_traces(seed, max_records=6)
    risk = worst_case_risk(traces, 2, n_targets=100, max_subsets=10_000, rng=seed)
    sets = point_sets(traces)
    assert risk.targets["exhaustive"].all()
    for dev, size, n_sub in risk.targets[
        ["device_id", "min_anonymity_set_size", "n_subsets"]
    ].itertuples(index=False):
        subsets = list(combinations(sorted(sets[dev]), 2))
        assert n_sub == len(subsets)
        assert size == min(sum(set(s) <= other for other in sets.values()) for s in subsets)


def test_worst_case_sampling_is_a_lower_bound_on_risk():
    traces = random_traces(7, max_records=20)
    full = worst_case_risk(traces, 2, n_targets=100, max_subsets=10_000, rng=1)
    sampled = worst_case_risk(traces, 2, n_targets=100, max_subsets=5, rng=1)
    assert not sampled.targets["exhaustive"].all()
    both = full.targets.merge(sampled.targets, on="device_id", suffixes=("_full", "_sampled"))
    assert (both["min_anonymity_set_size_sampled"] >= both["min_anonymity_set_size_full"]).all()
    # An informed attacker does at least as well as random points on the same data.
    assert full.value >= unicity(traces, 2, n_targets=100, rng=1).value


def test_unicity_curve_is_tidy():
    curve = unicity_curve(random_traces(4), [1, 2, 3], n_targets=20, rng=0)
    assert list(curve["n_points"]) == [1, 2, 3]
    assert {"unicity", "ci_low", "ci_high", "n_targets", "knowledge"} <= set(curve.columns)
    assert ((curve["ci_low"] <= curve["unicity"]) & (curve["unicity"] <= curve["ci_high"])).all()


def test_resolution_law_fit_recovers_known_constants():
    vh = np.array([1, 2, 4, 8, 16, 24, 48.0])
    eps = 1.6 - vh**0.13
    alpha, beta, rmse = fit_resolution_law(vh, eps)
    assert alpha == pytest.approx(1.6, abs=1e-3)
    assert beta == pytest.approx(0.13, abs=1e-3)
    assert rmse < 1e-3


def test_resolution_sweep_is_tidy_and_coarser_is_never_more_unique_on_average():
    traces = random_traces(1, n_devices=150, n_places=20, n_hours=48, max_records=30)
    traces["time"] = traces["time"] + pd.to_timedelta(np.arange(len(traces)) % 3600, unit="s")
    sweep = resolution_sweep(
        traces, cell_km=[None, 2.0], time_bin=["1h", "4h"], n_points=[2, 3], n_targets=150, rng=0
    )
    t = sweep.table
    assert len(t) == 8 and set(sweep.fit["n_points"]) == {2, 3}
    assert (t.loc[t["cell_km"].isna(), "v"] == 1).all()
    assert (t.loc[t["cell_km"] == 2.0, "v"] > 1).all()
    assert set(t["h"]) == {1.0, 4.0}
    fine = t[(t["cell_km"].isna()) & (t["time_bin"] == "1h")]["unicity"].to_numpy()
    coarse = t[(t["cell_km"] == 2.0) & (t["time_bin"] == "4h")]["unicity"].to_numpy()
    assert (coarse <= fine + 0.05).all()
    assert "alpha" in repr(sweep)


def test_population_model_fit_recovers_known_constants():
    from fewpoints.attacks.population import _beta_unicity

    n = np.geomspace(100, 1e6, 8)
    u = _beta_unicity(n, 0.3, 5e4)
    a, b, rmse = fit_population_model(n, u)
    assert rmse < 2e-3
    assert _beta_unicity(np.array([6e7]), a, b)[0] == pytest.approx(
        _beta_unicity(np.array([6e7]), 0.3, 5e4)[0], abs=0.03
    )


def test_population_curve_counts_only_the_kept_devices():
    traces = random_traces(8, n_devices=300, n_places=4, n_hours=6, max_records=8)
    curve = population_curve(traces, [30, 100, 300], n_points=2, n_targets=300, rng=0)
    t = curve.table
    assert list(t["n_devices"]) == [30, 100, 300]
    assert t["unicity"].iloc[0] >= t["unicity"].iloc[-1]
    ex = curve.extrapolation
    assert (ex["lower_bound"] <= ex["model"] + 1e-9).all() or curve.fit["slope"] == 0
    assert (ex["lower_bound"] >= 0).all()
    with pytest.raises(FewpointsError, match="sizes"):
        population_curve(traces, [10, 10_000])


def test_population_subset_equals_unicity_on_the_subset_table():
    from fewpoints.attacks.unicity import unicity_on_index

    traces = random_traces(9, n_devices=120)
    index = PointIndex.from_traces(traces)
    members = np.zeros(index.n_devices, dtype=bool)
    members[::3] = True
    res = unicity_on_index(index, 2, 1000, "random", np.random.default_rng(0), members=members)
    kept = traces[traces["device_id"].isin(index.device_ids[members])]
    assert res.n_devices == members.sum()
    assert set(res.targets["device_id"]) <= set(kept["device_id"])
    assert res.targets["anonymity_set_size"].tolist() == brute_sizes(kept, res.points)


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
