"""Lifting 2D detections into the world, against the exact ground truth of rendered synthetic scenes.

Tolerances come from the renderer: depth is the exact ray depth rounded to 1 mm (so a point is off its
surface by at most 0.5 mm along its ray), vertices are float32, and the image samples the scene once per
pixel, so an edge or an apex is found within about one pixel footprint (depth / focal length: 2-5 mm
here) of where it is.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import trimesh

from sora_sdk.core.errors import InvalidArgumentError
from sora_sdk.core.geometry import Pose
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.datasets import (
    GroundTruthObject,
    SyntheticRoom,
    generate_room,
    look_at,
    orbit_trajectory,
    render,
    render_object_masks,
    synthetic_intrinsics,
)
from sora_sdk.objects._lift import LiftingOptions, lift_detection, lift_detections, nearest_surface, upright_box
from sora_sdk.objects._types import Detection2D, Detection3D
from sora_sdk.perception._box_geometry import box_signed_distance

K = synthetic_intrinsics(640, 480)
#: Off-surface error of a rendered point: 0.5 mm depth rounding plus float32 geometry, with margin.
SURFACE_TOL_M = 0.002
FLAT_TOPPED = ("box", "cube", "can", "mug", "bottle")
ALL_POINTS = LiftingOptions(max_points=10**6)


def footprint_m(depth_m: float) -> float:
    """Metres one pixel spans at this depth."""
    return depth_m / K.fx_px


def box_from_mask(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float32)


@pytest.fixture(scope="module")
def room_views() -> tuple[SyntheticRoom, list[CameraFrame], list[np.ndarray]]:
    room = generate_room(0)
    trajectory = orbit_trajectory(room, 8)
    poses = [trajectory[0], trajectory[3], trajectory[5]]
    return room, render(room, poses, K), render_object_masks(room, poses, K)


def visible_objects(room: SyntheticRoom, masks: np.ndarray) -> list[tuple[int, GroundTruthObject, np.ndarray]]:
    """Objects seen by at least 300 pixels and not cut by the image border."""
    out = []
    for i, obj in enumerate(room.objects):
        m = masks == i
        border = m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any()
        if m.sum() >= 300 and not border:
            out.append((i, obj, m))
    return out


def test_mask_detections_lift_onto_their_ground_truth_objects(room_views) -> None:
    room, frames, masks = room_views
    checked = 0
    for frame, view in zip(frames, masks, strict=True):
        seen = visible_objects(room, view)
        dets = [Detection2D(obj.label, i, 0.9, box_from_mask(m), m) for i, obj, m in seen]
        lifted = lift_detections(dets, frame, options=ALL_POINTS)
        assert len(lifted) == len(dets)
        depth = frame.depth_m()
        for (_, obj, m), d in zip(seen, lifted, strict=True):
            gt = obj.to_scene_object()
            assert d.label == obj.label and d.score == 0.9 and d.time_s == frame.capture_time_s
            assert d.points_world_m.dtype == np.float32 and d.points_world_m.shape[1] == 3
            # Every mask pixel with depth is kept (no true point is taken for an outlier) and lies on the object.
            assert len(d.points_world_m) == np.count_nonzero(depth[m] > 0)
            assert box_signed_distance(d.points_world_m, gt).max() <= SURFACE_TOL_M, obj.label
            assert box_signed_distance(d.centroid_world_m[None], gt)[0] < 0
            np.testing.assert_allclose(d.centroid_world_m, d.points_world_m.mean(axis=0), atol=1e-4)
            # Upright box around what was seen: within the object's box, z up, as high as the object's top.
            r = d.pose_world_box.rotation
            np.testing.assert_allclose(r[:, 2], [0, 0, 1], atol=1e-12)
            np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-12)
            assert box_signed_distance(d.pose_world_box.translation[None], gt)[0] < 0
            top, bottom = (d.pose_world_box.translation[2] + s * d.size_m[2] / 2 for s in (1, -1))
            gt_top = obj.bottom_z_m + obj.size_m[2]
            near = footprint_m(float(np.median(depth[m])))
            # A flat top is sampled all over; an apex within a pixel, on a side up to ~3:1 steep.
            top_tol = SURFACE_TOL_M if obj.class_name in FLAT_TOPPED else 3 * near
            assert gt_top - top_tol <= top <= gt_top + SURFACE_TOL_M, obj.label
            assert bottom >= obj.bottom_z_m - SURFACE_TOL_M
            assert d.size_m[0] >= d.size_m[1]
            assert d.size_m[0] <= np.hypot(*obj.size_m[:2]) + 2 * near
            checked += 1
    assert checked >= 15


def test_box_footprints_and_yaw_match_box_shaped_objects(room_views) -> None:
    room, frames, masks = room_views
    checked = 0
    for frame, view in zip(frames, masks, strict=True):
        for i, obj, m in visible_objects(room, view):
            if obj.class_name not in ("box", "cube"):
                continue
            (d,) = lift_detections([Detection2D(obj.label, i, 1.0, box_from_mask(m), m)], frame)
            near = footprint_m(float(np.median(frame.depth_m()[m])))
            # Edges are found within about a pixel footprint, so the heading within the angle that
            # two footprints make over the shorter side (~5 degrees here).
            np.testing.assert_allclose(d.size_m, sorted(obj.size_m[:2], reverse=True) + [obj.size_m[2]], atol=2 * near)
            yaw = np.arctan2(d.pose_world_box.rotation[1, 0], d.pose_world_box.rotation[0, 0])
            gt_yaw = np.arctan2(obj.pose_world_box.rotation[1, 0], obj.pose_world_box.rotation[0, 0])
            if obj.size_m[0] < obj.size_m[1]:
                gt_yaw += np.pi / 2  # our x is the longer side
            period = np.pi / 2 if obj.class_name == "cube" else np.pi
            off = (yaw - gt_yaw + period / 2) % period - period / 2
            assert abs(off) <= np.arctan(2 * near / min(obj.size_m[:2])), obj.label
            np.testing.assert_allclose(
                d.pose_world_box.translation[:2], obj.pose_world_box.translation[:2], atol=2 * near
            )
            checked += 1
    assert checked >= 2


# --- a thin object and a ring in front of a wall ------------------------------------------------------

RING_CENTER = np.array([-0.25, 1.7, 1.0])
RING_MAJOR_M, RING_MINOR_M = 0.1, 0.04
POST_CENTER = np.array([0.3, 1.75, 1.0])
POST_SIZE = np.array([0.03, 0.03, 0.6])
WALL_Y_M = 2.0


def wall_scene() -> tuple[SyntheticRoom, CameraFrame, np.ndarray]:
    """A wall at y = 2 m, an upright ring (its hole facing the camera) 30 cm and a 3 cm post 25 cm in
    front of it; the camera 1.7 m from the ring looks along +y. -> (room, frame, object index per pixel)."""
    wall = trimesh.creation.box(extents=[2.0, 0.05, 2.5])  # the image sees past its ends
    wall.apply_translation([0, WALL_Y_M + 0.025, 1.25])
    ring = trimesh.creation.torus(RING_MAJOR_M, RING_MINOR_M, major_sections=64, minor_sections=32)
    ring.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    ring.apply_translation(RING_CENTER)
    post = trimesh.creation.box(extents=POST_SIZE)
    post.apply_translation(POST_CENTER)
    parts = [("wall", wall, (200, 200, 190)), ("ring", ring, (30, 60, 200)), ("post", post, (200, 30, 30))]
    vertices = np.concatenate([p.vertices for _, p, _ in parts]).astype(np.float32).astype(np.float64)
    offsets = np.cumsum([0] + [len(p.vertices) for _, p, _ in parts])
    triangles = np.concatenate([p.faces + o for (_, p, _), o in zip(parts, offsets, strict=False)]).astype(np.int32)
    colors = np.concatenate([np.tile(np.array(c, np.uint8), (len(p.faces), 1)) for _, p, c in parts])
    elements = np.concatenate([np.full(len(p.faces), k, np.int32) for k, (_, p, _) in enumerate(parts)])

    def gt(object_id: str, center: np.ndarray, size: np.ndarray) -> GroundTruthObject:
        pose = Pose.from_rotation_translation(np.eye(3), center)
        return GroundTruthObject(object_id, object_id, object_id, "any", (0, 0, 0), pose, size, center, "wall")

    ring_size = np.array([2 * (RING_MAJOR_M + RING_MINOR_M), 2 * RING_MINOR_M, 2 * (RING_MAJOR_M + RING_MINOR_M)])
    objects = (gt("ring", RING_CENTER, ring_size), gt("post", POST_CENTER, POST_SIZE))
    room = SyntheticRoom(
        seed=0, size_m=np.array([3.0, 4.0, 2.5]), objects=objects, planes=(), element_ids=("wall", "ring", "post"),
        vertices=vertices, triangles=triangles, triangle_colors=colors, triangle_elements=elements,
    )  # fmt: skip
    pose = look_at(np.array([0.0, 0.0, 1.0]), np.array([0.0, 2.0, 1.0]))
    return room, render(room, [pose], K)[0], render_object_masks(room, [pose], K)[0]


@pytest.fixture(scope="module")
def wall_view() -> tuple[SyntheticRoom, CameraFrame, np.ndarray]:
    return wall_scene()


def torus_distance_m(points: np.ndarray) -> np.ndarray:
    """Distance of world points (n, 3) from the ring's surface (its axis is world y)."""
    p = points - RING_CENTER
    radial = np.hypot(p[:, 0], p[:, 2])
    return np.abs(np.hypot(radial - RING_MAJOR_M, p[:, 1]) - RING_MINOR_M)


