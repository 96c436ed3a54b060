"""The checks before any work: a table (or its ID column) no audit can rightly measure is refused.

Each refusal is one line naming the column and the fix: too few devices,
times before 2000 or in the future, fixes repeated, device IDs of mixed
kinds or saved as decimals. :func:`drop_duplicates` counts a repeated fix once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fewpoints.audit.result import MIN_DEVICES
from fewpoints.schema import InputError

#: Largest share of rows that may repeat another exactly (two events in one second at one
#: antenna happen; a file that holds its fixes twice is refused).
MAX_REPEATS = 0.05


def _refuse_times(source: str, t: np.ndarray, bad: np.ndarray, what: str, advice: str) -> None:
    """Raise when any time is ``bad``, counting them and naming the first, with ``advice``."""
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{source}: column time has {int(bad.sum()):,} time(s) {what} (first "
            f"{pd.Timestamp(t[i])} on row {i + 1}); {advice}"
        )


def check_auditable(traces: pd.DataFrame, *, source: str = "the file", now=None) -> None:
    """Refuse, in one line naming the column and the fix, a table no audit can rightly measure.

    Checked: enough devices (:data:`MIN_DEVICES`); times after 2000 and not
    in the future (a wrong unit or clock); at most :data:`MAX_REPEATS` of the
    rows repeating another exactly (a file concatenated twice, or joined
    with another table on export, is not the release it claims to be).

    Parameters
    ----------
    traces : DataFrame
        A ``traces`` table as read (``device_id, time, x_km, y_km``).
    source : str
        How to name the file in messages.
    now : datetime-like, optional
        The present (default: the machine's clock), for times in the future.

    Raises
    ------
    InputError
    """
    devices = traces["device_id"]
    n_dev = devices.nunique()
    if n_dev < MIN_DEVICES:
        raise InputError(
            f"{source}: column device_id holds {n_dev:,} device(s); an audit measures how "
            f"devices hide among others and needs at least {MIN_DEVICES}: give the whole "
            "file, or map the ID column with --columns device_id=COLUMN"
        )
    t = traces["time"].to_numpy().astype("datetime64[s]")
    low = np.datetime64("2000-01-01T00:00:00", "s")
    now = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    high = np.datetime64((now + pd.Timedelta(days=1)).floor("s").to_datetime64(), "s")
    _refuse_times(
        source,
        t,
        t < low,
        "before 2000",
        "phone location data are younger: check the unit of Unix times (--time-unit s or ms) "
        "or the column mapped to time",
    )
    _refuse_times(
        source,
        t,
        t > high,
        "in the future",
        "check the unit of Unix times (--time-unit s or ms), the day/month order, or the "
        "clock that wrote them",
    )
    keys = pd.DataFrame(
        {
            "d": pd.factorize(devices)[0],
            "t": t.view(np.int64),
            "x": traces["x_km"].to_numpy(dtype=np.float64),
            "y": traces["y_km"].to_numpy(dtype=np.float64),
        }
    )
    dup = keys.duplicated().to_numpy()
    if dup.mean() > MAX_REPEATS:
        i = int(np.argmax(dup))
        raise InputError(
            f"{source}: {int(dup.sum()):,} row(s) ({dup.mean():.0%}) repeat another row's "
            f"device, time and place exactly (first on row {i + 1}); the file may hold the "
            "same fixes twice: remove the repeats, or pass --drop-duplicates to count each "
            "fix once"
        )


def drop_duplicates(traces: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The table with each (device, time, place) once; and how many repeats were dropped."""
    dup = traces.duplicated(subset=["device_id", "time", "x_km", "y_km"])
    n = int(dup.sum())
    return (traces.loc[~dup.to_numpy()].reset_index(drop=True) if n else traces), n


_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"


def check_device_ids(traces: pd.DataFrame, *, source: str, column: str = "device_id") -> None:
    """Refuse a column of device IDs that mixes kinds of ID (advertising IDs and others).

    A column where some IDs are advertising IDs (UUIDs) and others are not
    (numbers, names), or where whole numbers are written as decimals
    (``12.0``, as spreadsheets save them), is not one pseudonym per device.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pd.unique(traces["device_id"].astype(str))
    arr = pa.array(ids, type=pa.string())
    uuid = pc.match_substring_regex(arr, _UUID).to_numpy(zero_copy_only=False)
    if uuid.any() and not uuid.all():
        other = ids[np.argmax(~uuid)]
        first = ids[np.argmax(uuid)]
        raise InputError(
            f"{source}: column {column} mixes advertising IDs ({first!r}) with other IDs "
            f"({other!r}); one device should have one kind of ID: map the right column with "
            f"--columns device_id=COLUMN, or keep the rows of one kind"
        )
    decimal = pc.match_substring_regex(arr, r"^[+-]?\d+\.0+$").to_numpy(zero_copy_only=False)
    if decimal.any():
        raise InputError(
            f"{source}: column {column} holds whole numbers written as decimals ({ids[np.argmax(decimal)]!r}); "
            "the file was probably saved by a spreadsheet, which may also have rounded long IDs: "
            "export the IDs as text"
        )
