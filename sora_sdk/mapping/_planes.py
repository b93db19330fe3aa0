"""Semantic planes, updated live from the mesh chunks.

The tracker keeps, per mesh chunk, a few planar *segments*; segments of neighbouring chunks that
lie on the same plane are joined into *planes*, which get a fit, an extent, a boundary polygon and
an AR Foundation label. An update re-segments only the chunks that changed and regroups only the
segments of the planes those chunks belonged to or touch; every other plane is left as it was.

Pipeline of one :meth:`PlaneTracker.update`
-------------------------------------------
1. Segment each changed chunk (no RANSAC: the chunks carry TSDF-gradient normals, which are smooth
   on a plane, so clustering the normals is cheaper and as good): take the most common normal
   direction (a coarse histogram), refine it as the mean of the vertex normals within
   ``normal_tolerance_deg``, split those vertices along the normal where their offsets jump by
   more than ``offset_split_m`` (a box top above a table), keep groups of at least
   ``min_segment_vertices``; repeat on the rest. A segment keeps the sufficient statistics of its
   vertices (count, sum, scatter), its mesh area and a few extreme points for the boundary.
2. Connect segments of different chunks that share a vertex: the mesher makes a vertex on a face
   shared by two chunks bit-identical in both, so shared vertices are found by exact lookup and
   two coplanar surfaces that merely sit side by side (two chair seats) are never joined. An edge
   is kept when the normals agree within ``merge_angle_deg`` and each segment's centroid lies
   within ``merge_distance_m`` of the other's plane. Planes are the connected components.
3. A plane's fit is the PCA of the summed statistics of its segments (the normal is the
   least-variance axis; its RMS thickness must stay under ``max_plane_rms_m``, which rejects
   gently curved surfaces chained together). The boundary is the convex hull
   (``scipy.spatial.ConvexHull``) of the segments' extreme points projected to the plane; the
   plane frame sits at the centre of the hull's minimum-area bounding rectangle, x along one of
   its sides (the one nearest the previous x axis, so the frame does not spin between updates).
4. IDs: each new segment inherits the plane ID of the old segment of its chunk it matches; a
   component takes the ID carrying most of its area (each ID goes to one component: when planes
   merge the larger keeps its ID, when one splits the larger part does). A plane whose mesh area
   falls below ``min_plane_area_m2`` is not published, or removed if it was.
5. Labels (AR Foundation's classes) from orientation, height above the floor and size, for every
   published plane (labels depend on the floor, so they are cheap global rules over the planes):

   - floor: facing up, within ``floor_tolerance_m`` of the lowest upward plane of at least
     ``floor_min_area_m2``
   - ceiling: facing down, at least ``ceiling_min_height_m`` above the floor
   - wall: vertical, at least ``wall_min_size_m`` wide and tall
   - seat: facing up, ``seat_height_m`` above the floor, smaller than ``seat_max_area_m2``
   - table: facing up, ``table_height_m`` above the floor, at least ``table_min_area_m2``
   - other: everything else, including upward surfaces stacked under a similar one less than
     ``stack_clearance_m`` above (shelf boards)

Without a floor yet, only walls can be told apart; everything else is ``other`` until the floor
is seen (its arrival relabels and re-sends the planes it changes).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import BlockKey, MeshChunk, Plane, PlaneLabel

__all__ = ["PlaneTracker", "PlaneTrackerOptions", "PlaneUpdate"]

# Directions (unit, in a segment's plane) along which extreme vertices are kept for the boundary.
# The hull of these points is inscribed in the segment's true hull, at most ~0.5 % of its size
# inside (1 - cos(pi / 32)), and a corner of a straight edge is always among them.
_HULL_DIRECTIONS = np.stack(
    [np.cos(np.linspace(0, 2 * np.pi, 32, endpoint=False)), np.sin(np.linspace(0, 2 * np.pi, 32, endpoint=False))]
)
# Vertex positions are matched across chunks after rounding to 1/64 voxel; shared vertices are
# bit-identical, so any rounding finer than the vertex spacing works.
_CODE_SCALE = 64.0
_CODE_BITS = 21
# Segment pairs per shared vertex looked at: a vertex on a block edge is in up to 4 chunks.
_MAX_SHARED = 4


@dataclass(frozen=True)
class PlaneTrackerOptions:
    """Segmentation, merging, support and labelling thresholds (metres, degrees, square metres)."""

    normal_tolerance_deg: float = 12.0
    """a vertex joins a chunk segment when its normal is within this angle of the segment's"""
    offset_split_m: float = 0.03
    """a chunk segment is split where its vertices' offsets along the normal jump by more than this"""
    min_segment_vertices: int = 16
    """fewer vertices than this in a chunk are not a segment"""
    max_segments_per_chunk: int = 4
    """segments looked for per chunk"""
    merge_angle_deg: float = 8.0
    """segments of neighbouring chunks join when their normals agree within this angle …"""
    merge_distance_m: float = 0.03
    """… and each centroid is within this distance of the other's plane"""
    max_plane_rms_m: float = 0.012
    """a plane's vertices must lie within this RMS distance of its fit (rejects curved surfaces)"""
    min_plane_area_m2: float = 0.04
    """planes with less supporting mesh area are not published (and removed when they drop below)"""
    horizontal_tolerance_deg: float = 10.0
    """a plane is horizontal (vertical) when its normal is within this angle of up (of level)"""
    floor_min_area_m2: float = 1.0
    """the floor is the lowest upward plane at least this large"""
    floor_tolerance_m: float = 0.1
    """upward planes this close to the floor's height are floor too"""
    ceiling_min_height_m: float = 1.8
    """downward planes at least this far above the floor are ceiling"""
    wall_min_size_m: float = 0.5
    """vertical planes at least this wide and this tall are walls"""
    table_height_m: tuple[float, float] = (0.4, 1.2)
    """tables: upward planes this high above the floor …"""
    table_min_area_m2: float = 0.15
    """… and at least this large"""
    seat_height_m: tuple[float, float] = (0.3, 0.6)
    """seats: upward planes this high above the floor …"""
    seat_area_m2: tuple[float, float] = (0.05, 0.35)
    """… with an area in this range (a larger one at seat height is a low table)"""
    stack_clearance_m: float = 0.6
    """an upward plane with a similar one (at most twice its area, covering half of it) less than
    this far above is a shelf board: ``other``, not table or seat"""


