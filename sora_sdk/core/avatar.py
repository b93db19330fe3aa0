"""What the avatar says and does, as plain events (the proto's ConverseResponse, minus the wire)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "AnchorSummary",
    "AvatarEvent",
    "CueTarget",
    "ObjectSummary",
    "PlaneSummary",
    "SceneEventSummary",
    "SceneSummary",
]

Vec3 = tuple[float, float, float]


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
    Times (``start_s``, viseme and blendshape times) are seconds from the start of the turn's audio.
    ``blendshapes`` (kind "visemes") holds ARKit-style mouth/jaw frames ``(time_s, {name: weight 0..1})``;
    ``duration_s`` (look_at / point_at) is how long the cue holds, 0 until the next cue.
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
    blendshapes: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    duration_s: float = 0.0


@dataclass(frozen=True)
class ObjectSummary:
    """One object as a dialogue turn sees it. Positions are world frame, metres (box centre).

    ``support_id`` / ``support_label`` name the plane or object it stands on ("" when unknown).
    """

    object_id: str
    label: str
    position_world_m: Vec3
    size_m: Vec3 = (0.0, 0.0, 0.0)
    color_name: str = ""
    support_id: str = ""
    support_label: str = ""
    confidence: float = 1.0
    first_seen_s: float = 0.0
    last_seen_s: float = 0.0


@dataclass(frozen=True)
class PlaneSummary:
    """One plane: AR Foundation label, area (m²), centre (world, metres) and unit normal (world)."""

    plane_id: str
    label: str
    area_m2: float
    center_world_m: Vec3 = (0.0, 0.0, 0.0)
    normal_world: Vec3 = (0.0, 0.0, 1.0)


@dataclass(frozen=True)
class AnchorSummary:
    """A user anchor: ID, label and position (world, metres)."""

    anchor_id: str
    label: str
    position_world_m: Vec3


@dataclass(frozen=True)
class SceneEventSummary:
    """Something that happened in the scene recently.

    kind: "appeared" | "moved" | "removed" | "anchor_created" | "gesture" | … (free text for others).
    ``subject_id`` / ``label`` name what it happened to; ``detail`` is optional human-readable text.
    """

    time_s: float
    kind: str
    subject_id: str = ""
    label: str = ""
    detail: str = ""


@dataclass(frozen=True)
class SceneSummary:
    """The compact, current scene context every dialogue turn sees.

    The first fields are the original compact form. The rest (all optional) carry the richer context:
    ``object_details`` / ``plane_details`` (when empty, ``objects`` / ``planes`` stand in, see
    ``object_list()`` / ``plane_list()``), ``relations`` as (subject_id, predicate, object_id) with the proto
    RelationType names in lower case ("on", "near", "next_to", "left_of" …), the gaze target (kind
    "object" | "plane" | "anchor" | "surface", ID, label, hit point, and ``gaze_dwell_s``), the current hand
    ``gesture`` (GestureType name in lower case, e.g. "point") and the pointing target, the user's head
    position and forward direction and the world's up direction (all world frame; metres for positions),
    user anchors, recent scene events, and the scene time (seconds, the session clock).
    """

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
    object_details: tuple[ObjectSummary, ...] = ()
    plane_details: tuple[PlaneSummary, ...] = ()
    relations: tuple[tuple[str, str, str], ...] = ()
    anchors: tuple[AnchorSummary, ...] = ()
    gaze_target_kind: str = ""
    gaze_target_id: str = ""
    gaze_target_label: str = ""
    gaze_point_world_m: Vec3 | None = None
    gesture: str = ""
    pointing_target_kind: str = ""
    pointing_target_id: str = ""
    pointing_target_label: str = ""
    pointing_point_world_m: Vec3 | None = None
    head_position_world_m: Vec3 | None = None
    head_forward_world: Vec3 | None = None
    up_world: Vec3 = (0.0, 0.0, 1.0)
    recent_events: tuple[SceneEventSummary, ...] = ()
    time_s: float = 0.0

    def object_list(self) -> tuple[ObjectSummary, ...]:
        """``object_details``, or ``objects`` as bare ObjectSummary when no details were given."""
        if self.object_details:
            return self.object_details
        return tuple(
            ObjectSummary(oid, label, (float(c[0]), float(c[1]), float(c[2]))) for oid, label, c in self.objects
        )

    def plane_list(self) -> tuple[PlaneSummary, ...]:
        """``plane_details``, or ``planes`` as bare PlaneSummary when no details were given."""
        if self.plane_details:
            return self.plane_details
        return tuple(PlaneSummary(pid, label, area) for pid, label, area in self.planes)
