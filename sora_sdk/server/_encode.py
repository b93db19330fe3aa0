"""Core -> proto for everything the server sends."""

from __future__ import annotations

import numpy as np

from .._proto.sora.v1 import avatar_pb2, perception_pb2, scene_pb2, types_pb2

# The geometry and position encoders are shared with the client (one place for the wire layout).
from ..client._codec import encode_pose, vec3
from ..client._codec import position_to_proto as encode_position
from ..core.avatar import AvatarEvent, CueTarget
from ..core.scene import Anchor, MeshChunk, Plane, RaycastHit, Relation, SceneObject, StreamPosition
from ..perception import (
    FixationEvent,
    GazeObservation,
    GestureEvent,
    HandObservation,
    InteractionEvent,
    PointingEvent,
)
from ..scene import SceneDelta, SceneUpdate, UpdateKind

__all__ = [
    "encode_anchor",
    "encode_avatar_event",
    "encode_chunk",
    "encode_gaze",
    "encode_hands",
    "encode_object",
    "encode_plane",
    "encode_pose",
    "encode_position",
    "encode_raycast_hit",
    "encode_relation",
    "encode_scene_update",
    "vec3",
]

_U16_MAX = 65535


def encode_chunk(c: MeshChunk) -> scene_pb2.MeshChunk:
    """Quantises positions to uint16 over the chunk's own bounds (about 5 µm on a 0.32 m block)."""
    v = np.asarray(c.vertices, dtype=np.float64)
    msg = scene_pb2.MeshChunk(
        block=scene_pb2.BlockIndex(x=c.key[0], y=c.key[1], z=c.key[2]),
        version=c.version,
        block_size_m=float(c.size_m),
        vertex_count=c.vertex_count,
        triangle_count=c.triangle_count,
    )
    if c.vertex_count == 0:
        msg.origin_world_m.CopyFrom(vec3(c.origin_world_m))
        return msg
    lo = v.min(axis=0)
    span = float((v.max(axis=0) - lo).max())
    step = max(span / _U16_MAX, 1e-9)
    q = np.clip(np.rint((v - lo) / step), 0, _U16_MAX).astype("<u2")
    msg.origin_world_m.CopyFrom(vec3(lo))
    msg.position_step_m = step
    msg.positions_u16 = q.tobytes()
    msg.normals_i8 = np.clip(np.rint(np.asarray(c.normals) * 127.0), -127, 127).astype(np.int8).tobytes()
    msg.colors_rgb8 = np.asarray(c.colors, dtype=np.uint8).tobytes()
    if c.vertex_count <= _U16_MAX:
        msg.index_format = scene_pb2.INDEX_FORMAT_U16
        msg.indices = np.asarray(c.triangles).astype("<u2").tobytes()
    else:
        msg.index_format = scene_pb2.INDEX_FORMAT_U32
        msg.indices = np.asarray(c.triangles).astype("<u4").tobytes()
    return msg


_PLANE_LABELS = {
    "floor": scene_pb2.PLANE_LABEL_FLOOR,
    "ceiling": scene_pb2.PLANE_LABEL_CEILING,
    "wall": scene_pb2.PLANE_LABEL_WALL,
    "table": scene_pb2.PLANE_LABEL_TABLE,
    "seat": scene_pb2.PLANE_LABEL_SEAT,
    "door": scene_pb2.PLANE_LABEL_DOOR,
    "window": scene_pb2.PLANE_LABEL_WINDOW,
    "other": scene_pb2.PLANE_LABEL_OTHER,
}


def encode_plane(p: Plane) -> scene_pb2.Plane:
    return scene_pb2.Plane(
        plane_id=p.plane_id,
        version=p.version,
        label=_PLANE_LABELS.get(p.label.value, scene_pb2.PLANE_LABEL_OTHER),
        pose_world_plane=encode_pose(p.pose_world_plane),
        extent_m=types_pb2.Vector2(x=float(p.extent_m[0]), y=float(p.extent_m[1])),
        boundary_plane_m=[types_pb2.Vector2(x=float(x), y=float(y)) for x, y in np.asarray(p.boundary_plane_m)],
        area_m2=float(p.area_m2),
    )


def encode_anchor(a: Anchor) -> scene_pb2.Anchor:
    return scene_pb2.Anchor(
        anchor_id=a.anchor_id,
        version=a.version,
        pose_world_anchor=encode_pose(a.pose_world_anchor),
        label=a.label,
        created_time_s=a.created_time_s,
        attached_to_id=a.attached_to_id,
    )


