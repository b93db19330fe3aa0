"""VoiceInput: user audio in, barge-in signals and recognised utterances out (VAD + ASR + prosody).

Feed it the client's audio chunks as they arrive. It reports "speech_start" as soon as the VAD hears
speech (the session interrupts a talking avatar: barge-in), and at the end of the turn (the VAD's
hangover, or the client's own end_of_utterance flag) an "utterance" with the recognised text and the
voice features the engines use for emotion. ``feed`` runs the recogniser when an utterance ends, so call
it from an executor thread. One instance per audio stream (not thread-safe).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._affect import VoiceFeatures, voice_features
from ._asr import AsrResult, FasterWhisperAsr, PocketsphinxAsr
from ._audio import resample_pcm16
from ._vad import SAMPLE_RATE_HZ, SileroVad

__all__ = ["UserUtterance", "VoiceInput", "VoiceInputEvent", "VoiceInputOptions"]


@dataclass(frozen=True)
class VoiceInputOptions:
    """pre_roll_s: audio kept before the VAD's speech start (it fires a little late), seconds.
    post_roll_s: audio kept after its speech end. max_utterance_s: an utterance this long is cut and
    recognised even without silence. min_confidence: utterances recognised with less are reported with
    ``text`` "" (the session may ask the user to repeat)."""

    pre_roll_s: float = 0.3
    post_roll_s: float = 0.15
    max_utterance_s: float = 15.0
    min_confidence: float = 0.0


@dataclass(frozen=True, eq=False)
class UserUtterance:
    """One user turn. audio: (n,) int16 mono at 16 kHz; start_s / end_s: on the stream's clock (seconds
    since the first sample fed); asr: the recogniser's result; voice: prosody for emotion."""

    text: str
    audio: np.ndarray
    start_s: float
    end_s: float
    asr: AsrResult
    voice: VoiceFeatures


@dataclass(frozen=True)
class VoiceInputEvent:
    """kind: "speech_start" (barge-in) | "utterance"; time_s on the stream's clock."""

    kind: str
    time_s: float
    utterance: UserUtterance | None = None


class VoiceInput:
    """Streaming end-of-turn detection and recognition over one user's audio."""

    def __init__(
        self,
        asr: PocketsphinxAsr | FasterWhisperAsr,
        vad: SileroVad | None = None,
        options: VoiceInputOptions | None = None,
    ) -> None:
        self.asr = asr
        self.vad = vad or SileroVad()
        self.options = options or VoiceInputOptions()
        self._audio = np.zeros(0, np.int16)  # 16 kHz audio kept from _offset on
        self._offset = 0  # stream sample index of _audio[0]
        self._fed = 0
        self._start = -1  # stream sample where the current utterance starts (-1: none)

    def feed(self, pcm: np.ndarray, sample_rate_hz: int) -> list[VoiceInputEvent]:
        """(n,) int16 mono at any rate → events completed by this chunk (blocking when one is an utterance)."""
        x = resample_pcm16(np.asarray(pcm, dtype=np.int16), sample_rate_hz, SAMPLE_RATE_HZ)
        self._audio = np.concatenate([self._audio, x])
        self._fed += len(x)
        out: list[VoiceInputEvent] = []
        for e in self.vad.process(x):
            n = int(e.time_s * SAMPLE_RATE_HZ)
            if e.kind == "speech_start":
                self._start = max(0, n - int(self.options.pre_roll_s * SAMPLE_RATE_HZ))
                out.append(VoiceInputEvent("speech_start", e.time_s))
            elif self._start >= 0:
                out.append(self._utterance(self._start, n + int(self.options.post_roll_s * SAMPLE_RATE_HZ)))
        if self._start >= 0 and (self._fed - self._start) / SAMPLE_RATE_HZ >= self.options.max_utterance_s:
            out.append(self._utterance(self._start, self._fed))
        self._trim()
        return out

    def end_of_utterance(self) -> list[VoiceInputEvent]:
        """The client says the user stopped: recognise what was heard since the last speech start."""
        if self._start < 0:
            return []
        # the VAD's own speech_end for this stretch will find no open utterance and be ignored
        return [self._utterance(self._start, self._fed)]

    def _utterance(self, start: int, end: int) -> VoiceInputEvent:
        end = min(end, self._fed)
        audio = self._audio[max(0, start - self._offset) : max(0, end - self._offset)].copy()
        self._start = -1
        res = self.asr.recognize(audio, SAMPLE_RATE_HZ)
        text = res.text if res.confidence >= self.options.min_confidence else ""
        utt = UserUtterance(
            text, audio, start / SAMPLE_RATE_HZ, end / SAMPLE_RATE_HZ, res, voice_features(audio, SAMPLE_RATE_HZ)
        )
        return VoiceInputEvent("utterance", end / SAMPLE_RATE_HZ, utt)

    def _trim(self) -> None:
        # idle: keep enough for a speech start the VAD reports late (pre-roll, its run length, a chunk)
        idle_keep = int((self.options.pre_roll_s + 2.0) * SAMPLE_RATE_HZ)
        keep_from = self._start if self._start >= 0 else self._fed - idle_keep
        drop = max(0, keep_from - self._offset)
        if drop:
            self._audio = self._audio[drop:]
            self._offset += drop
