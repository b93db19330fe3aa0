"""Dynamic gestures from a hand's trajectory: swipes, wave and pinch-and-drag.

The palm centre's velocity, projected on the user's right/up plane, is cut into *strokes*: a
stroke starts when the speed rises above ``stroke_start_speed_m_s`` (from the last point at rest)
and ends when it drops below ``stroke_end_speed_m_s`` or the motion reverses.

- **Swipe** (``INSTANT``): a stroke at least ``swipe_min_distance_m`` long, peaking at
  ``swipe_min_peak_speed_m_s`` or faster, no longer than ``swipe_max_duration_s``, whose dominant
  axis (right/left/up/down) carries at least ``swipe_straightness`` of its in-plane length. It is
  emitted ``swipe_confirm_s`` after the stroke ends, unless a stroke back the other way begins
  first; nor is a stroke that began within ``swipe_confirm_s`` of one the other way. Such strokes
  are an oscillation (a wave, a shake): each half-stroke of a brisk wave is as long and fast as a swipe.
- **Wave** (``START``/``UPDATE``/``END``): ``wave_min_strokes`` alternating left/right strokes of
  ``wave_min_amplitude_m`` or more within ``wave_window_s``, with an open palm; each further
  reversal updates it; ``wave_end_s`` without one ends it.
- **Pinch-drag** (``START``/``UPDATE``/``END``): while the static pose is ``pinch``, the pinch point
  moving ``drag_start_m`` from where the pinch began starts it; every further ``drag_update_m``
  updates it; releasing the pinch ends it.

Directions come from a reference frame given per sample: the head's right and up when the head
pose is known, else the camera's (camera hands), else a configured world up/right.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ._events import EventPhase, GestureEvent

__all__ = ["DynamicGestureDetector", "DynamicGestureOptions"]


@dataclass(frozen=True)
class DynamicGestureOptions:
    """Thresholds of the trajectory rules (metres, seconds; see the module docstring for each)."""

    velocity_window_s: float = 0.05
    stroke_start_speed_m_s: float = 0.35
    stroke_end_speed_m_s: float = 0.2
    swipe_min_distance_m: float = 0.15
    swipe_min_peak_speed_m_s: float = 0.8
    swipe_max_duration_s: float = 0.7
    swipe_straightness: float = 0.8
    swipe_confirm_s: float = 0.15
    wave_min_strokes: int = 3
    wave_min_amplitude_m: float = 0.04
    wave_window_s: float = 1.6
    wave_end_s: float = 0.6
    wave_min_open_palm: float = 0.5
    drag_start_m: float = 0.03
    drag_update_m: float = 0.01


@dataclass
class _Stroke:
    t0: float
    p0: np.ndarray
    dir2: np.ndarray  # unit, in the (right, up) plane
    peak: float
    open_palm: float
    pinching: bool
    n: int = 1


@dataclass
class _HandState:
    handedness: str
    samples: deque[tuple[float, np.ndarray]] = field(default_factory=lambda: deque(maxlen=64))
    rest: tuple[float, np.ndarray] | None = None
    stroke: _Stroke | None = None
    swipe: GestureEvent | None = None  # candidate waiting for confirmation
    swipe_deadline: float = 0.0
    swipe_dir2: np.ndarray | None = None
    lateral: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=16))  # t0, t1, sign
    wave_start: float | None = None
    wave_p0: np.ndarray | None = None
    wave_last: float = 0.0
    drag_origin: tuple[float, np.ndarray] | None = None
    drag_started: float | None = None
    drag_last: np.ndarray | None = None
    last_stroke: tuple[float, np.ndarray] | None = None  # end time, in-plane unit direction


def _axis_name(d_right: float, d_up: float) -> tuple[str, float]:
    """Dominant direction of an in-plane displacement and the share of its length on that axis."""
    norm = float(np.hypot(d_right, d_up))
    if abs(d_right) >= abs(d_up):
        return ("swipe_right" if d_right > 0 else "swipe_left"), abs(d_right) / max(norm, 1e-12)
    return ("swipe_up" if d_up > 0 else "swipe_down"), abs(d_up) / max(norm, 1e-12)


class DynamicGestureDetector:
    """Per-hand trajectory state; feed every observation of a hand in time order."""

    def __init__(self, options: DynamicGestureOptions | None = None) -> None:
        self.options = options or DynamicGestureOptions()
        self._hands: dict[int, _HandState] = {}

    def update(
        self,
        hand_id: int,
        handedness: str,
        time_s: float,
        palm_world_m: np.ndarray,
        pinch_point_world_m: np.ndarray,
        *,
        pinching: bool,
        pinch_strength: float,
        open_palm_score: float,
        right_world: np.ndarray,
        up_world: np.ndarray,
    ) -> list[GestureEvent]:
        """One sample of one hand; returns the events it completes, in time order.

        palm_world_m, pinch_point_world_m : (3,) world metres; right_world, up_world : (3,) unit.
        """
        o = self.options
        st = self._hands.get(hand_id)
        if st is None:
            st = self._hands[hand_id] = _HandState(handedness)
        p = np.asarray(palm_world_m, dtype=np.float64)
        st.samples.append((time_s, p))
        events: list[GestureEvent] = []
        right = np.asarray(right_world, dtype=np.float64)
        up = np.asarray(up_world, dtype=np.float64)

        # Velocity over the last velocity_window_s (finite difference, robust to jitter).
        t_ref, p_ref = st.samples[0]
        for t_k, p_k in reversed(st.samples):
            if time_s - t_k >= o.velocity_window_s:
                t_ref, p_ref = t_k, p_k
                break
        dt = time_s - t_ref
        v = (p - p_ref) / dt if dt > 1e-6 else np.zeros(3)
        v2 = np.array([float(v @ right), float(v @ up)])
        speed = float(np.hypot(*v2))

        # Confirm a pending swipe (its time_s is when the stroke ended, swipe_confirm_s ago).
        if st.swipe is not None and time_s >= st.swipe_deadline:
            if st.wave_start is None:
                events.append(st.swipe)
            st.swipe = None

        # Strokes.
        if st.stroke is None:
            if speed >= o.stroke_start_speed_m_s:
                t0, p0 = st.rest if st.rest is not None else (time_s, p)
                st.stroke = _Stroke(t0, p0, v2 / speed, speed, open_palm_score, pinching)
                self._stroke_began(st, v2 / speed)
            elif speed < o.stroke_end_speed_m_s or st.rest is None or time_s - st.rest[0] > o.swipe_max_duration_s:
                st.rest = (time_s, p)  # where a stroke starting next began (the last point at rest)
        else:
            s = st.stroke
            reversed_ = speed > 1e-9 and float(v2 @ s.dir2) < 0.0
            if speed < o.stroke_end_speed_m_s or reversed_:
                events += self._stroke_ended(hand_id, st, s, time_s, p, right, up)
                st.stroke = None
                st.rest = (time_s, p)
                if reversed_ and speed >= o.stroke_start_speed_m_s:
                    st.stroke = _Stroke(time_s, p, v2 / speed, speed, open_palm_score, pinching)
                    self._stroke_began(st, v2 / speed)
            else:
                s.peak = max(s.peak, speed)
                s.open_palm += open_palm_score
                s.pinching = s.pinching or pinching
                s.n += 1
                # Keep the stroke's direction the running mean of its velocity directions.
                d = s.dir2 * (s.n - 1) + v2 / speed
                s.dir2 = d / max(float(np.hypot(*d)), 1e-12)

        # Wave end.
        if st.wave_start is not None and time_s - st.wave_last > o.wave_end_s:
            events.append(self._wave_event(hand_id, st, EventPhase.END, time_s, p))
            st.wave_start = None

        events += self._drag(
            hand_id, st, time_s, np.asarray(pinch_point_world_m, dtype=np.float64), pinching, pinch_strength
        )
        return events

    def _stroke_began(self, st: _HandState, dir2: np.ndarray) -> None:
        if st.swipe is not None and st.swipe_dir2 is not None and float(dir2 @ st.swipe_dir2) < 0.0:
            st.swipe = None  # a stroke straight back: the start of a wave, not a swipe

    def _stroke_ended(
        self, hand_id: int, st: _HandState, s: _Stroke, t: float, p: np.ndarray, right: np.ndarray, up: np.ndarray
    ) -> list[GestureEvent]:
        o = self.options
        events: list[GestureEvent] = []
        d = p - s.p0
        d_r, d_u = float(d @ right), float(d @ up)
        length = float(np.hypot(d_r, d_u))
        duration = t - s.t0
        open_palm = s.open_palm / s.n

        if abs(d_r) >= o.wave_min_amplitude_m and abs(d_r) >= abs(d_u):
            sign = 1.0 if d_r > 0 else -1.0
            st.lateral.append((s.t0, t, sign))
            if open_palm >= o.wave_min_open_palm:
                events += self._wave_stroke(hand_id, st, t, p)
            else:
                st.lateral.clear()

        name, share = _axis_name(d_r, d_u)
        # A stroke straight back after another is an oscillation (a wave, a shake), not a swipe.
        dir2 = np.array([d_r, d_u]) / max(length, 1e-12)
        prev = st.last_stroke
        oscillating = prev is not None and s.t0 - prev[0] <= o.swipe_confirm_s and float(dir2 @ prev[1]) < 0.0
        if length >= o.wave_min_amplitude_m:
            st.last_stroke = (t, dir2)
        if (
            not oscillating
            and not s.pinching
            and st.wave_start is None
            and length >= o.swipe_min_distance_m
            and s.peak >= o.swipe_min_peak_speed_m_s
            and duration <= o.swipe_max_duration_s
            and share >= o.swipe_straightness
        ):
            speed_margin = min(1.0, s.peak / (2.0 * o.swipe_min_peak_speed_m_s))
            confidence = float(np.clip(0.5 * share + 0.5 * speed_margin, 0.0, 1.0))
            st.swipe = GestureEvent(
                hand_id, st.handedness, name, EventPhase.INSTANT, confidence, s.t0, t, displacement_m=d.copy()
            )
            st.swipe_deadline = t + o.swipe_confirm_s
            st.swipe_dir2 = dir2
        return events

    def _wave_stroke(self, hand_id: int, st: _HandState, t: float, p: np.ndarray) -> list[GestureEvent]:
        o = self.options
        # Alternating run of lateral strokes ending now, within the window.
        run = 0
        prev_sign = 0.0
        for t0, _t1, sign in reversed(st.lateral):
            if t - t0 > o.wave_window_s or sign == prev_sign:
                break
            run += 1
            prev_sign = sign
        if st.wave_start is not None:
            st.wave_last = t
            return [self._wave_event(hand_id, st, EventPhase.UPDATE, t, p)] if run >= 2 else []
        if run >= o.wave_min_strokes:
            st.wave_start = st.lateral[-run][0]
            st.wave_p0 = p.copy()
            st.wave_last = t
            st.swipe = None
            return [self._wave_event(hand_id, st, EventPhase.START, t, p)]
        return []

    def _wave_event(self, hand_id: int, st: _HandState, phase: EventPhase, t: float, p: np.ndarray) -> GestureEvent:
        p0 = st.wave_p0 if st.wave_p0 is not None else p
        return GestureEvent(hand_id, st.handedness, "wave", phase, 0.9, st.wave_start or t, t, displacement_m=p - p0)

    def _drag(
        self, hand_id: int, st: _HandState, t: float, q: np.ndarray, pinching: bool, strength: float
    ) -> list[GestureEvent]:
        o = self.options
        if not pinching:
            events = [self._end_drag(hand_id, st, t, q, strength)] if st.drag_started is not None else []
            st.drag_origin = None
            return events
        if st.drag_origin is None:
            st.drag_origin = (t, q.copy())
            return []
        t0, q0 = st.drag_origin
        if st.drag_started is None:
            if float(np.linalg.norm(q - q0)) >= o.drag_start_m:
                st.drag_started = t0
                st.drag_last = q.copy()
                return [
                    GestureEvent(hand_id, st.handedness, "pinch_drag", EventPhase.START, 0.9, t0, t, strength, q - q0)
                ]
            return []
        assert st.drag_last is not None
        if float(np.linalg.norm(q - st.drag_last)) >= o.drag_update_m:
            st.drag_last = q.copy()
            return [GestureEvent(hand_id, st.handedness, "pinch_drag", EventPhase.UPDATE, 0.9, t0, t, strength, q - q0)]
        return []

    def _end_drag(self, hand_id: int, st: _HandState, t: float, q: np.ndarray, strength: float) -> GestureEvent:
        assert st.drag_started is not None
        q_end = st.drag_last if st.drag_last is not None else q
        origin = q_end if st.drag_origin is None else st.drag_origin[1]
        ev = GestureEvent(
            hand_id, st.handedness, "pinch_drag", EventPhase.END, 0.9, st.drag_started, t, strength, q_end - origin
        )
        st.drag_started = None
        st.drag_last = None
        return ev

    def hand_lost(self, hand_id: int, time_s: float) -> list[GestureEvent]:
        """Ends whatever the hand was doing (wave, drag) and forgets it; pending swipes are dropped."""
        st = self._hands.pop(hand_id, None)
        if st is None:
            return []
        events: list[GestureEvent] = []
        p = st.samples[-1][1] if st.samples else np.zeros(3)
        if st.wave_start is not None:
            events.append(self._wave_event(hand_id, st, EventPhase.END, time_s, p))
        if st.drag_started is not None:
            q = st.drag_last if st.drag_last is not None else p
            events.append(self._end_drag(hand_id, st, time_s, q, 0.0))
        return events

    def reset(self) -> None:
        self._hands.clear()
