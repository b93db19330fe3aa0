"""Helpers for the mapping tests: a tiny private reader for the two RGB-D snippets in tests/data,
a synthetic room, and mesh utilities.

The dataset readers in ``sora_sdk.datasets`` are being written in parallel; these loaders read
only what the mapping tests need, so the mapping suite does not depend on them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import open3d as o3d
from PIL import Image
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation, Slerp

from sora_sdk.core import CameraFrame, Intrinsics, MapperConfig, MeshChunk, Pose
from sora_sdk.mapping import Mapper
from sora_sdk.mapping._marching_cubes import APRON_OFFSETS, CORNERS, EDGE_AXIS, EDGE_CORNER, BlockStores, triangle_table
from sora_sdk.mapping._o3d import to_tensor
from sora_sdk.mapping._published import OBSERVED, SEEN

DATA = Path(__file__).resolve().parents[1] / "data"
#: The device the mapping tests run on: the CPU (CI), or ``SORA_TEST_DEVICE=cuda:0`` on a GPU host.
DEVICE = os.environ.get("SORA_TEST_DEVICE", "cpu")
TUM = DATA / "tum_fr1_desk_9frames"
REDWOOD = DATA / "redwood_livingroom1_5frames"

#: TUM fr1 factory calibration (the dataset's published fr1 intrinsics), 640 x 480.
TUM_FR1 = Intrinsics(640, 480, 517.3, 516.5, 318.6, 255.3)
TUM_DEPTH_M_PER_UNIT = 1.0 / 5000.0


def _tum_pose(gt: np.ndarray, t: float) -> Pose:
    """Camera-to-world pose at time t, interpolated (lerp + slerp) in groundtruth.txt rows."""
    j = int(np.searchsorted(gt[:, 0], t))
    if not 0 < j < len(gt):
        raise ValueError(f"timestamp {t} outside the ground truth")
    a, b = gt[j - 1], gt[j]
    s = (t - a[0]) / (b[0] - a[0])
    rot = Slerp([0.0, 1.0], Rotation.from_quat([a[4:8], b[4:8]]))([s])[0]
    m = np.eye(4)
    m[:3, :3] = rot.as_matrix()
    m[:3, 3] = (1 - s) * a[1:4] + s * b[1:4]
    return Pose(m)


def load_tum(root: Path = TUM) -> list[CameraFrame]:
    """The frames listed in associate.txt whose images exist, with interpolated GT poses."""
    gt = np.loadtxt(root / "groundtruth.txt", comments="#")
    frames: list[CameraFrame] = []
    for line in (root / "associate.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) != 4 or not (root / parts[3]).exists():
            continue
        _, rgb_path, t_depth, depth_path = parts
        depth = np.asarray(Image.open(root / depth_path), dtype=np.uint16)
        rgb = np.asarray(Image.open(root / rgb_path).convert("RGB"), dtype=np.uint8)
        frames.append(
            CameraFrame(
                sequence=len(frames),
                capture_time_s=float(t_depth),
                intrinsics=TUM_FR1,
                pose_world_camera=_tum_pose(gt, float(t_depth)),
                color=rgb,
                depth=depth,
                depth_m_per_unit=TUM_DEPTH_M_PER_UNIT,
            )
        )
    return frames


def load_redwood(root: Path = REDWOOD) -> list[CameraFrame]:
    """Frames 0..4 with trajectory.log GT poses (camera-to-world), depth in millimetres."""
    cam = json.loads((root / "camera_primesense.json").read_text())
    k = np.asarray(cam["intrinsic_matrix"], dtype=np.float64).reshape(3, 3).T  # stored column-major
    intr = Intrinsics(int(cam["width"]), int(cam["height"]), k[0, 0], k[1, 1], k[0, 2], k[1, 2])
    rows = [r for r in (root / "trajectory.log").read_text().splitlines() if r.strip()]
    poses = [
        Pose(np.array([[float(x) for x in rows[i + j].split()] for j in range(1, 5)])) for i in range(0, len(rows), 5)
    ]
    frames: list[CameraFrame] = []
    for line in (root / "rgbd.match").read_text().splitlines():
        depth_path, color_path = line.split()
        i = len(frames)
        frames.append(
            CameraFrame(
                sequence=i,
                capture_time_s=i / 30.0,
                intrinsics=intr,
                pose_world_camera=poses[i],
                color=np.asarray(Image.open(root / color_path).convert("RGB"), dtype=np.uint8),
                depth=np.asarray(Image.open(root / depth_path), dtype=np.uint16),
                depth_m_per_unit=0.001,
            )
        )
    return frames


def fused(frames: list[CameraFrame], config: MapperConfig | None = None) -> Mapper:
    """A mapper with every frame integrated at its GT pose and the mesh brought up to date."""
    mapper = Mapper(config or MapperConfig(device=DEVICE))
    for f in frames:
        mapper.integrate(f)
    mapper.update_mesh()
    return mapper


def union_mesh(chunks: list[MeshChunk]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated (n, 3) float64 vertices and (m, 3) int64 triangles of some chunks."""
    offsets = np.cumsum([0] + [c.vertex_count for c in chunks])
    v = np.concatenate([c.vertices for c in chunks]).astype(np.float64)
    t = np.concatenate([c.triangles.astype(np.int64) + o for c, o in zip(chunks, offsets, strict=False)])
    return v, t


