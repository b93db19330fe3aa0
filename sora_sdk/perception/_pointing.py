"""Pointing: a ray from the hand resolved against the scene into a target, with events.

A hand points while its static pose is ``point`` or ``pointing_up`` (the index ray: origin at the
fingertip, direction knuckle -> tip), or, with ``aim_with_pinch``, while it pinches (the aim ray:
from an estimated shoulder, when the head pose is known, through the pinch point; else from the
wrist). Events: ``START`` when pointing begins, ``UPDATE`` when the target changes (after
``target_hold_frames`` frames on the new one, so a ray grazing an edge does not chatter), ``END``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import Pose
from ..core.scene import RaycastHit
from ._device import HandObservation
from ._events import EventPhase, PointingEvent
from ._gaze import Raycaster, target_key
from ._landmarks import index_ray, pinch_aim_ray

__all__ = ["PointingResult", "PointingTracker", "PointingTrackerOptions", "shoulder_from_head"]


@dataclass(frozen=True)
class PointingTrackerOptions:
    """Settings of :class:`PointingTracker` (metres)."""

    max_distance_m: float = 8.0
    pointing_gestures: tuple[str, ...] = ("point", "pointing_up")
    aim_with_pinch: bool = True
    target_hold_frames: int = 2
    #: Shoulder estimate in the head frame (x right, y down, z forward): below and to the side.
    shoulder_below_head_m: float = 0.2
    shoulder_side_m: float = 0.18


@dataclass(frozen=True, eq=False)
class PointingResult:
    """One hand at one time. origin_world_m, direction_world : (3,) float64 (zeros when not pointing)."""

    hand_id: int
    pointing: bool
    origin_world_m: np.ndarray
    direction_world: np.ndarray
    hit: RaycastHit | None
    target_key: str
    events: list[PointingEvent]


def shoulder_from_head(pose_world_head: Pose, handedness: str, options: PointingTrackerOptions) -> np.ndarray:
    """(3,) world metres: the estimated shoulder of that hand's side."""
    side = options.shoulder_side_m if handedness == "right" else -options.shoulder_side_m
    return pose_world_head.transform_points(np.array([[side, options.shoulder_below_head_m, 0.0]]))[0]


@dataclass
class _State:
    start_time_s: float
    key: str
    hit: RaycastHit | None
    pending_key: str = ""
    pending_count: int = 0
    origin: np.ndarray | None = None
    direction: np.ndarray | None = None


class PointingTracker:
    """Per-hand pointing state (see the module docstring)."""

    def __init__(self, options: PointingTrackerOptions | None = None) -> None:
        self.options = options or PointingTrackerOptions()
        self._hands: dict[int, _State] = {}

    @classmethod
    def create_from_options(cls, options: PointingTrackerOptions | None = None) -> PointingTracker:
        return cls(options)

    def close(self) -> None:
        self._hands.clear()

    def __enter__(self) -> PointingTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ray(self, hand: HandObservation, pose_world_head: Pose | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """The hand's pointing ray (origin, unit direction; world frame) for its current gesture, or None."""
        lm = np.asarray(hand.landmarks_world_m, dtype=np.float64)
        if hand.gesture in self.options.pointing_gestures:
            return index_ray(lm)
        if self.options.aim_with_pinch and hand.gesture == "pinch":
            shoulder = shoulder_from_head(pose_world_head, hand.handedness, self.options) if pose_world_head else None
            return pinch_aim_ray(lm, shoulder)
        return None

    def update(
        self, hand: HandObservation, raycast: Raycaster | None, *, pose_world_head: Pose | None = None
    ) -> PointingResult:
        """One observation of a hand whose ``gesture`` is already set (by :class:`GestureRecognizer`)."""
        t = hand.capture_time_s
        ray = self.ray(hand, pose_world_head)
        st = self._hands.get(hand.hand_id)
        if ray is None:
            ended = [self._end(hand.hand_id, t)] if st is not None else []
            return PointingResult(hand.hand_id, False, np.zeros(3), np.zeros(3), None, "", ended)
        origin, direction = ray
        hit = raycast(origin, direction, self.options.max_distance_m) if raycast is not None else None
        key = target_key(hit)
        events: list[PointingEvent] = []
        if st is None:
            st = self._hands[hand.hand_id] = _State(t, key, hit)
            events.append(PointingEvent(hand.hand_id, EventPhase.START, origin, direction, hit, key, t, t))
        elif key != st.key:
            if key == st.pending_key:
                st.pending_count += 1
            else:
                st.pending_key, st.pending_count = key, 1
            if st.pending_count >= self.options.target_hold_frames:
                st.key, st.hit, st.pending_key, st.pending_count = key, hit, "", 0
                events.append(
                    PointingEvent(hand.hand_id, EventPhase.UPDATE, origin, direction, hit, key, t, st.start_time_s)
                )
        else:
            st.hit, st.pending_key, st.pending_count = hit, "", 0
        st.origin, st.direction = origin, direction
        return PointingResult(hand.hand_id, True, origin, direction, st.hit, st.key, events)

    def hand_lost(self, hand_id: int, time_s: float) -> list[PointingEvent]:
        """Ends pointing of a hand that is no longer tracked."""
        return [self._end(hand_id, time_s)] if hand_id in self._hands else []

    def _end(self, hand_id: int, t: float) -> PointingEvent:
        st = self._hands.pop(hand_id)
        o = st.origin if st.origin is not None else np.zeros(3)
        d = st.direction if st.direction is not None else np.zeros(3)
        return PointingEvent(hand_id, EventPhase.END, o, d, st.hit, st.key, t, st.start_time_s)
