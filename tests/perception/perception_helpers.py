"""Builders shared by the perception tests: labelled device hands, scripted trajectories, scenes.

World frame of the tests: metres, +y up, the user at the origin looking along -z (like OpenXR
stage space); head frames follow the sensor proto (x right, y down, z forward).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sora_sdk.core import (
    CameraFrame,
    HandJointsSample,
    HeadPoseSample,
    Intrinsics,
    Plane,
    PlaneLabel,
    Pose,
    SceneObject,
)
from sora_sdk.perception import SyntheticHand, hand_from_device_joints, hand_pose_world, synthetic_hand_joints
from sora_sdk.perception._synthetic import synthetic_hand_local

DATA = Path(__file__).parents[1] / "data" / "images"
EXPECTED = json.loads((DATA / "EXPECTED.json").read_text())

UP = np.array([0.0, 1.0, 0.0])
FORWARD = np.array([0.0, 0.0, -1.0])
RIGHT = np.array([1.0, 0.0, 0.0])

#: Static test poses: label -> (hand parameters, what points "up": "fingers" or "thumb" or "thumb_down"
#: or "forward" (fingers forward, palm down)).
STATIC_POSES: dict[str, tuple[SyntheticHand, str]] = {
    "open_palm": (SyntheticHand(), "fingers"),
    "closed_fist": (SyntheticHand(curls=(1.0, 1.0, 1.0, 1.0, 1.0)), "fingers"),
    "pointing_up": (SyntheticHand(curls=(1.0, 0.0, 1.0, 1.0, 1.0)), "fingers"),
    "point": (SyntheticHand(curls=(1.0, 0.0, 1.0, 1.0, 1.0)), "forward"),
    "thumb_up": (SyntheticHand(curls=(0.0, 1.0, 1.0, 1.0, 1.0)), "thumb"),
    "thumb_down": (SyntheticHand(curls=(0.0, 1.0, 1.0, 1.0, 1.0)), "thumb_down"),
    "victory": (SyntheticHand(curls=(1.0, 0.0, 0.0, 1.0, 1.0), spread=2.5), "fingers"),
    "i_love_you": (SyntheticHand(curls=(0.0, 0.0, 1.0, 1.0, 0.0)), "fingers"),
    "pinch": (SyntheticHand(curls=(0.0, 0.45, 0.3, 0.2, 0.1), pinch_gap_m=0.005), "forward"),
}


def rotation_about(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * k @ k


def _frame_from(v1_local: np.ndarray, v2_local: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """Rotation taking local v1 to world w1 and local v2 (orthogonalised) toward world w2."""

    def basis(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        e1 = a / np.linalg.norm(a)
        e2 = b - (b @ e1) * e1
        e2 /= np.linalg.norm(e2)
        return np.stack([e1, e2, np.cross(e1, e2)], axis=1)

    return basis(w1, w2) @ basis(v1_local, v2_local).T


def static_pose_world(
    label: str, *, handedness: str = "right", yaw_deg: float = 0.0, wrist: np.ndarray | None = None
) -> Pose:
    """``pose_world_hand`` presenting the labelled pose to a user facing -z, turned by ``yaw_deg`` about up."""
    hand, orient = STATIC_POSES[label]
    wrist = np.array([0.15, -0.3, -0.4]) if wrist is None else wrist
    yaw = rotation_about(UP, np.radians(yaw_deg))
    if orient == "fingers":  # fingers up, palm away from the user
        pose = hand_pose_world(wrist, UP, FORWARD)
        rot = pose.rotation
    elif orient == "forward":  # fingers forward, palm down
        rot = hand_pose_world(wrist, FORWARD, -UP).rotation
    else:
        local = synthetic_hand_local(hand)
        if handedness == "left":
            local = local * np.array([-1.0, 1.0, 1.0])
        thumb = local[5] - local[3]  # OpenXR thumb tip - thumb proximal (MCP)
        target = UP if orient == "thumb" else -UP
        rot = _frame_from(thumb, local[12] - local[1], target, FORWARD)
    return Pose.from_rotation_translation(yaw @ rot, wrist)


def device_hand(
    label: str,
    t: float,
    *,
    handedness: str = "right",
    yaw_deg: float = 0.0,
    hand: SyntheticHand | None = None,
    noise_m: float = 0.0,
    rng: np.random.Generator | None = None,
    offset: np.ndarray | None = None,
) -> HandJointsSample:
    """OpenXR joints of the labelled static pose (optionally with other hand parameters), at ``t``."""
    params = hand if hand is not None else STATIC_POSES[label][0]
    pose = static_pose_world(label, handedness=handedness, yaw_deg=yaw_deg)
    if offset is not None:
        pose = Pose.from_rotation_translation(pose.rotation, pose.translation + offset)
    return synthetic_hand_joints(params, pose, handedness=handedness, capture_time_s=t, noise_m=noise_m, rng=rng)


def observation(sample: HandJointsSample, hand_id: int = 1):
    return hand_from_device_joints(sample, hand_id)


def min_jerk(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk profile 0..1 for s in 0..1 (how a hand moves point to point)."""
    s = np.clip(s, 0.0, 1.0)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def head_pose(yaw_deg: float = 0.0, t: float = 0.0, position: np.ndarray | None = None) -> HeadPoseSample:
    """A head at ``position`` (default eye height 1.6 m... here the origin) looking along -z turned by yaw.

    Head frame: x right, y down, z forward.
    """
    base = np.stack([RIGHT, -UP, FORWARD], axis=1)
    rot = rotation_about(UP, np.radians(yaw_deg)) @ base
    return HeadPoseSample(t, Pose.from_rotation_translation(rot, np.zeros(3) if position is None else position))


def box(
    object_id: str, center: np.ndarray, size: float | np.ndarray, rotation: np.ndarray | None = None
) -> SceneObject:
    size_m = np.full(3, size) if np.isscalar(size) else np.asarray(size, dtype=np.float64)
    return SceneObject(
        object_id=object_id,
        version=1,
        label="box",
        label_confidence=1.0,
        state="confirmed",
        pose_world_box=Pose.from_rotation_translation(np.eye(3) if rotation is None else rotation, center),
        size_m=size_m,
    )


def horizontal_plane(
    plane_id: str,
    height_m: float,
    center_xz: tuple[float, float],
    extent: tuple[float, float],
    label: PlaneLabel = PlaneLabel.TABLE,
) -> Plane:
    """A horizontal plane (normal +y) with a rectangular boundary."""
    rot = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # plane x = world x, y = world -z, normal +y
    ex, ey = extent
    square = np.array([[-ex / 2, -ey / 2], [ex / 2, -ey / 2], [ex / 2, ey / 2], [-ex / 2, ey / 2]])
    pose = Pose.from_rotation_translation(rot, np.array([center_xz[0], height_m, center_xz[1]]))
    return Plane(plane_id, 1, label, pose, extent, square, ex * ey)


def pinhole(image: np.ndarray, fx: float) -> Intrinsics:
    h, w = image.shape[:2]
    return Intrinsics(w, h, fx, fx, (w - 1) / 2.0, (h - 1) / 2.0)


def frame(image: np.ndarray, t: float = 0.0, **kw: object) -> CameraFrame:
    k = kw.pop("intrinsics", None) or pinhole(image, 600.0)
    return CameraFrame(0, t, k, kw.pop("pose", None), image, kw.pop("depth", None))  # type: ignore[arg-type]
