"""The async Python SDK.

    async with SoraClient("127.0.0.1:50051") as client:
        session = await client.create_session(display_name="desk")
        mirror = SceneMirror()
        async def watch():
            async for update in session.watch_scene():
                mirror.apply(update)
        summary = await session.stream_frames(frames, lossless=True)

Errors are the same classes the core raises (``sora_sdk.InvalidArgumentError`` …). Watch streams
resume by themselves after a dropped connection or a server restart, from the last position they
delivered, so the caller sees no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

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
    types_pb2,
)
from ..core import errors as E
from ..core.geometry import Intrinsics, Pose
from ..core.scene import BlockKey, MeshChunk, StreamPosition
from . import _grpc_status_fix
from ._codec import (
    decode_chunk,
    encode_intrinsics,
    encode_pose,
    encode_sensor_item,
    position_from_proto,
    position_to_proto,
    vec3,
)
from ._errors import from_rpc_error

__all__ = ["Conversation", "IngestSummary", "SceneMirror", "SceneUpdate", "Session", "SoraClient"]

log = logging.getLogger("sora.client")
T = TypeVar("T")

_RESUMABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)


async def _call(coro: Any) -> Any:
    try:
        return await coro
    except grpc.aio.AioRpcError as err:
        raise from_rpc_error(err) from None


@dataclass(frozen=True)
class IngestSummary:
    messages_received: int
    frames_integrated: int
    drops: dict[str, int]
    scene_position: StreamPosition


@dataclass
class SceneUpdate:
    """One WatchScene message, with its mesh chunks decoded to arrays."""

    message: scene_pb2.SceneUpdate
    position: StreamPosition
    kind: str  # "snapshot_begin" | "snapshot_part" | "delta"
    snapshot_complete: bool
    upserted_chunks: list[MeshChunk]
    removed_chunks: list[BlockKey]
    coalesced: bool = False

    @classmethod
    def from_proto(cls, m: scene_pb2.SceneUpdate) -> SceneUpdate:
        kind = {
            scene_pb2.SCENE_UPDATE_KIND_SNAPSHOT_BEGIN: "snapshot_begin",
            scene_pb2.SCENE_UPDATE_KIND_SNAPSHOT_PART: "snapshot_part",
        }.get(m.kind, "delta")
        return cls(
            message=m,
            position=position_from_proto(m.position),
            kind=kind,
            snapshot_complete=m.snapshot_complete,
            upserted_chunks=[decode_chunk(c) for c in m.upserted_chunks],
            removed_chunks=[(b.x, b.y, b.z) for b in m.removed_chunks],
            coalesced=m.coalesced,
        )


@dataclass
class SceneMirror:
    """A local copy of a session's scene, kept exact by applying WatchScene updates in order.

    This is what an engine client does with the stream; tests use it to check that the copy
    equals the server's scene.
    """

    chunks: dict[BlockKey, MeshChunk] = field(default_factory=dict)
    planes: dict[str, scene_pb2.Plane] = field(default_factory=dict)
    anchors: dict[str, scene_pb2.Anchor] = field(default_factory=dict)
    objects: dict[str, scene_pb2.SceneObject] = field(default_factory=dict)
    position: StreamPosition | None = None
    snapshots: int = 0
    deltas: int = 0

    def apply(self, u: SceneUpdate) -> None:
        m = u.message
        if u.kind == "snapshot_begin":
            self.chunks.clear()
            self.planes.clear()
            self.anchors.clear()
            self.objects.clear()
            self.snapshots += 1
        elif u.kind == "delta":
            if self.position is not None and u.position.epoch == self.position.epoch:
                expected_next = u.position.sequence == self.position.sequence + 1
                if not (expected_next or (u.coalesced and u.position.sequence >= self.position.sequence)):
                    raise AssertionError(f"gap in scene stream: {self.position} -> {u.position}")
            self.deltas += 1
        for c in u.upserted_chunks:
            self.chunks[c.key] = c
        for k in u.removed_chunks:
            self.chunks.pop(k, None)
        for p in m.upserted_planes:
            self.planes[p.plane_id] = p
        for pid in m.removed_plane_ids:
            self.planes.pop(pid, None)
        for a in m.upserted_anchors:
            self.anchors[a.anchor_id] = a
        for aid in m.removed_anchor_ids:
            self.anchors.pop(aid, None)
        for o in m.upserted_objects:
            self.objects[o.object_id] = o
        for oid in m.removed_object_ids:
            self.objects.pop(oid, None)
        self.position = u.position

    @property
    def triangle_count(self) -> int:
        return sum(c.triangle_count for c in self.chunks.values())

    def mesh_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vertices (n,3) float32, colours (n,3) uint8, triangles (m,3) int32) of all chunks."""
        vs, cs, ts = [], [], []
        offset = 0
        for c in self.chunks.values():
            vs.append(c.vertices)
            cs.append(c.colors)
            ts.append(c.triangles + offset)
            offset += c.vertex_count
        if not vs:
            return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint8), np.zeros((0, 3), np.int32)
        return np.concatenate(vs), np.concatenate(cs), np.concatenate(ts)


