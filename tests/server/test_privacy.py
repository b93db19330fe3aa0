"""What a session leaves behind: maps per principal, and deletion of maps and memory on request."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sora_sdk import NotFoundError
from sora_sdk.client import SoraClient
from sora_sdk.dialogue import MemoryStore


def _maps(server) -> list[Path]:
    return sorted((Path(server.config.server.data_dir) / "maps").rglob("*.soramap"))


async def test_map_names_are_per_principal_and_close_deletes_a_sessions_maps(auth_server, tum_frames) -> None:
    target = f"127.0.0.1:{auth_server.port}"
    async with (
        SoraClient(target, token="ana-0123456789abcdef") as ana,
        SoraClient(target, token="ben-0123456789abcdef") as ben,
    ):
        flat = await ana.create_session()
        await flat.stream_frames(tum_frames[:3], lossless=True, color_encoding="raw", depth_encoding="raw")
        await flat.save_map("home")
        office = await ben.create_session()
        # Ben asks for a map of the same name: he must not get Ana's room.
        with pytest.raises(NotFoundError):
            await office.load_map("home")
        await office.stream_frames(tum_frames[5:6], lossless=True, color_encoding="raw", depth_encoding="raw")
        await office.save_map("home")  # his own "home": must not overwrite hers
        assert len(_maps(auth_server)) == 2
        again = await ana.create_session()
        await again.load_map("home")
        assert len((await again.get_scene(include_mesh=True)).chunks) == len(
            (await flat.get_scene(include_mesh=True)).chunks
        )

        await flat.close(delete_map=True)
        assert len(_maps(auth_server)) == 1  # hers is gone, his stays
        with pytest.raises(NotFoundError):
            await again.load_map("home")
        await office.load_map("home")


async def test_close_with_delete_memory_forgets_that_user_only(server) -> None:
    async with SoraClient(f"127.0.0.1:{server.port}") as client:
        ana = await client.create_session(user_id="ana")
        ben = await client.create_session(user_id="ben")
        for session, name in ((ana, "Ana"), (ben, "Ben")):
            conv = session.converse()
            await conv.turn(f"my name is {name}")
            await conv.done_sending()
            async for _ in conv.events():
                pass
        path = os.path.join(server.config.server.data_dir, server.config.dialogue.memory_file)
        with MemoryStore(path) as store:
            assert store.get("ana", "name") == ["Ana"] and store.get("ben", "name") == ["Ben"]
        await ana.close(delete_memory=True)
        with MemoryStore(path) as store:
            assert store.facts("ana") == [] and store.utterances("ana") == []
            assert store.get("ben", "name") == ["Ben"]
