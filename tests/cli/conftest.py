"""The command-line tests share one written tiny world."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def world_dir(tmp_path_factory, tiny_world):
    path = tmp_path_factory.mktemp("w") / "tiny"
    tiny_world.write(path)
    return path
