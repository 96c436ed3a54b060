"""What can be audited: a plain table is accepted, anything else refused in one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fewpoints import audit as A
from fewpoints.schema import InputError

# ---------------------------------------------------------------------------
# checks before any work
# ---------------------------------------------------------------------------


def _table(n_dev=12, **changes):
    rng = np.random.default_rng(0)
    n = n_dev * 5
    df = pd.DataFrame(
        {
            "device_id": np.repeat([f"d{i}" for i in range(n_dev)], 5),
            "time": pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "x_km": rng.random(n),
            "y_km": rng.random(n),
        }
    )
    df["time"] = df["time"].astype("datetime64[s]")
    return df.assign(**changes)


def test_check_auditable_accepts_a_plain_table():
    A.check_auditable(_table(), source="f.csv", now="2026-12-01")


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (_table(n_dev=1), ["f.csv", "device_id", "1 device", "--columns"]),
        (_table(time=pd.Timestamp("1999-12-31")), ["before 2000", "--time-unit"]),
        (_table(time=pd.Timestamp("2031-01-01")), ["in the future", "clock"]),
    ],
)
def test_check_auditable_refuses_in_one_line(table, words):
    with pytest.raises(InputError) as err:
        A.check_auditable(table, source="f.csv", now="2026-12-01")
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_check_auditable_refuses_a_file_holding_its_fixes_twice_and_drops_them_when_asked():
    twice = pd.concat([_table(), _table()], ignore_index=True)
    with pytest.raises(InputError, match="repeat another row.*--drop-duplicates"):
        A.check_auditable(twice, source="f.csv", now="2026-12-01")
    once, n = A.drop_duplicates(twice)
    assert n == len(_table()) and len(once) == len(_table())
    A.check_auditable(once, source="f.csv", now="2026-12-01")
    # a few repeats (two events in one second at one antenna) are no reason to refuse
    few = pd.concat([_table(), _table().iloc[:2]], ignore_index=True)
    A.check_auditable(few, source="f.csv", now="2026-12-01")
