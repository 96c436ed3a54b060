"""The Wilson interval every unicity result reports: its defining equation, its width."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fewpoints.attacks import wilson_interval
from fewpoints.schema import FewpointsError

# ---------------------------------------------------------------------------
# Wilson interval
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (8, 10), (1, 3), (950, 1000), (5000, 10000)])
def test_wilson_interval_solves_its_defining_equation(k, n):
    # The Wilson bounds are the proportions q with |k/n - q| = z sqrt(q (1 - q) / n).
    z = 1.959963984540054
    lo, hi = wilson_interval(k, n)
    for q in (lo, hi):
        assert abs(k / n - q) == pytest.approx(z * math.sqrt(q * (1 - q) / n), abs=1e-9)
    assert 0 <= lo <= k / n <= hi <= 1
    # The roots of the quadratic, found independently with numpy.
    phat = k / n
    roots = np.sort(np.roots([1 + z * z / n, -(2 * phat + z * z / n), phat * phat]).real)
    assert (lo, hi) == pytest.approx(tuple(roots), abs=1e-7)


def test_wilson_interval_is_narrower_with_more_targets_and_wider_with_more_confidence():
    assert np.diff(wilson_interval(50, 100)) > np.diff(wilson_interval(500, 1000))
    assert np.diff(wilson_interval(50, 100, confidence=0.99)) > np.diff(wilson_interval(50, 100))
    with pytest.raises(FewpointsError):
        wilson_interval(3, 0)
