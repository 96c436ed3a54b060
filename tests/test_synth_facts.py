"""Stylized facts of human mobility the synthetic world must show (on a medium world, with tolerances)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _night_top_antenna_is_home(world) -> float:
    """Share of devices whose most frequent night-time (22:00-06:00) antenna serves their home."""
    cdr = world.observations["cdr"]
    hour = cdr["time"].dt.hour
    night = cdr[(hour >= 22) | (hour < 6)]
    counts = (
        night.groupby(["device_id", "antenna_id"], observed=True).size().rename("n").reset_index()
    )
    top = counts.sort_values(["device_id", "n"], ascending=[True, False]).drop_duplicates(
        "device_id"
    )
    people = world.people.set_index("device_id")
    home = people.loc[top["device_id"].astype(str), "home_place_id"].to_numpy()
    places = world.places
    ax, ay = world.antennas["x_km"].to_numpy(), world.antennas["y_km"].to_numpy()
    hx, hy = places["x_km"].to_numpy()[home], places["y_km"].to_numpy()[home]
    # The antenna(s) nearest the home; the observation model sometimes uses the second nearest.
    d2 = (hx[:, None] - ax[None, :]) ** 2 + (hy[:, None] - ay[None, :]) ** 2
    nearest_two = np.argsort(d2, axis=1)[:, :2]
    hit = (nearest_two == top["antenna_id"].to_numpy()[:, None]).any(axis=1)
    return float(hit.mean())


def _night_top_place_is_home(world) -> float:
    """Share of people whose most frequent place at 03:00 (ground truth) is their home."""
    stays = world.stays
    p = world.params
    at3 = pd.date_range(p.start, periods=p.days, freq="D") + pd.Timedelta(hours=3)
    s, e = stays["start"].to_numpy(), stays["end"].to_numpy()
    rows = [stays.loc[(s <= t) & (e > t), ["person_id", "place_id"]] for t in at3.to_numpy()]
    night = pd.concat(rows)
    counts = night.groupby(["person_id", "place_id"]).size().rename("n").reset_index()
    top = counts.sort_values(["person_id", "n"], ascending=[True, False]).drop_duplicates(
        "person_id"
    )
    home = world.people.set_index("person_id").loc[top["person_id"], "home_place_id"].to_numpy()
    return float((top["place_id"].to_numpy() == home).mean())


def test_home_is_the_most_frequent_night_location(medium_world):
    assert _night_top_place_is_home(medium_world) >= 0.8
    # The same holds for what an attacker sees: the night-time antenna.
    assert _night_top_antenna_is_home(medium_world) >= 0.8


def _radius_of_gyration(world) -> pd.Series:
    """Time-weighted radius of gyration (km) of each person's stays."""
    st = world.stays
    x = world.places["x_km"].to_numpy()[st["place_id"].to_numpy()]
    y = world.places["y_km"].to_numpy()[st["place_id"].to_numpy()]
    w = (st["end"] - st["start"]).dt.total_seconds().to_numpy()
    df = pd.DataFrame(
        {
            "p": st["person_id"].to_numpy(),
            "w": w,
            "wx": w * x,
            "wy": w * y,
            "wxx": w * (x * x + y * y),
        }
    )
    g = df.groupby("p").sum()
    var = g["wxx"] / g["w"] - (g["wx"] / g["w"]) ** 2 - (g["wy"] / g["w"]) ** 2
    return np.sqrt(var.clip(lower=0))


def test_radius_of_gyration_is_heavy_tailed(medium_world):
    rg = _radius_of_gyration(medium_world)
    assert rg.quantile(0.9) >= 2.5 * rg.median()
    assert rg.max() >= 10 * rg.median()


def test_visit_frequency_falls_off_like_zipf(medium_world):
    st = medium_world.stays
    visits = st.groupby(["person_id", "place_id"]).size().rename("n").reset_index()
    visits["rank"] = visits.groupby("person_id")["n"].rank(method="first", ascending=False)
    visits["f"] = visits["n"] / visits.groupby("person_id")["n"].transform("sum")
    f_k = visits.groupby("rank")["f"].mean()
    k = np.arange(1, 11)
    slope, _ = np.polyfit(np.log(k), np.log(f_k.loc[k].to_numpy()), 1)
    assert 0.8 <= -slope <= 1.6


def test_distinct_places_grow_sublinearly(medium_world):
    st = medium_world.stays
    day = (st["start"] - pd.Timestamp(medium_world.params.start)).dt.days
    first_visit = (
        pd.DataFrame({"p": st["person_id"], "place": st["place_id"], "day": day})
        .groupby(["p", "place"])["day"]
        .min()
    )
    n_days = medium_world.params.days
    per_day = np.bincount(first_visit.to_numpy(), minlength=n_days)
    distinct = np.cumsum(per_day) / len(medium_world.people)
    t = np.arange(1, n_days + 1)
    exponent, _ = np.polyfit(np.log(t), np.log(distinct), 1)
    assert 0.2 < exponent < 0.9
    assert distinct[-1] > distinct[6] > distinct[0]


def test_cdr_volume_matches_published_average_with_a_long_tail(medium_world):
    cdr = medium_world.observations["cdr"]
    per_device = (
        cdr.groupby("device_id", observed=False)
        .size()
        .reindex(medium_world.people["device_id"], fill_value=0)
    )
    per_month = per_device * 30.0 / medium_world.params.days
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
