"""Sessions and their pipelines."""

from __future__ import annotations

from ._conversation import Conversation, ConversationOptions, SessionSceneTools
from ._manager import SessionManager
from ._session import IngestStats, Session, SessionInfo

__all__ = [
    "Conversation",
    "ConversationOptions",
    "SessionSceneTools",
    "IngestStats",
    "Session",
    "SessionInfo",
    "SessionManager",
]
