"""``sora replay`` and ``sora record``: datasets and recordings in, a fused scene out."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from .._proto.sora.v1 import sensor_pb2
from ..client import SceneMirror, Session, SoraClient
from ..client._codec import encode_sensor_item
from ..core.config import SoraConfig
from ..datasets import RecordingReader, RecordingWriter, is_recording, open_dataset

__all__ = ["embedded_or_remote", "one_shot", "run_record", "run_replay", "scene_json", "watch_into"]


def one_shot(config: SoraConfig) -> SoraConfig:
    """An embedded server for one command: its sessions are not kept on disk for a later start."""
    return dataclasses.replace(config, session=dataclasses.replace(config.session, autosave_interval_s=0.0))


@contextlib.asynccontextmanager
async def embedded_or_remote(config: SoraConfig, server: str | None) -> AsyncIterator[SoraClient]:
    """A client for ``server``, or for an embedded server started on a free loopback port."""
    if server:
        async with SoraClient(server) as client:
            await client.wait_ready()
            yield client
        return
    from ..server import create_server

    running = await create_server(one_shot(config))
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            yield client
    finally:
        await running.stop(0.5)


async def watch_into(session: Session, mirror: SceneMirror, ready: asyncio.Event | None = None) -> None:
    """Keeps ``mirror`` equal to the server's scene until cancelled."""
    async for update in session.watch_scene():
        mirror.apply(update)
        if ready is not None and update.snapshot_complete:
            ready.set()


def _recording_messages(path: Path) -> Iterator[sensor_pb2.StreamSensorDataRequest]:
    for raw in RecordingReader(path):
        msg = sensor_pb2.StreamSensorDataRequest.FromString(raw)
        if msg.WhichOneof("message") != "config":  # the replaying client sends its own config
            yield msg


def _source(path: str, fmt: str | None, frames: slice | None) -> tuple[Any, int]:
    p = Path(path)
    if fmt == "sora" or (fmt is None and is_recording(p)):
        items = list(_recording_messages(p))
        if frames is not None:
            items = items[frames]
        return items, len(items)
    seq = open_dataset(p, format=fmt, frames=frames)
    return seq, len(seq)


async def scene_json(session: Session) -> dict[str, Any]:
    scene = await session.get_scene(include_mesh=False)
    info = await session.refresh()
    out = json_format.MessageToDict(scene, preserving_proto_field_name=True)
    out["session"] = json_format.MessageToDict(info, preserving_proto_field_name=True)
    return out


async def run_replay(args: argparse.Namespace, config: SoraConfig, frames: slice | None) -> int:
    source, n = _source(args.path, args.format, frames)
    async with embedded_or_remote(config, args.server) as client:
        session = await client.create_session(display_name=f"replay {Path(args.path).name}")
        mirror = SceneMirror()
        ready = asyncio.Event()
        watcher = asyncio.create_task(watch_into(session, mirror, ready))
        await asyncio.wait_for(ready.wait(), 10)
        bar = None
        if not args.no_progress:
            from tqdm import tqdm

            bar = tqdm(total=n, unit="frame", desc="replay")
        t0 = time.perf_counter()
        summary = await session.stream_sensor_data(
            source, lossless=True, color_encoding="png", on_sent=(lambda _: bar.update(1)) if bar else None
        )
        elapsed = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        while mirror.position is None or mirror.position.sequence < summary.scene_position.sequence:
            await asyncio.sleep(0.01)
        watcher.cancel()
        print(
            f"fused {summary.frames_integrated}/{n} frames in {elapsed:.1f} s; "
            f"{len(mirror.chunks)} chunks, {mirror.triangle_count} triangles; drops {summary.drops or 'none'}"
        )
        if args.export_mesh:
            size = await session.export_map(args.export_mesh)
            print(f"mesh: {args.export_mesh} ({size / 1e6:.1f} MB)")
        if args.export_scene:
            Path(args.export_scene).write_text(json.dumps(await scene_json(session), indent=2))
            print(f"scene: {args.export_scene}")
        await session.close()
    return 0


def run_record(args: argparse.Namespace, frames: slice | None) -> int:
    seq = open_dataset(Path(args.path), format=args.format, frames=frames)
    config = sensor_pb2.StreamSensorDataRequest(
        config=sensor_pb2.SensorStreamConfig(
            stream_name=Path(args.path).name, ingest_mode=sensor_pb2.INGEST_MODE_LOSSLESS
        )
    )
    header = {"source": str(args.path), "frames": len(seq), "created_time_s": time.time()}
    with RecordingWriter(Path(args.out), header) as rec:
        rec.write(config.SerializeToString())
        for frame in seq:
            rec.write(encode_sensor_item(frame, color="png", depth="png").SerializeToString())
    print(f"recorded {rec.count} messages to {args.out}")
    return 0
