"""Worst-case risk: the rarest subset of a trace's points, against brute force over all subsets."""

from __future__ import annotations

import pytest

from fewpoints.attacks import unicity, worst_case_risk
from tests.builders import point_sets, random_traces, traces_from

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
