"""Hostile input, property-based: arbitrary request messages sent to a real server on loopback.

Every request type a client can send is built by hypothesis from its protobuf descriptor (every field
set or not, NaN/inf/huge/negative numbers, unknown enum values, long and odd strings, random bytes),
with targeted strategies where random bytes would never get past the first check: camera frames
whose declared sizes agree (so raw, PNG and JPEG payloads are really decoded), 26-joint hands,
session ids that exist (so validation past the session lookup runs). The server must answer each
with a status a client can act on, never INTERNAL or UNKNOWN, name the field in every
INVALID_ARGUMENT, log no unexpected error, and still serve another client afterwards.

Reproducible: examples are derandomized (the same on every run) and the count is bounded so the file
runs in well under a minute (tests/server/_strategies.py: ``SORA_FUZZ_RANDOM=1`` explores fresh
examples, ``SORA_FUZZ_EXAMPLES=N`` sets the count per test). ``pytest -s`` prints the statuses seen.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from sora_sdk._proto.sora.v1 import (
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
from sora_sdk.server import SoraServer, create_server
from tests.conftest import test_config
from tests.server._strategies import (
    EXAMPLES,
    FUZZ,
    TEXT,
    conversation_configs,
    converse_requests,
    messages,
    poses,
    sensor_configs,
    sensor_requests,
)

#: What a hostile request may get back. FAILED_PRECONDITION: a well-formed request the server's state
#: cannot serve (no LLM endpoint configured, a ray that hits nothing).
ALLOWED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}
CALL_TIMEOUT_S = 30.0  # a call that takes this long is a hang, and fails the test

# ---- a real server, on a thread of its own ------------------------------------------------------------


class _Errors(logging.Handler):
    """Collects ERROR records of the ``sora`` loggers: a swallowed crash is still a crash."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class LiveServer:
    """A Sora server on loopback, its event loop on a thread, so sync hypothesis tests can call it."""

    def __init__(self) -> None:
        config = test_config(
            server={"quota_frames_per_s": 0.0, "quota_ingest_bytes_per_s": 0},  # reach the validators
            dialogue={"realtime_speech": False},
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hostile-server", daemon=True)
        self.thread.start()
        self.running: SoraServer = self._run(create_server(config))
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.running.port}")
        self.sessions = session_pb2_grpc.SessionServiceStub(self.channel)
        self.sensor = sensor_pb2_grpc.SensorServiceStub(self.channel)
        self.scene = scene_pb2_grpc.SceneServiceStub(self.channel)
        self.perception = perception_pb2_grpc.PerceptionServiceStub(self.channel)
        self.avatar = avatar_pb2_grpc.AvatarServiceStub(self.channel)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def new_session(self) -> str:
        return str(self.sessions.CreateSession(session_pb2.CreateSessionRequest()).session.session_id)

    def close(self) -> None:
        self.channel.close()
        self._run(self.running.stop(0.2))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    errors = _Errors()
    logging.getLogger("sora").addHandler(errors)
    server = LiveServer()
    server.errors = errors  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.close()
        logging.getLogger("sora").removeHandler(errors)


@pytest.fixture(scope="module")
def session_id(live: LiveServer) -> str:
    return live.new_session()


def _session_ids(real: str) -> st.SearchStrategy[str]:
    """Mostly the real session (so validation runs past the lookup), else an unknown or odd id."""
    return st.sampled_from(["real"] * 8 + ["unknown", "text"]).flatmap(
        lambda kind: st.just(real) if kind == "real" else st.just("0" * 32) if kind == "unknown" else TEXT
    )


#: Statuses seen per test, so a test can check it reached past the first check (see _outcomes).
OUTCOMES: Counter[str] = Counter()


def expect_handled(call: Callable[[], Any]) -> Any:
    """Runs one call; any status outside ALLOWED fails, and INVALID_ARGUMENT must name its field."""
    try:
        result = call()
        OUTCOMES["OK"] += 1
        return result
    except grpc.RpcError as err:
        code, details = err.code(), err.details()
        OUTCOMES[code.name] += 1
        assert code in ALLOWED, f"{code.name}: {details}"
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            fields = _field_violations(err)
            assert fields, f"INVALID_ARGUMENT without a field violation: {details}"
            OUTCOMES["field " + fields[0]] += 1
        return err


