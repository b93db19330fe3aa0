"""Dialogue: grounded engines, speech in and out, visemes, memory."""

from __future__ import annotations

from ._engine import DialogueEngine, EmbeddedEngine

__all__ = ["DialogueEngine", "EmbeddedEngine"]
