from __future__ import annotations

import itertools

import numpy as np
import open3d as o3d
import pytest
from scipy.spatial.transform import Rotation

from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.datasets import SyntheticRoom, look_at, orbit_trajectory, render, render_object_masks


def _world_points(frame: CameraFrame) -> np.ndarray:
    """(n, 3) world points of a frame's measured depth."""
    k = frame.intrinsics
    z = frame.depth_m()
    v, u = np.nonzero(z > 0)
    d = z[v, u]
    camera = np.stack([(u - k.cx_px) / k.fx_px * d, (v - k.cy_px) / k.fy_px * d, d], axis=1)
    assert frame.pose_world_camera is not None
    return frame.pose_world_camera.transform_points(camera)


def test_depth_reprojected_with_the_pose_lands_on_the_mesh(
    room: SyntheticRoom, orbit_frames: list[CameraFrame]
) -> None:
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(_tensor(room.vertices.astype(np.float32)), _tensor(room.triangles.astype(np.uint32)))
    for frame in orbit_frames[::5]:
        assert np.all(frame.depth_m() > 0)  # a closed room: every ray hits
        points = _world_points(frame)
        distance = scene.compute_distance(_tensor(points.astype(np.float32))).numpy()
        # Millimetre rounding alone moves a point by at most 0.5 mm along its ray.
        assert np.median(distance) < 1e-3
        assert np.percentile(distance, 99) < 1e-3


def test_frames_carry_pose_time_and_sensor_like_depth(
    orbit: list[Pose], orbit_frames: list[CameraFrame], small_intrinsics: Intrinsics
) -> None:
    for k, frame in enumerate(orbit_frames):
        assert frame.sequence == k and frame.capture_time_s == pytest.approx(k / 30.0)
        assert frame.pose_world_camera == orbit[4 * k]
        assert frame.intrinsics == small_intrinsics
        assert frame.color is not None and frame.color.shape == (240, 320, 3) and frame.color.dtype == np.uint8
        assert frame.depth is not None and frame.depth.shape == (240, 320) and frame.depth.dtype == np.uint16
        assert frame.depth_m_per_unit == 0.001
        depth = frame.depth_m()
        # Inside a 5 x 4 x 2.6 m room nothing is farther than its diagonal.
        assert 0.3 < depth.min() and depth.max() < np.sqrt(5**2 + 4**2 + 2.6**2)


def test_rendering_is_deterministic_and_noise_is_seeded(
    room: SyntheticRoom, orbit: list[Pose], small_intrinsics: Intrinsics
) -> None:
    poses = orbit[:3]
    a, b = render(room, poses, small_intrinsics), render(room, poses, small_intrinsics)
    for x, y in zip(a, b, strict=True):
        for image_x, image_y in zip(_images(x), _images(y), strict=True):
            np.testing.assert_array_equal(image_x, image_y)
    noisy = render(room, poses, small_intrinsics, depth_noise_std_m=0.01, noise_seed=1)
    again = render(room, poses, small_intrinsics, depth_noise_std_m=0.01, noise_seed=1)
    other = render(room, poses, small_intrinsics, depth_noise_std_m=0.01, noise_seed=2)
    np.testing.assert_array_equal(_images(noisy[0])[1], _images(again[0])[1])
    assert not np.array_equal(_images(noisy[0])[1], _images(other[0])[1])
    error = noisy[0].depth_m() - a[0].depth_m()
    assert np.std(error) == pytest.approx(0.01, rel=0.05)
    np.testing.assert_array_equal(_images(noisy[0])[0], _images(a[0])[0])


