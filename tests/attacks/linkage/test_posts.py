"""Linkage: posts and the directory turn pseudonymous devices into names; scored against ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fewpoints.attacks.linkage import (
    link_directory,
    link_posts,
    linkage_score,
    naming_curve,
)
from fewpoints.schema import FewpointsError

START = pd.Timestamp("2026-03-02")  # a Monday


def at(day: int, hm: str) -> pd.Timestamp:
    h, m = map(int, hm.split(":"))
    return START + pd.Timedelta(days=day, hours=h, minutes=m)


def table(rows, columns) -> pd.DataFrame:
    """rows: (label, day, "HH:MM", x, y, ...) -> a frame with a datetime64[s] ``time``."""
    out = pd.DataFrame(
        [(r[0], at(r[1], r[2]), *r[3:]) for r in rows], columns=["_label", "time", *columns]
    )
    out["time"] = out["time"].astype("datetime64[s]")
    return out


def pings(rows) -> pd.DataFrame:
    df = table(rows, ["x_km", "y_km"]).rename(columns={"_label": "device_id"})
    return df.assign(accuracy_m=8.0)


def posts(rows) -> pd.DataFrame:
    return table(rows, ["x_km", "y_km"]).rename(columns={"_label": "name"})


# Ana's phone "a" and Ben's phone "b" were both at the cafe (0, 0) at 08:00;
# only "a" was at the office (1, 1) at noon; "c" was elsewhere all day.
TRACES = pings(
    [
        ("a", 0, "08:00", 0.0, 0.0),
        ("a", 0, "12:00", 1.0, 1.0),
        ("b", 0, "08:10", 0.0, 0.0),
        ("b", 0, "12:00", 5.0, 5.0),
        ("c", 0, "08:00", 3.0, 3.0),
    ]
)
POSTS = posts(
    [
        ("Ana", 0, "08:05", 0.01, 0.0),  # at the cafe
        ("Ana", 0, "12:30", 1.0, 1.0),  # at the office
        ("Bob", 0, "09:00", 9.0, 9.0),  # nowhere any phone was
    ]
)
PEOPLE = pd.DataFrame({"name": ["Ana", "Ben", "Cy", "Bob"], "device_id": ["a", "b", "c", "z"]})


def sets(links) -> dict:
    return {r["name"]: r["device_ids"] for _, r in links.iterrows()}


def test_one_post_leaves_two_phones_two_posts_name_ana():
    one = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_posts=1)
    assert list(one.columns) == ["name", "n_posts", "anonymity_set_size", "device_ids"]
    assert sets(one) == {"Ana": ("a", "b"), "Bob": ()}
    two = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_posts=2)
    assert sets(two) == {"Ana": ("a",), "Bob": ()}
    assert two["n_posts"].tolist() == [2, 1]  # Bob has only one post
    assert two["anonymity_set_size"].tolist() == [1, 0]


def test_tolerances_are_inclusive_and_respected():
    # The office post is 30 minutes after a's record: a 29-minute window misses it.
    assert sets(link_posts(TRACES, POSTS, max_km=0.05, max_minutes=29, n_posts=2))["Ana"] == ()
    assert sets(link_posts(TRACES, POSTS, max_km=0.05, max_minutes=30, n_posts=2))["Ana"] == ("a",)
    # The cafe post is 10 m from the cafe.
    assert sets(link_posts(TRACES, POSTS, max_km=0.009, max_minutes=60, n_posts=1))["Ana"] == ()
    far = link_posts(TRACES, POSTS, max_km=5.0, max_minutes=60, n_posts=1)
    assert sets(far)["Ana"] == ("a", "b", "c")


def test_large_sets_are_counted_but_not_listed():
    out = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_posts=1, max_listed=1)
    ana = out[out["name"] == "Ana"].iloc[0]
    assert ana["anonymity_set_size"] == 2 and ana["device_ids"] is None


def test_call_records_match_by_serving_antenna():
    # Antennas at (0, 0) and (1, 0). A post at (0.4, 0) is served by the first
    # one: the phone seen at the second, 600 m away, does not match it.
    cdr = table(
        [("near", 0, "10:00", 0.0, 0.0, 0), ("far", 0, "10:00", 1.0, 0.0, 1)],
        ["x_km", "y_km", "antenna_id"],
    ).rename(columns={"_label": "device_id"})
    post = posts([("Dee", 0, "10:30", 0.4, 0.0)])
    assert sets(link_posts(cdr, post, n_posts=1)) == {"Dee": ("near",)}
    assert sets(link_posts(cdr, post, n_posts=1, serving=False, max_km=1.0)) == {
        "Dee": ("far", "near")
    }
    # Beyond max_km from every antenna, a post matches nothing.
    assert sets(link_posts(cdr, post, n_posts=1, max_km=0.3)) == {"Dee": ()}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_km": 0}, "max_km must be a positive"),
        ({"max_km": -1}, "max_km must be a positive"),
        ({"max_minutes": float("nan")}, "max_minutes must be a positive"),
        ({"max_minutes": "soon"}, "max_minutes must be a number"),
        ({"n_posts": 0}, "n_posts must be a whole number"),
        ({"n_posts": 2.5}, "n_posts must be a whole number"),
    ],
)
def test_bad_tolerances_name_the_problem(kwargs, match):
    with pytest.raises(FewpointsError, match=match):
        link_posts(TRACES, POSTS, **kwargs)


def test_empty_or_malformed_posts():
    with pytest.raises(FewpointsError, match="empty"):
        link_posts(TRACES, POSTS.iloc[:0])
    with pytest.raises(FewpointsError, match="time"):
        link_posts(TRACES, POSTS.drop(columns="time"))


# ---------------------------------------------------------------------------
# scoring against the ground truth
# ---------------------------------------------------------------------------


def test_linkage_score_counts_right_and_wrong_guesses():
    links = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_posts=2)
    s = linkage_score(links, PEOPLE)
    # One guess (Ana -> a), right; two names tried; four people.
    assert (s["n_guesses"], s["n_correct"], s["n_tried"], s["n_people"]) == (1, 1, 2, 4)
    assert s["precision"] == 1.0 and s["recall"] == 0.5 and s["share_named"] == 0.25
    # The same guess against a ground truth where "a" is Ben's phone: wrong.
    swapped = PEOPLE.assign(device_id=["b", "a", "c", "z"])
    s = linkage_score(links, swapped)
    assert s["n_correct"] == 0 and s["precision"] == 0.0


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
    assert (s["n_guesses"], s["n_correct"]) == (3, 1)  # only b -> Ben is right
    assert s["precision"] == pytest.approx(1 / 3)
    with pytest.raises(FewpointsError, match="links must come from"):
        linkage_score(links.drop(columns="rank"), PEOPLE)


def test_naming_curve_against_the_ground_truth():
    curve = naming_curve(TRACES, POSTS, PEOPLE, n_posts=(1, 2), max_km=0.05, max_minutes=60)
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
    curve = naming_curve(TRACES, POSTS, people, n_posts=(2,), max_km=0.05, max_minutes=60)
    assert curve["share_named"].tolist() == [0.0]


# ---------------------------------------------------------------------------
# the directory
# ---------------------------------------------------------------------------

# Three homes: Ann lives alone at H0; Bo and Cy share H1; nobody is listed at H2.
PLACES = pd.DataFrame(
    {
        "place_id": [0, 1, 2, 3],
        "x_km": [0.0, 2.0, 4.0, 8.0],
        "y_km": [0.0, 0.0, 0.0, 8.0],
        "kind": ["home", "home", "home", "work"],
        "sensitive": [False] * 4,
        "name": ["1 Ash Rd", "2 Ash Rd", "3 Ash Rd", "Big Office"],
        "address": ["1 Ash Rd", "2 Ash Rd", "3 Ash Rd", "1 Main St"],
    }
)
DIRECTORY = pd.DataFrame(
    {
        "name": ["Ann", "Bo", "Cy"],
        "address": ["1 Ash Rd", "2 Ash Rd", "2 Ash Rd"],
        "place_id": [0, 1, 1],
    }
)


def _sleeper(device, x, y):
    """Nights at (x, y) and weekday days at the office, for a week."""
    rows = []
    for d in range(5):
        rows += [(device, d, "23:00", x, y), (device, d, "02:30", x, y)]
        rows += [(device, d, "10:00", 8.0, 8.0), (device, d, "15:00", 8.0, 8.0)]
    return rows


HOMES = pings(_sleeper("d0", 0.0, 0.01) + _sleeper("d1", 2.01, 0.0) + _sleeper("d2", 4.0, 0.0))


def test_directory_names_the_only_adult_and_splits_a_household():
    links = link_directory(HOMES, DIRECTORY, PLACES)
    by = {d: g for d, g in links.groupby("device_id")}
    assert by["d0"][["name", "score", "rank"]].values.tolist() == [["Ann", 1.0, 1]]
    # Bo and Cy: nothing in the directory tells them apart.
    assert by["d1"]["name"].tolist() == ["Bo", "Cy"]
    assert by["d1"]["score"].tolist() == [0.5, 0.5]
    assert by["d1"]["address_adults"].tolist() == [2, 2]
    # Nobody is listed where d2 sleeps: no candidate.
    assert "d2" not in by
    s = linkage_score(
        links, pd.DataFrame({"name": ["Ann", "Bo", "Cy"], "device_id": ["d0", "x", "d1"]})
    )
    assert (s["n_guesses"], s["n_correct"]) == (2, 1)  # Ann right; d1 guessed Bo, is Cy's


def test_posts_break_a_household_tie():
    # Cy posted from the office at 10:05 on Monday, when d1 was there.
    clue = posts([("Cy", 0, "10:05", 8.0, 8.0), ("Bo", 0, "10:05", 6.0, 6.0)])
    links = link_directory(HOMES, DIRECTORY, PLACES, posts=clue)
    d1 = links[links["device_id"] == "d1"]
    assert d1["name"].tolist() == ["Cy", "Bo"]
    assert d1["posts_matched"].tolist() == [1, 0]
    assert d1["score"].tolist() == [0.5, 0.5]  # the score stays the directory's honest 1/k


def test_nearer_address_scores_higher():
    # A device sleeping between H0 (60 m away) and H1 (far) gets Ann only;
    # between two close addresses the nearer one weighs more.
    places = PLACES.assign(x_km=[0.0, 0.05, 4.0, 8.0])
    links = link_directory(pings(_sleeper("d", 0.01, 0.0)), DIRECTORY, places)
    assert links["name"].tolist() == ["Ann", "Bo", "Cy"]
    assert links["score"].iloc[0] > links["score"].iloc[1] == links["score"].iloc[2]
    assert links["score"].sum() == pytest.approx(1.0)


def test_directory_errors():
    with pytest.raises(FewpointsError, match="empty"):
        link_directory(HOMES, DIRECTORY.iloc[:0], PLACES)
    with pytest.raises(FewpointsError, match="not on the places map"):
        link_directory(HOMES, DIRECTORY.assign(place_id=[0, 1, 99]), PLACES)
    with pytest.raises(FewpointsError, match="max_candidates"):
        link_directory(HOMES, DIRECTORY, PLACES, max_candidates=0)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------


@st.composite
def worlds(draw):
    """Random small traces and posts, the posts made from one device's own records."""
    n_dev = draw(st.integers(2, 6))
    n_rec = draw(st.integers(n_dev, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dev = np.concatenate([np.arange(n_dev), rng.integers(0, n_dev, n_rec - n_dev)])
    traces = pd.DataFrame(
        {
            "device_id": [f"d{i}" for i in dev],
            "time": (START + pd.to_timedelta(rng.integers(0, 3 * 24 * 60, n_rec), unit="min")),
            "x_km": np.round(rng.uniform(0, 3, n_rec), 2),
            "y_km": np.round(rng.uniform(0, 3, n_rec), 2),
        }
    )
    traces["time"] = traces["time"].astype("datetime64[s]")
    own = traces[traces["device_id"] == "d0"]
    k = draw(st.integers(1, len(own)))
    made = own.sample(k, random_state=seed % 2**31)
    noise = pd.DataFrame({"name": "Target", **made[["time", "x_km", "y_km"]]})
    others = traces.sample(min(5, n_rec), random_state=seed % 2**31 + 1)
    other = pd.DataFrame({"name": "Other", **others[["time", "x_km", "y_km"]]})
    return traces, pd.concat([noise, other], ignore_index=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    worlds(),
    st.floats(0.001, 2.0),
    st.floats(0.5, 600.0),
)
def test_sets_shrink_with_more_posts_and_hold_the_poster(world, km, minutes):
    traces, post = world
    previous = None
    for n in range(1, 6):
        out = link_posts(traces, post, max_km=km, max_minutes=minutes, n_posts=n)
        current = {r["name"]: set(r["device_ids"]) for _, r in out.iterrows()}
        # Posts made from d0's own records at zero noise always match d0.
        assert "d0" in current["Target"]
        if previous is not None:
            for name, devices in current.items():
                assert devices <= previous[name]
        previous = current
    # Brute force: a device is in the set iff it has a record near every post.
    full = link_posts(traces, post, max_km=km, max_minutes=minutes, n_posts=100)
    for name, group in post.groupby("name"):
        expect = set()
        for device, recs in traces.groupby("device_id"):
            dt = np.abs(
                (recs["time"].to_numpy()[:, None] - group["time"].to_numpy()[None, :])
                / np.timedelta64(1, "s")
            )
            d = np.hypot(
                recs["x_km"].to_numpy()[:, None] - group["x_km"].to_numpy()[None, :],
                recs["y_km"].to_numpy()[:, None] - group["y_km"].to_numpy()[None, :],
            )
            near = (dt <= minutes * 60) & (d <= km * (1 + 1e-9))
            if near.any(axis=0).all():
                expect.add(device)
        got = full[full["name"] == name]["device_ids"].iloc[0]
        assert set(got) == expect


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
    curve = naming_curve(traces, post, people, n_posts=(1, 2), max_km=0.1, max_minutes=30)
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
    assert 0.15 < s["share_named"] < 0.6
    assert s["precision"] > 0.2
