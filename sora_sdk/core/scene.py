"""What the service understands about a space: the output side, as plain data.

Arrays are in the world frame, metres. Every element carries the scene version at which it
last changed, so subscribers can apply deltas idempotently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from .geometry import Pose

__all__ = [
    "Anchor",
    "BlockKey",
    "MeshChunk",
    "NAMED_COLORS",
    "Plane",
    "PlaneLabel",
    "RaycastHit",
    "Relation",
    "SceneObject",
    "StreamPosition",
]

#: Index of a TSDF block (integer block coordinates, block edge = voxel_size_m * block_resolution).
BlockKey = tuple[int, int, int]


@dataclass(frozen=True, order=True)
class StreamPosition:
    """Where a subscriber is in a versioned stream.

    ``epoch`` changes when the history restarts (server restart, map load); ``sequence`` counts
    versions within an epoch. A subscriber resumes by sending the last position it applied.
    """

    epoch: int
    sequence: int


@dataclass(frozen=True, eq=False)
class MeshChunk:
    """The surface inside one TSDF block.

    vertices : (n, 3) float32 world metres; normals : (n, 3) float32 unit;
    colors : (n, 3) uint8 RGB; triangles : (m, 3) int32 indices into vertices (counter-clockwise
    seen from outside the surface).
    """

    key: BlockKey
    version: int
    origin_world_m: np.ndarray  # (3,) float64: the block's minimum corner
    size_m: float  # block edge length
    vertices: np.ndarray
    normals: np.ndarray
    colors: np.ndarray
    triangles: np.ndarray

    @property
    def vertex_count(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def triangle_count(self) -> int:
        return int(self.triangles.shape[0])

    def center_world_m(self) -> np.ndarray:
        return np.asarray(self.origin_world_m, dtype=np.float64) + 0.5 * self.size_m


class PlaneLabel(StrEnum):
    """AR Foundation's PlaneClassification, plus OTHER for a plane that is none of these."""

    FLOOR = "floor"
    CEILING = "ceiling"
    WALL = "wall"
    TABLE = "table"
    SEAT = "seat"
    DOOR = "door"
    WINDOW = "window"
    OTHER = "other"


@dataclass(frozen=True, eq=False)
class Plane:
    """A planar surface. The plane frame's +Z is the normal; x/y span the plane.

    boundary_plane_m : (k, 2) float32 polygon in plane coordinates (counter-clockwise).
    """

    plane_id: str
    version: int
    label: PlaneLabel
    pose_world_plane: Pose
    extent_m: tuple[float, float]
    boundary_plane_m: np.ndarray
    area_m2: float

    @property
    def normal_world(self) -> np.ndarray:
        return self.pose_world_plane.rotation[:, 2]


@dataclass(frozen=True)
class Anchor:
    anchor_id: str
    version: int
    pose_world_anchor: Pose
    label: str = ""
    created_time_s: float = 0.0
    attached_to_id: str = ""


@dataclass(frozen=True, eq=False)
class SceneObject:
    """A persistent 3D object track with an oriented box (box frame centred, axes = box axes)."""

    object_id: str
    version: int
    label: str
    label_confidence: float
    state: str  # "tentative" | "confirmed" | "lost" | "removed"
    pose_world_box: Pose
    size_m: np.ndarray  # (3,) box edge lengths
    color_rgb: tuple[int, int, int] = (0, 0, 0)
    color_name: str = ""
    support_plane_id: str = ""
    first_seen_s: float = 0.0
    last_seen_s: float = 0.0
    observation_count: int = 0
    label_scores: dict[str, float] = field(default_factory=dict)

    @property
    def centroid_world_m(self) -> np.ndarray:
        return self.pose_world_box.translation


@dataclass(frozen=True)
class Relation:
    """``subject_id <predicate> object_id``; predicate is one of the proto RelationType names in lower case."""

    subject_id: str
    predicate: str
    object_id: str
    confidence: float = 1.0


@dataclass(frozen=True, eq=False)
class RaycastHit:
    point_world_m: np.ndarray
    normal_world: np.ndarray
    distance_m: float
    target: str  # "mesh" | "plane" | "object"
    chunk_key: BlockKey | None = None
    plane_id: str = ""
    object_id: str = ""


#: The colour names objects are described with, and a reference colour (uint8 RGB) for each: the
#: object layer names a dominant colour by them, the synthetic generator paints objects with them.
NAMED_COLORS: dict[str, tuple[int, int, int]] = {
    "red": (200, 30, 30),
    "orange": (235, 120, 20),
    "yellow": (230, 200, 30),
    "green": (40, 150, 50),
    "cyan": (30, 180, 190),
    "blue": (30, 60, 200),
    "purple": (120, 45, 160),
    "pink": (235, 120, 170),
    "brown": (110, 65, 30),
    "white": (235, 235, 235),
    "black": (30, 30, 30),
    "gray": (128, 128, 128),
}
