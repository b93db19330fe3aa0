"""What the avatar says and does, as plain events (the proto's ConverseResponse, minus the wire)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["AvatarEvent", "CueTarget", "SceneSummary"]


@dataclass(frozen=True, eq=False)
class CueTarget:
    """Something the avatar looks or points at. kind: "object" | "plane" | "anchor" | "user" | "point"."""

    kind: str
    target_id: str = ""
    label: str = ""
    point_world_m: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))


@dataclass(frozen=True, eq=False)
class AvatarEvent:
    """One event of an avatar turn.

    kind: "transcript" | "text_delta" | "audio" | "visemes" | "emotion" | "look_at" | "point_at" |
    "body" | "turn_end". Only the fields of that kind are set. ``audio`` is (n,) int16 mono.
    """

    turn_id: str
    kind: str
    text: str = ""
    is_final: bool = True
    audio: np.ndarray | None = None
    sample_rate_hz: int = 0
    start_s: float = 0.0
    visemes: list[tuple[str, float, float]] = field(default_factory=list)  # (viseme, start_s, weight)
    emotion: str = ""
    intensity: float = 0.0
    target: CueTarget | None = None
    body_gesture: str = ""
    end_reason: str = ""  # "completed" | "interrupted" | "error"
    spoken_s: float = 0.0
    spoken_fraction: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class SceneSummary:
    """The compact, current scene context every dialogue turn sees."""

    mesh_chunks: int
    mesh_triangles: int
    surface_area_m2: float
    extent_min_m: tuple[float, float, float]
    extent_max_m: tuple[float, float, float]
    planes: tuple[tuple[str, str, float], ...]  # (plane_id, label, area_m2)
    objects: tuple[tuple[str, str, tuple[float, float, float]], ...]  # (object_id, label, centroid)
    gaze_target: str = ""
    gaze_dwell_s: float = 0.0
    frames_integrated: int = 0
