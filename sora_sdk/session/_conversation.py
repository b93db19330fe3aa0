"""A session's conversation with the avatar: turns, interrupts, and the ordered event log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from ..core.avatar import AvatarEvent
from ..dialogue import DialogueEngine
from ..scene import OrderedLog
from ._session import Session

__all__ = ["Conversation"]

log = logging.getLogger("sora.dialogue")


class Conversation:
    """Runs one turn at a time; a new turn or an interrupt stops the one in progress.

    Events go to ``session.avatar_events`` (an OrderedLog), so a client that reconnects resumes
    from its last position without gaps or duplicates.
    """

    def __init__(self, session: Session, engine: DialogueEngine) -> None:
        self.session = session
        self.engine = engine
        self.log: OrderedLog[AvatarEvent] = session.avatar_events
        self._turn: asyncio.Task[None] | None = None
        self._turn_id = ""
        self._spoken: list[str] = []
        self.last_turn_interrupted = False

    def say(self, text: str) -> str:
        """Starts a turn answering ``text``; returns its turn ID."""
        self.interrupt("new turn")
        turn_id = uuid.uuid4().hex[:12]
        self._turn_id = turn_id
        self._spoken = []
        self._turn = asyncio.get_running_loop().create_task(self._run(turn_id, text))
        return turn_id

    async def _run(self, turn_id: str, text: str) -> None:
        try:
            async for event in self.engine.respond(turn_id, text, self.session.summary()):
                if event.kind == "text_delta":
                    self._spoken.append(event.text)
                self.log.append(event)
                await asyncio.sleep(0)  # let an interrupt in between events
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("dialogue engine %s failed", self.engine.name)
            self.log.append(AvatarEvent(turn_id, "turn_end", end_reason="error", detail=type(exc).__name__))
        self.last_turn_interrupted = False

    def interrupt(self, reason: str = "") -> bool:
        """Stops the current turn (if any) and records how much of it was said."""
        if self._turn is None or self._turn.done():
            return False
        self._turn.cancel()
        self.last_turn_interrupted = True
        spoken = "".join(self._spoken).strip()
        self.log.append(
            AvatarEvent(self._turn_id, "turn_end", end_reason="interrupted", text=spoken, detail=reason[:200])
        )
        return True

    async def close(self) -> None:
        if self._turn is not None:
            self._turn.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._turn
