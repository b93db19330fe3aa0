"""VoiceInput: user audio in, barge-in signals and recognised utterances out (VAD + ASR + prosody).

Feed it the client's audio chunks as they arrive. It reports "speech_start" as soon as the VAD hears
speech (the session interrupts a talking avatar: barge-in), and at the end of the turn an "utterance"
with the recognised text and the voice features the engines use for emotion. ``feed`` may wait for the
recogniser when an utterance ends, so call it from an executor thread. One instance per audio stream
(not thread-safe).

Incremental recognition: from the speech start on, the utterance's audio goes to the recogniser as it
arrives (``asr.stream()``, on a background thread), up to where the utterance could end (the start of the
current pause, plus ``post_roll_s``). When the utterance ends, only the recogniser's last step is left
(pocketsphinx: 20 ms median, 28 ms p90 on a loaded 2-core CPU, instead of 0.1–0.2 s for the whole
utterance; the first utterance of a conversation is still decoded whole, see ``PocketsphinxAsr.stream``).

Speculative recognition: the end of a turn is only known after the VAD's hangover (0.4 s of silence),
but the audio of the utterance is final as soon as the pause starts, unless the user goes on. So once a
pause has lasted ``speculate_after_s`` the recognition is finished on the background thread as if the
turn ended there; when the turn then ends on that pause, that result is the turn's. When speech resumes
first, the speculation is discarded before anything was reported, and the utterance is recognised again
from its start in the background (one utterance, not two pieces), which catches up with the user within
a fraction of the time they keep speaking (the decode runs at about a tenth of real time). Only
recognition is speculative: the dialogue engine may have side effects (memory, anchors), so the answer
starts at the end of the turn; what can be computed ahead without effects (the engine's ``prepare``) is
done by the ``on_speculation`` hook.

Semantic end of turn: when the speculative transcript is a complete sentence of the scene grammar, heard
to its end (``AsrResult.settled``: the grammar search completes a partial "where is" to "where is it" in
the silence after it), that the grammar does not continue ("where is the red mug", not "how far is the
green plant", which can go on with "from me"), the turn ends after ``complete_sentence_end_s`` of pause
instead of the VAD's hangover. This is what lets a spoken question's answer start ~0.2 s after its end; the risk is a
user who pauses that long after such a sentence and goes on: what they say next becomes a new turn (it
barges in on the answer). Everything else (partial or out-of-grammar speech, the language model's
transcripts) waits for the hangover.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._affect import VoiceFeatures, voice_features
from ._asr import AsrResult, AsrStream, BufferedAsrStream, FasterWhisperAsr, PocketsphinxAsr
from ._audio import resample_pcm16
from ._vad import SAMPLE_RATE_HZ, SileroVad

__all__ = ["UserUtterance", "VoiceInput", "VoiceInputEvent", "VoiceInputOptions"]

log = logging.getLogger("sora.dialogue")

# A pocketsphinx "complete sentence of the scene grammar" (AsrResult.confidence heuristic).
_COMPLETE_SENTENCE_CONFIDENCE = 0.9


@dataclass(frozen=True)
class VoiceInputOptions:
    """pre_roll_s: audio kept before the VAD's speech start (it fires a little late), seconds.
    post_roll_s: audio kept after its speech end (the start of the final pause; the VAD's end already lags
    the speech by 0–0.12 s, 48 ms median), seconds. 0.1 recognised as well as 0.15 did (60 questions, three
    voices), and 0.06 as well as 0.1 (104 questions, four voices: 82 exact both ways); 0.06 fits in two
    32 ms VAD windows, so a speculation can start after two windows of pause instead of four.
    max_utterance_s: an utterance this long is cut and recognised even without silence, seconds.
    min_confidence: utterances recognised with less are reported with ``text`` "" (the session may ask
    the user to repeat).
    incremental: recognise the utterance while it is spoken (a recogniser with ``stream()``); False
    recognises the whole utterance when it ends (or speculatively, in the pause).
    speculate_after_s: once a pause in speech has lasted this long (seconds of VAD silence), finish the
    recognition of the utterance so far in the background; if the turn ends on that pause the result is
    used at once, if speech resumes it is discarded. Effective from ``post_roll_s`` on (that much of the
    pause belongs to the utterance), useful below the VAD's ``hangover_s``; 0 disables speculation (and
    the semantic end of turn). The VAD measures in 32 ms windows, so 0.06 starts after 64 ms of pause; a
    200 ms gap between words measures 96–256 ms.
    complete_sentence_end_s: a turn whose speculative transcript is a complete sentence of the scene
    grammar, heard to its end, that the grammar does not continue ends after this much pause (seconds)
    instead of the VAD's ``hangover_s``: the answer to a confident question starts sooner, at the risk of
    cutting off a user who pauses that long after one and goes on (what they say next becomes a new
    turn). In 32 ms windows of the VAD's silence, which starts 0–0.12 s after the last audible sample
    (48 ms median): 0.12 waits 128 ms of it, about
    0.18 s of real pause; 0 always waits for the hangover."""

    pre_roll_s: float = 0.3
    post_roll_s: float = 0.06
    max_utterance_s: float = 15.0
    min_confidence: float = 0.0
    incremental: bool = True
    speculate_after_s: float = 0.06
    complete_sentence_end_s: float = 0.12


@dataclass(frozen=True, eq=False)
class UserUtterance:
    """One user turn. audio: (n,) int16 mono at 16 kHz; start_s / end_s: on the stream's clock (seconds
    since the first sample fed); asr: the recogniser's result; voice: prosody for emotion; speculative:
    the result came from a recognition finished during the final pause (before the turn was known to end);
    early_end: the turn ended on a complete sentence before the VAD's hangover (complete_sentence_end_s)."""

    text: str
    audio: np.ndarray
    start_s: float
    end_s: float
    asr: AsrResult
    voice: VoiceFeatures
    speculative: bool = False
    early_end: bool = False


