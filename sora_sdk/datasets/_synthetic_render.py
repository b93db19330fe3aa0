"""RGB-D frames of a :class:`SyntheticRoom`, rendered by ray casting, and the default camera loop.

Open3D's ``RaycastingScene`` (Embree) does the ray casting; shading is per-triangle Lambert under
one fixed light from above plus ambient, so a surface looks the same from every view.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import open3d as o3d

from sora_sdk.core.errors import InvalidArgumentError
from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.sensors import CameraFrame

from ._ground_truth import SyntheticRoom
from ._synthetic import orbit_axes_m

__all__ = [
    "SYNTHETIC_DEPTH_M_PER_UNIT",
    "look_at",
    "orbit_trajectory",
    "render",
    "render_object_masks",
    "synthetic_intrinsics",
]

SYNTHETIC_DEPTH_M_PER_UNIT = 0.001
_LIGHT_DIRECTION = np.array([0.3, 0.2, 1.0]) / np.linalg.norm([0.3, 0.2, 1.0])
_AMBIENT = 0.55


def synthetic_intrinsics(width_px: int = 640, height_px: int = 480) -> Intrinsics:
    """A PrimeSense-like pinhole (fx = fy = 525 px at 640x480, ~62 deg horizontal FOV) at any size."""
    return Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5).scaled(width_px, height_px)


def look_at(eye_world_m: np.ndarray, target_world_m: np.ndarray, up_world: np.ndarray | None = None) -> Pose:
    """T_W_C of an OpenCV camera (x right, y down, z forward) at ``eye`` looking at ``target``.

    ``up_world`` defaults to +Z; the image's "up" (-y) is as close to it as the view allows.
    """
    eye = np.asarray(eye_world_m, dtype=np.float64)
    forward = np.asarray(target_world_m, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0]) if up_world is None else np.asarray(up_world, dtype=np.float64)
    right = np.cross(forward, up)
    norm = np.linalg.norm(right)
    if norm < 1e-9:
        raise InvalidArgumentError.field("target_world_m", "view direction is parallel to up")
    right /= norm
    down = np.cross(forward, right)
    return Pose.from_rotation_translation(np.column_stack([right, down, forward]), eye)


def orbit_trajectory(
    room: SyntheticRoom,
    n_frames: int = 120,
    *,
    height_m: float = 1.5,
    bob_m: float = 0.1,
    start_angle_rad: float = -np.pi / 2,
) -> list[Pose]:
    """One smooth loop (T_W_C, OpenCV camera) around the table, looking at it and past it.

    The eye walks an ellipse around the table centre (semi-axes ``orbit_axes_m``: 1.7 x 1.3 m in the
    default room) at ``height_m`` +- ``bob_m`` (twice per loop, so the motion is not planar); it
    looks at a point 0.6 m high a little beyond the table centre, so each view holds the table and
    the far side of the room: the shelf, the walls and the floor objects across the table.
    """
    if n_frames < 1:
        raise InvalidArgumentError.field("n_frames", f"must be positive, got {n_frames}")
    center = room.table_center_world_m
    a, b = orbit_axes_m(room.size_m)
    poses = []
    for k in range(n_frames):
        theta = start_angle_rad + 2 * np.pi * k / n_frames
        eye = np.array([center[0] + a * np.cos(theta), center[1] + b * np.sin(theta),
                        height_m + bob_m * np.sin(2 * theta)])  # fmt: skip
        target = center + 0.4 * (center - eye)
        target[2] = 0.6
        poses.append(look_at(eye, target))
    return poses


def render(
    room: SyntheticRoom,
    trajectory: Sequence[Pose],
    intrinsics: Intrinsics,
    *,
    depth_noise_std_m: float = 0.0,
    noise_seed: int = 0,
    frame_rate_hz: float = 30.0,
) -> list[CameraFrame]:
    """Render one RGB-D frame per pose.

    Returns frames with ``color`` (h, w, 3) uint8 RGB, ``depth`` (h, w) uint16 millimetres
    (``depth_m_per_unit`` 0.001; 0 where a ray hits nothing), ``pose_world_camera`` the pose given,
    ``sequence`` k and ``capture_time_s`` k / ``frame_rate_hz``. Depth is the z of the first hit
    along each pixel-centre ray, plus gaussian noise of ``depth_noise_std_m`` (drawn from
    ``noise_seed``) before rounding to millimetres. Same inputs, same arrays.
    """
    rng = np.random.default_rng(noise_seed)
    h, w = intrinsics.height_px, intrinsics.width_px
    # Fixed light and flat shading: a triangle's shaded colour is the same in every view, so
    # shade each triangle once; the extra last row is black, for rays that hit nothing.
    shaded = np.zeros((len(room.triangles) + 1, 3), dtype=np.uint8)
    shade = _AMBIENT + (1 - _AMBIENT) * np.abs(_triangle_normals(room) @ _LIGHT_DIRECTION)
    shaded[:-1] = np.round(room.triangle_colors * shade[:, None])
    frames = []
    for k, (pose, t_hit, prim) in enumerate(_cast(room, trajectory, intrinsics)):
        hit = prim < len(room.triangles)
        z = np.where(hit, t_hit, 0.0)  # the rays' camera-frame z is 1, so t is depth
        if depth_noise_std_m > 0:
            z = np.where(hit, z + rng.normal(0.0, depth_noise_std_m, size=z.shape), 0.0)
        depth = np.clip(np.round(z / SYNTHETIC_DEPTH_M_PER_UNIT), 0, np.iinfo(np.uint16).max).astype(np.uint16)
        frames.append(
            CameraFrame(
                sequence=k,
                capture_time_s=k / frame_rate_hz,
                intrinsics=intrinsics,
                pose_world_camera=pose,
                color=shaded[prim].reshape(h, w, 3),
                depth=depth.reshape(h, w),
                depth_m_per_unit=SYNTHETIC_DEPTH_M_PER_UNIT,
            )
        )
    return frames


def render_object_masks(room: SyntheticRoom, trajectory: Sequence[Pose], intrinsics: Intrinsics) -> list[np.ndarray]:
    """Per pose, (h, w) int16: the index into ``room.objects`` of the object each pixel sees, else -1."""
    object_of_element = np.full(len(room.element_ids), -1, dtype=np.int16)
    for i, obj in enumerate(room.objects):
        object_of_element[room.element_index(obj.object_id)] = i
    object_of_triangle = np.append(object_of_element[room.triangle_elements], np.int16(-1))
    h, w = intrinsics.height_px, intrinsics.width_px
    return [object_of_triangle[prim].reshape(h, w) for _, _, prim in _cast(room, trajectory, intrinsics)]


def _triangle_normals(room: SyntheticRoom) -> np.ndarray:
    """(m, 3) float64 unit normals of the room's triangles."""
    v = room.vertices[room.triangles]
    n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def _cast(
    room: SyntheticRoom, trajectory: Sequence[Pose], intrinsics: Intrinsics
) -> Iterator[tuple[Pose, np.ndarray, np.ndarray]]:
    """Per pose: ((h*w,) float32 t_hit, (h*w,) int64 triangle ids, ``len(room.triangles)`` on a miss)."""
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor.from_numpy(room.vertices.astype(np.float32)),
        o3d.core.Tensor.from_numpy(room.triangles.astype(np.uint32)),
    )
    u, v = np.meshgrid(np.arange(intrinsics.width_px), np.arange(intrinsics.height_px))
    dirs_camera = np.stack(
        [(u.ravel() - intrinsics.cx_px) / intrinsics.fx_px, (v.ravel() - intrinsics.cy_px) / intrinsics.fy_px,
         np.ones(u.size)], axis=1,
    )  # fmt: skip
    rays = np.empty((u.size, 6), dtype=np.float32)
    n_triangles = len(room.triangles)
    for pose in trajectory:
        rays[:, :3] = pose.translation
        rays[:, 3:] = dirs_camera @ pose.rotation.T
        result = scene.cast_rays(o3d.core.Tensor.from_numpy(rays))
        prim = result["primitive_ids"].numpy().astype(np.int64)
        yield pose, result["t_hit"].numpy(), np.minimum(prim, n_triangles)
