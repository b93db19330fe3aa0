"""How often a live session's map work runs: plane updates at most every ``mapper.planes_interval_s``,
REALTIME fusion at most ``mapper.realtime_fusion_hz`` frames a second (the newest frame of each
stream wins), LOSSLESS frames never held back. Real frames (TUM fr1/desk) through a real server.

These caps are what keeps a busy session's map from taking every core the host has: without them
the map absorbs all spare CPU (docs/performance.md, load bench), and the serving threads wait.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time

from sora_sdk.client import SoraClient
from sora_sdk.server import create_server
from tests.conftest import test_config


def _paced(frames: list, count: int, period_s: float, sent: list[float] | None = None):
    """``count`` frames cycling through ``frames`` with fresh sequences and capture times, one every
    ``period_s`` (an async iterator, as a live device sends them); appends to ``sent`` when the last
    one has gone."""

    async def gen():
        t0 = frames[0].capture_time_s
        for i in range(count):
            f = frames[i % len(frames)]
            yield dataclasses.replace(f, sequence=i + 1, capture_time_s=t0 + 0.1 * i)
            await asyncio.sleep(period_s)
        if sent is not None:
            sent.append(time.monotonic())

    return gen()


async def test_planes_update_at_most_every_interval_while_frames_stream_and_at_once_at_the_end(tum_frames) -> None:
    interval = 1.0
    cfg = test_config(mapper={"planes_interval_s": interval, "mesh_interval_s": 0.25}, objects={"enabled": False})
    running = await create_server(cfg)
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            session = await client.create_session()
            live = running.sessions.get(session.session_id)
            assert live is not None
            plane_times: list[float] = []  # when each plane update started, on the server's loop
            chunk_times: list[float] = []
            update_planes = live._update_planes

            async def timed_update_planes(*args, **kwargs):
                plane_times.append(time.monotonic())
                return await update_planes(*args, **kwargs)

            live._update_planes = timed_update_planes

            async def watch() -> None:
                async for u in session.watch_scene(include_mesh=True):
                    if u.kind == "delta" and u.message.upserted_chunks:
                        chunk_times.append(time.monotonic())

            watcher = asyncio.create_task(watch())
            await asyncio.sleep(0.2)
            # ~4 s of frames, as a device sends them: the mesh is updated every 0.25 s meanwhile.
            sent: list[float] = []
            await session.stream_frames(
                _paced(tum_frames, 40, 0.1, sent), lossless=True, color_encoding="raw", depth_encoding="raw"
            )
            scene = await session.get_scene()
            planes = await live._map.call("planes")  # what the plane tracker holds, in the map process
            await asyncio.sleep(0.3)
            watcher.cancel()
    finally:
        await running.stop(0.2)

    # The mesh changed several times a second; while frames streamed, plane updates started no more
    # than once per interval (the end of the stream then brings the last one forward).
    assert len(chunk_times) >= 8, chunk_times
    streaming = [t for t in plane_times if t < sent[0]]
    assert len(streaming) >= 3, (plane_times, sent)
    gaps = [b - a for a, b in itertools.pairwise(streaming)]
    assert min(gaps) >= interval - 0.01, gaps
    assert len(plane_times) < len(chunk_times)
    # At the end the published planes are the tracker's, with nothing left to segment.
    assert not live._planes_changed
    assert {p.plane_id for p in scene.planes} == {p.plane_id for p in planes}


async def test_realtime_fusion_is_capped_the_newest_frame_of_each_stream_wins_and_lossless_is_not_held(
    tum_frames,
) -> None:
    hz = 4.0
    running = await create_server(test_config(mapper={"realtime_fusion_hz": hz}, objects={"enabled": False}))
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            session = await client.create_session()
            live = running.sessions.get(session.session_id)
            assert live is not None
            fused: list[tuple[float, str]] = []  # (when its fusion started, stream), on the server's loop
            integrate = live._integrate

            async def timed_integrate(frame, stream=""):
                fused.append((time.monotonic(), stream))
                return await integrate(frame, stream)

            live._integrate = timed_integrate
            count = 90  # two devices at 30 frames a second for 3 s
            kw = dict(lossless=False, color_encoding="raw", depth_encoding="raw")
            t_live = time.monotonic()
            realtime = asyncio.gather(
                session.stream_frames(_paced(tum_frames, count, 1 / 30), stream_name="left", **kw),
                session.stream_frames(_paced(tum_frames, count, 1 / 30), stream_name="right", **kw),
            )
            # Meanwhile a LOSSLESS stream (a replay): its frames go before waiting REALTIME ones and
            # it ends without waiting for the live streams' frames.
            await asyncio.sleep(0.5)
            lossless = await session.stream_frames(tum_frames[:3], stream_name="replay", color_encoding="raw",
                                                   depth_encoding="raw")  # fmt: skip
            realtime_running = not realtime.done()
            await realtime
            t_live_end = time.monotonic()
            # The last frame of each live stream waits its turn, then is fused.
            deadline = time.monotonic() + 10.0
            while live.fused_sequences.get("right", 0) < count or live.fused_sequences.get("left", 0) < count:
                assert time.monotonic() < deadline, live.fused_sequences
                await asyncio.sleep(0.05)
            drops = dict(live.stats.drops)
            summary = await session.stream_frames(tum_frames[3:4], stream_name="replay2", color_encoding="raw",
                                                  depth_encoding="raw")  # fmt: skip
    finally:
        await running.stop(0.2)

    assert lossless.frames_integrated == 3
    assert realtime_running, "the LOSSLESS stream waited for the REALTIME streams to end"
    # REALTIME fusions started no more often than the cap allows.
    times = [t for t, stream in fused if stream in ("left", "right")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) >= 5 and min(gaps) >= 1 / hz - 0.05, (len(times), gaps)
    while_live = [t for t in times if t <= t_live_end]
    assert len(while_live) <= hz * (t_live_end - t_live) + 1, (len(while_live), t_live_end - t_live)
    assert len(times) - len(while_live) <= 2  # then the last frame of each stream
    # The other live frames were replaced in the queue by a newer one of their stream (FUSION_RATE,
    # reported through the proto in an ingest summary). The queue (4 frames) overflows only while
    # the replay's frames fill it: a live frame then falls off as QUEUE_FULL.
    assert drops.get("queue_full", 0) <= 0.1 * drops["fusion_rate"], drops
    assert drops["fusion_rate"] + drops.get("queue_full", 0) + len(times) == 2 * count, (drops, len(times))
    assert summary.drops.get("fusion_rate") == drops["fusion_rate"]
