"""The sessions a server holds, kept on disk so a restarted server brings them back (see _persist)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from concurrent.futures import Executor
from typing import Any

from ..core.config import SoraConfig
from ..core.errors import (
    DataLossError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
)
from ..maphost import MapProcess
from ._persist import SessionFiles
from ._session import Session, SessionInfo

log = logging.getLogger("sora.session")

__all__ = ["SessionManager"]


class SessionManager:
    """Creates, finds and closes sessions. Event-loop thread only."""

    def __init__(
        self,
        config: SoraConfig,
        executor: Executor,
        verifier: Any = None,
        *,
        background: Executor | None = None,
        maps: MapProcess | None = None,
    ) -> None:
        self.config = config
        #: The process the sessions' maps live in (``server.map_process``), else None (in this one).
        self.maps = maps
        #: Where sessions run their continuous map work (fusion, meshing, planes, objects, autosave).
        self.background = background or executor
        #: Token verifier (server._auth.TokenVerifier) when authentication is on, else None.
        self.verifier = verifier
        self.executor = executor
        self._sessions: dict[str, Session] = {}
        self._closed: dict[str, SessionInfo] = {}
        #: Sessions on disk (autosaves), or None when session.autosave_interval_s is 0.
        self.files = (
            SessionFiles(config.server.resolved_data_dir() / "sessions")
            if config.session.autosave_interval_s > 0
            else None
        )

    async def create(
        self,
        *,
        display_name: str = "",
        user_id: str = "",
        space_id: str = "",
        pose_source: str = "client",
        voxel_size_m: float = 0.0,
        depth_max_m: float = 0.0,
        recording_enabled: bool = False,
        up_world: tuple[float, float, float] = (0.0, 0.0, 1.0),
        owner: str = "",
    ) -> Session:
        if len(self._sessions) >= self.config.session.max_sessions:
            raise ResourceExhaustedError(
                f"server holds its maximum of {self.config.session.max_sessions} sessions", reason="TOO_MANY_SESSIONS"
            )
        voxel = voxel_size_m or self.config.mapper.voxel_size_m
        if not 0.002 <= voxel <= 0.5:
            raise InvalidArgumentError.field("options.voxel_size_m", f"must be in 0.002..0.5 m, got {voxel}")
        depth_max = depth_max_m or self.config.mapper.depth_max_m
        if not 0.2 <= depth_max <= 20.0:
            raise InvalidArgumentError.field("options.depth_max_m", f"must be in 0.2..20 m, got {depth_max}")
        info = SessionInfo(
            session_id=uuid.uuid4().hex,
            display_name=display_name,
            user_id=user_id,
            space_id=space_id,
            pose_source=pose_source,
            voxel_size_m=voxel,
            depth_max_m=depth_max,
            recording_enabled=recording_enabled,
            created_time_s=time.time(),
            up_world=up_world,
            owner=owner,
        )
        if self.files is not None:
            try:
                await self._blocking(self.files.write_record, info)
            except OSError as exc:
                raise UnavailableError(f"cannot keep the session on disk: {exc.strerror}", reason="STORAGE") from None
        return self._add(info)

    def _add(self, info: SessionInfo) -> Session:
        path = self.files.autosave_path(info.session_id) if self.files is not None else None
        session = Session(
            info, self.config, self.executor, autosave_path=path, background=self.background, maps=self.maps
        )
        self._sessions[info.session_id] = session
        return session

    async def _blocking(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def restore(self) -> int:
        """Brings back the sessions an earlier run of this server kept on disk (same IDs, owners,
        maps and anchors, from their last autosave); returns how many. Call before serving.

        A session whose autosave is damaged comes back empty, and the file is kept beside it
        (``autosave.soramap.damaged-<time>``) for an operator; nothing else is affected.
        """
        if self.files is None:
            return 0
        found = await self._blocking(self.files.scan)
        for item in found:
            if item.info.session_id in self._sessions:
                continue
            session = self._add(item.info)
            if item.map_path is None:
                continue
            try:
                await session.restore(item.map_path)
            except (DataLossError, FailedPreconditionError) as exc:  # damaged, or too big for today's config
                aside = item.map_path.with_name(f"{item.map_path.name}.damaged-{int(time.time())}")
                item.map_path.rename(aside)
                log.error("session %s: autosave not restored (%s); kept as %s", item.info.session_id, exc, aside)
            except Exception:  # one session must not keep the server from starting
                log.exception("session %s: autosave not restored; the session starts empty", item.info.session_id)
        if found:
            log.info("restored %d session(s) from %s", len(found), self.files.root)
        return len(found)

    def get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            # The same answer for "never existed" and "closed": nothing leaks about other sessions.
            raise NotFoundError(f"session {session_id!r} not found", reason="SESSION_NOT_FOUND")
        return session

    def list(self) -> list[Session]:
        return sorted(self._sessions.values(), key=lambda s: s.info.created_time_s)

    async def close(self, session_id: str) -> Session:
        """Closes a session for good: its streams end and its autosave is deleted."""
        session = self.get(session_id)
        del self._sessions[session_id]
        self._closed[session_id] = session.info
        await session.close(NotFoundError(f"session {session_id!r} was closed", reason="SESSION_CLOSED"))
        if self.files is not None:
            await self._blocking(self.files.delete, session_id)
        return session

    async def close_all(self, error: BaseException | None = None, *, drain_timeout_s: float = 0.0) -> None:
        """Server shutdown: every session stops taking frames, fuses what is queued (up to
        ``drain_timeout_s`` in all), saves, and ends its streams with ``error`` (UNAVAILABLE: resume
        elsewhere). Sessions stay on disk for the next start."""
        err = error or UnavailableError("server is shutting down; resume elsewhere", reason="SERVER_DRAINING")
        sessions = list(self._sessions.values())
        results = await asyncio.gather(*(s.drain(drain_timeout_s) for s in sessions), return_exceptions=True)
        for session, result in zip(sessions, results, strict=True):
            if isinstance(result, BaseException):
                log.error("session %s: not saved at shutdown: %r", session.info.session_id, result)
        for sid in list(self._sessions):
            session = self._sessions.pop(sid)
            await session.close(err)
