"""The dialogue engine interface, and what a turn knows besides the user's words.

An engine turns one user turn plus the current scene summary into avatar events. Engines are plain
async generators so the session can stop them mid-turn (interrupts) by closing them. The events an
engine yields are cues and text (emotion, look_at, point_at, body, text_delta sentence by sentence,
turn_end); speech audio and visemes are added by TurnRunner.

An engine may also offer ``prepare(text, scene)``: blocking, side-effect-free work ahead of a turn that
may come (the session calls it with a transcript recognised speculatively before the user's turn ended;
the turn may never happen). EmbeddedEngine computes the query's embedding there.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from ..core.avatar import AvatarEvent, SceneSummary
from ._affect import VoiceFeatures
from ._tools import SceneTools

__all__ = ["DialogueEngine", "TurnContext", "sentences"]


@dataclass(frozen=True)
class TurnContext:
    """Everything a turn may use besides the text and the scene.

    user_id: whose memory to read and write. persona / avatar_name / style ("brief" | "normal" |
    "detailed") / language: from the conversation config. voice: prosody of the user's utterance when it
    was spoken. tools: the live scene's SceneTools (None: engines answer from the summary alone).
    previous_interrupted: the avatar's previous turn was cut off; previous_spoken_text /
    previous_unspoken_text: what of it was said and what was not.
    """

    user_id: str = "default"
    persona: str = ""
    avatar_name: str = "Sora"
    style: str = "normal"
    language: str = "en"
    voice: VoiceFeatures | None = None
    tools: SceneTools | None = None
    previous_interrupted: bool = False
    previous_spoken_text: str = ""
    previous_unspoken_text: str = ""


class DialogueEngine(Protocol):
    """``respond`` yields one turn's AvatarEvents, ending with a "turn_end"."""

    name: str

    def respond(
        self, turn_id: str, text: str, scene: SceneSummary, *, context: TurnContext | None = None
    ) -> AsyncIterator[AvatarEvent]: ...


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """Splits an answer into sentences, each with one trailing space (text deltas concatenate cleanly)."""
    return [s.strip() + " " for s in _SENTENCE.split(text.strip()) if s.strip()]
