"""Running modes of the MediaPipe-backed components, as in MediaPipe Tasks.

``IMAGE``: every call is an unrelated picture (detection on each). ``VIDEO``: calls are frames of one
stream in capture order; the models track across frames (cheaper, steadier) and timestamps must
increase strictly.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from ..core.errors import FailedPreconditionError, InvalidArgumentError
from ..core.sensors import CameraFrame

__all__ = ["RunningMode"]


class RunningMode(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class _ModeGuard:
    """Checks that a component is called in the mode it was created for, with increasing timestamps."""

    def __init__(self, component: str, mode: RunningMode) -> None:
        self.component = component
        self.mode = mode
        self.last_time_s: float | None = None
        self.closed = False

    def check(self, expected: RunningMode, frame: CameraFrame) -> np.ndarray | None:
        """The frame's RGB image (h, w, 3) uint8 C-contiguous, or None when it has none."""
        if self.closed:
            raise FailedPreconditionError(f"{self.component} is closed")
        if self.mode is not expected:
            raise FailedPreconditionError(
                f"{self.component} was created in {self.mode.value} mode; "
                f"call {'detect' if self.mode is RunningMode.IMAGE else 'detect_for_video'}()"
            )
        if expected is RunningMode.VIDEO:
            t = frame.capture_time_s
            if self.last_time_s is not None and not t > self.last_time_s:
                raise InvalidArgumentError.field(
                    "capture_time_s", f"video timestamps must increase: {t} after {self.last_time_s}"
                )
            self.last_time_s = t
        if frame.color is None:
            return None
        img = np.asarray(frame.color)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise InvalidArgumentError.field("color", f"expected (h, w, 3) uint8 RGB, got {img.shape} {img.dtype}")
        return np.ascontiguousarray(img)
