"""How the readers' and writers' one-line errors name what went wrong.

An operating-system error in plain words (:func:`why`), a value's place as a
file line or a table row (:func:`row`, :func:`first`), and a value as its
user wrote it (:func:`show`): the shared words of every message
:mod:`fewpoints.io` raises.
"""

from __future__ import annotations

import numpy as np


def why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower() if isinstance(exc, OSError) else str(exc)


def row(i: int, first_line: int | None) -> str:
    return f"line {i + first_line}" if first_line is not None else f"row {i + 1}"


def show(value) -> str:
    """A value as a user wrote it: numpy scalars as plain numbers (95.0, not np.float64(95.0))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def first(mask, values, first_line) -> tuple[str, object]:
    """(where, value) of the first True of ``mask`` (a numpy bool array)."""
    i = int(np.argmax(mask))
    return row(i, first_line), values[i]
