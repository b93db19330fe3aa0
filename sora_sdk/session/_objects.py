"""What a session needs from the object layer: one detector per server, detection + lifting per frame."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..core.config import ObjectsConfig
from ..core.sensors import CameraFrame
from ..objects import Detection3D

__all__ = ["detect_and_lift", "shared_detector"]

_detectors: dict[tuple[str, str, float, str], Any] = {}
_lock = threading.Lock()


def shared_detector(cfg: ObjectsConfig) -> Any | None:
    """The configured 2D detector, loaded once per process and shared by every session (None when
    no model is configured). Loading errors surface at once, naming the config key."""
    if not cfg.detector_model:
        return None
    from ..objects._detector import DetectorOptions, load_detector

    key = (cfg.detector_model, cfg.detector_labels, cfg.detector_confidence, cfg.detector_device)
    with _lock:
        if key not in _detectors:
            _detectors[key] = load_detector(
                DetectorOptions(
                    model_path=cfg.detector_model,
                    labels_path=cfg.detector_labels,
                    conf_threshold=cfg.detector_confidence,
                    device=cfg.detector_device,
                )
            )
        return _detectors[key]


def detect_and_lift(detector: Any, frame: CameraFrame, up_world: np.ndarray) -> list[Detection3D]:
    """Runs the detector on the frame's colour image and lifts what it finds into the world frame."""
    from ..objects._lift import lift_detections

    return lift_detections(detector.detect(frame.color), frame, up_world=up_world)
