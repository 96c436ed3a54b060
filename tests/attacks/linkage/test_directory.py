"""Linkage by the directory: home addresses name the devices that sleep there."""

from __future__ import annotations

import pandas as pd
import pytest

from fewpoints.attacks.linkage import link_directory, linkage_score
from fewpoints.schema import FewpointsError
from tests.builders import pings, posts

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
    assert (s.n_guesses, s.n_correct) == (2, 1)  # Ann right; d1 guessed Bo, is Cy's


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
