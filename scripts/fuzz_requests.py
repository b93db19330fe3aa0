#!/usr/bin/env python
"""Coverage-guided fuzzing of the server's request handling with atheris.

    pip install atheris             # needs clang and libFuzzer; may not build on every machine
    mkdir -p fuzz-corpus && python scripts/fuzz_requests.py -atheris_runs=200000 fuzz-corpus/
    python scripts/fuzz_requests.py crash-<sha1>     # replays one crashing input

The target is :func:`fuzz_one`: the first byte of an input picks a request type, the rest is parsed as
that protobuf message (bytes that do not parse are skipped), and the message goes through the same
servicer method a network call reaches, in-process, with a recording stand-in for the gRPC context.
An empty ``session_id`` is replaced with a live session's, so the fuzzer gets past the session lookup.
Anything but a status a client can act on (INTERNAL or UNKNOWN, an INVALID_ARGUMENT that names no
field, an exception escaping the error mapping, an error in the server log, a hang) raises, and the
fuzzer reports that input as a crash.

atheris is imported only by :func:`main`; ``tests/server/test_fuzz_target.py`` runs ``fuzz_one`` over
seeds and hypothesis-made inputs without it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

from sora_sdk._proto.sora.v1 import avatar_pb2, perception_pb2, scene_pb2, sensor_pb2, session_pb2
from sora_sdk.core.config import SoraConfig
from sora_sdk.core.errors import InvalidArgumentError

__all__ = ["ALLOWED", "TARGETS", "FuzzFailure", "fuzz_one", "main", "seed_inputs"]

#: Statuses a hostile request may end with (FAILED_PRECONDITION: valid, but the server's state cannot serve it).
ALLOWED = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}
TIMEOUT_S = 20.0  # one input taking this long is a hang
WATCH_S = 0.05  # how long a watch stream runs before the harness hangs up


class FuzzFailure(AssertionError):
    """What the fuzzer reports: the server handled an input badly."""


class _Aborted(grpc.aio.AbortError):
    pass


class _HungUp(grpc.aio.AbortError):
    """The harness ends a stream (as a client hanging up); not a server failure."""


class _Context:
    """Enough of ``grpc.aio.ServicerContext`` for the servicers: records the status, counts writes."""

    def __init__(self, max_writes: int = 4) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self.trailing: Any = ()
        self.writes = 0
        self.max_writes = max_writes
        self._callbacks: list[Callable[[Any], None]] = []

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ()

    def peer(self) -> str:
        return "ipv4:127.0.0.1:40000"

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        self.code, self.details, self.trailing = code, details, trailing_metadata
        raise _Aborted()

    async def send_initial_metadata(self, metadata: Any) -> None:
        return None

    async def write(self, message: Any) -> None:
        message.SerializeToString()
        self.writes += 1
        if self.writes >= self.max_writes:
            raise _HungUp()

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        self._callbacks.append(callback)

    def finish(self) -> None:
        for callback in self._callbacks:
            callback(self)
        self._callbacks.clear()


class _LogErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _Harness:
    """One event loop, session manager and set of servicers, kept across inputs (as a server is)."""

    def __init__(self) -> None:
        from sora_sdk.server._quota import Quotas
        from sora_sdk.server._services import (
            AvatarServicer,
            PerceptionServicer,
            SceneServicer,
            SensorServicer,
            SessionServicer,
        )
        from sora_sdk.session import SessionManager

        cfg = SoraConfig()
        cfg = replace(
            cfg,
            server=replace(cfg.server, port=0, data_dir=tempfile.mkdtemp(prefix="sora-fuzz-"),
                           quota_frames_per_s=0.0, quota_ingest_bytes_per_s=0),
            session=replace(cfg.session, camera_hands=False),
            dialogue=replace(cfg.dialogue, realtime_speech=False),
        )  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sora-fuzz")
        self.errors = _LogErrors()
        logging.getLogger("sora").addHandler(self.errors)

        async def build() -> Any:
            manager = SessionManager(cfg, self.executor)
            return manager, await manager.create()

        self.manager, self.session = self.loop.run_until_complete(build())
        quotas = Quotas.from_config(cfg.server)
        self.sessions = SessionServicer(self.manager)
        self.sensor = SensorServicer(self.manager)
        self.scene = SceneServicer(self.manager, quotas)
        self.perception = PerceptionServicer(self.manager, quotas)
        self.avatar = AvatarServicer(self.manager, quotas)

    @property
    def sid(self) -> str:
        return self.session.info.session_id

    def run(self, coro: Any) -> None:
        self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT_S))

    async def tidy(self) -> None:
        """Closes the sessions an input created, keeping the live one."""
        for s in self.manager.list():
            if s is not self.session:
                await self.manager.close(s.info.session_id)
        if self.session.closed:  # an input closed it (CloseSession with its id): start another
            self.session = await self.manager.create()


_harness: _Harness | None = None


def _get_harness() -> _Harness:
    global _harness
    if _harness is None:
        _harness = _Harness()
    return _harness


async def _stream(*items: Message) -> AsyncIterator[Message]:
    for item in items:
        yield item


def _with_session(msg: Any, sid: str, path: str = "session_id") -> Any:
    *parents, leaf = path.split(".")
    target = msg
    for p in parents:
        target = getattr(target, p)
    if not getattr(target, leaf):
        setattr(target, leaf, sid)
    return msg


async def _call(handler: Callable[..., Any], request: Any, *, watch: bool = False) -> _Context:
    ctx = _Context()
    try:
        result = handler(request, ctx)
        if watch:
            await asyncio.wait_for(result, WATCH_S)
        else:
            await result
    except TimeoutError:  # a watch still open: healthy
        pass
    except (_Aborted, _HungUp):
        pass
    finally:
        ctx.finish()
    return ctx


def _sensor(h: _Harness, msg: Any) -> Any:
    config = sensor_pb2.SensorStreamConfig(session_id=h.sid, ingest_mode=sensor_pb2.INGEST_MODE_LOSSLESS)
    return _call(h.sensor.StreamSensorData, _stream(sensor_pb2.StreamSensorDataRequest(config=config), msg))


def _sensor_config(h: _Harness, msg: Any) -> Any:
    _with_session(msg, h.sid)
    return _call(h.sensor.StreamSensorData, _stream(sensor_pb2.StreamSensorDataRequest(config=msg)))


def _converse_config(h: _Harness, msg: Any) -> Any:
    _with_session(msg, h.sid)
    msg.speech_enabled = False
    return _call(h.avatar.Converse, _stream(avatar_pb2.ConverseRequest(config=msg)))


def _converse_turn(h: _Harness, msg: Any) -> Any:
    config = avatar_pb2.ConversationConfig(session_id=h.sid)
    return _call(h.avatar.Converse, _stream(avatar_pb2.ConverseRequest(config=config), msg))


def _decode_frame(h: _Harness, msg: Any) -> Any:
    """The validator directly: a frame decodes, or is refused with a field-naming InvalidArgumentError."""
    from sora_sdk.server._validate import decode_camera_frame

    async def run() -> _Context:
        try:
            frame = decode_camera_frame(msg, default_intrinsics=None, pose_required=True)
        except InvalidArgumentError as err:
            if not err.violations or not err.violations[0].field.startswith("camera_frame"):
                raise FuzzFailure(f"decode_camera_frame refused without naming a field: {err}") from None
            return _Context()
        if frame.depth is not None and frame.depth.shape != (frame.intrinsics.height_px, frame.intrinsics.width_px):
            raise FuzzFailure(f"depth decoded to {frame.depth.shape}, intrinsics say {frame.intrinsics}")
        return _Context()

    return run()


#: (request class, how to run it). The first byte of an input indexes this list.
TARGETS: list[tuple[type[Message], Callable[[_Harness, Any], Any]]] = [
    (sensor_pb2.StreamSensorDataRequest, _sensor),
    (sensor_pb2.SensorStreamConfig, _sensor_config),
    (session_pb2.CreateSessionRequest, lambda h, m: _call(h.sessions.CreateSession, m)),
    (scene_pb2.WatchSceneRequest, lambda h, m: _call(h.scene.WatchScene, _with_session(m, h.sid), watch=True)),
    (perception_pb2.WatchPerceptionRequest,
     lambda h, m: _call(h.perception.WatchPerception, _with_session(m, h.sid), watch=True)),
    (scene_pb2.RaycastRequest, lambda h, m: _call(h.scene.Raycast, _with_session(m, h.sid))),
    (scene_pb2.CreateAnchorRequest, lambda h, m: _call(h.scene.CreateAnchor, _with_session(m, h.sid))),
    (scene_pb2.DeleteAnchorRequest, lambda h, m: _call(h.scene.DeleteAnchor, _with_session(m, h.sid))),
    (avatar_pb2.ConversationConfig, _converse_config),
    (avatar_pb2.ConverseRequest, _converse_turn),
    (sensor_pb2.CameraFrame, _decode_frame),
    (session_pb2.GetSessionRequest, lambda h, m: _call(h.sessions.GetSession, _with_session(m, h.sid))),
]  # fmt: skip


def _violations(trailing: Any) -> list[str]:
    for key, value in trailing or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                br = error_details_pb2.BadRequest()
                if detail.Unpack(br):
                    return [v.field for v in br.field_violations]
    return []


def fuzz_one(data: bytes) -> None:
    """The fuzz target: one input, one request; raises FuzzFailure when the server mishandles it."""
    if not data:
        return
    cls, run = TARGETS[data[0] % len(TARGETS)]
    try:
        msg = cls.FromString(data[1:])
    except (DecodeError, RuntimeError, ValueError):  # not a message of this type: nothing to learn
        return
    h = _get_harness()
    seen = len(h.errors.records)
    ctx: _Context | None = None

    async def go() -> None:
        nonlocal ctx
        try:
            ctx = await run(h, msg)
        finally:
            await h.tidy()

    try:
        h.run(go())
    except TimeoutError:
        raise FuzzFailure(f"{cls.__name__}: no answer within {TIMEOUT_S} s") from None
    logged = h.errors.records[seen:]
    if logged:
        r = logged[0]
        trace = logging.Formatter().formatException(r.exc_info) if r.exc_info else ""
        raise FuzzFailure(f"{cls.__name__}: the server logged an error: {r.getMessage()}\n{trace}")
    if ctx is None or ctx.code is None:
        return
    if ctx.code not in ALLOWED:
        raise FuzzFailure(f"{cls.__name__}: {ctx.code.name}: {ctx.details}")
    if ctx.code == grpc.StatusCode.INVALID_ARGUMENT and not _violations(ctx.trailing):
        raise FuzzFailure(f"{cls.__name__}: INVALID_ARGUMENT names no field: {ctx.details}")


def seed_inputs() -> list[bytes]:
    """A small starting corpus: one well-formed message per target (a fuzzer mutates from these)."""
    from sora_sdk._proto.sora.v1 import types_pb2

    pose = types_pb2.Pose(orientation=types_pb2.Quaternion(w=1.0))
    intr = types_pb2.CameraIntrinsics(width_px=4, height_px=3, fx_px=4, fy_px=4, cx_px=2, cy_px=1.5)
    depth = sensor_pb2.DepthImage(encoding=sensor_pb2.DEPTH_ENCODING_RAW_U16, width_px=4, height_px=3,
                                  m_per_unit=0.001, data=b"\xe8\x03" * 12)  # fmt: skip
    color = sensor_pb2.ColorImage(
        encoding=sensor_pb2.COLOR_ENCODING_RAW_RGB8, width_px=4, height_px=3, data=b"\x80" * 36
    )
    frame = sensor_pb2.CameraFrame(sequence=1, capture_time_s=1.0, intrinsics=intr, pose_world_camera=pose,
                                   depth=depth, color=color)  # fmt: skip
    ray = types_pb2.Ray(origin_m=types_pb2.Vector3(), direction=types_pb2.Vector3(z=1.0))
    samples: list[Message] = [
        sensor_pb2.StreamSensorDataRequest(camera_frame=frame),
        sensor_pb2.SensorStreamConfig(stream_name="seed", default_intrinsics=intr),
        session_pb2.CreateSessionRequest(display_name="seed", options=session_pb2.SessionOptions(voxel_size_m=0.05)),
        scene_pb2.WatchSceneRequest(max_mesh_bytes_per_s=1000),
        perception_pb2.WatchPerceptionRequest(),
        scene_pb2.RaycastRequest(ray_world=ray, max_distance_m=5.0),
        scene_pb2.CreateAnchorRequest(pose_world_anchor=pose, label="seed"),
        scene_pb2.DeleteAnchorRequest(anchor_id="0" * 16),
        avatar_pb2.ConversationConfig(persona="seed", output_sample_rate_hz=16000),
        avatar_pb2.ConverseRequest(text=avatar_pb2.UserText(text="where is the table?")),
        frame,
        session_pb2.GetSessionRequest(),
    ]
    by_class = {cls: i for i, (cls, _) in enumerate(TARGETS)}
    return [bytes([by_class[type(m)]]) + m.SerializeToString() for m in samples]


def main(argv: list[str] | None = None) -> None:
    """Runs atheris over :func:`fuzz_one` (argv as libFuzzer reads it: flags, corpus folders, crash files).

    An empty corpus folder given on the command line is first filled with :func:`seed_inputs`.
    """
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed: pip install atheris (it needs clang with libFuzzer)")
    argv = list(sys.argv if argv is None else argv)
    for arg in argv[1:]:
        folder = Path(arg)
        if not arg.startswith("-") and folder.is_dir() and not any(folder.iterdir()):
            for i, data in enumerate(seed_inputs()):
                (folder / f"seed-{i:02d}").write_bytes(data)
    with atheris.instrument_imports(include=["sora_sdk"]):
        # Imported here so atheris instruments them for coverage.
        import sora_sdk.server._services
        import sora_sdk.server._validate  # noqa: F401
    atheris.Setup(argv, fuzz_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
