"""Device hands: OpenXR hand joints put on the common 21-landmark hand model.

The observation type :class:`HandObservation` is shared by both hand sources (camera and device).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.sensors import HandJointsSample
from ._landmarks import index_ray
from ._static_gestures import pinch_strength

__all__ = ["OPENXR_TO_MEDIAPIPE", "HandObservation", "hand_from_device_joints"]

# OpenXR XR_EXT_hand_tracking joint indices for each of MediaPipe's 21 landmarks.
# OpenXR: 0 palm, 1 wrist, 2-5 thumb (metacarpal, proximal, distal, tip), then for index,
# middle, ring and little: metacarpal, proximal, intermediate, distal, tip (6-10, 11-15, 16-20, 21-25).
# MediaPipe: 0 wrist, thumb CMC/MCP/IP/TIP, then per finger MCP/PIP/DIP/TIP. The finger metacarpal
# joints have no MediaPipe counterpart; MediaPipe's thumb CMC is OpenXR's thumb metacarpal.
OPENXR_TO_MEDIAPIPE: tuple[int, ...] = (
    1,  # wrist
    2, 3, 4, 5,  # thumb
    7, 8, 9, 10,  # index
    12, 13, 14, 15,  # middle
    17, 18, 19, 20,  # ring
    22, 23, 24, 25,  # little
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class HandObservation:
    """One hand on the common 21-landmark model (MediaPipe order).

    hand_id : stable while the hand stays tracked.
    handedness : ``"left"`` | ``"right"``; source : ``"camera"`` | ``"device"``.
    confidence : 0..1 (camera hands placed without depth are scaled down).
    landmarks_world_m : (21, 3) float32, world frame, metres.
    landmarks_px : (21, 2) float32 pixels (OpenCV convention), or None for device hands.
    gesture : current static pose (``STATIC_GESTURES``) or ``""``; gesture_confidence 0..1.
    pinch_strength : 0 (open) .. 1 (thumb and index tips together).
    pointing_origin_m, pointing_direction : (3,) float32, world frame: the index ray (origin at the
        tip, direction MCP -> tip, unit), or the pinch aim ray while pinching.
    """

    hand_id: int
    handedness: str
    source: str  # "camera" | "device"
    confidence: float
    capture_time_s: float
    landmarks_world_m: np.ndarray
    landmarks_px: np.ndarray | None = None
    gesture: str = ""
    gesture_confidence: float = 0.0
    pinch_strength: float = 0.0
    pointing_origin_m: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    pointing_direction: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))


def hand_from_device_joints(sample: HandJointsSample, hand_id: int) -> HandObservation:
    """Maps OpenXR's 26 joints onto the 21-landmark model, with a pinch strength and the index ray.

    Confidence is the share of the mapped joints the device marked valid.
    """
    lm = np.asarray(sample.positions_world_m, dtype=np.float32)[list(OPENXR_TO_MEDIAPIPE)]
    valid = np.asarray(sample.valid, dtype=bool)[list(OPENXR_TO_MEDIAPIPE)]
    origin, direction = index_ray(lm)
    return HandObservation(
        hand_id=hand_id,
        handedness=sample.handedness,
        source="device",
        confidence=float(valid.mean()),
        capture_time_s=sample.capture_time_s,
        landmarks_world_m=lm,
        pinch_strength=pinch_strength(lm),
        pointing_origin_m=origin.astype(np.float32),
        pointing_direction=direction.astype(np.float32),
    )
