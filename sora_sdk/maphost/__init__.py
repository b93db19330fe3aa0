"""A session's map layers (TSDF, planes, objects) and where they run: on the server's threads, or in a
map process of its own so that their Python work does not hold the serving process's GIL."""

from __future__ import annotations

from ._maps import (
    LocalMap,
    MapLostError,
    MapProcess,
    MapSpec,
    ObjectsResult,
    PlanesResult,
    RemoteMap,
    SessionMap,
    anchor_from_json,
    anchor_to_json,
    shared_map_process,
)

__all__ = [
    "LocalMap",
    "MapLostError",
    "MapProcess",
    "MapSpec",
    "ObjectsResult",
    "PlanesResult",
    "RemoteMap",
    "SessionMap",
    "anchor_from_json",
    "anchor_to_json",
    "shared_map_process",
]
