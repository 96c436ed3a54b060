"""Clusters of antennas: connected groups of the antenna network."""

from __future__ import annotations

import numpy as np
import pytest

from fewpoints.attacks.population import antenna_network, grow_clusters
from fewpoints.schema import FewpointsError
from tests.builders import NO_EDGES, line


def test_model_clusters_are_connected_groups():
    net = antenna_network(line(30), k=2)
    clusters = grow_clusters(net, 500, 5, np.random.default_rng(0))
    assert clusters.shape == (500, 5)
    for row in clusters[:50]:
        s = np.sort(row)
        assert np.unique(s).size == 5 and s[-1] - s[0] <= 8  # on a line, reach at most 2 a step
    with pytest.raises(FewpointsError, match="connected group"):
        grow_clusters(NO_EDGES, 3, 2, np.random.default_rng(0))
