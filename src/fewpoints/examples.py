"""Tiny hand-built tables whose answers can be checked by eye.

The ``Examples`` sections of the public functions (run as doctests) and a first
look in a notebook start from these instead of writing the same table out again.
Every builder is deterministic and returns a fresh copy, so an example may change
what it gets without touching the next one. All the data is made up.

Examples
--------
>>> from fewpoints import examples
>>> examples.tiny_traces()["device_id"].tolist()
['a', 'a', 'b', 'b', 'c', 'c']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["tiny_clinic", "tiny_commutes", "tiny_homes", "tiny_traces"]

# Monday 2 March 2026, night to the next morning, used by the night-time examples.
_NIGHT = ["2026-03-02 23:00", "2026-03-03 02:00"]


def tiny_traces() -> pd.DataFrame:
    """Three phones seen twice on Monday 2 March 2026, at 08:00 and 18:00.

    Returns
    -------
    DataFrame
        A ``traces`` table of six records. Phones ``a`` and ``c`` were at
        x = 0 km then x = 1 km; ``b`` was at x = 0 km then x = 2 km (all on
        y = 0), so two points single out ``b`` alone.

    Examples
    --------
    >>> traces = tiny_traces()
    >>> traces.groupby("device_id")["x_km"].last().tolist()
    [1.0, 2.0, 1.0]
    """
    return pd.DataFrame(
        {
            "device_id": ["a", "a", "b", "b", "c", "c"],
            "time": pd.to_datetime(["2026-03-02 08:00", "2026-03-02 18:00"] * 3),
            "x_km": [0.0, 1.0, 0.0, 2.0, 0.0, 1.0],
            "y_km": [0.0] * 6,
        }
    )


def tiny_commutes() -> pd.DataFrame:
    """Two phones with their own home and one shared workplace.

    Returns
    -------
    DataFrame
        A ``traces`` table of seven records: ``a`` sleeps at x = 0 km, ``b`` at
        x = 1 km (the night of Monday 2 March 2026); both are at x = 3 km on
        Tuesday morning.

    Examples
    --------
    >>> tiny_commutes().groupby("device_id").size().tolist()
    [4, 3]
    """
    return pd.DataFrame(
        {
            "device_id": ["a", "a", "a", "a", "b", "b", "b"],
            "time": pd.to_datetime(
                [*_NIGHT, "2026-03-03 10:00", "2026-03-03 11:00"]
                + ["2026-03-02 23:00", "2026-03-03 10:00", "2026-03-03 11:00"]
            ),
            "x_km": [0.0, 0.0, 3.0, 3.0, 1.0, 3.0, 3.0],
            "y_km": [0.0] * 7,
        }
    )


def tiny_homes() -> dict[str, pd.DataFrame]:
    """Two phones, each sleeping at its own listed address.

    Returns
    -------
    dict of DataFrame
        ``"traces"``: phones ``a`` (x = 0 km) and ``b`` (x = 1 km) seen at
        23:00 and 02:00 on the night of Monday 2 March 2026; ``"places"``:
        the homes 1 Elm St and 2 Elm St at those points; ``"directory"``: Al
        listed at 1 Elm St, Bo at 2 Elm St. The dict is a world that
        :func:`fewpoints.explain` reads.

    Examples
    --------
    >>> world = tiny_homes()
    >>> sorted(world), world["directory"]["name"].tolist()
    (['directory', 'places', 'traces'], ['Al', 'Bo'])
    """
    return {
        "traces": pd.DataFrame(
            {
                "device_id": ["a", "a", "b", "b"],
                "time": pd.to_datetime(_NIGHT * 2),
                "x_km": [0.0, 0.0, 1.0, 1.0],
                "y_km": [0.0] * 4,
            }
        ),
        "places": pd.DataFrame(
            {
                "place_id": [1, 2],
                "x_km": [0.0, 1.0],
                "y_km": [0.0, 0.0],
                "kind": ["home", "home"],
                "sensitive": [False, False],
                "name": ["1 Elm St", "2 Elm St"],
            }
        ),
        "directory": pd.DataFrame(
            {"name": ["Al", "Bo"], "address": ["1 Elm St", "2 Elm St"], "place_id": [1, 2]}
        ),
    }


def tiny_clinic() -> dict[str, pd.DataFrame]:
    """Two phones at home, one of which also goes to work and to a clinic, and posts.

    Returns
    -------
    dict of DataFrame
        ``"traces"``: ``a`` sleeps at 1 Elm St (x = 0 km), ``b`` at 2 Elm St
        (x = 1 km) on the night of Monday 2 March 2026; ``b`` works at
        x = 3 km on Tuesday morning and is at the Kind Clinic (x = 2 km) on
        Wednesday at 15:00. ``"places"``: the two homes and the clinic (the
        one sensitive place). ``"posts"``: two posts by Bo, from home on
        Monday night and from the clinic on Wednesday.

    Examples
    --------
    >>> world = tiny_clinic()
    >>> world["places"].loc[world["places"]["sensitive"], "name"].tolist()
    ['Kind Clinic']
    """
    return {
        "traces": pd.DataFrame(
            {
                "device_id": ["a", "a", "b", "b", "b", "b", "b"],
                "time": pd.to_datetime(
                    _NIGHT * 2 + ["2026-03-03 10:00", "2026-03-03 11:00", "2026-03-04 15:00"]
                ),
                "x_km": [0.0, 0.0, 1.0, 1.0, 3.0, 3.0, 2.0],
                "y_km": [0.0] * 7,
            }
        ),
        "places": pd.DataFrame(
            {
                "place_id": [1, 2, 3],
                "x_km": [0.0, 1.0, 2.0],
                "y_km": [0.0] * 3,
                "kind": ["home", "home", "clinic"],
                "sensitive": [False, False, True],
                "name": ["1 Elm St", "2 Elm St", "Kind Clinic"],
            }
        ),
        "posts": pd.DataFrame(
            {
                "name": ["Bo", "Bo"],
                "time": pd.to_datetime(["2026-03-02 23:10", "2026-03-04 15:05"]),
                "x_km": [1.0, 2.0],
                "y_km": [0.0, 0.0],
            }
        ),
    }