def test_a_box_core_seeing_the_wall_through_a_ring_keeps_only_the_ring(wall_view) -> None:
    _, frame, view = wall_view
    box = box_from_mask(view == 0)
    # Without a mask the lift uses the box's central half, mostly the ring's hole: the wall, 30 cm back.
    x1, y1, x2, y2 = box
    core = frame.depth_m()[
        int((3 * y1 + y2) / 4) : int((y1 + 3 * y2) / 4), int((3 * x1 + x2) / 4) : int((x1 + 3 * x2) / 4)
    ]
    assert np.mean(core > WALL_Y_M - 0.05) > 0.5
    d = lift_detection(Detection2D("ring", 0, 0.8, box), frame, options=ALL_POINTS)
    assert d is not None
    assert len(d.points_world_m) > 0.3 * core.size
    # 64 x 32 facets deviate from the true torus by < 1 mm.
    assert torus_distance_m(d.points_world_m.astype(np.float64)).max() < SURFACE_TOL_M + 0.001
    assert d.points_world_m[:, 1].max() < RING_CENTER[1] + RING_MINOR_M + SURFACE_TOL_M


def test_a_mask_bleeding_onto_the_wall_keeps_only_the_object(wall_view) -> None:
    room, frame, view = wall_view
    kernel = np.ones((13, 13), np.uint8)  # 6 px of bleeding all round, as a coarse mask would
    dets = []
    for i in (0, 1):
        mask = cv2.dilate((view == i).astype(np.uint8), kernel).astype(bool)
        assert np.mean(frame.depth_m()[mask] > WALL_Y_M - 0.05) > 0.2  # the test does see the wall
        dets.append(Detection2D(room.objects[i].label, i, 0.7, box_from_mask(mask), mask))
    ring, post = lift_detections(dets, frame, options=ALL_POINTS)
    assert len(ring.points_world_m) == np.count_nonzero(view == 0)  # all of the ring, nothing else
    assert torus_distance_m(ring.points_world_m.astype(np.float64)).max() < SURFACE_TOL_M + 0.001
    assert len(post.points_world_m) == np.count_nonzero(view == 1)
    assert box_signed_distance(post.points_world_m, room.objects[1].to_scene_object()).max() <= SURFACE_TOL_M
    near = footprint_m(POST_CENTER[1])
    assert post.size_m[2] == pytest.approx(POST_SIZE[2], abs=2 * near)
    np.testing.assert_allclose(post.pose_world_box.translation[[0, 2]], POST_CENTER[[0, 2]], atol=2 * near)


