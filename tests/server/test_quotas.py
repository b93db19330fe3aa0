"""Per-client quotas on a real server: the client over a limit gets RESOURCE_EXHAUSTED naming the quota and
its limit, another client streams fine at the same moment, and rate limits recover after their window."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2, status_pb2

from sora_sdk import ResourceExhaustedError
from sora_sdk.client import SoraClient
from sora_sdk.core.config import ServerConfig
from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.server import SoraServer, create_server
from sora_sdk.server._quota import QuotaLimits, Quotas, TokenBucket, client_key
from tests.conftest import ANA, BEN, auth_config, test_config


def _frames(n: int, *, start: int = 0, size: tuple[int, int] = (32, 24)) -> list[CameraFrame]:
    """Small depth-only frames of a wall 1 m ahead: cheap to send and to fuse."""
    w, h = size
    intr = Intrinsics(w, h, float(w), float(w), w / 2, h / 2)
    depth = np.full((h, w), 1000, np.uint16)
    return [
        CameraFrame(start + i, 0.1 * (start + i), intr, Pose.identity(), None, depth) for i in range(n)
    ]  # fmt: skip


@contextlib.asynccontextmanager
async def _server(tmp_path: Path, **server: object) -> AsyncIterator[SoraServer]:
    running = await create_server(auth_config(tmp_path, **server))
    try:
        yield running
    finally:
        await running.stop(0.2)


def _quota_of(err: ResourceExhaustedError) -> str:
    assert err.reason == "QUOTA_EXCEEDED", err
    return err.metadata["quota"]


async def _first_update(stream: AsyncIterator[object]) -> None:
    await asyncio.wait_for(stream.__anext__(), 10)


# ---- real server ------------------------------------------------------------------------------


async def test_frame_rate_quota_stops_one_client_only_and_recovers(tmp_path: Path) -> None:
    async with (
        _server(tmp_path, quota_frames_per_s=5.0, quota_burst_s=1.0) as running,
        SoraClient(f"127.0.0.1:{running.port}", token=ANA) as ana,
        SoraClient(f"127.0.0.1:{running.port}", token=BEN) as ben,
    ):
        mine, theirs = await ana.create_session(), await ben.create_session()

        async def ben_streams() -> int:
            summary = await theirs.stream_frames(_frames(4), lossless=True, depth_encoding="raw")
            return summary.frames_integrated

        # Ana sends 30 frames at once (the bucket holds 5); Ben sends 4 at the same moment.
        over, fused = await asyncio.gather(
            mine.stream_frames(_frames(30), lossless=False, depth_encoding="raw"), ben_streams(), return_exceptions=True
        )
        assert isinstance(over, ResourceExhaustedError), over
        assert _quota_of(over) == "server.quota_frames_per_s"
        assert "server.quota_frames_per_s = 5" in over.message and "frames/s" in over.message
        assert 0 < float(over.metadata["retry_after_s"]) <= 1.0
        assert fused == 4

        # The window passes: Ana's bucket refills and her frames go through again.
        await asyncio.sleep(1.1)
        summary = await mine.stream_frames(_frames(4, start=100), lossless=True, depth_encoding="raw")
        assert summary.frames_integrated == 4


async def test_ingest_byte_quota_names_its_limit_in_the_status_details(tmp_path: Path) -> None:
    limit = 50_000  # bytes/s; a raw 160x120 uint16 frame is ~38 kB
    async with (
        _server(tmp_path, quota_ingest_bytes_per_s=limit, quota_burst_s=1.0) as running,
        SoraClient(f"127.0.0.1:{running.port}", token=ANA) as ana,
        SoraClient(f"127.0.0.1:{running.port}", token=BEN) as ben,
    ):
        mine, theirs = await ana.create_session(), await ben.create_session()
        big = _frames(6, size=(160, 120))
        results = await asyncio.gather(
            mine.stream_frames(big, lossless=False, depth_encoding="raw"),
            theirs.stream_frames(_frames(3), lossless=True, depth_encoding="raw"),
            return_exceptions=True,
        )
        over, fine = results
        assert isinstance(over, ResourceExhaustedError), over
        assert _quota_of(over) == "server.quota_ingest_bytes_per_s"
        assert over.metadata["limit"] == str(limit)
        assert not isinstance(fine, BaseException) and fine.frames_integrated == 3

        # The raw status: ErrorInfo + QuotaFailure + RetryInfo (google.rpc), for non-SDK clients.
        from sora_sdk._proto.sora.v1 import sensor_pb2, sensor_pb2_grpc
        from sora_sdk.client import encode_sensor_item

        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = sensor_pb2_grpc.SensorServiceStub(channel)
            config = sensor_pb2.StreamSensorDataRequest(
                config=sensor_pb2.SensorStreamConfig(session_id=mine.session_id)
            )
            frames = [encode_sensor_item(f, depth="raw") for f in _frames(6, start=50, size=(160, 120))]
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.StreamSensorData(iter([config, *frames]), metadata=(("authorization", f"Bearer {ANA}"),))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        details = dict(info.value.trailing_metadata())["grpc-status-details-bin"]
        kinds = {}
        for any_msg in status_pb2.Status.FromString(details).details:
            for cls in (error_details_pb2.ErrorInfo, error_details_pb2.QuotaFailure, error_details_pb2.RetryInfo):
                item = cls()
                if any_msg.Unpack(item):
                    kinds[cls.__name__] = item
        assert kinds["ErrorInfo"].metadata["quota"] == "server.quota_ingest_bytes_per_s"
        assert kinds["QuotaFailure"].violations[0].subject == "server.quota_ingest_bytes_per_s"
        assert kinds["RetryInfo"].retry_delay.ToNanoseconds() > 0


async def test_concurrent_stream_quota_is_per_client(tmp_path: Path) -> None:
    async with (
        _server(tmp_path, quota_streams_per_client=2) as running,
        SoraClient(f"127.0.0.1:{running.port}", token=ANA) as ana,
        SoraClient(f"127.0.0.1:{running.port}", token=BEN) as ben,
    ):
        mine, theirs = await ana.create_session(), await ben.create_session()
        first, second = mine.watch_scene(auto_resume=False), mine.watch_perception(auto_resume=False)
        await _first_update(first)
        # WatchPerception sends nothing until something happens: give the server a moment to count it.
        pending = asyncio.ensure_future(second.__anext__())  # cancelling it ends the call
        await asyncio.sleep(0.3)
        with pytest.raises(ResourceExhaustedError) as info:
            await _first_update(mine.watch_scene(auto_resume=False))
        assert _quota_of(info.value) == "server.quota_streams_per_client"
        assert "= 2 streams per client" in info.value.message
        # Ben, at the same moment, streams and watches.
        ben_watch = theirs.watch_scene(auto_resume=False)
        await _first_update(ben_watch)
        assert (await theirs.stream_frames(_frames(2), lossless=True, depth_encoding="raw")).frames_integrated == 2
        await ben_watch.aclose()
        # Ana ends one stream; its slot comes back.
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pending
        await asyncio.sleep(0.3)
        assert (await mine.stream_frames(_frames(2), lossless=True, depth_encoding="raw")).frames_integrated == 2
        await first.aclose()


async def test_subscription_quota_is_per_session(tmp_path: Path) -> None:
    async with (
        _server(tmp_path, quota_subscriptions_per_session=2) as running,
        SoraClient(f"127.0.0.1:{running.port}", token=ANA) as ana,
        SoraClient(f"127.0.0.1:{running.port}", token=BEN) as ben,
    ):
        busy, other = await ana.create_session(), await ana.create_session()
        watchers = [busy.watch_scene(auto_resume=False) for _ in range(2)]
        for w in watchers:
            await _first_update(w)
        with pytest.raises(ResourceExhaustedError) as info:
            await _first_update(busy.watch_scene(auto_resume=False))
        assert _quota_of(info.value) == "server.quota_subscriptions_per_session"
        conversation = busy.converse()
        with pytest.raises(ResourceExhaustedError):
            await conversation.turn("hello")
        # Another session of the same client, and another client's session, are unaffected.
        await _first_update(other.watch_scene(auto_resume=False))
        theirs = await ben.create_session()
        await _first_update(theirs.watch_scene(auto_resume=False))
        # A subscription that ends frees its place.
        await watchers.pop().aclose()
        await asyncio.sleep(0.3)
        again = busy.watch_scene(auto_resume=False)
        await _first_update(again)
        await again.aclose()
        assert running.quotas is not None and running.quotas.sessions_tracked <= 3


async def test_without_auth_clients_are_told_apart_by_address(tmp_path: Path) -> None:
    running = await create_server(test_config(server={"quota_streams_per_client": 1}))
    try:
        async with (
            SoraClient(f"127.0.0.1:{running.port}") as one,
            SoraClient(f"127.0.0.1:{running.port}") as two,
        ):
            session = await one.create_session()
            watch = session.watch_scene(auto_resume=False)
            await _first_update(watch)
            # Another connection from the same address shares the quota: a new port buys nothing.
            other = await two.session(session.session_id)
            with pytest.raises(ResourceExhaustedError) as info:
                await _first_update(other.watch_scene(auto_resume=False))
            assert _quota_of(info.value) == "server.quota_streams_per_client"
            await watch.aclose()
            await asyncio.sleep(0.3)
            await _first_update(other.watch_scene(auto_resume=False))
            # Unary calls hold no stream.
            assert await two.health() == "SERVING"
            assert (await other.refresh()).session_id == session.session_id
    finally:
        await running.stop(0.2)


# ---- the quota book -------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_bursts_then_holds_the_rate() -> None:
    b = TokenBucket(rate=10.0, capacity=20.0, now=0.0)
    assert all(b.take(1, 0.0) == 0.0 for _ in range(20))
    wait = b.take(1, 0.0)
    assert wait == pytest.approx(0.1)
    assert b.take(1, 0.1) == 0.0  # one token back after 0.1 s
    assert b.take(1, 0.1) > 0
    # A cost above the capacity passes when full, leaving the bucket in debt.
    assert b.take(1, 100.0) == 0.0
    assert b.take(500, 100.0) > 0  # not full now
    b2 = TokenBucket(rate=10.0, capacity=20.0, now=0.0)
    assert b2.take(500, 0.0) == 0.0 and b2.tokens < 0
    assert b2.take(1, 1.0) > 0


def test_the_book_forgets_idle_clients_but_not_active_ones() -> None:
    clock = _Clock()
    quotas = Quotas(QuotaLimits(streams_per_client=2, frames_per_s=10.0), clock=clock, idle_expiry_s=60.0)
    held = quotas.open_stream("peer:ipv4:10.0.0.1")
    for i in range(5000):
        quotas.charge_ingest(f"peer:ipv4:10.1.{i // 250}.{i % 250}", frames=1, nbytes=100)
    assert len(quotas) == 5001
    clock.now += 61.0
    quotas.charge_ingest("peer:ipv4:10.9.9.9", frames=1, nbytes=100)  # any call sweeps
    assert len(quotas) == 2  # the stream holder and the newcomer
    held.release()
    held.release()  # idempotent
    clock.now += 61.0
    quotas.open_stream("peer:ipv4:10.9.9.8").release()
    assert len(quotas) == 1


def test_a_reconnecting_client_keeps_its_drained_bucket() -> None:
    clock = _Clock()
    quotas = Quotas(QuotaLimits(frames_per_s=2.0, burst_s=1.0), clock=clock)
    lease = quotas.open_stream("principal:ana")
    quotas.charge_ingest("principal:ana", frames=1, nbytes=10)
    quotas.charge_ingest("principal:ana", frames=1, nbytes=10)
    lease.release()
    quotas.open_stream("principal:ana")
    with pytest.raises(ResourceExhaustedError):
        quotas.charge_ingest("principal:ana", frames=1, nbytes=10)
    clock.now += 0.5
    quotas.charge_ingest("principal:ana", frames=1, nbytes=10)


def test_zero_turns_a_limit_off() -> None:
    quotas = Quotas(QuotaLimits.from_config(ServerConfig(quota_streams_per_client=0, quota_frames_per_s=0.0,
                                                         quota_ingest_bytes_per_s=0,
                                                         quota_subscriptions_per_session=0)))  # fmt: skip
    for _ in range(1000):
        quotas.open_stream("peer:x")
        quotas.subscribe("s")
        quotas.charge_ingest("peer:x", frames=1, nbytes=1 << 30)


def test_defaults_do_not_throttle_a_headset() -> None:
    s = ServerConfig()
    assert s.quota_streams_per_client >= 4  # sensor + scene + perception + converse
    assert s.quota_frames_per_s >= 2 * 30  # two 30 Hz cameras
    assert s.quota_ingest_bytes_per_s >= 30 * 640 * 480 * 5  # raw RGB + uint16 depth at VGA, 30 Hz
    assert s.quota_subscriptions_per_session >= 3


class _Context:
    def __init__(self, peer: str, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self._peer, self._metadata = peer, metadata

    def peer(self) -> str:
        return self._peer

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


def test_client_key_drops_the_port() -> None:
    assert client_key(_Context("ipv4:10.0.0.7:51234"), None) == "peer:ipv4:10.0.0.7"
    assert client_key(_Context("ipv6:[::1]:51234"), None) == "peer:ipv6:[::1]"
    assert client_key(_Context("ipv6:%5B::1%5D:51234"), None) == "peer:ipv6:%5B::1%5D"
    assert client_key(_Context("unix:/tmp/sock"), None) == "peer:unix:/tmp/sock"
