"""Hands, gestures, gaze and objects. Reads the map through read-only queries only."""

from __future__ import annotations

from ._device import OPENXR_TO_MEDIAPIPE, HandObservation, hand_from_device_joints
from ._gaze import GazeObservation, resolve_gaze

__all__ = ["OPENXR_TO_MEDIAPIPE", "GazeObservation", "HandObservation", "hand_from_device_joints", "resolve_gaze"]