def test_flying_pixels_in_front_and_a_surface_behind_are_dropped() -> None:
    rng = np.random.default_rng(0)
    obj = rng.uniform(1.50, 1.56, 400)  # an object's front
    behind = rng.uniform(1.80, 1.82, 600)  # the wall, more of it than of the object
    flying = np.array([0.6, 0.9, 1.2])  # mixed pixels in front, too few to be a surface
    z = np.concatenate([flying, obj, behind])
    keep = nearest_surface(z)
    assert not keep[:3].any() and keep[3:403].all() and not keep[403:].any()
    # A surface running on behind the object without a gap (a table top) is cut by the MAD test ...
    ramp = np.concatenate([rng.normal(2.0, 0.005, 500), np.linspace(2.0, 2.6, 200)])
    keep = nearest_surface(ramp)
    assert keep[:500].mean() > 0.99 and not keep[500:][np.linspace(2.0, 2.6, 200) > 2.1].any()
    # ... unless the detection is that deep: a 60 cm wide box at 2 m keeps 60 cm of depth.
    assert nearest_surface(ramp, size_per_depth=0.3)[500:][np.linspace(2.0, 2.6, 200) < 2.55].all()


def test_upright_box_recovers_a_rotated_box_and_follows_up() -> None:
    rng = np.random.default_rng(1)
    local = rng.uniform(-0.5, 0.5, (2000, 3)) * [0.4, 0.1, 0.2]
    local[:8] = np.array([[x, y, z] for x in (-0.2, 0.2) for y in (-0.05, 0.05) for z in (-0.1, 0.1)])
    yaw = np.radians(120.0)
    rz = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    truth = Pose.from_rotation_translation(rz, np.array([1.0, -2.0, 0.7]))
    pose, size = upright_box(truth.transform_points(local))
    np.testing.assert_allclose(size, [0.4, 0.1, 0.2], atol=1e-5)
    np.testing.assert_allclose(pose.translation, truth.translation, atol=1e-5)
    # Yaw 120 degrees is -60 for a box (half-turn symmetric): x keeps within 90 degrees of world +X.
    assert np.degrees(np.arctan2(pose.rotation[1, 0], pose.rotation[0, 0])) == pytest.approx(-60.0, abs=1e-3)
    # With +Y up, the same points turned so their up is +Y give the same box turned.
    turn = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])  # +Z -> +Y
    pose_y, size_y = upright_box(truth.transform_points(local) @ turn.T, up_world=[0, 2, 0])
    np.testing.assert_allclose(size_y, size, atol=1e-5)
    np.testing.assert_allclose(pose_y.matrix[:3, 3], turn @ pose.translation, atol=1e-5)
    np.testing.assert_allclose(pose_y.rotation, turn @ pose.rotation, atol=1e-5)


