"""Gaze from face-mesh landmarks: head pose by PnP on the canonical face, eye rotation from the iris.

Landmark indices are MediaPipe Face Mesh's (478 with ``refine_landmarks``: 468-472 the iris of the
subject's right eye, the one on the image's left; 473-477 the left eye's).

**Head pose.** ``cv2.solvePnP`` on eleven points of MediaPipe's canonical face model that sit on
bone (eye corners, nose, forehead, cheekbones, the face's edge by the ears; not the mouth or chin,
which move with expression and speech) (``canonical_face_model.obj``, centimetres, x toward
the subject's left, y up, z out of the face) gives ``R_C_H``, ``t_C_H``: head model frame to camera.

**Eye rotation.** Within each eye, the iris centre's offset from the middle of the eye (corners
horizontally, lids vertically), normalised by half the eye's width, is turned into yaw and pitch of
an eyeball behind it: ``asin(gain * offset)``. The two eyes are averaged. The gains are geometric
(eye half-width over eyeball radius, ~1.1) rather than calibrated per user, so expect several degrees
of error; it tells *which* thing a kiosk user looks at, not where on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import Intrinsics

__all__ = [
    "FACE_PNP_LANDMARKS",
    "LEFT_EYE_CONTOUR",
    "LEFT_IRIS",
    "RIGHT_EYE_CONTOUR",
    "RIGHT_IRIS",
    "FaceGazeGeometry",
    "gaze_from_face_landmarks",
]

#: The subject's right eye (image left): 16 contour landmarks, corners 33 (outer) and 133 (inner).
RIGHT_EYE_CONTOUR: tuple[int, ...] = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
#: The subject's left eye (image right): corners 362 (inner) and 263 (outer).
LEFT_EYE_CONTOUR: tuple[int, ...] = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
#: Iris centre then four points on its edge, per eye.
RIGHT_IRIS: tuple[int, ...] = (468, 469, 470, 471, 472)
LEFT_IRIS: tuple[int, ...] = (473, 474, 475, 476, 477)

# Canonical face model points (MediaPipe canonical_face_model.obj, Apache-2.0), centimetres.
_CANONICAL_CM = {
    1: (0.0, -1.126865, 7.475604),  # nose tip
    6: (0.0, 2.473255, 5.788627),  # nose bridge
    10: (0.0, 8.261778, 4.481535),  # forehead
    33: (-4.445859, 2.663991, 3.173422),  # right eye, outer corner
    133: (-1.856432, 2.585245, 3.757904),  # right eye, inner corner
    362: (1.856432, 2.585245, 3.757904),  # left eye, inner corner
    263: (4.445859, 2.663991, 3.173422),  # left eye, outer corner
    50: (-4.765501, -0.701554, 3.534632),  # right cheek
    280: (4.765501, -0.701554, 3.534632),  # left cheek
    127: (-7.743095, 2.364999, -2.005167),  # right face edge, by the ear
    356: (7.743095, 2.364999, -2.005167),  # left face edge
}
#: Landmarks used for the head pose.
FACE_PNP_LANDMARKS: tuple[int, ...] = tuple(_CANONICAL_CM)
_MODEL_M = np.array([_CANONICAL_CM[i] for i in FACE_PNP_LANDMARKS]) / 100.0
# The cyclopean eye: midpoint of the four eye corners, head frame, metres.
_EYES_MID_M = np.array([_CANONICAL_CM[i] for i in (33, 133, 362, 263)]).mean(axis=0) / 100.0

# Per eye: (corner on the image's left, corner on the image's right, upper lid, lower lid, iris centre),
# for a face upright toward the camera; "left/right" are along the head's +x axis.
_EYES = ((33, 133, 159, 145, 468), (362, 263, 386, 374, 473))


@dataclass(frozen=True, eq=False)
class FaceGazeGeometry:
    """One face's head pose and gaze, camera frame (OpenCV: x right, y down, z forward), metres.

    rotation_camera_head : (3, 3) R_C_H; translation_camera_head_m : (3,) t_C_H (head model origin).
    eye_yaw_deg, eye_pitch_deg : eye-in-head rotation (yaw toward the head's +x = subject's left,
        pitch up), averaged over both eyes.
    origin_camera_m : (3,) the point between the eyes; direction_camera : (3,) unit gaze.
    reprojection_rms_px : RMS of the PnP fit over ``FACE_PNP_LANDMARKS``.
    interocular_px : distance between the eye centres in the image.
    """

    rotation_camera_head: np.ndarray
    translation_camera_head_m: np.ndarray
    eye_yaw_deg: float
    eye_pitch_deg: float
    origin_camera_m: np.ndarray
    direction_camera: np.ndarray
    reprojection_rms_px: float
    interocular_px: float


def _eye_offsets(lm: np.ndarray) -> tuple[float, float]:
    """Mean normalised iris offset (horizontal toward image right, vertical toward image down)."""
    hs, vs = [], []
    for left, right, top, bottom, iris in _EYES:
        axis = lm[right] - lm[left]
        half = 0.5 * float(np.linalg.norm(axis))
        if half < 1e-6:
            continue
        axis = axis / (2.0 * half)
        perp = np.array([-axis[1], axis[0]])  # image "down" across the eye
        hs.append(float((lm[iris] - 0.5 * (lm[left] + lm[right])) @ axis) / half)
        vs.append(float((lm[iris] - 0.5 * (lm[top] + lm[bottom])) @ perp) / half)
    if not hs:
        return 0.0, 0.0
    return float(np.mean(hs)), float(np.mean(vs))


def gaze_from_face_landmarks(
    landmarks_px: np.ndarray,
    intrinsics: Intrinsics,
    *,
    horizontal_gain: float = 1.1,
    vertical_gain: float = 1.4,
    max_eye_angle_deg: float = 45.0,
) -> FaceGazeGeometry | None:
    """Head pose and gaze from (478, 2) face-mesh landmarks in pixels (OpenCV convention).

    Returns None when PnP fails. The iris landmarks (468-477) must be present.
    """
    import cv2  # from mediapipe's opencv-contrib-python; imported here to keep `import sora_sdk.perception` light

    lm = np.asarray(landmarks_px, dtype=np.float64)
    if lm.shape[0] < 478:
        raise ValueError("need the 478 refined face-mesh landmarks (refine_landmarks=True)")
    img = lm[list(FACE_PNP_LANDMARKS)]
    k = intrinsics.matrix
    no_distortion = np.zeros(4)
    ok, rvec, tvec = cv2.solvePnP(_MODEL_M, img, k, no_distortion, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return None
    ok, rvec, tvec = cv2.solvePnP(_MODEL_M, img, k, no_distortion, rvec, tvec, True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return None
    rot, _ = cv2.Rodrigues(rvec)
    t = tvec.reshape(3)
    if t[2] <= 0:
        return None
    proj, _ = cv2.projectPoints(_MODEL_M, rvec, tvec, k, no_distortion)
    rms = float(np.sqrt(np.mean(np.sum((proj.reshape(-1, 2) - img) ** 2, axis=1))))

    h, v = _eye_offsets(lm)
    lim = np.radians(max_eye_angle_deg)
    yaw = float(np.clip(np.arcsin(np.clip(horizontal_gain * h, -1.0, 1.0)), -lim, lim))
    pitch = float(np.clip(-np.arcsin(np.clip(vertical_gain * v, -1.0, 1.0)), -lim, lim))
    d_head = np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    direction = rot @ d_head
    origin = rot @ _EYES_MID_M + t
    iod = float(np.linalg.norm(lm[[468]] - lm[[473]]))
    return FaceGazeGeometry(
        rotation_camera_head=rot,
        translation_camera_head_m=t,
        eye_yaw_deg=float(np.degrees(yaw)),
        eye_pitch_deg=float(np.degrees(pitch)),
        origin_camera_m=origin,
        direction_camera=direction / np.linalg.norm(direction),
        reprojection_rms_px=rms,
        interocular_px=iod,
    )


def canonical_face_points_m() -> dict[int, np.ndarray]:
    """The canonical face points used for PnP, head model frame, metres (for tests and tools)."""
    return {i: np.asarray(p) / 100.0 for i, p in _CANONICAL_CM.items()}
