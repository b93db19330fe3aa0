"""Gestures of tracked hands: static poses with hysteresis plus dynamic gestures, as events.

Feed :meth:`GestureRecognizer.recognize` every observation of every hand (camera or device, 21
world-frame landmarks) in time order, and :meth:`GestureRecognizer.hand_lost` when a hand is gone.
Each call returns the hand's stable pose and the events it completed:

- static poses (``STATIC_GESTURES``): ``START`` when entered, ``END`` when left; a pinch also
  ``UPDATE``s when its strength changes by ``pinch_update_step``;
- dynamic gestures (``DYNAMIC_GESTURES``), see ``_dynamic_gestures.py``.

Directions ("up" for ``pointing_up`` / ``thumb_up``, left/right/up/down for swipes) come from the
reference frame the caller passes: the user's head frame when known, else the camera's, else
``default_up_world`` / ``default_right_world``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ._device import HandObservation
from ._dynamic_gestures import DynamicGestureDetector, DynamicGestureOptions
from ._events import EventPhase, GestureEvent
from ._landmarks import palm_center, pinch_point
from ._static_gestures import StaticGestureFilter, StaticPoseOptions, pinch_strength, static_pose_scores

__all__ = ["GestureRecognizer", "GestureRecognizerOptions", "GestureRecognizerResult"]


@dataclass(frozen=True)
class GestureRecognizerOptions:
    """Settings of :class:`GestureRecognizer`.

    pose : thresholds of the static pose rules.
    dynamic : thresholds of the trajectory rules.
    enter_threshold / exit_threshold : a pose is entered at this score or more (held for
        ``enter_hold_frames`` frames) and left below the exit score (for ``exit_hold_frames``).
    switch_margin : a different pose takes over only when it beats the current one by this much.
    pinch_update_step : pinch strength change that produces an ``UPDATE``.
    default_up_world, default_right_world : the user's up and right when the caller passes none.
    """

    pose: StaticPoseOptions = field(default_factory=StaticPoseOptions)
    dynamic: DynamicGestureOptions = field(default_factory=DynamicGestureOptions)
    enter_threshold: float = 0.7
    exit_threshold: float = 0.4
    enter_hold_frames: int = 3
    exit_hold_frames: int = 2
    switch_margin: float = 0.15
    pinch_update_step: float = 0.1
    default_up_world: tuple[float, float, float] = (0.0, 1.0, 0.0)
    default_right_world: tuple[float, float, float] = (1.0, 0.0, 0.0)


@dataclass(frozen=True, eq=False)
class GestureRecognizerResult:
    """One hand at one time: its stable static pose (``""`` = none), pose scores, and events."""

    hand_id: int
    gesture: str
    confidence: float
    pinch_strength: float
    scores: dict[str, float]
    events: list[GestureEvent]


@dataclass
class _Hand:
    filter: StaticGestureFilter
    times: deque[float] = field(default_factory=lambda: deque(maxlen=16))
    start_time_s: float = 0.0
    confidence: float = 0.0
    reported_strength: float = 0.0
    handedness: str = ""
    last_time_s: float = 0.0


class GestureRecognizer:
    """Static and dynamic gestures for any number of hands (see the module docstring)."""

    def __init__(self, options: GestureRecognizerOptions | None = None) -> None:
        self.options = options or GestureRecognizerOptions()
        self._dynamic = DynamicGestureDetector(self.options.dynamic)
        self._hands: dict[int, _Hand] = {}

    @classmethod
    def create_from_options(cls, options: GestureRecognizerOptions | None = None) -> GestureRecognizer:
        return cls(options)

    def close(self) -> None:
        self._hands.clear()
        self._dynamic.reset()

    def __enter__(self) -> GestureRecognizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def current(self, hand_id: int) -> str:
        """The hand's stable static pose, ``""`` if none or unknown hand."""
        h = self._hands.get(hand_id)
        return h.filter.current if h is not None else ""

    def recognize(
        self,
        hand: HandObservation,
        *,
        up_world: np.ndarray | None = None,
        right_world: np.ndarray | None = None,
    ) -> GestureRecognizerResult:
        """One observation of one hand. up_world, right_world : (3,) the user's up / right, world frame."""
        o = self.options
        up = np.asarray(up_world if up_world is not None else o.default_up_world, dtype=np.float64)
        right = np.asarray(right_world if right_world is not None else o.default_right_world, dtype=np.float64)
        up = up / max(float(np.linalg.norm(up)), 1e-12)
        right = right / max(float(np.linalg.norm(right)), 1e-12)
        st = self._hands.get(hand.hand_id)
        if st is None:
            st = self._hands[hand.hand_id] = _Hand(
                StaticGestureFilter(
                    enter_threshold=o.enter_threshold,
                    exit_threshold=o.exit_threshold,
                    enter_hold_frames=o.enter_hold_frames,
                    exit_hold_frames=o.exit_hold_frames,
                    switch_margin=o.switch_margin,
                ),
                handedness=hand.handedness,
            )
        t = hand.capture_time_s
        st.times.append(t)
        st.last_time_s = t
        st.handedness = hand.handedness
        lm = np.asarray(hand.landmarks_world_m, dtype=np.float64)
        scores = static_pose_scores(lm, up, o.pose)
        strength = pinch_strength(lm, o.pose)

        static_events: list[GestureEvent] = []
        change = st.filter.update(scores)
        if change is not None:
            if change.previous:
                static_events.append(self._static_event(hand, st, change.previous, EventPhase.END, t, strength))
            if change.current:
                held = o.enter_hold_frames
                st.start_time_s = st.times[-held] if len(st.times) >= held else st.times[0]
                st.confidence = scores[change.current]
                st.reported_strength = strength
                static_events.append(self._static_event(hand, st, change.current, EventPhase.START, t, strength))
        current = st.filter.current
        if current:
            st.confidence = scores[current]
            if current == "pinch" and change is None and abs(strength - st.reported_strength) >= o.pinch_update_step:
                st.reported_strength = strength
                static_events.append(self._static_event(hand, st, current, EventPhase.UPDATE, t, strength))

        dynamic_events = self._dynamic.update(
            hand.hand_id,
            hand.handedness,
            t,
            palm_center(lm),
            pinch_point(lm),
            pinching=current == "pinch",
            pinch_strength=strength,
            open_palm_score=scores["open_palm"],
            right_world=right,
            up_world=up,
        )
        # A drag ends before the pinch it belongs to; otherwise poses come first.
        left_pinch = change is not None and change.previous == "pinch"
        events = dynamic_events + static_events if left_pinch else static_events + dynamic_events
        return GestureRecognizerResult(
            hand.hand_id, current, st.confidence if current else 0.0, strength, scores, events
        )

    def hand_lost(self, hand_id: int, time_s: float) -> list[GestureEvent]:
        """Ends every gesture of a hand that is no longer tracked (dynamic first, then the pose)."""
        events = self._dynamic.hand_lost(hand_id, time_s)
        st = self._hands.pop(hand_id, None)
        if st is not None and st.filter.current:
            events.append(
                GestureEvent(
                    hand_id,
                    st.handedness,
                    st.filter.current,
                    EventPhase.END,
                    st.confidence,
                    st.start_time_s,
                    time_s,
                    st.reported_strength,
                )
            )
        return events

    def known_hands(self) -> list[int]:
        return list(self._hands)

    @staticmethod
    def _static_event(
        hand: HandObservation, st: _Hand, gesture: str, phase: EventPhase, t: float, strength: float
    ) -> GestureEvent:
        return GestureEvent(
            hand.hand_id,
            hand.handedness,
            gesture,
            phase,
            st.confidence,
            st.start_time_s,
            t,
            strength if gesture == "pinch" else 0.0,
        )
