"""The audit's analyses through the Dask engine, partition by partition (a file larger than memory).

One pass describes the file and sums the costs of coarsening; home, work
and top places are found per device in each partition and their anonymity
sets counted on the client; the per-device risk takes the in-memory draws
and two passes; the sensitive visits are found per partition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.audit.coarsening import move_sums
from fewpoints.audit.result import GPS_KM
from fewpoints.audit.risk import risk_draws, risk_table
from fewpoints.schema import FewpointsError, InputError


def _describe_partition(df: pd.DataFrame, cells, bins, max_locations: int) -> dict:
    """Pass 0 on one partition: its times, its locations, the cost sums of every coarsening."""
    if len(df) == 0:
        return {"n": 0}
    t = df["time"].to_numpy().astype("datetime64[s]").view(np.int64)
    u = np.unique(t)
    xy = pd.DataFrame({"x": df["x_km"].to_numpy(np.float64) + 0.0,
                       "y": df["y_km"].to_numpy(np.float64) + 0.0}).drop_duplicates()  # fmt: skip
    return {
        "n": len(df),
        "t_min": int(u[0]),
        "t_max": int(u[-1]),
        "t_gcd": int(np.gcd.reduce(u - u[0])) if len(u) > 1 else 0,
        "n_locations": len(xy),
        "locations": xy if len(xy) <= max_locations else None,
        "accuracy": "accuracy_m" in df.columns,
        "sums": move_sums(df, cells, bins, mean=False),
    }


def describe_dask(ddf, cells, bins, progress) -> dict:
    """The file's time range and step, its locations, and the costs of each coarsening (one pass)."""
    from fewpoints.scale import compute_tasks as compute
    from fewpoints.scale import require_dask

    dask = require_dask()
    parts = compute(
        [dask.delayed(_describe_partition)(p, cells, bins, 2_000_000) for p in ddf.to_delayed()],
        "pass 0: describing the file",
        progress,
    )
    parts = [p for p in parts if p["n"]]
    if not parts:
        raise InputError("the traces table is empty")
    n = sum(p["n"] for p in parts)
    t0 = min(p["t_min"] for p in parts)
    step = int(np.gcd.reduce([p["t_gcd"] for p in parts] + [p["t_min"] - t0 for p in parts]))
    locs = [p["locations"] for p in parts]
    if all(v is not None for v in locs):
        locations = pd.concat(locs, ignore_index=True).drop_duplicates(ignore_index=True)
        n_loc = len(locations)
    else:
        locations, n_loc = None, sum(p["n_locations"] for p in parts)  # an upper bound
    costs = {"moved_km": {}, "shifted_minutes": {}}
    for key in costs:
        for k in parts[0]["sums"][key]:
            costs[key][k] = sum(p["sums"][key][k] for p in parts) / n
    return {
        "n_records": n,
        "first": t0,
        "last": max(p["t_max"] for p in parts),
        "time_step": max(step, 1),
        "n_locations": int(n_loc),
        "locations": locations,
        "accuracy": any(p["accuracy"] for p in parts),
        "costs": costs,
    }


