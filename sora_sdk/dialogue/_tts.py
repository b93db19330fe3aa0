"""Speech synthesis with espeak-ng (the library and voice data shipped by ``espeakng-loader``), via ctypes.

espeak-ng's C API keeps one process-global synthesiser (one callback, one voice, one parameter set) and
is not thread-safe, so every call into it here holds ``ESPEAK_LOCK``; concurrent ``synthesize`` calls from
executor threads are serialised (a 5 s sentence takes ~15 ms, so the wait is short). The library is
initialised once per process with ``AUDIO_OUTPUT_SYNCHRONOUS`` (PCM comes back through a callback on the
calling thread, nothing is played) and ``espeakINITIALIZE_PHONEME_EVENTS`` (phoneme events with their sample
position), which is what lip-sync needs. Not ``AUDIO_OUTPUT_RETRIEVAL``: that mode synthesises on espeak-ng's
own thread, and ``espeak_Synchronize`` polls it every 20 ms, so each sentence took a multiple of 20 ms
(20 ms for "I count two chairs." that synchronously takes 2 ms; same samples and events).
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ESPEAK_LOCK",
    "EspeakTts",
    "SpeechResult",
    "TtsOptions",
    "split_sentences",
    "synthesize",
]

#: Held around every call into libespeak-ng (process-global state, not thread-safe).
ESPEAK_LOCK = threading.RLock()

# speak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_PARAM_VOLUME = 2
_PARAM_PITCH = 3
_PARAM_WORDGAP = 7


class _EspeakEvent(ctypes.Structure):
    # espeak_EVENT; ``id`` is a union whose ``char string[8]`` member carries phoneme names.
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_EspeakEvent)
)


@dataclass
class _Job:
    chunks: list[np.ndarray] = field(default_factory=list)
    phonemes: list[tuple[str, float]] = field(default_factory=list)
    words: list[tuple[int, int, float]] = field(default_factory=list)
    abort: threading.Event | None = None


class _Espeak:
    """The process's one libespeak-ng instance. Use only while holding ESPEAK_LOCK."""

    _instance: _Espeak | None = None

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate_hz = int(self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INIT_PHONEME_EVENTS))
        if self.sample_rate_hz <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({self.sample_rate_hz})")
        self._callback = _SynthCallback(self._on_synth)  # kept referenced: the C side holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)
        self.job: _Job | None = None
        self._voice = b""
        self._params: dict[int, int] = {}

    @classmethod
    def get(cls) -> _Espeak:
        with ESPEAK_LOCK:
            if cls._instance is None:
                cls._instance = _Espeak()
            return cls._instance

    def _on_synth(self, wav: ctypes._Pointer, n: int, events: ctypes._Pointer) -> int:  # type: ignore[type-arg]
        job = self.job
        if job is None:
            return 1
        if n > 0:
            job.chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while True:
            ev = events[i]
            if ev.type == _EVENT_LIST_TERMINATED:
                break
            t = ev.sample / self.sample_rate_hz
            if ev.type == _EVENT_PHONEME:
                job.phonemes.append((bytes(ev.id).split(b"\0", 1)[0].decode("ascii", "replace"), t))
            elif ev.type == _EVENT_WORD:
                job.words.append((ev.text_position - 1, ev.length, t))
            i += 1
        return 1 if job.abort is not None and job.abort.is_set() else 0

    def set_voice(self, voice: str) -> None:
        v = voice.encode()
        if v != self._voice:
            if self.lib.espeak_SetVoiceByName(v) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}")
            self._voice = v
            self._params.clear()  # a voice change resets parameters

    def set_param(self, param: int, value: int) -> None:
        if self._params.get(param) != value:
            self.lib.espeak_SetParameter(param, int(value), 0)
            self._params[param] = value

    def synth(self, text: str, abort: threading.Event | None) -> _Job:
        job = _Job(abort=abort)
        buf = text.encode("utf-8") + b"\0"
        self.job = job
        try:
            self.lib.espeak_Synth(buf, len(buf), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
        finally:
            self.job = None
        return job


@dataclass(frozen=True)
class TtsOptions:
    """Options for EspeakTts.

    voice: espeak-ng voice name ("en-us", "en-gb", "de" …). rate_wpm: speaking rate, words per minute
    (espeak-ng's default 175; 80..450). pitch: base pitch 0..100 (50 normal). volume: 0..200 (100 normal).
    word_gap_10ms: extra pause between words, units of 10 ms.
    """

    voice: str = "en-us"
    rate_wpm: int = 175
    pitch: int = 50
    volume: int = 100
    word_gap_10ms: int = 0


@dataclass(frozen=True, eq=False)
class SpeechResult:
    """One synthesised text.

    pcm : (n,) int16 mono at ``sample_rate_hz`` (22050 for espeak-ng).
    phonemes : [(espeak-ng phoneme mnemonic with stress marks, start_s)], start times increasing, seconds
        from the first sample; pauses are "_", "_:" …
    words : [(char_start, char_length, start_s)] of the words in ``text`` (0-based character offsets).
    """

    text: str
    pcm: np.ndarray
    sample_rate_hz: int
    phonemes: list[tuple[str, float]]
    words: list[tuple[int, int, float]]

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / self.sample_rate_hz

    def spoken_text(self, until_s: float) -> str:
        """The words of ``text`` whose audio started before ``until_s`` (seconds)."""
        end = 0
        for start, length, t in self.words:
            if t < until_s:
                end = start + length
        return self.text[:end]


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    """Splits at sentence ends (., !, ?, ;) followed by whitespace, and at newlines."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


class EspeakTts:
    """espeak-ng text to speech: whole texts, or sentence by sentence as a stream."""

    def __init__(self, options: TtsOptions | None = None) -> None:
        self.options = options or TtsOptions()
        self._engine = _Espeak.get()

    @classmethod
    def create_from_options(cls, options: TtsOptions) -> EspeakTts:
        return cls(options)

    @property
    def sample_rate_hz(self) -> int:
        return self._engine.sample_rate_hz

    def synthesize(
        self,
        text: str,
        *,
        voice: str | None = None,
        rate_wpm: int | None = None,
        abort: threading.Event | None = None,
    ) -> SpeechResult:
        """Synthesises ``text`` in one piece. ``abort`` set from another thread stops it at the next chunk."""
        o = self.options
        with ESPEAK_LOCK:
            e = self._engine
            e.set_voice(voice or o.voice)
            e.set_param(_PARAM_RATE, rate_wpm or o.rate_wpm)
            e.set_param(_PARAM_PITCH, o.pitch)
            e.set_param(_PARAM_VOLUME, o.volume)
            e.set_param(_PARAM_WORDGAP, o.word_gap_10ms)
            job = e.synth(text, abort)
        pcm = np.concatenate(job.chunks) if job.chunks else np.zeros(0, np.int16)
        return SpeechResult(text, pcm.astype(np.int16, copy=False), e.sample_rate_hz, job.phonemes, job.words)

    def synthesize_sentences(self, text: str, **kwargs: object) -> Iterator[SpeechResult]:
        """Yields one SpeechResult per sentence of ``text`` as soon as it is synthesised."""
        for sentence in split_sentences(text):
            yield self.synthesize(sentence, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        """Nothing to release: the espeak-ng instance is shared by the process."""

    def __enter__(self) -> EspeakTts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def synthesize(text: str, voice: str = "en-us", rate_wpm: int = 175) -> tuple[np.ndarray, int, list[tuple[str, float]]]:
    """One-call TTS: (pcm (n,) int16, sample_rate_hz 22050, phonemes [(name, start_s)])."""
    r = EspeakTts(TtsOptions(voice=voice, rate_wpm=rate_wpm)).synthesize(text)
    return r.pcm, r.sample_rate_hz, r.phonemes
