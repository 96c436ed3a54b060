"""Stylized facts of human mobility the synthetic world must show (on a medium world, with tolerances)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints.synth import facts


def test_home_is_the_most_frequent_night_location(medium_world):
    assert facts.night_home_share(medium_world) >= 0.8
    # The same holds for what an attacker sees: the night-time antenna.
    assert facts.night_antenna_home_share(medium_world) >= 0.8


def test_radius_of_gyration_is_heavy_tailed(medium_world):
    rg = facts.radius_of_gyration(medium_world)
    assert len(rg) == len(medium_world.people)
    assert rg.quantile(0.9) >= 2.5 * rg.median()
    assert rg.max() >= 10 * rg.median()


def test_visit_frequency_falls_off_like_zipf(medium_world):
    assert 0.8 <= facts.visit_rank_exponent(medium_world) <= 1.6


def test_distinct_places_grow_sublinearly(medium_world):
    assert 0.2 < facts.distinct_places_exponent(medium_world) < 0.9


def test_cdr_volume_matches_published_average_with_a_long_tail(medium_world):
    per_month = facts.cdr_per_month(medium_world)
    assert len(per_month) == len(medium_world.people)
    assert 80 <= per_month.mean() <= 150
    assert per_month.quantile(0.99) > 4 * per_month.median()
    assert per_month.mean() > 1.2 * per_month.median()


def test_cdr_follows_the_days_rhythm(medium_world):
    hour = medium_world.observations["cdr"]["time"].dt.hour
    by_hour = np.bincount(hour, minlength=24)
    assert by_hour[3] * 5 < by_hour[12]
    assert by_hour[18] > by_hour[6]


def test_pings_rates_range_from_a_few_to_hundreds_a_day(medium_world):
    pings = medium_world.observations["pings"]
    per_day = pings.groupby("device_id", observed=True).size() / medium_world.params.days
    assert 1 <= per_day.median() <= 10
    assert per_day.max() >= 100
    acc = pings["accuracy_m"]
    assert 3 <= acc.median() <= 30
    assert (acc > 100).mean() < 0.1


# The measuring functions themselves, on worlds whose answer is known by hand.


class _Stub:
    def __init__(self, stays, places, people, days=2, start="2026-03-02"):
        from fewpoints.synth.world import WorldParams

        self.stays, self.places, self.people = stays, places, people
        self.params = WorldParams(days=days, start=start)
        self.observations = {}


def _t(s):
    return pd.Timestamp(s).to_datetime64().astype("datetime64[s]")


def test_radius_of_gyration_and_night_home_by_hand():
    places = pd.DataFrame({"place_id": [0, 1], "x_km": [0.0, 4.0], "y_km": [0.0, 0.0]})
    day1, day2, day3 = _t("2026-03-02 00:00"), _t("2026-03-03 00:00"), _t("2026-03-04 00:00")
    # Person 0: a day at x=0, a day at x=4 -> centre 2, radius 2. Person 1: always at x=4 -> radius 0.
    stays = pd.DataFrame(
        {
            "person_id": [0, 0, 1],
            "place_id": [0, 1, 1],
            "start": [day1, day2, day1],
            "end": [day2, day3, day3],
        }
    )
    # Both live at place 0, so only person 1 is away from home at 3 a.m. on both nights.
    people = pd.DataFrame({"person_id": [0, 1], "home_place_id": [0, 0]})
    world = _Stub(stays, places, people)
    rg = facts.radius_of_gyration(world)
    assert rg.loc[0] == pytest.approx(2.0) and rg.loc[1] == pytest.approx(0.0)
    # Person 0 is at home on one night of two: a tie, so sorting decides; person 1 never is.
    share = facts.night_home_share(world)
    assert share <= 0.5
    stays.loc[1, "place_id"] = 0
    assert facts.night_home_share(_Stub(stays, places, people)) == 0.5


def test_stylized_facts_table_lists_every_fact(medium_world):
    table = facts.stylized_facts(medium_world)
    assert list(table.columns) == ["fact", "value", "required", "published"]
    assert len(table) == 7
    assert table["value"].notna().all()
