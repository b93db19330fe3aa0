"""Crash safety and restarts: a real server process killed with SIGKILL (or drained with SIGTERM) and
started again on the same data folder brings back its sessions, maps, anchors and the avatar's memory,
and clients' watch streams carry on across it with no gap and no duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sora_sdk import SoraError
from sora_sdk.bench._load import _process as run_process
from sora_sdk.client import SceneMirror, SoraClient
from sora_sdk.client._codec import position_from_proto
from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import StreamPosition
from sora_sdk.dialogue import MemoryStore
from sora_sdk.mapping import read_map

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``sora serve`` in a child process on a fixed port and data folder, so it can be killed and
    started again where clients expect it (the load bench's process runner, restartable)."""

    def __init__(self, data_dir: Path, *flags: str) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.flags = flags
        self.proc: asyncio.subprocess.Process | None = None
        self._running: contextlib.AbstractAsyncContextManager[Any] | None = None
        self.output: list[str] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._running = run_process(
            "-m", "sora_sdk.cli.main", "serve", "--port", str(self.port), "--server-data-dir", str(self.data_dir),
            *self.flags, timeout_s=120, output=self.output,
        )  # fmt: skip
        self.proc, _port = await self._running.__aenter__()

    async def stop(self, sig: int) -> int:
        assert self.proc is not None and self._running is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), 60)
        await self._running.__aexit__(None, None, None)  # reads the rest of its output
        return code


@contextlib.asynccontextmanager
async def server_process(tmp_path: Path, *flags: str) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(tmp_path / "data", *flags)
    await server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.returncode is None:
            await server.stop(signal.SIGKILL)