def _field_violations(err: Any) -> list[str]:
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                br = error_details_pb2.BadRequest()
                if detail.Unpack(br):
                    return [v.field for v in br.field_violations]
    return []


def _read_some(call: Any, n: int = 1) -> None:
    """Reads up to ``n`` messages of a server stream, then ends it (a stream that is still open is fine)."""
    try:
        for i, _ in enumerate(call):
            if i + 1 >= n:
                break
    finally:
        call.cancel()


def _read_until_deadline(call: Any) -> None:
    """Reads a server stream until its deadline ends it: a stream still open then is a healthy one."""
    try:
        for _ in call:
            pass
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise


def _no_logged_errors(live: LiveServer) -> None:
    records = live.errors.records  # type: ignore[attr-defined]
    assert not records, "\n".join(r.getMessage() + "\n" + (logging.Formatter().formatException(r.exc_info)
                                                           if r.exc_info else "") for r in records)  # fmt: skip


# ---- the properties ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _outcomes(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Per test: the statuses seen (printed with -s); afterwards, no error may have been logged."""
    OUTCOMES.clear()
    yield OUTCOMES
    print(f"\n{request.node.name}: {dict(OUTCOMES)}")
    if "live" in request.fixturenames:
        _no_logged_errors(request.getfixturevalue("live"))


def _reached(outcomes: Counter[str], *codes: str) -> None:
    """The examples got past the first check: each of ``codes`` came back at least once."""
    missing = [c for c in codes if not outcomes[c]]
    assert not missing, f"no example ended {missing}: the strategies no longer reach that far ({dict(outcomes)})"


def test_sensor_streams(live: LiveServer, session_id: str, _outcomes: Counter[str]) -> None:
    @settings(FUZZ, max_examples=2 * EXAMPLES)  # the largest surface: frames
    @given(
        config=sensor_configs(),
        sid=_session_ids(session_id),
        config_first=st.sampled_from([True] * 9 + [False]),
        payloads=st.lists(sensor_requests(), min_size=1, max_size=3),
    )
    def run(config: sensor_pb2.SensorStreamConfig, sid: str, config_first: bool, payloads: list[Message]) -> None:
        config.session_id = sid
        first = [sensor_pb2.StreamSensorDataRequest(config=config)] if config_first else []
        expect_handled(lambda: live.sensor.StreamSensorData(iter(first + payloads), timeout=CALL_TIMEOUT_S))

    run()
    _reached(_outcomes, "OK", "INVALID_ARGUMENT")


def test_sessions(live: LiveServer, _outcomes: Counter[str]) -> None:
    @FUZZ
    @given(request=messages(session_pb2.CreateSessionRequest), other=TEXT)
    def run(request: session_pb2.CreateSessionRequest, other: str) -> None:
        created = expect_handled(lambda: live.sessions.CreateSession(request, timeout=CALL_TIMEOUT_S))
        if isinstance(created, session_pb2.CreateSessionResponse):
            live.sessions.CloseSession(session_pb2.CloseSessionRequest(session_id=created.session.session_id))
        for method, req in (
            (live.sessions.GetSession, session_pb2.GetSessionRequest(session_id=other)),
            (live.sessions.CloseSession, session_pb2.CloseSessionRequest(session_id=other)),
        ):
            expect_handled(lambda m=method, r=req: m(r, timeout=CALL_TIMEOUT_S))

    run()
    _reached(_outcomes, "OK", "INVALID_ARGUMENT")


