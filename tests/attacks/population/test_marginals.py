"""Marginals fitted from a table: by hand, and the same on the Dask engine."""

from __future__ import annotations

import numpy as np
import pytest

from fewpoints.attacks.population import fit_marginals
from tests.builders import traces


def test_marginals_from_a_table_by_hand():
    # ana: 3 points at A, 1 at B; ben: 2 at C. Hours 0, 1, 2 of day 0 and hour 0 of day 1.
    t = traces(
        {"ana": [(0.0, 0), (0.0, 1), (0.0, 2), (1.0, 24)], "ben": [(5.0, 0), (5.0, 0), (5.0, 2)]}
    )
    m = fit_marginals(t, top=3)
    np.testing.assert_allclose(m.activity, [0, 0, 0.5, 0, 0.5])  # 4 points and 2 points
    np.testing.assert_allclose(m.frequency, [(0.75 + 1.0) / 2, 0.25 / 2, 0.0] / np.float64(1.0))
    assert m.n_hours == 25 and m.circadian[0] == pytest.approx(2 / 6)
    assert m.circadian[24] == pytest.approx(1 / 6) and m.circadian[3:24].sum() == 0


def test_marginals_on_the_dask_engine_match(tmp_path, region):
    pytest.importorskip("dask")
    import dask
    import dask.dataframe as dd

    t = region.traces
    ids = np.sort(t["device_id"].astype(str).unique())
    parts = [t[t["device_id"].astype(str).isin(g)] for g in np.array_split(ids, 3)]
    ddf = dd.from_delayed([dask.delayed(p) for p in parts], meta=t.iloc[:0])
    a, b = fit_marginals(t), fit_marginals(ddf)
    for name in ("activity", "frequency", "circadian"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name))
    assert a.n_people == b.n_people == len(ids)
