"""Builders shared by the test modules: small tables whose answers are plain by eye.

Plain functions and constants, imported as ``from tests.builders import traces_from``;
the pytest fixtures (worlds made once per session) are in ``tests/conftest.py`` and in
the ``conftest.py`` of a test folder. Moved unchanged from the test modules that defined
them, so that no test module imports another.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from fewpoints.schema import validate_traces

START = pd.Timestamp("2026-03-02")  # a Monday


# -- traces whose answer is plain by eye, random traces, brute force -------------------------------


def traces_from(spec: dict[str, list[str]]) -> pd.DataFrame:
    """A traces table from ``{"ana": ["A@08", "B@2/09"], ...}``: place letter @ [day/]hour.

    Place ``A`` is at (0.5, 0.5) km, ``B`` at (1.5, 0.5), and so on; day 0 is
    Monday 2026-03-02.
    """
    rows = []
    for device, points in spec.items():
        for point in points:
            place, when = point.split("@")
            day, hour = when.split("/") if "/" in when else ("0", when)
            k = ord(place) - ord("A")
            rows.append(
                {
                    "device_id": device,
                    "time": START + pd.Timedelta(days=int(day), hours=int(hour)),
                    "x_km": 0.5 + k % 5,
                    "y_km": 0.5 + k // 5,
                }
            )
    df = pd.DataFrame(rows)
    df["time"] = df["time"].astype("datetime64[s]")
    return df


def random_traces(
    seed: int, *, n_devices=40, n_places=6, n_hours=12, max_records=20
) -> pd.DataFrame:
    """Devices hopping among a few places over a few hourly times (many shared points)."""
    rng = np.random.default_rng(seed)
    per = rng.integers(1, max_records + 1, n_devices)
    dev = np.repeat(np.arange(n_devices), per)
    place = rng.integers(0, n_places, len(dev))
    hour = rng.integers(0, n_hours, len(dev))
    minute = rng.integers(0, 60, len(dev)) * 0  # on the hour: shared points
    df = pd.DataFrame(
        {
            "device_id": np.char.add("dev", dev.astype(str)),
            "time": (
                START.to_datetime64()
                + hour.astype("timedelta64[h]")
                + minute.astype("timedelta64[m]")
            ).astype("datetime64[s]"),
            "x_km": (place % 3).astype(float) + 0.25,
            "y_km": (place // 3).astype(float) - 0.75,
        }
    )
    return df


def point_sets(traces: pd.DataFrame) -> dict[str, set]:
    """Brute force: each device's set of (x, y, time)."""
    out: dict[str, set] = {}
    for d, x, y, t in zip(
        traces["device_id"].astype(str), traces["x_km"], traces["y_km"], traces["time"], strict=True
    ):
        out.setdefault(d, set()).add((float(x), float(y), pd.Timestamp(t)))
    return out


def brute_sizes(traces: pd.DataFrame, points: pd.DataFrame) -> list[int]:
    """Brute force: for each target in ``points``, devices whose trace holds all its points."""
    sets = point_sets(traces)
    out = []
    for _, grp in points.groupby("device_id", sort=False):
        known = {
            (float(x), float(y), pd.Timestamp(t))
            for x, y, t in grp[["x_km", "y_km", "time"]].itertuples(index=False)
        }
        out.append(sum(known <= s for s in sets.values()))
    return out


# -- random traces tables for hypothesis (unicity and top-locations properties) ---------------------


tables = st.builds(
    random_traces,
    st.integers(0, 2**32 - 1),
    n_devices=st.integers(2, 40),
    n_places=st.integers(1, 8),
    n_hours=st.integers(1, 10),
    max_records=st.integers(1, 12),
)


# -- top locations ----------------------------------------------------------------------------------


# Place letters of traces_from: A at (0.5, 0.5), B (1.5, 0.5), C (2.5, 0.5), D (3.5, 0.5), ...
A, B, C, D = (0.5, 0.5), (1.5, 0.5), (2.5, 0.5), (3.5, 0.5)


# -- anonymize: records as tuples, the schema every transform keeps ---------------------------------


def _records(df: pd.DataFrame) -> list[tuple]:
    """Each row as (device, time, x, y), sorted: a table's content regardless of row order."""
    return sorted(
        zip(
            df["device_id"].astype(str),
            df["time"].astype("int64"),
            df["x_km"].round(9),
            df["y_km"].round(9),
            strict=True,
        )
    )


def _check_schema(out: pd.DataFrame) -> None:
    validate_traces(out)
    assert (
        isinstance(out["device_id"].dtype, pd.CategoricalDtype) or out["device_id"].dtype != object
    )
    if isinstance(out["device_id"].dtype, pd.CategoricalDtype):
        assert out["device_id"].cat.codes.is_monotonic_increasing
        assert len(out["device_id"].cat.categories) == out["device_id"].nunique()
    assert out["time"].dtype == "datetime64[s]"


# -- defenses ---------------------------------------------------------------------------------------


def _hour(h: int, day: int = 0) -> pd.Timestamp:
    return START + pd.Timedelta(days=day, hours=h)


# -- linkage: pings and posts at given times, Ana's phone and Ben's ---------------------------------


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


# -- figures: the artists a plot drew, its headline, a curve ----------------------------------------


def _by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    found += [a for a in ax.figure.texts if a.get_gid() == gid]
    assert found, f"nothing drawn with gid {gid!r}"
    return found[0]


def _headline(ax) -> str:
    return _by_gid(ax, "headline").get_text()


CURVE = pd.DataFrame(
    {
        "n_points": [1, 2, 3, 4, 5],
        "unicity": [0.01, 0.52, 0.84, 0.93, 0.97],
        "ci_low": [0.0, 0.50, 0.82, 0.91, 0.96],
        "ci_high": [0.02, 0.54, 0.86, 0.95, 0.98],
        "n_targets": [1000] * 5,
    }
)


# -- population: points on a line at whole hours, antennas on a line --------------------------------


T0 = pd.Timestamp("2026-03-02 00:00")


def traces(spec: dict[str, list[tuple[float, int]]]) -> pd.DataFrame:
    """``{"ana": [(x_km, hour), ...]}``: points on a line, at whole hours."""
    rows = [(d, x, h) for d, pts in spec.items() for x, h in pts]
    dev, x, h = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "device_id": list(dev),
            "time": T0 + pd.to_timedelta(list(h), unit="h"),
            "x_km": np.asarray(x, dtype=float),
            "y_km": 0.0,
        }
    )


# -- the published marginals model ------------------------------------------------


def line(n):
    return pd.DataFrame({"antenna_id": range(n), "x_km": np.arange(n, dtype=float), "y_km": 0.0})


NO_EDGES = (np.zeros(6, dtype=np.int64), np.empty(0, dtype=np.int64))
