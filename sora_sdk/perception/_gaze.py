"""Gaze rays resolved against the map into a gaze target, with dwell time on that target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.scene import RaycastHit

__all__ = ["GazeObservation", "resolve_gaze"]

Raycaster = Callable[[np.ndarray, np.ndarray, float], RaycastHit | None]


@dataclass(frozen=True, eq=False)
class GazeObservation:
    """A gaze ray (world frame, metres) and what it hits."""

    capture_time_s: float
    source: str  # "eye_tracking" | "head" | "face_camera"
    origin_world_m: np.ndarray
    direction_world: np.ndarray
    confidence: float
    hit: RaycastHit | None
    target_key: str  # identifies the target for dwell: "object:<id>", "plane:<id>", "chunk:x,y,z" or ""
    dwell_s: float


def _target_key(hit: RaycastHit | None) -> str:
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
    """Casts the ray and carries dwell over from ``previous`` while the target stays the same."""
    d = np.asarray(direction_world, dtype=np.float64)
    d = d / max(float(np.linalg.norm(d)), 1e-12)
    hit = raycast(np.asarray(origin_world_m, dtype=np.float64), d, max_distance_m)
    key = _target_key(hit)
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
