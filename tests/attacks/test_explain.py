"""explain(): one device's story, from released and public tables only."""

from __future__ import annotations

import pandas as pd
import pytest

from fewpoints.attacks.explain import DeviceStory, explain
from fewpoints.attacks.linkage import link_directory, link_posts, naming_curve
from fewpoints.schema import FewpointsError

START = pd.Timestamp("2026-03-02")  # a Monday


# Home H (0, 0) where Ann is listed; office O (2, 0); clinic K (1, 1), sensitive.
PLACES = pd.DataFrame(
    {
        "place_id": [0, 1, 2],
        "x_km": [0.0, 2.0, 1.0],
        "y_km": [0.0, 0.0, 1.0],
        "kind": ["home", "work", "health"],
        "sensitive": [False, False, True],
        "name": ["1 Ash Rd", "Big Office", "Kind Clinic"],
        "address": ["1 Ash Rd", "2 Main St", "3 Elm St"],
    }
)


DIRECTORY = pd.DataFrame({"name": ["Ann"], "address": ["1 Ash Rd"], "place_id": [0]})


def _rows(device, x_home, *, clinic: bool):
    rows = []
    for d in range(5):
        t = START + pd.Timedelta(days=d)
        rows += [
            (device, t + pd.Timedelta(hours=1), x_home, 0.0),
            (device, t + pd.Timedelta(hours=23), x_home, 0.0),
            (device, t + pd.Timedelta(hours=10), 2.0, 0.0),
            (device, t + pd.Timedelta(hours=14), 2.0, 0.0),
        ]
    if clinic:
        rows.append((device, START + pd.Timedelta(days=2, hours=17), 1.0, 1.0))
    return rows


def _traces():
    rows = _rows("ann-phone", 0.0, clinic=True) + _rows("other", 5.0, clinic=False)
    df = pd.DataFrame(rows, columns=["device_id", "time", "x_km", "y_km"])
    return df.astype({"time": "datetime64[s]"}).assign(accuracy_m=5.0)


TABLES = {"traces": _traces(), "places": PLACES, "directory": DIRECTORY}


def test_story_of_a_hand_built_device():
    story = explain(TABLES, "ann-phone", rng=0)
    assert isinstance(story, DeviceStory)
    assert len(story.trace) == 21 and set(story.trace["device_id"]) == {"ann-phone"}
    assert story.home == pytest.approx({"x_km": 0.0, "y_km": 0.0, "support": 1.0})
    assert story.work["x_km"] == pytest.approx(2.0)
    assert story.name == "Ann"
    assert story.sensitive["name"].tolist() == ["Kind Clinic"]
    # "other" shares the office hours (same place, same times) but not the nights:
    # one random point is either a night at home (unique) or an office hour
    # (shared by both phones); two points are unique unless both are office hours.
    assert story.unicity["n_points"].iloc[0] == 1
    assert story.points_to_unique in (1, 2)
    text = str(story)
    for words in ("ann-phone", "Ann", "Kind Clinic", "nights", "not a fact"):
        assert words in text


def test_unknown_device_and_bad_options():
    with pytest.raises(FewpointsError, match="'nobody' is not in the traces"):
        explain(TABLES, "nobody")
    with pytest.raises(FewpointsError, match="max_points"):
        explain(TABLES, "ann-phone", max_points=0)
    with pytest.raises(FewpointsError, match="places"):
        explain({"traces": TABLES["traces"]}, "ann-phone")


def test_without_a_directory_no_name_is_guessed():
    story = explain({"traces": TABLES["traces"], "places": PLACES}, "ann-phone", rng=0)
    assert story.name is None
    assert "no name is guessed" in str(story)


def test_same_seed_same_story(tiny_world):
    device = str(tiny_world.traces["device_id"].iloc[0])
    a = explain(tiny_world, device, rng=3)
    b = explain(tiny_world, device, rng=3)
    assert str(a) == str(b)
    pd.testing.assert_frame_equal(a.unicity, b.unicity)


class _Sealed:
    """A world whose ground truth raises on access: attacks get only what a buyer gets."""

    def __init__(self, world):
        self._world = world

    def __getattr__(self, name):
        if name in ("people", "stays"):
            raise AssertionError(f"an attack read the ground truth table {name!r}")
        return getattr(self._world, name)


def test_attacks_read_only_released_and_public_tables(tiny_world):
    sealed = _Sealed(tiny_world)
    for model in ("cdr", "pings"):
        traces = sealed.observations[model]
        link_posts(traces, sealed.posts)
        link_directory(traces, sealed.directory, sealed.places, posts=sealed.posts)
        device = str(traces["device_id"].iloc[0])
        story = explain(sealed, device, observe=model, rng=0)
        assert story.device_id == device
    with pytest.raises(AssertionError, match="ground truth"):
        naming_curve(sealed.traces, sealed.posts, sealed.people)


def test_call_record_visits_are_called_leads_gps_visits_are_not():
    gps = str(explain(TABLES, "ann-phone", rng=0))
    assert "Kind Clinic" in gps and "lead rather than proof" not in gps
    # The same trace without accuracy_m reads as call records at the nearest location.
    cdr = {**TABLES, "traces": _traces().drop(columns="accuracy_m")}
    story = explain(cdr, "ann-phone", rng=0)
    assert len(story.sensitive) and "lead rather than proof" in str(story)
