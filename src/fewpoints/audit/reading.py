"""Reading a user's file for the audit: the reader's options, and the one line said before the work.

The reader itself is fewpoints' one reader (:func:`fewpoints.io.read_traces`,
or :func:`fewpoints.attacks.dask_engine.read_traces_dask` for the Dask
engine); this module adds the audit's check of the device IDs and the
words the report and the command line use for how the file was read.
"""

from __future__ import annotations

import pandas as pd

from fewpoints.audit.checks import check_device_ids


def _reading_words(info: dict) -> dict:
    """How a file was read, in the words the report and the one line before the work use."""
    tz = info.get("timezone", "UTC")
    words = {
        "columns": info.get("columns_words", ""),
        "time": info.get("time", ""),
        "timezone": tz
        if str(tz).upper() != "UTC"
        else "UTC (the default: give the file's local zone with --timezone)",
    }
    proj = info.get("projection")
    if proj is not None:
        words["projection"] = proj.describe()
        words["projector"] = proj
    return words


def read_for_audit(path, *, columns=None, timezone="UTC", time_unit=None, dayfirst=None):
    """The file as a traces table (:func:`fewpoints.io.read_traces`), and how it was read."""
    from fewpoints.io import read_traces

    info: dict = {}
    traces = read_traces(
        path, columns=columns, timezone=timezone, time_unit=time_unit, dayfirst=dayfirst, info=info
    )
    check_device_ids(traces, source=str(path), column=info["columns"]["device_id"])
    return traces, _reading_words(info)


def reading_line(path, traces, reading: dict) -> str:
    """The one line said before the work starts: what was recognised, and what was read."""
    tz = str(reading.get("timezone", "UTC")).split(" ")[0]
    parts = [
        f"read {path}: {reading.get('columns', '')}",
        f"times {reading.get('time', '')}, local time {tz}",
    ]
    proj = reading.get("projector")
    if proj is not None:
        ns, ew = ("N" if proj.lat0 >= 0 else "S"), ("E" if proj.lon0 >= 0 else "W")
        parts.append(
            f"degrees to km by an equal-area projection centred at {abs(proj.lat0):.0f}°{ns} "
            f"{abs(proj.lon0):.0f}°{ew}"
        )
    if isinstance(traces, pd.DataFrame):
        t = traces["time"]
        parts.append(
            f"{len(traces):,} records, {traces['device_id'].nunique():,} devices, "
            f"{t.min()} to {t.max()}"
        )
    else:  # a Dask table: counted as the work goes
        parts.append(f"{traces.npartitions:,} partitions (Dask engine)")
    return "; ".join(parts)


def read_for_audit_dask(path, *, columns=None, timezone="UTC", time_unit=None, dayfirst=None):
    """A Parquet file or folder as a lazy Dask table for :func:`audit_dask`, and how it is read.

    Read by the reader's rules (:func:`fewpoints.attacks.dask_engine.read_traces_dask`):
    the same column names, one time rule and one projection for the whole dataset.
    """
    from fewpoints.scale import read_traces_dask

    info: dict = {}
    ddf = read_traces_dask(
        path, columns=columns, timezone=timezone, time_unit=time_unit, dayfirst=dayfirst, info=info
    )
    return ddf, _reading_words(info)
