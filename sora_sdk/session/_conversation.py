"""A session's conversation with the avatar: turns, speech in and out, interrupts, the event log.

One turn runs at a time on a TurnRunner (engine -> text deltas -> speech chunks with visemes). A new
turn, an explicit interrupt or the user starting to speak (barge-in, from the voice-activity
detector) stops the running turn before its next audio chunk; its ``turn_end`` says how much was
spoken, and the next turn is told it was interrupted. Every event goes to the session's
``avatar_events`` log, so a client that reconnects resumes without gaps or duplicates.

Latency from the end of the user's speech to the avatar's first audio: the speech recogniser and the
engine's models are loaded when the conversation opens (``dialogue.warm_up``), not at the first turn; an
utterance is recognised while it is spoken (``dialogue.incremental_recognition``) and finished in the pause
before the end of the turn (``dialogue.speculate_after_s``), and a complete scene-grammar question ends the
turn after a short pause (``dialogue.complete_sentence_end_s``) instead of the hangover (see VoiceInput),
so the answer starts about 0.2 s after the user stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.avatar import AnchorSummary, AvatarEvent, SceneSummary
from ..core.geometry import Pose
from ..core.scene import Anchor, RaycastHit
from ..dialogue import (
    AsrResult,
    DialogueEngine,
    PocketsphinxAsr,
    SileroVad,
    SpeakerOptions,
    SummarySceneTools,
    TtsOptions,
    TurnContext,
    TurnRunner,
    VadOptions,
    VoiceFeatures,
    VoiceInput,
    VoiceInputOptions,
    default_embedder,
)
from ._session import Session

__all__ = ["Conversation", "ConversationOptions", "SessionSceneTools"]

log = logging.getLogger("sora.dialogue")


# A pocketsphinx decoder holds ~100 MB (the en-us acoustic model and dictionary) that the allocator
# does not hand back when it is freed, so closed conversations give theirs back for the next one.
_RECOGNISER_POOL_SIZE = 4
_recognisers: list[PocketsphinxAsr] = []
_recognisers_lock = threading.Lock()


def _take_recogniser() -> PocketsphinxAsr:
    with _recognisers_lock:
        if _recognisers:
            return _recognisers.pop()
    return PocketsphinxAsr()


def _give_back_recogniser(asr: object) -> None:
    if not isinstance(asr, PocketsphinxAsr):
        return
    with _recognisers_lock:
        if len(_recognisers) < _RECOGNISER_POOL_SIZE:
            _recognisers.append(asr)


@dataclass(frozen=True)
class ConversationOptions:
    """From the client's ConversationConfig."""

    user_id: str = "default"
    persona: str = ""
    avatar_name: str = "Sora"
    voice: str = "en-us"
    language: str = "en"
    style: str = "normal"
    speech_enabled: bool = True
    output_sample_rate_hz: int = 0
    realtime: bool = True


class SessionSceneTools(SummarySceneTools):
    """SceneTools over the live session: queries from the turn's summary, raycasts and anchors for real."""

    def __init__(self, session: Session, summary: SceneSummary) -> None:
        super().__init__(summary, default_embedder())
        self.session = session

    async def raycast(
        self, origin_world_m: Sequence[float], direction_world: Sequence[float], max_distance_m: float = 10.0
    ) -> RaycastHit | None:
        return await self.session.raycast(
            np.asarray(origin_world_m, dtype=np.float64), np.asarray(direction_world, dtype=np.float64), max_distance_m
        )

    async def create_anchor(
        self, at: str = "pointing", *, label: str = "", point_world_m: Sequence[float] | None = None
    ) -> AnchorSummary | None:
        placed = await super().create_anchor(at, label=label, point_world_m=point_world_m)
        if placed is None:
            return None
        import time

        anchor = Anchor(
            anchor_id=uuid.uuid4().hex[:16],
            version=self.session.scene.position.sequence + 1,
            pose_world_anchor=Pose.from_rotation_translation(np.eye(3), np.asarray(placed.position_world_m)),
            label=label or placed.label,
            created_time_s=time.time(),
        )
        self.session.add_anchor(anchor)
        return AnchorSummary(anchor.anchor_id, anchor.label, placed.position_world_m)


