"""Semantic planes, updated live from the mesh chunks.

The tracker keeps, per mesh chunk, a few planar *segments*; segments of neighbouring chunks that
lie on the same plane are joined into *planes*, which get a fit, an extent, a boundary polygon and
an AR Foundation label. An update re-segments only the chunks that changed and regroups only the
segments of the planes those chunks belonged to or touch; every other plane is left as it was.

Pipeline of one :meth:`PlaneTracker.update`
-------------------------------------------
1. Segment each changed chunk (no RANSAC: the chunks carry TSDF-gradient normals, so clustering
   the normals finds the candidates in one pass): take the most common normal direction (a coarse
   histogram), collect the vertices within ``normal_tolerance_deg`` of their mean, split them
   along that direction where their offsets jump by more than ``offset_split_m`` (a box top above
   a table), keep groups of at least ``min_segment_vertices``; repeat on the rest. A segment keeps
   the sufficient statistics of its vertices (count, sum, scatter), whose least-variance axis is
   its normal (the positions are far more accurate than the gradient normals), its mesh area and
   its extreme vertices along 16 in-plane directions (for the boundary). All changed chunks are
   segmented in one batch of array operations.
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
   merge the larger keeps its ID, when one splits the larger part does). After a map is loaded
   (:meth:`PlaneTracker.reset` with the saved planes), a component with no ID takes the ID of the
   saved plane it lies on (normal within ``merge_angle_deg``, offset within twice
   ``merge_distance_m``, centroid inside the saved boundary; the largest component first), so a
   loaded map's planes keep the IDs they were saved with. A plane whose mesh area
   falls below ``min_plane_area_m2`` is not published, or removed if it was. A refit plane is
   re-sent only when it moved or grew beyond ``republish_tolerance_m`` / ``republish_angle_deg``.
5. Labels (AR Foundation's classes) from orientation, height above the floor and size, for every
   published plane (labels depend on the floor, so they are cheap global rules over the planes):

   - floor: facing up, within ``floor_tolerance_m`` of the lowest upward plane of at least
     ``floor_min_area_m2``
   - ceiling: facing down, at least ``ceiling_min_height_m`` above the floor
   - wall: vertical, at least ``wall_min_size_m`` wide and tall
   - seat: facing up, ``seat_height_m`` above the floor, with an area in ``seat_area_m2``
   - table: facing up, ``table_height_m`` above the floor, at least ``table_min_area_m2``
   - other: everything else, including upward surfaces stacked under a similar one less than
     ``stack_clearance_m`` above (shelf boards)

Without a floor yet, only walls can be told apart; everything else is ``other`` until the floor
is seen (its arrival relabels and re-sends the planes it changes).

Cost: segmentation is linear in the changed chunks' vertices; regrouping and refitting are linear
in the segments of the planes touched, so a change to a chunk of the floor re-links the floor's
few hundred segments (array work, a few ms), never the whole map.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import BlockKey, MeshChunk, Plane, PlaneLabel

__all__ = ["PlaneTracker", "PlaneTrackerOptions", "PlaneUpdate"]

# Directions (unit, in a segment's plane) along which extreme vertices are kept for the boundary.
# The hull of these points is inscribed in the segment's true hull, at most 2 % of its radius
# inside (1 - cos(pi / 16): < 5 mm on a 0.32 m block), and a corner of a straight edge is always
# among them. 32 directions would halve the worst case at twice the cost.
_HULL_DIRECTIONS = np.stack(
    [np.cos(np.linspace(0, 2 * np.pi, 16, endpoint=False)), np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False))]
).astype(np.float32)
# Vertex positions are matched across chunks after rounding to 1/64 voxel; shared vertices are
# bit-identical, so any rounding finer than the vertex spacing works.
_CODE_SCALE = 64.0
_CODE_BITS = 21
# Segment pairs per shared vertex looked at: a vertex on a block edge is in up to 4 chunks.
_MAX_SHARED = 4


@dataclass(frozen=True)
class PlaneTrackerOptions:
    """Segmentation, merging, support and labelling thresholds (metres, degrees, square metres)."""

    normal_tolerance_deg: float = 20.0
    """a vertex joins a chunk segment when its normal is within this angle of the segment's"""
    offset_split_m: float = 0.03
    """a chunk segment is split where its vertices' offsets along the normal jump by more than this"""
    min_segment_vertices: int = 16
    """fewer vertices than this in a chunk are not a segment"""
    max_segments_per_chunk: int = 4
    """segments looked for per chunk"""
    merge_angle_deg: float = 8.0
    """segments of neighbouring chunks join when their normals agree within this angle …"""
    merge_distance_m: float = 0.015
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
    republish_tolerance_m: float = 0.01
    """a refit plane is sent again only when its label changed, its normal turned more than
    ``republish_angle_deg``, or its offset, origin or extents moved, or its area changed, by more
    than this (area: this times the perimeter of its extent)"""
    republish_angle_deg: float = 1.0


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

    normal : (3,) unit, the least-variance axis of its vertices, towards free space;
    count, sum_p (3,), sum_pp (3, 3): vertex count, sum and sum of outer products (world metres);
    area_m2 : mesh area of the triangles whose three vertices are in the patch;
    extremes : (k, 3) vertices extreme along the in-plane directions (for the boundary);
    codes : (b,) int64 rounded positions of its vertices on the chunk's faces (for connectivity).
    """

    __slots__ = ("alive", "area_m2", "codes", "count", "extremes", "key", "normal", "plane_id", "sum_p", "sum_pp")

    def __init__(
        self,
        key: BlockKey,
        normal: np.ndarray,
        count: int,
        sum_p: np.ndarray,
        sum_pp: np.ndarray,
        area_m2: float,
        extremes: np.ndarray,
        codes: np.ndarray,
    ) -> None:
        self.key = key
        self.normal = normal
        self.count = count
        self.sum_p = sum_p
        self.sum_pp = sum_pp
        self.area_m2 = area_m2
        self.extremes = extremes
        self.codes = codes
        self.plane_id: str | None = None
        self.alive = True  # False once its chunk was re-segmented or removed

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

    Typical use, after each :meth:`Mapper.update_mesh`::

        mesh = mapper.update_mesh()
        planes = tracker.update(mapper.chunks, [c.key for c in mesh.upserted] + mesh.removed)

    A tracker started on an existing map is given every chunk key once. Not thread-safe: one
    caller at a time (the session's mapping stage).
    """

    def __init__(self, options: PlaneTrackerOptions | None = None, *, voxel_size_m: float = 0.02) -> None:
        """``voxel_size_m``: the TSDF voxel size the chunks were meshed at (for vertex matching)."""
        self.options = options or PlaneTrackerOptions()
        self._voxel_size_m = float(voxel_size_m)
        self._segments: dict[BlockKey, list[_Segment]] = {}
        self._planes: dict[str, _PlaneState] = {}
        self._next_id = 0
        self._version = 0
        self._saved: list[_SavedPlane] = []  # planes of a loaded map, matched by the next update

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

    def reset(self, saved: Iterable[Mapping[str, Any]] = ()) -> PlaneUpdate:
        """Forget every plane; returns the removal of the published ones.

        ``saved``: the planes of a map being loaded, as :meth:`dump` wrote them. The next update
        gives each plane it finds on the saved one it lies on that plane's ID (see the module
        docstring, step 4); saved IDs left unmatched are not reused for new planes.
        """
        removed = sorted(self.planes)
        self._segments.clear()
        self._planes.clear()
        self._version += 1
        self._saved = [_SavedPlane.from_json(item) for item in saved]
        for p in self._saved:
            number = re.fullmatch(r"plane_(\d+)", p.plane_id)
            if number is not None:
                self._next_id = max(self._next_id, int(number.group(1)) + 1)
        return PlaneUpdate(removed=removed, version=self._version)

    @staticmethod
    def dump(planes: Iterable[Plane]) -> list[dict[str, Any]]:
        """Published planes as JSON-ready records, for a map file (read back by :meth:`reset`)."""
        return [
            {
                "plane_id": p.plane_id,
                "label": p.label.value,
                "pose_world_plane": p.pose_world_plane.matrix.tolist(),
                "extent_m": [float(e) for e in p.extent_m],
                "boundary_plane_m": np.asarray(p.boundary_plane_m, dtype=np.float64).tolist(),
                "area_m2": float(p.area_m2),
            }
            for p in planes
        ]

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
        todo: list[MeshChunk] = []
        olds: list[list[_Segment]] = []
        for key in sorted(changed):
            old = self._segments.pop(key, [])
            for s in old:
                s.alive = False
                if s.plane_id is not None:
                    touched.add(s.plane_id)
            chunk = chunks.get(key)
            if chunk is not None and chunk.vertex_count > 0:
                todo.append(chunk)
                olds.append(old)
        fresh: list[_Segment] = []
        for chunk, old, segs in zip(todo, olds, _segment_chunks(todo, opts, self._voxel_size_m), strict=True):
            for s in segs:
                s.plane_id = _inherit(s, old, opts)
            if segs:
                self._segments[chunk.key] = segs
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

        # 3. IDs by area-weighted vote (or from a loaded map's planes), then refit the planes whose
        # membership changed.
        assigned = self._assign_ids(groups, touched)
        self._saved = []
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
            if pub is not None and pub.label == label and (state.plane_id not in refit or _close(pub, state, opts)):
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
            chunks_segmented=len(todo),
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
        if self._saved:
            out.update(_match_saved({lab: g for lab, g in groups.items() if lab not in out}, self._saved, self.options))
        for lab in sorted(groups):
            if lab not in out:
                out[lab] = f"plane_{self._next_id}"
                self._next_id += 1
        return out


