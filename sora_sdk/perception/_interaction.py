"""Hand-object interaction: near, touching, holding an object's box, with hysteresis.

Distances are from the hand's landmarks to each object's oriented box (``SceneObject.pose_world_box``
and ``size_m``; negative inside):

- **near**: any landmark within ``near_enter_m`` (left beyond ``near_exit_m``);
- **touch**: any fingertip within ``touch_enter_m`` (left beyond ``touch_exit_m``);
- **hold**: the thumb tip and the index or middle tip both within ``hold_enter_m`` on faces whose
  outward normals oppose (dot product at most ``hold_opposition_cos``): the object is between them.

Each state needs its condition for ``hold_frames`` frames in a row to start or to end, so a
fingertip trembling at a threshold gives one event, not many. Per hand and object the three are
reported as nested intervals (starts near -> touch -> hold, ends in reverse).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.scene import SceneObject
from ._box_geometry import BoxSet
from ._device import HandObservation
from ._events import EventPhase, InteractionEvent
from ._landmarks import FINGERTIPS

__all__ = ["HandInteractionDetector", "HandInteractionOptions"]

_KINDS = ("near", "touch", "hold")


@dataclass(frozen=True)
class HandInteractionOptions:
    """Thresholds, metres."""

    near_enter_m: float = 0.10
    near_exit_m: float = 0.15
    touch_enter_m: float = 0.01
    touch_exit_m: float = 0.025
    hold_enter_m: float = 0.015
    hold_exit_m: float = 0.03
    hold_opposition_cos: float = -0.3
    hold_frames: int = 2


@dataclass
class _Flag:
    active: bool = False
    count: int = 0
    start_time_s: float = 0.0
    distance_m: float = 0.0


@dataclass
class _Pair:
    flags: dict[str, _Flag] = field(default_factory=lambda: {k: _Flag() for k in _KINDS})


class HandInteractionDetector:
    """Interaction state per (hand, object) (see the module docstring)."""

    def __init__(self, options: HandInteractionOptions | None = None) -> None:
        self.options = options or HandInteractionOptions()
        self._pairs: dict[tuple[int, str], _Pair] = {}

    @classmethod
    def create_from_options(cls, options: HandInteractionOptions | None = None) -> HandInteractionDetector:
        return cls(options)

    def close(self) -> None:
        self._pairs.clear()

    def __enter__(self) -> HandInteractionDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def active(self, hand_id: int) -> dict[str, set[str]]:
        """Object IDs per active interaction kind for a hand."""
        out: dict[str, set[str]] = {k: set() for k in _KINDS}
        for (hid, oid), pair in self._pairs.items():
            if hid == hand_id:
                for k, f in pair.flags.items():
                    if f.active:
                        out[k].add(oid)
        return out

    def update(self, hand: HandObservation, objects: Sequence[SceneObject]) -> list[InteractionEvent]:
        """One observation of a hand against the current objects; returns the events, in order."""
        o = self.options
        t = hand.capture_time_s
        live = [ob for ob in objects if ob.state != "removed"]
        boxes = BoxSet.from_objects(live)
        lm = np.asarray(hand.landmarks_world_m, dtype=np.float64)
        dist = boxes.signed_distances(lm)  # (21, n)
        events: list[InteractionEvent] = []
        seen: set[str] = set()
        for j, ob in enumerate(live):
            seen.add(ob.object_id)
            d_all = float(dist[:, j].min())
            d_tips = float(dist[list(FINGERTIPS), j].min())
            d_thumb = float(dist[4, j])
            finger = 8 if dist[8, j] <= dist[12, j] else 12
            d_finger = float(dist[finger, j])
            grip = max(d_thumb, d_finger)
            opposed = False
            if grip <= o.hold_exit_m:
                normals = boxes.nearest_face_normals(lm[[4, finger]], j)
                opposed = float(normals[0] @ normals[1]) <= o.hold_opposition_cos
            conditions = {
                "near": (d_all <= o.near_enter_m, d_all > o.near_exit_m, d_all),
                "touch": (d_tips <= o.touch_enter_m, d_tips > o.touch_exit_m, d_tips),
                "hold": (grip <= o.hold_enter_m and opposed, grip > o.hold_exit_m or not opposed, grip),
            }
            key = (hand.hand_id, ob.object_id)
            pair = self._pairs.get(key)
            if pair is None:
                if d_all > o.near_enter_m:
                    continue  # nothing can start; don't keep state for far objects
                pair = self._pairs[key] = _Pair()
            starts, ends = [], []
            for kind in _KINDS:
                enter, leave, d = conditions[kind]
                f = pair.flags[kind]
                f.distance_m = d
                want_change = leave if f.active else enter
                f.count = f.count + 1 if want_change else 0
                if f.count >= o.hold_frames:
                    f.active, f.count = not f.active, 0
                    if f.active:
                        f.start_time_s = t
                        starts.append(InteractionEvent(hand.hand_id, kind, EventPhase.START, ob.object_id, d, t, t))
                    else:
                        ends.append(
                            InteractionEvent(hand.hand_id, kind, EventPhase.END, ob.object_id, d, t, f.start_time_s)
                        )
            events += ends[::-1] + starts
            if not any(f.active or f.count for f in pair.flags.values()):
                del self._pairs[key]
        # Objects that vanished (removed or no longer listed) end their interactions.
        for key in [k for k in self._pairs if k[0] == hand.hand_id and k[1] not in seen]:
            events += self._end_pair(key, t)
        return events

    def hand_lost(self, hand_id: int, time_s: float) -> list[InteractionEvent]:
        """Ends every interaction of a hand that is no longer tracked."""
        events: list[InteractionEvent] = []
        for key in [k for k in self._pairs if k[0] == hand_id]:
            events += self._end_pair(key, time_s)
        return events

    def _end_pair(self, key: tuple[int, str], t: float) -> list[InteractionEvent]:
        pair = self._pairs.pop(key)
        return [
            InteractionEvent(
                key[0], kind, EventPhase.END, key[1], pair.flags[kind].distance_m, t, pair.flags[kind].start_time_s
            )
            for kind in reversed(_KINDS)
            if pair.flags[kind].active
        ]
