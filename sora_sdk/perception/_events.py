"""Perception events: plain dataclasses, one per proto event message (sora.v1 perception.proto).

String fields use the lower-case suffixes of the proto enums (``EventPhase.START`` <->
``EVENT_PHASE_START``, gesture ``"thumb_up"`` <-> ``GESTURE_TYPE_THUMB_UP``, interaction ``"touch"``
<-> ``INTERACTION_TYPE_TOUCH``), so the server's encoder maps them with ``.upper()``. All positions
and directions are in the world frame, metres; all times are capture times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..core.scene import RaycastHit

__all__ = [
    "DYNAMIC_GESTURES",
    "STATIC_GESTURES",
    "EventPhase",
    "FixationEvent",
    "GestureEvent",
    "InteractionEvent",
    "PointingEvent",
]

#: Static hand poses (a hand is in at most one at a time), proto GestureType suffixes in lower case.
STATIC_GESTURES: tuple[str, ...] = (
    "closed_fist",
    "open_palm",
    "pointing_up",
    "thumb_down",
    "thumb_up",
    "victory",
    "i_love_you",
    "pinch",
    "point",
)
#: Gestures recognised from motion over time.
DYNAMIC_GESTURES: tuple[str, ...] = ("swipe_left", "swipe_right", "swipe_up", "swipe_down", "wave", "pinch_drag")


class EventPhase(StrEnum):
    """Phase of an event; values are the proto ``EVENT_PHASE_*`` suffixes in lower case."""

    START = "start"
    UPDATE = "update"
    END = "end"
    INSTANT = "instant"


def _zeros3() -> np.ndarray:
    return np.zeros(3, np.float64)


@dataclass(frozen=True, eq=False)
class GestureEvent:
    """A gesture began, changed or ended (swipes are ``INSTANT``).

    displacement_m : (3,) float64, world frame, metres: hand (palm centre, or pinch point for
    ``pinch_drag``) displacement since ``start_time_s``; zero for static poses.
    strength : pinch strength 0..1 for ``pinch`` and ``pinch_drag``, else 0.
    """

    hand_id: int
    handedness: str
    gesture: str
    phase: EventPhase
    confidence: float
    start_time_s: float
    time_s: float
    strength: float = 0.0
    displacement_m: np.ndarray = field(default_factory=_zeros3)


@dataclass(frozen=True, eq=False)
class PointingEvent:
    """The user points at something: ``START`` when pointing begins, ``UPDATE`` when the target
    changes, ``END`` when the pointing pose ends or the hand is lost.

    origin_world_m, direction_world : (3,) float64, the ray (direction unit length).
    hit : what the ray hits (None: nothing within range); target_key as in ``GazeObservation``.
    """

    hand_id: int
    phase: EventPhase
    origin_world_m: np.ndarray
    direction_world: np.ndarray
    hit: RaycastHit | None
    target_key: str
    time_s: float
    start_time_s: float = 0.0

    @property
    def distance_m(self) -> float:
        """Distance along the ray to the hit, or 0 without one."""
        return float(self.hit.distance_m) if self.hit is not None else 0.0


@dataclass(frozen=True, eq=False)
class FixationEvent:
    """A fixation began (``START``) or ended (``END``).

    ``duration_s`` is the duration so far at ``START`` (the filter's minimum duration: a fixation is
    only known once it has lasted that long) and final at ``END``. direction_world : (3,) float64
    unit, the fixation's mean gaze direction; hit / target_key resolve that mean ray.
    """

    phase: EventPhase
    hit: RaycastHit | None
    target_key: str
    start_time_s: float
    duration_s: float
    source: str
    direction_world: np.ndarray = field(default_factory=_zeros3)
    time_s: float = 0.0


@dataclass(frozen=True, eq=False)
class InteractionEvent:
    """A hand and an object interact: ``interaction`` is ``"near"``, ``"touch"`` or ``"hold"``.

    distance_m : distance from the nearest fingertip (or palm, for ``near``) to the object's box
    surface, metres; negative inside the box.
    """

    hand_id: int
    interaction: str
    phase: EventPhase
    object_id: str
    distance_m: float
    time_s: float
    start_time_s: float = 0.0