def look_at_pose(forward: np.ndarray, position_m: np.ndarray) -> Pose:
    """T_W_C of an OpenCV camera at ``position_m`` looking along ``forward`` with world +z up."""
    z = np.asarray(forward, dtype=np.float64) / np.linalg.norm(forward)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, position_m
    return Pose(m)


SYNTHETIC_INTRINSICS = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)


def synthetic_room_frames(count: int = 30) -> list[CameraFrame]:
    """Float32 depth (metres, no colour) of a 6 x 5 x 2.8 m room with four objects, seen from a
    camera turning a full circle at 1.3 m height; rendered exactly with Open3D ray casting."""
    parts = []
    room = o3d.geometry.TriangleMesh.create_box(6.0, 5.0, 2.8)
    room.translate((-3.0, -2.5, -0.2))
    parts.append(room)
    for corner, size in (((1.5, 1.0, 0.2), 0.5), ((-1.8, -1.2, 0.0), 0.7), ((0.5, -1.8, 0.4), 0.4)):
        box = o3d.geometry.TriangleMesh.create_box(size, size, size)
        box.translate(corner)
        parts.append(box)
    ball = o3d.geometry.TriangleMesh.create_sphere(0.4)
    ball.translate((-1.0, 1.5, 0.6))
    parts.append(ball)
    scene = o3d.t.geometry.RaycastingScene()
    for part in parts:
        scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(part))
    intr = SYNTHETIC_INTRINSICS
    frames = []
    for i in range(count):
        yaw = 2 * np.pi * i / count
        forward = np.array([np.cos(yaw), np.sin(yaw), -0.25])
        pose = look_at_pose(forward, np.array([0.2 * np.cos(yaw), 0.2 * np.sin(yaw), 1.3]))
        rays = scene.create_rays_pinhole(
            to_tensor(intr.matrix), to_tensor(pose.inverse().matrix), intr.width_px, intr.height_px
        )
        t_hit = scene.cast_rays(rays)["t_hit"].numpy()  # rays have camera z = 1: t is depth
        depth = np.where(np.isfinite(t_hit), t_hit, 0.0).astype(np.float32)
        frames.append(CameraFrame(i, i / 30.0, intr, pose, None, depth))
    return frames


def weld_to(reference: np.ndarray, vertices: np.ndarray, tolerance_m: float) -> np.ndarray:
    """(n,) index of the reference vertex at each vertex's position; asserts all lie within tolerance."""
    dist, idx = cKDTree(reference).query(vertices)
    assert dist.max() <= tolerance_m, f"vertex {dist.max():.3g} m from the reference set"
    return idx


def edge_counts(triangles: np.ndarray) -> dict[tuple[int, int], int]:
    """Undirected edge -> number of triangles using it."""
    e = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    keys, counts = np.unique(e, axis=0, return_counts=True)
    return {(int(a), int(b)): int(c) for (a, b), c in zip(keys, counts, strict=True)}


def oriented(triangles: np.ndarray) -> set[tuple[int, ...]]:
    """Triangles as index triples rotated to start at their smallest index (orientation kept)."""
    first = np.argmin(triangles, axis=1)
    rolled = np.stack([np.roll(t, -k) for t, k in zip(triangles, first, strict=True)])
    return {tuple(int(i) for i in t) for t in rolled}


