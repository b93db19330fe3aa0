"""What clients sense, decoded and validated: the input side of every pipeline.

All timestamps are capture times in seconds on the client's clock (``capture_time_s``);
all poses are world-from-X transforms in the session's world frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import Intrinsics, Pose

__all__ = [
    "AudioChunk",
    "CameraFrame",
    "EyeGazeSample",
    "HandJointsSample",
    "HeadPoseSample",
    "SensorReading",
    "OPENXR_HAND_JOINT_COUNT",
]

#: OpenXR XR_EXT_hand_tracking joint count (palm, wrist, 4 thumb, 5 x 4 fingers).
OPENXR_HAND_JOINT_COUNT = 26


@dataclass(frozen=True, eq=False)
class CameraFrame:
    """One RGB-D frame.

    color : (h, w, 3) uint8 RGB, or None
    depth : (h, w) uint16 (scaled by ``depth_m_per_unit``) or float32 metres, or None;
            0 (or non-finite for float) means no measurement
    pose_world_camera : T_W_C in the OpenCV camera convention, or None when the server estimates it
    """

    sequence: int
    capture_time_s: float
    intrinsics: Intrinsics
    pose_world_camera: Pose | None
    color: np.ndarray | None
    depth: np.ndarray | None
    depth_m_per_unit: float = 0.001

    def depth_m(self) -> np.ndarray:
        """(h, w) float32 metres, 0 where there is no measurement."""
        if self.depth is None:
            raise ValueError("frame has no depth")
        if self.depth.dtype == np.float32:
            d = np.nan_to_num(self.depth, nan=0.0, posinf=0.0, neginf=0.0)
            return np.where(d > 0, d, 0).astype(np.float32)
        return self.depth.astype(np.float32) * np.float32(self.depth_m_per_unit)


@dataclass(frozen=True)
class HeadPoseSample:
    capture_time_s: float
    pose_world_head: Pose


@dataclass(frozen=True, eq=False)
class HandJointsSample:
    """Device hand joints in OpenXR order.

    positions_world_m : (26, 3) float32; radii_m : (26,) float32; valid : (26,) bool
    """

    capture_time_s: float
    handedness: str  # "left" | "right"
    positions_world_m: np.ndarray
    radii_m: np.ndarray
    valid: np.ndarray
    orientations_xyzw: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class EyeGazeSample:
    """A combined eye-gaze ray in the world frame; direction is unit length."""

    capture_time_s: float
    origin_world_m: np.ndarray
    direction_world: np.ndarray
    confidence: float


@dataclass(frozen=True, eq=False)
class AudioChunk:
    """samples : (n,) int16 mono (the first channel when more were sent)."""

    capture_time_s: float
    sample_rate_hz: int
    samples: np.ndarray


@dataclass(frozen=True)
class SensorReading:
    capture_time_s: float
    name: str
    value: float
    unit: str
