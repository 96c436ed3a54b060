"""A world's traces in the form data brokers ship them (advertising IDs, lat/lon, Unix times).

:func:`broker_form` writes a synthetic traces table as a broker's file, so
that tests and benchmarks can audit it and compare the report with the
package's API on the original table (the round trip of issue 19).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.io import Projection
from fewpoints.schema import FewpointsError

#: Where :func:`broker_form` places a synthetic city by default: near Phoenix, Arizona, whose
#: time zone keeps one UTC offset all year (so Unix times and local times map one to one).
BROKER_ORIGIN = (33.0, -112.0)


BROKER_TIMEZONE = "America/Phoenix"


_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _advertising_ids(n: int, rng) -> pd.Index:
    """``n`` distinct random advertising IDs (IDFA-style UUIDs, upper case), sorted, vectorised."""
    from fewpoints.common import ascii_index

    ids = np.empty((0, 36), dtype=np.uint8)
    while len(ids) < n:
        nib = rng.integers(0, 16, size=(n - len(ids), 32), dtype=np.uint8)
        nib[:, 12] = 4  # version 4
        nib[:, 16] = 8 | (nib[:, 16] & 3)  # RFC 4122 variant
        text = np.empty((len(nib), 36), dtype=np.uint8)
        cols = [c for c in range(36) if c not in (8, 13, 18, 23)]
        text[:, cols] = _HEX[nib]
        text[:, [8, 13, 18, 23]] = ord("-")
        ids = np.concatenate([ids, text])
        keys = np.unique(ids.view("S36").ravel())
        ids = keys.view(np.uint8).reshape(-1, 36)
    return ascii_index(np.ascontiguousarray(ids).reshape(-1), width=36)


def broker_form(
    traces: pd.DataFrame,
    *,
    origin: tuple[float, float] | None = None,
    timezone: str = BROKER_TIMEZONE,
    accuracy_m: float = 1000.0,
    rng=None,
) -> pd.DataFrame:
    """A traces table as a data broker ships it: advertising IDs, lat/lon, Unix times, accuracy.

    The synthetic city's kilometres are placed on the Earth by the inverse of
    the projection the audit reads degrees with (:class:`Projection`), around
    ``origin``; its local times are taken as wall-clock times in
    ``timezone`` and written as Unix seconds (UTC). Device IDs become random
    advertising IDs whose sort order is the devices' own, so every attack
    draws the same devices from either table: audited with ``--timezone
    timezone``, the file gives the numbers the API gives on ``traces``.

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table (synthetic).
    origin : (lat, lon), optional
        Where the city's frame origin goes (default :data:`BROKER_ORIGIN`),
        rounded to the whole degree, as the audit's projection centre is (the
        file's median fix to the degree), so that the audit reads back the
        city's own kilometres.
    timezone : str, default "America/Phoenix"
        The zone of the city's clock (one without daylight saving time keeps
        every local time; elsewhere the skipped hour of spring cannot exist).
    accuracy_m : float, default 1000
        The horizontal accuracy written for records without one (call records
        are located at an antenna; brokers that resell them state its range).
    rng : int, Generator or None
        For the advertising IDs.

    Returns
    -------
    DataFrame
        ``advertiser_id, timestamp, latitude, longitude, horizontal_accuracy``,
        one row per record, in the order of ``traces``.
    """
    from fewpoints.common import device_codes

    rng = np.random.default_rng(rng)
    codes, labels = device_codes(traces["device_id"])
    ids = _advertising_ids(len(labels), rng)
    x = traces["x_km"].to_numpy(dtype=np.float64)
    y = traces["y_km"].to_numpy(dtype=np.float64)
    lat0, lon0 = BROKER_ORIGIN if origin is None else origin
    proj = Projection(float(round(lat0)), float(round(lon0)))
    lat, lon = proj.inverse(x, y)
    if Projection.for_data(lat, lon) != proj:
        raise FewpointsError(
            "the city's median fix is more than half a degree from its frame's origin; the "
            "audit would read it in another frame"
        )
    local = pd.DatetimeIndex(traces["time"].to_numpy())
    unix = (
        local.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        .tz_convert("UTC")
        .tz_localize(None)
        .to_numpy()
        .astype("datetime64[s]")
    )
    if np.isnat(unix).any():
        raise FewpointsError(
            f"{int(np.isnat(unix).sum()):,} local time(s) do not exist or repeat in {timezone} "
            "(daylight saving time); choose a zone without it, such as America/Phoenix"
        )
    acc = (
        traces["accuracy_m"].to_numpy(dtype=np.float64)
        if "accuracy_m" in traces.columns
        else np.full(len(traces), float(accuracy_m))
    )
    return pd.DataFrame(
        {
            "advertiser_id": ids.take(codes),
            "timestamp": unix.view(np.int64),
            "latitude": lat,
            "longitude": lon,
            "horizontal_accuracy": acc,
        }
    )
