"""Mapping: TSDF fusion, incremental mesh chunks and geometric queries.

:class:`Mapper` is the facade a session uses; :class:`TsdfVolume` (the data) and
:class:`BlockMesher` (the worker) are exported for tools and tests.
"""

from __future__ import annotations

from ._mapper import IntegrateResult, Mapper, MeshUpdate, PoseSource
from ._mesher import BlockMesher, blocks_to_remesh, set_mesh_thread_nice
from ._persistence import (
    MAP_FORMAT,
    load_map,
    read_map,
    remove_stale_temporaries,
    save_map,
    write_atomically,
    write_map,
)
from ._volume import BlockVoxels, TsdfVolume, resolve_device

__all__ = [
    "MAP_FORMAT",
    "load_map",
    "read_map",
    "save_map",
    "remove_stale_temporaries",
    "write_atomically",
    "write_map",
    "BlockMesher",
    "BlockVoxels",
    "IntegrateResult",
    "Mapper",
    "MeshUpdate",
    "PoseSource",
    "TsdfVolume",
    "blocks_to_remesh",
    "resolve_device",
    "set_mesh_thread_nice",
]

from ._planes import PlaneTracker, PlaneTrackerOptions, PlaneUpdate

__all__ += ["PlaneTracker", "PlaneTrackerOptions", "PlaneUpdate"]