async def _wait_saved(session, at_least: StreamPosition, timeout_s: float = 30.0):
    """Polls GetSession until the reported save holds ``at_least``; returns the session proto."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        info = await session.refresh()
        saved = info.stats.saved_position
        if info.stats.saved_time_s > 0 and (saved.epoch, saved.sequence) >= (at_least.epoch, at_least.sequence):
            return info
        assert loop.time() < deadline, f"no save reached {at_least} (last {saved})"
        await asyncio.sleep(0.05)


async def _record_anchor_positions(session, out: dict[str, StreamPosition]) -> None:
    with contextlib.suppress(SoraError):  # the server is killed under it
        async for update in session.watch_scene(include_mesh=False, auto_resume=False):
            if update.kind == "delta":
                for anchor in update.message.upserted_anchors:
                    out.setdefault(anchor.anchor_id, update.position)


def _no_torn_files(data_dir: Path, left_by_kill: list[Path]) -> None:
    """What a kill left half-written is gone after the restart (the new server's own saves in flight
    may have temporaries of their own), and every autosave verifies."""
    sessions = data_dir / "sessions"
    assert not [p for p in left_by_kill if p.exists()], "a restart clears what the killed server left"
    for autosave in sessions.rglob("autosave.soramap"):
        read_map(autosave)  # every checksum verifies


async def test_kill_9_at_random_moments_restores_what_was_reported_saved(tmp_path: Path, tum_frames) -> None:
    rng = random.Random(7)
    async with server_process(tmp_path, "--session-autosave-interval-s", "0.2") as server:
        async with SoraClient(server.address) as client:
            session = await client.create_session(display_name="desk", user_id="ana")
            sid = session.session_id
            summary = await session.stream_frames(tum_frames, lossless=True, stream_name="tum")
            assert summary.frames_integrated == len(tum_frames)
            await session.get_scene()  # the mesh is up to date once the stream is flushed
            info = await _wait_saved(session, (await session.refresh()).stats.scene_position)
            mesh_chunks, mesh_triangles = info.stats.mesh_chunks, info.stats.mesh_triangles
            assert mesh_chunks > 20
            conv = session.converse()
            await conv.turn("my name is Ana")
            await conv.done_sending()
            async for _ in conv.events():
                pass
        created: list[str] = []
        for cycle in range(3):
            # Anchors keep coming while saves complete every 0.2 s; the kill lands anywhere, a save included.
            async with SoraClient(server.address) as client:
                session = await client.session(sid)
                committed_at: dict[str, StreamPosition] = {}  # anchor -> the scene position that added it
                watcher = asyncio.ensure_future(_record_anchor_positions(session, committed_at))
                reported: set[str] = set()
                loop = asyncio.get_running_loop()
                kill_at = np.inf  # set once a save covering some anchors was reported
                give_up = loop.time() + 30
                while loop.time() < kill_at:
                    assert loop.time() < give_up, "no save covering an anchor was reported in 30 s"
                    pose = Pose.from_rotation_translation(
                        np.eye(3), np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), 1.0])
                    )
                    created.append((await session.create_anchor(pose_world_anchor=pose, label=f"c{cycle}")).anchor_id)
                    saved = (await session.refresh()).stats.saved_position
                    # What the server has reported saved: every anchor committed at or before that position.
                    reported |= {
                        a for a, pos in committed_at.items()
                        if pos.epoch == saved.epoch and pos.sequence <= saved.sequence
                    }  # fmt: skip
                    if reported and kill_at == np.inf:
                        kill_at = loop.time() + rng.uniform(0.0, 1.0)
                watcher.cancel()
            code = await server.stop(signal.SIGKILL)
            assert code == -signal.SIGKILL
            left_by_kill = list((server.data_dir / "sessions").rglob("*.tmp"))
            await server.start()
            _no_torn_files(server.data_dir, left_by_kill)
            async with SoraClient(server.address) as client:
                session = await client.session(sid)  # the same ID, restored
                info = await session.refresh()
                restored = {a.anchor_id for a in await session.list_anchors()}
                assert reported <= restored, "every anchor a completed save held is back"
                assert restored <= set(created), "nothing appears that was never created"
                assert info.stats.mesh_chunks == mesh_chunks
                # The restored mesh is meshed afresh from the saved volume; the streamed one was meshed
                # incrementally and may lag the volume by the mapper's re-mesh threshold (0.4 % seen).
                assert abs(info.stats.mesh_triangles - mesh_triangles) <= 0.02 * mesh_triangles
                assert info.stats.saved_time_s > 0
                # Retried frames (same stream and sequences) are ones the restored map holds: none fused twice.
                again = await session.stream_frames(tum_frames, lossless=True, stream_name="tum")
                assert again.frames_integrated == 0 and again.drops.get("duplicate", 0) == len(tum_frames)
    with MemoryStore(str(server.data_dir / "memory.sqlite")) as store:
        assert store.get("ana", "name") == ["Ana"]


async def test_watch_streams_resume_across_repeated_kill_and_restart(tmp_path: Path, tum_frames) -> None:
    """A subscriber using the SDK's auto-resume sees every restart as one fresh snapshot (new epoch) and
    otherwise an unbroken run of deltas: no gap, no duplicate, and its copy equals the server's scene."""
    async with server_process(tmp_path, "--session-autosave-interval-s", "0.2") as server:
        async with SoraClient(server.address) as client:
            session = await client.create_session(display_name="desk")
            await session.stream_frames(tum_frames[:5], lossless=True, stream_name="tum")
        async with SoraClient(server.address) as watcher_client:
            watched = await watcher_client.session(session.session_id)
            mirror = SceneMirror()
            positions: list[tuple[str, StreamPosition]] = []
            events: list[tuple[str, StreamPosition]] = []

            async def watch_scene() -> None:
                async for update in watched.watch_scene(max_retries=100):
                    mirror.apply(update)
                    positions.append((update.kind, update.position))

            async def watch_perception() -> None:
                async for item in watched.watch_perception(max_retries=100):
                    if getattr(item, "position", None) is not None:
                        events.append(("event", item.position))

            tasks = [asyncio.ensure_future(watch_scene()), asyncio.ensure_future(watch_perception())]
            for cycle in range(3):
                async with SoraClient(server.address) as client:
                    await client.wait_ready(30)  # the channel reconnects within its backoff
                    s = await client.session(session.session_id)
                    for i in range(5):
                        pose = Pose.from_rotation_translation(np.eye(3), np.array([0.1 * i, 0.2 * cycle, 1.0]))
                        await s.create_anchor(pose_world_anchor=pose, label=f"c{cycle}-{i}")
                    await _wait_saved(s, (await s.refresh()).stats.scene_position)
                await server.stop(signal.SIGKILL)
                await server.start()
            async with SoraClient(server.address) as client:
                await client.wait_ready(30)
                s = await client.session(session.session_id)
                await s.create_anchor(pose_world_anchor=Pose.identity(), label="after")
                expected = {a.anchor_id for a in await s.list_anchors()}
                scene = await s.get_scene(include_mesh=True)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 30
                while mirror.position != position_from_proto(scene.position) and loop.time() < deadline:
                    await asyncio.sleep(0.05)
            failed = [t.exception() for t in tasks if t.done()]
            assert not failed, f"a watch stream gave up instead of resuming: {failed}"
            for task in tasks:
                task.cancel()
    assert set(mirror.anchors) == expected and len(expected) == 16
    assert {k: c.version for k, c in mirror.chunks.items()} == {
        (c.block.x, c.block.y, c.block.z): c.version for c in scene.chunks
    }
    # Up to four epochs (the first run and three restarts; a restart the subscriber slept through
    # in its reconnect backoff is skipped), each entered through one snapshot, the last the server's.
    epochs = []
    for kind, pos in positions:
        if not epochs or epochs[-1] != pos.epoch:
            assert kind == "snapshot_begin", "a new epoch starts with a snapshot"
            epochs.append(pos.epoch)
    assert len(epochs) == len(set(epochs)) and 2 <= len(epochs) <= 4
    assert epochs[-1] == scene.position.epoch
    deltas = [pos for kind, pos in positions if kind == "delta"]
    for a, b in itertools.pairwise(deltas):
        if a.epoch == b.epoch:
            assert b.sequence > a.sequence, "no delta twice"