class Conversation:
    """A live AvatarService.Converse stream: send turns, read events."""

    def __init__(self, call: Any, outbox: asyncio.Queue[avatar_pb2.ConverseRequest | None]) -> None:
        self._call = call
        self._outbox = outbox
        self.position: StreamPosition | None = None

    async def say(self, text: str) -> None:
        await self._outbox.put(avatar_pb2.ConverseRequest(text=avatar_pb2.UserText(text=text)))

    async def send_audio(self, pcm16: np.ndarray, sample_rate_hz: int, *, end_of_utterance: bool = False) -> None:
        """User speech, (n,) int16 mono; the server detects the end of the utterance itself."""
        await self._outbox.put(
            avatar_pb2.ConverseRequest(
                audio=avatar_pb2.UserAudio(
                    sample_rate_hz=sample_rate_hz,
                    pcm16=np.asarray(pcm16, dtype="<i2").tobytes(),
                    end_of_utterance=end_of_utterance,
                )
            )
        )

    async def interrupt(self, reason: str = "") -> None:
        await self._outbox.put(avatar_pb2.ConverseRequest(interrupt=avatar_pb2.Interrupt(reason=reason)))

    async def done_sending(self) -> None:
        await self._outbox.put(None)

    async def events(self) -> AsyncIterator[avatar_pb2.ConverseResponse]:
        try:
            async for ev in self._call:
                self.position = position_from_proto(ev.position)
                yield ev
        except grpc.aio.AioRpcError as err:
            raise from_rpc_error(err) from None

    async def turn(self, text: str) -> list[avatar_pb2.ConverseResponse]:
        """Says ``text`` and collects the events of the answer up to its end of turn."""
        await self.say(text)
        out = []
        async for ev in self.events():
            out.append(ev)
            if ev.WhichOneof("event") == "turn_end":
                break
        return out

    def cancel(self) -> None:
        self._call.cancel()


