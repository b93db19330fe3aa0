"""Hands, gestures, pointing, interactions and gaze, resolved to real things in the map.

Reads the map through read-only queries only (a raycast callable). Components follow MediaPipe
Tasks' shape: ``XxxOptions`` (frozen dataclass with documented defaults), ``Xxx.create_from_options()``,
``XxxResult``, ``close()`` / context manager. :class:`Perception` wires them for a session.

Frames and units: world frame, metres, seconds of capture time; pixels in the OpenCV convention.
"""

from __future__ import annotations

from ._bench import bench_camera_hands, bench_gaze
from ._box_geometry import box_signed_distance
from ._camera_hands import CameraHandTracker, CameraHandTrackerOptions, CameraHandTrackerResult
from ._device import OPENXR_TO_MEDIAPIPE, HandObservation, hand_from_device_joints
from ._dynamic_gestures import DynamicGestureOptions
from ._events import (
    DYNAMIC_GESTURES,
    STATIC_GESTURES,
    EventPhase,
    FixationEvent,
    GestureEvent,
    InteractionEvent,
    PointingEvent,
)
from ._face_gaze import FaceGaze, FaceGazeEstimator, FaceGazeEstimatorOptions, FaceGazeEstimatorResult
from ._fixation import Fixation, FixationFilter, FixationFilterOptions
from ._gaze import GazeObservation, Raycaster, resolve_gaze, target_key
from ._gaze_tracker import GazeTracker, GazeTrackerOptions
from ._gesture_recognizer import GestureRecognizer, GestureRecognizerOptions, GestureRecognizerResult
from ._hand_lifting import HandLift, HandLiftingOptions, lift_hand
from ._interaction import HandInteractionDetector, HandInteractionOptions
from ._perception import Perception, PerceptionEvent, PerceptionOptions
from ._pointing import PointingResult, PointingTracker, PointingTrackerOptions
from ._running_mode import RunningMode
from ._scene_raycaster import SceneRaycaster
from ._static_gestures import StaticPoseOptions, static_pose_scores
from ._synthetic import SyntheticHand, hand_pose_world, synthetic_hand_joints

__all__ = [
    "DYNAMIC_GESTURES",
    "OPENXR_TO_MEDIAPIPE",
    "STATIC_GESTURES",
    "CameraHandTracker",
    "CameraHandTrackerOptions",
    "CameraHandTrackerResult",
    "DynamicGestureOptions",
    "EventPhase",
    "FaceGaze",
    "FaceGazeEstimator",
    "FaceGazeEstimatorOptions",
    "FaceGazeEstimatorResult",
    "Fixation",
    "FixationEvent",
    "FixationFilter",
    "FixationFilterOptions",
    "GazeObservation",
    "GazeTracker",
    "GazeTrackerOptions",
    "GestureEvent",
    "GestureRecognizer",
    "GestureRecognizerOptions",
    "GestureRecognizerResult",
    "HandInteractionDetector",
    "HandInteractionOptions",
    "HandLift",
    "HandLiftingOptions",
    "HandObservation",
    "InteractionEvent",
    "Perception",
    "PerceptionEvent",
    "PerceptionOptions",
    "PointingEvent",
    "PointingResult",
    "PointingTracker",
    "PointingTrackerOptions",
    "Raycaster",
    "RunningMode",
    "SceneRaycaster",
    "StaticPoseOptions",
    "SyntheticHand",
    "bench_camera_hands",
    "bench_gaze",
    "box_signed_distance",
    "hand_from_device_joints",
    "hand_pose_world",
    "lift_hand",
    "resolve_gaze",
    "static_pose_scores",
    "synthetic_hand_joints",
    "target_key",
]
