"""Objects: what stands on the room's surfaces, found in the fused map and tracked over time.

:class:`ObjectMapper` is the facade a session uses after each mesh and plane update: it discovers
objects class-agnostically in the mesh (:class:`ObjectDiscovery`), fuses them into persistent tracks
with stable IDs (:class:`ObjectTracker`), removes them when the map shows free space where they were,
relates them to each other, to their support planes and to the user's view, and answers label,
open-vocabulary, region and relation queries. :class:`ObjectOptions` holds every threshold.
"""

from __future__ import annotations

from ._boxes import UpBox, box_iou
from ._colors import PALETTE, color_name, dominant_color
from ._discovery import DiscoveryResult, FreeSpaceProbe, ObjectDiscovery, Observation, SeenCountProbe, up_frame
from ._mapper import ObjectMapper, ObjectsUpdate, UpdateStats
from ._options import ObjectOptions
from ._relations import PREDICATES, compute_relations, diff_relations, spatial_relations, view_relations
from ._tracker import ObjectTracker, TrackUpdate, describe
from ._types import Detection2D, Detection3D
from ._vocab import ObjectVocabulary

__all__ = [
    "PALETTE",
    "PREDICATES",
    "Detection2D",
    "Detection3D",
    "DiscoveryResult",
    "FreeSpaceProbe",
    "SeenCountProbe",
    "ObjectDiscovery",
    "ObjectMapper",
    "ObjectOptions",
    "ObjectTracker",
    "ObjectVocabulary",
    "ObjectsUpdate",
    "Observation",
    "TrackUpdate",
    "UpBox",
    "UpdateStats",
    "box_iou",
    "color_name",
    "compute_relations",
    "describe",
    "diff_relations",
    "dominant_color",
    "spatial_relations",
    "up_frame",
    "view_relations",
]
