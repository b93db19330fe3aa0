"""Device-reported hands and gaze, put on the common hand model and resolved against the map."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.sensors import HandJointsSample

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
    """One hand on the common 21-landmark model.

    landmarks_world_m : (21, 3) float32, world frame, metres
    landmarks_px : (21, 2) float32 pixels, or None for device hands
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
    """Maps OpenXR's 26 joints onto the 21-landmark model, with a pinch strength and an index ray."""
    lm = np.asarray(sample.positions_world_m, dtype=np.float32)[list(OPENXR_TO_MEDIAPIPE)]
    valid = np.asarray(sample.valid, dtype=bool)[list(OPENXR_TO_MEDIAPIPE)]
    # Pinch: thumb tip to index tip distance, closed at ~1 cm, open at ~7 cm (typical adult hand).
    gap = float(np.linalg.norm(lm[4] - lm[8]))
    pinch = float(np.clip((0.07 - gap) / 0.06, 0.0, 1.0))
    direction = lm[8] - lm[5]
    n = float(np.linalg.norm(direction))
    direction = direction / n if n > 1e-6 else np.zeros(3, np.float32)
    return HandObservation(
        hand_id=hand_id,
        handedness=sample.handedness,
        source="device",
        confidence=float(valid.mean()),
        capture_time_s=sample.capture_time_s,
        landmarks_world_m=lm,
        pinch_strength=pinch,
        pointing_origin_m=lm[8].copy(),
        pointing_direction=direction.astype(np.float32),
    )
