"""SaveMap / LoadMap through the server: atomic, verified, and refusing damaged files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sora_sdk import DataLossError, InvalidArgumentError, NotFoundError
from sora_sdk.client import SceneMirror, SoraClient
from sora_sdk.core.geometry import Pose


def _map_file(server, name: str) -> Path:
    return server.config.server.resolved_data_dir() / "maps" / "local" / f"{name}.soramap"  # no auth: one folder


async def test_save_then_load_restores_mesh_and_anchors(server, client: SoraClient, tum_frames) -> None:
    a = await client.create_session()
    await a.stream_frames(tum_frames, lossless=True, color_encoding="raw", depth_encoding="raw")
    anchor = await a.create_anchor(pose_world_anchor=Pose.from_quaternion([0.1, 0.2, 0.3], [0, 0, 0, 1]), label="lamp")
    saved = await a.save_map("desk")
    assert saved.size_bytes == _map_file(server, "desk").stat().st_size
    assert len(saved.checksum_sha256) == 64
    before = await a.get_scene(include_mesh=True)

    b = await client.create_session()
    mirror = SceneMirror()

    async def follow() -> None:
        async for update in b.watch_scene():
            mirror.apply(update)

    watcher = asyncio.create_task(follow())
    loaded = await b.load_map("desk")
    assert loaded.mesh_chunks == len(before.chunks) and loaded.anchors == 1
    after = await b.get_scene(include_mesh=True)
    # The watcher was told to start over (a fresh snapshot in the new epoch).
    for _ in range(200):
        if mirror.position is not None and mirror.position.epoch == after.position.epoch:
            break
        await asyncio.sleep(0.01)
    watcher.cancel()
    assert mirror.snapshots == 2 and len(mirror.chunks) == len(before.chunks)
    assert [x.anchor_id for x in after.anchors] == [anchor.anchor_id]
    assert after.anchors[0].label == "lamp"
    # Same surface: identical triangle counts per block, vertices equal within quantisation.
    tris = {(c.block.x, c.block.y, c.block.z): c.triangle_count for c in before.chunks}
    assert {(c.block.x, c.block.y, c.block.z): c.triangle_count for c in after.chunks} == tris
    hit_a = await a.raycast(tum_frames[3].pose_world_camera.translation, tum_frames[3].pose_world_camera.rotation[:, 2])
    hit_b = await b.raycast(tum_frames[3].pose_world_camera.translation, tum_frames[3].pose_world_camera.rotation[:, 2])
    assert hit_a is not None and hit_b is not None
    assert hit_b.distance_m == pytest.approx(hit_a.distance_m, abs=1e-4)


async def test_damaged_or_foreign_files_are_refused_and_the_map_is_untouched(server, client, tum_frames) -> None:
    a = await client.create_session()
    await a.stream_frames(tum_frames[:3], lossless=True, color_encoding="raw", depth_encoding="raw")
    await a.save_map("good")
    good = _map_file(server, "good").read_bytes()
    b = await client.create_session()
    await b.stream_frames(tum_frames[5:], lossless=True, color_encoding="raw", depth_encoding="raw")
    before = await b.get_scene(include_mesh=True)

    _map_file(server, "torn").write_bytes(good[: len(good) // 2])
    _map_file(server, "foreign").write_bytes(b"PK\x03\x04 not really a zip" + bytes(1000))
    flipped = bytearray(good)
    flipped[len(flipped) // 2] ^= 0xFF
    _map_file(server, "flipped").write_bytes(bytes(flipped))
    for name in ("torn", "foreign", "flipped"):
        with pytest.raises(DataLossError):
            await b.load_map(name)
    after = await b.get_scene(include_mesh=True)
    assert (after.position.epoch, after.position.sequence) == (before.position.epoch, before.position.sequence)
    assert [c.SerializeToString() for c in after.chunks] == [c.SerializeToString() for c in before.chunks]

    with pytest.raises(NotFoundError):
        await b.load_map("missing")
    with pytest.raises(InvalidArgumentError) as e:
        await b.save_map("../../etc/passwd")
    assert e.value.violations[0].field == "map_name"
    # No temporary files are left behind by saves.
    assert not [p for p in _map_file(server, "x").parent.iterdir() if p.name.endswith(".tmp")]


async def test_loaded_planes_keep_their_saved_ids(server, client: SoraClient, tum_frames) -> None:
    """The planes are saved with the map; the loaded map's planes are found again and take the IDs
    they were saved with. (They are re-segmented from the loaded mesh, which need not give every
    small plane the incremental tracker had: here a 0.06 m2 one is not found again.)"""
    a = await client.create_session()
    await a.stream_frames(tum_frames, lossless=True, color_encoding="raw", depth_encoding="raw")
    await a.save_map("desk_planes")
    saved = {p.plane_id: p for p in (await a.get_scene()).planes}
    b = await client.create_session()
    # Planes of its own first, so that the IDs it would give new planes differ from a's.
    await b.stream_frames(tum_frames[5:], lossless=True, color_encoding="raw", depth_encoding="raw")
    await b.load_map("desk_planes")
    loaded = {p.plane_id: p for p in (await b.get_scene()).planes}
    large = {k for k, p in saved.items() if p.area_m2 >= 0.1}
    assert len(large) >= 3 and large <= loaded.keys()
    for plane_id in loaded.keys() & saved.keys():
        assert loaded[plane_id].label == saved[plane_id].label
        assert loaded[plane_id].area_m2 == pytest.approx(saved[plane_id].area_m2, rel=0.1)
    numbers = [int(k.split("_")[1]) for k in saved]
    assert all(int(k.split("_")[1]) > max(numbers) for k in loaded.keys() - saved.keys())  # never a saved ID
