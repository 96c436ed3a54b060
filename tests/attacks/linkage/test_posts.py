"""Linkage by posts: public posts turn pseudonymous devices into names, within tolerances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fewpoints.attacks.linkage import link_posts
from fewpoints.schema import FewpointsError
from tests.builders import POSTS, START, TRACES, posts, table


def sets(links) -> dict:
    return {r["name"]: r["device_ids"] for _, r in links.iterrows()}


def test_one_post_leaves_two_phones_two_posts_name_ana():
    one = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_points=1)
    assert list(one.columns) == ["name", "n_posts", "anonymity_set_size", "device_ids"]
    assert sets(one) == {"Ana": ("a", "b"), "Bob": ()}
    two = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_points=2)
    assert sets(two) == {"Ana": ("a",), "Bob": ()}
    assert two["n_posts"].tolist() == [2, 1]  # Bob has only one post
    assert two["anonymity_set_size"].tolist() == [1, 0]


def test_tolerances_are_inclusive_and_respected():
    # The office post is 30 minutes after a's record: a 29-minute window misses it.
    assert sets(link_posts(TRACES, POSTS, max_km=0.05, max_minutes=29, n_points=2))["Ana"] == ()
    assert sets(link_posts(TRACES, POSTS, max_km=0.05, max_minutes=30, n_points=2))["Ana"] == ("a",)
    # The cafe post is 10 m from the cafe.
    assert sets(link_posts(TRACES, POSTS, max_km=0.009, max_minutes=60, n_points=1))["Ana"] == ()
    far = link_posts(TRACES, POSTS, max_km=5.0, max_minutes=60, n_points=1)
    assert sets(far)["Ana"] == ("a", "b", "c")


def test_large_sets_are_counted_but_not_listed():
    out = link_posts(TRACES, POSTS, max_km=0.05, max_minutes=60, n_points=1, max_listed=1)
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
    assert sets(link_posts(cdr, post, n_points=1)) == {"Dee": ("near",)}
    assert sets(link_posts(cdr, post, n_points=1, serving=False, max_km=1.0)) == {
        "Dee": ("far", "near")
    }
    # Beyond max_km from every antenna, a post matches nothing.
    assert sets(link_posts(cdr, post, n_points=1, max_km=0.3)) == {"Dee": ()}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_km": 0}, "max_km must be a positive"),
        ({"max_km": -1}, "max_km must be a positive"),
        ({"max_minutes": float("nan")}, "max_minutes must be a positive"),
        ({"max_minutes": "soon"}, "max_minutes must be a number"),
        ({"n_points": 0}, "n_points must be a whole number"),
        ({"n_points": 2.5}, "n_points must be a whole number"),
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
        out = link_posts(traces, post, max_km=km, max_minutes=minutes, n_points=n)
        current = {r["name"]: set(r["device_ids"]) for _, r in out.iterrows()}
        # Posts made from d0's own records at zero noise always match d0.
        assert "d0" in current["Target"]
        if previous is not None:
            for name, devices in current.items():
                assert devices <= previous[name]
        previous = current
    # Brute force: a device is in the set iff it has a record near every post.
    full = link_posts(traces, post, max_km=km, max_minutes=minutes, n_points=100)
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