# ---------------------------------------------------------------------- planes of a loaded map


@dataclass(frozen=True, eq=False)
class _SavedPlane:
    """A plane as saved with a map: ID, frame (T_W_P, +Z the normal) and boundary (k, 2) in it."""

    plane_id: str
    pose: Pose
    boundary: np.ndarray

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> _SavedPlane:
        return cls(
            str(item["plane_id"]),
            Pose(np.asarray(item["pose_world_plane"], dtype=np.float64).reshape(4, 4)),
            np.asarray(item["boundary_plane_m"], dtype=np.float64).reshape(-1, 2),
        )


def _match_saved(
    groups: dict[int, list[_Segment]], saved: list[_SavedPlane], opts: PlaneTrackerOptions
) -> dict[int, str]:
    """Component label -> the ID of the saved plane it lies on, largest components first, each ID once.

    A component lies on a saved plane when its least-variance axis is within ``merge_angle_deg`` of
    the saved normal, its centroid within twice ``merge_distance_m`` of the saved plane and inside
    the saved boundary polygon.
    """
    cos_max = math.cos(math.radians(opts.merge_angle_deg))
    out: dict[int, str] = {}
    used: set[str] = set()
    by_area = sorted(groups.items(), key=lambda kv: (-sum(s.area_m2 for s in kv[1]), kv[0]))
    for lab, members in by_area:
        count = sum(s.count for s in members)
        centroid: np.ndarray = np.sum([s.sum_p for s in members], axis=0) / count
        cov = np.sum([s.sum_pp for s in members], axis=0) / count - np.outer(centroid, centroid)
        normal = np.linalg.eigh(cov)[1][:, 0]
        if float(normal @ np.sum([s.area_m2 * s.normal for s in members], axis=0)) < 0:
            normal = -normal
        for p in saved:
            if p.plane_id in used or float(normal @ p.pose.rotation[:, 2]) < cos_max:
                continue
            local = p.pose.rotation.T @ (centroid - p.pose.translation)
            if abs(local[2]) <= 2.0 * opts.merge_distance_m and _inside(local[:2], p.boundary):
                out[lab] = p.plane_id
                used.add(p.plane_id)
                break
    return out


