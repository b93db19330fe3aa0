"""VoiceInput: user audio in, barge-in signals and recognised utterances out (VAD + ASR + prosody).

Feed it the client's audio chunks as they arrive. It reports "speech_start" as soon as the VAD hears
speech (the session interrupts a talking avatar: barge-in), and at the end of the turn (the VAD's
hangover, or the client's own end_of_utterance flag) an "utterance" with the recognised text and the
voice features the engines use for emotion. ``feed`` runs the recogniser when an utterance ends, so call
it from an executor thread. One instance per audio stream (not thread-safe).

Speculative recognition: the end of a turn is only known after the VAD's hangover (0.4 s of silence),
but the audio of the utterance is final as soon as the pause starts, unless the user goes on. So once a
pause has lasted ``speculate_after_s`` the utterance so far is handed to the recogniser on a background
thread. When the hangover then completes on the same pause, the utterance is exactly the speculated audio
and its result is used at once (usually ready: a decode takes ~0.1-0.2 s of the hangover's remaining
~0.29 s; if not, the turn waits for it, which is still sooner than starting one). The decode is the
one the end of the turn would have run, on the same audio at the same point in the recogniser's history,
so the transcript is the same. When speech resumes first, the speculation is discarded before anything
was reported: a decode already running finishes on its thread and its result is dropped (its only trace:
the recogniser adapted its channel estimate to that audio, as it does to every utterance). Only
recognition is speculative: the dialogue engine may have side effects (memory, anchors), so the answer
starts at the end of the turn; what can be computed ahead without effects (the engine's ``prepare``) is
done by the ``on_speculation`` hook.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._affect import VoiceFeatures, voice_features
from ._asr import AsrResult, FasterWhisperAsr, PocketsphinxAsr
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
    the speech by 0–0.1 s), seconds. 0.1 recognises as well as 0.15 did (60 questions, three voices) and
    lets a speculation start 32 ms sooner.
    max_utterance_s: an utterance this long is cut and recognised even without silence, seconds.
    min_confidence: utterances recognised with less are reported with ``text`` "" (the session may ask
    the user to repeat).
    speculate_after_s: once a pause in speech has lasted this long (seconds of VAD silence), recognise the
    utterance so far in the background; if the turn ends on that pause the result is used at once, if
    speech resumes it is discarded. Effective from ``post_roll_s`` on (that much of the pause belongs to
    the utterance), useful below the VAD's ``hangover_s``; 0 disables speculation. The VAD measures in
    32 ms windows, so 0.12 starts after 128 ms of pause; a 200 ms gap between words measures 96–256 ms.
    complete_sentence_end_s: when > 0, a turn whose speculative transcript is a complete sentence of the
    scene grammar ends after this much pause (seconds) instead of the VAD's ``hangover_s``: a faster answer
    to a confident question, at the risk of cutting off a user who pauses after one and goes on (what they
    say next becomes a new turn). 0 (default) always waits for the hangover."""

    pre_roll_s: float = 0.3
    post_roll_s: float = 0.1
    max_utterance_s: float = 15.0
    min_confidence: float = 0.0
    speculate_after_s: float = 0.12
    complete_sentence_end_s: float = 0.0


@dataclass(frozen=True, eq=False)
class UserUtterance:
    """One user turn. audio: (n,) int16 mono at 16 kHz; start_s / end_s: on the stream's clock (seconds
    since the first sample fed); asr: the recogniser's result; voice: prosody for emotion; speculative:
    the result came from a recognition started during the final pause (before the turn was known to end)."""

    text: str
    audio: np.ndarray
    start_s: float
    end_s: float
    asr: AsrResult
    voice: VoiceFeatures
    speculative: bool = False


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
    future: concurrent.futures.Future[AsrResult]
    judged: bool = False  # complete_sentence_end_s: its result was looked at (and did not end the turn)


def _sample(t_s: float) -> int:
    return round(t_s * SAMPLE_RATE_HZ)


