"""The public names of sora_sdk.perception, frozen: changing them is an API change."""

from __future__ import annotations

import sora_sdk.perception as perception

EXPECTED = {
    "DYNAMIC_GESTURES", "OPENXR_TO_MEDIAPIPE", "STATIC_GESTURES",
    "CameraHandTracker", "CameraHandTrackerOptions", "CameraHandTrackerResult", "DynamicGestureOptions",
    "EventPhase", "FaceGaze", "FaceGazeEstimator", "FaceGazeEstimatorOptions", "FaceGazeEstimatorResult",
    "Fixation", "FixationEvent", "FixationFilter", "FixationFilterOptions", "GazeObservation", "GazeTracker",
    "GazeTrackerOptions", "GestureEvent", "GestureRecognizer", "GestureRecognizerOptions",
    "GestureRecognizerResult", "HandInteractionDetector", "HandInteractionOptions", "HandLift",
    "HandLiftingOptions", "HandObservation", "InteractionEvent", "Perception", "PerceptionEvent",
    "PerceptionOptions", "PointingEvent", "PointingResult", "PointingTracker", "PointingTrackerOptions",
    "Raycaster", "RunningMode", "SceneRaycaster", "StaticPoseOptions", "SyntheticHand",
    "bench_camera_hands", "bench_gaze", "box_signed_distance", "hand_from_device_joints", "hand_pose_world",
    "lift_hand", "resolve_gaze", "static_pose_scores", "synthetic_hand_joints", "target_key",
}  # fmt: skip


def test_all_is_frozen_and_importable() -> None:
    assert set(perception.__all__) == EXPECTED
    assert len(perception.__all__) == len(EXPECTED)
    for name in perception.__all__:
        assert getattr(perception, name) is not None


def test_gesture_names_match_the_proto() -> None:
    from sora_sdk._proto.sora.v1 import perception_pb2

    for g in perception.STATIC_GESTURES + perception.DYNAMIC_GESTURES:
        perception_pb2.GestureType.Value(f"GESTURE_TYPE_{g.upper()}")
    for phase in perception.EventPhase:
        perception_pb2.EventPhase.Value(f"EVENT_PHASE_{phase.value.upper()}")
    for kind in ("near", "touch", "hold"):
        perception_pb2.InteractionType.Value(f"INTERACTION_TYPE_{kind.upper()}")


def test_importing_perception_does_not_load_mediapipe_cv2_or_grpc() -> None:
    """MediaPipe and OpenCV load when a component that needs them is created; gRPC never (layering)."""
    import subprocess
    import sys

    code = "import sys, sora_sdk.perception; print(*(m in sys.modules for m in ('mediapipe', 'cv2', 'grpc')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]
