"""Static hand poses from 21 metric landmarks: rule-based scores, then hysteresis.

Why rules and not MediaPipe's gesture classifier: the Tasks classifier needs a downloaded ``.task``
model (none ship with mediapipe 0.10.21), works on camera images only, and has no pinch or point.
Rules on joint angles work the same for camera hands lifted to 3D and for device joints.

Each pose gets a score in 0..1, a fuzzy AND (minimum) of per-finger memberships:

- extension ``E`` of each finger from its bend (:func:`finger_flexion_deg`): 1 at
  ``extended_flex_deg`` or less, 0 at ``curled_flex_deg`` or more; curl ``C = 1 - E``;
- the thumb is extended when it is straight *and* its tip is away from the index and middle
  fingers (a thumb folded over a fist is fairly straight but touches them);
- directions (``pointing_up``, ``thumb_up``/``thumb_down``) by the angle to the up vector;
- ``pinch`` by the thumb-index tip gap relative to the hand size.

:class:`StaticGestureFilter` turns the per-frame scores into a stable label: a pose is entered when
its score reaches ``enter_threshold`` for ``enter_hold_frames`` frames in a row and left when it falls
below ``exit_threshold`` for ``exit_hold_frames`` frames (or a clearly better pose takes over), so a
score hovering near one threshold cannot make the label flicker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._landmarks import finger_flexion_deg, hand_scale_m, pinch_gap

__all__ = ["StaticGestureFilter", "StaticPoseOptions", "pinch_strength", "static_pose_scores"]


@dataclass(frozen=True)
class StaticPoseOptions:
    """Thresholds of the static pose rules (angles in degrees, gaps relative to the hand scale,
    the mean wrist-to-knuckle distance of ~9 cm)."""

    #: A finger bent this much or less (knuckle ray to finger direction, see ``finger_flexion_deg``)
    #: is fully extended ...
    extended_flex_deg: float = 35.0
    #: ... and this much or more fully curled (a fist: ~150 degrees).
    curled_flex_deg: float = 110.0
    #: Thumb bend (metacarpal to MCP -> tip) for fully straight / fully bent.
    thumb_straight_deg: float = 30.0
    thumb_bent_deg: float = 55.0
    #: Thumb tip to the nearest index/middle joint: tucked at or below, free at or above.
    thumb_tucked_gap: float = 0.38
    thumb_free_gap: float = 0.50
    #: Direction to "up" for pointing_up / thumb_up: full score within, zero beyond (degrees).
    up_full_deg: float = 35.0
    up_zero_deg: float = 55.0
    #: Angle between index and middle for a V (victory): zero at or below, full at or above.
    v_closed_deg: float = 6.0
    v_open_deg: float = 14.0
    #: Thumb-index tip gap for the pinch pose: full at or below, zero at or above.
    pinch_full_gap: float = 0.20
    pinch_zero_gap: float = 0.30
    #: Pinch strength: 1 at or below the closed gap, 0 at or above the open gap.
    pinch_closed_gap: float = 0.15
    pinch_open_gap: float = 0.70


def _ramp(x: float | np.ndarray, zero_at: float, one_at: float) -> np.ndarray:
    """Linear 0..1 membership: 0 at ``zero_at``, 1 at ``one_at`` (either order), clipped."""
    return np.clip((np.asarray(x, dtype=np.float64) - zero_at) / (one_at - zero_at), 0.0, 1.0)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def pinch_strength(landmarks: np.ndarray, options: StaticPoseOptions | None = None) -> float:
    """0 (open) .. 1 (tips together) from the thumb-index tip gap relative to the hand size."""
    o = options or StaticPoseOptions()
    return float(_ramp(pinch_gap(landmarks), o.pinch_open_gap, o.pinch_closed_gap))


def static_pose_scores(
    landmarks: np.ndarray, up: np.ndarray, options: StaticPoseOptions | None = None
) -> dict[str, float]:
    """Score of every static pose (``STATIC_GESTURES``), each 0..1.

    landmarks : (21, 3) metric (world or camera frame, metres); up : (3,) the user's up in that frame.
    """
    o = options or StaticPoseOptions()
    lm = np.asarray(landmarks, dtype=np.float64)
    scale = max(hand_scale_m(lm), 1e-6)
    flex = finger_flexion_deg(lm)
    ext = _ramp(flex, o.curled_flex_deg, o.extended_flex_deg)
    thumb_straight = float(_ramp(flex[0], o.thumb_bent_deg, o.thumb_straight_deg))
    thumb_gap = float(np.linalg.norm(lm[[5, 6, 7, 9, 10, 11]] - lm[4], axis=1).min()) / scale
    e_t = min(thumb_straight, float(_ramp(thumb_gap, o.thumb_tucked_gap, o.thumb_free_gap)))
    e_i, e_m, e_r, e_p = (float(v) for v in ext[1:])
    c_t, c_i, c_m, c_r, c_p = 1.0 - e_t, 1.0 - e_i, 1.0 - e_m, 1.0 - e_r, 1.0 - e_p

    up_u = _unit(np.asarray(up, dtype=np.float64))
    index_dir = _unit(lm[8] - lm[5])
    middle_dir = _unit(lm[12] - lm[9])
    thumb_dir = _unit(lm[4] - lm[2])
    cos_full, cos_zero = np.cos(np.radians(o.up_full_deg)), np.cos(np.radians(o.up_zero_deg))
    index_up = float(_ramp(float(index_dir @ up_u), cos_zero, cos_full))
    thumb_up = float(_ramp(float(thumb_dir @ up_u), cos_zero, cos_full))
    thumb_down = float(_ramp(float(-thumb_dir @ up_u), cos_zero, cos_full))
    v_angle = float(np.degrees(np.arccos(np.clip(index_dir @ middle_dir, -1.0, 1.0))))
    v_open = float(_ramp(v_angle, o.v_closed_deg, o.v_open_deg))
    pinch = float(_ramp(pinch_gap(lm), o.pinch_zero_gap, o.pinch_full_gap))

    fist_fingers = min(c_i, c_m, c_r, c_p)
    pointing = min(e_i, c_m, c_r, c_p)
    scores = {
        "closed_fist": min(fist_fingers, c_t),
        "open_palm": min(e_t, e_i, e_m, e_r, e_p),
        "pointing_up": min(pointing, index_up),
        "thumb_down": min(fist_fingers, e_t, thumb_down),
        "thumb_up": min(fist_fingers, e_t, thumb_up),
        "victory": min(e_i, e_m, c_r, c_p, v_open),
        "i_love_you": min(e_t, e_i, c_m, c_r, e_p),
        "pinch": pinch,
        "point": min(pointing, 1.0 - index_up),
    }
    return scores


@dataclass(frozen=True)
class StaticTransition:
    """The label changed from ``previous`` to ``current`` ("" = no pose)."""

    previous: str
    current: str


class StaticGestureFilter:
    """Hysteresis over per-frame pose scores for one hand (see the module docstring)."""

    def __init__(
        self,
        *,
        enter_threshold: float = 0.7,
        exit_threshold: float = 0.4,
        enter_hold_frames: int = 3,
        exit_hold_frames: int = 2,
        switch_margin: float = 0.15,
    ) -> None:
        if not 0.0 <= exit_threshold < enter_threshold <= 1.0:
            raise ValueError("need 0 <= exit_threshold < enter_threshold <= 1")
        self.enter_threshold = enter_threshold
        self.exit_threshold = exit_threshold
        self.enter_hold_frames = max(1, enter_hold_frames)
        self.exit_hold_frames = max(1, exit_hold_frames)
        self.switch_margin = switch_margin
        self.current = ""
        self._pending = ""
        self._count = 0

    def update(self, scores: dict[str, float]) -> StaticTransition | None:
        """Feeds one frame's scores; returns the transition when the label changes, else None."""
        best = max(scores, key=scores.__getitem__)
        s_best = scores[best]
        proposal = ""
        if self.current:
            s_cur = scores.get(self.current, 0.0)
            better = best != self.current and s_best >= self.enter_threshold and s_best >= s_cur + self.switch_margin
            if s_cur >= self.exit_threshold and not better:
                proposal = self.current
            elif s_best >= self.enter_threshold:
                proposal = best
        elif s_best >= self.enter_threshold:
            proposal = best
        if proposal == self.current:
            self._pending, self._count = "", 0
            return None
        if proposal == self._pending:
            self._count += 1
        else:
            self._pending, self._count = proposal, 1
        needed = self.enter_hold_frames if proposal else self.exit_hold_frames
        if self._count < needed:
            return None
        previous, self.current = self.current, proposal
        self._pending, self._count = "", 0
        return StaticTransition(previous, proposal)

    def reset(self) -> None:
        self.current, self._pending, self._count = "", "", 0
