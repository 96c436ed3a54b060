"""The synthetic world: city -> people -> stays -> observed traces.

``make_world`` builds all of it from a preset and a seed; the modules follow
the pipeline (``city``, ``population``, ``mobility``, ``observe``) and
``world`` ties them together. ``write_world_chunked`` makes a world larger
than memory, chunk by chunk, straight to a partitioned Parquet dataset.
"""

from fewpoints.synth.chunked import write_world_chunked
from fewpoints.synth.world import (
    PRESETS,
    World,
    WorldParams,
    estimate_memory,
    make_world,
    read_world,
)

__all__ = [
    "PRESETS",
    "World",
    "WorldParams",
    "estimate_memory",
    "make_world",
    "read_world",
    "write_world_chunked",
]
