"""Sensitive places: a public map of places read, and the devices that show visits near them.

:func:`read_places` reads a places file into the traces' frame (kinds such
as health, worship, legal aid, shelter are sensitive, :data:`SENSITIVE_KINDS`);
:func:`sensitive_exposure` counts devices by kind of place, never naming them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.audit.result import GPS_KM
from fewpoints.schema import InputError

#: Kinds of place whose visits reveal health, religion, legal trouble or hardship
#: (a places file without a ``sensitive`` column is read by its ``kind``).
SENSITIVE_KINDS = frozenset(
    {
        "health",
        "clinic",
        "hospital",
        "doctors",
        "doctor",
        "dentist",
        "pharmacy",
        "abortion",
        "family_planning",
        "mental_health",
        "addiction",
        "worship",
        "place_of_worship",
        "church",
        "mosque",
        "synagogue",
        "temple",
        "legal_aid",
        "lawyer",
        "court",
        "immigration",
        "shelter",
        "social_facility",
        "homeless_shelter",
        "refugee",
    }
)


def read_places(path, *, projection=None) -> pd.DataFrame:
    """A public map of places (CSV or Parquet) as a ``places`` table in the traces' frame.

    Columns: ``kind`` and either ``x_km, y_km`` or ``lat, lon`` (also
    ``latitude``/``longitude``), projected like the traces (``projection``);
    ``name`` and ``place_id`` are optional, and so is ``sensitive``
    (true/false): without it, a place is sensitive when its kind is one of
    :data:`SENSITIVE_KINDS` (health, worship, legal aid, shelter, ...).
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such places file")
    try:
        if path.name.lower().endswith(".parquet"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable places file ({exc})".splitlines()[0]) from None
    df.columns = [str(c).strip() for c in df.columns]
    lower = {c.lower(): c for c in df.columns}
    if "kind" not in lower:
        hint = next((lower[c] for c in ("amenity", "type", "category") if c in lower), None)
        if hint is None:
            raise InputError(f"{path}: places need a kind column (health, worship, legal_aid, ...)")
        lower["kind"] = hint
    out = pd.DataFrame({"kind": df[lower["kind"]].astype(str).str.strip().str.lower()})

    def number(col):
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(v).all():
            i = int(np.argmax(~np.isfinite(v)))
            raise InputError(f"{path}: column {col} must be numeric (found {df[col].iloc[i]!r})")
        return v

    if "x_km" in lower and "y_km" in lower:
        out["x_km"], out["y_km"] = number(lower["x_km"]), number(lower["y_km"])
    else:
        lat = next((lower[c] for c in ("lat", "latitude") if c in lower), None)
        lon = next((lower[c] for c in ("lon", "lng", "longitude") if c in lower), None)
        if lat is None or lon is None:
            raise InputError(f"{path}: places need x_km,y_km or lat,lon columns")
        if projection is None:
            raise InputError(
                f"{path}: places in degrees need the traces in degrees too (to share a projection)"
            )
        out["x_km"], out["y_km"] = projection.forward(number(lat), number(lon))
    out["name"] = df[lower["name"]].astype(str) if "name" in lower else out["kind"]
    out["place_id"] = (
        pd.to_numeric(df[lower["place_id"]], errors="coerce").fillna(-1).astype(np.int64)
        if "place_id" in lower
        else np.arange(len(df), dtype=np.int64)
    )
    if "sensitive" in lower:
        s = df[lower["sensitive"]].astype(str).str.strip().str.lower()
        out["sensitive"] = s.isin(["true", "1", "yes"])
    else:
        out["sensitive"] = out["kind"].isin(SENSITIVE_KINDS)
    out = out[["place_id", "x_km", "y_km", "kind", "sensitive", "name"]]
    if not out["sensitive"].any():
        raise InputError(
            f"{path}: no sensitive place in it (kinds such as health, worship, legal_aid, "
            "shelter, or a sensitive column of true/false)"
        )
    return out


def sensitive_exposure(traces: pd.DataFrame, places: pd.DataFrame, *, gps: bool) -> pd.DataFrame:
    """How many devices show visits near sensitive places, by kind of place (never which devices).

    Parameters
    ----------
    traces : DataFrame
    places : DataFrame
        A public ``places`` table; its ``sensitive`` rows are searched.
    gps : bool
        Fixes located by GPS: a visit is a fix within 50 m of the place (with
        an accuracy of 50 m or better when the file states it). Otherwise the
        locations are antennas or cells: a visit is a record at the location
        nearest the place (weak evidence: everyone served there shows up).

    Returns
    -------
    DataFrame
        ``kind, n_devices, share, n_visits, n_places`` (one row per kind with
        a visit, then ``"any sensitive place"``), shares of all devices.
    """
    from fewpoints.attacks import sensitive_visits

    if gps and "accuracy_m" not in traces.columns:
        traces = traces.assign(accuracy_m=0.0)  # no stated accuracy: each fix taken as given
    elif not gps and "accuracy_m" in traces.columns:
        traces = traces.drop(columns="accuracy_m")
    visits = sensitive_visits(traces, places, radius_km=GPS_KM)
    return sensitive_table(visits, places, traces["device_id"].nunique())


def sensitive_table(visits: pd.DataFrame, places: pd.DataFrame, n_all: int) -> pd.DataFrame:
    """Devices, visits and places visited per kind of sensitive place (and for any kind)."""
    rows = []
    for kind, g in visits.groupby("kind", sort=True):
        rows.append(
            {
                "kind": kind,
                "n_devices": int(g["device_id"].nunique()),
                "n_visits": int(len(g)),
                "n_places": int(g["place_id"].nunique()),
            }
        )
    rows.sort(key=lambda r: -r["n_devices"])
    rows.append(
        {
            "kind": "any sensitive place",
            "n_devices": int(visits["device_id"].nunique()),
            "n_visits": int(len(visits)),
            "n_places": int(visits["place_id"].nunique()),
        }
    )
    out = pd.DataFrame(rows)
    out["share"] = out["n_devices"] / n_all
    out["n_sensitive_places"] = int(places["sensitive"].sum())
    return out[["kind", "n_devices", "share", "n_visits", "n_places", "n_sensitive_places"]]