def test_lifting_in_a_frame_with_another_up_gives_the_same_boxes_turned(room_views) -> None:
    room, frames, masks = room_views
    frame, view = frames[1], masks[1]
    dets = [Detection2D(o.label, i, 1.0, box_from_mask(m), m) for i, o, m in visible_objects(room, view)]
    turn = Pose.from_rotation_translation(np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]), np.zeros(3))
    turned = dataclasses.replace(frame, pose_world_camera=turn @ frame.pose_world_camera)
    for a, b in zip(lift_detections(dets, frame), lift_detections(dets, turned, up_world=(0, 1, 0)), strict=True):
        np.testing.assert_allclose(b.pose_world_box.matrix, (turn @ a.pose_world_box).matrix, atol=1e-6)
        np.testing.assert_allclose(b.size_m, a.size_m, atol=1e-6)
        np.testing.assert_allclose(b.centroid_world_m, turn.transform_points(a.centroid_world_m[None])[0], atol=1e-6)


def test_depth_at_another_resolution_is_addressed_by_scaling(room_views) -> None:
    room, frames, masks = room_views
    frame, view = frames[2], masks[2]
    half = cv2.resize(frame.depth, (320, 240), interpolation=cv2.INTER_NEAREST)
    small = dataclasses.replace(frame, depth=half)  # intrinsics and colour stay at 640 x 480
    seen = visible_objects(room, view)
    dets = [Detection2D(o.label, i, 1.0, box_from_mask(m), m) for i, o, m in seen]
    lifted = lift_detections(dets, small)
    assert len(lifted) == len(dets)
    for (_, obj, m), d in zip(seen, lifted, strict=True):
        # Nearest-neighbour halving moves samples by up to half a full-size pixel, and a mask edge may pick
        # a neighbour's depth: most points stay within a half-size pixel footprint of the object.
        near = footprint_m(float(np.median(frame.depth_m()[m])))
        dist = box_signed_distance(d.points_world_m, obj.to_scene_object())
        assert np.mean(dist <= 2 * near) > 0.95, obj.label
        assert box_signed_distance(d.centroid_world_m[None], obj.to_scene_object())[0] < near