_OBJECT_STATES = {
    "tentative": scene_pb2.OBJECT_STATE_TENTATIVE,
    "confirmed": scene_pb2.OBJECT_STATE_CONFIRMED,
    "lost": scene_pb2.OBJECT_STATE_LOST,
    "removed": scene_pb2.OBJECT_STATE_REMOVED,
}


def encode_object(o: SceneObject) -> scene_pb2.SceneObject:
    r, g, b = o.color_rgb
    return scene_pb2.SceneObject(
        object_id=o.object_id,
        version=o.version,
        label=o.label,
        label_confidence=o.label_confidence,
        label_scores=[scene_pb2.LabelScore(label=k, score=v) for k, v in o.label_scores.items()],
        state=_OBJECT_STATES.get(o.state, scene_pb2.OBJECT_STATE_UNSPECIFIED),
        box=types_pb2.OrientedBox(pose_world_box=encode_pose(o.pose_world_box), size_m=vec3(o.size_m)),
        color=types_pb2.ColorRgb8(r=r, g=g, b=b),
        color_name=o.color_name,
        support_plane_id=o.support_plane_id,
        first_seen_s=o.first_seen_s,
        last_seen_s=o.last_seen_s,
        observation_count=o.observation_count,
    )


def encode_relation(r: Relation) -> scene_pb2.Relation:
    return scene_pb2.Relation(
        subject_id=r.subject_id,
        predicate=scene_pb2.RelationType.Value(f"RELATION_TYPE_{r.predicate.upper()}"),
        object_id=r.object_id,
        confidence=r.confidence,
    )


_TRACKING = {"tracking": scene_pb2.TRACKING_STATE_TRACKING, "lost": scene_pb2.TRACKING_STATE_LOST}
_KINDS = {
    UpdateKind.SNAPSHOT_BEGIN: scene_pb2.SCENE_UPDATE_KIND_SNAPSHOT_BEGIN,
    UpdateKind.SNAPSHOT_PART: scene_pb2.SCENE_UPDATE_KIND_SNAPSHOT_PART,
    UpdateKind.DELTA: scene_pb2.SCENE_UPDATE_KIND_DELTA,
}


def encode_delta_into(msg: scene_pb2.SceneUpdate, d: SceneDelta) -> None:
    msg.upserted_chunks.extend(encode_chunk(c) for c in d.upserted_chunks)
    msg.removed_chunks.extend(scene_pb2.BlockIndex(x=k[0], y=k[1], z=k[2]) for k in d.removed_chunks)
    msg.upserted_planes.extend(encode_plane(p) for p in d.upserted_planes)
    msg.removed_plane_ids.extend(d.removed_plane_ids)
    msg.upserted_anchors.extend(encode_anchor(a) for a in d.upserted_anchors)
    msg.removed_anchor_ids.extend(d.removed_anchor_ids)
    msg.upserted_objects.extend(encode_object(o) for o in d.upserted_objects)
    msg.removed_object_ids.extend(d.removed_object_ids)
    msg.added_relations.extend(encode_relation(r) for r in d.added_relations)
    msg.removed_relations.extend(encode_relation(r) for r in d.removed_relations)
    msg.tracking_state = _TRACKING.get(d.tracking_state, scene_pb2.TRACKING_STATE_UNSPECIFIED)
    msg.server_time_s = d.server_time_s


def encode_scene_update(u: SceneUpdate) -> scene_pb2.SceneUpdate:
    msg = scene_pb2.SceneUpdate(
        position=encode_position(u.position),
        kind=_KINDS[u.kind],
        snapshot_complete=u.snapshot_complete,
        coalesced=u.coalesced,
    )
    encode_delta_into(msg, u.delta)
    return msg


def encode_raycast_hit(h: RaycastHit, label: str = "") -> types_pb2.SceneTarget:
    kind = {
        "object": types_pb2.TARGET_KIND_OBJECT,
        "plane": types_pb2.TARGET_KIND_PLANE,
    }.get(h.target, types_pb2.TARGET_KIND_SURFACE)
    return types_pb2.SceneTarget(
        kind=kind,
        id=h.object_id or h.plane_id,
        label=label,
        point_world_m=vec3(h.point_world_m),
        normal_world=vec3(h.normal_world),
        distance_m=float(h.distance_m),
    )


_HAND = {"left": types_pb2.HANDEDNESS_LEFT, "right": types_pb2.HANDEDNESS_RIGHT}
_HAND_SOURCE = {"camera": perception_pb2.HAND_SOURCE_CAMERA, "device": perception_pb2.HAND_SOURCE_DEVICE}