async def test_sigterm_drains_fuses_what_was_sent_and_saves_it(tmp_path: Path, tum_frames) -> None:
    """No autosave interval to help: what the session holds at SIGTERM is saved by the drain."""
    async with server_process(tmp_path, "--session-autosave-interval-s", "3600") as server:
        async with SoraClient(server.address) as client:
            session = await client.create_session(display_name="desk")
            summary = await session.stream_frames(tum_frames, lossless=True, stream_name="tum")
            anchor = await session.create_anchor(pose_world_anchor=Pose.identity(), label="door")
            assert (await session.refresh()).stats.saved_time_s == 0  # not saved yet
        assert await server.stop(signal.SIGTERM) == 0
        assert "draining" in "".join(server.output)
        await server.start()
        async with SoraClient(server.address) as client:
            session = await client.session(session.session_id)
            info = await session.refresh()
            assert [a.anchor_id for a in await session.list_anchors()] == [anchor.anchor_id]
            assert info.stats.mesh_chunks > 20
            again = await session.stream_frames(tum_frames, lossless=True, stream_name="tum")
            assert again.drops.get("duplicate", 0) == summary.frames_integrated == len(tum_frames)
            await session.close()
        assert not list((server.data_dir / "sessions").iterdir()), "CloseSession deletes the autosave"


_FROZEN_CLIENT = """
import asyncio, sys
from sora_sdk.client import SoraClient

async def main():
    async with SoraClient(sys.argv[1]) as client:
        session = await client.session(sys.argv[2])
        async for update in session.watch_scene(auto_resume=False):
            if update.snapshot_complete:
                print("watching", flush=True)

asyncio.run(main())
"""


