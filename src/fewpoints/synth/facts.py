"""Stylized facts of human mobility, measured on a world, so anyone can check the generator.

The lessons rest on the synthetic people moving like real ones. These are the
regularities found in real phone data that the generator must reproduce:

* home is the most frequent night-time location;
* the radius of gyration is heavy-tailed (Gonzalez, Hidalgo, Barabasi 2008);
* visit frequencies over a person's places fall off like a Zipf law,
  f_k ~ k^-1.2 (Song, Koren, Wang, Barabasi 2010);
* the number of distinct places grows sublinearly with time, S(t) ~ t^0.6
  (same source);
* phone activity is heavy-tailed, about 114 events per person per month on
  average in "Unique in the Crowd" (de Montjoye et al. 2013).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "cdr_per_month",
    "distinct_places_exponent",
    "night_antenna_home_share",
    "night_home_share",
    "radius_of_gyration",
    "stylized_facts",
    "visit_rank_exponent",
]


def night_home_share(world, *, hour: int = 3) -> float:
    """Share of people whose most frequent place at ``hour`` o'clock (ground truth) is their home."""
    stays, p = world.stays, world.params
    times = pd.date_range(p.start, periods=p.days, freq="D") + pd.Timedelta(hours=hour)
    s, e = stays["start"].to_numpy(), stays["end"].to_numpy()
    rows = [stays.loc[(s <= t) & (e > t), ["person_id", "place_id"]] for t in times.to_numpy()]
    counts = pd.concat(rows).groupby(["person_id", "place_id"]).size().rename("n").reset_index()
    top = counts.sort_values(["person_id", "n"], ascending=[True, False]).drop_duplicates(
        "person_id"
    )
    home = world.people.set_index("person_id").loc[top["person_id"], "home_place_id"].to_numpy()
    return float((top["place_id"].to_numpy() == home).mean())


def night_antenna_home_share(world) -> float:
    """Share of devices whose most frequent night-time (22:00-06:00) antenna is one of the two nearest their home.

    This is what an attacker sees: the cdr observation model serves a call
    from the nearest antenna, sometimes the second nearest.
    """
    cdr = world.observations["cdr"]
    hour = cdr["time"].dt.hour
    night = cdr[(hour >= 22) | (hour < 6)]
    counts = (
        night.groupby(["device_id", "antenna_id"], observed=True).size().rename("n").reset_index()
    )
    top = counts.sort_values(["device_id", "n"], ascending=[True, False]).drop_duplicates(
        "device_id"
    )
    home = (
        world.people.set_index("device_id")
        .loc[top["device_id"].astype(str), "home_place_id"]
        .to_numpy()
    )
    ax, ay = world.antennas["x_km"].to_numpy(), world.antennas["y_km"].to_numpy()
    hx = world.places["x_km"].to_numpy()[home]
    hy = world.places["y_km"].to_numpy()[home]
    d2 = (hx[:, None] - ax[None, :]) ** 2 + (hy[:, None] - ay[None, :]) ** 2
    nearest_two = np.argsort(d2, axis=1)[:, :2]
    return float((nearest_two == top["antenna_id"].to_numpy()[:, None]).any(axis=1).mean())


def radius_of_gyration(world) -> pd.Series:
    """Time-weighted radius of gyration (km) of each person's stays, indexed by person_id."""
    st = world.stays
    place = st["place_id"].to_numpy()
    x = world.places["x_km"].to_numpy()[place]
    y = world.places["y_km"].to_numpy()[place]
    w = (st["end"] - st["start"]).dt.total_seconds().to_numpy()
    df = pd.DataFrame(
        {
            "p": st["person_id"].to_numpy(),
            "w": w,
            "wx": w * x,
            "wy": w * y,
            "wr2": w * (x * x + y * y),
        }
    )
    g = df.groupby("p").sum()
    var = g["wr2"] / g["w"] - (g["wx"] / g["w"]) ** 2 - (g["wy"] / g["w"]) ** 2
    return np.sqrt(var.clip(lower=0)).rename("radius_of_gyration_km")


def visit_rank_exponent(world, *, ranks: int = 10) -> float:
    """Exponent a of the fit f_k ~ k^-a of the mean visit share of each person's k-th place (k = 1..ranks)."""
    st = world.stays
    visits = st.groupby(["person_id", "place_id"]).size().rename("n").reset_index()
    visits["rank"] = visits.groupby("person_id")["n"].rank(method="first", ascending=False)
    visits["f"] = visits["n"] / visits.groupby("person_id")["n"].transform("sum")
    f_k = visits.groupby("rank")["f"].mean()
    k = np.arange(1, ranks + 1)
    slope, _ = np.polyfit(np.log(k), np.log(f_k.reindex(k).to_numpy()), 1)
    return float(-slope)


def distinct_places_exponent(world) -> float:
    """Exponent b of the fit S(t) ~ t^b of the mean number of distinct places seen by day t."""
    st = world.stays
    day = (st["start"] - pd.Timestamp(world.params.start)).dt.days
    first_visit = (
        pd.DataFrame({"p": st["person_id"], "place": st["place_id"], "day": day})
        .groupby(["p", "place"])["day"]
        .min()
    )
    n_days = world.params.days
    per_day = np.bincount(first_visit.to_numpy(), minlength=n_days)[:n_days]
    distinct = np.cumsum(per_day) / len(world.people)
    t = np.arange(1, n_days + 1)
    slope, _ = np.polyfit(np.log(t), np.log(distinct), 1)
    return float(slope)


def cdr_per_month(world) -> pd.Series:
    """Calls and texts per person per 30 days (people with none count as zero), indexed by device_id."""
    cdr = world.observations["cdr"]
    per = cdr.groupby("device_id", observed=False).size()
    per.index = per.index.astype(str)
    per = per.reindex(world.people["device_id"].to_numpy(), fill_value=0)
    return (per * 30.0 / world.params.days).rename("cdr_per_month")


def stylized_facts(world) -> pd.DataFrame:
    """Every fact measured on ``world``, beside the range the tests require and the published value.

    Returns
    -------
    DataFrame
        ``fact``, ``value`` (measured on this synthetic world), ``required``
        (the test's range), ``published`` (with its source).
    """
    rg = radius_of_gyration(world)
    rows = [
        (
            "home is the top 3 a.m. place (share of people)",
            night_home_share(world),
            ">= 0.8",
            "",
        ),
        (
            "radius of gyration: 90th percentile / median",
            rg.quantile(0.9) / rg.median(),
            ">= 2.5",
            "heavy-tailed (Gonzalez et al. 2008)",
        ),
        (
            "visit frequency exponent a in f_k ~ k^-a",
            visit_rank_exponent(world),
            "0.8 to 1.6",
            "1.2 (Song et al. 2010)",
        ),
        (
            "distinct places exponent b in S(t) ~ t^b",
            distinct_places_exponent(world),
            "0.2 to 0.9",
            "0.6 (Song et al. 2010)",
        ),
    ]
    if "cdr" in world.observations:
        per = cdr_per_month(world)
        rows += [
            (
                "top night antenna serves home (share of devices)",
                night_antenna_home_share(world),
                ">= 0.8",
                "",
            ),
            (
                "calls and texts per person per month (mean)",
                per.mean(),
                "80 to 150",
                "about 114 (de Montjoye et al. 2013)",
            ),
            (
                "calls and texts: 99th percentile / median",
                per.quantile(0.99) / per.median(),
                "> 4",
                "heavy-tailed",
            ),
        ]
    return pd.DataFrame(rows, columns=["fact", "value", "required", "published"])
