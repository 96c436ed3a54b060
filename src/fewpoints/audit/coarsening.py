"""The coarsening table: which square size and time slot bring unicity under :data:`FEW`, at what cost.

The cost of each coarsening (how far records move, on average), the least
coarsening under the threshold and its alternatives, the words that name a
setting, and :func:`coarsening_table` as the report prints it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints import figures as F
from fewpoints.audit.result import FEW, Audit


def cheapest_release(sweep_table: pd.DataFrame, costs: dict, p: int):
    """The least coarsening whose 95% interval lies under FEW (with its cost), and the coarsest tried.

    Coarsenings are ordered by how much a released point still says: the
    area of its square times the hours of its slot (km² h), then by the
    square. "The least" is the first under :data:`FEW`; the other settings
    under it that are not coarser in both space and time than another are
    named as alternatives.
    """
    t = sweep_table[sweep_table["n_points"] == p].copy()
    t["cell_sort"] = t["cell_km"].fillna(0.0)
    t["volume"] = t["cell_sort"] ** 2 * t["h"]
    t = t.sort_values(["volume", "cell_sort", "h"], kind="stable")
    coarsest = _setting(t.iloc[-1], costs)
    ok = t[(t["ci_high"] < FEW) & ~(t["cell_km"].isna() & t["time_bin"].isna())]
    if ok.empty:
        return None, coarsest
    frontier = [
        release_words(None if r.cell_sort == 0 else r.cell_sort, _bin(r.time_bin))
        for r in ok.itertuples()
        if not (
            ((ok["cell_sort"] <= r.cell_sort) & (ok["h"] <= r.h))
            & ((ok["cell_sort"] < r.cell_sort) | (ok["h"] < r.h))
        ).any()
    ]
    out = _setting(ok.iloc[0], costs)
    out["alternatives"] = [w for w in frontier if w != out["words"]]
    return out, coarsest


def _bin(value) -> str | None:
    return value if isinstance(value, str) else None


def _setting(row, costs: dict) -> dict:
    """A row of the coarsening table as a release: its unicity and what it costs in precision."""
    cell = None if pd.isna(row["cell_km"]) else float(row["cell_km"])
    tb = _bin(row["time_bin"])
    return {
        "cell_km": cell,
        "time_bin": tb,
        "hours": float(row["h"]),
        "unicity": float(row["unicity"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "n_targets": int(row["n_targets"]),
        "moved_km": float(costs["moved_km"][0.0 if cell is None else cell]),
        "shifted_minutes": float(costs["shifted_minutes"]["" if tb is None else tb]),
        "words": release_words(cell, tb),
    }


def _moved_km(traces: pd.DataFrame, cell: float | None) -> float:
    """Mean distance (km) a record moves when snapped to the centre of its square."""
    return move_sums(traces, [cell], [])["moved_km"][0.0 if cell is None else float(cell)]


def move_sums(traces: pd.DataFrame, cells, bins, *, mean: bool = True) -> dict:
    """Per square size the distance records move to its centre, per slot the time to its start.

    Means over the records (or, ``mean=False``, sums, to add up over a file's parts).
    """
    n = max(len(traces), 1) if mean else 1
    x = traces["x_km"].to_numpy(dtype=np.float64)
    y = traces["y_km"].to_numpy(dtype=np.float64)
    moved = {}
    for c in cells:
        if c is None:
            moved[0.0] = 0.0
            continue
        c = float(c)
        dx = x - (np.floor(x / c) + 0.5) * c
        dy = y - (np.floor(y / c) + 0.5) * c
        moved[c] = float(np.hypot(dx, dy).sum() / n)
    shifted = {}
    if bins:
        s = traces["time"].to_numpy().astype("datetime64[s]").view(np.int64)
        for b in bins:
            step = None if b is None else int(pd.Timedelta(b).total_seconds())
            shifted["" if b is None else b] = (
                0.0 if step is None else float((s % step).sum() / 60 / n)
            )
    return {"moved_km": moved, "shifted_minutes": shifted}


def release_costs(traces: pd.DataFrame, cells, bins) -> dict:
    """What each square size and time slot of the coarsening table costs, on average per record."""
    return move_sums(traces, cells, bins)


def release_words(cell, tb) -> str:
    space = "locations as recorded" if cell is None else f"{cell:g} km squares"
    slot = "times as recorded" if tb is None else f"{F.hours_label(hours(tb))} time slots"
    return f"{space} and {slot}"


def hours(tb) -> float:
    return pd.Timedelta(tb).total_seconds() / 3600.0


def coarsening_table(a: Audit) -> pd.DataFrame:
    """The coarsening table as the report prints it: every setting with its unicity and its cost."""
    t = a.sweep.table
    t = t[t["n_points"] == a.sizes.sweep_points].copy()
    out = pd.DataFrame(
        {
            "cell_km": t["cell_km"].to_numpy(),
            "time_bin": t["time_bin"].to_numpy(),
            "hours": t["h"].to_numpy(),
            "unicity": t["unicity"].to_numpy(),
            "ci_low": t["ci_low"].to_numpy(),
            "ci_high": t["ci_high"].to_numpy(),
            "n_targets": t["n_targets"].to_numpy(),
            "under_10_percent": (t["ci_high"] < FEW).to_numpy(),
        }
    )
    out["setting"] = [
        release_words(None if pd.isna(c) else c, b if isinstance(b, str) else None)
        for c, b in zip(out["cell_km"], out["time_bin"], strict=True)
    ]
    out["moved_km"] = out["cell_km"].fillna(0.0).map(a.costs["moved_km"]).astype(float)
    out["shifted_minutes"] = (
        out["time_bin"].fillna("").map(a.costs["shifted_minutes"]).astype(float)
    )
    return out
