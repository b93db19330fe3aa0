"""Procedural OpenXR hands: 26 joints from a few pose parameters, for tests, demos and benchmarks.

A test helper that ships with the library (like ``temporalio.testing``): the gesture tests, the
``make demo`` script and the benches build their device-hand sequences here instead of recording
them. The geometry is a plain adult hand (palm length 9 cm, MCP span 6.2 cm); it is not a
biomechanical model, only a faithful enough one that the gesture rules see real joint angles.

Hand frame (right hand; a left hand is its mirror image in x): origin at the wrist, +y from the wrist
toward the fingers, +x toward the thumb side, +z out of the palm. ``pose_world_hand`` places it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..core.geometry import Pose
from ..core.sensors import HandJointsSample

__all__ = ["SyntheticHand", "hand_pose_world", "synthetic_hand_joints"]

# Finger metacarpal bases, MCP knuckles (hand frame, metres) and phalanx lengths (proximal,
# intermediate, distal), index to little.
_META_BASE = np.array([[0.012, 0.025, 0.0], [0.002, 0.026, 0.0], [-0.009, 0.024, 0.0], [-0.019, 0.021, 0.0]])
_MCP = np.array([[0.031, 0.090, 0.0], [0.010, 0.094, 0.0], [-0.011, 0.088, 0.0], [-0.030, 0.078, 0.0]])
_PHALANX = np.array([[0.040, 0.024, 0.021], [0.045, 0.028, 0.023], [0.042, 0.027, 0.022], [0.033, 0.019, 0.019]])
_SPLAY_DEG = np.array([8.0, 0.0, -6.0, -14.0])
# Joint flexion at full curl (MCP, PIP, DIP), degrees: a closed fist.
_FIST_FLEX_DEG = np.array([85.0, 100.0, 60.0])
# Thumb: CMC position and segment lengths (metacarpal, proximal, distal).
_THUMB_CMC = np.array([0.020, 0.018, 0.012])
_THUMB_LEN = np.array([0.043, 0.032, 0.027])


@dataclass(frozen=True)
class SyntheticHand:
    """Pose parameters of a procedural hand.

    curls : per digit (thumb, index, middle, ring, little), 0 = straight, 1 = curled into a fist.
    spread : multiplies the natural splay of the four fingers (2.5 makes a clear V of index and middle).
    pinch_gap_m : when set, the thumb is posed (by a small inverse-kinematics solve) so its tip is
        this far from the index tip, curling the index further where the thumb cannot reach it
        otherwise; the thumb curl is then ignored.
    scale : uniform size factor (1.0 = adult).
    """

    curls: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)
    spread: float = 1.0
    pinch_gap_m: float | None = None
    scale: float = 1.0


def _rot_toward(d: np.ndarray, toward: np.ndarray, angle_rad: float) -> np.ndarray:
    """Turns unit ``d`` by ``angle_rad`` in the plane spanned by ``d`` and ``toward``."""
    perp = toward - np.dot(toward, d) * d
    perp /= max(float(np.linalg.norm(perp)), 1e-12)
    return np.cos(angle_rad) * d + np.sin(angle_rad) * perp


def _thumb_chain(azimuth: float, elevation: float, flex_mcp: float, flex_ip: float) -> np.ndarray:
    """(4, 3) thumb CMC, MCP, IP, tip in the hand frame from its metacarpal direction and two flexions (rad)."""
    d = np.array([np.cos(elevation) * np.sin(azimuth), np.cos(elevation) * np.cos(azimuth), np.sin(elevation)])
    # The thumb curls across the palm toward the little finger and into the palm.
    bend = np.array([-0.8, -0.1, 0.6])
    pts = [_THUMB_CMC]
    p = _THUMB_CMC + _THUMB_LEN[0] * d
    pts.append(p)
    d1 = _rot_toward(d, bend, flex_mcp)
    p = p + _THUMB_LEN[1] * d1
    pts.append(p)
    d2 = _rot_toward(d1, bend, flex_mcp + flex_ip)
    pts.append(p + _THUMB_LEN[2] * d2)
    return np.asarray(pts)


def _thumb_params(curl: float) -> tuple[float, float, float, float]:
    """Azimuth (from +y toward +x), elevation (toward +z), MCP and IP flexion, radians."""
    c = float(np.clip(curl, 0.0, 1.0))
    # Open: abducted ~48 degrees from the index, nearly straight; fist: folded over the middle
    # phalanges of the index and middle fingers.
    az = np.radians(48.0 + (15.0 - 48.0) * c)
    el = np.radians(8.0 + (27.0 - 8.0) * c)
    return az, el, np.radians(8.0 + 24.0 * c), np.radians(8.0 + 24.0 * c)


def _finger_chain(k: int, curl: float, spread: float) -> np.ndarray:
    """(5, 3) metacarpal base, MCP, PIP, DIP, tip of finger ``k`` (0 = index) in the hand frame."""
    a = np.radians(_SPLAY_DEG[k] * spread)
    d = np.array([np.sin(a), np.cos(a), 0.0])
    z = np.array([0.0, 0.0, 1.0])
    pts = [_META_BASE[k], _MCP[k]]
    p = _MCP[k]
    total = 0.0
    for j in range(3):
        total += np.radians(_FIST_FLEX_DEG[j] * float(np.clip(curl, 0.0, 1.0)))
        seg = np.cos(total) * d + np.sin(total) * z
        p = p + _PHALANX[k, j] * seg
        pts.append(p)
    return np.asarray(pts)


def synthetic_hand_local(hand: SyntheticHand) -> np.ndarray:
    """(26, 3) float64 OpenXR joints of a right hand in the hand frame, metres."""
    return _hand_local(hand).copy()


@lru_cache(maxsize=256)
def _hand_local(hand: SyntheticHand) -> np.ndarray:
    # Cached: a pinch pose runs a small least-squares solve (~30 ms), and sequences repeat poses.
    joints = np.zeros((26, 3))
    fingers = [_finger_chain(k, hand.curls[k + 1], hand.spread) for k in range(4)]
    for k, chain in enumerate(fingers):
        joints[6 + 5 * k : 11 + 5 * k] = chain
    if hand.pinch_gap_m is None:
        thumb = _thumb_chain(*_thumb_params(hand.curls[0]))
    else:
        from scipy.optimize import least_squares  # ~0.5 s to import; only pinch poses need it

        gap = hand.pinch_gap_m
        side = np.array([0.6, -0.2, 0.77])  # the thumb meets the index tip from the thumb's side
        c0 = hand.curls[1]

        def residual(x: np.ndarray) -> np.ndarray:
            # The thumb reaches for a point beside the index tip; the index curls further only if
            # the thumb cannot reach (a 0.1 change of curl costs as much as 2 mm of miss).
            target = _finger_chain(0, x[4], hand.spread)[-1] + gap * side
            return np.append(_thumb_chain(*x[:4])[-1] - target, 0.02 * (x[4] - c0))

        x0 = np.array([*_thumb_params(0.5), c0])
        res = least_squares(residual, x0, bounds=([-0.6, -0.3, 0.0, 0.0, 0.0], [1.5, 1.4, 1.2, 1.4, 1.0]))
        thumb = _thumb_chain(*res.x[:4])
        fingers[0] = _finger_chain(0, res.x[4], hand.spread)
        joints[6:11] = fingers[0]
    joints[2:6] = thumb
    joints[1] = 0.0  # wrist
    joints[0] = 0.5 * (joints[1] + joints[12])  # palm centre: between wrist and middle MCP
    out = joints * hand.scale
    out.setflags(write=False)
    return out


def hand_pose_world(wrist_world_m: np.ndarray, fingers_world: np.ndarray, palm_normal_world: np.ndarray) -> Pose:
    """A ``pose_world_hand`` from the wrist position, the direction the fingers point and the palm normal.

    The normal is orthogonalised against the finger direction; both are world-frame vectors.
    """
    y = np.asarray(fingers_world, dtype=np.float64)
    y = y / np.linalg.norm(y)
    z = np.asarray(palm_normal_world, dtype=np.float64)
    z = z - np.dot(z, y) * y
    z = z / np.linalg.norm(z)
    x = np.cross(y, z)
    return Pose.from_rotation_translation(np.stack([x, y, z], axis=1), np.asarray(wrist_world_m, dtype=np.float64))


def synthetic_hand_joints(
    hand: SyntheticHand,
    pose_world_hand: Pose,
    *,
    handedness: str = "right",
    capture_time_s: float = 0.0,
    noise_m: float = 0.0,
    rng: np.random.Generator | None = None,
) -> HandJointsSample:
    """A :class:`HandJointsSample` (26 OpenXR joints, world frame, metres) for ``hand`` at ``pose_world_hand``.

    A left hand is the mirror image (x -> -x in the hand frame), so with the same pose its palm
    faces the same way and its thumb points the other way. ``noise_m`` adds isotropic Gaussian
    noise (standard deviation per axis) to every joint.
    """
    local = synthetic_hand_local(hand)
    if handedness == "left":
        local = local * np.array([-1.0, 1.0, 1.0])
    elif handedness != "right":
        raise ValueError(f"handedness must be 'left' or 'right', got {handedness!r}")
    world = pose_world_hand.transform_points(local)
    if noise_m > 0:
        world = world + (rng or np.random.default_rng()).normal(0.0, noise_m, world.shape)
    return HandJointsSample(
        capture_time_s=capture_time_s,
        handedness=handedness,
        positions_world_m=world.astype(np.float32),
        radii_m=np.full(26, 0.008, np.float32),
        valid=np.ones(26, bool),
    )