class Session:
    """A server session seen from the client."""

    def __init__(self, client: SoraClient, info: session_pb2.Session) -> None:
        self._client = client
        self.info = info
        self.session_id = info.session_id

    async def refresh(self) -> session_pb2.Session:
        resp = await _call(self._client._session.GetSession(session_pb2.GetSessionRequest(session_id=self.session_id)))
        self.info = resp.session
        return self.info

    async def close(self, *, delete_map: bool = False, delete_memory: bool = False) -> None:
        await _call(
            self._client._session.CloseSession(
                session_pb2.CloseSessionRequest(
                    session_id=self.session_id, delete_map=delete_map, delete_memory=delete_memory
                )
            )
        )

    # ---- sensors ------------------------------------------------------------------------

    async def stream_sensor_data(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        stream_name: str = "python",
        lossless: bool = True,
        default_intrinsics: Intrinsics | None = None,
        color_encoding: str = "jpeg",
        depth_encoding: str = "png",
        on_sent: Callable[[Any], None] | None = None,
        camera_role: str = "world",
    ) -> IngestSummary:
        """Streams frames and other samples (core types or raw StreamSensorDataRequest) on one stream.

        ``lossless=True`` fuses every frame (the stream is slowed by flow control instead of
        dropping); ``False`` is for live devices, where the server drops stale frames when busy.
        ``camera_role="user_facing"``: the frames look at the user (webcam) and feed face-camera gaze
        instead of the map.
        """
        roles = {"world": sensor_pb2.CAMERA_ROLE_WORLD, "user_facing": sensor_pb2.CAMERA_ROLE_USER_FACING}
        if camera_role not in roles:
            raise ValueError(f"camera_role must be one of {sorted(roles)}, got {camera_role!r}")
        config = sensor_pb2.SensorStreamConfig(
            session_id=self.session_id,
            stream_name=stream_name,
            ingest_mode=sensor_pb2.INGEST_MODE_LOSSLESS if lossless else sensor_pb2.INGEST_MODE_REALTIME,
            camera_role=roles[camera_role],
        )
        if default_intrinsics is not None:
            config.default_intrinsics.CopyFrom(encode_intrinsics(default_intrinsics))

        call: Any = None

        async def requests() -> AsyncIterator[sensor_pb2.StreamSensorDataRequest]:
            yield sensor_pb2.StreamSensorDataRequest(config=config)
            if not await _accepted(call):
                return
            async for item in _aiter(items):
                # Encoding (JPEG/PNG) is CPU work; keep it off the loop so watchers stay responsive.
                msg = await asyncio.to_thread(encode_sensor_item, item, color=color_encoding, depth=depth_encoding)
                if call.done():
                    return
                yield msg
                if on_sent is not None:
                    on_sent(item)

        call = self._client._sensor.StreamSensorData(requests())
        resp = await _call(call)
        names = {v: k.removeprefix("DROP_REASON_").lower() for k, v in sensor_pb2.DropReason.items()}
        return IngestSummary(
            messages_received=resp.messages_received,
            frames_integrated=resp.frames_integrated,
            drops={names[d.reason]: d.count for d in resp.drops},
            scene_position=position_from_proto(resp.scene_position),
        )

    async def stream_frames(self, frames: Iterable[Any] | AsyncIterable[Any], **kwargs: Any) -> IngestSummary:
        """Alias of :meth:`stream_sensor_data` for the common case of camera frames."""
        return await self.stream_sensor_data(frames, **kwargs)

    # ---- scene --------------------------------------------------------------------------

    async def watch_scene(
        self,
        *,
        resume_from: StreamPosition | None = None,
        include_mesh: bool = True,
        max_mesh_bytes_per_s: int = 0,
        auto_resume: bool = True,
        max_retries: int = 20,
    ) -> AsyncIterator[SceneUpdate]:
        """Snapshot, then deltas; after a disconnect, resumes from the last update it yielded."""
        position = resume_from
        retries = 0
        while True:
            req = scene_pb2.WatchSceneRequest(
                session_id=self.session_id,
                content=scene_pb2.SceneContent(exclude_mesh=not include_mesh),
                max_mesh_bytes_per_s=max_mesh_bytes_per_s,
            )
            if position is not None:
                req.resume_from.CopyFrom(position_to_proto(position))
            call = self._client._scene.WatchScene(req)
            try:
                async for msg in call:
                    update = SceneUpdate.from_proto(msg.update)
                    retries = 0
                    if update.kind == "delta" or update.snapshot_complete:
                        position = update.position
                    yield update
                return
            except grpc.aio.AioRpcError as err:
                if not auto_resume or err.code() not in _RESUMABLE or retries >= max_retries:
                    raise from_rpc_error(err) from None
                retries += 1
                await asyncio.sleep(min(2.0, 0.05 * 2**retries) * (0.5 + random.random()))
                log.info("scene stream ended with %s; resuming from %s", err.code().name, position)
            finally:
                call.cancel()

    async def get_scene(
        self,
        *,
        include_mesh: bool = False,
        label: str = "",
        text: str = "",
        region: tuple[Pose, Iterable[float]] | None = None,
        relation: str = "",
        related_id: str = "",
        max_results: int = 0,
    ) -> scene_pb2.GetSceneResponse:
        """The scene now; the object arguments restrict its objects (see :meth:`find_objects`)."""
        req = scene_pb2.GetSceneRequest(session_id=self.session_id, include_mesh=include_mesh)
        if label or text or region is not None or relation or related_id or max_results:
            req.object_query.CopyFrom(_object_query(label, text, region, relation, related_id, max_results))
        return await _call(self._client._scene.GetScene(req))

    async def find_objects(
        self,
        *,
        label: str = "",
        text: str = "",
        region: tuple[Pose, Iterable[float]] | None = None,
        relation: str = "",
        related_id: str = "",
        max_results: int = 0,
    ) -> list[scene_pb2.SceneObject]:
        """Objects by exact ``label``, by meaning (``text="something to drink from"``, best first),
        inside a ``region`` (box pose in the world, edge lengths in metres), and/or in a ``relation``
        ("on", "under", "inside", "near", "next_to", "left_of", "right_of", "in_front_of", "behind")
        to ``related_id`` (an object or plane ID)."""
        scene = await self.get_scene(
            label=label, text=text, region=region, relation=relation, related_id=related_id,
            max_results=max_results,
        )  # fmt: skip
        return list(scene.objects)

    async def raycast(
        self, origin_world_m: Iterable[float], direction_world: Iterable[float], max_distance_m: float = 10.0
    ) -> types_pb2.SceneTarget | None:
        req = scene_pb2.RaycastRequest(
            session_id=self.session_id,
            ray_world=types_pb2.Ray(
                origin_m=vec3(np.asarray(list(origin_world_m))), direction=vec3(np.asarray(list(direction_world)))
            ),
            max_distance_m=max_distance_m,
        )
        resp = await _call(self._client._scene.Raycast(req))
        return resp.target if resp.hit else None

    async def create_anchor(
        self,
        *,
        pose_world_anchor: Pose | None = None,
        ray: tuple[Iterable[float], Iterable[float]] | None = None,
        label: str = "",
    ) -> scene_pb2.Anchor:
        req = scene_pb2.CreateAnchorRequest(session_id=self.session_id, label=label)
        if pose_world_anchor is not None:
            req.pose_world_anchor.CopyFrom(encode_pose(pose_world_anchor))
        elif ray is not None:
            req.ray_world.CopyFrom(
                types_pb2.Ray(origin_m=vec3(np.asarray(list(ray[0]))), direction=vec3(np.asarray(list(ray[1]))))
            )
        return (await _call(self._client._scene.CreateAnchor(req))).anchor

    async def list_anchors(self) -> list[scene_pb2.Anchor]:
        resp = await _call(self._client._scene.ListAnchors(scene_pb2.ListAnchorsRequest(session_id=self.session_id)))
        return list(resp.anchors)

    async def delete_anchor(self, anchor_id: str) -> None:
        await _call(
            self._client._scene.DeleteAnchor(
                scene_pb2.DeleteAnchorRequest(session_id=self.session_id, anchor_id=anchor_id)
            )
        )

    async def save_map(self, map_name: str) -> scene_pb2.SaveMapResponse:
        """Saves the session's volume and anchors on the server under ``map_name``."""
        return await _call(
            self._client._scene.SaveMap(scene_pb2.SaveMapRequest(session_id=self.session_id, map_name=map_name))
        )

    async def load_map(self, map_name: str) -> scene_pb2.LoadMapResponse:
        """Replaces the session's map with a saved one; watchers receive a fresh snapshot."""
        return await _call(
            self._client._scene.LoadMap(scene_pb2.LoadMapRequest(session_id=self.session_id, map_name=map_name))
        )

    async def export_map(self, path: str, *, format: str = "") -> int:  # noqa: A002
        """Writes the fused mesh to ``path`` (.ply, .glb or .obj from the suffix); returns its size."""
        suffix = (format or path.rsplit(".", 1)[-1]).lower()
        formats = {"glb": scene_pb2.MESH_FORMAT_GLB, "obj": scene_pb2.MESH_FORMAT_OBJ}
        fmt = formats.get(suffix, scene_pb2.MESH_FORMAT_PLY)
        call = self._client._scene.ExportMap(scene_pb2.ExportMapRequest(session_id=self.session_id, format=fmt))
        size = 0
        try:
            with open(path, "wb") as f:
                async for piece in call:
                    f.write(piece.data)
                    size += len(piece.data)
        except grpc.aio.AioRpcError as err:
            raise from_rpc_error(err) from None
        return size

    # ---- perception and avatar ----------------------------------------------------------

    async def watch_perception(
        self,
        *,
        include_hands: bool = True,
        include_gaze: bool = True,
        resume_from: StreamPosition | None = None,
        auto_resume: bool = True,
        max_retries: int = 20,
    ) -> AsyncIterator[perception_pb2.WatchPerceptionResponse]:
        """Hands and gaze (latest-wins) and ordered events; resumes events after a disconnect."""
        position = resume_from
        retries = 0
        while True:
            req = perception_pb2.WatchPerceptionRequest(
                session_id=self.session_id, exclude_hands=not include_hands, exclude_gaze=not include_gaze
            )
            if position is not None:
                req.resume_from.CopyFrom(position_to_proto(position))
            call = self._client._perception.WatchPerception(req)
            try:
                async for msg in call:
                    retries = 0
                    if msg.WhichOneof("item") not in ("hands", "gaze"):
                        position = position_from_proto(msg.position)
                    yield msg
                return
            except grpc.aio.AioRpcError as err:
                if not auto_resume or err.code() not in _RESUMABLE or retries >= max_retries:
                    raise from_rpc_error(err) from None
                retries += 1
                await asyncio.sleep(min(2.0, 0.05 * 2**retries) * (0.5 + random.random()))
            finally:
                call.cancel()

    def converse(
        self,
        *,
        persona: str = "",
        avatar_name: str = "Sora",
        voice: str = "en-us",
        speech: bool = False,
        engine: str = "embedded",
    ) -> Conversation:
        """Opens a conversation; use ``turn(text)`` or ``say`` plus ``events()``."""
        outbox: asyncio.Queue[avatar_pb2.ConverseRequest | None] = asyncio.Queue()
        cfg = avatar_pb2.ConversationConfig(
            session_id=self.session_id,
            persona=persona,
            avatar_name=avatar_name,
            voice=voice,
            speech_enabled=speech,
            engine=avatar_pb2.DIALOGUE_ENGINE_LLM if engine == "llm" else avatar_pb2.DIALOGUE_ENGINE_EMBEDDED,
        )

        call: Any = None

        async def requests() -> AsyncIterator[avatar_pb2.ConverseRequest]:
            yield avatar_pb2.ConverseRequest(config=cfg)
            if not await _accepted(call):
                return
            while (msg := await outbox.get()) is not None:
                if call.done():
                    return
                yield msg

        call = self._client._avatar.Converse(requests())
        return Conversation(call, outbox)


