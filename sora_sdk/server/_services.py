"""The gRPC servicers. Thin: convert the request, await one core call, convert the result."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import platform
import re
import tempfile
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np

from .. import __version__
from .._proto.sora.v1 import (
    avatar_pb2,
    avatar_pb2_grpc,
    perception_pb2,
    perception_pb2_grpc,
    scene_pb2,
    scene_pb2_grpc,
    sensor_pb2,
    sensor_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
)
from ..core.config import SoraConfig
from ..core.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)
from ..core.geometry import Pose
from ..core.scene import Anchor, StreamPosition
from ..datasets import RecordingWriter
from ..dialogue import EmbeddedEngine, EmbeddedEngineOptions, LlmEngine, LlmOptions, MemoryStore
from ..scene import EpochChanged, LogReader, SceneContent
from ..session import Conversation, ConversationOptions, Session, SessionManager
from ._auth import principal_of
from ._encode import (
    encode_anchor,
    encode_avatar_event,
    encode_chunk,
    encode_gaze,
    encode_hands,
    encode_object,
    encode_perception_event,
    encode_plane,
    encode_pose,
    encode_position,
    encode_raycast_hit,
    encode_relation,
)
from ._encode import encode_scene_update as _encode_update
from ._encode import vec3 as encode_vec3
from ._errors import handle_errors
from ._quota import Quotas
from ._validate import (
    decode_audio,
    decode_camera_frame,
    decode_eye_gaze,
    decode_hand_joints,
    decode_head_pose,
    decode_intrinsics,
    decode_pose,
    decode_sensor_reading,
    decode_vector3,
)

__all__ = [
    "AvatarServicer",
    "PerceptionServicer",
    "SceneServicer",
    "SensorServicer",
    "SessionServicer",
]

_POSE_SOURCES = {
    session_pb2.POSE_SOURCE_UNSPECIFIED: "client",
    session_pb2.POSE_SOURCE_CLIENT: "client",
    session_pb2.POSE_SOURCE_SERVER_ODOMETRY: "server_odometry",
}
_SESSION_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_MAP_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _session(manager: SessionManager, context: Any, session_id: str, field: str = "session_id") -> Session:
    """The named session, if the caller may use it.

    With authentication on, a session that does not exist and one that belongs to another principal
    get the same PERMISSION_DENIED, so a caller learns nothing about other users' sessions.
    """
    principal = principal_of(manager.verifier, context.invocation_metadata())
    if not session_id:
        raise InvalidArgumentError.field(field, "is required")
    denied = PermissionDeniedError(f"no access to session {session_id[:64]!r}", reason="SESSION_DENIED")
    if not _SESSION_ID_RE.match(session_id):
        if manager.verifier is not None:
            raise denied
        raise NotFoundError(f"session {session_id[:64]!r} not found", reason="SESSION_NOT_FOUND")
    try:
        session = manager.get(session_id)
    except NotFoundError:
        if manager.verifier is not None:
            raise denied from None
        raise
    if manager.verifier is not None and session.info.owner != principal.name:
        raise denied
    return session


def _position(msg: Any, field: str) -> StreamPosition | None:
    return StreamPosition(int(msg.epoch), int(msg.sequence)) if msg.epoch or msg.sequence else None


async def _write_or_cut(
    context: grpc.aio.ServicerContext, message: Any, reader: LogReader[Any], resume: StreamPosition | None
) -> None:
    """Writes one message; then ends the stream with RESOURCE_EXHAUSTED if the reader fell too far behind.

    A client that stops reading blocks ``context.write`` when HTTP/2 flow control fills (about
    5 MB on loopback). The moment the log runs ``max_lag`` versions ahead, the log closes the reader
    (:meth:`LogReader.mark_lagged`), so the stalled client pins nothing in the log and slows nobody
    while its write waits. Once the write returns (the client read again, or its connection died),
    the status follows it, carrying ``resume`` (the position the client has once it has read that
    write): it resumes from there without a gap.

    The write is awaited in the stream's own task. A task and a waiter per write (to notice the lag while
    the write was blocked) added four event-loop callbacks to every subscriber's every update, and the
    status could not go out before the write returned anyway.
    """
    await context.write(message)
    if reader.lagged:
        raise reader.lag_error(resume)


async def _first_config(it: Any, what: str) -> Any:
    """The first message of a client stream, which must carry its config (DESIGN.md: config first)."""
    try:
        first = await it.__anext__()
    except StopAsyncIteration:
        raise InvalidArgumentError.field("config", "the stream closed before its config") from None
    if first.WhichOneof("message") != "config":
        raise InvalidArgumentError.field("config", f"the first message of {what} must be its config")
    return first


async def _accept(context: Any) -> None:
    """Tells a client-streaming caller its config was accepted (initial metadata, before any response).

    Clients wait for it before sending payloads, so a stream refused at its config ends before the
    client has written anything more; grpcio's asyncio client otherwise reports a write racing the
    refusal as INTERNAL instead of the server's status (grpc/grpc#36066).
    """
    await context.send_initial_metadata(())


_RELATION_NAMES = {v: k.removeprefix("RELATION_TYPE_").lower() for k, v in scene_pb2.RelationType.items() if v != 0}


async def _query_objects(session: Session, q: scene_pb2.ObjectQuery) -> list[Any]:
    """The session's objects that match an ObjectQuery (validated field by field)."""
    if len(q.label) > 200:
        raise InvalidArgumentError.field("object_query.label", "must be at most 200 characters")
    if len(q.text) > 500:
        raise InvalidArgumentError.field("object_query.text", "must be at most 500 characters")
    if q.max_results > 10_000:
        raise InvalidArgumentError.field("object_query.max_results", "must be at most 10000")
    region = None
    if q.HasField("region"):
        pose = decode_pose(q.region.pose_world_box, "object_query.region.pose_world_box")
        size = np.array([q.region.size_m.x, q.region.size_m.y, q.region.size_m.z], dtype=np.float64)
        if not (np.all(np.isfinite(size)) and np.all(size > 0)):
            raise InvalidArgumentError.field("object_query.region.size_m", "must be finite and positive")
        region = (pose, size)
    relation = ""
    if q.relation:
        if q.relation not in _RELATION_NAMES:
            raise InvalidArgumentError.field("object_query.relation", f"unknown value {q.relation}")
        relation = _RELATION_NAMES[q.relation]
    if q.related_id and not relation:
        raise InvalidArgumentError.field("object_query.related_id", "needs object_query.relation")
    if not session.objects_enabled:
        if q.text or region is not None or relation:
            raise FailedPreconditionError("objects are disabled on this server (objects.enabled)", reason="NO_OBJECTS")
        found = [o for o in session.scene.state.objects.values() if not q.label or o.label.lower() == q.label.lower()]
        return found[: q.max_results] if q.max_results else found
    return await session.query_objects(
        label=q.label, text=q.text, region=region, relation=relation, related_id=q.related_id,
        max_results=q.max_results,
    )  # fmt: skip


