"""The Python SDK over the generated stubs."""

from __future__ import annotations

from ._client import Conversation, IngestSummary, SceneMirror, SceneUpdate, Session, SoraClient
from ._codec import decode_chunk, encode_camera_frame, encode_sensor_item
from ._errors import from_rpc_error
from ._sync import SyncSession, SyncSoraClient

__all__ = [
    "Conversation",
    "IngestSummary",
    "SceneMirror",
    "SceneUpdate",
    "Session",
    "SoraClient",
    "SyncSession",
    "SyncSoraClient",
    "decode_chunk",
    "encode_camera_frame",
    "encode_sensor_item",
    "from_rpc_error",
]