def _inside(point: np.ndarray, polygon: np.ndarray) -> bool:
    """Whether the (2,) point is inside the (k, 2) counter-clockwise convex polygon."""
    if len(polygon) < 3:
        return False
    edge = np.roll(polygon, -1, axis=0) - polygon
    rel = point - polygon
    return bool(np.all(edge[:, 0] * rel[:, 1] - edge[:, 1] * rel[:, 0] >= 0.0))


# ---------------------------------------------------------------------- segmentation


def _segment_chunks(chunks: list[MeshChunk], opts: PlaneTrackerOptions, voxel_size_m: float) -> list[list[_Segment]]:
    """The planar segments of each chunk's mesh (at most ``max_segments_per_chunk`` each).

    All chunks are processed together: the segmentation rounds in one compiled pass
    (:func:`_segment_rounds`, GIL released; as numpy array operations they held the GIL ~110 ms
    per update of 400 chunks, the serving threads' largest wait), the per-segment statistics by
    ``reduceat`` over the members sorted by segment.
    """
    if not chunks:
        return []
    nc = len(chunks)
    counts_v = np.array([c.vertex_count for c in chunks])
    first_v = np.concatenate([[0], np.cumsum(counts_v)])
    v32 = np.concatenate([c.vertices for c in chunks]).astype(np.float32, copy=False)
    v = v32.astype(np.float64)
    nrm = np.concatenate([c.normals for c in chunks]).astype(np.float64)
    tri = np.concatenate([np.asarray(c.triangles, dtype=np.int64) + first_v[i] for i, c in enumerate(chunks)])
    cid = np.repeat(np.arange(nc), counts_v)
    min_v = opts.min_segment_vertices
    cos_tol = math.cos(math.radians(opts.normal_tolerance_deg))
    # Vertices on a block's faces: the ones a neighbouring chunk may share.
    origins = np.array([c.origin_world_m for c in chunks], dtype=np.float64).reshape(nc, 3)
    sizes = np.array([c.size_m for c in chunks], dtype=np.float64) / voxel_size_m
    local = (v32 - origins[cid].astype(np.float32)) * np.float32(1.0 / voxel_size_m)  # float32: ~1e-4 voxel
    off = np.minimum(np.abs(local), np.abs(local - sizes[cid, None].astype(np.float32)))
    on_face = off.min(axis=1) < 1e-3
    bins = normal_bins(nrm)  # coarse direction histogram per chunk
    seg_of, chunk_of_seg = _segment_rounds(
        nrm, v, first_v, bins, opts.max_segments_per_chunk, min_v, cos_tol, opts.offset_split_m
    )
    n_seg = len(chunk_of_seg)
    out: list[list[_Segment]] = [[] for _ in range(nc)]
    if n_seg == 0:
        return out
    # Per-segment reductions over the member vertices sorted by segment (contiguous slices).
    member = np.flatnonzero(seg_of >= 0)
    member = member[np.argsort(seg_of[member], kind="stable")]
    sid = seg_of[member]
    pts = v[member]
    count = np.bincount(sid, minlength=n_seg)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    sum_p = np.add.reduceat(pts, starts, axis=0)
    sum_pp = np.add.reduceat((pts[:, :, None] * pts[:, None, :]).reshape(-1, 9), starts, axis=0).reshape(n_seg, 3, 3)
    # The segment's normal is the least-variance axis of its points: the positions are far more
    # accurate than the vertex normals (TSDF gradients; measured 14 deg off on walls with 1 cm depth
    # noise while the offsets were within 1 mm). The mean vertex normal only orients it, and stands
    # in where the points do not fix a plane (spread across the strip under twice that along the
    # normal: a near-straight line of vertices).
    mean = sum_p / count[:, None]
    cov = sum_pp / count[:, None, None] - mean[:, :, None] * mean[:, None, :]
    eigval, eigvec = np.linalg.eigh(cov)
    normal = eigvec[:, :, 0]
    mean_normal = np.add.reduceat(nrm[member], starts, axis=0)
    mean_normal /= np.maximum(np.linalg.norm(mean_normal, axis=1, keepdims=True), 1e-12)
    normal *= np.where(np.einsum("ij,ij->i", normal, mean_normal) < 0, -1.0, 1.0)[:, None]
    normal = np.where((eigval[:, 1] < 4.0 * eigval[:, 0])[:, None], mean_normal, normal)
    # Area: triangles whose three vertices are in the same segment.
    t_seg = seg_of[tri]
    whole = (t_seg[:, 0] >= 0) & (t_seg[:, 0] == t_seg[:, 1]) & (t_seg[:, 0] == t_seg[:, 2])
    t_area = _triangle_areas(v32, tri[whole])
    area = np.bincount(t_seg[whole, 0], t_area, n_seg)
    # Extreme vertices along 16 in-plane directions, per segment (float32 is ample to rank them).
    u = np.cross(np.where(np.abs(normal[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]), normal)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    w = np.cross(normal, u)
    p32 = pts.astype(np.float32)
    uv = np.column_stack([np.einsum("ij,ij->i", p32, u[sid].astype(np.float32)),
                          np.einsum("ij,ij->i", p32, w[sid].astype(np.float32))])  # fmt: skip
    proj = uv @ _HULL_DIRECTIONS  # (k, 16)
    top = np.maximum.reduceat(proj, starts, axis=0)  # (n_seg, 16)
    hit = np.flatnonzero((proj >= top[sid]).any(axis=1))
    ext_bounds = np.searchsorted(sid[hit], np.arange(n_seg + 1))
    ext_pts = pts[hit]
    # Shared-vertex codes of the face vertices, per segment.
    face = on_face[member]
    face_codes = _codes(pts[face], voxel_size_m)
    code_bounds = np.searchsorted(sid[face], np.arange(n_seg + 1))
    for k in range(n_seg):
        c = int(chunk_of_seg[k])
        out[c].append(
            _Segment(
                chunks[c].key,
                normal[k],
                int(count[k]),
                sum_p[k],
                sum_pp[k],
                float(area[k]),
                ext_pts[ext_bounds[k] : ext_bounds[k + 1]],
                face_codes[code_bounds[k] : code_bounds[k + 1]],
            )
        )
    return out


def normal_bins(normals: np.ndarray) -> np.ndarray:
    """(n,) int64 coarse direction bin of each unit normal: 7 per axis (~19 degrees wide), 343 in
    all (the histogram :func:`_segment_rounds` seeds each round from)."""
    return (np.rint(normals * 3.0).astype(np.int64) + 3) @ np.array([49, 7, 1])


@numba.njit(nogil=True, cache=True)
def _segment_rounds(
    nrm: np.ndarray,
    v: np.ndarray,
    first_v: np.ndarray,
    bins: np.ndarray,
    rounds: int,
    min_v: int,
    cos_tol: float,
    split_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The segment of each vertex (-1: none) and the chunk of each segment; compiled, GIL released.

    Per chunk (vertices ``first_v[c]:first_v[c + 1]``), ``rounds`` times over its free vertices:
    the most common normal bin (``bins``, 343 per chunk) seeds a direction, refined to the mean
    normal of the vertices within ``cos_tol`` of it, twice; those vertices (and the bin) stop being
    free; sorted by offset along the direction, they split where the offset jumps by more than
    ``split_m``, and each part of at least ``min_v`` vertices is a segment. Segments are numbered
    chunk by chunk, round by round, in offset order.
    """
    n = nrm.shape[0]
    seg_of = np.full(n, -1, np.int64)
    seg_chunk = np.empty(n // max(min_v, 1) + 1, np.int64)
    free = np.ones(n, np.bool_)
    near = np.zeros(n, np.bool_)
    hist = np.zeros(343, np.int64)
    members = np.empty(n, np.int64)
    n_seg = 0
    for c in range(first_v.shape[0] - 1):
        a, b = first_v[c], first_v[c + 1]
        for _ in range(rounds):
            hist[:] = 0
            n_free = 0
            for i in range(a, b):
                if free[i]:
                    hist[bins[i]] += 1
                    n_free += 1
            if n_free < min_v:
                break
            best = np.argmax(hist)
            # The bin's mean normal, then twice the mean normal of the free vertices near it.
            sx = sy = sz = 0.0
            for i in range(a, b):
                near[i] = free[i] and bins[i] == best
            for _it in range(3):
                tx = ty = tz = 0.0
                for i in range(a, b):
                    if near[i]:
                        tx += nrm[i, 0]
                        ty += nrm[i, 1]
                        tz += nrm[i, 2]
                length = np.sqrt(tx * tx + ty * ty + tz * tz)
                if length > 1e-12:
                    sx, sy, sz = tx / length, ty / length, tz / length
                for i in range(a, b):
                    near[i] = free[i] and nrm[i, 0] * sx + nrm[i, 1] * sy + nrm[i, 2] * sz >= cos_tol
            k = 0
            for i in range(a, b):
                if free[i] and (near[i] or bins[i] == best):
                    free[i] = False  # the bin is always consumed, so every round makes progress
                    if near[i]:
                        members[k] = i
                        k += 1
            if k < min_v:
                continue
            # Split where the offset along the direction jumps (a box top on a table).
            idx = members[:k]
            d = v[idx, 0] * sx + v[idx, 1] * sy + v[idx, 2] * sz
            order = np.argsort(d, kind="mergesort")
            start = 0
            for j in range(1, k + 1):
                if j == k or d[order[j]] - d[order[j - 1]] > split_m:
                    if j - start >= min_v:
                        for q in range(start, j):
                            seg_of[idx[order[q]]] = n_seg
                        seg_chunk[n_seg] = c
                        n_seg += 1
                    start = j
    return seg_of, seg_chunk[:n_seg].copy()


def warm_up() -> None:
    """Compile :func:`_segment_rounds` into numba's cache beside this module (``make setup``), so the
    first plane update a server runs does not wait for it."""
    n = 32
    nrm = np.tile([[0.0, 0.0, 1.0]], (n, 1))
    v = np.column_stack([np.arange(n) * 0.01, np.zeros(n), np.zeros(n)])
    first_v = np.array([0, n], dtype=np.int64)
    _segment_rounds(nrm, v, first_v, normal_bins(nrm), 4, 16, 0.94, 0.03)


def _triangle_areas(v: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(m,) areas of the (m, 3) triangles over the (n, 3) vertices (np.cross is 5x slower)."""
    a, b, c = v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]]
    e1, e2 = b - a, c - a
    cx = e1[:, 1] * e2[:, 2] - e1[:, 2] * e2[:, 1]
    cy = e1[:, 2] * e2[:, 0] - e1[:, 0] * e2[:, 2]
    cz = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    return 0.5 * np.sqrt(cx * cx + cy * cy + cz * cz)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-12 else np.array([0.0, 0.0, 1.0])


