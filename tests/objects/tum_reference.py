"""What the TUM fr1/desk frames themselves say is on the desk, independently of the object layer.

The depth images are back-projected with the ground-truth poses into one point cloud (no TSDF, no mesh),
thinned to 1 cm; RANSAC (Open3D's ``segment_plane``, fixed seed) finds the big planes; the floor is the
lowest plane within 20 degrees of the mocap frame's +Z and gives up; the desk is the largest plane facing
up 0.5-1.0 m above the floor. What stands on the desk: points 4-60 cm above the desk plane and over the
desk's inliers' convex hull, clustered by DBSCAN (3 cm, 10 points), keeping clusters of at least 150 points
(1.5 dm2 of surface at 1 cm) that rise at least 6 cm and span at most 0.8 m (longer ones are the clutter
along the wall behind the desk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d
from scipy.spatial import ConvexHull, Delaunay

from sora_sdk.core import CameraFrame


@dataclass(frozen=True)
class DeskReference:
    up: np.ndarray  # (3,) unit
    floor_offset_m: float  # up . p = floor height
    desk_normal: np.ndarray
    desk_height_m: float  # up . p of the desk plane's inliers (median)
    clusters: list[np.ndarray]  # (n, 3) world points of each thing on the desk


def desk_reference(frames: list[CameraFrame], seed: int = 0) -> DeskReference:
    pts = []
    for f in frames:
        assert f.depth is not None and f.pose_world_camera is not None
        d = f.depth_m()[::2, ::2]
        v, u = np.mgrid[0 : f.depth.shape[0] : 2, 0 : f.depth.shape[1] : 2]
        ok = (d > 0.3) & (d < 3.0)
        k = f.intrinsics
        z = d[ok]
        cam = np.column_stack([(u[ok] - k.cx_px) * z / k.fx_px, (v[ok] - k.cy_px) * z / k.fy_px, z])
        pts.append(f.pose_world_camera.transform_points(cam))
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.concatenate(pts))).voxel_down_sample(0.01)
    o3d.utility.random.seed(seed)
    planes = []
    rest = cloud
    for _ in range(6):
        model, inliers = rest.segment_plane(0.015, 3, 3000)
        n = np.asarray(model[:3], dtype=np.float64)
        d0 = float(model[3])
        if n[2] < 0:
            n, d0 = -n, -d0
        q = np.asarray(rest.points)[inliers]
        planes.append((n, d0, q))
        rest = rest.select_by_index(inliers, invert=True)
    level = [p for p in planes if p[0][2] >= np.cos(np.radians(20.0)) and len(p[2]) > 2000]
    floor = min(level, key=lambda p: float(np.median(p[2] @ p[0])))
    up = floor[0]
    floor_h = float(np.median(floor[2] @ up))
    desks = [p for p in level if 0.5 <= float(np.median(p[2] @ up)) - floor_h <= 1.0]
    desk = max(desks, key=lambda p: len(p[2]))
    n, d0, inl = desk
    pts_all = np.asarray(cloud.points)
    h = pts_all @ n + d0
    e1 = np.cross(n, [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    flat = np.column_stack([pts_all @ e1, pts_all @ e2])
    desk_flat = np.column_stack([inl @ e1, inl @ e2])
    hull = Delaunay(desk_flat[ConvexHull(desk_flat).vertices])
    above = pts_all[(h > 0.04) & (h < 0.6) & (hull.find_simplex(flat) >= 0)]
    labels = np.asarray(o3d.geometry.PointCloud(o3d.utility.Vector3dVector(above)).cluster_dbscan(0.03, 10))
    clusters = []
    for lab in range(int(labels.max()) + 1 if len(labels) else 0):
        q = above[labels == lab]
        if len(q) < 150:
            continue
        rise = float((q @ n + d0).max())
        span = np.ptp(np.column_stack([q @ e1, q @ e2]), axis=0)
        if rise >= 0.06 and float(span.max()) <= 0.8:
            clusters.append(q)
    return DeskReference(up, floor_h, n, float(np.median(inl @ up)), clusters)
