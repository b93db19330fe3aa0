"""``server.malloc_mmap_threshold_kib``: glibc's mmap threshold is fixed through mallopt.

What it does to RSS over a soak is measured by ``sora bench load`` (docs/performance.md); here, that
the call reaches glibc and is accepted, and that a server configured with it fuses, meshes and saves.
"""

from __future__ import annotations

import platform

import pytest

from sora_sdk.client import SoraClient
from sora_sdk.core._malloc import set_mmap_threshold
from sora_sdk.server import create_server
from tests.conftest import test_config

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")


@glibc
def test_glibc_takes_the_threshold() -> None:
    assert set_mmap_threshold(128)
    assert not set_mmap_threshold(0)  # 0: leave glibc's own


@glibc
async def test_a_server_with_a_fixed_threshold_fuses_meshes_and_saves(tum_frames) -> None:
    """Large arrays (frames, voxel blocks, the saved volume) then each get a mapping of their own."""
    server = await create_server(test_config(server={"malloc_mmap_threshold_kib": 256}))
    try:
        async with SoraClient(f"127.0.0.1:{server.port}") as client:
            session = await client.create_session()
            summary = await session.stream_frames(tum_frames, lossless=True)
            assert summary.frames_integrated == len(tum_frames)
            scene = await session.get_scene(include_mesh=True)
            assert sum(c.triangle_count for c in scene.chunks) > 1000
            saved = await session.save_map("tuned")
            assert saved.size_bytes > 100_000
    finally:
        await server.stop(0.2)