def encode_hands(hands: list[HandObservation]) -> perception_pb2.HandsUpdate:
    out = perception_pb2.HandsUpdate(capture_time_s=max((h.capture_time_s for h in hands), default=0.0))
    for h in hands:
        gesture = (
            perception_pb2.GestureType.Value(f"GESTURE_TYPE_{h.gesture.upper()}")
            if h.gesture
            else perception_pb2.GESTURE_TYPE_UNSPECIFIED
        )
        m = perception_pb2.Hand(
            hand_id=h.hand_id,
            handedness=_HAND.get(h.handedness, types_pb2.HANDEDNESS_UNSPECIFIED),
            source=_HAND_SOURCE.get(h.source, perception_pb2.HAND_SOURCE_UNSPECIFIED),
            confidence=h.confidence,
            capture_time_s=h.capture_time_s,
            landmarks_world_m=[vec3(p) for p in h.landmarks_world_m],
            gesture=gesture,
            gesture_confidence=h.gesture_confidence,
            pinch_strength=h.pinch_strength,
            pointing_ray_world=types_pb2.Ray(origin_m=vec3(h.pointing_origin_m), direction=vec3(h.pointing_direction)),
        )
        if h.landmarks_px is not None:
            m.landmarks_px.extend(types_pb2.Vector2(x=float(x), y=float(y)) for x, y in h.landmarks_px)
        out.hands.append(m)
    return out


_GAZE_SOURCE = {
    "eye_tracking": perception_pb2.GAZE_SOURCE_EYE_TRACKING,
    "head": perception_pb2.GAZE_SOURCE_HEAD,
    "face_camera": perception_pb2.GAZE_SOURCE_FACE_CAMERA,
}


def encode_gaze(g: GazeObservation) -> perception_pb2.GazeUpdate:
    msg = perception_pb2.GazeUpdate(
        capture_time_s=g.capture_time_s,
        source=_GAZE_SOURCE.get(g.source, perception_pb2.GAZE_SOURCE_UNSPECIFIED),
        gaze_world=types_pb2.Ray(origin_m=vec3(g.origin_world_m), direction=vec3(g.direction_world)),
        confidence=g.confidence,
        dwell_s=g.dwell_s,
        fixating=g.fixating,
    )
    if g.hit is not None:
        msg.target.CopyFrom(encode_raycast_hit(g.hit))
    if g.face_landmarks_px is not None:
        msg.face_landmarks_px.extend(types_pb2.Vector2(x=float(x), y=float(y)) for x, y in g.face_landmarks_px)
    return msg


_CUE_KINDS = {
    "object": types_pb2.TARGET_KIND_OBJECT,
    "plane": types_pb2.TARGET_KIND_PLANE,
    "anchor": types_pb2.TARGET_KIND_ANCHOR,
    "user": types_pb2.TARGET_KIND_USER,
    "point": types_pb2.TARGET_KIND_POINT,
}
_EMOTIONS = {
    name: avatar_pb2.Emotion.Value(f"EMOTION_{name.upper()}")
    for name in ("neutral", "happy", "sad", "angry", "surprised", "thinking", "curious", "concerned")
}
_END = {
    "completed": avatar_pb2.TURN_END_REASON_COMPLETED,
    "interrupted": avatar_pb2.TURN_END_REASON_INTERRUPTED,
    "error": avatar_pb2.TURN_END_REASON_ERROR,
}


def _cue_target(t: CueTarget) -> types_pb2.SceneTarget:
    return types_pb2.SceneTarget(
        kind=_CUE_KINDS.get(t.kind, types_pb2.TARGET_KIND_UNSPECIFIED),
        id=t.target_id,
        label=t.label,
        point_world_m=vec3(t.point_world_m),
    )


