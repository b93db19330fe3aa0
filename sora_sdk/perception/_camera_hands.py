"""Camera hands: MediaPipe Hands on RGB frames, stable IDs, lifted to metric 3D in the world frame.

Uses the legacy ``mp.solutions.hands`` graph with the palm-detection and hand-landmark models that
ship inside the mediapipe 0.10.21 wheel, so it runs offline. ``VIDEO`` mode tracks hands from frame to
frame (palm detection only when a hand is lost), ``IMAGE`` mode detects on every call.

**Handedness.** MediaPipe labels hands as if the image were mirrored (a selfie preview): on an
unmirrored picture of a left hand it says "Right". World-facing cameras (headsets, robots, a phone's
back camera) and raw front-camera frames are not mirrored, so by default the label is swapped;
set ``image_is_mirrored=True`` for horizontally flipped (selfie-preview) images.

**Pixels.** ``landmarks_px`` use the OpenCV convention of :class:`Intrinsics` (the centre of the
top-left pixel is (0, 0)): MediaPipe's normalised x times the width, minus 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.sensors import CameraFrame
from ._device import HandObservation
from ._hand_association import HandIdAssigner
from ._hand_lifting import HandLift, HandLiftingOptions, lift_hand
from ._landmarks import index_ray
from ._running_mode import RunningMode, _ModeGuard
from ._static_gestures import pinch_strength

__all__ = ["CameraHandTracker", "CameraHandTrackerOptions", "CameraHandTrackerResult"]


@dataclass(frozen=True)
class CameraHandTrackerOptions:
    """Settings of :class:`CameraHandTracker`.

    running_mode : ``VIDEO`` (default; frames of one stream, increasing timestamps) or ``IMAGE``.
    max_num_hands : up to this many hands per frame.
    model_complexity : 0 = lite, 1 = full landmark model (MediaPipe's tests: 25 px / 20 px thresholds).
    min_detection_confidence, min_tracking_confidence : MediaPipe's thresholds, 0..1.
    image_is_mirrored : True for selfie-preview (horizontally flipped) images; see the module docstring.
    lifting : how hands are placed in 3D.
    max_association_distance : wrist motion between frames, as a fraction of the image diagonal,
        beyond which a detection is a new hand.
    track_timeout_s : a hand keeps its ID this long after it was last seen.
    """

    running_mode: RunningMode = RunningMode.VIDEO
    max_num_hands: int = 2
    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    image_is_mirrored: bool = False
    lifting: HandLiftingOptions = field(default_factory=HandLiftingOptions)
    max_association_distance: float = 0.25
    track_timeout_s: float = 0.5


@dataclass(frozen=True, eq=False)
class CameraHandTrackerResult:
    """The hands of one frame.

    hands : one :class:`HandObservation` per detected hand (source ``"camera"``), in MediaPipe's order.
    lifts : the 3D placement of each hand (same order): depth used, reference depth, scale.
    lost_hand_ids : IDs of hands no longer tracked as of this frame (VIDEO mode).
    mediapipe_labels : MediaPipe's raw handedness label per hand ("Left"/"Right", before any swap).
    """

    capture_time_s: float
    hands: list[HandObservation]
    lifts: list[HandLift]
    lost_hand_ids: list[int] = field(default_factory=list)
    mediapipe_labels: list[str] = field(default_factory=list)


class CameraHandTracker:
    """MediaPipe Hands on camera frames (see the module docstring). Use as a context manager or call
    :meth:`close`. Not thread-safe: one frame at a time."""

    def __init__(self, options: CameraHandTrackerOptions) -> None:
        import mediapipe as mp  # heavy import, paid only by components that use it

        self.options = options
        self._guard = _ModeGuard("CameraHandTracker", options.running_mode)
        self._hands = mp.solutions.hands.Hands(
            static_image_mode=options.running_mode is RunningMode.IMAGE,
            max_num_hands=options.max_num_hands,
            model_complexity=options.model_complexity,
            min_detection_confidence=options.min_detection_confidence,
            min_tracking_confidence=options.min_tracking_confidence,
        )
        self._ids = HandIdAssigner(max_distance=options.max_association_distance, timeout_s=options.track_timeout_s)

    @classmethod
    def create_from_options(cls, options: CameraHandTrackerOptions | None = None) -> CameraHandTracker:
        return cls(options or CameraHandTrackerOptions())

    def close(self) -> None:
        if not self._guard.closed:
            self._guard.closed = True
            self._hands.close()

    def __enter__(self) -> CameraHandTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def detect(self, frame: CameraFrame) -> CameraHandTrackerResult:
        """IMAGE mode: hands in one unrelated picture (IDs 1..n in MediaPipe's order)."""
        rgb = self._guard.check(RunningMode.IMAGE, frame)
        self._ids.reset(restart_ids=True)
        return self._run(frame, rgb)

    def detect_for_video(self, frame: CameraFrame) -> CameraHandTrackerResult:
        """VIDEO mode: the next frame of the stream; ``frame.capture_time_s`` must increase."""
        rgb = self._guard.check(RunningMode.VIDEO, frame)
        return self._run(frame, rgb)

    def _run(self, frame: CameraFrame, rgb: np.ndarray | None) -> CameraHandTrackerResult:
        t = frame.capture_time_s
        if rgb is None:
            return CameraHandTrackerResult(t, [], [], self._ids.expire(t))
        h, w = rgb.shape[:2]
        res = self._hands.process(rgb)
        raw = list(zip(res.multi_hand_landmarks or [], res.multi_handedness or [], strict=False))
        diag = float(np.hypot(w, h))
        dets: list[tuple[str, float, np.ndarray]] = []
        parsed = []
        for lm, hd in raw:
            norm = np.array([[p.x, p.y, p.z] for p in lm.landmark], dtype=np.float64)
            px = norm[:, :2] * np.array([w, h]) - 0.5
            rel = norm[:, 2] * w
            cls = hd.classification[0]
            label = cls.label.lower()
            if not self.options.image_is_mirrored:
                label = "left" if label == "right" else "right"
            parsed.append((px, rel, cls.label, float(cls.score)))
            dets.append((label, float(cls.score), px[0] / diag))
        assigned, lost = self._ids.assign(t, dets)

        depth = frame.depth_m() if frame.depth is not None else None
        k = frame.intrinsics
        if (k.width_px, k.height_px) != (w, h):
            k = k.scaled(w, h)
        hands: list[HandObservation] = []
        lifts: list[HandLift] = []
        for (px, rel, _mp_label, score), (hand_id, handedness) in zip(parsed, assigned, strict=True):
            lift = lift_hand(px, rel, k, frame.pose_world_camera, depth, self.options.lifting)
            pts = lift.points_world_m
            origin, direction = index_ray(pts)
            conf = score if lift.used_depth else score * self.options.lifting.no_depth_confidence_scale
            hands.append(
                HandObservation(
                    hand_id=hand_id,
                    handedness=handedness,
                    source="camera",
                    confidence=float(conf),
                    capture_time_s=t,
                    landmarks_world_m=pts.astype(np.float32),
                    landmarks_px=px.astype(np.float32),
                    pinch_strength=pinch_strength(pts),
                    pointing_origin_m=origin.astype(np.float32),
                    pointing_direction=direction.astype(np.float32),
                )
            )
            lifts.append(lift)
        return CameraHandTrackerResult(t, hands, lifts, lost, [p[2] for p in parsed])
