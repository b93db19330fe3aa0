"""Real frames through a real server: ingest, snapshot + ordered deltas, resume, idempotent retries."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sora_sdk.client import SceneMirror, SoraClient
from sora_sdk.core.scene import StreamPosition
from sora_sdk.server import SoraServer


async def _follow(session, mirror: SceneMirror, stop_at: int | None = None, **kw) -> None:
    async for update in session.watch_scene(**kw):
        mirror.apply(update)
        if stop_at is not None and update.position.sequence >= stop_at and update.kind == "delta":
            return


async def _wait_for(mirror: SceneMirror, sequence: int, timeout_s: float = 10.0) -> None:
    async def until() -> None:
        while mirror.position is None or mirror.position.sequence < sequence:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(until(), timeout_s)


def _assert_mirror_equals_scene(mirror: SceneMirror, scene) -> None:
    from sora_sdk.client import decode_chunk

    server_chunks = {(c.block.x, c.block.y, c.block.z): decode_chunk(c) for c in scene.chunks}
    assert set(mirror.chunks) == set(server_chunks)
    for key, chunk in server_chunks.items():
        mine = mirror.chunks[key]
        assert mine.version == chunk.version
        assert mine.triangle_count == chunk.triangle_count
        np.testing.assert_array_equal(mine.vertices, chunk.vertices)


async def test_tum_frames_build_a_mesh_seen_identically_by_a_subscriber(client: SoraClient, tum_frames) -> None:
    session = await client.create_session(display_name="tum desk")
    mirror = SceneMirror()
    watcher = asyncio.create_task(_follow(session, mirror))
    summary = await session.stream_frames(tum_frames, lossless=True, color_encoding="png", depth_encoding="png")
    assert summary.frames_integrated == len(tum_frames) == 9
    assert summary.drops == {}
    await _wait_for(mirror, summary.scene_position.sequence)
    watcher.cancel()
    assert mirror.snapshots == 1 and mirror.deltas >= 1
    # The desk scene spans about 2 m; at 2 cm voxels it is thousands of triangles in tens of chunks.
    assert len(mirror.chunks) >= 20
    assert mirror.triangle_count >= 10_000
    v, _, _ = mirror.mesh_arrays()
    # Every vertex lies within the depth range of some camera (4 m) of the trajectory.
    cams = np.stack([f.pose_world_camera.translation for f in tum_frames])
    d = np.linalg.norm(v[:, None, :] - cams[None, :, :], axis=2).min(axis=1)
    assert d.max() < 4.0 + 0.32 * np.sqrt(3)
    _assert_mirror_equals_scene(mirror, await session.get_scene(include_mesh=True))
    info = await session.refresh()
    assert info.stats.frames_integrated == 9 and info.stats.mesh_chunks == len(mirror.chunks)


async def test_redwood_frames_with_jpeg_colour_and_raw_depth(client: SoraClient, redwood_frames) -> None:
    session = await client.create_session()
    summary = await session.stream_frames(redwood_frames, lossless=True, color_encoding="jpeg", depth_encoding="raw")
    assert summary.frames_integrated == 5
    scene = await session.get_scene(include_mesh=True)
    assert len(scene.chunks) >= 20
    # Colours come from the JPEG images: the living room is not grey.
    from sora_sdk.client import decode_chunk

    colors = np.concatenate([decode_chunk(c).colors for c in scene.chunks]).astype(float)
    assert colors.std(axis=0).mean() > 10


async def test_resume_after_a_drop_gets_exactly_the_missed_versions(client: SoraClient, tum_frames) -> None:
    session = await client.create_session()
    first = SceneMirror()
    await session.stream_frames(tum_frames[:4], lossless=True, color_encoding="raw", depth_encoding="raw")
    # Subscribe, take the snapshot, then drop the connection.
    async for update in session.watch_scene():
        first.apply(update)
        if update.snapshot_complete:
            break
    dropped_at = first.position
    assert dropped_at is not None and dropped_at.sequence >= 1
    summary = await session.stream_frames(tum_frames[4:], lossless=True, color_encoding="raw", depth_encoding="raw")
    # Reconnect from the last applied position: only deltas, in order, no snapshot.
    kinds = []
    async for update in session.watch_scene(resume_from=dropped_at):
        kinds.append(update.kind)
        first.apply(update)
        if update.position.sequence >= summary.scene_position.sequence:
            break
    assert kinds and set(kinds) == {"delta"}
    assert first.snapshots == 1
    _assert_mirror_equals_scene(first, await session.get_scene(include_mesh=True))


async def test_resume_from_an_unknown_epoch_gets_a_fresh_snapshot(client: SoraClient, tum_frames) -> None:
    session = await client.create_session()
    await session.stream_frames(tum_frames[:2], lossless=True, color_encoding="raw", depth_encoding="raw")
    mirror = SceneMirror()
    async for update in session.watch_scene(resume_from=StreamPosition(epoch=12345, sequence=3)):
        mirror.apply(update)
        if update.snapshot_complete:
            break
    assert mirror.snapshots == 1
    _assert_mirror_equals_scene(mirror, await session.get_scene(include_mesh=True))


async def test_a_retried_frame_changes_nothing(client: SoraClient, tum_frames) -> None:
    session = await client.create_session()
    await session.stream_frames(tum_frames[:3], lossless=True, stream_name="cam", color_encoding="raw",
                                        depth_encoding="raw")  # fmt: skip
    before = await session.get_scene(include_mesh=True)
    # The client lost its ack and sends the same frames again on a new stream.
    again = await session.stream_frames(tum_frames[:3], lossless=True, stream_name="cam", color_encoding="raw",
                                        depth_encoding="raw")  # fmt: skip
    assert again.drops.get("duplicate") == 3
    after = await session.get_scene(include_mesh=True)
    assert (after.position.epoch, after.position.sequence) == (before.position.epoch, before.position.sequence)
    assert [c.SerializeToString() for c in after.chunks] == [c.SerializeToString() for c in before.chunks]


async def test_stalled_subscriber_is_cut_off_without_slowing_a_healthy_one(tum_frames) -> None:
    import grpc

    from sora_sdk._proto.sora.v1 import scene_pb2, scene_pb2_grpc
    from sora_sdk.server import create_server
    from tests.conftest import test_config

    running: SoraServer = await create_server(test_config(scene={"subscriber_queue_items": 8}))
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            session = await client.create_session()
            await session.stream_frames(tum_frames, lossless=True, color_encoding="raw", depth_encoding="raw")
            # A subscriber whose HTTP/2 window stays small (no BDP growth) and that never reads:
            # the server's write of its snapshot blocks.
            stalled_channel = grpc.aio.insecure_channel(
                f"127.0.0.1:{running.port}", options=[("grpc.http2.bdp_probe", 0)]
            )
            stalled = scene_pb2_grpc.SceneServiceStub(stalled_channel).WatchScene(
                scene_pb2.WatchSceneRequest(session_id=session.session_id)
            )
            await stalled.wait_for_connection()
            healthy = SceneMirror()
            ready = asyncio.Event()

            async def follow() -> None:
                async for update in session.watch_scene():
                    healthy.apply(update)
                    if update.snapshot_complete:
                        ready.set()

            watcher = asyncio.create_task(follow())
            await asyncio.wait_for(ready.wait(), 10)
            await asyncio.sleep(0.2)
            from sora_sdk.core.geometry import Pose

            latencies = []
            for i in range(20):
                t0 = asyncio.get_running_loop().time()
                await session.create_anchor(pose_world_anchor=Pose.identity(), label=f"a{i}")
                latencies.append(asyncio.get_running_loop().time() - t0)
            target = (await session.get_scene()).position.sequence
            await _wait_for(healthy, target, 5)
            watcher.cancel()
            assert len(healthy.anchors) == 20
            # Anchor creation stayed interactive while a subscriber was stalled.
            assert max(latencies) < 0.5
            # The stalled subscriber, when it reads again, finds its stream ended with a resume position.
            with pytest.raises(grpc.aio.AioRpcError) as info:
                async for _ in stalled:
                    pass
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            from sora_sdk.client import from_rpc_error

            err = from_rpc_error(info.value)
            assert err.reason == "SUBSCRIBER_TOO_SLOW"
            assert int(err.metadata["resume_epoch"]) == healthy.position.epoch
            assert 0 <= int(err.metadata["resume_sequence"]) < target
            await stalled_channel.close()
    finally:
        await running.stop(0.2)


async def test_byte_budgeted_stream_sends_nearest_chunks_first_and_converges(client: SoraClient, tum_frames) -> None:
    from sora_sdk.core.sensors import HeadPoseSample

    session = await client.create_session()
    await session.stream_frames(tum_frames, lossless=True, color_encoding="raw", depth_encoding="raw")
    head = tum_frames[0].pose_world_camera
    await session.stream_sensor_data([HeadPoseSample(100.0, head)], stream_name="head")
    scene = await session.get_scene(include_mesh=True)
    # Head gaze (no eye tracking): the head's forward ray lands on the desk; near it is a priority too.
    hit = await session.raycast(head.translation, head.rotation[:, 2])
    assert hit is not None
    points = np.stack([head.translation, [hit.point_world_m.x, hit.point_world_m.y, hit.point_world_m.z]])
    total = sum(c.ByteSize() for c in scene.chunks)
    budget = total // 4  # about four seconds of mesh at 10 messages per second
    mirror = SceneMirror()
    sizes, order = [], []
    async for update in session.watch_scene(max_mesh_bytes_per_s=budget):
        mirror.apply(update)
        sizes.append(sum(c.ByteSize() for c in update.message.upserted_chunks))
        order.extend(np.linalg.norm(c.center_world_m() - points, axis=1).min() for c in update.upserted_chunks)
        if update.snapshot_complete:
            break
    _assert_mirror_equals_scene(mirror, scene)
    # Every message stays near the per-tick budget (one chunk may exceed it on its own).
    largest = max(c.ByteSize() for c in scene.chunks)
    assert max(sizes) <= budget / 10 + largest
    assert len(sizes) >= 8
    # Nearest first: distances to the head or the gazed point never decrease across the whole stream.
    assert order == sorted(order)
