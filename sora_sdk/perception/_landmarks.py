"""The 21-landmark hand model (MediaPipe order) and the geometry every hand consumer shares.

Landmarks are ``(21, 3)`` float arrays in one metric frame (world or camera, metres); nothing
here depends on which. Indices follow MediaPipe Hands::

    0 wrist | thumb 1 CMC, 2 MCP, 3 IP, 4 tip | index 5 MCP, 6 PIP, 7 DIP, 8 tip
    middle 9-12 | ring 13-16 | little (pinky) 17-20
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FINGER_CHAINS",
    "FINGERTIPS",
    "HAND_BONES",
    "PALM_LANDMARKS",
    "finger_flexion_deg",
    "hand_scale_m",
    "index_ray",
    "palm_center",
    "pinch_aim_ray",
    "pinch_gap",
    "pinch_point",
]

WRIST = 0
THUMB_CMC, THUMB_MCP, THUMB_IP, THUMB_TIP = 1, 2, 3, 4
INDEX_MCP, INDEX_PIP, INDEX_DIP, INDEX_TIP = 5, 6, 7, 8
MIDDLE_MCP, MIDDLE_TIP = 9, 12
RING_MCP, RING_TIP = 13, 16
PINKY_MCP, PINKY_TIP = 17, 20

#: Landmarks of the (rigid) palm: wrist and the four finger MCPs.
PALM_LANDMARKS: tuple[int, ...] = (WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP, PINKY_MCP)
#: Fingertips, thumb first.
FINGERTIPS: tuple[int, ...] = (THUMB_TIP, INDEX_TIP, MIDDLE_TIP, RING_TIP, PINKY_TIP)
#: Per finger (thumb, index, middle, ring, little): the chain of landmarks from the wrist to the tip.
FINGER_CHAINS: tuple[tuple[int, ...], ...] = (
    (WRIST, 1, 2, 3, 4),
    (WRIST, 5, 6, 7, 8),
    (WRIST, 9, 10, 11, 12),
    (WRIST, 13, 14, 15, 16),
    (WRIST, 17, 18, 19, 20),
)
#: The 20 bones of the kinematic tree plus the 3 knuckle links across the palm, as (parent, child).
HAND_BONES: tuple[tuple[int, int], ...] = tuple(
    (chain[k], chain[k + 1]) for chain in FINGER_CHAINS for k in range(4)
) + ((5, 9), (9, 13), (13, 17))


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-12)


def palm_center(landmarks: np.ndarray) -> np.ndarray:
    """(3,) float64: mean of the wrist and the four MCPs, same frame as ``landmarks``."""
    return np.asarray(landmarks, dtype=np.float64)[list(PALM_LANDMARKS)].mean(axis=0)


def hand_scale_m(landmarks: np.ndarray) -> float:
    """Mean wrist-to-MCP distance (the palm is rigid, so this ignores finger pose); ~0.08-0.09 m for adults."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return float(np.linalg.norm(lm[[5, 9, 13, 17]] - lm[0], axis=1).mean())


def finger_flexion_deg(landmarks: np.ndarray) -> np.ndarray:
    """(5,) float64 degrees: how far each digit is bent, thumb first.

    For the four fingers, the angle between the palm's ray to the knuckle (wrist -> MCP) and the
    finger's overall direction (MCP -> tip): ~0-15 for a straight finger, ~150 in a fist. For the
    thumb, between its metacarpal (CMC -> MCP) and MCP -> tip: ~15 straight, ~60 folded.

    Why not the sum of the angles at each joint: phalanges are 2-4 cm long, so 3 mm of joint noise
    (camera hands, or a jittery device) adds +-20 degrees to that sum and biases it up; these two
    long vectors give +-4 degrees for the same noise.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    base = lm[[THUMB_CMC, WRIST, WRIST, WRIST, WRIST]]
    knuckle = lm[[THUMB_MCP, INDEX_MCP, MIDDLE_MCP, RING_MCP, PINKY_MCP]]
    tip = lm[list(FINGERTIPS)]
    a = _unit(knuckle - base)
    b = _unit(tip - knuckle)
    return np.degrees(np.arccos(np.clip(np.einsum("fi,fi->f", a, b), -1.0, 1.0)))


def pinch_gap(landmarks: np.ndarray) -> float:
    """Thumb-tip to index-tip distance divided by :func:`hand_scale_m` (dimensionless)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return float(np.linalg.norm(lm[THUMB_TIP] - lm[INDEX_TIP])) / max(hand_scale_m(lm), 1e-6)


def pinch_point(landmarks: np.ndarray) -> np.ndarray:
    """(3,) float64: midpoint of the thumb and index tips."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return 0.5 * (lm[THUMB_TIP] + lm[INDEX_TIP])


def index_ray(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index finger's ray: origin at the tip, direction MCP -> tip (unit); (3,) float64 each."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return lm[INDEX_TIP].copy(), _unit(lm[INDEX_TIP] - lm[INDEX_MCP])


def pinch_aim_ray(landmarks: np.ndarray, shoulder_m: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The aim ray of a pinch: origin at the pinch point, direction from ``shoulder_m`` (when known)
    or else from the wrist through the pinch point. (3,) float64 each, same frame as ``landmarks``.

    A shoulder-based ray (what headset runtimes use for far pinch aiming) is steadier than one
    from the fingers, whose joints move as the pinch closes.
    """
    p = pinch_point(landmarks)
    base = np.asarray(shoulder_m, dtype=np.float64) if shoulder_m is not None else np.asarray(landmarks)[WRIST]
    return p, _unit(p - base)
