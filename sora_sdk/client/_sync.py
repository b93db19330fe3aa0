"""A small synchronous wrapper for scripts: the async client on a private event-loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from .._proto.sora.v1 import scene_pb2, session_pb2, types_pb2
from ._client import IngestSummary, Session, SoraClient

__all__ = ["SyncSession", "SyncSoraClient"]

T = TypeVar("T")


class SyncSoraClient:
    """``with SyncSoraClient(addr) as c: s = c.create_session(); s.stream_frames(frames)``."""

    def __init__(self, target: str = "127.0.0.1:50051", **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sora-client", daemon=True)
        self._thread.start()

        async def make() -> SoraClient:
            return SoraClient(target, **kwargs)

        self.client = self._run(make())

    def _run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def __enter__(self) -> SyncSoraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._run(self.client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        self._run(self.client.wait_ready(timeout_s))

    def capabilities(self) -> session_pb2.GetCapabilitiesResponse:
        return self._run(self.client.capabilities())

    def create_session(self, **kwargs: Any) -> SyncSession:
        return SyncSession(self, self._run(self.client.create_session(**kwargs)))

    def session(self, session_id: str) -> SyncSession:
        return SyncSession(self, self._run(self.client.session(session_id)))

    def list_sessions(self) -> list[session_pb2.Session]:
        return self._run(self.client.list_sessions())


class SyncSession:
    def __init__(self, owner: SyncSoraClient, session: Session) -> None:
        self._owner = owner
        self.session = session
        self.session_id = session.session_id

    def stream_frames(self, frames: Iterable[Any], **kwargs: Any) -> IngestSummary:
        return self._owner._run(self.session.stream_sensor_data(frames, **kwargs))

    def get_scene(self, **kwargs: Any) -> scene_pb2.GetSceneResponse:
        return self._owner._run(self.session.get_scene(**kwargs))

    def find_objects(self, **kwargs: Any) -> list[scene_pb2.SceneObject]:
        return self._owner._run(self.session.find_objects(**kwargs))

    def raycast(
        self, origin: Iterable[float], direction: Iterable[float], max_distance_m: float = 10.0
    ) -> types_pb2.SceneTarget | None:
        return self._owner._run(self.session.raycast(origin, direction, max_distance_m))

    def create_anchor(self, **kwargs: Any) -> scene_pb2.Anchor:
        return self._owner._run(self.session.create_anchor(**kwargs))

    def list_anchors(self) -> list[scene_pb2.Anchor]:
        return self._owner._run(self.session.list_anchors())

    def export_map(self, path: str) -> int:
        return self._owner._run(self.session.export_map(path))

    def ask(self, text: str) -> str:
        """One conversation turn; returns the avatar's answer text."""

        async def turn() -> str:
            conv = self.session.converse()
            events = await conv.turn(text)
            await conv.done_sending()
            conv.cancel()
            return "".join(e.text_delta.text for e in events if e.WhichOneof("event") == "text_delta").strip()

        return self._owner._run(turn())

    def close(self, **kwargs: Any) -> None:
        self._owner._run(self.session.close(**kwargs))
