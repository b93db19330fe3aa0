"""Types shared by the object layers: 2D detections from a model and their 3D lifts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sora_sdk.core.geometry import Pose

__all__ = ["Detection2D", "Detection3D"]


@dataclass(frozen=True, eq=False)
class Detection2D:
    """One detection in an image.

    box_xyxy_px : (4,) float32 left, top, right, bottom in pixels of the input image
    mask : (h, w) bool at the image's size, when the model gives masks
    """

    label: str
    class_id: int
    score: float
    box_xyxy_px: np.ndarray
    mask: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Detection3D:
    """A detection lifted to the world frame with the frame's depth, intrinsics and pose.

    points_world_m : (n, 3) float32 the detection's depth pixels (mask, or box core) in the world
    pose_world_box : T_W_B of an oriented box around them (box z = world up)
    size_m : (3,) float64 box edge lengths
    """

    label: str
    score: float
    time_s: float
    points_world_m: np.ndarray
    centroid_world_m: np.ndarray
    pose_world_box: Pose
    size_m: np.ndarray
