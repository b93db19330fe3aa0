"""The perception facade: one object per session that turns sensor samples into observations and events.

:class:`Perception` owns the components (camera hand tracker, face gaze estimator, gesture
recognizer, pointing tracker, interaction detector, gaze tracker) and wires them: every hand, from
the camera or the device, goes through the same gesture -> pointing -> interaction chain; every gaze
ray through the same gaze tracker. Each ``process_*`` call is blocking (MediaPipe runs in it) and
returns the observations plus the events it completed, in order; the session runs it in an executor.
One call at a time.

Reference frame for gesture directions (up for ``pointing_up``/``thumb_up``; swipe left/right/up/down):
the latest head pose if it is at most ``head_pose_timeout_s`` old (head frame: x right, y down,
z forward), else for camera hands the camera's frame (x right, y down; mirrored in x when
``camera_faces_user``), else the gesture options' defaults.

Targets: pass a raycaster (e.g. a :class:`SceneRaycaster` over the map's mesh, planes and objects)
to each call, or pass None to use :attr:`Perception.raycaster`, which holds the objects and planes
given to :meth:`set_objects` / :meth:`set_planes` (no mesh).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.geometry import Pose
from ..core.scene import Plane, SceneObject
from ..core.sensors import CameraFrame, EyeGazeSample, HandJointsSample, HeadPoseSample
from ._camera_hands import CameraHandTracker, CameraHandTrackerOptions
from ._device import HandObservation, hand_from_device_joints
from ._events import FixationEvent, GestureEvent, InteractionEvent, PointingEvent
from ._face_gaze import FaceGazeEstimator, FaceGazeEstimatorOptions
from ._gaze import GazeObservation, Raycaster
from ._gaze_tracker import GazeTracker, GazeTrackerOptions
from ._gesture_recognizer import GestureRecognizer, GestureRecognizerOptions
from ._interaction import HandInteractionDetector, HandInteractionOptions
from ._pointing import PointingTracker, PointingTrackerOptions
from ._running_mode import RunningMode
from ._scene_raycaster import SceneRaycaster

__all__ = ["Perception", "PerceptionEvent", "PerceptionOptions"]

#: Any event a ``process_*`` call returns.
PerceptionEvent = GestureEvent | PointingEvent | FixationEvent | InteractionEvent


@dataclass(frozen=True)
class PerceptionOptions:
    """Which sources run, and each component's settings.

    camera_hands : run MediaPipe Hands on camera frames (``process_camera_frame``).
    face_gaze : run Face Mesh gaze on frames given to ``process_face_frame`` (user-facing cameras).
    camera_faces_user : the hand camera looks at the user (kiosk, desktop): the user's right is the
        camera's left for swipes. Handedness mirroring is ``hand_tracker.image_is_mirrored``.
    head_pose_timeout_s : how long a head pose serves as the reference frame for gestures.
    """

    camera_hands: bool = True
    face_gaze: bool = False
    camera_faces_user: bool = False
    head_pose_timeout_s: float = 1.0
    hand_tracker: CameraHandTrackerOptions = field(default_factory=CameraHandTrackerOptions)
    face_gaze_estimator: FaceGazeEstimatorOptions = field(default_factory=FaceGazeEstimatorOptions)
    gestures: GestureRecognizerOptions = field(default_factory=GestureRecognizerOptions)
    pointing: PointingTrackerOptions = field(default_factory=PointingTrackerOptions)
    interaction: HandInteractionOptions = field(default_factory=HandInteractionOptions)
    gaze: GazeTrackerOptions = field(default_factory=GazeTrackerOptions)


class Perception:
    """Hands, gestures, pointing, interactions and gaze for one session (see the module docstring)."""

    def __init__(self, options: PerceptionOptions | None = None, *, raycaster: SceneRaycaster | None = None) -> None:
        """``raycaster``: the built-in raycaster, shared with its owner (a session's, over the map's mesh
        too); :meth:`set_objects` and :meth:`set_planes` update it. By default one of its own."""
        self.options = options or PerceptionOptions()
        o = self.options
        self._hand_tracker: CameraHandTracker | None = None
        self._face: FaceGazeEstimator | None = None
        self.gestures = GestureRecognizer(o.gestures)
        self.pointing = PointingTracker(o.pointing)
        self.interactions = HandInteractionDetector(o.interaction)
        self.gaze = GazeTracker(o.gaze)
        self.raycaster = raycaster if raycaster is not None else SceneRaycaster()
        self._objects: list[SceneObject] = []
        self._head: HeadPoseSample | None = None
        self._next_id = 1
        self._device_ids: dict[str, int] = {}
        self._camera_ids: dict[int, int] = {}
        self._hands: dict[int, HandObservation] = {}

    @classmethod
    def create_from_options(cls, options: PerceptionOptions | None = None) -> Perception:
        return cls(options)

    def close(self) -> None:
        if self._hand_tracker is not None:
            self._hand_tracker.close()
            self._hand_tracker = None
        if self._face is not None:
            self._face.close()
            self._face = None

    def __enter__(self) -> Perception:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- scene --------------------------------------------------------------------------

    def set_objects(self, objects: Iterable[SceneObject]) -> None:
        """The session's current objects, for interactions and for the built-in raycaster."""
        self._objects = list(objects)
        self.raycaster.set_objects(self._objects)

    def set_planes(self, planes: Iterable[Plane]) -> None:
        self.raycaster.set_planes(planes)

    @property
    def hands(self) -> list[HandObservation]:
        """The latest observation of every hand currently tracked."""
        return list(self._hands.values())

    @property
    def latest_gaze(self) -> GazeObservation | None:
        return self.gaze.latest

    # ---- sources ------------------------------------------------------------------------

    def process_camera_frame(
        self, frame: CameraFrame, raycast: Raycaster | None = None
    ) -> tuple[list[HandObservation], list[PerceptionEvent]]:
        """Camera hands in one frame of the session's stream (VIDEO mode; timestamps must increase).

        Returns the camera hands of this frame (with gestures and pointing rays) and the events.
        """
        if not self.options.camera_hands:
            return [], []
        if self._hand_tracker is None:
            opts = dataclasses.replace(self.options.hand_tracker, running_mode=RunningMode.VIDEO)
            self._hand_tracker = CameraHandTracker(opts)
        res = self._hand_tracker.detect_for_video(frame)
        t = frame.capture_time_s
        events: list[PerceptionEvent] = []
        for local in res.lost_hand_ids:
            gid = self._camera_ids.pop(local, None)
            if gid is not None:
                events += self._lose(gid, t)
        up = right = None
        if not self._head_fresh(t):
            # Without a pose the world is the camera frame (see CameraHandTracker), so its axes serve.
            r = frame.pose_world_camera.rotation if frame.pose_world_camera is not None else np.eye(3)
            up, right = -r[:, 1], (-r[:, 0] if self.options.camera_faces_user else r[:, 0])
        hands = []
        for h in res.hands:
            gid = self._camera_ids.get(h.hand_id)
            if gid is None:
                gid = self._camera_ids[h.hand_id] = self._new_id()
            obs, ev = self._hand(dataclasses.replace(h, hand_id=gid), raycast, up, right)
            hands.append(obs)
            events += ev
        return hands, events

    def process_device_hand(
        self, sample: HandJointsSample, raycast: Raycaster | None = None
    ) -> tuple[HandObservation | None, list[PerceptionEvent]]:
        """Device joints of one hand; an empty sample (no positions) means the hand was lost."""
        t = sample.capture_time_s
        if np.asarray(sample.positions_world_m).size == 0:
            gid = self._device_ids.pop(sample.handedness, None)
            return None, (self._lose(gid, t) if gid is not None else [])
        gid = self._device_ids.get(sample.handedness)
        if gid is None:
            gid = self._device_ids[sample.handedness] = self._new_id()
        return self._hand(hand_from_device_joints(sample, gid), raycast, None, None)

    def process_eye_gaze(
        self, sample: EyeGazeSample, raycast: Raycaster | None = None
    ) -> tuple[GazeObservation | None, list[PerceptionEvent]]:
        """A device eye-gaze ray; returns the gaze observation (None if dropped) and fixation events."""
        obs, ev = self.gaze.process_eye_gaze(sample, raycast or self.raycaster)
        return obs, list(ev)

    def process_head_pose(
        self, sample: HeadPoseSample, raycast: Raycaster | None = None
    ) -> tuple[GazeObservation | None, list[PerceptionEvent]]:
        """A head pose: the gesture reference frame, and head gaze when eye tracking is silent."""
        self._head = sample
        obs, ev = self.gaze.process_head_pose(sample, raycast or self.raycaster)
        return obs, list(ev)

    def process_face_frame(
        self, frame: CameraFrame, raycast: Raycaster | None = None
    ) -> tuple[GazeObservation | None, list[PerceptionEvent]]:
        """A frame of a user-facing camera: face-camera gaze (used when eye gaze and head pose are silent)."""
        if not self.options.face_gaze:
            return None, []
        if self._face is None:
            opts = dataclasses.replace(self.options.face_gaze_estimator, running_mode=RunningMode.VIDEO)
            self._face = FaceGazeEstimator(opts)
        res = self._face.detect_for_video(frame)
        if not res.faces or res.faces[0].direction_world is None or res.faces[0].origin_world_m is None:
            return None, []
        f = res.faces[0]
        assert f.origin_world_m is not None and f.direction_world is not None
        obs, ev = self.gaze.process_face_gaze(
            frame.capture_time_s, f.origin_world_m, f.direction_world, f.confidence, raycast or self.raycaster
        )
        if obs is not None:
            obs = dataclasses.replace(obs, face_landmarks_px=np.asarray(f.landmarks_px, dtype=np.float32))
        return obs, list(ev)

    # ---- the hand chain -----------------------------------------------------------------

    def _new_id(self) -> int:
        hid = self._next_id
        self._next_id += 1
        return hid

    def _head_fresh(self, t: float) -> bool:
        return self._head is not None and abs(t - self._head.capture_time_s) <= self.options.head_pose_timeout_s

    def _hand(
        self,
        hand: HandObservation,
        raycast: Raycaster | None,
        up: np.ndarray | None,
        right: np.ndarray | None,
    ) -> tuple[HandObservation, list[PerceptionEvent]]:
        t = hand.capture_time_s
        head: Pose | None = None
        if self._head_fresh(t):
            assert self._head is not None
            head = self._head.pose_world_head
            up, right = -head.rotation[:, 1], head.rotation[:, 0]
        g = self.gestures.recognize(hand, up_world=up, right_world=right)
        obs = dataclasses.replace(
            hand, gesture=g.gesture, gesture_confidence=float(g.confidence), pinch_strength=float(g.pinch_strength)
        )
        p = self.pointing.update(obs, raycast or self.raycaster, pose_world_head=head)
        if p.pointing:
            obs = dataclasses.replace(
                obs,
                pointing_origin_m=p.origin_world_m.astype(np.float32),
                pointing_direction=p.direction_world.astype(np.float32),
            )
        events: list[PerceptionEvent] = [*g.events, *p.events]
        if self._objects:
            events += self.interactions.update(obs, self._objects)
        self._hands[obs.hand_id] = obs
        return obs, events

    def _lose(self, hand_id: int, t: float) -> list[PerceptionEvent]:
        self._hands.pop(hand_id, None)
        events: Sequence[PerceptionEvent] = [
            *self.gestures.hand_lost(hand_id, t),
            *self.pointing.hand_lost(hand_id, t),
            *self.interactions.hand_lost(hand_id, t),
        ]
        return list(events)
