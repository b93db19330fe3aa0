"""Face-camera gaze: MediaPipe Face Mesh with iris landmarks, then head pose and eye rotation.

For user-facing cameras (kiosks, desktops, phones) where the device has no eye tracking. Uses the
legacy ``mp.solutions.face_mesh`` graph with ``refine_landmarks=True`` (the attention model that
adds the 10 iris landmarks), bundled in the mediapipe 0.10.21 wheel, offline. The geometry is in
``_face_geometry.py``; the ray is put in the world frame with the frame's ``pose_world_camera``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.sensors import CameraFrame
from ._face_geometry import LEFT_EYE_CONTOUR, LEFT_IRIS, RIGHT_EYE_CONTOUR, RIGHT_IRIS, gaze_from_face_landmarks
from ._running_mode import RunningMode, _ModeGuard

__all__ = ["FaceGaze", "FaceGazeEstimator", "FaceGazeEstimatorOptions", "FaceGazeEstimatorResult"]


@dataclass(frozen=True)
class FaceGazeEstimatorOptions:
    """Settings of :class:`FaceGazeEstimator`.

    running_mode : ``VIDEO`` (default) or ``IMAGE``; as for the hand tracker.
    max_num_faces : faces per frame (the first is the user for gaze).
    min_detection_confidence, min_tracking_confidence : MediaPipe's thresholds, 0..1.
    horizontal_gain, vertical_gain : iris offset (in half eye widths) to sin(eye angle).
    max_eye_angle_deg : eye-in-head rotation clamp.
    base_confidence : confidence of a well-fitted face; lowered by the PnP residual.
    """

    running_mode: RunningMode = RunningMode.VIDEO
    max_num_faces: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    horizontal_gain: float = 1.1
    vertical_gain: float = 1.4
    max_eye_angle_deg: float = 45.0
    base_confidence: float = 0.6


@dataclass(frozen=True, eq=False)
class FaceGaze:
    """One face.

    landmarks_px : (478, 2) float32 pixels (OpenCV convention).
    origin_world_m, direction_world : (3,) float64, the gaze ray in the world frame (the camera frame
        when the frame has no pose); direction unit length. None when the head pose could not be solved.
    rotation_camera_head : (3, 3) R_C_H or None; eye_yaw_deg / eye_pitch_deg : eye-in-head angles.
    """

    landmarks_px: np.ndarray
    origin_world_m: np.ndarray | None
    direction_world: np.ndarray | None
    confidence: float
    rotation_camera_head: np.ndarray | None = None
    eye_yaw_deg: float = 0.0
    eye_pitch_deg: float = 0.0

    @property
    def right_eye_px(self) -> np.ndarray:
        """(16, 2) contour of the subject's right eye (image left)."""
        return self.landmarks_px[list(RIGHT_EYE_CONTOUR)]

    @property
    def left_eye_px(self) -> np.ndarray:
        """(16, 2) contour of the subject's left eye (image right)."""
        return self.landmarks_px[list(LEFT_EYE_CONTOUR)]

    @property
    def irises_px(self) -> np.ndarray:
        """(10, 2): right iris centre + 4 edge points, then the left's (landmarks 468-477)."""
        return self.landmarks_px[list(RIGHT_IRIS + LEFT_IRIS)]


@dataclass(frozen=True, eq=False)
class FaceGazeEstimatorResult:
    capture_time_s: float
    faces: list[FaceGaze] = field(default_factory=list)


class FaceGazeEstimator:
    """Face Mesh + gaze geometry on camera frames. Context manager or :meth:`close`; one frame at a time."""

    def __init__(self, options: FaceGazeEstimatorOptions) -> None:
        import mediapipe as mp

        self.options = options
        self._guard = _ModeGuard("FaceGazeEstimator", options.running_mode)
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=options.running_mode is RunningMode.IMAGE,
            max_num_faces=options.max_num_faces,
            refine_landmarks=True,
            min_detection_confidence=options.min_detection_confidence,
            min_tracking_confidence=options.min_tracking_confidence,
        )

    @classmethod
    def create_from_options(cls, options: FaceGazeEstimatorOptions | None = None) -> FaceGazeEstimator:
        return cls(options or FaceGazeEstimatorOptions())

    def close(self) -> None:
        if not self._guard.closed:
            self._guard.closed = True
            self._mesh.close()

    def __enter__(self) -> FaceGazeEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def detect(self, frame: CameraFrame) -> FaceGazeEstimatorResult:
        """IMAGE mode: faces in one unrelated picture."""
        return self._run(frame, self._guard.check(RunningMode.IMAGE, frame))

    def detect_for_video(self, frame: CameraFrame) -> FaceGazeEstimatorResult:
        """VIDEO mode: the next frame; ``frame.capture_time_s`` must increase."""
        return self._run(frame, self._guard.check(RunningMode.VIDEO, frame))

    def _run(self, frame: CameraFrame, rgb: np.ndarray | None) -> FaceGazeEstimatorResult:
        if rgb is None:
            return FaceGazeEstimatorResult(frame.capture_time_s)
        h, w = rgb.shape[:2]
        res = self._mesh.process(rgb)
        k = frame.intrinsics
        if (k.width_px, k.height_px) != (w, h):
            k = k.scaled(w, h)
        o = self.options
        faces = []
        for face in res.multi_face_landmarks or []:
            px = np.array([[p.x * w - 0.5, p.y * h - 0.5] for p in face.landmark], dtype=np.float64)
            geo = gaze_from_face_landmarks(
                px,
                k,
                horizontal_gain=o.horizontal_gain,
                vertical_gain=o.vertical_gain,
                max_eye_angle_deg=o.max_eye_angle_deg,
            )
            if geo is None:
                faces.append(FaceGaze(px.astype(np.float32), None, None, 0.0))
                continue
            pose = frame.pose_world_camera
            origin = pose.transform_points(geo.origin_camera_m[None])[0] if pose is not None else geo.origin_camera_m
            direction = pose.rotation @ geo.direction_camera if pose is not None else geo.direction_camera
            # A poor rigid fit (expression, occlusion, a non-face) lowers the confidence.
            fit = float(np.clip(1.0 - geo.reprojection_rms_px / max(0.25 * geo.interocular_px, 1e-6), 0.0, 1.0))
            faces.append(
                FaceGaze(
                    px.astype(np.float32),
                    origin,
                    direction,
                    o.base_confidence * fit,
                    geo.rotation_camera_head,
                    geo.eye_yaw_deg,
                    geo.eye_pitch_deg,
                )
            )
        return FaceGazeEstimatorResult(frame.capture_time_s, faces)