@dataclass(frozen=True, eq=False)
class PlaneUpdate:
    """What one :meth:`PlaneTracker.update` changed.

    upserted : new or changed planes (each carries this update's version)
    removed : IDs of planes no longer published
    chunks_segmented : chunks re-segmented (the changed chunks that still exist)
    segments_regrouped : segments whose grouping into planes was recomputed
    planes_refit : planes whose fit was recomputed (published or not)
    elapsed_s : wall time of the update, seconds
    """

    upserted: list[Plane] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    version: int = 0
    chunks_segmented: int = 0
    segments_regrouped: int = 0
    planes_refit: int = 0
    elapsed_s: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.upserted and not self.removed


class _Segment:
    """A planar patch of one chunk's mesh, world frame, metres.

    normal : (3,) unit mean vertex normal; count, sum_p (3,), sum_pp (3, 3): vertex statistics;
    area_m2 : mesh area of the triangles whose three vertices are in the patch;
    extremes : (k, 3) vertices extreme along the in-plane directions (for the boundary);
    codes : (b,) int64 rounded positions of its vertices on the chunk's faces (for connectivity).
    """

    __slots__ = ("area_m2", "codes", "count", "extremes", "key", "normal", "plane_id", "sum_p", "sum_pp")

    def __init__(
        self,
        key: BlockKey,
        normal: np.ndarray,
        points: np.ndarray,
        area_m2: float,
        extremes: np.ndarray,
        codes: np.ndarray,
    ) -> None:
        self.key = key
        self.normal = normal
        self.count = len(points)
        self.sum_p = points.sum(axis=0)
        self.sum_pp = points.T @ points
        self.area_m2 = area_m2
        self.extremes = extremes
        self.codes = codes
        self.plane_id: str | None = None

    @property
    def centroid(self) -> np.ndarray:
        return self.sum_p / self.count


@dataclass
class _PlaneState:
    """One plane (published or not) and the segments it is made of."""

    plane_id: str
    members: list[_Segment]
    normal: np.ndarray = field(default_factory=lambda: np.zeros(3))
    centroid: np.ndarray = field(default_factory=lambda: np.zeros(3))
    rms_m: float = 0.0
    area_m2: float = 0.0
    hull_world: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # (k, 3) boundary in the world
    pose: Pose | None = None
    extent: tuple[float, float] = (0.0, 0.0)
    boundary: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    supported: bool = False
    published: Plane | None = None


