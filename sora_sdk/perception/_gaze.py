"""A gaze ray resolved against the map: the observation type and the one-shot resolver.

The stateful pipeline (source priority, fixations, dwell) is :class:`GazeTracker`
(``_gaze_tracker.py``); :func:`resolve_gaze` is the stateless building block it and older callers use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.scene import RaycastHit

__all__ = ["GazeObservation", "Raycaster", "resolve_gaze", "target_key"]

#: ``(origin_world_m (3,), direction_world (3,) unit, max_distance_m) -> RaycastHit | None``.
Raycaster = Callable[[np.ndarray, np.ndarray, float], RaycastHit | None]


@dataclass(frozen=True, eq=False)
class GazeObservation:
    """A gaze ray and what it rests on.

    origin_world_m : (3,) float32 world metres; direction_world : (3,) float32 unit, world frame.
    source : ``"eye_tracking"`` | ``"head"`` | ``"face_camera"``.
    hit : what the ray hits (while a fixation is in progress, what the fixation's mean ray hits).
    target_key : identifies the target for dwell: ``"object:<id>"``, ``"plane:<id>"``,
        ``"chunk:x,y,z"``, ``"surface"`` or ``""`` (nothing hit).
    dwell_s : how long the gaze has rested on ``target_key``, seconds; 0 until a fixation on it has
        started, so a glance never accumulates dwell.
    fixating : whether a fixation is in progress.
    face_landmarks_px : (478, 2) float32 Face Mesh landmarks in the frame's pixels (face camera only).
    """

    capture_time_s: float
    source: str
    origin_world_m: np.ndarray
    direction_world: np.ndarray
    confidence: float
    hit: RaycastHit | None
    target_key: str
    dwell_s: float
    fixating: bool = False
    face_landmarks_px: np.ndarray | None = None


def target_key(hit: RaycastHit | None) -> str:
    """A stable name for what ``hit`` hit (see :class:`GazeObservation`)."""
    if hit is None:
        return ""
    if hit.object_id:
        return f"object:{hit.object_id}"
    if hit.plane_id:
        return f"plane:{hit.plane_id}"
    if hit.chunk_key is not None:
        return "chunk:{},{},{}".format(*hit.chunk_key)
    return "surface"


def resolve_gaze(
    raycast: Raycaster,
    *,
    capture_time_s: float,
    source: str,
    origin_world_m: np.ndarray,
    direction_world: np.ndarray,
    confidence: float,
    previous: GazeObservation | None,
    max_distance_m: float = 10.0,
) -> GazeObservation:
    """Casts one ray; carries dwell over from ``previous`` while the target stays the same.

    Stateless and naive (every sample counts toward dwell, glances included); use
    :class:`GazeTracker` for fixation-based dwell.
    """
    d = np.asarray(direction_world, dtype=np.float64)
    d = d / max(float(np.linalg.norm(d)), 1e-12)
    hit = raycast(np.asarray(origin_world_m, dtype=np.float64), d, max_distance_m)
    key = target_key(hit)
    dwell = 0.0
    if previous is not None and key and previous.target_key == key:
        dwell = previous.dwell_s + max(0.0, capture_time_s - previous.capture_time_s)
    return GazeObservation(
        capture_time_s=capture_time_s,
        source=source,
        origin_world_m=np.asarray(origin_world_m, dtype=np.float32),
        direction_world=d.astype(np.float32),
        confidence=confidence,
        hit=hit,
        target_key=key,
        dwell_s=dwell,
    )