def _basis(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors (u, w) with (u, w, normal) a right-handed orthonormal frame."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = _unit(np.cross(helper, normal))
    return u, np.cross(normal, u)


def _codes(points: np.ndarray, voxel_size_m: float) -> np.ndarray:
    """(b,) int64 keys of rounded positions (exact for the bit-identical shared vertices)."""
    q = np.rint(points / voxel_size_m * _CODE_SCALE).astype(np.int64) + (1 << (_CODE_BITS - 1))
    q &= (1 << _CODE_BITS) - 1
    return (q[:, 0] << (2 * _CODE_BITS)) | (q[:, 1] << _CODE_BITS) | q[:, 2]


def _compatible(a: _Segment, b: _Segment, opts: PlaneTrackerOptions) -> bool:
    if float(a.normal @ b.normal) < math.cos(math.radians(opts.merge_angle_deg)):
        return False
    gap = b.centroid - a.centroid
    return abs(float(a.normal @ gap)) <= opts.merge_distance_m and abs(float(b.normal @ gap)) <= opts.merge_distance_m


def _inherit(seg: _Segment, old: list[_Segment], opts: PlaneTrackerOptions) -> str | None:
    """The plane ID of the largest old segment of the same chunk on the same plane as ``seg``."""
    best: _Segment | None = None
    for o in old:
        if o.plane_id is not None and _compatible(seg, o, opts) and (best is None or o.area_m2 > best.area_m2):
            best = o
    return best.plane_id if best is not None else None


_NEIGHBOUR_OFFSETS = [
    (dx, dy, dz) for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1) if (dx, dy, dz) != (0, 0, 0)
]