class PlaneTracker:
    """Planes from mesh chunks, updated incrementally; feed it every mesh update's changes.

    Not thread-safe: one caller at a time (the session's mapping stage).
    """

    def __init__(self, options: PlaneTrackerOptions | None = None, *, voxel_size_m: float = 0.02) -> None:
        """``voxel_size_m``: the TSDF voxel size the chunks were meshed at (for vertex matching)."""
        self.options = options or PlaneTrackerOptions()
        self._voxel_size_m = float(voxel_size_m)
        self._segments: dict[BlockKey, list[_Segment]] = {}
        self._planes: dict[str, _PlaneState] = {}
        self._next_id = 0
        self._version = 0

    @classmethod
    def create_from_options(cls, options: PlaneTrackerOptions, *, voxel_size_m: float = 0.02) -> PlaneTracker:
        return cls(options, voxel_size_m=voxel_size_m)

    @property
    def planes(self) -> dict[str, Plane]:
        """The published planes by ID."""
        return {pid: s.published for pid, s in self._planes.items() if s.published is not None}

    @property
    def version(self) -> int:
        return self._version

    def reset(self) -> PlaneUpdate:
        """Forget every plane; returns the removal of the published ones."""
        removed = sorted(self.planes)
        self._segments.clear()
        self._planes.clear()
        self._version += 1
        return PlaneUpdate(removed=removed, version=self._version)

    # ------------------------------------------------------------------ update

    def update(
        self,
        chunks: Mapping[BlockKey, MeshChunk],
        changed_keys: Iterable[BlockKey],
        up_world: tuple[float, float, float] | np.ndarray = (0.0, 0.0, 1.0),
    ) -> PlaneUpdate:
        """Bring the planes up to date after the chunks ``changed_keys`` changed.

        chunks : every current chunk by key (a changed key missing here was removed)
        changed_keys : keys of chunks upserted or removed since the last call
        up_world : (3,) world up direction (any length), for labels
        """
        t0 = time.perf_counter()
        opts = self.options
        up = np.asarray(up_world, dtype=np.float64).reshape(3)
        up = up / np.linalg.norm(up)
        changed = {(int(k[0]), int(k[1]), int(k[2])) for k in changed_keys}

        # 1. Re-segment the changed chunks; new segments inherit their chunk's old plane IDs.
        touched: set[str] = set()
        fresh: list[_Segment] = []
        segmented = 0
        for key in changed:
            old = self._segments.pop(key, [])
            for s in old:
                s.alive = False
                if s.plane_id is not None:
                    touched.add(s.plane_id)
            chunk = chunks.get(key)
            if chunk is None or chunk.vertex_count == 0:
                continue
            segmented += 1
            segs = _segment_chunk(chunk, opts, self._voxel_size_m)
            for s in segs:
                s.plane_id = _inherit(s, old, opts)
            if segs:
                self._segments[key] = segs
                fresh.extend(segs)
        # Planes with a segment next to a changed chunk may now connect to the new segments.
        for key in changed:
            for nb in _neighbours(key):
                touched.update(s.plane_id for s in self._segments.get(nb, ()) if s.plane_id is not None)

        # 2. Regroup the segments of the touched planes with the new ones.
        region = list(fresh)
        for pid in sorted(touched):
            state = self._planes.get(pid)
            if state is not None:
                region.extend(s for s in state.members if s.alive and s.plane_id == pid)
        groups: dict[int, list[_Segment]] = {}
        for seg, lab in zip(region, _components(region, opts, self._voxel_size_m), strict=True):
            groups.setdefault(int(lab), []).append(seg)

        # 3. IDs by area-weighted vote, then refit the planes whose membership changed.
        assigned = self._assign_ids(groups, touched)
        refit: set[str] = set()
        for lab, members in groups.items():
            pid = assigned[lab]
            state = self._planes.get(pid)
            if state is not None and {id(s) for s in state.members} == {id(s) for s in members}:
                continue
            for s in members:
                s.plane_id = pid
            if state is None:
                state = self._planes[pid] = _PlaneState(pid, members)
            state.members = members
            _fit(state, opts, up)
            refit.add(pid)
        removed: set[str] = set()
        for pid in touched - set(assigned.values()):
            state = self._planes.pop(pid, None)
            if state is not None and state.published is not None:
                removed.add(pid)

        # 4. Labels over every supported plane; publish the planes that changed.
        version = self._version + 1
        upserted: list[Plane] = []
        for pid in refit:
            state = self._planes[pid]
            if not state.supported and state.published is not None:
                removed.add(pid)
                state.published = None
        supported = [s for s in self._planes.values() if s.supported]
        labels = _labels(supported, up, opts)
        for state in supported:
            pub = state.published
            label = labels[state.plane_id]
            if pub is not None and pub.label == label and state.plane_id not in refit:
                continue
            assert state.pose is not None
            state.published = Plane(
                plane_id=state.plane_id,
                version=version,
                label=label,
                pose_world_plane=state.pose,
                extent_m=state.extent,
                boundary_plane_m=state.boundary,
                area_m2=state.area_m2,
            )
            upserted.append(state.published)
        if upserted or removed:
            self._version = version
        upserted.sort(key=lambda p: p.plane_id)
        return PlaneUpdate(
            upserted=upserted,
            removed=sorted(removed),
            version=self._version,
            chunks_segmented=segmented,
            segments_regrouped=len(region),
            planes_refit=len(refit),
            elapsed_s=time.perf_counter() - t0,
        )

    def _assign_ids(self, groups: dict[int, list[_Segment]], candidates: set[str]) -> dict[int, str]:
        """Component label -> plane ID: old IDs by the area they carry, one component each."""
        votes: dict[tuple[int, str], float] = {}
        for lab, members in groups.items():
            for s in members:
                if s.plane_id is not None and s.plane_id in candidates:
                    votes[lab, s.plane_id] = votes.get((lab, s.plane_id), 0.0) + s.area_m2
        out: dict[int, str] = {}
        used: set[str] = set()
        for (lab, pid), _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0][1])):
            if lab not in out and pid not in used:
                out[lab] = pid
                used.add(pid)
        for lab in sorted(groups):
            if lab not in out:
                out[lab] = f"plane_{self._next_id}"
                self._next_id += 1
        return out