def hw_partition(df: pd.DataFrame, radius, grans, ns) -> pd.DataFrame:
    """Each device's home, work and top places at every granularity, as coordinates (one partition).

    The same computation as :func:`fewpoints.attacks.anonymity_table` on the
    partition's devices (whole in it): home and work found at the finest
    level and placed in their cell; the top places ranked on the visits
    coarsened to each cell. Coordinates (cell centres, or locations as
    recorded) compare across partitions as the codes do within one table.
    """
    from fewpoints.attacks.top_locations import (
        HourlyVisits,
        home_work_codes,
        ranked_places,
        resolve_granularity,
    )

    visits = HourlyVisits.from_traces(df, cluster_km=radius)
    home, home_support, work, work_support = home_work_codes(visits)
    out = {"device_id": pd.array(visits.device_ids, dtype="string[pyarrow]")}
    out["has_home"] = home >= 0
    out["has_work"] = work >= 0
    out["home_support"], out["work_support"] = home_support, work_support
    n_dev = visits.n_devices
    for g in grans:
        label, mapping = resolve_granularity(g, visits, None, None)
        if mapping is None:
            at = visits
            unit_x, unit_y, unit = visits.loc_x, visits.loc_y, np.arange(visits.n_locations)
        else:
            unit, unit_x, unit_y = mapping
            at = visits.coarsen(unit, unit_x, unit_y, label)
        for name, code in (("home", home), ("work", work)):
            u = unit[np.maximum(code, 0)]
            out[f"{label}|{name}_x"] = np.where(code >= 0, unit_x[u], np.nan)
            out[f"{label}|{name}_y"] = np.where(code >= 0, unit_y[u], np.nan)
        pairs = at.location_hours(windows=False)
        order, rank = ranked_places(pairs, n_dev)
        out[f"{label}|n_loc"] = np.bincount(pairs.dev, minlength=n_dev)
        for k in range(max(ns)):
            sel = order[rank == k]
            x = np.full(n_dev, np.nan)
            y = np.full(n_dev, np.nan)
            x[pairs.dev[sel]] = at.loc_x[pairs.loc[sel]]
            y[pairs.dev[sel]] = at.loc_y[pairs.loc[sel]]
            out[f"{label}|top{k + 1}_x"], out[f"{label}|top{k + 1}_y"] = x, y
    return pd.DataFrame(out)


def _set_sizes(cols: list[np.ndarray]) -> np.ndarray:
    """How many rows equal each row of the columns (exact float keys)."""
    codes = [pd.factorize(c + 0.0)[0].astype(np.int64) for c in cols]
    key = pd.MultiIndex.from_arrays(codes)
    inv, uniq = pd.factorize(key)
    return np.bincount(inv)[inv]


def anonymity_rows(keys: pd.DataFrame, labels: list[str], ns) -> tuple[pd.DataFrame, dict]:
    """:func:`fewpoints.attacks.anonymity_table` rows from the per-device keys of every partition."""
    from fewpoints.attacks.result import wilson_interval
    from fewpoints.attacks.top_locations import TABLE_COLUMNS

    rows = []

    def row(measure, label, sizes):
        if len(sizes) == 0:
            nan = float("nan")
            return dict(zip(TABLE_COLUMNS, [measure, label, nan, nan, nan, nan, 0], strict=True))
        k = int((sizes == 1).sum())
        lo, hi = wilson_interval(k, len(sizes))
        return {"measure": measure, "granularity": label, "share_unique": k / len(sizes),
                "ci_low": lo, "ci_high": hi, "median_set_size": float(np.median(sizes)),
                "n_devices": int(len(sizes))}  # fmt: skip

    both = (keys["has_home"] & keys["has_work"]).to_numpy()
    for label in labels:
        for n in ns:
            ok = (keys[f"{label}|n_loc"] >= n).to_numpy()
            cols = []
            for k in range(n):
                cols += [keys[f"{label}|top{k + 1}_x"].to_numpy()[ok],
                         keys[f"{label}|top{k + 1}_y"].to_numpy()[ok]]  # fmt: skip
            rows.append(row(f"top-{n}", label, _set_sizes(cols) if ok.any() else np.empty(0)))
        cols = [keys[f"{label}|{w}_{c}"].to_numpy()[both] for w in ("home", "work") for c in "xy"]
        rows.append(row("home/work", label, _set_sizes(cols) if both.any() else np.empty(0)))
    summary = {
        "n_devices": int(len(keys)),
        "homes": int(keys["has_home"].sum()),
        "works": int(keys["has_work"].sum()),
        "both": int(both.sum()),
    }
    for w in ("home", "work"):
        has = keys[f"has_{w}"].to_numpy()
        summary[f"median_{w}_support"] = (
            float(np.median(keys[f"{w}_support"].to_numpy()[has])) if has.any() else None
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS), summary