def test_scene_watches_and_positions(live: LiveServer, session_id: str, _outcomes: Counter[str]) -> None:
    @FUZZ
    @given(
        scene=messages(scene_pb2.WatchSceneRequest),
        perception=messages(perception_pb2.WatchPerceptionRequest),
        sid=_session_ids(session_id),
    )
    def run(scene: Message, perception: Message, sid: str) -> None:
        scene.session_id = perception.session_id = sid  # type: ignore[attr-defined]
        expect_handled(lambda: _read_some(live.scene.WatchScene(scene, timeout=CALL_TIMEOUT_S)))
        # Perception sends nothing until something happens: a short deadline ends a healthy stream.
        expect_handled(lambda: _read_until_deadline(live.perception.WatchPerception(perception, timeout=0.2)))

    run()
    _reached(_outcomes, "OK")


def test_raycasts_anchors_and_maps(live: LiveServer, session_id: str, _outcomes: Counter[str]) -> None:
    @FUZZ
    @given(
        ray=messages(scene_pb2.RaycastRequest),
        anchor=messages(scene_pb2.CreateAnchorRequest, special={"sora.v1.Pose": poses()}),
        delete=messages(scene_pb2.DeleteAnchorRequest),
        save=messages(scene_pb2.SaveMapRequest),
        sid=_session_ids(session_id),
        name=st.one_of(st.from_regex(r"\A[A-Za-z0-9_-]{1,8}\Z"), TEXT),
    )
    def run(ray: Any, anchor: Any, delete: Any, save: Any, sid: str, name: str) -> None:
        ray.session_id = anchor.session_id = delete.session_id = save.session_id = sid
        save.map_name = name
        expect_handled(lambda: live.scene.Raycast(ray, timeout=CALL_TIMEOUT_S))
        made = expect_handled(lambda: live.scene.CreateAnchor(anchor, timeout=CALL_TIMEOUT_S))
        if isinstance(made, scene_pb2.CreateAnchorResponse):
            delete.anchor_id = made.anchor.anchor_id
        expect_handled(lambda: live.scene.DeleteAnchor(delete, timeout=CALL_TIMEOUT_S))
        expect_handled(lambda: live.scene.ListAnchors(scene_pb2.ListAnchorsRequest(session_id=sid)))
        expect_handled(lambda: live.scene.SaveMap(save, timeout=CALL_TIMEOUT_S))
        load = scene_pb2.LoadMapRequest(session_id=sid, map_name=name)
        expect_handled(lambda: live.scene.LoadMap(load, timeout=CALL_TIMEOUT_S))

    run()
    _reached(_outcomes, "OK", "INVALID_ARGUMENT")


def test_conversations(live: LiveServer, session_id: str, _outcomes: Counter[str]) -> None:
    @FUZZ
    @given(
        config=conversation_configs(),
        sid=_session_ids(session_id),
        turns=st.lists(converse_requests(), max_size=3),
    )
    def run(config: avatar_pb2.ConversationConfig, sid: str, turns: list[Message]) -> None:
        config.session_id = sid
        config.speech_enabled = False  # speech synthesis is the slow part and not input handling
        requests = [avatar_pb2.ConverseRequest(config=config), *turns]
        expect_handled(lambda: list(live.avatar.Converse(iter(requests), timeout=CALL_TIMEOUT_S)))

    run()
    _reached(_outcomes, "OK", "INVALID_ARGUMENT")


def test_the_server_still_serves_another_client(live: LiveServer, tum_frames: list[Any]) -> None:
    """After every test above: health, a fresh session, and a real TUM frame fused in it."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from sora_sdk.client import encode_sensor_item

    health = health_pb2_grpc.HealthStub(live.channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    sid = live.new_session()
    config = sensor_pb2.StreamSensorDataRequest(
        config=sensor_pb2.SensorStreamConfig(session_id=sid, ingest_mode=sensor_pb2.INGEST_MODE_LOSSLESS)
    )
    frame = encode_sensor_item(tum_frames[0], color="jpeg", depth="png")
    response = live.sensor.StreamSensorData(iter([config, frame]), timeout=CALL_TIMEOUT_S)
    assert response.frames_integrated == 1
    scene = live.scene.GetScene(scene_pb2.GetSceneRequest(session_id=sid, include_mesh=True))
    assert len(scene.chunks) > 0
