"""The dialogue engine interface and the embedded offline engine.

An engine turns one user turn plus the current scene summary into avatar events. Engines are
plain async generators so the session can stop them mid-turn (interrupts) by closing them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol

from ..core.avatar import AvatarEvent, SceneSummary

__all__ = ["DialogueEngine", "EmbeddedEngine"]


class DialogueEngine(Protocol):
    name: str

    def respond(self, turn_id: str, text: str, scene: SceneSummary) -> AsyncIterator[AvatarEvent]: ...


def _sentences(text: str) -> list[str]:
    return [s.strip() + " " for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]


def _describe(scene: SceneSummary) -> str:
    if scene.mesh_chunks == 0:
        return "I haven't seen any of your space yet. Move the camera around and I'll start mapping it."
    lo, hi = scene.extent_min_m, scene.extent_max_m
    size = " by ".join(f"{hi[i] - lo[i]:.1f}" for i in range(3))
    parts = [
        f"I've mapped about {scene.surface_area_m2:.1f} square metres of surface "
        f"from {scene.frames_integrated} frames, spanning {size} metres."
    ]
    if scene.planes:
        labels: dict[str, int] = {}
        for _pid, label, _area in scene.planes:
            labels[label] = labels.get(label, 0) + 1
        parts.append("I can see " + ", ".join(f"{n} {lab}{'s' if n > 1 else ''}" for lab, n in labels.items()) + ".")
    if scene.objects:
        names = [label for _oid, label, _c in scene.objects]
        parts.append(f"There are {len(names)} objects: " + ", ".join(names[:8]) + ".")
    return " ".join(parts)


class EmbeddedEngine:
    """Offline engine. Intent matching here is by keywords; the answers come from the scene."""

    name = "embedded"

    async def respond(self, turn_id: str, text: str, scene: SceneSummary) -> AsyncIterator[AvatarEvent]:
        q = text.lower()
        if re.search(r"\b(hello|hi|hey|good (morning|evening|afternoon))\b", q):
            answer, emotion = "Hello! I'm watching your space with you. Ask me what I see.", "happy"
        elif "look" in q and scene.gaze_target:
            answer = f"You're looking at {scene.gaze_target}, for {scene.gaze_dwell_s:.1f} seconds so far."
            emotion = "curious"
        elif re.search(r"\b(see|room|describe|around|where am i|map)\b", q):
            answer, emotion = _describe(scene), "neutral"
        else:
            answer = "I'm not sure what you mean yet. " + _describe(scene)
            emotion = "thinking"
        yield AvatarEvent(turn_id, "emotion", emotion=emotion, intensity=0.6)
        spoken = ""
        for sentence in _sentences(answer):
            spoken += sentence
            yield AvatarEvent(turn_id, "text_delta", text=sentence)
        yield AvatarEvent(turn_id, "turn_end", end_reason="completed", text=spoken.strip(), spoken_fraction=1.0)
