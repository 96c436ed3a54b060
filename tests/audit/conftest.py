"""The audit tests draw under Agg and share the audits of the tiny world's traces.

``tiny_audits`` (one audit per observation model) is made once for the folder: the tests
only read it.
"""

from __future__ import annotations

import matplotlib
import pytest

from fewpoints import audit as A

matplotlib.use("Agg")


@pytest.fixture(scope="package")
def tiny_audits(tiny_world):
    sizes = A.AuditSizes(n_targets=300, population_targets=200)
    return {
        m: A.audit(tr, source=f"tiny-{m}.csv", places=tiny_world.places, sizes=sizes, rng=4)
        for m, tr in tiny_world.observations.items()
    }