def encode_avatar_event(e: AvatarEvent, position: StreamPosition) -> avatar_pb2.ConverseResponse:
    msg = avatar_pb2.ConverseResponse(position=encode_position(position), turn_id=e.turn_id)
    if e.kind == "transcript":
        msg.transcript.CopyFrom(avatar_pb2.Transcript(text=e.text, is_final=e.is_final, confidence=e.intensity))
    elif e.kind == "text_delta":
        msg.text_delta.text = e.text
    elif e.kind == "audio":
        assert e.audio is not None
        msg.audio.CopyFrom(
            avatar_pb2.SpeechAudio(
                sample_rate_hz=e.sample_rate_hz, pcm16=e.audio.astype("<i2").tobytes(), start_s=e.start_s
            )
        )
    elif e.kind == "visemes":
        msg.visemes.keys.extend(
            avatar_pb2.VisemeKey(viseme=avatar_pb2.Viseme.Value(f"VISEME_{v.upper()}"), start_s=s, weight=w)
            for v, s, w in e.visemes
        )
        msg.visemes.blendshapes.extend(
            avatar_pb2.BlendshapeFrame(
                time_s=t, weights=[avatar_pb2.BlendshapeWeight(name=k, weight=w) for k, w in weights.items()]
            )
            for t, weights in e.blendshapes
        )
    elif e.kind == "emotion":
        msg.emotion.CopyFrom(
            avatar_pb2.EmotionCue(
                emotion=_EMOTIONS.get(e.emotion, avatar_pb2.EMOTION_NEUTRAL), intensity=e.intensity, start_s=e.start_s
            )
        )
    elif e.kind in ("look_at", "point_at"):
        assert e.target is not None
        getattr(msg, e.kind).CopyFrom(
            avatar_pb2.TargetCue(target=_cue_target(e.target), start_s=e.start_s, duration_s=e.duration_s)
        )
    elif e.kind == "body":
        msg.body.CopyFrom(
            avatar_pb2.BodyCue(
                gesture=avatar_pb2.BodyGesture.Value(f"BODY_GESTURE_{e.body_gesture.upper()}"), start_s=e.start_s
            )
        )
    elif e.kind == "turn_end":
        msg.turn_end.CopyFrom(
            avatar_pb2.TurnEnd(
                reason=_END.get(e.end_reason, avatar_pb2.TURN_END_REASON_UNSPECIFIED),
                spoken_text=e.text,
                spoken_s=e.spoken_s,
                spoken_fraction=e.spoken_fraction,
                detail=e.detail,
            )
        )
    else:
        raise ValueError(f"unknown avatar event kind {e.kind!r}")
    return msg


def _target(hit: RaycastHit | None) -> types_pb2.SceneTarget:
    return encode_raycast_hit(hit) if hit is not None else types_pb2.SceneTarget()


def _phase(phase: object) -> int:
    return perception_pb2.EventPhase.Value(f"EVENT_PHASE_{str(phase).upper()}")


def encode_perception_event(event: object, position: StreamPosition) -> perception_pb2.WatchPerceptionResponse:
    """Ordered perception events (gestures, pointing, fixations, interactions) -> the stream message."""
    msg = perception_pb2.WatchPerceptionResponse(position=encode_position(position))
    if isinstance(event, GestureEvent):
        msg.gesture.CopyFrom(
            perception_pb2.GestureEvent(
                hand_id=event.hand_id,
                handedness=_HAND.get(event.handedness, types_pb2.HANDEDNESS_UNSPECIFIED),
                gesture=perception_pb2.GestureType.Value(f"GESTURE_TYPE_{event.gesture.upper()}"),
                phase=_phase(event.phase),
                confidence=event.confidence,
                start_time_s=event.start_time_s,
                time_s=event.time_s,
                strength=event.strength,
                displacement_m=vec3(event.displacement_m),
            )
        )
    elif isinstance(event, PointingEvent):
        msg.pointing.CopyFrom(
            perception_pb2.PointingEvent(
                hand_id=event.hand_id,
                phase=_phase(event.phase),
                ray_world=types_pb2.Ray(origin_m=vec3(event.origin_world_m), direction=vec3(event.direction_world)),
                target=_target(event.hit),
                time_s=event.time_s,
            )
        )
    elif isinstance(event, FixationEvent):
        msg.fixation.CopyFrom(
            perception_pb2.FixationEvent(
                phase=_phase(event.phase),
                target=_target(event.hit),
                start_time_s=event.start_time_s,
                duration_s=event.duration_s,
                source=_GAZE_SOURCE.get(event.source, perception_pb2.GAZE_SOURCE_UNSPECIFIED),
            )
        )
    elif isinstance(event, InteractionEvent):
        msg.interaction.CopyFrom(
            perception_pb2.InteractionEvent(
                hand_id=event.hand_id,
                interaction=perception_pb2.InteractionType.Value(f"INTERACTION_TYPE_{event.interaction.upper()}"),
                phase=_phase(event.phase),
                object_id=event.object_id,
                distance_m=event.distance_m,
                time_s=event.time_s,
            )
        )
    else:
        raise TypeError(f"no encoder for perception event {type(event).__name__}")
    return msg