def _neighbours(key: BlockKey) -> list[BlockKey]:
    return [(key[0] + dx, key[1] + dy, key[2] + dz) for dx, dy, dz in _NEIGHBOUR_OFFSETS]


def _components(segments: list[_Segment], opts: PlaneTrackerOptions, voxel_size_m: float) -> np.ndarray:
    """(m,) int component label per segment: segments of different chunks that share a vertex
    and are compatible (normal within ``merge_angle_deg``, offsets within ``merge_distance_m``)."""
    m = len(segments)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    codes = np.concatenate([s.codes for s in segments])
    owner = np.repeat(np.arange(m), [len(s.codes) for s in segments])
    order = np.argsort(codes, kind="stable")
    codes, owner = codes[order], owner[order]
    firsts, seconds = [], []
    for k in range(1, _MAX_SHARED):
        same = codes[k:] == codes[:-k]
        firsts.append(owner[:-k][same])
        seconds.append(owner[k:][same])
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    keys = np.array([s.key for s in segments], dtype=np.int64).reshape(m, 3)
    keep = (a != b) & (keys[a] != keys[b]).any(axis=1)
    a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pair = np.unique(a * m + b)
    a, b = pair // m, pair % m
    normals = np.array([s.normal for s in segments]).reshape(m, 3)
    centroids = np.array([s.centroid for s in segments]).reshape(m, 3)
    gap = centroids[b] - centroids[a]
    ok = (
        (np.einsum("ij,ij->i", normals[a], normals[b]) >= math.cos(math.radians(opts.merge_angle_deg)))
        & (np.abs(np.einsum("ij,ij->i", normals[a], gap)) <= opts.merge_distance_m)
        & (np.abs(np.einsum("ij,ij->i", normals[b], gap)) <= opts.merge_distance_m)
    )
    graph = coo_matrix((np.ones(int(ok.sum())), (a[ok], b[ok])), shape=(m, m))
    _, labels = connected_components(graph, directed=False)
    return labels