def _memory_path(config: SoraConfig) -> str:
    return str(config.server.resolved_data_dir() / config.dialogue.memory_file)


def memory_user(session: Session) -> str:
    """Whose memory a session's conversations use: its user ID within its principal's namespace.

    Two tokens that both call their user "alice" never share (or delete) each other's memory.
    """
    user = session.info.user_id or "default"
    return f"{session.info.owner}/{user}" if session.info.owner else user


def _discard(fut: asyncio.Future[Any]) -> None:
    """Cancels a helper future the stream no longer needs, consuming any error it already has."""
    if fut.done():
        if not fut.cancelled():
            fut.exception()
    else:
        fut.cancel()


def session_to_proto(s: Session) -> session_pb2.Session:
    info, st = s.info, s.stats
    odometry = info.pose_source == "server_odometry"
    pose_source = session_pb2.POSE_SOURCE_SERVER_ODOMETRY if odometry else session_pb2.POSE_SOURCE_CLIENT
    chunks = s.scene.state.chunks
    return session_pb2.Session(
        session_id=info.session_id,
        display_name=info.display_name,
        user_id=info.user_id,
        space_id=info.space_id,
        state=session_pb2.SESSION_STATE_CLOSED if s.closed else session_pb2.SESSION_STATE_ACTIVE,
        options=session_pb2.SessionOptions(
            pose_source=pose_source,
            voxel_size_m=info.voxel_size_m,
            depth_max_m=info.depth_max_m,
            recording_enabled=info.recording_enabled,
            up_world=encode_vec3(info.up_world),
        ),
        created_time_s=info.created_time_s,
        stats=session_pb2.SessionStats(
            frames_received=st.frames_received,
            frames_integrated=st.frames_integrated,
            frames_dropped=st.frames_dropped,
            mesh_chunks=len(chunks),
            mesh_triangles=sum(c.triangle_count for c in chunks.values()),
            scene_position=encode_position(s.scene.position),
            sensor_streams=s.sensor_streams,
            subscribers=s.subscribers,
            integrate_time_s=float(np.mean(st.integrate_times_s)) if st.integrate_times_s else 0.0,
            mesh_update_time_s=float(np.mean(st.mesh_times_s)) if st.mesh_times_s else 0.0,
            saved_position=encode_position(s.saved_position) if s.saved_position is not None else None,
            saved_time_s=s.saved_time_s,
        ),
    )


