"""The sensitive place a device visited most: the place its one-week map stars.

:func:`top_sensitive_place` ranks a device's visits to sensitive places (as
:func:`fewpoints.attacks.sensitive_visits` finds them) by number of visits,
then minutes spent, then name, and returns the first.
"""

from __future__ import annotations

import pandas as pd


def top_sensitive_place(visits: pd.DataFrame) -> pd.Series:
    """The sensitive place a device visited most often (then longest): ``name, kind, x_km, y_km, sum, count``."""
    by_place = visits.groupby(["name", "kind", "x_km", "y_km"], as_index=False)["minutes"]
    table = by_place.agg(["sum", "count"])
    return table.sort_values(["count", "sum", "name"], ascending=[False, False, True]).iloc[0]
