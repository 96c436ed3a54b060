"""Memory: what is free now, and whether tables of so many rows would fit in it.

:func:`available_memory` reads the bytes free to this process;
:func:`check_fits` refuses, in one line naming the Dask engine, to read
whole tables that would not fit.
"""

from __future__ import annotations

import os

from fewpoints.schema import InputError

#: Bytes a row of each table takes once read into pandas (to refuse what would not fit).
_ROW_BYTES = {"traces": 45, "stays": 24, "people": 200, "directory": 150, "posts": 120}


def available_memory() -> int | None:
    """Bytes of memory available to this process now (None where it cannot be read)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(rows: dict[str, int], where: str) -> None:
    """Refuse to read tables of ``rows`` (kind -> rows) that would not fit in the free memory."""
    need = sum(_ROW_BYTES.get(kind, 100) * n for kind, n in rows.items())
    have = available_memory()
    if have is not None and need > have:
        records = rows.get("traces", 0)
        raise InputError(
            f"{where}: reading it whole needs about {need / 1e9:.1f} GB of memory "
            f"({records:,} trace records) but only {have / 1e9:.1f} GB is free; "
            "use the Dask engine (fewpoints unicity PATH --engine dask, or "
            "dask.dataframe.read_parquet on its traces folder)"
        )