def _object_query(
    label: str,
    text: str,
    region: tuple[Pose, Iterable[float]] | None,
    relation: str,
    related_id: str,
    max_results: int,
) -> scene_pb2.ObjectQuery:
    q = scene_pb2.ObjectQuery(label=label, text=text, related_id=related_id, max_results=max_results)
    if region is not None:
        pose, size = region
        q.region.pose_world_box.CopyFrom(encode_pose(pose))
        q.region.size_m.CopyFrom(vec3(np.asarray(list(size), dtype=np.float64)))
    if relation:
        name = "RELATION_TYPE_" + relation.upper()
        if name not in scene_pb2.RelationType.keys():
            raise ValueError(f"unknown relation {relation!r}")
        q.relation = scene_pb2.RelationType.Value(name)
    return q


async def _accepted(call: Any) -> bool:
    """Waits for the server to accept a client stream's config (its initial metadata).

    Writing after the server has ended the call makes grpcio's asyncio client replace the server's
    status with INTERNAL (grpc/grpc#36066), so payloads wait until the config is accepted, and a
    stream the server has ended stops writing.
    """
    await call.initial_metadata()
    return not call.done()


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if hasattr(items, "__aiter__"):
        async for x in items:  # type: ignore[union-attr]
            yield x
    else:
        for x in items:  # type: ignore[union-attr]
            yield x