async def test_a_frozen_client_is_dropped_within_seconds_and_others_keep_streaming() -> None:
    """A headset that freezes (SIGSTOP: its TCP stack still acks, its gRPC never answers a ping) holds a
    subscription the server must notice and drop: keepalive pings with a ping timeout."""
    from sora_sdk.server import create_server
    from tests.conftest import test_config

    running = await create_server(test_config(server={"keepalive_time_s": 1.0, "keepalive_timeout_s": 1.0}))
    child = None
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            session = await client.create_session()
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _FROZEN_CLIENT, f"127.0.0.1:{running.port}", session.session_id,
                stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            assert child.stdout is not None
            assert b"watching" in await asyncio.wait_for(child.stdout.readline(), 60)
            mirror = SceneMirror()

            async def watch() -> None:
                async for update in session.watch_scene(include_mesh=False):
                    mirror.apply(update)

            watcher = asyncio.ensure_future(watch())
            loop = asyncio.get_running_loop()
            while (await session.refresh()).stats.subscribers < 2:
                await asyncio.sleep(0.05)
            child.send_signal(signal.SIGSTOP)
            frozen_at = loop.time()
            anchors = 0
            while (await session.refresh()).stats.subscribers > 1:
                assert loop.time() - frozen_at < 15, "the frozen client still holds its stream after 15 s"
                await session.create_anchor(pose_world_anchor=Pose.identity())
                anchors += 1
                await asyncio.sleep(0.1)
            detected_s = loop.time() - frozen_at
            # Ping every 1 s, 1 s to answer: detected in about 2-3 s (NOTES.md measured 2-3.4 s at 2 s + 2 s).
            assert detected_s < 1.0 + 1.0 + 4.0
            await asyncio.sleep(0.3)
            assert len(mirror.anchors) == anchors, "the other subscriber got every anchor meanwhile"
            watcher.cancel()
    finally:
        if child is not None and child.returncode is None:
            child.kill()
            await child.wait()
        await running.stop(0.5)


async def test_a_damaged_autosave_is_set_aside_and_the_other_sessions_come_back(tum_frames) -> None:
    from sora_sdk.server import create_server
    from tests.conftest import test_config

    config = test_config()
    running = await create_server(config)
    async with SoraClient(f"127.0.0.1:{running.port}") as client:
        good = await client.create_session(display_name="good")
        bad = await client.create_session(display_name="bad")
        for s in (good, bad):
            await s.stream_frames(tum_frames[:3], lossless=True)
            await s.create_anchor(pose_world_anchor=Pose.identity(), label=s.session_id[:4])
    await running.stop(0.5)  # the drain saves both
    sessions = Path(config.server.data_dir) / "sessions"
    damaged = sessions / bad.session_id / "autosave.soramap"
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # a disk fault: half a file

    running = await create_server(config)
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            restored_good = await client.session(good.session_id)
            assert [a.label for a in await restored_good.list_anchors()] == [good.session_id[:4]]
            assert (await restored_good.refresh()).stats.mesh_chunks > 0
            restored_bad = await client.session(bad.session_id)  # back, with the same ID, but empty
            assert await restored_bad.list_anchors() == []
            assert (await restored_bad.refresh()).stats.mesh_chunks == 0
        kept = list((sessions / bad.session_id).glob("autosave.soramap.damaged-*"))
        assert len(kept) == 1 and kept[0].read_bytes() == data[: len(data) // 2]
    finally:
        await running.stop(0.5)


async def test_a_restored_session_stays_bound_to_its_principal(tmp_path: Path) -> None:
    from sora_sdk import PermissionDeniedError
    from sora_sdk.server import create_server
    from tests.conftest import ANA, BEN, auth_config

    config = auth_config(tmp_path)
    running = await create_server(config)
    async with SoraClient(f"127.0.0.1:{running.port}", token=ANA) as ana:
        session = await ana.create_session(user_id="ana")
        await session.create_anchor(pose_world_anchor=Pose.identity(), label="sofa")
    await running.stop(0.5)
    running = await create_server(config)  # same data folder: the session comes back
    try:
        async with SoraClient(f"127.0.0.1:{running.port}", token=BEN) as ben:
            with pytest.raises(PermissionDeniedError):
                await (await ben.session(session.session_id)).list_anchors()
            assert session.session_id not in {s.session_id for s in await ben.list_sessions()}
        async with SoraClient(f"127.0.0.1:{running.port}", token=ANA) as ana:
            restored = await ana.session(session.session_id)
            assert [a.label for a in await restored.list_anchors()] == ["sofa"]
    finally:
        await running.stop(0.5)