class SessionServicer(session_pb2_grpc.SessionServiceServicer):
    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager

    @handle_errors
    async def CreateSession(self, request: Any, context: Any) -> session_pb2.CreateSessionResponse:
        o = request.options
        if o.pose_source not in _POSE_SOURCES:
            raise InvalidArgumentError.field("options.pose_source", f"unknown value {o.pose_source}")
        for name in ("display_name", "user_id", "space_id"):
            if len(getattr(request, name)) > 256:
                raise InvalidArgumentError.field(name, "must be at most 256 characters")
        for name in ("voxel_size_m", "depth_max_m"):
            if not np.isfinite(getattr(o, name)):
                raise InvalidArgumentError.field(f"options.{name}", "must be finite")
        up = np.array([0.0, 0.0, 1.0])
        if o.HasField("up_world"):
            up = decode_vector3(o.up_world, "options.up_world")
            if np.linalg.norm(up) < 1e-6:
                raise InvalidArgumentError.field("options.up_world", "must be non-zero")
            up = up / np.linalg.norm(up)
        principal = principal_of(self.manager.verifier, context.invocation_metadata())
        session = await self.manager.create(
            owner=principal.name,
            display_name=request.display_name,
            user_id=request.user_id,
            space_id=request.space_id,
            pose_source=_POSE_SOURCES[o.pose_source],
            voxel_size_m=o.voxel_size_m,
            depth_max_m=o.depth_max_m,
            recording_enabled=o.recording_enabled,
            up_world=(float(up[0]), float(up[1]), float(up[2])),
        )
        return session_pb2.CreateSessionResponse(session=session_to_proto(session))

    @handle_errors
    async def GetSession(self, request: Any, context: Any) -> session_pb2.GetSessionResponse:
        return session_pb2.GetSessionResponse(
            session=session_to_proto(_session(self.manager, context, request.session_id))
        )

    @handle_errors
    async def ListSessions(self, request: Any, context: Any) -> session_pb2.ListSessionsResponse:
        principal = principal_of(self.manager.verifier, context.invocation_metadata())
        mine = [s for s in self.manager.list() if self.manager.verifier is None or s.info.owner == principal.name]
        return session_pb2.ListSessionsResponse(sessions=[session_to_proto(s) for s in mine])

    @handle_errors
    async def CloseSession(self, request: Any, context: Any) -> session_pb2.CloseSessionResponse:
        _session(self.manager, context, request.session_id)
        session = await self.manager.close(request.session_id)
        if request.delete_map:
            for path in sorted(session.saved_maps):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
            session.saved_maps.clear()
        if request.delete_memory:
            path = _memory_path(self.manager.config)
            if os.path.exists(path):
                store = MemoryStore(path)
                try:
                    await asyncio.get_running_loop().run_in_executor(None, store.forget_user, memory_user(session))
                finally:
                    store.close()
        return session_pb2.CloseSessionResponse(session=session_to_proto(session))

    @handle_errors
    async def GetCapabilities(self, request: Any, context: Any) -> session_pb2.GetCapabilitiesResponse:
        from ..mapping import resolve_device

        device = str(resolve_device(self.manager.config.mapper.device))
        cuda = device.upper().startswith("CUDA")
        dev = session_pb2.COMPUTE_DEVICE_CUDA if cuda else session_pb2.COMPUTE_DEVICE_CPU
        backends = [
            session_pb2.Backend(component="mapping", name="open3d-voxel-block-grid", active=True, device=dev),
            session_pb2.Backend(component="meshing", name="incremental-marching-cubes", active=True,
                                device=session_pb2.COMPUTE_DEVICE_CPU),
            session_pb2.Backend(component="hands", name="device-joints", active=True,
                                device=session_pb2.COMPUTE_DEVICE_CPU),
            session_pb2.Backend(component="gaze", name="device-eye-gaze", active=True,
                                device=session_pb2.COMPUTE_DEVICE_CPU),
            session_pb2.Backend(component="dialogue", name="embedded", active=True,
                                device=session_pb2.COMPUTE_DEVICE_CPU),
            session_pb2.Backend(component="objects", name="support-plane-discovery",
                                active=self.manager.config.objects.enabled, device=session_pb2.COMPUTE_DEVICE_CPU),
        ]  # fmt: skip
        ocfg = self.manager.config.objects
        if ocfg.enabled and ocfg.detector_model:
            from ..session._objects import shared_detector

            det = shared_detector(ocfg)
            kind = "onnx-yolo" if str(ocfg.detector_model).endswith(".onnx") else "torchscript-yolo"
            backends.append(
                session_pb2.Backend(
                    component="object-labels", name=kind, active=det is not None,
                    device=session_pb2.COMPUTE_DEVICE_CUDA if getattr(det, "device", "cpu") == "cuda"
                    else session_pb2.COMPUTE_DEVICE_CPU,
                )
            )  # fmt: skip
        cfg = self.manager.config
        return session_pb2.GetCapabilitiesResponse(
            server_version=__version__,
            api_version="sora.v1",
            device=dev,
            device_name=device if cuda else (platform.processor() or platform.machine() or "cpu"),
            backends=backends,
            max_receive_message_bytes=cfg.server.max_receive_message_bytes,
            default_voxel_size_m=cfg.mapper.voxel_size_m,
        )


