"""Session lifecycle, capabilities, health and reflection on a real server."""

from __future__ import annotations

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from sora_sdk import NotFoundError
from sora_sdk.client import SoraClient
from sora_sdk.server import SERVICE_NAMES


async def test_create_get_list_close(client: SoraClient) -> None:
    a = await client.create_session(display_name="kitchen", user_id="ana", space_id="home/kitchen", voxel_size_m=0.03)
    b = await client.create_session(display_name="desk")
    assert a.session_id != b.session_id
    assert a.info.options.voxel_size_m == pytest.approx(0.03)
    assert a.info.options.depth_max_m > 0  # server default filled in
    listed = [s.session_id for s in await client.list_sessions()]
    assert listed == [a.session_id, b.session_id]
    got = await client.session(a.session_id)
    assert (got.info.user_id, got.info.space_id) == ("ana", "home/kitchen")
    await a.close()
    with pytest.raises(NotFoundError):
        await client.session(a.session_id)
    assert [s.session_id for s in await client.list_sessions()] == [b.session_id]


async def test_closing_a_session_ends_its_streams(client: SoraClient) -> None:
    session = await client.create_session()
    stream = session.watch_scene(auto_resume=False)
    first = await stream.__anext__()
    assert first.kind == "snapshot_begin" and first.snapshot_complete
    other = await client.create_session()
    await session.close()
    with pytest.raises(NotFoundError):
        await stream.__anext__()
    assert (await client.session(other.session_id)).session_id == other.session_id


async def test_capabilities_health_and_reflection(server, client: SoraClient) -> None:
    caps = await client.capabilities()
    assert caps.api_version == "sora.v1"
    assert caps.device in (1, 2)
    components = {b.component for b in caps.backends if b.active}
    assert {"mapping", "dialogue"} <= components
    assert await client.health() == "SERVING"
    for name in SERVICE_NAMES:
        assert await client.health(name) == "SERVING"
    stub = reflection_pb2_grpc.ServerReflectionStub(client.channel)

    async def ask():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    async for resp in stub.ServerReflectionInfo(ask()):
        names = {s.name for s in resp.list_services_response.service}
        break
    assert {
        "sora.v1.SessionService",
        "sora.v1.SensorService",
        "sora.v1.SceneService",
        "sora.v1.PerceptionService",
        "sora.v1.AvatarService",
        "grpc.health.v1.Health",
    } <= names


async def test_draining_server_reports_not_serving_and_ends_streams_resumably(tum_frames) -> None:
    from sora_sdk.server import create_server
    from tests.conftest import test_config

    running = await create_server(test_config())
    async with SoraClient(f"127.0.0.1:{running.port}") as client:
        session = await client.create_session()
        stream = session.watch_scene(auto_resume=False)
        await stream.__anext__()
        await running.health.enter_graceful_shutdown()
        assert await client.health() == "NOT_SERVING"
        await running.stop(0.5)
        from sora_sdk import UnavailableError

        with pytest.raises((UnavailableError, grpc.aio.AioRpcError)) as info:
            await stream.__anext__()
        if isinstance(info.value, UnavailableError):
            assert info.value.reason == "SERVER_DRAINING"
