"""Map work runs on lower-priority threads, so a saturated CPU serves the event loop's streams first.

The effect on latency is measured by ``sora bench load`` (docs/performance.md); here, with the map in
the server's process (``server.map_process = false``; the map process is tests/server/test_map_process.py),
that the threads which fuse and mesh a session's frames really run at ``server.background_nice`` above
the server's own niceness, and that the threads serving calls do not.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from sora_sdk.client import SoraClient
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.server import create_server
from tests.conftest import test_config

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")


def _nice(native_id: int) -> int:
    """A thread's niceness, from /proc (field 19 of its stat line, after the parenthesised name)."""
    stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def _threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.native_id is not None]


async def test_fusion_and_meshing_run_below_the_servers_priority(tum_frames: list[CameraFrame]) -> None:
    server = await create_server(test_config(server={"map_process": False}))
    try:
        async with SoraClient(f"127.0.0.1:{server.port}") as client:
            await _check(server, client, tum_frames)
    finally:
        await server.stop(0.2)


async def _check(server, client: SoraClient, tum_frames: list[CameraFrame]) -> None:  # type: ignore[no-untyped-def]
    base = os.getpriority(os.PRIO_PROCESS, 0)
    want = min(19, base + server.config.server.background_nice)
    assert server.config.server.background_nice > 0
    session = await client.create_session(display_name="nice")
    summary = await session.stream_frames(tum_frames[:4], lossless=True, color_encoding="raw", depth_encoding="raw")
    assert summary.frames_integrated == 4
    await session.get_scene(include_mesh=True)

    background = _threads("sora-map")
    assert background, "no map thread ran"
    assert {_nice(t.native_id) for t in background} == {want}  # type: ignore[arg-type]
    # The threads that serve calls a client waits on keep the server's priority.
    await session.raycast((0.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    serving = _threads("sora-work")
    assert serving and {_nice(t.native_id) for t in serving} == {base}  # type: ignore[arg-type]