def dask_risk(ddf, counts, max_points: int, n_targets: int, rng, progress) -> pd.DataFrame:
    """:func:`per_device_risk` by the Dask engine: the same draws, two passes over the data.

    Pass 2 fetches every sampled device's revealed points; pass 3 broadcasts,
    for each device and each number p of points revealed, its first p points,
    and counts the devices holding all of them (the engine's broadcast join).
    """
    from fewpoints.scale import (
        FETCH_META,
        MATCH_META,
        compute_tasks,
        fetch_partition,
        match_frame,
        per_partition,
        require_dask,
    )

    dask = require_dask()
    P = int(max_points)
    targets, m, ranks = risk_draws(counts.points_per_device(), P, n_targets, rng)
    n = len(targets)
    want = pd.DataFrame({"device_id": pd.Series(np.repeat(counts.ids(targets), P), dtype=str),
                         "rank": ranks.ravel()})  # fmt: skip
    want["request"] = np.arange(len(want), dtype=np.int64)
    got = compute_tasks(
        per_partition(ddf, fetch_partition, dask.delayed(want, pure=True), meta=FETCH_META),
        "per-device risk: revealed points",
        progress,
    )
    got = pd.concat(got, ignore_index=True).sort_values("request")
    if len(got) != len(want):
        raise FewpointsError(
            "the traces changed while they were read (a device's points are missing)"
        )
    x = got["x"].to_numpy().reshape(n, P)
    y = got["y"].to_numpy().reshape(n, P)
    t = got["t"].to_numpy().reshape(n, P)
    # One group per (device, p) with m >= p: its first p points.
    rows_of, p_of, occ_group, occ_x, occ_y, occ_t = [], [], [], [], [], []
    g0 = 0
    for p in range(1, P + 1):
        rows = np.flatnonzero(m >= p)
        rows_of.append(rows)
        p_of.append(np.full(len(rows), p))
        occ_group.append(np.repeat(np.arange(g0, g0 + len(rows)), p))
        occ_x.append(x[rows, :p].ravel())
        occ_y.append(y[rows, :p].ravel())
        occ_t.append(t[rows, :p].ravel())
        g0 += len(rows)
    rows_of, p_of = np.concatenate(rows_of), np.concatenate(p_of)
    owner = np.concatenate(occ_group)
    pts = pd.DataFrame({"x": np.concatenate(occ_x), "y": np.concatenate(occ_y),
                        "t": np.concatenate(occ_t)})  # fmt: skip
    pid, uniq = pd.factorize(pd.MultiIndex.from_frame(pts))
    order = np.argsort(pid, kind="stable")
    offsets = np.zeros(len(uniq) + 1, dtype=np.int64)
    np.cumsum(np.bincount(pid, minlength=len(uniq)), out=offsets[1:])
    known = {
        "x": uniq.get_level_values(0).to_numpy(dtype=np.float64),
        "y": uniq.get_level_values(1).to_numpy(dtype=np.float64),
        "t": uniq.get_level_values(2).to_numpy(dtype=np.int64),
        "offsets": offsets,
        "targets": owner[order].astype(np.int64),
        "need": p_of.astype(np.int64),
    }
    hits = compute_tasks(
        per_partition(ddf, match_frame, dask.delayed(known, pure=True), meta=MATCH_META),
        "per-device risk: matching",
        progress,
    )
    hits = pd.concat(hits, ignore_index=True) if hits else MATCH_META
    sizes = np.bincount(hits["target"].to_numpy(), weights=hits["holders"].to_numpy(),
                        minlength=g0).astype(np.int64)  # fmt: skip
    first = np.zeros(n, dtype=np.int64)
    for p in range(1, P + 1):  # the fewest p: groups in order of p
        sel = (p_of == p) & (sizes == 1)
        rows = rows_of[sel]
        first[rows[first[rows] == 0]] = p
    return risk_table(first, m, P)


def sensitive_partition(df: pd.DataFrame, places: pd.DataFrame, antennas, gps: bool):
    from fewpoints.attacks import sensitive_visits

    if len(df) == 0:
        return pd.DataFrame({"kind": [], "device_id": [], "place_id": []})
    if gps and "accuracy_m" not in df.columns:
        df = df.assign(accuracy_m=0.0)
    elif not gps and "accuracy_m" in df.columns:
        df = df.drop(columns="accuracy_m")
    v = sensitive_visits(df.assign(device_id=df["device_id"].astype(str)), places,
                         radius_km=GPS_KM, antennas=antennas)  # fmt: skip
    return v[["kind", "device_id", "place_id"]]