class SensorServicer(sensor_pb2_grpc.SensorServiceServicer):
    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager

    @handle_errors
    async def StreamSensorData(self, request_iterator: Any, context: Any) -> sensor_pb2.StreamSensorDataResponse:
        it = request_iterator.__aiter__()
        first = await _first_config(it, "a sensor stream")
        cfg = first.config
        session = _session(self.manager, context, cfg.session_id, "config.session_id")
        if len(cfg.stream_name) > 128:
            raise InvalidArgumentError.field("config.stream_name", "must be at most 128 characters")
        default_intr = (
            decode_intrinsics(cfg.default_intrinsics, "config.default_intrinsics")
            if cfg.HasField("default_intrinsics")
            else None
        )
        await _accept(context)
        lossless = cfg.ingest_mode == sensor_pb2.INGEST_MODE_LOSSLESS
        pose_required = session.info.pose_source == "client"
        if cfg.camera_role not in sensor_pb2.CameraRole.values():
            raise InvalidArgumentError.field("config.camera_role", f"unknown value {cfg.camera_role}")
        user_facing = cfg.camera_role == sensor_pb2.CAMERA_ROLE_USER_FACING
        stream = cfg.stream_name or "default"
        received = 1
        duplicates = 0
        last_time = -np.inf
        pending: list[asyncio.Future[str]] = []
        recorder = self._recorder(session, stream, first) if session.info.recording_enabled else None
        session.sensor_streams += 1
        try:
            async for req in it:
                received += 1
                if recorder is not None:
                    recorder.write(req.SerializeToString())
                kind = req.WhichOneof("message")
                if kind == "camera_frame":
                    seq = req.camera_frame.sequence
                    if seq <= session.stream_sequences.get(stream, -1):
                        duplicates += 1  # a retry: already applied, so applying it again would change the map
                        continue
                    frame = decode_camera_frame(req.camera_frame, default_intrinsics=default_intr,
                                                pose_required=pose_required)  # fmt: skip
                    if frame.capture_time_s < last_time:
                        raise InvalidArgumentError.field(
                            "camera_frame.capture_time_s",
                            f"went backwards ({frame.capture_time_s} after {last_time}) within the stream",
                        )
                    last_time = frame.capture_time_s
                    session.stream_sequences[stream] = seq
                    if user_facing:
                        if frame.color is None:
                            raise InvalidArgumentError.field("camera_frame.color", "a user-facing camera needs colour")
                        session.submit_face_frame(frame)
                        continue
                    done = await session.submit_frame(frame, lossless=lossless, stream=stream)
                    if done is not None:
                        pending.append(done)
                elif kind == "head_pose":
                    await session.submit_head_pose(decode_head_pose(req.head_pose))
                elif kind == "hand_joints":
                    await session.submit_hand_joints(decode_hand_joints(req.hand_joints))
                elif kind == "eye_gaze":
                    await session.submit_eye_gaze(decode_eye_gaze(req.eye_gaze))
                elif kind == "audio_chunk":
                    decode_audio(req.audio_chunk)  # validated; speech input arrives with the avatar issue
                elif kind == "sensor_reading":
                    decode_sensor_reading(req.sensor_reading)
                elif kind == "config":
                    raise InvalidArgumentError.field("config", "only the first message of a stream may carry config")
                else:
                    raise InvalidArgumentError.field("message", "is empty")
            if lossless:
                await asyncio.gather(*pending)
                await session.flush()
        finally:
            session.sensor_streams -= 1
            if recorder is not None:
                recorder.close()
        drops = dict(session.stats.drops)
        response = sensor_pb2.StreamSensorDataResponse(
            messages_received=received,
            frames_integrated=sum(1 for f in pending if f.done() and f.result() == ""),
            scene_position=encode_position(session.scene.position),
        )
        reasons = {
            "queue_full": sensor_pb2.DROP_REASON_QUEUE_FULL,
            "tracking_lost": sensor_pb2.DROP_REASON_TRACKING_LOST,
            "no_depth": sensor_pb2.DROP_REASON_NO_DEPTH,
            "fusion_rate": sensor_pb2.DROP_REASON_FUSION_RATE,
        }
        if duplicates:
            response.drops.append(sensor_pb2.DropCount(reason=sensor_pb2.DROP_REASON_DUPLICATE, count=duplicates))
        for name, code in reasons.items():
            if drops.get(name):
                response.drops.append(sensor_pb2.DropCount(reason=code, count=drops[name]))
        if not lossless:
            response.frames_integrated = session.stats.frames_integrated
        return response

    def _recorder(self, session: Session, stream: str, config_msg: Any) -> RecordingWriter:
        """The session opted in to recording: every message of this stream goes to disk, as received."""
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", stream)[:64]
        root = self.manager.config.server.resolved_data_dir() / "recordings" / session.info.session_id
        path = root / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.sorarec"
        header = {"session_id": session.info.session_id, "stream_name": stream, "created_time_s": time.time()}
        writer = RecordingWriter(path, header)
        writer.write(config_msg.SerializeToString())
        return writer