def dense_grid(mapper: Mapper, *, published: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole volume as dense (X, Y, Z) float32 tsdf and bool observed (weight >= threshold)
    arrays, and the (3,) int64 global voxel index of element [0, 0, 0]. ``published``: the copy of
    the voxels the chunks were meshed from instead of the live volume."""
    vol = mapper.volume
    r = vol.block_resolution
    keys = vol.active_keys().astype(np.int64)
    lo = keys.min(axis=0)
    shape = tuple(int(n) for n in (keys.max(axis=0) + 1 - lo) * r)
    tsdf = np.zeros(shape, np.float32)
    observed = np.zeros(shape, bool)
    if published:
        copy = mapper.published_voxels
        assert copy is not None
        block_tsdf, flags = copy.block_samples(keys, apron=0)
        block_observed = (flags & OBSERVED) != 0
    else:
        voxels = vol.block_voxels(keys)
        block_tsdf, block_observed = voxels.tsdf, voxels.weight >= mapper.config.weight_threshold
    for key, t, o in zip(keys, block_tsdf, block_observed, strict=True):
        x, y, z = (key - lo) * r
        tsdf[x : x + r, y : y + r, z : z + r] = t
        observed[x : x + r, y : y + r, z : z + r] = o
    return tsdf, observed, lo * r


def reference_marching_cubes(tsdf: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One marching-cubes pass over a whole dense grid, in plain numpy: the reference the compiled
    per-block pass is compared with. Same rules (a cell is meshed when its eight corners are observed
    and the surface crosses it; tsdf < 0 is inside), same table. Returns vertices (n, 3) float64 in
    grid index units and triangles (m, 3) int64, zero-area triangles dropped."""
    table, counts = triangle_table()
    inside = tsdf < 0
    cells_shape = tuple(n - 1 for n in tsdf.shape)
    case = np.zeros(cells_shape, np.int64)
    valid = np.ones(cells_shape, bool)
    for c, (dx, dy, dz) in enumerate(CORNERS):
        sl = (slice(dx, dx + cells_shape[0]), slice(dy, dy + cells_shape[1]), slice(dz, dz + cells_shape[2]))
        case |= inside[sl].astype(np.int64) << c
        valid &= observed[sl]
    cells = np.argwhere(valid & (case > 0) & (case < 255))
    cell_case = case[tuple(cells.T)]
    per_cell = counts[cell_case]
    tri_cell = np.repeat(np.arange(len(cells)), per_cell)
    tri_slot = np.arange(per_cell.sum()) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    edges = table[cell_case[tri_cell], tri_slot]  # (m, 3) cell edges
    origin = cells[tri_cell][:, None, :] + CORNERS[EDGE_CORNER[edges]]  # (m, 3, 3) samples
    ids = np.ravel_multi_index(tuple(origin.reshape(-1, 3).T), tsdf.shape) * 3 + EDGE_AXIS[edges].reshape(-1)
    unique, inverse = np.unique(ids, return_inverse=True)
    start = np.stack(np.unravel_index(unique // 3, tsdf.shape), axis=1)
    axis = unique % 3
    end = start.copy()
    end[np.arange(len(end)), axis] += 1
    a = tsdf[tuple(start.T)].astype(np.float64)
    b = tsdf[tuple(end.T)].astype(np.float64)
    vertices = start.astype(np.float64)
    vertices[np.arange(len(vertices)), axis] += a / (a - b)
    triangles = inverse.reshape(-1, 3)
    p = vertices[triangles]
    keep = ~(
        np.all(p[:, 0] == p[:, 1], axis=1) | np.all(p[:, 1] == p[:, 2], axis=1) | np.all(p[:, 2] == p[:, 0], axis=1)
    )
    return vertices, triangles[keep]


def dense_block_stores(tsdf: np.ndarray, observed: np.ndarray, r: int) -> tuple[np.ndarray, BlockStores]:
    """A dense grid (each side a multiple of ``r``) cut into r^3 blocks keyed from (0, 0, 0), as the
    compiled mesher reads them: (m, 3) keys and their stores (flags; every voxel seen where observed)."""
    counts = np.array(tsdf.shape) // r
    keys = np.argwhere(np.ones(tuple(counts), bool))
    row = {tuple(k): i for i, k in enumerate(keys.tolist())}
    store_t = np.stack([tsdf[x * r : x * r + r, y * r : y * r + r, z * r : z * r + r].reshape(-1) for x, y, z in keys])
    store_o = np.stack(
        [observed[x * r : x * r + r, y * r : y * r + r, z * r : z * r + r].reshape(-1) for x, y, z in keys]
    )
    flags = np.where(store_o, OBSERVED | SEEN, 0).astype(np.uint8)
    slots = np.array([[row.get(tuple(k + o), -1) for o in APRON_OFFSETS.tolist()] for k in keys], dtype=np.int64)
    colors = np.full((len(keys), r**3, 3), 100, np.uint8)
    stores = BlockStores(slots, store_t.astype(np.float32), flags, colors, np.arange(r**3, dtype=np.int64), True)
    return keys, stores


def surface_distances(a: list[MeshChunk], b: list[MeshChunk]) -> tuple[np.ndarray, np.ndarray]:
    """Distances (metres) from each vertex of chunks ``a`` to the surface of chunks ``b``, and back."""

    def to(vertices: np.ndarray, chunks: list[MeshChunk]) -> np.ndarray:
        v, t = union_mesh(chunks)
        scene = o3d.t.geometry.RaycastingScene()
        scene.add_triangles(to_tensor(v.astype(np.float32)), to_tensor(t.astype(np.uint32)))
        return scene.compute_distance(to_tensor(vertices.astype(np.float32))).numpy().astype(np.float64)

    return to(union_mesh(a)[0], b), to(union_mesh(b)[0], a)