# ---------------------------------------------------------------------- fitting


def _fit(state: _PlaneState, opts: PlaneTrackerOptions, up: np.ndarray) -> None:
    """Fit the plane to its segments' statistics; frame, extent and boundary when supported."""
    members = state.members
    count = sum(s.count for s in members)
    mean: np.ndarray = np.sum([s.sum_p for s in members], axis=0) / count
    cov = np.sum([s.sum_pp for s in members], axis=0) / count - np.outer(mean, mean)
    eigval, eigvec = np.linalg.eigh(cov)
    normal = eigvec[:, 0]
    facing = np.sum([s.area_m2 * s.normal for s in members], axis=0)
    if float(normal @ facing) < 0:  # towards free space, like the vertex normals
        normal = -normal
    state.normal = normal
    state.centroid = mean
    state.rms_m = math.sqrt(max(float(eigval[0]), 0.0))
    state.area_m2 = float(sum(s.area_m2 for s in members))
    state.supported = state.area_m2 >= opts.min_plane_area_m2 and state.rms_m <= opts.max_plane_rms_m
    if state.supported:
        prev_x = state.published.pose_world_plane.rotation[:, 0] if state.published is not None else None
        state.supported = _frame(state, up, prev_x, opts)


def _close(pub: Plane, state: _PlaneState, opts: PlaneTrackerOptions) -> bool:
    """Whether a refit plane is still the published one, within the republish tolerances."""
    assert state.pose is not None
    tol = opts.republish_tolerance_m
    if float(pub.normal_world @ state.normal) < math.cos(math.radians(opts.republish_angle_deg)):
        return False
    moved = state.pose.translation - pub.pose_world_plane.translation
    if abs(float(pub.normal_world @ moved)) > tol or float(np.linalg.norm(moved)) > tol:
        return False
    if any(abs(a - b) > tol for a, b in zip(sorted(pub.extent_m), sorted(state.extent), strict=True)):
        return False
    return abs(pub.area_m2 - state.area_m2) <= tol * 2.0 * (state.extent[0] + state.extent[1])