class _EncodedDeltas:
    """The last few scene deltas as WatchSceneResponse messages, shared by every subscriber that
    wants the same content: with 100 subscribers an update is encoded once, not 100 times (encoding
    was ~70 µs of the ~170 µs each subscriber's write cost). Protobuf messages are only read after
    this (serialised per write), so sharing them is safe."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[Any, ...], scene_pb2.WatchSceneResponse] = OrderedDict()

    def get(self, session_id: str, update: Any, content: SceneContent) -> scene_pb2.WatchSceneResponse:
        key = (session_id, update.position.epoch, update.position.sequence, content)
        msg = self._items.get(key)
        if msg is None:
            msg = self._items[key] = scene_pb2.WatchSceneResponse(update=_encode_update(update))
            if len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return msg


class SceneServicer(scene_pb2_grpc.SceneServiceServicer):
    def __init__(self, manager: SessionManager, quotas: Quotas | None = None) -> None:
        self.manager = manager
        self.quotas = quotas if quotas is not None else Quotas.from_config(manager.config.server)
        self._encoded = _EncodedDeltas()

    @handle_errors
    async def WatchScene(self, request: Any, context: Any) -> None:
        session = _session(self.manager, context, request.session_id)
        self.quotas.admit_subscriber(context, session.info.session_id)
        c = request.content
        content = SceneContent(
            mesh=not c.exclude_mesh, planes=not c.exclude_planes, objects=not c.exclude_objects,
            anchors=not c.exclude_anchors,
        )  # fmt: skip
        readers: list[LogReader[Any]] = []
        resume = _position(request.resume_from, "resume_from")
        if request.max_mesh_bytes_per_s:
            updates = session.scene.watch_budgeted(
                request.max_mesh_bytes_per_s, session.priority_points, resume, content, reader_out=readers
            )
        else:
            updates = session.scene.watch(resume, content, reader_out=readers)
        session.subscribers += 1
        try:
            async for update in updates:
                if request.max_mesh_bytes_per_s or update.kind.value != "delta":
                    msg = scene_pb2.WatchSceneResponse(update=_encode_update(update))
                else:  # every unbudgeted subscriber with this content gets the same message: encode once
                    msg = self._encoded.get(session.info.session_id, update, content)
                if update.kind.value == "delta" or update.snapshot_complete:
                    resume = update.position  # what the client has once this message arrives
                elif update.kind.value == "snapshot_begin":
                    resume = None
                await _write_or_cut(context, msg, readers[-1], resume or StreamPosition(0, 0))
        except EpochChanged:  # the map was reloaded under a budgeted stream: the client resumes
            raise UnavailableError("the scene was reset; resume to get a snapshot", reason="SCENE_RESET") from None
        finally:
            session.subscribers -= 1

    @handle_errors
    async def GetScene(self, request: Any, context: Any) -> scene_pb2.GetSceneResponse:
        session = _session(self.manager, context, request.session_id)
        st = session.scene.state
        objects = list(st.objects.values())
        if request.HasField("object_query"):
            objects = await _query_objects(session, request.object_query)
        ids = {o.object_id for o in objects}
        return scene_pb2.GetSceneResponse(
            position=encode_position(session.scene.position),
            chunks=[encode_chunk(ch) for ch in st.chunks.values()] if request.include_mesh else [],
            planes=[encode_plane(p) for p in st.planes.values()],
            anchors=[encode_anchor(a) for a in st.anchors.values()],
            objects=[encode_object(o) for o in objects],
            relations=[encode_relation(r) for r in st.relations if r.subject_id in ids],
            tracking_state=scene_pb2.TRACKING_STATE_LOST
            if st.tracking_state == "lost"
            else scene_pb2.TRACKING_STATE_TRACKING,
        )

    @handle_errors
    async def Raycast(self, request: Any, context: Any) -> scene_pb2.RaycastResponse:
        session = _session(self.manager, context, request.session_id)
        origin, direction = _ray(request.ray_world, "ray_world")
        max_d = request.max_distance_m or 10.0
        if not (np.isfinite(max_d) and 0 < max_d <= 1000):
            raise InvalidArgumentError.field("max_distance_m", f"must be in (0, 1000], got {max_d}")
        if request.filter.exclude_mesh:
            return scene_pb2.RaycastResponse(hit=False)
        hit = await session.raycast(origin, direction, max_d)
        if hit is None:
            return scene_pb2.RaycastResponse(hit=False)
        resp = scene_pb2.RaycastResponse(hit=True, target=encode_raycast_hit(hit))
        if hit.chunk_key is not None:
            resp.chunk.CopyFrom(scene_pb2.BlockIndex(x=hit.chunk_key[0], y=hit.chunk_key[1], z=hit.chunk_key[2]))
        return resp

    @handle_errors
    async def CreateAnchor(self, request: Any, context: Any) -> scene_pb2.CreateAnchorResponse:
        session = _session(self.manager, context, request.session_id)
        if len(request.label) > 256:
            raise InvalidArgumentError.field("label", "must be at most 256 characters")
        placement = request.WhichOneof("placement")
        if placement == "pose_world_anchor":
            pose = decode_pose(request.pose_world_anchor, "pose_world_anchor")
        elif placement == "ray_world":
            origin, direction = _ray(request.ray_world, "ray_world")
            hit = await session.raycast(origin, direction, 10.0)
            if hit is None:
                raise FailedPreconditionError("ray_world hits nothing in the map", reason="RAY_MISSED")
            pose = _pose_on_surface(hit.point_world_m, hit.normal_world)
        else:
            raise InvalidArgumentError.field("placement", "set pose_world_anchor or ray_world")
        anchor = Anchor(
            anchor_id=uuid.uuid4().hex[:16],
            version=session.scene.position.sequence + 1,
            pose_world_anchor=pose,
            label=request.label,
            created_time_s=time.time(),
        )
        session.add_anchor(anchor)
        return scene_pb2.CreateAnchorResponse(anchor=encode_anchor(anchor))

    @handle_errors
    async def ListAnchors(self, request: Any, context: Any) -> scene_pb2.ListAnchorsResponse:
        session = _session(self.manager, context, request.session_id)
        anchors = sorted(session.scene.state.anchors.values(), key=lambda a: a.created_time_s)
        return scene_pb2.ListAnchorsResponse(anchors=[encode_anchor(a) for a in anchors])

    @handle_errors
    async def DeleteAnchor(self, request: Any, context: Any) -> scene_pb2.DeleteAnchorResponse:
        session = _session(self.manager, context, request.session_id)
        if not session.remove_anchor(request.anchor_id):
            raise NotFoundError(f"anchor {request.anchor_id[:64]!r} not found", reason="ANCHOR_NOT_FOUND")
        return scene_pb2.DeleteAnchorResponse()

    def _map_path(self, session: Session, name: str) -> str:
        if not _MAP_NAME_RE.match(name):
            raise InvalidArgumentError.field("map_name", "must be 1..64 letters, digits, '-' or '_'")
        # One folder per principal: a token never reads or overwrites another principal's maps.
        owner = session.info.owner
        folder = "local" if not owner else "p-" + hashlib.sha256(owner.encode()).hexdigest()[:24]
        root = self.manager.config.server.resolved_data_dir() / "maps" / folder
        return str(root / f"{name}.soramap")

    @handle_errors
    async def SaveMap(self, request: Any, context: Any) -> scene_pb2.SaveMapResponse:
        session = _session(self.manager, context, request.session_id)
        path = self._map_path(session, request.map_name)
        size, sha, position = await session.save_map(path)
        session.saved_maps.add(path)
        return scene_pb2.SaveMapResponse(
            map_name=request.map_name, size_bytes=size, checksum_sha256=sha, position=encode_position(position)
        )

    @handle_errors
    async def LoadMap(self, request: Any, context: Any) -> scene_pb2.LoadMapResponse:
        session = _session(self.manager, context, request.session_id)
        path = self._map_path(session, request.map_name)
        if not os.path.exists(path):
            raise NotFoundError(f"map {request.map_name!r} not found", reason="MAP_NOT_FOUND")
        position = await session.load_map(path)
        st = session.scene.state
        return scene_pb2.LoadMapResponse(
            position=encode_position(position), mesh_chunks=len(st.chunks), anchors=len(st.anchors)
        )

    @handle_errors
    async def ExportMap(self, request: Any, context: Any) -> None:
        session = _session(self.manager, context, request.session_id)
        suffix = {scene_pb2.MESH_FORMAT_GLB: ".glb", scene_pb2.MESH_FORMAT_OBJ: ".obj"}.get(request.format, ".ply")
        fmt = request.format or scene_pb2.MESH_FORMAT_PLY
        with tempfile.TemporaryDirectory(prefix="sora-export-") as tmp:
            path = os.path.join(tmp, "map" + suffix)
            await session.export_mesh(path)
            total = os.path.getsize(path)
            with open(path, "rb") as f:
                while piece := f.read(1 << 20):
                    await context.write(scene_pb2.ExportMapResponse(format=fmt, total_bytes=total, data=piece))


def _ray(ray: Any, field: str) -> tuple[np.ndarray, np.ndarray]:
    origin = decode_vector3(ray.origin_m, f"{field}.origin_m")
    direction = decode_vector3(ray.direction, f"{field}.direction")
    n = float(np.linalg.norm(direction))
    if n < 1e-9:
        raise InvalidArgumentError.field(f"{field}.direction", "must be non-zero")
    return origin, direction / n


def _pose_on_surface(point: np.ndarray, normal: np.ndarray) -> Pose:
    """A pose at ``point`` whose +Z is the surface normal."""
    z = np.asarray(normal, dtype=np.float64)
    z = z / max(float(np.linalg.norm(z)), 1e-12)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return Pose.from_rotation_translation(np.stack([x, y, z], axis=1), np.asarray(point, dtype=np.float64))


class PerceptionServicer(perception_pb2_grpc.PerceptionServiceServicer):
    def __init__(self, manager: SessionManager, quotas: Quotas | None = None) -> None:
        self.manager = manager
        self.quotas = quotas if quotas is not None else Quotas.from_config(manager.config.server)

    @handle_errors
    async def WatchPerception(self, request: Any, context: Any) -> None:
        session = _session(self.manager, context, request.session_id)
        self.quotas.admit_subscriber(context, session.info.session_id)
        resume = _position(request.resume_from, "resume_from")
        if resume is None or not session.events.can_resume(resume):
            resume = session.events.position
        reader = session.events.reader(resume)
        hands_seen = gaze_seen = 0
        waits: dict[str, asyncio.Future[Any]] = {}
        session.subscribers += 1
        try:
            while True:
                if not request.exclude_hands and "hands" not in waits:
                    waits["hands"] = asyncio.ensure_future(session.hands.wait_newer(hands_seen))
                if not request.exclude_gaze and "gaze" not in waits:
                    waits["gaze"] = asyncio.ensure_future(session.gaze.wait_newer(gaze_seen))
                if "events" not in waits:
                    waits["events"] = asyncio.ensure_future(reader.next_batch())
                done, _ = await asyncio.wait(waits.values(), return_when=asyncio.FIRST_COMPLETED)
                pos = encode_position(reader.position)
                for name in [n for n, f in waits.items() if f in done]:
                    fut = waits.pop(name)
                    if name == "hands":
                        hands_seen, hands = fut.result()
                        msg = perception_pb2.WatchPerceptionResponse(position=pos, hands=encode_hands(hands))
                    elif name == "gaze":
                        gaze_seen, gaze = fut.result()
                        msg = perception_pb2.WatchPerceptionResponse(position=pos, gaze=encode_gaze(gaze))
                    else:
                        for item in fut.result():
                            msg = encode_perception_event(item.value, item.position)
                            await _write_or_cut(context, msg, reader, item.position)
                        continue
                    await context.write(msg)
        finally:
            session.subscribers -= 1
            reader.close()
            for f in waits.values():
                _discard(f)


class AvatarServicer(avatar_pb2_grpc.AvatarServiceServicer):
    def __init__(self, manager: SessionManager, quotas: Quotas | None = None) -> None:
        self.manager = manager
        self.quotas = quotas if quotas is not None else Quotas.from_config(manager.config.server)
        self._embedded: EmbeddedEngine | None = None

    def _engine(self, kind: int) -> Any:
        cfg = self.manager.config
        memory = _memory_path(cfg)
        if kind == avatar_pb2.DIALOGUE_ENGINE_LLM:
            d = cfg.dialogue
            if not d.llm_base_url:
                raise FailedPreconditionError(
                    "no LLM endpoint is configured on this server (dialogue.llm_base_url)", reason="ENGINE_UNAVAILABLE"
                )
            return LlmEngine(
                LlmOptions(
                    base_url=d.llm_base_url, model=d.llm_model, api_key=os.environ.get(d.llm_api_key_env, ""),
                    memory_path=memory,
                )
            )  # fmt: skip
        if self._embedded is None:
            os.makedirs(os.path.dirname(memory), exist_ok=True)
            self._embedded = EmbeddedEngine(EmbeddedEngineOptions(memory_path=memory))
        return self._embedded

    @handle_errors
    async def Converse(self, request_iterator: Any, context: Any) -> None:
        it = request_iterator.__aiter__()
        first = await _first_config(it, "a conversation")
        cfg = first.config
        session = _session(self.manager, context, cfg.session_id, "config.session_id")
        self.quotas.admit_subscriber(context, session.info.session_id)
        if cfg.output_sample_rate_hz and not 8000 <= cfg.output_sample_rate_hz <= 48000:
            raise InvalidArgumentError.field("config.output_sample_rate_hz", "must be 0 or in 8000..48000")
        for name in ("persona", "avatar_name", "voice", "language"):
            if len(getattr(cfg, name)) > 2000:
                raise InvalidArgumentError.field(f"config.{name}", "is too long")
        styles = {avatar_pb2.RESPONSE_STYLE_BRIEF: "brief", avatar_pb2.RESPONSE_STYLE_DETAILED: "detailed"}
        dcfg = self.manager.config.dialogue
        options = ConversationOptions(
            user_id=memory_user(session),
            persona=cfg.persona,
            avatar_name=cfg.avatar_name or "Sora",
            voice=cfg.voice or "en-us",
            language=cfg.language or "en",
            style=styles.get(cfg.style, "normal"),
            speech_enabled=cfg.speech_enabled,
            output_sample_rate_hz=cfg.output_sample_rate_hz,
            realtime=dcfg.realtime_speech,
        )
        conversation = Conversation(session, self._engine(cfg.engine), options)
        resume = _position(cfg.resume_from, "config.resume_from")
        if resume is None or not session.avatar_events.can_resume(resume):
            resume = session.avatar_events.position
        await _accept(context)
        reader = session.avatar_events.reader(resume)
        reading = asyncio.ensure_future(self._read_turns(it, conversation))
        batch: asyncio.Future[Any] | None = None
        session.subscribers += 1
        try:
            while True:
                batch = asyncio.ensure_future(reader.next_batch())
                done, _ = await asyncio.wait({batch, reading}, return_when=asyncio.FIRST_COMPLETED)
                if batch not in done:
                    batch.cancel()
                    reading.result()  # raises the client's bad input
                    # The client half-closed: finish the turn in progress, then end the stream.
                    await self._drain(context, reader, conversation)
                    return
                for item in batch.result():
                    await _write_or_cut(context, encode_avatar_event(item.value, item.position), reader, item.position)
        finally:
            session.subscribers -= 1
            reader.close()
            _discard(reading)
            if batch is not None:
                _discard(batch)
            await conversation.close()

    @staticmethod
    async def _drain(context: Any, reader: LogReader[Any], conversation: Conversation) -> None:
        await conversation.wait_idle()
        while reader.position.sequence < conversation.log.position.sequence:
            for item in await reader.next_batch():
                await _write_or_cut(context, encode_avatar_event(item.value, item.position), reader, item.position)

    @staticmethod
    async def _read_turns(it: AsyncIterator[Any], conversation: Conversation) -> None:
        async for req in it:
            kind = req.WhichOneof("message")
            if kind == "text":
                if not req.text.text.strip():
                    raise InvalidArgumentError.field("text.text", "is empty")
                if len(req.text.text) > 4000:
                    raise InvalidArgumentError.field("text.text", "must be at most 4000 characters")
                conversation.say(req.text.text)
            elif kind == "interrupt":
                conversation.interrupt(req.interrupt.reason)
            elif kind == "audio":
                if req.audio.sample_rate_hz and not 8000 <= req.audio.sample_rate_hz <= 48000:
                    raise InvalidArgumentError.field("audio.sample_rate_hz", "must be in 8000..48000")
                if len(req.audio.pcm16) % 2:
                    raise InvalidArgumentError.field("audio.pcm16", "must hold whole int16 samples")
                if len(req.audio.pcm16) > 2 * 48000 * 10:
                    raise InvalidArgumentError.field("audio.pcm16", "chunks are limited to 10 s")
                pcm = np.frombuffer(req.audio.pcm16, dtype="<i2").astype(np.int16)
                await conversation.hear(
                    pcm, req.audio.sample_rate_hz or 16000, end_of_utterance=req.audio.end_of_utterance
                )
            elif kind == "config":
                raise InvalidArgumentError.field("config", "only the first message may carry config")
            else:
                raise InvalidArgumentError.field("message", "is empty")


_ = (encode_pose, encode_plane)