class _BearerToken:
    """Adds ``authorization: Bearer <token>`` to a call's metadata."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, d: Any) -> Any:
        metadata = grpc.aio.Metadata(*(d.metadata or ()))
        metadata.add(*self._header)
        return grpc.aio.ClientCallDetails(d.method, d.timeout, metadata, d.credentials, d.wait_for_ready)


# grpc.aio files an interceptor under the first call type it implements, so each type needs its own.
class _BearerUnaryUnary(_BearerToken, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _BearerUnaryStream(_BearerToken, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _BearerStreamUnary(_BearerToken, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(self._details(details), request_iterator)


class _BearerStreamStream(_BearerToken, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(self._details(details), request_iterator)


class SoraClient:
    """An async client over one gRPC channel.

    ``token`` is sent as a bearer token on every call; ``credentials`` (e.g.
    ``grpc.ssl_channel_credentials(root_ca, client_key, client_cert)``) turns on TLS / mTLS.
    """

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        options: list[tuple[str, Any]] | None = None,
    ) -> None:
        _grpc_status_fix.install()  # stream errors keep the server's status (see the module)
        opts = [
            ("grpc.max_receive_message_length", 64 << 20),
            ("grpc.max_send_message_length", 32 << 20),
            ("grpc.keepalive_time_ms", 10000),
            # Reconnect within 2 s of a restarted server coming back (gRPC's defaults back off to 120 s,
            # and calls fail fast while the channel waits): watch streams resume sooner after a restart.
            ("grpc.initial_reconnect_backoff_ms", 250),
            ("grpc.min_reconnect_backoff_ms", 250),
            ("grpc.max_reconnect_backoff_ms", 2000),
            *(options or []),
        ]
        self.target = target
        interceptors: list[Any] | None = None
        if token:
            kinds = (_BearerUnaryUnary, _BearerUnaryStream, _BearerStreamUnary, _BearerStreamStream)
            interceptors = [kind(token) for kind in kinds]
        self.channel = (
            grpc.aio.secure_channel(target, credentials, options=opts, interceptors=interceptors)
            if credentials is not None
            else grpc.aio.insecure_channel(target, options=opts, interceptors=interceptors)
        )
        self._session = session_pb2_grpc.SessionServiceStub(self.channel)
        self._sensor = sensor_pb2_grpc.SensorServiceStub(self.channel)
        self._scene = scene_pb2_grpc.SceneServiceStub(self.channel)
        self._perception = perception_pb2_grpc.PerceptionServiceStub(self.channel)
        self._avatar = avatar_pb2_grpc.AvatarServiceStub(self.channel)
        self._health = health_pb2_grpc.HealthStub(self.channel)

    async def __aenter__(self) -> SoraClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def wait_ready(self, timeout_s: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.channel.channel_ready(), timeout_s)
        except TimeoutError:
            raise E.UnavailableError(f"no Sora server at {self.target} after {timeout_s} s") from None

    async def health(self, service: str = "") -> str:
        resp = await _call(self._health.Check(health_pb2.HealthCheckRequest(service=service)))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)

    async def capabilities(self) -> session_pb2.GetCapabilitiesResponse:
        return await _call(self._session.GetCapabilities(session_pb2.GetCapabilitiesRequest()))

    async def create_session(
        self,
        *,
        display_name: str = "",
        user_id: str = "",
        space_id: str = "",
        pose_source: str = "client",
        voxel_size_m: float = 0.0,
        depth_max_m: float = 0.0,
        recording_enabled: bool = False,
        up_world: tuple[float, float, float] | None = None,
    ) -> Session:
        odometry = pose_source == "server_odometry"
        ps = session_pb2.POSE_SOURCE_SERVER_ODOMETRY if odometry else session_pb2.POSE_SOURCE_CLIENT
        resp = await _call(
            self._session.CreateSession(
                session_pb2.CreateSessionRequest(
                    display_name=display_name,
                    user_id=user_id,
                    space_id=space_id,
                    options=session_pb2.SessionOptions(
                        pose_source=ps,
                        voxel_size_m=voxel_size_m,
                        depth_max_m=depth_max_m,
                        recording_enabled=recording_enabled,
                        up_world=vec3(np.asarray(up_world)) if up_world is not None else None,
                    ),
                )
            )
        )
        return Session(self, resp.session)

    async def session(self, session_id: str) -> Session:
        resp = await _call(self._session.GetSession(session_pb2.GetSessionRequest(session_id=session_id)))
        return Session(self, resp.session)

    async def list_sessions(self) -> list[session_pb2.Session]:
        return list((await _call(self._session.ListSessions(session_pb2.ListSessionsRequest()))).sessions)