class Conversation:
    def __init__(self, session: Session, engine: DialogueEngine, options: ConversationOptions) -> None:
        self.session = session
        self.engine = engine
        self.options = options
        self.log = session.avatar_events
        self.runner = TurnRunner(
            engine,
            SpeakerOptions(
                speech_enabled=options.speech_enabled,
                tts=TtsOptions(voice=options.voice or "en-us"),
                output_sample_rate_hz=options.output_sample_rate_hz,
                realtime=options.realtime,
            ),
        )
        self._turn: asyncio.Task[None] | None = None
        self._voice: VoiceInput | None = None
        self._voice_task: asyncio.Future[VoiceInput] | None = None
        self._heard_summary: SceneSummary | None = None  # the scene when audio last arrived
        self._warm_up: asyncio.Task[None] | None = None
        if session.config.dialogue.warm_up:
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to warm up in the background
                self._warm_up = asyncio.get_running_loop().create_task(self._warm())

    async def _warm(self) -> None:
        """Loads what the first turn would otherwise wait for: the engine's models.

        The voice input (a pocketsphinx decoder, ~100 MB that the allocator does not give back) is made
        on the first audio only: text-only conversations must not pay for it.
        """
        warm_up = getattr(self.engine, "warm_up", None)
        jobs = [asyncio.to_thread(warm_up)] if callable(warm_up) else []
        for result in await asyncio.gather(*jobs, return_exceptions=True):
            if isinstance(result, Exception):  # the first turn tries again and reports the error where it belongs
                log.warning("conversation warm-up failed", exc_info=result)

    def _make_voice_input(self, summary: SceneSummary) -> VoiceInput:
        d = self.session.config.dialogue
        asr = _take_recogniser()
        asr.reset_channel()  # another user, another microphone: the first utterance is decoded whole
        voice = VoiceInput(
            asr,
            SileroVad(VadOptions(hangover_s=d.end_of_turn_silence_s)),
            VoiceInputOptions(
                incremental=d.incremental_recognition,
                speculate_after_s=d.speculate_after_s,
                complete_sentence_end_s=d.complete_sentence_end_s,
            ),
            on_speculation=self._prepare_answer,
        )
        voice.asr.set_scene(summary)  # the grammar for the scene as it is now
        return voice

    def _prepare_answer(self, heard: AsrResult) -> None:
        """On the recogniser's thread, with a transcript heard before the turn ended: the engine's
        side-effect-free preparation (EmbeddedEngine: the query embedding), as the turn may never come."""
        prepare = getattr(self.engine, "prepare", None)
        if callable(prepare) and heard.text.strip():
            prepare(heard.text, self._heard_summary)

    async def _voice_input(self) -> VoiceInput:
        if self._voice is None:
            task = self._voice_task
            if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
                summary = self.session.summary()
                task = self._voice_task = asyncio.ensure_future(asyncio.to_thread(self._make_voice_input, summary))
            self._voice = await asyncio.shield(task)  # shared by the warm-up and the first hear()
        return self._voice

    def say(self, text: str, *, voice: VoiceFeatures | None = None) -> str:
        """Starts a turn answering ``text`` (stopping the running one first); returns its turn ID."""
        turn_id = uuid.uuid4().hex[:12]
        previous = self._turn
        self._turn = asyncio.get_running_loop().create_task(self._run(turn_id, text, previous, voice))
        return turn_id

    async def _run(self, turn_id: str, text: str, previous: asyncio.Task[None] | None, voice: Any) -> None:
        if previous is not None and not previous.done():
            self.runner.interrupt("new turn")
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous
        o = self.options
        summary = self.session.summary()
        ctx = TurnContext(
            user_id=o.user_id, persona=o.persona, avatar_name=o.avatar_name, style=o.style,
            language=o.language, voice=voice, tools=SessionSceneTools(self.session, summary),
        )  # fmt: skip
        try:
            async for event in self.runner.run(turn_id, text, summary, context=ctx):
                self.log.append(event)
        except Exception as exc:
            log.exception("dialogue turn failed")
            self.log.append(AvatarEvent(turn_id, "turn_end", end_reason="error", detail=type(exc).__name__))

    def interrupt(self, reason: str = "") -> bool:
        """Stops the running turn before its next audio chunk."""
        return self.runner.interrupt(reason or "interrupt")

    async def hear(self, pcm: np.ndarray, sample_rate_hz: int, *, end_of_utterance: bool = False) -> None:
        """User speech: barge-in stops the avatar; a finished utterance becomes a turn."""
        voice = await self._voice_input()
        summary = self._heard_summary = self.session.summary()

        def feed() -> list[Any]:
            # The recogniser listens for the live scene's vocabulary (cheap when it has not changed).
            voice.asr.set_scene(summary)
            events = voice.feed(pcm, sample_rate_hz)
            if end_of_utterance:
                events += voice.end_of_utterance()
            return events

        events = await asyncio.to_thread(feed)
        for ev in events:
            if ev.kind == "speech_start" and self.runner.running:
                self.interrupt("barge-in")
            elif ev.kind == "utterance" and ev.utterance is not None and ev.utterance.text.strip():
                u = ev.utterance
                if u.speculative:
                    log.debug("utterance %r recognised speculatively during the end-of-turn pause", u.text)
                tid = uuid.uuid4().hex[:12]
                self.log.append(AvatarEvent(tid, "transcript", text=u.text, is_final=True, intensity=u.asr.confidence))
                self.say(u.text, voice=u.voice)

    async def wait_idle(self) -> None:
        while self._turn is not None and not self._turn.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._turn

    async def close(self) -> None:
        if self._warm_up is not None:
            self._warm_up.cancel()
        if self._turn is not None and not self._turn.done():
            self.runner.interrupt("conversation closed")
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._turn, 2)
        if self._voice is not None:
            self._voice.close()
            _give_back_recogniser(self._voice.asr)
            self._voice = None
