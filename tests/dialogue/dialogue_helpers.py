"""Scene builders shared by the dialogue tests."""

from __future__ import annotations

from sora_sdk.core.avatar import ObjectSummary, PlaneSummary, SceneEventSummary, SceneSummary


def living_room(**overrides: object) -> SceneSummary:
    """A small room, +Z up. The user's head is at (0, 0, 1.6) looking along +X, so +Y is the user's left.

    Table ahead (red mug and blue box on it), green plant ahead-right on the floor, two chairs, and a shelf
    behind the user with a yellow bottle and a white mug. The user looks at the plant and points at the
    red mug.
    """
    objects = (
        ObjectSummary("o-mug", "red mug", (2.0, 0.6, 0.8), (0.08, 0.08, 0.1), "red", "p-table", "table"),
        ObjectSummary("o-box", "blue box", (2.2, 0.2, 0.82), (0.2, 0.2, 0.15), "blue", "p-table", "table"),
        ObjectSummary("o-plant", "green plant", (1.0, -1.5, 0.3), (0.4, 0.4, 0.6), "green", "p-floor", "floor"),
        ObjectSummary("o-chair1", "chair", (2.6, -0.6, 0.45), (0.5, 0.5, 0.9), "brown", "p-floor", "floor"),
        ObjectSummary("o-chair2", "chair", (2.6, 1.4, 0.45), (0.5, 0.5, 0.9), "brown", "p-floor", "floor"),
        ObjectSummary("o-shelf", "shelf", (-1.3, 0.5, 0.8), (0.35, 1.0, 1.6), "white", "p-floor", "floor"),
        ObjectSummary("o-bottle", "yellow bottle", (-1.2, 0.7, 1.25), (0.07, 0.07, 0.25), "yellow", "o-shelf", "shelf"),
        ObjectSummary("o-mug2", "white mug", (-1.2, 0.3, 1.25), (0.08, 0.08, 0.1), "white", "o-shelf", "shelf"),
    )
    planes = (
        PlaneSummary("p-floor", "floor", 18.0, (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
        PlaneSummary("p-table", "table", 1.1, (2.1, 0.4, 0.75), (0.0, 0.0, 1.0)),
        PlaneSummary("p-wall", "wall", 10.0, (1.0, 2.0, 1.3), (0.0, -1.0, 0.0)),
    )
    base: dict[str, object] = dict(
        mesh_chunks=120,
        mesh_triangles=50_000,
        surface_area_m2=42.0,
        extent_min_m=(-1.5, -2.0, 0.0),
        extent_max_m=(3.5, 2.0, 2.6),
        planes=tuple((p.plane_id, p.label, p.area_m2) for p in planes),
        objects=tuple((o.object_id, o.label, o.position_world_m) for o in objects),
        gaze_target="the green plant",
        gaze_dwell_s=2.4,
        frames_integrated=300,
        object_details=objects,
        plane_details=planes,
        relations=(("o-mug", "next_to", "o-box"), ("o-box", "next_to", "o-mug"), ("o-bottle", "on", "o-shelf")),
        gaze_target_kind="object",
        gaze_target_id="o-plant",
        gaze_target_label="green plant",
        gaze_point_world_m=(1.0, -1.4, 0.5),
        gesture="point",
        pointing_target_kind="object",
        pointing_target_id="o-mug",
        pointing_target_label="red mug",
        pointing_point_world_m=(2.0, 0.6, 0.85),
        head_position_world_m=(0.0, 0.0, 1.6),
        head_forward_world=(1.0, 0.0, 0.0),
        recent_events=(
            SceneEventSummary(95.0, "appeared", "o-mug2", "white mug"),
            SceneEventSummary(110.0, "moved", "o-box", "blue box"),
        ),
        time_s=120.0,
    )
    base.update(overrides)
    return SceneSummary(**base)  # type: ignore[arg-type]