def test_detections_without_depth_are_left_out_and_bad_frames_named(wall_view) -> None:
    _, frame, view = wall_view
    ring = Detection2D("ring", 0, 0.8, box_from_mask(view == 0))
    sky = Detection2D("sky", 1, 0.9, np.array([0, 0, 40, 40], np.float32))  # left of the wall: no depth
    empty_mask = Detection2D("none", 1, 0.9, np.array([0, 0, 10, 10], np.float32), np.zeros((480, 640), bool))
    assert lift_detection(sky, frame) is None and lift_detection(empty_mask, frame) is None
    lifted = lift_detections([sky, ring, empty_mask], frame)
    assert [d.label for d in lifted] == ["ring"] and isinstance(lifted[0], Detection3D)
    assert lift_detections([], frame) == []
    with pytest.raises(InvalidArgumentError, match="frame.pose_world_camera: is required"):
        lift_detections([ring], dataclasses.replace(frame, pose_world_camera=None))
    with pytest.raises(InvalidArgumentError, match="frame.depth: is required"):
        lift_detections([ring], dataclasses.replace(frame, depth=None))
    with pytest.raises(InvalidArgumentError, match="up_world"):
        lift_detections([ring], frame, up_world=(0, 0, 0))
    with pytest.raises(InvalidArgumentError, match="core_fraction"):
        LiftingOptions(core_fraction=0.0)


def test_colour_detector_on_a_rendered_frame_lifts_onto_the_objects(room_views, tmp_path) -> None:
    from detector_helpers import NAMES_METADATA, ColorBlobYolo, export_onnx

    from sora_sdk.objects._detector import load_detector

    room, frames, _ = room_views
    frame = frames[2]
    model = export_onnx(tmp_path / "seg.onnx", ColorBlobYolo(segment=True), dynamic=True, metadata=NAMES_METADATA)
    with load_detector(model, input_size=(480, 640)) as det:
        dets = det.detect(frame.color)
    by_colour = {o.color_name: o for o in room.objects}
    found = {d.label for d in dets}
    assert {"red", "green", "blue"} <= found, found
    lifted = lift_detections([d for d in dets if d.label in ("red", "green", "blue")], frame, options=ALL_POINTS)
    assert len(lifted) == 3
    for d in lifted:
        gt = by_colour[d.label]
        near = footprint_m(float(np.linalg.norm(gt.centroid_world_m - frame.pose_world_camera.translation)))
        # The model's masks are 4 px blocks: their edges bleed onto the support, the wall or the shelf;
        # what is left past the nearest-surface test is the object and a rim of its support.
        dist = box_signed_distance(d.points_world_m, gt.to_scene_object())
        assert np.mean(dist <= 4 * near) > 0.95, d.label
        assert box_signed_distance(d.centroid_world_m[None], gt.to_scene_object())[0] < 2 * near, d.label
