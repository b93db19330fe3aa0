"""Class-agnostic discovery: the things standing on horizontal surfaces, found in the fused mesh.

No detector is needed: an object is a connected lump of surface above a support plane (floor, table,
seat, shelf board) that is not part of the room's structure. One :meth:`ObjectDiscovery.discover`
call returns every such lump as an :class:`Observation` with an up-aligned box, a centroid estimate
and a dominant colour.

Pipeline
--------
1. Supports and structure from the planes. Supports: planes facing up (normal within
   ``horizontal_tolerance_deg`` of up), labelled one of ``support_labels``, at least
   ``support_min_area_m2`` large; they are rasterised over the up frame's xy plane (2 cm cells,
   updated in place when one changes), so a vertex finds its supports by one lookup. Structure:
   walls, and any other non-horizontal plane at least ``structure_plane_min_area_m2`` large or
   ``structure_plane_min_extent_m`` long (shelf sides, backrests, a table's edge); object faces are
   smaller. A plane refit by less than 3 mm in height and 5 cm at its boundary keeps the geometry
   the candidates were computed with (every refit of the floor would re-filter every wall's foot).
2. Candidate points, per chunk (cached until the chunk, or a plane reaching it, changes). Mesh
   vertices are taken to the *up frame* (z along up). A vertex's support is the highest support
   below it whose boundary, grown by ``support_margin_m``, holds its projection; it is a candidate
   when it is ``min_point_height_m`` .. ``max_point_height_m`` above that support, is not level
   surface within ``level_surface_band_m`` of it (real planes are fitted with centimetres of
   residual) and not within ``structure_plane_band_m`` of a structure plane. Candidates less than
   ``underside_band_m`` below another support over them are flagged (table skirts, leg tops, board
   edges), and the cells of the structure-plane vertices are kept (for rims). Chunks whose vertices'
   height range rules out any candidate (ceiling, upper walls, open floor) are settled without a
   vertex being looked at.
3. Clusters: per support, candidate points in 26-connected cells of ``cluster_cell_m`` (cells centred
   on the voxel grid, where mesh vertices lie; connected components of the cell graph, scipy's
   csgraph; the cells are hashed, so the cost is linear in the candidates, not in the room's
   volume). A support is clustered again only when the candidates of one of its chunks changed.
4. Rejection, in order: too few points; more than ``max_underside_points`` flagged points (it holds
   a support up); more than ``max_rim_fraction`` of its points next to structure (a backrest's rim);
   lowest point more than ``max_base_gap_m`` above the support (floats: an edge of furniture, or what
   is left of a carved-out object); taller than ``max_object_height_m``; nine tenths of its points
   lower than ``min_object_height_m`` (flat); footprint longer than ``max_object_extent_m`` or
   shorter than ``min_object_extent_m``; a post (taller than ``post_min_height_m`` and more than
   ``max_post_aspect`` times as tall as wide: legs, a chair's side, a shelf's edge); under another
   support and narrower than ``leg_max_width_m`` (what is seen of a leg under a seat) or, with the
   free-space probe, with no air seen above its top (the rest of the leg was hidden).
5. Description: the box has z = up, its footprint is the minimum-area rectangle of the points' convex
   hull seen from above (x along the longer side), its bottom is on the support and its top at the
   highest point. The centroid is that of the solid under the surface's height field (each cell of the
   footprint filled from the support to its highest point): exact for boxes, cans and cones, a little
   low for balls (the hidden underside is filled). The colour is that of the best-lit points.
   Descriptions are cached by support and the cells the cluster occupies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import BlockKey, MeshChunk, Plane, PlaneLabel

from ._colors import dominant_color
from ._options import ObjectOptions

__all__ = ["DiscoveryResult", "FreeSpaceProbe", "ObjectDiscovery", "Observation", "SeenCountProbe", "up_frame"]

#: ``free_space(points_world_m (n, 3)) -> (n,) bool``: True where the map has seen free space.
FreeSpaceProbe = Callable[[np.ndarray], np.ndarray]
#: (n, 3) world points -> (n,) how many depth frames observed each (``Mapper.seen_counts``).
SeenCountProbe = Callable[[np.ndarray], np.ndarray]

# Cell codes pack three signed cell indices in 21 bits each (+-1M cells: +-20 km at 2 cm).
_BITS = 21
_OFFSET = 1 << (_BITS - 1)
_MASK = (1 << _BITS) - 1
# The 13 "forward" neighbours of a cell (the other 13 of the 26 are their opposites).
_FORWARD = np.array(
    [(dx, dy, dz) for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1) if (dx, dy, dz) > (0, 0, 0)],
    dtype=np.int64,
)
# Vertices this close to a support's height (either side) are its surface (TSDF noise is ~1 cm).
_SURFACE_TOLERANCE_M = 0.01
_NO_CODES = np.zeros(0, dtype=np.int64)
_NO_XYZ = np.zeros((0, 3), dtype=np.float32)
_EMPTY = (
    np.zeros((0, 3), np.float32),
    np.zeros((0, 3), np.float32),
    np.zeros((0, 3), np.uint8),
    np.zeros(0, np.int32),
    np.zeros(0, bool),
)
# A plane refit whose boundary moved less than this (and height less than _HEIGHT_TOLERANCE_M) is kept as it
# was for the candidates (metres).
_DRIFT_M = 0.05
# A support whose height changed by less than this keeps the candidates of chunks well inside it.
_HEIGHT_TOLERANCE_M = 0.003
_ALL27 = np.array([(dx, dy, dz) for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1)], dtype=np.int64)


def _encode(cells: np.ndarray) -> np.ndarray:
    """(n, 3) int cell indices -> (n,) int64 codes."""
    c = np.asarray(cells, dtype=np.int64) + _OFFSET
    return (c[:, 0] << (2 * _BITS)) | (c[:, 1] << _BITS) | c[:, 2]


def _cell_codes(points: np.ndarray, cell_m: float) -> np.ndarray:
    """(n,) int64 codes of the cells of (n, 3) points; cells are centred on multiples of ``cell_m``.

    Mesh vertices lie on voxel edges (two coordinates on the voxel grid): with cells *centred* on the
    grid, round-off cannot put neighbouring vertices two cells apart, as cells bounded by it would.
    """
    return _encode(np.rint(np.asarray(points, dtype=np.float64) / cell_m).astype(np.int64))


def _delta(offsets: np.ndarray) -> np.ndarray:
    """Code differences of (k, 3) cell offsets (valid away from the code range's edges)."""
    o = np.asarray(offsets, dtype=np.int64)
    return (o[:, 0] << (2 * _BITS)) + (o[:, 1] << _BITS) + o[:, 2]


def up_frame(up_world: np.ndarray | None) -> np.ndarray:
    """(3, 3) float64 rotation R_W_U whose third column is the unit up direction (default +Z).

    The first column is the world axis least aligned with up, made level, so that for +Z up the frame is
    the world's own.
    """
    up = np.array([0.0, 0.0, 1.0]) if up_world is None else np.asarray(up_world, dtype=np.float64).reshape(3)
    norm = float(np.linalg.norm(up))
    if not (np.isfinite(norm) and norm > 1e-9):
        raise ValueError("up_world must be a finite non-zero vector")
    up = up / norm
    helper = np.eye(3)[int(np.argmin(np.abs(up)))]
    x = helper - (helper @ up) * up
    x /= np.linalg.norm(x)
    return np.column_stack([x, np.cross(up, x), up])


@dataclass(frozen=True, eq=False)
class Observation:
    """One object found in the map.

    points_world_m : (n, 3) float32 its surface points (mesh vertices), world frame, metres
    colors : (n, 3) uint8 RGB of those points
    cells : (k,) int64 sorted codes of the up-frame cells (``cluster_cell_m``) its points occupy
    pose_world_box : T_W_B of its box: centre of the box, z = world up, x along the footprint's longer side
    size_m : (3,) float64 box edges along x, y, z, metres
    centroid_world_m : (3,) float64 volume centroid estimate, world frame
    support_height_m : the support's height along up (up-frame z), metres
    bottom_gap_m : height of its lowest point above the support, metres
    chunk_keys : the chunks its points came from
    """

    points_world_m: np.ndarray
    colors: np.ndarray
    cells: np.ndarray
    support_plane_id: str
    support_height_m: float
    pose_world_box: Pose
    size_m: np.ndarray
    centroid_world_m: np.ndarray
    color_rgb: tuple[int, int, int]
    color_name: str
    bottom_gap_m: float
    chunk_keys: frozenset[BlockKey]

    @property
    def point_count(self) -> int:
        return int(self.points_world_m.shape[0])


@dataclass(frozen=True, eq=False)
class DiscoveryResult:
    """What one :meth:`ObjectDiscovery.discover` found.

    observations : the objects, largest first
    rejected : why the other clusters were rejected, reason -> count
    rejected_cells : (k,) int64 sorted cell codes of the rejected clusters (but the small ones): furniture,
        flat things, remnants; a track standing on them was a misjudged piece of furniture
    chunks_filtered : chunks whose candidate points were recomputed (changed, or all when planes changed)
    candidate_points : candidate points clustered
    clusters_described : clusters whose box and colour were computed (not taken from the cache)
    elapsed_s : wall time, seconds
    """

    observations: list[Observation]
    rejected: dict[str, int] = field(default_factory=dict)
    rejected_cells: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    chunks_filtered: int = 0
    candidate_points: int = 0
    clusters_described: int = 0
    elapsed_s: float = 0.0


@dataclass(frozen=True, eq=False)
class _Support:
    """A support plane in the up frame: height, convex boundary (CCW) and its outward edge normals."""

    plane_id: str
    version: int
    index: int  # stable per plane ID, stored with the candidate points
    height_m: float
    polygon: np.ndarray  # (k, 2) up-frame xy, counter-clockwise
    edge_normals: np.ndarray  # (k, 2) outward unit normals
    edge_offsets: np.ndarray  # (k,) normal . vertex
    lo: np.ndarray  # (2,) xy bounds of the polygon
    hi: np.ndarray

    def inside(self, xy: np.ndarray, margin_m: float | np.ndarray) -> np.ndarray:
        """(n,) bool: the (n, 2) up-frame points are inside the boundary grown by ``margin_m`` (a scalar,
        or (n,) per point; negative shrinks it)."""
        if len(xy) == 0:
            return np.zeros(0, dtype=bool)
        m = np.asarray(margin_m, dtype=np.float64)
        return np.all(xy @ self.edge_normals.T - self.edge_offsets <= (m[:, None] if m.ndim else m), axis=1)

    def reach(self, chunks: _ChunkSpheres, opts: ObjectOptions) -> np.ndarray:
        """(c,) bool: chunks that may hold vertices on, under or above this support."""
        dz = chunks.centres_up[:, 2] - self.height_m
        r = chunks.radius
        return (
            (dz >= -opts.underside_band_m - r)
            & (dz <= opts.max_point_height_m + r)
            & np.all(chunks.centres_up[:, :2] >= self.lo - opts.support_margin_m - r[:, None], axis=1)
            & np.all(chunks.centres_up[:, :2] <= self.hi + opts.support_margin_m + r[:, None], axis=1)
        )

    def clear(self, chunks: _ChunkSpheres, opts: ObjectOptions) -> np.ndarray:
        """(c,) bool: chunks whose whole sphere is over the (grown) boundary."""
        return self.inside(chunks.centres_up[:, :2], opts.support_margin_m - chunks.radius)


@dataclass(frozen=True, eq=False)
class _Structure:
    """A structure plane: world pose, its boundary in plane coordinates (convex, CCW) and edge normals."""

    plane_id: str
    version: int
    pose: Pose
    edge_normals: np.ndarray
    edge_offsets: np.ndarray
    radius_m: float  # of the boundary around the plane origin
    corners: np.ndarray  # (k, 2) the convex boundary in plane coordinates

    def reach(self, chunks: _ChunkSpheres, opts: ObjectOptions) -> np.ndarray:
        """(c,) bool: chunks that may hold vertices of this plane."""
        local = (chunks.centres - self.pose.translation) @ self.pose.rotation
        r = chunks.radius
        return (np.abs(local[:, 2]) <= opts.structure_plane_band_m + r) & np.all(
            np.abs(local[:, :2]) <= self.radius_m + opts.support_margin_m + r[:, None], axis=1
        )


@dataclass(frozen=True, eq=False)
class _ChunkSpheres:
    """Bounding spheres of some chunks: centres (c, 3) world and up frame, radius (c,) metres."""

    centres: np.ndarray
    centres_up: np.ndarray
    radius: np.ndarray

    @classmethod
    def of(cls, chunks: list[MeshChunk], r_wu: np.ndarray) -> _ChunkSpheres:
        sizes = np.array([c.size_m for c in chunks], dtype=np.float64)
        origins = np.array([c.origin_world_m for c in chunks], dtype=np.float64).reshape(len(chunks), 3)
        centres = origins + 0.5 * sizes[:, None]
        return cls(centres, centres @ r_wu, 0.5 * math.sqrt(3.0) * sizes)


class _SupportRaster:
    """The supports rasterised over the up-frame xy plane: per cell, the stable indices of the supports whose
    boundary (grown by ``support_margin_m``) holds the cell's centre, so a vertex finds its supports by one
    lookup instead of a polygon test per support. Cells are ``cluster_cell_m`` on a grid fixed at the up
    frame's origin (the margin is honoured to half a cell). Updated in place: a changed support clears its
    old cells and fills its new ones, the others are not touched.
    """

    def __init__(self, res_m: float) -> None:
        self.res = float(res_m)
        self.table = np.full((0, 0, 1), -1, dtype=np.int32)  # [i - origin_i, j - origin_j, slot] -> index
        self.origin = np.zeros(2, dtype=np.int64)
        self.heights = np.zeros(0, dtype=np.float32)  # by stable index
        self._cells: dict[int, np.ndarray] = {}

    def remove(self, index: int) -> None:
        cells = self._cells.pop(index, None)
        if cells is None or len(cells) == 0:
            return
        view = self.table[cells[:, 0] - self.origin[0], cells[:, 1] - self.origin[1]]
        view[view == index] = -1
        self.table[cells[:, 0] - self.origin[0], cells[:, 1] - self.origin[1]] = view

    def add(self, sup: _Support, margin_m: float) -> None:
        self.remove(sup.index)
        if sup.index >= len(self.heights):
            grown = np.full(sup.index + 1, np.nan, dtype=np.float32)
            grown[: len(self.heights)] = self.heights
            self.heights = grown
        self.heights[sup.index] = sup.height_m
        cells = _rasterise(sup, margin_m, self.res)
        self._cells[sup.index] = cells
        if len(cells) == 0:
            return
        self._cover(cells.min(axis=0), cells.max(axis=0))
        i, j = cells[:, 0] - self.origin[0], cells[:, 1] - self.origin[1]
        for k in range(self.table.shape[2] + 1):
            if k == self.table.shape[2]:  # every slot of some cell is taken: one more slot
                self.table = np.concatenate([self.table, np.full(self.table.shape[:2] + (1,), -1, np.int32)], axis=2)
            free = self.table[i, j, k] < 0
            self.table[i[free], j[free], k] = sup.index
            i, j = i[~free], j[~free]
            if len(i) == 0:
                break

    def _cover(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Grow the table (with a margin, so growth is rare) to hold cells lo..hi."""
        shape = np.array(self.table.shape[:2], dtype=np.int64)
        end = self.origin + shape
        if shape.min() > 0 and np.all(lo >= self.origin) and np.all(hi < end):
            return
        pad = 64
        new_lo = np.minimum(lo, self.origin) - pad if shape.min() > 0 else lo - pad
        new_hi = np.maximum(hi + 1, end) + pad if shape.min() > 0 else hi + 1 + pad
        table = np.full((*(new_hi - new_lo).tolist(), self.table.shape[2]), -1, dtype=np.int32)
        if shape.min() > 0:
            o = self.origin - new_lo
            table[o[0] : o[0] + shape[0], o[1] : o[1] + shape[1]] = self.table
        self.table, self.origin = table, new_lo

    def classify(
        self, xyz_up: np.ndarray, opts: ObjectOptions
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For (n, 3) up-frame vertices: (support stable index or -1, on a support's surface, in a support's
        underside band, height of the support below, -inf without one), each (n,)."""
        n = len(xyz_up)
        support = np.full(n, -1, dtype=np.int32)
        on_support = np.zeros(n, dtype=bool)
        under = np.zeros(n, dtype=bool)
        best = np.full(n, -np.inf, dtype=np.float32)
        h_cells, w_cells, depth = self.table.shape
        if n == 0 or h_cells == 0:
            return support, on_support, under, best
        ij = np.floor(xyz_up[:, :2] * np.float32(1.0 / self.res)).astype(np.int64) - self.origin
        ok = (ij[:, 0] >= 0) & (ij[:, 0] < h_cells) & (ij[:, 1] >= 0) & (ij[:, 1] < w_cells)
        rows = np.flatnonzero(ok)
        slots = self.table[ij[rows, 0], ij[rows, 1]]  # (m, depth)
        some = (slots >= 0).any(axis=1)
        rows, slots = rows[some], slots[some]
        z = xyz_up[:, 2]
        for k in range(depth):
            has = slots[:, k] >= 0
            r, p = rows[has], slots[has, k]
            base = self.heights[p]
            h = z[r] - base
            on_support[r[(h >= -_SURFACE_TOLERANCE_M) & (h < opts.min_point_height_m)]] = True
            under[r[(h >= -opts.underside_band_m) & (h < -_SURFACE_TOLERANCE_M)]] = True
            above = (h >= opts.min_point_height_m) & (h <= opts.max_point_height_m)
            r, p, base = r[above], p[above], base[above]
            higher = base > best[r]
            support[r[higher]] = p[higher]
            best[r[higher]] = base[higher]
        return support, on_support, under, best


def _rasterise(sup: _Support, margin_m: float, res: float) -> np.ndarray:
    """(k, 2) int64 absolute cell indices (cell (i, j) spans [i, i + 1) x [j, j + 1) times ``res``) whose
    centres lie inside the support's boundary grown by ``margin_m``."""
    a = np.floor((sup.lo - margin_m) / res).astype(np.int64)
    b = np.ceil((sup.hi + margin_m) / res).astype(np.int64)
    ix, iy = np.meshgrid(np.arange(a[0], b[0]), np.arange(a[1], b[1]), indexing="ij")
    ij = np.column_stack([ix.ravel(), iy.ravel()])
    return ij[sup.inside((ij + 0.5) * res, margin_m)]


@dataclass
class _ChunkCandidates:
    """The candidate points of one chunk, valid for its version under the current supports and structure."""

    version: int
    vertex_count: int
    xyz_up: np.ndarray  # (k, 3) float32 up frame
    world: np.ndarray  # (k, 3) float32
    colors: np.ndarray  # (k, 3) uint8
    support: np.ndarray  # (k,) int32 stable index of the support (_Support.index)
    under: np.ndarray  # (k,) bool: in another support's underside band
    structure_codes: np.ndarray  # (s,) int64 unique cell codes of structure-plane vertices
    gen: int = 0  # when these candidates were computed (a counter of the discovery)
    supports: tuple[int, ...] = ()  # the stable indices of the supports its candidates stand on


@dataclass
class _SupportClusters:
    """One support's clustering as of the last time its candidates changed (reused while they do not)."""

    signature: tuple[object, ...]
    observations: list[Observation]
    rejected: dict[str, int]
    rejected_codes: np.ndarray
    candidates: int
    described: int


class ObjectDiscovery:
    """Finds objects in mesh chunks; keeps per-chunk candidates and per-support clusters between calls.

    Work is incremental: a chunk's candidates are recomputed when the chunk changes, or when a plane
    that reaches it changes (a support that moved, grew or appeared; a structure plane likewise); a
    support's candidates are clustered again only when one of its chunks' candidates changed, and a
    cluster is described again only when its points did. Not thread-safe: one caller at a time (the
    session's object stage).
    """

    def __init__(self, options: ObjectOptions | None = None) -> None:
        self.options = options or ObjectOptions()
        self._up_key: tuple[float, ...] | None = None
        self._r_world_up = np.eye(3)
        self._plane_versions: dict[str, tuple[int, str]] = {}
        self._supports: dict[str, _Support] = {}
        self._structures: dict[str, _Structure] = {}
        self._index_of: dict[str, int] = {}
        self._raster = _SupportRaster(self.options.cluster_cell_m)
        self._chunks: dict[BlockKey, _ChunkCandidates] = {}
        self._by_support: dict[int, set[BlockKey]] = {}  # stable support index -> chunks with its candidates
        self._dropped: set[BlockKey] = set()  # chunks whose candidates a plane change dropped
        self._gen = 0
        self._block_size_m = 0.0
        self._clusters: dict[str, _SupportClusters] = {}
        # Cluster descriptions (or why it was rejected) by support and the cells the cluster occupies.
        self._described: dict[tuple[object, ...], Observation | str] = {}

    def reset(self) -> None:
        self._up_key = None
        self._index_of = {}
        self._raster = _SupportRaster(self.options.cluster_cell_m)
        self._plane_versions = {}
        self._supports = {}
        self._structures = {}
        self._chunks.clear()
        self._by_support.clear()
        self._dropped.clear()
        self._clusters.clear()
        self._described.clear()

    @property
    def supports(self) -> dict[str, float]:
        """Support plane ID -> its height along up (metres), as of the last call."""
        return {pid: s.height_m for pid, s in self._supports.items()}

    @property
    def up_rotation(self) -> np.ndarray:
        """(3, 3) R_W_U of the last call (third column = up)."""
        return self._r_world_up

    def discover(
        self,
        chunks: Mapping[BlockKey, MeshChunk],
        planes: Mapping[str, Plane],
        up_world: np.ndarray | None = None,
        *,
        free_space: FreeSpaceProbe | None = None,
        changed: Iterable[BlockKey] | None = None,
    ) -> DiscoveryResult:
        """Every object standing on a support plane in ``chunks``.

        chunks : every current chunk (world frame); planes : every current plane;
        up_world : (3,) world up direction (any length; default +Z);
        free_space : the map's free-space probe (``Mapper.free_space``); with it, clusters under another
        support whose top was never seen with air above it (legs under a seat) are rejected;
        changed : keys of the chunks upserted or removed since the last call (``MeshUpdate``), when the
        caller knows them; otherwise every chunk's version is compared with the cached one.
        """
        t0 = time.perf_counter()
        self._sync_planes(chunks, planes, up_world)
        if changed is None or not self._chunks:
            for key in [k for k in self._chunks if k not in chunks]:
                self._drop(key)
            stale = [c for k, c in chunks.items() if not self._fresh(k, c)]
        else:  # the caller says which chunks changed: look at those, and at those the planes' changes dropped
            look = {(int(k[0]), int(k[1]), int(k[2])) for k in changed} | self._dropped
            for key in [k for k in look if k not in chunks and k in self._chunks]:
                self._drop(key)
            stale = [chunks[k] for k in look if k in chunks and not self._fresh(k, chunks[k])]
        self._dropped.clear()
        self._filter(stale)
        by_support = self._by_support
        observations: list[Observation] = []
        rejected: dict[str, int] = {}
        rejected_codes: list[np.ndarray] = [_NO_CODES]
        described = n_points = 0
        live: set[str] = set()
        for sup in self._supports.values():
            keys = sorted(by_support.get(sup.index, ()))
            signature = (sup.version, tuple((k, self._chunks[k].gen) for k in keys))
            done = self._clusters.get(sup.plane_id)
            if done is None or done.signature != signature:
                done = self._cluster(sup, keys, signature, free_space)
                self._clusters[sup.plane_id] = done
                described += done.described
            live.add(sup.plane_id)
            observations.extend(done.observations)
            for reason, count in done.rejected.items():
                rejected[reason] = rejected.get(reason, 0) + count
            rejected_codes.append(done.rejected_codes)
            n_points += done.candidates
        for pid in [p for p in self._clusters if p not in live]:
            del self._clusters[pid]
        if len(self._described) > 4 * max(len(observations), 64):  # descriptions of clusters long gone
            self._described.clear()
        observations.sort(key=lambda o: -o.point_count)
        return DiscoveryResult(
            observations=observations,
            rejected=rejected,
            rejected_cells=np.unique(np.concatenate(rejected_codes)),
            chunks_filtered=len(stale),
            candidate_points=n_points,
            clusters_described=described,
            elapsed_s=time.perf_counter() - t0,
        )

    def _cluster(
        self,
        sup: _Support,
        keys: list[BlockKey],
        signature: tuple[object, ...],
        free_space: FreeSpaceProbe | None,
    ) -> _SupportClusters:
        """Cluster, reject and describe the candidates standing on ``sup`` (in the chunks ``keys``)."""
        opts = self.options
        entries = [self._chunks[k] for k in keys]
        mine = [e.support == sup.index for e in entries]
        xyz = np.concatenate([_NO_XYZ, *(e.xyz_up[m] for e, m in zip(entries, mine, strict=True))])
        n = len(xyz)
        out = _SupportClusters(signature, [], {}, _NO_CODES, n, 0)
        if n < opts.min_cluster_points:
            return out
        world = np.concatenate([e.world[m] for e, m in zip(entries, mine, strict=True)])
        colors = np.concatenate([e.colors[m] for e, m in zip(entries, mine, strict=True)])
        under = np.concatenate([e.under[m] for e, m in zip(entries, mine, strict=True)])
        chunk_of = np.repeat(np.arange(len(entries)), [int(m.sum()) for m in mine])
        codes = _cell_codes(xyz, opts.cluster_cell_m)
        # Rims: structure vertices in these chunks and their neighbours (the rest of the map is too far).
        near = {(k[0] + dx, k[1] + dy, k[2] + dz) for k in keys for dx, dy, dz in _ALL27.tolist()}
        structure = np.unique(
            np.concatenate([_NO_CODES, *(self._chunks[k].structure_codes for k in near if k in self._chunks)])
        )
        rim = _next_to(codes, structure)
        labels = _components(codes)
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.diff(labels[order])) + 1
        rejected_codes: list[np.ndarray] = [_NO_CODES]
        for members in np.split(order, bounds):
            reason = self._reject(members, xyz, under, rim, sup)
            if not reason:
                chunk_ids = np.unique(chunk_of[members])
                # Keyed by the cells it occupies: a chunk re-meshed with the same surface give or take a
                # millimetre (every chunk in view, every update) leaves its clusters' cells as they were.
                cells = np.unique(codes[members])
                cache_key = (sup.plane_id, sup.version, len(cells), hash(cells.tobytes()))
                cached = self._described.get(cache_key)
                if cached is None:
                    obs, why = self._describe(members, xyz, world, colors, codes, sup, chunk_ids, keys, free_space)
                    out.described += 1
                    cached = self._described[cache_key] = obs if obs is not None else why
                if not isinstance(cached, str):
                    out.observations.append(cached)
                    continue
                reason = cached
            out.rejected[reason] = out.rejected.get(reason, 0) + 1
            if reason != "small":
                rejected_codes.append(codes[members])
        out.rejected_codes = np.concatenate(rejected_codes)
        return out

    # ------------------------------------------------------------------ candidates

    def _sync_planes(
        self, chunks: Mapping[BlockKey, MeshChunk], planes: Mapping[str, Plane], up_world: np.ndarray | None
    ) -> None:
        """Bring supports and structure up to date; drop the cached candidates of the chunks a changed plane
        reaches (before or after the change)."""
        opts = self.options
        r_wu = up_frame(up_world)
        up_key = tuple(np.round(r_wu[:, 2], 6).tolist())
        if up_key != self._up_key:  # everything is measured along up: start over
            self.reset()
            self._up_key = up_key
            self._r_world_up = r_wu
        versions = {pid: (p.version, str(p.label)) for pid, p in planes.items()}
        if versions == self._plane_versions:
            return
        changed = sorted(pid for pid in versions.keys() | self._plane_versions.keys()
                         if versions.get(pid) != self._plane_versions.get(pid))  # fmt: skip
        self._plane_versions = versions
        keys = [k for k in self._chunks if k in chunks]
        spheres = self._spheres(keys)
        drop = np.zeros(len(keys), dtype=bool)
        for pid in changed:
            plane = planes.get(pid)
            old_s, old_t = self._supports.pop(pid, None), self._structures.pop(pid, None)
            new_s = new_t = None
            if plane is not None:
                index = self._index_of.setdefault(pid, len(self._index_of))
                new_s = _support(plane, r_wu, opts, index)
                new_t = _structure(plane, r_wu, opts) if new_s is None else None
            # A plane refit by a few millimetres or grown by a few centimetres keeps the geometry the
            # candidates were computed with: every refit would otherwise re-filter the chunks along its
            # boundary (for the floor, every wall's foot).
            if old_s is not None and new_s is not None and _same_support(old_s, new_s):
                self._supports[pid] = old_s
                continue
            if old_t is not None and new_t is not None and _same_structure(old_t, new_t):
                self._structures[pid] = old_t
                continue
            if new_s is not None:
                self._supports[pid] = new_s
                self._raster.add(new_s, opts.support_margin_m)
            elif old_s is not None:
                self._raster.remove(old_s.index)
            if new_t is not None:
                self._structures[pid] = new_t
            if spheres is None:
                continue
            affected = np.zeros(len(keys), dtype=bool)
            for geom in (old_s, new_s, old_t, new_t):
                if geom is not None:
                    affected |= geom.reach(spheres, opts)
            if old_s is not None and new_s is not None and abs(old_s.height_m - new_s.height_m) <= _HEIGHT_TOLERANCE_M:
                # A support that grew or shrank a little: chunks well inside both boundaries keep their
                # candidates (most of the floor's chunks when the floor grows at the walls).
                affected &= ~(old_s.clear(spheres, opts) & new_s.clear(spheres, opts))
            drop |= affected
        for key, d in zip(keys, drop.tolist(), strict=True):
            if d:
                self._drop(key)
                self._dropped.add(key)

    def _drop(self, key: BlockKey) -> None:
        entry = self._chunks.pop(key, None)
        if entry is not None:
            for index in entry.supports:
                self._by_support[index].discard(key)

    def _set(self, key: BlockKey, entry: _ChunkCandidates) -> None:
        self._drop(key)
        self._chunks[key] = entry
        for index in entry.supports:
            self._by_support.setdefault(index, set()).add(key)

    def _spheres(self, keys: list[BlockKey]) -> _ChunkSpheres | None:
        """Bounding spheres of the chunks ``keys`` (a chunk spans its key times the block size)."""
        if not keys or self._block_size_m <= 0:
            return None
        size = self._block_size_m
        centres = (np.array(keys, dtype=np.float64).reshape(-1, 3) + 0.5) * size
        return _ChunkSpheres(centres, centres @ self._r_world_up, np.full(len(keys), 0.5 * math.sqrt(3.0) * size))

    def _fresh(self, key: BlockKey, chunk: MeshChunk) -> bool:
        c = self._chunks.get(key)
        return c is not None and c.version == chunk.version and c.vertex_count == chunk.vertex_count

    def _filter(self, chunks: list[MeshChunk]) -> None:
        """Recompute the candidates of ``chunks`` (all their vertices in one batch of array operations).

        Chunks that cannot hold a candidate are settled from their vertices' height range alone: those
        above every support's band (ceiling, upper walls), and those lying wholly in one support's surface
        band well inside its boundary (most of the floor and the table top). Each plane then looks only at
        the vertices of the remaining chunks that can reach it.
        """
        if not chunks:
            return
        opts = self.options
        self._gen += 1
        gen = self._gen
        self._block_size_m = float(chunks[0].size_m)
        empty = [c for c in chunks if c.vertex_count == 0]
        for c in empty:
            self._set(c.key, _ChunkCandidates(c.version, 0, *_EMPTY, _NO_CODES, gen))
        chunks = [c for c in chunks if c.vertex_count > 0]
        if not chunks:
            return
        r_wu = self._r_world_up.astype(np.float32)
        counts = np.array([c.vertex_count for c in chunks], dtype=np.int64)
        all_world = np.concatenate([np.asarray(c.vertices, dtype=np.float32).reshape(-1, 3) for c in chunks])
        all_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        z_all = all_world @ r_wu[:, 2]
        zmin = np.minimum.reduceat(z_all, all_starts)
        zmax = np.maximum.reduceat(z_all, all_starts)
        spheres = _ChunkSpheres.of(chunks, self._r_world_up)
        might = np.zeros(len(chunks), dtype=bool)
        settled = np.zeros(len(chunks), dtype=bool)
        for sup in self._supports.values():
            reach = sup.reach(spheres, opts)
            might |= (
                reach
                & (zmax >= sup.height_m + opts.min_point_height_m)
                & (zmin <= sup.height_m + opts.max_point_height_m)
            )
            settled |= (
                reach
                & (zmin >= sup.height_m - _SURFACE_TOLERANCE_M)
                & (zmax < sup.height_m + opts.min_point_height_m)
                & sup.clear(spheres, opts)
            )
        might &= ~settled
        for i in np.flatnonzero(~might).tolist():
            c = chunks[i]
            self._set(c.key, _ChunkCandidates(c.version, c.vertex_count, *_EMPTY, _NO_CODES, gen))
        idx = np.flatnonzero(might)
        if len(idx) == 0:
            return
        sel = [chunks[i] for i in idx.tolist()]
        keep = np.repeat(might, counts)
        counts = counts[idx]
        starts = np.concatenate([[0], np.cumsum(counts)])
        world = all_world[keep]
        colors = np.concatenate([np.asarray(c.colors, dtype=np.uint8).reshape(-1, 3) for c in sel])
        xyz = world @ r_wu
        n = len(xyz)
        chunk_of = np.repeat(np.arange(len(sel)), counts)
        sub = _ChunkSpheres(spheres.centres[idx], spheres.centres_up[idx], spheres.radius[idx])

        # 1. Supports, from the raster: a vertex's support is the highest support below it; vertices in a
        # support's surface band are that surface, those in its underside band are flagged.
        support, on_support, under, base = self._raster.classify(xyz, opts)
        cand = np.flatnonzero((support >= 0) & ~on_support)
        # Level surface a little above the fitted plane is still the support (a warped or tilted desk, two
        # desks of an L fitted as one plane): object tops that low are flat objects anyway.
        low = cand[xyz[cand, 2] - base[cand] < opts.level_surface_band_m]
        if len(low):
            normals = np.concatenate([np.asarray(c.normals, dtype=np.float32).reshape(-1, 3) for c in sel])
            level = normals[low] @ r_wu[:, 2] >= np.float32(math.cos(math.radians(opts.level_normal_tolerance_deg)))
            on_support[low[level]] = True
            cand = cand[~on_support[cand]]
        # 2. Structure-plane vertices are not candidates; their cells mark rims. Only the vertices still in
        # play are tested (the walls' lower parts are: they stand over the floor).
        on_structure = np.zeros(n, dtype=bool)
        c_chunk = chunk_of[cand]
        c_world = world[cand]
        margin = np.float32(opts.support_margin_m)
        for st in self._structures.values():
            reach = st.reach(sub, opts)
            if not reach.any():
                continue
            at = np.flatnonzero(reach[c_chunk])
            rot = st.pose.rotation.astype(np.float32)
            origin = st.pose.translation.astype(np.float32)
            dist = c_world[at] @ rot[:, 2] - np.float32(origin @ rot[:, 2])
            at = at[np.abs(dist) <= opts.structure_plane_band_m]
            if len(at) == 0:
                continue
            local = (c_world[at] - origin) @ rot[:, :2]
            inside = np.all(local @ st.edge_normals.T.astype(np.float32) - st.edge_offsets <= margin, axis=1)
            on_structure[cand[at[inside]]] = True
        cand_rows = cand[~on_structure[cand]]
        struct_rows = np.flatnonzero(on_structure)
        struct_codes = _cell_codes(xyz[struct_rows], opts.cluster_cell_m)
        # Split per chunk (rows are sorted, so each chunk's rows are one slice).
        c_bounds = np.searchsorted(cand_rows, starts)
        s_bounds = np.searchsorted(struct_rows, starts)
        for i, chunk in enumerate(sel):
            m = cand_rows[c_bounds[i] : c_bounds[i + 1]]
            sc = struct_codes[s_bounds[i] : s_bounds[i + 1]]
            codes = np.unique(sc) if len(sc) else _NO_CODES
            if len(m) == 0:
                entry = _ChunkCandidates(chunk.version, chunk.vertex_count, *_EMPTY, codes, gen)
            else:
                sup = support[m]
                entry = _ChunkCandidates(
                    chunk.version, chunk.vertex_count, xyz[m], world[m], colors[m], sup, under[m], codes, gen,
                    tuple(np.unique(sup).tolist()),
                )  # fmt: skip
            self._set(chunk.key, entry)

    # ------------------------------------------------------------------ clusters

    def _reject(self, members: np.ndarray, xyz: np.ndarray, under: np.ndarray, rim: np.ndarray, sup: _Support) -> str:
        """Why a cluster is not an object ("" when it may be one); cheap tests first."""
        opts = self.options
        if len(members) < opts.min_cluster_points:
            return "small"
        if int(under[members].sum()) > opts.max_underside_points:
            return "holds_support"
        if float(rim[members].mean()) > opts.max_rim_fraction:
            return "structure_rim"
        h = xyz[members, 2] - sup.height_m
        if float(h.min()) > opts.max_base_gap_m:
            return "floating"
        if float(h.max()) > opts.max_object_height_m:
            return "too_tall"
        # Flat: most of it is a sheet on the support (paper, a rug, a shelf's bottom board with an edge
        # standing off it), whatever a few points above say.
        if float(np.percentile(h, 90)) < opts.min_object_height_m:
            return "flat"
        return ""

    def _describe(
        self,
        members: np.ndarray,
        xyz: np.ndarray,
        world: np.ndarray,
        colors: np.ndarray,
        codes: np.ndarray,
        sup: _Support,
        chunk_ids: np.ndarray,
        keys: list[BlockKey],
        free_space: FreeSpaceProbe | None,
    ) -> tuple[Observation | None, str]:
        opts = self.options
        p = xyz[members]
        rect = _min_area_rect(p[:, :2])
        if rect is None:
            return None, "degenerate"
        center_xy, axis_x, (length, width) = rect
        if length > opts.max_object_extent_m:
            return None, "too_long"
        if length < opts.min_object_extent_m:
            return None, "speck"
        top = float(p[:, 2].max())
        height = top - sup.height_m
        # A post: a leg, a chair's side, a shelf's edge (far taller than wide, and tall).
        if height >= opts.post_min_height_m and height > opts.max_post_aspect * width:
            return None, "post"
        under_support = any(
            s.height_m > top and bool(s.inside(center_xy[None], 0.0)[0]) for s in self._supports.values()
        )
        # What is seen of a leg under a seat or a table: thin, and under another support; or, with the probe,
        # ending where nothing was seen above it (the rest of the leg was hidden by the seat). Out in the open
        # the probe says little: the volume keeps free space only near surfaces, so the air above a monitor's
        # thin top edge, seen past towards a far wall, is as unknown as an occluded leg.
        if under_support and width < opts.leg_max_width_m:
            return None, "leg"
        if under_support and free_space is not None and not self._open_top(p, free_space):
            return None, "hidden_top"
        r_wu = self._r_world_up
        axis_y = np.array([-axis_x[1], axis_x[0]])
        r_ub = np.eye(3)
        r_ub[:2, 0], r_ub[:2, 1] = axis_x, axis_y
        center_up = np.array([center_xy[0], center_xy[1], sup.height_m + 0.5 * height])
        pose = Pose.from_rotation_translation(r_wu @ r_ub, r_wu @ center_up)
        centroid_up = _height_field_centroid(p, sup.height_m, opts.cluster_cell_m)
        rgb, name = dominant_color(colors[members])
        obs = Observation(
            points_world_m=world[members],
            colors=colors[members],
            cells=np.unique(codes[members]),
            support_plane_id=sup.plane_id,
            support_height_m=sup.height_m,
            pose_world_box=pose,
            size_m=np.array([length, width, height]),
            centroid_world_m=r_wu @ centroid_up,
            color_rgb=rgb,
            color_name=name,
            bottom_gap_m=float(p[:, 2].min() - sup.height_m),
            chunk_keys=frozenset(keys[i] for i in chunk_ids),
        )
        return obs, ""

    def _open_top(self, p_up: np.ndarray, free_space: FreeSpaceProbe) -> bool:
        """Whether the map has seen free space just above the cluster's top.

        Probes ``open_top_clearance_m`` above the highest point of (up to ``open_top_probes``) footprint
        columns. An object's top was seen with air above it; the visible part of a leg under a table, or of
        a chair whose seat was hidden, ends where the rest of it was occluded: nothing free was seen there.
        """
        opts = self.options
        cell = opts.cluster_cell_m
        ij = np.rint(p_up[:, :2] / cell).astype(np.int64)
        _, inverse = np.unique(ij[:, 0] * (1 << 32) + ij[:, 1], return_inverse=True)
        inverse = inverse.reshape(-1)
        top = np.full(int(inverse.max()) + 1, -np.inf)
        np.maximum.at(top, inverse, p_up[:, 2])
        first = np.zeros(len(top), dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(inverse))[::-1]
        cols = np.linspace(0, len(top) - 1, min(len(top), opts.open_top_probes)).round().astype(np.int64)
        probe_up = np.column_stack([p_up[first[cols], :2], top[cols] + opts.open_top_clearance_m])
        free = np.asarray(free_space(probe_up @ self._r_world_up.T), dtype=bool).reshape(-1)
        return float(free.mean()) >= opts.min_open_top_fraction


# ---------------------------------------------------------------------- planes


def _convex(poly: np.ndarray) -> np.ndarray | None:
    """Counter-clockwise convex hull of (k, 2) points, None when degenerate."""
    try:
        hull = ConvexHull(np.asarray(poly, dtype=np.float64))
    except (QhullError, ValueError):
        return None
    return np.asarray(hull.points[hull.vertices], dtype=np.float64)


def _edges(poly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outward unit normals (k, 2) and offsets (k,) of a CCW convex polygon's edges."""
    e = np.roll(poly, -1, axis=0) - poly
    normals = np.column_stack([e[:, 1], -e[:, 0]])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return normals, np.einsum("ij,ij->i", normals, poly)


def _polygon_drift(a: np.ndarray, a_normals: np.ndarray, a_offsets: np.ndarray, b: np.ndarray,
                   b_normals: np.ndarray, b_offsets: np.ndarray) -> float:  # fmt: skip
    """How far either convex polygon's corners lie outside the other, metres (0 when they coincide)."""
    out_b = float(np.max(b @ a_normals.T - a_offsets)) if len(b) else 0.0
    out_a = float(np.max(a @ b_normals.T - b_offsets)) if len(a) else 0.0
    return max(out_a, out_b, 0.0)


def _same_support(old: _Support, new: _Support) -> bool:
    """Within the refit tolerances: height within ``_HEIGHT_TOLERANCE_M``, boundary within ``_DRIFT_M``."""
    if abs(old.height_m - new.height_m) > _HEIGHT_TOLERANCE_M:
        return False
    drift = _polygon_drift(old.polygon, old.edge_normals, old.edge_offsets, new.polygon, new.edge_normals,
                           new.edge_offsets)  # fmt: skip
    return drift <= _DRIFT_M


def _same_structure(old: _Structure, new: _Structure) -> bool:
    """The same plane within a few millimetres and a degree, its boundary within ``_DRIFT_M``."""
    n_old, n_new = old.pose.rotation[:, 2], new.pose.rotation[:, 2]
    if float(n_old @ n_new) < math.cos(math.radians(1.0)):
        return False
    if abs(float(n_old @ (new.pose.translation - old.pose.translation))) > _HEIGHT_TOLERANCE_M:
        return False
    # Corners of the new boundary in the old plane's coordinates, and back.
    rel = new.pose.inverse() @ old.pose
    old_in_new = rel.transform_points(np.column_stack([old.corners, np.zeros(len(old.corners))]))[:, :2]
    drift_new = float(np.max(old_in_new @ new.edge_normals.T - new.edge_offsets))
    new_in_old = rel.inverse().transform_points(np.column_stack([new.corners, np.zeros(len(new.corners))]))[:, :2]
    drift_old = float(np.max(new_in_old @ old.edge_normals.T - old.edge_offsets))
    return max(drift_new, drift_old) <= _DRIFT_M


def _support(plane: Plane, r_wu: np.ndarray, opts: ObjectOptions, index: int) -> _Support | None:
    """The plane as a support, or None when it is not one (not facing up, label, too small, degenerate)."""
    up = r_wu[:, 2]
    cos_h = math.cos(math.radians(opts.horizontal_tolerance_deg))
    labels = {str(lab) for lab in opts.support_labels}
    if str(plane.label) not in labels or float(plane.normal_world @ up) < cos_h:
        return None
    if plane.area_m2 < opts.support_min_area_m2:
        return None
    b = np.asarray(plane.boundary_plane_m, dtype=np.float64).reshape(-1, 2)
    corners = plane.pose_world_plane.transform_points(np.column_stack([b, np.zeros(len(b))])) @ r_wu
    poly = _convex(corners[:, :2])
    if poly is None:
        return None
    normals, offsets = _edges(poly)
    return _Support(
        plane_id=plane.plane_id,
        version=plane.version,
        index=index,
        height_m=float(plane.pose_world_plane.translation @ up),
        polygon=poly,
        edge_normals=normals,
        edge_offsets=offsets,
        lo=poly.min(axis=0),
        hi=poly.max(axis=0),
    )


def _structure(plane: Plane, r_wu: np.ndarray, opts: ObjectOptions) -> _Structure | None:
    """The plane as structure (walls; large non-horizontal planes), or None."""
    cos_h = math.cos(math.radians(opts.horizontal_tolerance_deg))
    if abs(float(plane.normal_world @ r_wu[:, 2])) >= cos_h:
        return None  # horizontal: a support, a box top or a ceiling
    big = (
        plane.label in (PlaneLabel.WALL, PlaneLabel.DOOR, PlaneLabel.WINDOW)
        or plane.area_m2 >= opts.structure_plane_min_area_m2
        or max(plane.extent_m) >= opts.structure_plane_min_extent_m
    )
    if not big:
        return None
    poly = _convex(np.asarray(plane.boundary_plane_m, dtype=np.float64).reshape(-1, 2))
    if poly is None:
        return None
    normals, offsets = _edges(poly)
    radius = float(np.linalg.norm(poly, axis=1).max())
    return _Structure(plane.plane_id, plane.version, plane.pose_world_plane, normals, offsets, radius, poly)


# ---------------------------------------------------------------------- cells


def _components(codes: np.ndarray) -> np.ndarray:
    """(n,) int component label per point: points in 26-connected cells share a label."""
    cells, inverse = np.unique(codes, return_inverse=True)
    m = len(cells)
    a_list, b_list = [], []
    for d in _delta(_FORWARD):
        j = np.searchsorted(cells, cells + d)
        j = np.minimum(j, m - 1)
        hit = cells[j] == cells + d
        a_list.append(np.flatnonzero(hit))
        b_list.append(j[hit])
    a, b = np.concatenate(a_list), np.concatenate(b_list)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(m, m))
    _, labels = connected_components(graph, directed=False)
    return labels[inverse.reshape(-1)]


def _next_to(codes: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """(n,) bool: the cell of each code, or one of its 26 neighbours, is in the sorted ``marked`` codes."""
    out = np.zeros(len(codes), dtype=bool)
    if len(marked) == 0 or len(codes) == 0:
        return out
    cells, inverse = np.unique(codes, return_inverse=True)
    hit = np.zeros(len(cells), dtype=bool)
    for d in _delta(_ALL27):
        q = cells + d
        j = np.minimum(np.searchsorted(marked, q), len(marked) - 1)
        hit |= marked[j] == q
    return hit[inverse.reshape(-1)]


# ---------------------------------------------------------------------- shape


def _min_area_rect(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]] | None:
    """Minimum-area rectangle of (n, 2) points -> (centre (2,), unit x axis (2,) along the longer side,
    (length, width)); None when the points are degenerate (fewer than 3, or on a line).

    One side of the minimum rectangle lies along an edge of the convex hull (Freeman & Shapira).
    """
    poly = _convex(xy)
    if poly is None:
        return None
    edges = np.roll(poly, -1, axis=0) - poly
    angles = np.unique(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2))
    a = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (k, 2)
    b = np.stack([-a[:, 1], a[:, 0]], axis=1)
    pa, pb = poly @ a.T, poly @ b.T  # (m, k)
    span_a, span_b = np.ptp(pa, axis=0), np.ptp(pb, axis=0)
    k = int(np.argmin(span_a * span_b))
    mid = 0.5 * (pa[:, k].max() + pa[:, k].min()) * a[k] + 0.5 * (pb[:, k].max() + pb[:, k].min()) * b[k]
    if span_a[k] >= span_b[k]:
        axis, size = a[k], (float(span_a[k]), float(span_b[k]))
    else:
        axis, size = b[k], (float(span_b[k]), float(span_a[k]))
    # A canonical heading in [-90, 90) degrees, so the same footprint always gets the same axes.
    if axis[0] < 0 or (axis[0] == 0 and axis[1] < 0):
        axis = -axis
    return mid, axis, size


def _height_field_centroid(p_up: np.ndarray, support_height_m: float, cell_m: float) -> np.ndarray:
    """(3,) up-frame centroid of the solid under the points' height field over their footprint cells."""
    ij = np.rint(p_up[:, :2] / cell_m).astype(np.int64)
    _, inverse = np.unique(ij[:, 0] * (1 << 32) + ij[:, 1], return_inverse=True)
    inverse = inverse.reshape(-1)
    k = int(inverse.max()) + 1
    top = np.full(k, -np.inf)
    np.maximum.at(top, inverse, p_up[:, 2])
    h = np.maximum(top - support_height_m, 0.0)
    xy = np.zeros((k, 2))
    np.add.at(xy, inverse, p_up[:, :2])
    xy /= np.bincount(inverse, minlength=k)[:, None]
    vol = float(h.sum())
    if vol <= 0:
        return np.array([*p_up[:, :2].mean(axis=0), support_height_m])
    c_xy = (xy * h[:, None]).sum(axis=0) / vol
    c_z = support_height_m + float((0.5 * h * h).sum()) / vol
    return np.array([c_xy[0], c_xy[1], c_z])