def test_pixels_show_the_colour_of_what_they_see(
    room: SyntheticRoom, orbit: list[Pose], orbit_frames: list[CameraFrame], small_intrinsics: Intrinsics
) -> None:
    masks = render_object_masks(room, orbit[::4], small_intrinsics)
    checked = 0
    for frame, mask in zip(orbit_frames, masks, strict=True):
        assert frame.color is not None
        for i, obj in enumerate(room.objects):
            pixels = frame.color[mask == i].astype(np.float64)
            if len(pixels) < 50:
                continue
            albedo = np.array(obj.color_rgb, dtype=np.float64)
            # Lambert shading scales the albedo by 0.55..1: the hue stays, brightness drops at most 45 %.
            scale = (pixels @ albedo) / (albedo @ albedo)
            assert np.all((scale > 0.54) & (scale < 1.01)), obj.label
            residual = np.linalg.norm(pixels - scale[:, None] * albedo, axis=1)
            assert np.max(residual) < 2.0, obj.label
            checked += 1
    assert checked > 50


def test_masks_agree_with_the_ground_truth_boxes(
    room: SyntheticRoom, orbit: list[Pose], small_intrinsics: Intrinsics, orbit_frames: list[CameraFrame]
) -> None:
    masks = render_object_masks(room, orbit[:8:4], small_intrinsics)
    for frame, mask in zip(orbit_frames[:2], masks, strict=True):
        points = _world_points(frame)
        labels = mask.ravel()[np.flatnonzero(frame.depth_m().ravel() > 0)]
        for i, obj in enumerate(room.objects):
            mine = points[labels == i]
            if len(mine) == 0:
                continue
            local = obj.pose_world_box.inverse().transform_points(mine)
            assert np.all(np.abs(local) <= obj.size_m / 2 + 2e-3), obj.label


def test_orbit_is_a_smooth_closed_loop_around_the_table(room: SyntheticRoom, orbit: list[Pose]) -> None:
    assert len(orbit) == 120
    centers = np.array([p.translation for p in orbit])
    table = room.table_center_world_m
    assert np.all((centers[:, 2] > 1.35) & (centers[:, 2] < 1.65))
    # Inside the room, at least 1 m from the table centre, going all the way round it.
    assert np.all(np.abs(centers[:, :2]) < room.size_m[:2] / 2 - 0.4)
    assert np.all(np.linalg.norm(centers[:, :2] - table[:2], axis=1) > 1.0)
    angles = np.unwrap(np.arctan2(centers[:, 1] - table[1], centers[:, 0] - table[0]))
    assert abs(angles[-1] - angles[0]) > 2 * np.pi * (1 - 2 / len(orbit))
    assert np.all(np.diff(angles) > 0)
    loop = [*orbit, orbit[0]]
    for a, b in itertools.pairwise(loop):
        assert a.is_valid()
        assert np.linalg.norm(b.translation - a.translation) < 0.12
        step = Rotation.from_matrix(a.rotation.T @ b.rotation).magnitude()
        assert np.degrees(step) < 8.0
    for pose in orbit:
        # OpenCV camera: looks down at the table, image "up" (-y) points to world +Z.
        forward, down = pose.rotation[:, 2], pose.rotation[:, 1]
        assert forward[2] < 0 and down[2] < 0
        to_table = table - pose.translation
        assert forward @ to_table / np.linalg.norm(to_table) > np.cos(np.radians(20))


def test_look_at_follows_the_opencv_convention() -> None:
    pose = look_at(np.array([0.0, 0.0, 1.0]), np.array([2.0, 0.0, 1.0]))
    np.testing.assert_allclose(pose.rotation[:, 2], [1, 0, 0], atol=1e-12)  # z forward
    np.testing.assert_allclose(pose.rotation[:, 0], [0, -1, 0], atol=1e-12)  # x right
    np.testing.assert_allclose(pose.rotation[:, 1], [0, 0, -1], atol=1e-12)  # y down
    assert pose.is_valid()


def test_orbit_frame_count_is_configurable(room: SyntheticRoom) -> None:
    assert len(orbit_trajectory(room, 7)) == 7


def _tensor(array: np.ndarray) -> o3d.core.Tensor:
    return o3d.core.Tensor.from_numpy(np.ascontiguousarray(array))


def _images(frame: CameraFrame) -> tuple[np.ndarray, np.ndarray]:
    assert frame.color is not None and frame.depth is not None
    return frame.color, frame.depth