class VoiceInput:
    """Streaming end-of-turn detection and recognition over one user's audio.

    ``on_speculation(result)`` is called on the recogniser thread with each speculative result as soon as
    it is ready (before the turn is known to end, and whether or not it will be used): side-effect-free
    preparation only, such as the engine's ``prepare``. ``speculations_started`` / ``speculations_used`` /
    ``speculations_discarded`` count the speculative recognitions (see the module docstring). Call
    ``close()`` to stop the background recogniser thread.
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
        self._spec: _Speculation | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False
        self.speculations_started = 0
        self.speculations_used = 0
        self.speculations_discarded = 0

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
                self._start = max(0, n - _sample(o.pre_roll_s))
                out.append(VoiceInputEvent("speech_start", e.time_s))
            elif self._start >= 0:
                out.append(self._utterance(self._start, n + _sample(o.post_roll_s)))
        if self._start >= 0 and (self._fed - self._start) / SAMPLE_RATE_HZ >= o.max_utterance_s:
            out.append(self._utterance(self._start, self._fed))
        self._speculate(out)
        self._trim()
        return out

    def end_of_utterance(self) -> list[VoiceInputEvent]:
        """The client says the user stopped: recognise what was heard since the last speech start."""
        if self._start < 0:
            return []
        # the VAD's own speech_end for this stretch will find no open utterance and be ignored
        return [self._utterance(self._start, self._fed)]

    def close(self) -> None:
        """Discards a running speculation and stops the background recogniser thread (``feed`` still works,
        without speculation)."""
        self._closed = True
        self._discard()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> VoiceInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _speculate(self, out: list[VoiceInputEvent]) -> None:
        """Starts, keeps or discards the speculation for the current pause; may end a confident turn early."""
        o = self.options
        pause = self.vad.silence_start_s
        if self._start < 0 or pause is None or o.speculate_after_s <= 0 or self._closed:
            self._discard()  # no open utterance, or speech goes on (resumed after the pause)
            return
        end = _sample(pause) + _sample(o.post_roll_s)  # where the utterance ends if this pause ends the turn
        if self._spec is not None and (self._spec.start, self._spec.end) != (self._start, end):
            self._discard()  # speech resumed and paused again within this chunk
        if self._spec is None:
            if self.vad.silence_s < o.speculate_after_s or end > self._fed:
                return
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sora-asr-speculative")
            future = self._executor.submit(self.asr.recognize, self._slice(self._start, end), SAMPLE_RATE_HZ)
            if self.on_speculation is not None:
                future.add_done_callback(self._prepare)
            self._spec = _Speculation(self._start, end, future)
            self.speculations_started += 1
        spec = self._spec
        if o.complete_sentence_end_s > 0 and not spec.judged and self.vad.silence_s >= o.complete_sentence_end_s:
            # Waits for the decode if it is still running (as the hangover's end would), so the decision
            # depends on the audio alone, not on how fast it arrives.
            spec.judged = True
            try:
                res = spec.future.result()
            except Exception:
                return
            if res.source == "grammar" and res.confidence >= _COMPLETE_SENTENCE_CONFIDENCE:
                self.vad.end_speech()  # the turn ends here; speech after it starts a new one (and barges in)
                out.append(self._utterance(spec.start, spec.end))

    def _prepare(self, future: concurrent.futures.Future[AsrResult]) -> None:
        if future.cancelled() or future.exception() is not None or self.on_speculation is None:
            return
        try:
            self.on_speculation(future.result())
        except Exception:  # preparation only: the turn does the work again and reports its errors
            log.warning("on_speculation failed", exc_info=True)

    def _discard(self) -> None:
        if self._spec is not None:
            self._spec.future.cancel()  # a decode already running finishes on its thread; its result is dropped
            self._spec = None
            self.speculations_discarded += 1
            log.debug("speculative recognition discarded: the pause did not end the turn")

    def _slice(self, start: int, end: int) -> np.ndarray:
        return self._audio[max(0, start - self._offset) : max(0, end - self._offset)].copy()

    def _utterance(self, start: int, end: int) -> VoiceInputEvent:
        end = min(end, self._fed)
        audio = self._slice(start, end)
        self._start = -1
        spec, res = self._spec, None
        if spec is not None and (spec.start, spec.end) == (start, end):
            self._spec = None
            try:
                res = spec.future.result()  # usually done; if not, it is further along than a new decode
                self.speculations_used += 1
            except Exception:
                res = None  # decode it again below: an error there is the caller's to see
        self._discard()
        speculative = res is not None
        if res is None:
            res = self.asr.recognize(audio, SAMPLE_RATE_HZ)
        text = res.text if res.confidence >= self.options.min_confidence else ""
        utt = UserUtterance(
            text, audio, start / SAMPLE_RATE_HZ, end / SAMPLE_RATE_HZ, res, voice_features(audio, SAMPLE_RATE_HZ),
            speculative,
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
