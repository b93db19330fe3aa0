"""A picture of a coloured triangle mesh without a GPU or a display.

Open3D's renderer needs EGL or a window; a headless laptop or CI has neither, so the picture is
ray cast with Open3D's RaycastingScene (CPU, Embree) and shaded here.
"""

from __future__ import annotations

import numpy as np
import open3d as o3d
from PIL import Image

__all__ = ["render_mesh_picture"]


def _look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(3, 3) rotation whose columns are the camera's x (right), y (down), z (forward) in the world."""
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def render_mesh_picture(
    vertices: np.ndarray,
    colors: np.ndarray,
    triangles: np.ndarray,
    path: str,
    *,
    width_px: int = 960,
    height_px: int = 720,
    up: tuple[float, float, float] = (0.0, 0.0, 1.0),
) -> None:
    """Renders the mesh from above one corner of its bounding box and writes a PNG.

    vertices : (n, 3) float32 world metres; colors : (n, 3) uint8; triangles : (m, 3) int32.
    """
    img = np.full((height_px, width_px, 3), 255, np.uint8)
    if len(triangles) == 0:
        Image.fromarray(img).save(path)
        return
    up_v = np.asarray(up, dtype=np.float64)
    lo, hi = vertices.min(axis=0).astype(np.float64), vertices.max(axis=0).astype(np.float64)
    center = 0.5 * (lo + hi)
    diag = float(np.linalg.norm(hi - lo))
    horizontal = (hi - lo) * (1 - np.abs(up_v))
    eye = center + 0.45 * horizontal * np.array([-1.0, -1.0, -1.0]) + up_v * 0.75 * diag
    r = _look_at(eye, center, up_v)
    f = 0.9 * width_px
    u, v = np.meshgrid(np.arange(width_px), np.arange(height_px))
    dirs_cam = np.stack([(u - width_px / 2) / f, (v - height_px / 2) / f, np.ones_like(u, dtype=np.float64)], -1)
    dirs = dirs_cam.reshape(-1, 3) @ r.T
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    rays = np.concatenate([np.broadcast_to(eye, dirs.shape), dirs], axis=1).astype(np.float32)
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(vertices.astype(np.float32)), o3d.core.Tensor(triangles.astype(np.uint32)))
    ans = scene.cast_rays(o3d.core.Tensor(rays))
    hit = np.isfinite(ans["t_hit"].numpy())
    tri = ans["primitive_ids"].numpy()[hit].astype(np.int64)
    uv = ans["primitive_uvs"].numpy()[hit]
    normals = ans["primitive_normals"].numpy()[hit]
    corner = triangles[tri]
    w = np.stack([1 - uv[:, 0] - uv[:, 1], uv[:, 0], uv[:, 1]], axis=1)[:, :, None]
    col = (colors[corner].astype(np.float32) * w).sum(axis=1)
    light = np.array([0.3, 0.2, 0.93])
    light /= np.linalg.norm(light)
    shade = 0.45 + 0.55 * np.abs(normals @ light)
    img.reshape(-1, 3)[hit.reshape(-1)] = np.clip(col * shade[:, None], 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path)
