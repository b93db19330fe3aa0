"""The sessions a server holds."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Executor
from typing import Any

from ..core.config import SoraConfig
from ..core.errors import InvalidArgumentError, NotFoundError, ResourceExhaustedError, UnavailableError
from ._session import Session, SessionInfo

__all__ = ["SessionManager"]


class SessionManager:
    """Creates, finds and closes sessions. Event-loop thread only."""

    def __init__(self, config: SoraConfig, executor: Executor, verifier: Any = None) -> None:
        self.config = config
        #: Token verifier (server._auth.TokenVerifier) when authentication is on, else None.
        self.verifier = verifier
        self.executor = executor
        self._sessions: dict[str, Session] = {}
        self._closed: dict[str, SessionInfo] = {}

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
        session = Session(info, self.config, self.executor)
        self._sessions[info.session_id] = session
        return session

    def get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            # The same answer for "never existed" and "closed": nothing leaks about other sessions.
            raise NotFoundError(f"session {session_id!r} not found", reason="SESSION_NOT_FOUND")
        return session

    def list(self) -> list[Session]:
        return sorted(self._sessions.values(), key=lambda s: s.info.created_time_s)

    async def close(self, session_id: str) -> Session:
        session = self.get(session_id)
        del self._sessions[session_id]
        self._closed[session_id] = session.info
        await session.close(NotFoundError(f"session {session_id!r} was closed", reason="SESSION_CLOSED"))
        return session

    async def close_all(self, error: BaseException | None = None) -> None:
        err = error or UnavailableError("server is shutting down; resume elsewhere", reason="SERVER_DRAINING")
        for sid in list(self._sessions):
            session = self._sessions.pop(sid)
            await session.close(err)
