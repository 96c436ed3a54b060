"""Linkage scored against the ground truth: right and wrong guesses, the naming curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fewpoints.attacks.linkage import link_directory, link_posts, linkage_score, naming_curve
from fewpoints.schema import FewpointsError
from tests.builders import POSTS, START, TRACES

PEOPLE = pd.DataFrame({"name": ["Ana", "Ben", "Cy", "Bob"], "device_id": ["a", "b", "c", "z"]})


# ---------------------------------------------------------------------------
# scoring against the ground truth
# ---------------------------------------------------------------------------


def test_linkage_score_counts_right_and_wrong_guesses():
    links = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_points=2)
    s = linkage_score(links, PEOPLE)
    # One guess (Ana -> a), right; two names tried; four people.
    assert (s.n_guesses, s.n_correct, s.n_tried, s.n_people) == (1, 1, 2, 4)
    assert s.precision == 1.0 and s.recall == 0.5 and s.share_named == 0.25
    # The same guess against a ground truth where "a" is Ben's phone: wrong.
    swapped = PEOPLE.assign(device_id=["b", "a", "c", "z"])
    s = linkage_score(links, swapped)
    assert s.n_correct == 0 and s.precision == 0.0


def test_linkage_score_read_as_the_old_dict_warns_and_agrees():
    links = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_points=2)
    s = linkage_score(links, PEOPLE)
    fields = ["precision", "recall", "share_named", "n_guesses", "n_correct", "n_tried", "n_people"]
    for name in fields:
        with pytest.warns(DeprecationWarning, match="LinkageScore.*result.precision"):
            assert s[name] == getattr(s, name)
    with pytest.warns(DeprecationWarning):
        assert list(s.keys()) == fields
    with pytest.warns(DeprecationWarning):
        assert "recall" in s and "nope" not in s
    assert s.to_frame().columns.tolist() == fields and s.to_frame()["n_correct"].tolist() == [1]


def test_linkage_score_of_directory_links_uses_rank_one():
    links = pd.DataFrame(
        {
            "device_id": ["a", "a", "b", "c"],
            "name": ["Ben", "Ana", "Ben", "Zed"],
            "score": [0.5, 0.5, 1.0, 1.0],
            "rank": [1, 2, 1, 1],
        }
    )
    s = linkage_score(links, PEOPLE)
    assert (s.n_guesses, s.n_correct) == (3, 1)  # only b -> Ben is right
    assert s.precision == pytest.approx(1 / 3)
    with pytest.raises(FewpointsError, match="links must come from"):
        linkage_score(links.drop(columns="rank"), PEOPLE)


def test_naming_curve_against_the_ground_truth():
    curve = naming_curve(TRACES, POSTS, PEOPLE, n_points_range=(1, 2), max_km=0.05, max_minutes=60)
    assert list(curve.columns) == [
        "n_posts",
        "n_names",
        "share_named",
        "ci_low",
        "ci_high",
        "median_set_size",
    ]
    # One post: Ana's set is {a, b}, Bob's empty: nobody named, among 2 posters.
    # Two posts: only Ana has two; her set is {a}, her own phone.
    assert curve["n_names"].tolist() == [2, 1]
    assert curve["share_named"].tolist() == [0.0, 1.0]
    assert curve["median_set_size"].tolist() == [1.0, 1.0]
    assert (curve["ci_low"] <= curve["share_named"]).all()
    assert (curve["share_named"] <= curve["ci_high"]).all()


def test_a_namesakes_phone_is_not_a_correct_name():
    people = pd.DataFrame({"name": ["Ana", "Ana"], "device_id": ["x", "b"]})
    curve = naming_curve(TRACES, POSTS, people, n_points_range=(2,), max_km=0.05, max_minutes=60)
    assert curve["share_named"].tolist() == [0.0]


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_naming_curve_shares_are_nested_and_in_bounds(seed):
    rng = np.random.default_rng(seed)
    n = 30
    traces = pd.DataFrame(
        {
            "device_id": [f"d{i % 6}" for i in range(n)],
            "time": (START + pd.to_timedelta(rng.integers(0, 600, n), unit="min")),
            "x_km": rng.integers(0, 3, n) * 1.0,
            "y_km": rng.integers(0, 3, n) * 1.0,
        }
    ).astype({"time": "datetime64[s]"})
    p = traces.sample(12, random_state=seed % 2**31)
    post = pd.DataFrame({"name": [f"p{i % 6}" for i in range(12)], **p[["time", "x_km", "y_km"]]})
    people = pd.DataFrame(
        {"name": [f"p{i}" for i in range(6)], "device_id": [f"d{i}" for i in range(6)]}
    )
    curve = naming_curve(traces, post, people, n_points_range=(1, 2), max_km=0.1, max_minutes=30)
    assert ((curve["share_named"] >= 0) & (curve["share_named"] <= 1)).all()
    assert (curve["ci_low"] <= curve["share_named"]).all()
    assert (curve["ci_high"] >= curve["share_named"]).all()
    assert curve["n_names"].is_monotonic_decreasing


# ---------------------------------------------------------------------------
# a generated world (statistical, with tolerances)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_classroom_pings_posts_and_directory_name_people(medium_world):
    w = medium_world
    traces = w.observations["pings"]
    curve = naming_curve(traces, w.posts, w.people).set_index("n_posts")
    # One post rarely names anyone; two or three name a sizeable share.
    assert curve.loc[1, "share_named"] < 0.15
    assert curve.loc[3, "share_named"] > 0.15
    assert curve.loc[3, "median_set_size"] <= 2
    s = linkage_score(link_directory(traces, w.directory, w.places), w.people)
    assert 0.15 < s.share_named < 0.6
    assert s.precision > 0.2
