"""TurnRunner: an engine's text becomes speech audio and lip-sync, sentence by sentence, interruptibly.

The engine runs as a producer task; the runner passes its cues and text deltas through at once and
synthesises each sentence as soon as it is complete, emitting per audio chunk a "visemes" event (keys
and blendshape frames for that chunk) followed by the "audio" event. Cue times (start_s) are restamped
to the turn's audio clock, so a look_at that arrives before the third sentence starts with it.

With ``realtime`` pacing, audio is released no more than ``lead_s`` ahead of where a client playing it
continuously would be; that playback estimate is what ``spoken_s`` reports when the user interrupts.
``interrupt()`` takes effect before the next chunk: at most the chunk being handed over completes, then
the turn ends with reason "interrupted", the seconds and text that were spoken, and the fraction of the
planned answer (all text the engine produced so far) that was spoken. The next ``run`` passes that to
the engine in its TurnContext.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ..core.avatar import AvatarEvent, SceneSummary
from ._audio import resample_pcm16
from ._engine import DialogueEngine, TurnContext
from ._tts import EspeakTts, SpeechResult, TtsOptions
from ._visemes import VisemeOptions, slice_track, viseme_track

__all__ = ["SpeakerOptions", "TurnOutcome", "TurnRunner"]

# A sentence ends at . ! ? ; : followed by whitespace. The end of the buffer does not count: streamed
# tokens may continue it ("about 2" "." "2 metres"); whatever remains when the engine ends is voiced then.
_SENTENCE_END = re.compile(r"[.!?;:](?:[\"')\]]*)\s+")
_CUE_KINDS = frozenset({"emotion", "look_at", "point_at", "body"})


@dataclass(frozen=True)
class SpeakerOptions:
    """speech_enabled: synthesise audio and visemes (False: text and cues only). tts / visemes: options of
    the synthesiser and the lip-sync. chunk_s: audio chunk length, seconds (the interrupt granularity).
    output_sample_rate_hz: resample speech to this rate (0 = the synthesiser's 22050 Hz). realtime: pace
    chunks at playback speed (False: emit as fast as synthesised, e.g. for files and tests). lead_s: how
    far audio may run ahead of the estimated playback position when paced, seconds."""

    speech_enabled: bool = True
    tts: TtsOptions = field(default_factory=TtsOptions)
    visemes: VisemeOptions = field(default_factory=VisemeOptions)
    chunk_s: float = 0.2
    output_sample_rate_hz: int = 0
    realtime: bool = True
    lead_s: float = 0.3


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended: reason ("completed" | "interrupted" | "error"), the planned answer text, what
    was spoken of it (text and seconds of audio) and the spoken share 0..1 (of characters)."""

    turn_id: str
    reason: str
    planned_text: str
    spoken_text: str
    spoken_s: float
    spoken_fraction: float

    @property
    def unspoken_text(self) -> str:
        """What is left to say, from the start of the sentence that was cut (so a resumption is whole)."""
        said = self.spoken_text
        if not said or not self.planned_text.startswith(said):
            return self.planned_text.strip()
        cut = len(said)
        if not re.search(r"[.!?;:][\"')\]]*$", said):
            m = list(re.finditer(r"[.!?;:][\"')\]]*\s+", said))
            cut = m[-1].end() if m else 0
        return self.planned_text[cut:].strip()


class _Playback:
    """Where a client that plays every chunk as soon as it arrives (and back to back) would be."""

    def __init__(self) -> None:
        self.chunks: list[tuple[float, float, float]] = []  # (wall start, audio start, duration)

    def schedule(self, audio_start_s: float, duration_s: float) -> float:
        """Records a chunk handed over now; returns its wall-clock start."""
        now = time.monotonic()
        start = max(now, self.chunks[-1][0] + self.chunks[-1][2]) if self.chunks else now
        self.chunks.append((start, audio_start_s, duration_s))
        return start

    def next_start(self) -> float:
        if not self.chunks:
            return time.monotonic()
        s, _a, d = self.chunks[-1]
        return s + d

    def position_s(self, now: float | None = None) -> float:
        """Seconds of turn audio played by ``now``."""
        t = time.monotonic() if now is None else now
        played = 0.0
        for start, audio_start, dur in self.chunks:
            if t <= start:
                break
            played = audio_start + min(dur, t - start)
        return played


class TurnRunner:
    """Runs one engine turn at a time and voices it. ``run`` is an async generator of AvatarEvents."""

    def __init__(self, engine: DialogueEngine, options: SpeakerOptions | None = None, *, tts: EspeakTts | None = None):
        self.engine = engine
        self.options = options or SpeakerOptions()
        self.tts = tts or (EspeakTts(self.options.tts) if self.options.speech_enabled else None)
        self._interrupt = asyncio.Event()
        self._reason = ""
        self.last_outcome: TurnOutcome | None = None
        self._running = False

    def interrupt(self, reason: str = "") -> bool:
        """Stops the running turn before its next audio chunk. Returns False when no turn is running."""
        if not self._running:
            return False
        self._reason = reason
        self._interrupt.set()
        return True

    @property
    def running(self) -> bool:
        return self._running

    def _context(self, context: TurnContext | None) -> TurnContext:
        ctx = context or TurnContext()
        last = self.last_outcome
        if last is not None and not ctx.previous_interrupted and not ctx.previous_spoken_text:
            ctx = dataclasses.replace(
                ctx,
                previous_interrupted=last.reason == "interrupted",
                previous_spoken_text=last.spoken_text,
                previous_unspoken_text=last.unspoken_text if last.reason == "interrupted" else "",
            )
        return ctx

    async def run(
        self, turn_id: str, text: str, scene: SceneSummary, *, context: TurnContext | None = None
    ) -> AsyncIterator[AvatarEvent]:
        """The turn's events: the engine's cues and text deltas, audio + visemes per chunk, one turn_end."""
        if self._running:
            raise RuntimeError("a turn is already running on this TurnRunner; interrupt it first")
        self._running = True
        self._interrupt = asyncio.Event()
        self._reason = ""
        ctx = self._context(context)
        queue: asyncio.Queue[AvatarEvent | None] = asyncio.Queue()

        st = _TurnState(turn_id)

        async def produce() -> None:
            try:
                async for ev in self.engine.respond(turn_id, text, scene, context=ctx):
                    if ev.kind == "text_delta":
                        st.planned += ev.text  # the planned answer, however far speech has got
                    await queue.put(ev)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await queue.put(AvatarEvent(turn_id, "turn_end", end_reason="error", detail=type(exc).__name__))
            finally:
                queue.put_nowait(None)

        producer = asyncio.get_running_loop().create_task(produce())
        try:
            async for ev in self._consume(queue, st):
                yield ev
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer
            self._running = False

    async def _consume(self, queue: asyncio.Queue[AvatarEvent | None], st: _TurnState) -> AsyncIterator[AvatarEvent]:
        error: AvatarEvent | None = None
        while True:
            ev = await self._next(queue)
            if ev is _INTERRUPTED:
                yield self._end(st, "interrupted", self._reason)
                return
            if ev is None:
                break
            assert isinstance(ev, AvatarEvent)
            if ev.kind == "turn_end":
                if ev.end_reason == "error":
                    error = ev
                continue
            if ev.kind in _CUE_KINDS:
                yield dataclasses.replace(ev, start_s=st.audio_s)
                continue
            yield ev
            if ev.kind == "text_delta":
                st.pending += ev.text
                while (m := _SENTENCE_END.search(st.pending)) is not None:
                    sentence, st.pending = st.pending[: m.end()], st.pending[m.end() :]
                    async for out in self._speak(sentence, st):
                        yield out
                    if self._interrupt.is_set():
                        yield self._end(st, "interrupted", self._reason)
                        return
        if st.pending.strip():
            async for out in self._speak(st.pending, st):
                yield out
            st.pending = ""
            if self._interrupt.is_set():
                yield self._end(st, "interrupted", self._reason)
                return
        if error is not None:
            yield self._end(st, "error", error.detail)
            return
        if self.options.realtime and self.options.speech_enabled and st.playback.chunks:
            # the turn ends when its audio has played, so an interrupt during the last second still counts
            end = st.playback.next_start()
            while time.monotonic() < end and not self._interrupt.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._interrupt.wait(), max(0.0, end - time.monotonic()))
            if self._interrupt.is_set():
                yield self._end(st, "interrupted", self._reason)
                return
        yield self._end(st, "completed", "")

    async def _next(self, queue: asyncio.Queue[AvatarEvent | None]) -> AvatarEvent | object | None:
        if self._interrupt.is_set():
            return _INTERRUPTED
        if not queue.empty():
            return queue.get_nowait()
        get = asyncio.ensure_future(queue.get())
        stop = asyncio.ensure_future(self._interrupt.wait())
        done, _ = await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if get in done:
            return get.result()
        get.cancel()
        return _INTERRUPTED

    async def _speak(self, sentence: str, st: _TurnState) -> AsyncIterator[AvatarEvent]:
        o = self.options
        text = sentence.strip()
        if not o.speech_enabled or self.tts is None or not re.search(r"\w", text):
            st.spoken_text_done += sentence
            return
        loop = asyncio.get_running_loop()
        speech: SpeechResult = await loop.run_in_executor(None, self.tts.synthesize, text)
        track = viseme_track(speech.phonemes, speech.duration_s, o.visemes)
        pcm, rate = speech.pcm, speech.sample_rate_hz
        if o.output_sample_rate_hz and o.output_sample_rate_hz != rate:
            pcm, rate = resample_pcm16(pcm, rate, o.output_sample_rate_hz), o.output_sample_rate_hz
        offset = st.audio_s
        st.sentences.append((speech, offset, sentence))
        n = max(1, round(o.chunk_s * rate))
        for i in range(0, len(pcm), n):
            if self._interrupt.is_set():
                return
            if o.realtime:
                due = st.playback.next_start() - o.lead_s
                delay = due - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._interrupt.wait(), delay)
                    if self._interrupt.is_set():
                        return
            chunk = pcm[i : i + n]
            t0, t1 = i / rate, (i + len(chunk)) / rate
            keys, frames = slice_track(track, t0, t1, offset)
            start = offset + t0
            yield AvatarEvent(st.turn_id, "visemes", start_s=start, visemes=keys, blendshapes=frames)
            yield AvatarEvent(st.turn_id, "audio", audio=chunk, sample_rate_hz=rate, start_s=start)
            st.playback.schedule(start, len(chunk) / rate)
            st.audio_s = start + len(chunk) / rate
        st.spoken_text_done += sentence

    def _end(self, st: _TurnState, reason: str, detail: str) -> AvatarEvent:
        o = self.options
        planned = (st.planned or st.spoken_text_done).strip()
        if reason == "completed":
            spoken_text, spoken_s = planned, st.audio_s
        elif o.speech_enabled:
            spoken_s = min(st.audio_s, st.playback.position_s()) if o.realtime else st.audio_s
            spoken_text = st.spoken_text_until(spoken_s)
        else:
            spoken_text, spoken_s = st.spoken_text_done.strip(), 0.0
        fraction = 1.0 if reason == "completed" else (len(spoken_text) / len(planned) if planned else 0.0)
        self.last_outcome = TurnOutcome(st.turn_id, reason, planned, spoken_text, spoken_s, fraction)
        return AvatarEvent(
            st.turn_id, "turn_end", end_reason=reason, text=spoken_text, spoken_s=round(spoken_s, 3),
            spoken_fraction=round(min(1.0, fraction), 4), detail=detail[:200],
        )  # fmt: skip


_INTERRUPTED = object()


@dataclass
class _TurnState:
    turn_id: str
    planned: str = ""  # all text the engine produced
    pending: str = ""  # text not yet voiced (an incomplete sentence)
    audio_s: float = 0.0  # turn audio handed out so far, seconds
    spoken_text_done: str = ""  # sentences fully handed out (voiced or, without speech, passed through)
    playback: _Playback = field(default_factory=_Playback)
    sentences: list[tuple[SpeechResult, float, str]] = field(default_factory=list)  # (speech, turn offset, raw)

    def spoken_text_until(self, spoken_s: float) -> str:
        """The words whose audio had started playing by ``spoken_s`` (turn clock)."""
        out = ""
        for speech, start, raw in self.sentences:
            if spoken_s <= start:
                break
            if spoken_s >= start + speech.duration_s:
                out += raw
            else:
                out += speech.spoken_text(spoken_s - start)
                break
        return out.strip()