def _frame(state: _PlaneState, up: np.ndarray, prev_x: np.ndarray | None, opts: PlaneTrackerOptions) -> bool:
    """Boundary (convex hull), minimum-area rectangle, plane frame; False when degenerate."""
    n, c = state.normal, state.centroid
    u, w = _basis(n)
    pts = np.concatenate([s.extremes for s in state.members]) - c
    p2 = np.column_stack([pts @ u, pts @ w])
    try:
        hull = ConvexHull(p2)
    except (QhullError, ValueError):  # fewer than 3 points, or all on a line
        return False
    poly = p2[hull.vertices]  # counter-clockwise (scipy's 2-D hull order)
    # Minimum-area bounding rectangle: one of its sides lies along a hull edge.
    edges = np.roll(poly, -1, axis=0) - poly
    angles = np.unique(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2))
    best = (math.inf, 0.0, np.zeros(2), np.zeros(2))
    for th in angles:
        a = np.array([math.cos(th), math.sin(th)])
        b = np.array([-a[1], a[0]])
        pa, pb = poly @ a, poly @ b
        size = np.array([np.ptp(pa), np.ptp(pb)])
        if size[0] * size[1] < best[0]:
            mid = np.array([(pa.max() + pa.min()) / 2, (pb.max() + pb.min()) / 2])
            best = (float(size[0] * size[1]), float(th), mid, size)
    _, th, mid, size = best
    a2 = np.array([math.cos(th), math.sin(th)])
    b2 = np.array([-a2[1], a2[0]])
    axis_a, axis_b = a2[0] * u + a2[1] * w, b2[0] * u + b2[1] * w
    candidates = [(axis_a, size[0], size[1]), (axis_b, size[1], size[0]), (-axis_a, size[0], size[1]),
                  (-axis_b, size[1], size[0])]  # fmt: skip
    if prev_x is not None:
        x, ex, ey = max(candidates, key=lambda t: float(t[0] @ prev_x))
    elif abs(float(n @ up)) <= math.sin(math.radians(opts.horizontal_tolerance_deg)):
        x, ex, ey = max(candidates, key=lambda t: float(t[0] @ np.cross(up, n)))  # walls: x level, y up
    else:
        # Horizontal and others: x along the longer side, pointing to the world's larger coordinate.
        longest = max(t[1] for t in candidates)
        x, ex, ey = max((t for t in candidates if t[1] >= longest - 1e-9), key=lambda t: float(t[0].sum()))
    y = np.cross(n, x)
    origin = c + (mid[0] * a2[0] + mid[1] * b2[0]) * u + (mid[0] * a2[1] + mid[1] * b2[1]) * w
    hull_world = c + poly[:, :1] * u + poly[:, 1:] * w
    state.hull_world = hull_world
    state.pose = Pose.from_rotation_translation(np.column_stack([x, y, n]), origin)
    state.extent = (float(ex), float(ey))
    rel = hull_world - origin
    state.boundary = np.column_stack([rel @ x, rel @ y]).astype(np.float32)
    return True


