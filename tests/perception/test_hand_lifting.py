"""Camera hands lifted to metric 3D: exact on synthetic truth, plausible on hands.jpg with synthetic depth."""

from __future__ import annotations

import cv2
import numpy as np
from perception_helpers import device_hand, frame, pinhole, rotation_about

from sora_sdk.core import Intrinsics, Pose
from sora_sdk.perception import CameraHandTracker, HandLiftingOptions, hand_from_device_joints, lift_hand
from sora_sdk.perception._hand_lifting import near_mode_depth
from sora_sdk.perception._landmarks import HAND_BONES, PALM_LANDMARKS, hand_scale_m

K = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
# A camera 1.5 m up, looking along world -z and pitched 20 degrees down (OpenCV axes: x right, y down).
_R_WC = rotation_about(np.array([1.0, 0.0, 0.0]), np.radians(-20.0)) @ np.diag([1.0, -1.0, -1.0])
POSE_WC = Pose.from_rotation_translation(_R_WC, np.array([0.1, 1.5, 0.2]))


def _project(points_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (n, 2) and camera-frame points (n, 3) of world points."""
    cam = POSE_WC.inverse().transform_points(points_world)
    px = np.stack([K.fx_px * cam[:, 0] / cam[:, 2] + K.cx_px, K.fy_px * cam[:, 1] / cam[:, 2] + K.cy_px], axis=1)
    return px, cam


def _truth_hand() -> np.ndarray:
    """(21, 3) world landmarks of an open right hand 0.45 m in front of the camera, palm toward it."""
    cam_forward = POSE_WC.rotation[:, 2]
    target = POSE_WC.translation + 0.45 * cam_forward
    sample = device_hand("open_palm", 0.0)
    lm = hand_from_device_joints(sample, 1).landmarks_world_m.astype(np.float64)
    return lm - lm[list(PALM_LANDMARKS)].mean(axis=0) + target


def _render(px: np.ndarray, cam: np.ndarray, radius: int, background_m: float = 2.0) -> np.ndarray:
    """Depth image: background, and a disc of skin (1 cm in front of the joint) at every landmark."""
    depth = np.full((K.height_px, K.width_px), background_m, np.float32)
    for i in np.argsort(-cam[:, 2]):  # far first, so nearer joints paint over
        cv2.circle(depth, tuple(np.round(px[i]).astype(int)), radius, float(cam[i, 2] - 0.01), -1)
    return depth


def _mediapipe_like_z(px: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """MediaPipe's relative depth in pixels: depth relative to the wrist, scaled like x at the hand's depth."""
    z_hand = cam[list(PALM_LANDMARKS), 2].mean()
    return (cam[:, 2] - cam[0, 2]) * K.fx_px / z_hand


def test_lift_recovers_a_known_hand_to_millimetres() -> None:
    truth = _truth_hand()
    px, cam = _project(truth)
    lift = lift_hand(px, _mediapipe_like_z(px, cam), K, POSE_WC, _render(px, cam, radius=7))
    assert lift.used_depth
    err = np.linalg.norm(lift.points_world_m - truth, axis=1)
    assert err.max() < 0.003, err  # measured ~0.3 mm: only the weak-perspective z approximation remains
    assert abs(hand_scale_m(lift.points_world_m) - hand_scale_m(truth)) < 0.002


def test_lift_survives_noise_dropouts_and_background_in_the_window() -> None:
    """3 mm depth noise, 10 % missing pixels, windows mostly background (small discs): still < 1 cm."""
    rng = np.random.default_rng(0)
    truth = _truth_hand()
    px, cam = _project(truth)
    depth = _render(px, cam, radius=3)
    depth += rng.normal(0.0, 0.003, depth.shape).astype(np.float32)
    depth[rng.random(depth.shape) < 0.1] = 0.0
    lift = lift_hand(px, _mediapipe_like_z(px, cam), K, POSE_WC, depth)
    assert lift.used_depth
    err = np.linalg.norm(lift.points_world_m - truth, axis=1)
    assert err.max() < 0.01, err


def test_near_mode_rejects_background_where_a_median_would_not() -> None:
    window = np.concatenate([np.full(25, 0.45), np.full(56, 1.8), [0.0] * 5])  # 31 % hand, rest background/holes
    assert np.median(window[window > 0]) > 1.0  # a plain median lands on the background
    assert abs(near_mode_depth(window) - 0.45) < 1e-6
    # A few flying pixels in front of the hand are too few to form the near mode.
    noisy = np.concatenate([window, [0.2, 0.21]])
    assert abs(near_mode_depth(noisy) - 0.45) < 1e-6
    assert near_mode_depth(np.array([0.0, 0.0])) is None


def test_lift_without_depth_uses_a_typical_hand_and_lowers_confidence() -> None:
    truth = _truth_hand()
    px, cam = _project(truth)
    opts = HandLiftingOptions(typical_hand_scale_m=hand_scale_m(truth))
    lift = lift_hand(px, _mediapipe_like_z(px, cam), K, POSE_WC, None, opts)
    assert not lift.used_depth
    # The hand's true size is the "typical" one here, so the distance comes out right to ~1 cm.
    assert np.linalg.norm(lift.points_world_m - truth, axis=1).max() < 0.015
    reproj, _ = _project(lift.points_world_m)
    assert np.abs(reproj - px).max() < 0.01


def test_hands_jpg_with_synthetic_depth_lands_on_the_rays_at_metric_size(
    image_tracker: CameraHandTracker, hands_rgb
) -> None:
    """hands.jpg at fx = 600 px with a depth image: hand mask 0.38 m, background 1.5 m, 5 % holes.

    Tolerances: every landmark on its pixel's ray (< 1 mm off it, the back-projection is exact); the
    wrist's depth within 3 cm of the surface + 1 cm (MediaPipe's relative depth of the wrist against
    the knuckles is the only free part); palm width (index to little MCP) 6-10 cm.
    """
    k = pinhole(hands_rgb, 600.0)
    first = image_tracker.detect(frame(hands_rgb, intrinsics=k))
    h, w = hands_rgb.shape[:2]
    depth = np.full((h, w), 1.5, np.float32)
    for hand in first.hands:
        pts = np.round(hand.landmarks_px).astype(np.int32)
        for a, b in HAND_BONES:
            cv2.line(depth, tuple(pts[a]), tuple(pts[b]), 0.38, 22)
        cv2.fillPoly(depth, [pts[[0, 1, 5, 9, 13, 17]]], 0.38)
    depth[np.random.default_rng(1).random(depth.shape) < 0.05] = 0.0

    res = image_tracker.detect(frame(hands_rgb, intrinsics=k, pose=POSE_WC, depth=depth))
    no_depth = image_tracker.detect(frame(hands_rgb, intrinsics=k, pose=POSE_WC))
    assert len(res.hands) == 2
    for hand, lift, bare in zip(res.hands, res.lifts, no_depth.hands, strict=True):
        assert lift.used_depth
        cam = POSE_WC.inverse().transform_points(hand.landmarks_world_m)
        rays = np.column_stack([(hand.landmarks_px - [k.cx_px, k.cy_px]) / k.fx_px, np.ones(21)])
        rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        off_ray = np.linalg.norm(cam - (cam * rays).sum(1, keepdims=True) * rays, axis=1)
        assert off_ray.max() < 1e-3
        assert abs(cam[0, 2] - 0.39) < 0.03, cam[0, 2]
        palm_width = float(np.linalg.norm(cam[5] - cam[17]))
        assert 0.06 <= palm_width <= 0.10, palm_width
        assert bare.confidence < 0.6 * hand.confidence  # no depth: flagged with lower confidence
