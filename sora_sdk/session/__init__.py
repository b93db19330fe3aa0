"""Sessions and their pipelines."""

from __future__ import annotations

from ._conversation import Conversation
from ._manager import SessionManager
from ._session import IngestStats, Session, SessionInfo

__all__ = ["Conversation", "IngestStats", "Session", "SessionInfo", "SessionManager"]
