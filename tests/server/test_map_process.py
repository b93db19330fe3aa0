"""The sessions' maps live in a map process of their own (``server.map_process``): fusion, meshing,
planes and objects do not hold the serving process's GIL, they run below the server's priority, and a
map process that dies (a native crash in a map library) is replaced while the server keeps serving:
each session comes back from its last autosave, keeping the anchors it holds.

The latency this buys is measured by ``sora bench load`` (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sora_sdk import SoraError
from sora_sdk.client import SoraClient
from sora_sdk.core.geometry import Pose
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.server import SoraServer, create_server
from tests.conftest import test_config

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
    pytest.mark.timeout(240),
]
RAW = {"lossless": True, "color_encoding": "raw", "depth_encoding": "raw"}


def _thread_stat(pid: int, field: int) -> set[int]:
    """Field ``field`` (1-based, as in proc(5)) of the stat line of every thread of process ``pid``."""
    return {int(p.read_text().rsplit(")", 1)[1].split()[field - 3]) for p in Path(f"/proc/{pid}/task").glob("*/stat")}


def _thread_nice(pid: int) -> set[int]:
    return _thread_stat(pid, 19)


def _thread_policies(pid: int) -> set[int]:
    return _thread_stat(pid, 41)


async def test_the_map_runs_in_a_process_of_its_own_below_the_servers_priority(
    server: SoraServer, client: SoraClient, tum_frames: list[CameraFrame]
) -> None:
    assert server.config.server.map_process and server.maps is not None
    session = await client.create_session(display_name="map process")
    summary = await session.stream_frames(tum_frames[:4], **RAW)
    assert summary.frames_integrated == 4
    scene = await session.get_scene(include_mesh=True)
    assert len(scene.chunks) > 0 and len(scene.planes) > 0
    pid = server.maps.pid
    assert pid is not None and pid != os.getpid()
    want = min(19, os.getpriority(os.PRIO_PROCESS, 0) + server.config.server.background_nice)
    assert _thread_nice(pid) == {want}
    # And, by default, after every normal thread on the host: a woken stream's thread preempts them at once.
    assert server.config.server.map_sched_idle
    assert _thread_policies(pid) == {os.SCHED_IDLE}
    # A raycast is answered by the map process, from the serving process's executor.
    pose = tum_frames[3].pose_world_camera
    hit = await session.raycast(pose.translation, pose.rotation[:, 2])
    assert hit is not None and 0.3 < hit.distance_m < 4.0


def _keys(scene) -> set[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    return {(c.block.x, c.block.y, c.block.z) for c in scene.chunks}


async def _saved(server: SoraServer, session_id: str, timeout_s: float = 30.0) -> None:
    """Waits until the session's autosave holds its current scene."""
    live = server.sessions.get(session_id)
    deadline = time.monotonic() + timeout_s
    while live.saved_position != live.scene.position:
        assert time.monotonic() < deadline, "no autosave"
        await asyncio.sleep(0.1)


async def test_a_killed_map_process_is_replaced_and_each_session_comes_back_from_its_autosave(
    tum_frames: list[CameraFrame],
) -> None:
    running = await create_server(test_config(session={"autosave_interval_s": 0.3}))
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            saved = await client.create_session(display_name="saved")
            await saved.stream_frames(tum_frames[:4], **RAW)
            await _saved(running, saved.session_id)
            before = await saved.get_scene(include_mesh=True)
            # An anchor made after the autosave: it lives in the serving process and must survive too.
            anchor = await saved.create_anchor(pose_world_anchor=Pose.identity(), label="kept")
            other = await client.create_session(display_name="other")
            await other.stream_frames(tum_frames[:2], **RAW)

            assert running.maps is not None
            old = running.maps.pid
            assert old is not None
            os.kill(old, signal.SIGKILL)
            # The server keeps serving: calls that need the lost map fail with UNAVAILABLE, nothing else.
            deadline = time.monotonic() + 60
            while True:
                assert time.monotonic() < deadline, "the session's map did not come back"
                try:
                    await saved.raycast((0.0, 0.0, 0.0), (0.0, 0.0, 1.0))
                except SoraError as exc:
                    assert exc.reason == "MAP_PROCESS_EXITED", exc
                scene = await saved.get_scene(include_mesh=True)
                if scene.position.epoch != before.position.epoch and len(scene.planes) > 0:
                    break  # the autosave's chunks, then its planes (a version of their own)
                await asyncio.sleep(0.2)
            assert running.maps.pid not in (None, old)
            # What the autosave held: the same chunks and planes; the newer anchor kept.
            assert _keys(scene) == _keys(before)
            assert sorted(p.plane_id for p in scene.planes) == sorted(p.plane_id for p in before.planes)
            assert [a.anchor_id for a in scene.anchors] == [anchor.anchor_id]
            # The session maps again, on the new process.
            more = await saved.stream_frames(tum_frames[4:6], **RAW)
            assert more.frames_integrated == 2
            # The session without an autosave yet (or with one) is back too, and maps.
            await other.stream_frames(tum_frames[2:3], **RAW)
            assert running.sessions.get(other.session_id).stats.frames_integrated >= 1
    finally:
        await running.stop(0.2)


async def test_the_map_can_stay_in_the_servers_process(tum_frames: list[CameraFrame]) -> None:
    """``server.map_process = false``: the same pipeline on the server's background threads."""
    running = await create_server(test_config(server={"map_process": False}))
    try:
        assert running.maps is None
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            session = await client.create_session()
            summary = await session.stream_frames(tum_frames[:4], **RAW)
            assert summary.frames_integrated == 4
            scene = await session.get_scene(include_mesh=True)
            assert len(scene.chunks) > 0 and len(scene.planes) > 0
            pose = tum_frames[3].pose_world_camera
            hit = await session.raycast(pose.translation, pose.rotation[:, 2])
            assert hit is not None and np.isfinite(hit.distance_m)
    finally:
        await running.stop(0.2)