# ---------------------------------------------------------------------- labels


def _labels(planes: list[_PlaneState], up: np.ndarray, opts: PlaneTrackerOptions) -> dict[str, PlaneLabel]:
    """AR Foundation class of each plane from orientation, height above the floor and size."""
    cos_h = math.cos(math.radians(opts.horizontal_tolerance_deg))
    sin_v = math.sin(math.radians(opts.horizontal_tolerance_deg))
    facing = {p.plane_id: float(p.normal @ up) for p in planes}
    height = {p.plane_id: float(p.centroid @ up) for p in planes}
    upward = [p for p in planes if facing[p.plane_id] >= cos_h]
    floors = [height[p.plane_id] for p in upward if p.area_m2 >= opts.floor_min_area_m2]
    floor_h = min(floors) if floors else None
    e1, e2 = _basis(up)
    boxes = {p.plane_id: _box(p.hull_world, e1, e2) for p in upward}
    out: dict[str, PlaneLabel] = {}
    for p in planes:
        pid, f = p.plane_id, facing[p.plane_id]
        label = PlaneLabel.OTHER
        if f >= cos_h and floor_h is not None:
            above = height[pid] - floor_h
            if above <= opts.floor_tolerance_m:
                label = PlaneLabel.FLOOR
            elif _stacked(p, upward, height, boxes, opts):
                label = PlaneLabel.OTHER
            elif _within(above, opts.seat_height_m) and opts.seat_area_m2[0] <= p.area_m2 < opts.seat_area_m2[1]:
                label = PlaneLabel.SEAT
            elif _within(above, opts.table_height_m) and p.area_m2 >= opts.table_min_area_m2:
                label = PlaneLabel.TABLE
        elif f <= -cos_h and floor_h is not None:
            if height[pid] - floor_h >= opts.ceiling_min_height_m:
                label = PlaneLabel.CEILING
        elif abs(f) <= sin_v:
            level = _unit(np.cross(up, p.normal))
            width = float(np.ptp(p.hull_world @ level))
            tall = float(np.ptp(p.hull_world @ up))
            if width >= opts.wall_min_size_m and tall >= opts.wall_min_size_m:
                label = PlaneLabel.WALL
        out[pid] = label
    return out


def _within(x: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= x <= bounds[1]


def _box(hull_world: np.ndarray, e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """(4,) [min1, min2, max1, max2] of the hull seen from above (axes e1, e2 level)."""
    a, b = hull_world @ e1, hull_world @ e2
    return np.array([a.min(), b.min(), a.max(), b.max()])


def _stacked(
    p: _PlaneState,
    upward: list[_PlaneState],
    height: dict[str, float],
    boxes: dict[str, np.ndarray],
    opts: PlaneTrackerOptions,
) -> bool:
    """Whether a similar upward plane less than ``stack_clearance_m`` above covers half of ``p``."""
    box = boxes[p.plane_id]
    own = max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-9)
    for q in upward:
        rise = height[q.plane_id] - height[p.plane_id]
        if not (0.1 < rise <= opts.stack_clearance_m) or q.area_m2 > 2.0 * p.area_m2:
            continue
        other = boxes[q.plane_id]
        dx = min(box[2], other[2]) - max(box[0], other[0])
        dy = min(box[3], other[3]) - max(box[1], other[1])
        if dx > 0 and dy > 0 and dx * dy >= 0.5 * own:
            return True
    return False
