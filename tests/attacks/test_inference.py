"""Sensitive visits: stays at sensitive places found from released traces and the public map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints.attacks import sensitive_visits
from fewpoints.schema import FewpointsError

START = pd.Timestamp("2026-03-02")  # a Monday

#: A clinic K, a shop S 30 m east of it, a place of worship W far away, and two homes.
PLACES = pd.DataFrame(
    {
        "place_id": [0, 1, 2, 3, 4],
        "x_km": [1.0, 1.03, 6.0, 5.0, 1.015],
        "y_km": [1.0, 1.0, 6.0, 5.0, 1.012],
        "kind": ["health", "shop", "worship", "home", "home"],
        "sensitive": [True, False, True, False, False],
        "name": ["Kind Clinic", "Corner Shop", "Hill Chapel", "12 Oak St", "3 Elm St"],
    }
)
ANTENNAS = pd.DataFrame(
    {"antenna_id": [0, 1, 2, 3], "x_km": [1.1, 5.1, 6.1, 9.0], "y_km": [1.0, 5.0, 6.0, 9.0]}
)
COLUMNS = [
    "device_id",
    "place_id",
    "name",
    "kind",
    "x_km",
    "y_km",
    "start",
    "end",
    "minutes",
    "n_records",
]


def pings(rows) -> pd.DataFrame:
    """rows: (device, day, "HH:MM", x, y[, accuracy_m])."""
    out = []
    for r in rows:
        dev, day, hm, x, y, *acc = r
        h, m = map(int, hm.split(":"))
        t = START + pd.Timedelta(days=day, hours=h, minutes=m)
        out.append(
            {
                "device_id": dev,
                "time": t,
                "x_km": x,
                "y_km": y,
                "accuracy_m": acc[0] if acc else 8.0,
            }
        )
    df = pd.DataFrame(out)
    df["time"] = df["time"].astype("datetime64[s]")
    return df


def nights_at(dev, x, y, days=(0, 1, 2)):
    """Nights at home, and afternoons at an office at (3, 3)."""
    return [(dev, d, "23:30", x, y) for d in days] + [(dev, d, "14:30", 3.0, 3.0) for d in days]


def test_a_sparse_trace_whose_only_weekday_place_is_the_clinic_loses_it_as_work():
    traces = pings([("eve", 0, "23:00", 5.0, 5.0), ("eve", 0, "10:00", 1.0, 1.0)])
    assert sensitive_visits(traces, PLACES).empty
    assert len(sensitive_visits(traces, PLACES, exclude_home_work=False)) == 1


def test_a_stay_is_a_run_of_consecutive_records_at_the_place():
    traces = pings(
        [
            *nights_at("ana", 5.0, 5.0),
            ("ana", 0, "10:00", 1.001, 1.0),
            ("ana", 0, "10:20", 1.0, 1.002),
            ("ana", 0, "10:40", 0.999, 1.0),
            ("ana", 0, "12:00", 5.0, 5.0),  # home for lunch
            ("ana", 1, "10:00", 1.0, 1.001),  # a single record the next day
        ]
    )
    sv = sensitive_visits(traces, PLACES)
    assert list(sv.columns) == COLUMNS
    assert sv["place_id"].tolist() == [0, 0]
    assert sv["name"].tolist() == ["Kind Clinic", "Kind Clinic"]
    assert sv["minutes"].tolist() == [40.0, 0.0]
    assert sv["n_records"].tolist() == [3, 1]
    assert sv["start"].iloc[0] == START + pd.Timedelta(hours=10)
    assert sv["end"].iloc[0] == START + pd.Timedelta(hours=10, minutes=40)
    only_long = sensitive_visits(traces, PLACES, min_minutes=30)
    assert only_long["n_records"].tolist() == [3]


def test_nearer_places_coarse_fixes_and_gaps():
    traces = pings(
        [
            *nights_at("ben", 5.0, 5.0),
            ("ben", 0, "10:00", 1.026, 1.0),  # 26 m from the clinic but 4 m from the shop
            ("ben", 0, "11:00", 1.0, 1.0, 800.0),  # a coarse wifi fix: proves nothing
            ("ben", 5, "10:00", 6.0, 6.001),  # the chapel on Saturday ...
            ("ben", 5, "14:30", 6.001, 6.0),  # ... and again 4.5 hours later, nothing between
            ("ben", 2, "09:00", 1.2, 1.2),  # nowhere special
        ]
    )
    sv = sensitive_visits(traces, PLACES)
    assert sv["kind"].tolist() == ["worship", "worship"]  # two stays: the gap is over 120 minutes
    merged = sensitive_visits(traces, PLACES, max_gap_minutes=300)
    assert merged["minutes"].tolist() == [270.0]
    assert sensitive_visits(traces, PLACES, radius_km=0.0005).empty


def test_living_next_to_a_clinic_is_not_a_visit():
    # cy lives at 3 Elm St, 19 m from the clinic; every night's fix is nearer the clinic.
    traces = pings(nights_at("cy", 1.003, 1.004, days=range(5)))
    assert sensitive_visits(traces, PLACES).empty
    # Without the exclusion every night is a "visit" (nights are a day apart: five stays).
    sv = sensitive_visits(traces, PLACES, exclude_home_work=False)
    assert len(sv) == 5
    assert (sv["n_records"] == 1).all()


def test_cdr_records_at_the_antenna_nearest_the_place():
    # Antenna 0 is nearest the clinic, antenna 2 the chapel, antenna 1 serves the homes,
    # antenna 3 dan's office.
    def cdr(dev, day, hm, antenna):
        h, m = map(int, hm.split(":"))
        a = ANTENNAS.iloc[antenna]
        return {
            "device_id": dev,
            "time": START + pd.Timedelta(days=day, hours=h, minutes=m),
            "x_km": a["x_km"],
            "y_km": a["y_km"],
            "antenna_id": antenna,
        }

    rows = [cdr("dan", d, "23:00", 1) for d in range(3)]
    rows += [cdr("dan", d, "14:00", 3) for d in range(3)]
    rows += [cdr("dan", 0, "10:00", 0), cdr("dan", 0, "10:05", 0), cdr("dan", 1, "18:00", 2)]
    traces = pd.DataFrame(rows).astype({"time": "datetime64[s]"})
    for kw in ({}, {"antennas": ANTENNAS}):
        sv = sensitive_visits(traces, PLACES, **kw)
        assert sv[["place_id", "n_records", "minutes"]].values.tolist() == [
            [0, 2, 5.0],
            [2, 1, 0.0],
        ]


def test_no_sensitive_places_or_no_records_gives_an_empty_table():
    traces = pings(nights_at("ana", 5.0, 5.0))
    assert list(sensitive_visits(traces, PLACES.assign(sensitive=False)).columns) == COLUMNS
    assert sensitive_visits(traces, PLACES.assign(sensitive=False)).empty
    with pytest.raises(FewpointsError, match="empty"):
        sensitive_visits(traces.iloc[:0], PLACES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_minutes": -1}, "min_minutes"),
        ({"min_minutes": "long"}, "min_minutes must be a number"),
        ({"radius_km": 0}, "radius_km must be positive"),
        ({"max_gap_minutes": np.inf}, "max_gap_minutes"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(FewpointsError, match=match):
        sensitive_visits(pings(nights_at("ana", 5.0, 5.0)), PLACES, **kwargs)


@pytest.mark.slow
def test_visits_found_on_a_synthetic_world(medium_world):
    """Nearly every GPS visit found is a real stay (ground truth used here, never by the attack)."""
    w = medium_world
    sv = sensitive_visits(w.observations["pings"], w.places)
    assert len(sv) > 100
    truth = w.stays.merge(w.people[["person_id", "device_id"]]).merge(
        w.places.loc[w.places["sensitive"], ["place_id"]]
    )
    m = sv.merge(truth, on=["device_id", "place_id"], how="left", suffixes=("", "_true"))
    m["hit"] = (m["start_true"] <= m["end"]) & (m["end_true"] >= m["start"])
    precision = m.groupby(["device_id", "place_id", "start"])["hit"].any().mean()
    assert precision > 0.9