@dataclass(frozen=True)
class VoiceInputEvent:
    """kind: "speech_start" (barge-in) | "utterance"; time_s on the stream's clock."""

    kind: str
    time_s: float
    utterance: UserUtterance | None = None


@dataclass
class _Speculation:
    start: int  # stream samples of the speculated utterance, [start, end)
    end: int
    stream: AsrStream
    future: concurrent.futures.Future[AsrResult]
    judged: bool = False  # complete_sentence_end_s: its result was looked at (and did not end the turn)


def _finishes_the_turn(res: AsrResult) -> bool:
    """A complete scene-grammar sentence, heard to its end, that the grammar does not continue."""
    complete = res.source == "grammar" and res.confidence >= _COMPLETE_SENTENCE_CONFIDENCE
    return complete and res.settled and not res.continues


def _sample(t_s: float) -> int:
    return round(t_s * SAMPLE_RATE_HZ)


class VoiceInput:
    """Streaming end-of-turn detection and recognition over one user's audio.

    ``on_speculation(result)`` is called on the recogniser thread with each speculative result as soon as
    it is ready (before the turn is known to end, and whether or not it will be used): side-effect-free
    preparation only, such as the engine's ``prepare``. ``speculations_started`` / ``speculations_used`` /
    ``speculations_discarded`` count the speculative recognitions, ``early_ends`` the turns ended on a
    complete sentence (see the module docstring). Call ``close()`` to stop the background recogniser thread.
    """

    def __init__(
        self,
        asr: PocketsphinxAsr | FasterWhisperAsr,
        vad: SileroVad | None = None,
        options: VoiceInputOptions | None = None,
        *,
        on_speculation: Callable[[AsrResult], object] | None = None,
    ) -> None:
        self.asr = asr
        self.on_speculation = on_speculation
        self.vad = vad or SileroVad()
        self.options = options or VoiceInputOptions()
        self._audio = np.zeros(0, np.int16)  # 16 kHz audio kept from _offset on
        self._offset = 0  # stream sample index of _audio[0]
        self._fed = 0
        self._start = -1  # stream sample where the current utterance starts (-1: none)
        self._stream: AsrStream | None = None  # the current utterance's recognition, fed [_start, _streamed)
        self._streamed = 0
        self._spec: _Speculation | None = None  # the recognition finished in the current pause
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False
        self.speculations_started = 0
        self.speculations_used = 0
        self.speculations_discarded = 0
        self.early_ends = 0

    def feed(self, pcm: np.ndarray, sample_rate_hz: int) -> list[VoiceInputEvent]:
        """(n,) int16 mono at any rate → events completed by this chunk (blocking when one is an utterance)."""
        o = self.options
        x = resample_pcm16(np.asarray(pcm, dtype=np.int16), sample_rate_hz, SAMPLE_RATE_HZ)
        self._audio = np.concatenate([self._audio, x])
        self._fed += len(x)
        out: list[VoiceInputEvent] = []
        for e in self.vad.process(x):
            n = _sample(e.time_s)
            if e.kind == "speech_start":
                self._discard()
                self._drop_stream()
                self._start = max(0, n - _sample(o.pre_roll_s))
                self._open_stream(self._start)
                out.append(VoiceInputEvent("speech_start", e.time_s))
            elif self._start >= 0:
                out.append(self._utterance(self._start, n + _sample(o.post_roll_s)))
        if self._start >= 0 and (self._fed - self._start) / SAMPLE_RATE_HZ >= o.max_utterance_s:
            out.append(self._utterance(self._start, self._fed))
        self._listen(out)
        self._trim()
        return out

    def end_of_utterance(self) -> list[VoiceInputEvent]:
        """The client says the user stopped: recognise what was heard since the last speech start."""
        if self._start < 0:
            return []
        # the VAD's own speech_end for this stretch will find no open utterance and be ignored
        if self._spec is not None:  # said in a pause the recogniser has heard the utterance end in
            return [self._utterance(self._spec.start, self._spec.end)]
        return [self._utterance(self._start, self._fed)]

    def close(self) -> None:
        """Discards the recognition under way and stops the background recogniser thread (``feed`` still
        works, recognising each utterance when it ends)."""
        self._closed = True
        self._discard()
        self._drop_stream()
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = None

    def __enter__(self) -> VoiceInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _listen(self, out: list[VoiceInputEvent]) -> None:
        """Keeps the recognition fed; starts, keeps or discards the speculation for the current pause; may
        end a turn on a complete sentence."""
        o = self.options
        if self._start < 0 or self._closed:
            return
        post_roll = _sample(o.post_roll_s)
        pause = self.vad.silence_start_s
        if pause is None:  # speaking: a pause to come starts after what the VAD has heard
            if self._spec is not None:
                self._resume()  # speech resumed: the pause did not end the turn
            self._advance(min(self._fed, _sample(self.vad.time_s) + post_roll))
            return
        end = _sample(pause) + post_roll  # where the utterance ends if this pause ends the turn
        if self._spec is not None and self._spec.end != end:
            self._resume()  # speech resumed and paused again within this chunk
        if self._spec is None:
            self._advance(min(self._fed, end))
            if o.speculate_after_s <= 0 or self.vad.silence_s < o.speculate_after_s or end > self._fed:
                return
            stream = self._stream
            if stream is None:
                return
            future = self._finish(end)
            if self.on_speculation is not None:
                future.add_done_callback(self._prepare)
            self._spec = _Speculation(self._start, end, stream, future)
            self.speculations_started += 1
        spec = self._spec
        if o.complete_sentence_end_s > 0 and not spec.judged and self.vad.silence_s >= o.complete_sentence_end_s:
            # Waits for the recognition if it is still running (as the hangover's end would), so the
            # decision depends on the audio alone, not on how fast it arrives.
            spec.judged = True
            try:
                res = spec.future.result()
            except Exception:
                return
            if _finishes_the_turn(res):
                self.vad.end_speech()  # the turn ends here; speech after it starts a new one (and barges in)
                self.early_ends += 1
                out.append(self._utterance(spec.start, spec.end, early_end=True))

    def _submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        if self._worker is None:
            self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sora-asr")
        return self._worker.submit(fn, *args)

    def _open_stream(self, start: int) -> None:
        """Starts recognising the utterance that starts at stream sample ``start`` in the background."""
        if self._closed:
            return
        incremental = self.options.incremental and hasattr(self.asr, "stream")
        self._stream = self.asr.stream() if incremental else BufferedAsrStream(self.asr)
        self._streamed = start

    def _advance(self, upto: int) -> None:
        """Hands the utterance's audio up to stream sample ``upto`` to its recognition."""
        if self._stream is not None and upto > self._streamed:
            self._submit(self._stream.feed, self._slice(self._streamed, upto))
            self._streamed = upto

    def _finish(self, end: int) -> concurrent.futures.Future[AsrResult]:
        """The utterance ends at ``end``: its result, computed in the background (the stream is used up)."""
        assert self._stream is not None and self._streamed <= end
        self._advance(end)
        future = self._submit(self._stream.finish)
        self._stream = None
        return future

    def _resume(self) -> None:
        """Speech went on after a speculation: discards it and recognises the utterance again from its start."""
        self._discard()
        self._open_stream(self._start)

    def _prepare(self, future: concurrent.futures.Future[AsrResult]) -> None:
        if future.cancelled() or future.exception() is not None or self.on_speculation is None:
            return
        try:
            self.on_speculation(future.result())
        except Exception:  # preparation only: the turn does the work again and reports its errors
            log.warning("on_speculation failed", exc_info=True)

    def _discard(self) -> None:
        if self._spec is not None:
            self._spec.future.cancel()  # a recognition already running finishes on its thread; its result is dropped
            self._spec.stream.cancel()
            self._spec = None
            self.speculations_discarded += 1
            log.debug("speculative recognition discarded: the pause did not end the turn")

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.cancel()
            self._stream = None

    def _slice(self, start: int, end: int) -> np.ndarray:
        return self._audio[max(0, start - self._offset) : max(0, end - self._offset)].copy()

    def _utterance(self, start: int, end: int, *, early_end: bool = False) -> VoiceInputEvent:
        end = min(end, self._fed)
        audio = self._slice(start, end)
        self._start = -1
        spec, res, speculative = self._spec, None, False
        if spec is not None and (spec.start, spec.end) == (start, end):
            self._spec = None
            try:
                res = spec.future.result()  # usually done; if not, it is further along than a new decode
                self.speculations_used += 1
                speculative = True
            except Exception:
                res = None  # recognised again below: an error there is the caller's to see
        else:
            if self._stream is None or self._streamed > end:  # a speculation used it up, or closed
                self._discard()
                self._open_stream(start)
            if self._stream is not None:
                try:
                    res = self._finish(end).result()  # the audio so far is usually decoded already
                except Exception:
                    res = None  # recognised again below
        self._discard()
        self._drop_stream()
        if res is None:
            res = self.asr.recognize(audio, SAMPLE_RATE_HZ)
        text = res.text if res.confidence >= self.options.min_confidence else ""
        utt = UserUtterance(
            text, audio, start / SAMPLE_RATE_HZ, end / SAMPLE_RATE_HZ, res, voice_features(audio, SAMPLE_RATE_HZ),
            speculative, early_end,
        )  # fmt: skip
        return VoiceInputEvent("utterance", end / SAMPLE_RATE_HZ, utt)

    def _trim(self) -> None:
        # idle: keep enough for a speech start the VAD reports late (pre-roll, its run length, a chunk)
        idle_keep = int((self.options.pre_roll_s + 2.0) * SAMPLE_RATE_HZ)
        keep_from = self._start if self._start >= 0 else self._fed - idle_keep
        drop = max(0, keep_from - self._offset)
        if drop:
            self._audio = self._audio[drop:]
            self._offset += drop
