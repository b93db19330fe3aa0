"""SceneStore: versioned scene state, deltas, subscriptions and their delivery policies."""

from __future__ import annotations

from ._channels import EpochChanged, LatestSlot, LogItem, LogReader, OrderedLog
from ._store import SceneContent, SceneDelta, SceneState, SceneStore, SceneUpdate, UpdateKind

__all__ = [
    "EpochChanged",
    "LatestSlot",
    "LogItem",
    "LogReader",
    "OrderedLog",
    "SceneContent",
    "SceneDelta",
    "SceneState",
    "SceneStore",
    "SceneUpdate",
    "UpdateKind",
]
