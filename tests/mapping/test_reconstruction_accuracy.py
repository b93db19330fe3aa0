"""Reconstruction against ground truth: the generated room's mesh, and Redwood's ground-truth poses."""

from __future__ import annotations

import dataclasses

import numpy as np
import open3d as o3d
from mapping_helpers import DEVICE

from sora_sdk.core.config import MapperConfig
from sora_sdk.core.geometry import Pose
from sora_sdk.datasets import generate_room, orbit_trajectory, render, synthetic_intrinsics
from sora_sdk.mapping import Mapper


def test_synthetic_room_accuracy_and_completeness_against_the_ground_truth_mesh() -> None:
    """Accuracy: fused vertices to the true surface. Completeness: true surface points the camera saw
    (its own depth back-projected with the true poses) that have fused surface within 2 cm."""
    room = generate_room(0)
    intr = synthetic_intrinsics(320, 240)
    frames = render(room, orbit_trajectory(room, n_frames=40), intr)
    mapper = Mapper(MapperConfig(device=DEVICE))
    for f in frames:
        mapper.integrate(f, f.pose_world_camera)
    mapper.update_mesh()
    chunks = [c for c in mapper.chunks.values() if c.triangle_count]
    vertices = np.concatenate([c.vertices for c in chunks]).astype(np.float32)

    truth = o3d.t.geometry.RaycastingScene()
    truth.add_triangles(
        o3d.core.Tensor(room.vertices.astype(np.float32)), o3d.core.Tensor(room.triangles.astype(np.uint32))
    )
    accuracy = truth.compute_distance(o3d.core.Tensor(vertices)).numpy()

    fused = o3d.t.geometry.RaycastingScene()
    for c in chunks:
        fused.add_triangles(
            o3d.core.Tensor(c.vertices.astype(np.float32)), o3d.core.Tensor(c.triangles.astype(np.uint32))
        )
    rng = np.random.default_rng(0)
    seen = []
    u, v = np.meshgrid(np.arange(intr.width_px), np.arange(intr.height_px))
    for f in frames[::4]:
        z = f.depth_m()
        ok = z > 0
        x = (u[ok] - intr.cx_px) / intr.fx_px * z[ok]
        y = (v[ok] - intr.cy_px) / intr.fy_px * z[ok]
        pts = f.pose_world_camera.transform_points(np.stack([x, y, z[ok]], axis=1))
        seen.append(pts[rng.choice(len(pts), size=min(2000, len(pts)), replace=False)])
    gt_points = np.concatenate(seen).astype(np.float32)
    completeness = float((fused.compute_distance(o3d.core.Tensor(gt_points)).numpy() < 0.02).mean())
    print(f"accuracy mean {accuracy.mean() * 1e3:.1f} mm, p95 {np.percentile(accuracy, 95) * 1e3:.1f} mm; "
          f"completeness {completeness:.1%}")  # fmt: skip
    # Measured: mean 1.2 mm, p95 3.2 mm, 99.9 % complete (2 cm voxels, millimetre depth, exact poses).
    assert accuracy.mean() < 0.003 and np.percentile(accuracy, 95) < 0.006
    assert completeness > 0.98


def test_redwood_odometry_meets_open3ds_own_test_bound(redwood_room) -> None:
    """Open3D's RGBDOdometry test: frame 0 -> 2, multi-scale, translation error squared <= 5e-5."""
    f0, _, f2 = redwood_room[:3]
    mapper = Mapper(MapperConfig(device=DEVICE, depth_max_m=3.0))
    mapper.integrate(f0, f0.pose_world_camera)
    mapper.update_mesh()
    result = mapper.integrate(dataclasses.replace(f2, pose_world_camera=None))
    assert result.integrated and result.pose_source == "odometry"
    err: Pose = f2.pose_world_camera.inverse() @ result.pose_world_camera
    t2 = float(np.sum(err.translation**2))
    print(f"frame 0 -> 2: translation error squared {t2:.2e}")
    assert t2 <= 5e-5
