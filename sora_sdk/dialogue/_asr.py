"""Speech recognition: pocketsphinx 5 with its bundled en-us model (default), faster-whisper (configured).

The pocketsphinx path decodes with a grammar built from the live scene (``SceneGrammar``) first and
falls back to the general language model when the grammar finds no complete sentence. Two measured
details shape it: pocketsphinx's live cepstral normalisation and its silence model misbehave on digitally
silent padding (synthetic or gated audio), so utterances are padded and dithered with low-level noise
(on espeak-ng speech: 4/14 scene questions exact without, 12/14 with); and words missing from the CMU
dictionary (new object labels) get a pronunciation from espeak-ng's phonemes mapped to ARPAbet.

The dither is the same noise every call, so a decode depends only on its audio and on what the decoder
adapted to in earlier utterances (its cepstral mean and noise estimate: the user's voice and channel).
(Resetting that adaptation before every decode would make results independent of history, but costs
accuracy: 32/40 instead of 37/40 on one borderline question.)

Incremental recognition (``PocketsphinxAsr.stream()``): the grammar search decodes an utterance chunk by
chunk while it is spoken, so when it ends only the padding and the decoder's last step are left (20 ms
median, 28 ms p90 on a loaded 2-core CPU, instead of 0.1–0.2 s for the whole utterance). A whole decode
hands pocketsphinx the utterance in one piece, and it normalises the cepstra by the utterance's own mean;
a stream cannot know that mean before the utterance ends, so it starts from the mean of the channel's last
utterance (live normalisation) and a stream is only incremental once the recogniser has decoded an
utterance of the channel whole (``reset_channel``). On 104 scene questions (26 questions, four espeak-ng
voices, a fresh recogniser per voice) streams were as accurate as whole decodes: 83 and 82 exact, word
error rate 0.054 and 0.060. The grammar search does not rescore its lattice at the end (pocketsphinx's
``bestpath``): that step took 4–84 ms of the end of an utterance, and without it 82 instead of 76 of the
104 questions were exact (content-word errors 14 instead of 22). pocketsphinx holds the GIL while it
decodes, so a stream feeds it in 0.1 s pieces (a whole decode blocks other Python threads for its
0.1–0.2 s).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..core.avatar import SceneSummary
from ._audio import resample_pcm16
from ._grammar import SceneGrammar

__all__ = [
    "AsrOptions",
    "AsrResult",
    "AsrStream",
    "BufferedAsrStream",
    "FasterWhisperAsr",
    "FasterWhisperOptions",
    "PocketsphinxAsr",
    "arpabet",
]

ASR_SAMPLE_RATE_HZ = 16000

log = logging.getLogger("sora.dialogue")


@dataclass(frozen=True)
class AsrResult:
    """text: lower-case words; confidence 0..1 (a heuristic for pocketsphinx: 0.9 for a complete grammar
    sentence, 0.5 from the language model, 0.2 for a partial grammar path); source: "grammar" | "lm" |
    "whisper"; audio_s: utterance length, seconds; elapsed_s: decoding time, seconds (of a stream: its
    feeds and finish together); continues: a longer sentence of the grammar starts with ``text`` (the
    speaker may not be done: "how far is the green plant" → "… from me"; always False from the LM);
    settled: the grammar search's best path at the end of the audio, before the padding, was already a
    complete sentence of as many words, so the sentence's end was heard rather than completed by the search
    in the silence after it (a partial "where is" comes out as "where is it", "what is" as "what do you
    see"); known for incremental decodes only (False otherwise)."""

    text: str
    confidence: float
    source: str
    audio_s: float
    elapsed_s: float
    continues: bool = False
    settled: bool = False


class AsrStream(Protocol):
    """One utterance recognised as it is heard: ``feed`` its audio in order, then ``finish`` once, or
    ``cancel``. Calls block (decoding); make them from one thread at a time, except ``cancel`` (any thread)."""

    def feed(self, pcm16k: np.ndarray) -> None:
        """(n,) int16 mono at 16 kHz, the next samples of the utterance."""

    def finish(self) -> AsrResult:
        """The utterance ends after the audio fed so far: its result."""

    def cancel(self) -> None:
        """Drops the utterance (later feeds are ignored, finish raises)."""


class BufferedAsrStream:
    """An AsrStream over any recogniser's ``recognize``: keeps the audio and recognises it whole at finish
    (the recognisers without incremental decoding, and VoiceInput with ``incremental=False``)."""

    def __init__(self, asr: PocketsphinxAsr | FasterWhisperAsr) -> None:
        self._asr = asr
        self._parts: list[np.ndarray] = []
        self._cancelled = False

    def feed(self, pcm16k: np.ndarray) -> None:
        if not self._cancelled:
            self._parts.append(np.array(pcm16k, dtype=np.int16))

    def finish(self) -> AsrResult:
        if self._cancelled:
            raise RuntimeError("the utterance was cancelled")
        audio = np.concatenate(self._parts) if self._parts else np.zeros(0, np.int16)
        return self._asr.recognize(audio, ASR_SAMPLE_RATE_HZ)

    def cancel(self) -> None:
        self._cancelled = True
        self._parts = []


@dataclass(frozen=True)
class AsrOptions:
    """model_dir: acoustic model directory ("" = pocketsphinx's bundled en-us). dictionary: pronunciation
    dictionary ("" = bundled cmudict-en-us.dict). language_model: fallback LM ("" = bundled en-us.lm.bin).
    use_grammar: decode with the scene grammar first. fallback_to_lm: when the grammar yields no complete
    sentence, decode again with the language model (0.3–1.2 s per utterance on a 2-core CPU).
    min_partial_words: a partial grammar path at least this long is kept instead of the LM fallback.
    pad_s: noise padding added before and after the utterance, seconds. dither_rms: RMS of that noise and
    of the dither added to the speech, int16 units. grammar_bestpath: rescore the grammar search's lattice
    at the end of an utterance (pocketsphinx's ``bestpath``; slower at the end of a turn and, on scene
    questions, less accurate: see the module docstring)."""

    model_dir: str = ""
    dictionary: str = ""
    language_model: str = ""
    use_grammar: bool = True
    fallback_to_lm: bool = True
    min_partial_words: int = 4
    pad_s: float = 0.5
    dither_rms: float = 10.0
    grammar_bestpath: bool = False


# espeak-ng en-us mnemonic (no stress marks) → ARPAbet (the CMU dictionary's phone set).
_ESPEAK_TO_ARPABET: dict[str, str] = {
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V", "T": "TH", "D": "DH",
    "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "tS": "CH", "dZ": "JH", "m": "M", "n": "N", "N": "NG",
    "l": "L", "r": "R", "w": "W", "j": "Y", "h": "HH", "t#": "T", "d#": "D", "n-": "N", "l-": "L",
    "@L": "AH L", "m-": "M", "a": "AE", "aa": "AE", "a#": "AH", "A:": "AA", "A@": "AA R", "V": "AH",
    "0": "AA", "aI": "AY", "aI@": "AY ER", "aU": "AW", "e": "EH", "E": "EH", "E2": "EH", "e@": "EH R",
    "eI": "EY", "@": "AH", "@2": "AH", "@5": "AH", "3": "ER", "3:": "ER", "i": "IY", "i:": "IY", "I": "IH",
    "I#": "IH", "I2": "IH", "i@": "IH R", "i@3": "IH R", "O:": "AO", "O": "AO", "O@": "AO R", "o@": "AO R",
    "OI": "OY", "oU": "OW", "u:": "UW", "U": "UH", "U@": "UH R", "0#": "AA", "aI3": "AY ER", "aU@": "AW ER",
}  # fmt: skip


def arpabet(word: str) -> str:
    """A CMU-style pronunciation ("K AE P S AH L") for ``word`` from espeak-ng's en-us phonemes."""
    from ._tts import EspeakTts

    phones: list[str] = []
    for name, _t in EspeakTts().synthesize(word).phonemes:
        p = name.lstrip("',%=")
        if not p or p.startswith(("_", "|")):
            continue
        a = _ESPEAK_TO_ARPABET.get(p) or _ESPEAK_TO_ARPABET.get(p.rstrip("0123456789#/;-"))
        if a:
            phones.append(a)
    return " ".join(phones)


class PocketsphinxAsr:
    """pocketsphinx decoder with a scene grammar search and the general LM as fallback.

    Thread-safe (one lock around the decoder); decode calls block, run them in an executor. The decoder
    holds one utterance at a time: an incremental stream keeps it from its first feed to its finish, and
    another stream or ``recognize`` taking the decoder meanwhile ends that utterance (the stream replays
    its audio when it goes on).
    """

    def __init__(self, options: AsrOptions | None = None) -> None:
        import pocketsphinx

        self.options = o = options or AsrOptions()
        cfg = pocketsphinx.Config()
        cfg["hmm"] = o.model_dir or pocketsphinx.get_model_path("en-us/en-us")
        cfg["dict"] = o.dictionary or pocketsphinx.get_model_path("en-us/cmudict-en-us.dict")
        cfg["lm"] = o.language_model or pocketsphinx.get_model_path("en-us/en-us.lm.bin")
        cfg["logfn"] = "/dev/null"
        self._decoder = pocketsphinx.Decoder(cfg)
        self._lm_search = self._decoder.current_search()
        # A search reads "bestpath" when it is created: the LM search (above) keeps the default, the grammar
        # searches (set_scene) get ours.
        self._decoder.config["bestpath"] = o.grammar_bestpath
        self._lock = threading.Lock()
        self._grammar: SceneGrammar | None = None
        self._grammar_key: object = None
        self._pending_scene: tuple[object, SceneSummary | None, tuple[str, ...], dict[str, object]] | None = None
        self._owner: _PocketsphinxStream | None = None  # the stream whose utterance is open in the decoder
        # where an incremental decode starts its live cepstral mean normalisation: the mean after the last
        # utterance with words in it (None: since reset_channel(), decode whole at the end instead)
        self._cmn: str | None = None
        self._channel = 0  # counts reset_channel() calls: a stream of an earlier channel leaves _cmn alone
        self._dither_seed = 0
        self._dither = np.zeros(0)
        self._added_words: set[str] = set()

    @classmethod
    def create_from_options(cls, options: AsrOptions) -> PocketsphinxAsr:
        return cls(options)

    @property
    def grammar(self) -> SceneGrammar | None:
        return self._grammar

    def knows(self, word: str) -> bool:
        return self._decoder.lookup_word(word) is not None

    def set_scene(self, scene: SceneSummary | None, *, names: tuple[str, ...] = (), **kwargs: object) -> SceneGrammar:
        """Builds and activates the grammar for ``scene`` (cheap when the vocabulary has not changed).

        Words the dictionary lacks are added with espeak-ng-derived pronunciations. While a stream's
        utterance is being decoded, a new vocabulary waits for its end (an utterance is decoded with the
        grammar it started with): the grammar returned is then the one in use.
        """
        labels = () if scene is None else tuple(sorted({o.label for o in scene.object_list()}))
        planes = () if scene is None else tuple(sorted({p.label for p in scene.plane_list()}))
        key = (labels, planes, names, tuple(sorted(kwargs.items())))
        with self._lock:
            if key == self._grammar_key and self._grammar is not None:
                self._pending_scene = None
                return self._grammar
            if self._owner is not None and not self._owner.cancelled and self._grammar is not None:
                self._pending_scene = (key, scene, names, kwargs)
                return self._grammar
            self._pending_scene = (key, scene, names, kwargs)
            self._take_decoder(None)
            assert self._grammar is not None
            return self._grammar

    def reset_channel(self) -> None:
        """The audio now comes from another source (a new conversation): the next stream is decoded whole
        at its end, normalised by its own cepstral mean, and the ones after it incrementally from there."""
        with self._lock:
            self._cmn = None
            self._channel += 1

    def stream(self) -> AsrStream:
        """An utterance decoded as its 16 kHz audio arrives; takes the decoder at its first feed.

        The grammar search runs incrementally once the recogniser has decoded an utterance of this channel
        whole (``reset_channel``): its live cepstral mean normalisation then starts from that utterance's
        mean. Without one (the first utterance of a conversation), or without a grammar, the stream keeps the
        audio and ``finish`` decodes it whole, exactly as ``recognize`` would.
        """
        return _PocketsphinxStream(self)

    def recognize(self, pcm: np.ndarray, sample_rate_hz: int) -> AsrResult:
        """(n,) int16 mono utterance at any rate → AsrResult (resampled to 16 kHz with resample_poly)."""
        t0 = time.perf_counter()
        x = resample_pcm16(np.asarray(pcm, dtype=np.int16), sample_rate_hz, ASR_SAMPLE_RATE_HZ)
        pad = np.zeros(int(self.options.pad_s * ASR_SAMPLE_RATE_HZ), np.int16)
        with self._lock:
            self._take_decoder(None)
            r = self._decode_whole(self._dithered(np.concatenate([pad, x, pad]), 0), len(x))
        return dataclasses.replace(r, elapsed_s=time.perf_counter() - t0)

    def close(self) -> None:
        self._decoder = None  # type: ignore[assignment]

    def __enter__(self) -> PocketsphinxAsr:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Everything below runs under self._lock.

    def _apply_scene(
        self, key: object, scene: SceneSummary | None, names: tuple[str, ...], kwargs: dict[str, object]
    ) -> None:
        draft = SceneGrammar.from_scene(scene, names=names, **kwargs)  # type: ignore[arg-type]
        for w in sorted(draft.words):
            if self._decoder.lookup_word(w) is None and w not in self._added_words:
                pron = arpabet(w)
                if pron:
                    self._decoder.add_word(w, pron, False)
                    self._added_words.add(w)
        known = {w for w in draft.words if self._decoder.lookup_word(w) is not None}
        grammar = SceneGrammar.from_scene(scene, names=names, known_words=known, **kwargs)  # type: ignore[arg-type]
        self._decoder.add_jsgf_string("scene", grammar.jsgf)
        grammar.continues("")  # compiles its prefix regex here, not at the end of a turn
        self._grammar, self._grammar_key = grammar, key

    def _take_decoder(self, stream: _PocketsphinxStream | None) -> None:
        """Ends the utterance open in the decoder (a stream that goes on replays it), applies a vocabulary
        that waited for that, and hands the decoder to ``stream`` (None: for a whole-utterance decode)."""
        if self._owner is not None:
            self._owner = None
            try:
                self._decoder.end_utt()
            except RuntimeError:
                log.debug("ending an abandoned utterance failed", exc_info=True)
        if self._pending_scene is not None:
            pending, self._pending_scene = self._pending_scene, None
            self._apply_scene(*pending)
        self._owner = stream

    def _dithered(self, x: np.ndarray, offset: int) -> np.ndarray:
        """(n,) int16 samples of the padded utterance (zeros for the padding) starting ``offset`` samples into
        it → with the dither those samples get (the same noise sequence for every utterance), int16."""
        need = offset + len(x)
        if len(self._dither) < need:
            n = max(need, 2 * len(self._dither), 8 * ASR_SAMPLE_RATE_HZ)
            # a seeded Generator's normal() stream does not depend on how many are drawn at once
            self._dither = np.random.default_rng(self._dither_seed).normal(0.0, self.options.dither_rms, n)
        noisy = x.astype(np.float64) + self._dither[offset:need]
        return np.clip(np.round(noisy), -32768, 32767).astype(np.int16)

    def _decode(self, pcm16k: np.ndarray, search: str) -> str:
        d = self._decoder
        d.activate_search(search)
        d.start_utt()
        d.process_raw(pcm16k.tobytes(), full_utt=True)  # the whole utterance: normalised by its own mean
        d.end_utt()
        h = d.hyp()
        return " ".join(h.hypstr.split()) if h is not None else ""

    def _decode_whole(self, x16: np.ndarray, n_audio: int) -> AsrResult:
        """The padded, dithered utterance (``n_audio`` samples of it are speech) → its result (elapsed_s 0)."""
        o = self.options
        grammar = self._grammar if o.use_grammar else None
        text, conf = "", 0.0
        if grammar is not None:
            self._decode(x16, "scene")
            text = self._grammar_words(n_audio)
            conf = 0.9 if grammar.accepts(text) else 0.2
        result = self._conclude(x16, n_audio, grammar, text, conf)
        if result.text:  # speech, not noise: its mean (whole decodes normalise by their own) is the channel's
            self._cmn = self._decoder.get_cmn()
        return result

    def _grammar_words(self, n_audio: int) -> str:
        """The words of the grammar search that just ended, less any it placed wholly in the padding: that is
        noise we added, and a search that must end in a sentence can find a short one there ("bye" in the
        first 70 ms of a second of silence)."""
        first = round(self.options.pad_s * _FRAMES_PER_S)  # the utterance's frames: [first, last)
        last = first + n_audio * _FRAMES_PER_S // ASR_SAMPLE_RATE_HZ
        words = [
            _ALTERNATE.sub("", s.word)
            for s in self._decoder.seg() or ()
            if not s.word.startswith(("<", "(", "[", "+")) and s.end_frame >= first and s.start_frame < last
        ]
        return " ".join(words)

    def _conclude(
        self, x16: np.ndarray, n_audio: int, grammar: SceneGrammar | None, text: str, conf: float
    ) -> AsrResult:
        """The grammar search's result → the recogniser's (with the LM fallback)."""
        o, source = self.options, "grammar"
        # A long partial grammar path ("how far is the blue box from the") is usually the question with its
        # last word misheard, and more useful than what the general LM makes of grammar speech.
        if conf < 0.9 and o.fallback_to_lm and len(text.split()) < o.min_partial_words:
            lm_text = self._decode(x16, self._lm_search)
            if lm_text:
                text, conf, source = lm_text, 0.5, "lm"
        continues = source == "grammar" and grammar is not None and grammar.continues(text)
        return AsrResult(text, conf if text else 0.0, source, n_audio / ASR_SAMPLE_RATE_HZ, 0.0, continues)


_FRAMES_PER_S = 100  # pocketsphinx's default frame rate (its "frate")
_ALTERNATE = re.compile(r"\(\d+\)$")  # "the(2)": the dictionary's second pronunciation of "the"

# Audio is fed to an incremental decode at most this much at a time, samples: pocketsphinx holds the GIL
# while it decodes (0.1 s of audio: ~10 ms), and a cancel or another user of the decoder waits for a piece.
_FEED_PIECE = ASR_SAMPLE_RATE_HZ // 10


def _process(decoder: Any, x16: np.ndarray) -> None:
    for i in range(0, len(x16), _FEED_PIECE):
        decoder.process_raw(x16[i : i + _FEED_PIECE].tobytes())


class _PocketsphinxStream:
    """PocketsphinxAsr.stream(): see there and AsrStream."""

    def __init__(self, asr: PocketsphinxAsr) -> None:
        self._asr = asr
        self._fed: list[np.ndarray] = []  # the padded utterance so far, dithered
        self._samples = 0  # utterance samples so far (without the padding)
        self._incremental: bool | None = None  # decided at the first feed
        self._grammar: SceneGrammar | None = None
        self._finished = False
        self._elapsed_s = 0.0
        self._channel = -1
        self.cancelled = False

    def feed(self, pcm16k: np.ndarray) -> None:
        x = np.asarray(pcm16k, dtype=np.int16).ravel()
        if self._finished:
            raise RuntimeError("feed() after finish()")
        asr = self._asr
        for i in range(0, max(len(x), 1), _FEED_PIECE):
            t0 = time.perf_counter()
            with asr._lock:
                if self.cancelled:
                    self._release()
                    return
                self._begin()
                piece = x[i : i + _FEED_PIECE]
                if len(piece):
                    y = asr._dithered(piece, self._pad + self._samples)
                    self._fed.append(y)
                    self._samples += len(piece)
                    if self._incremental:
                        self._claim()
                        _process(asr._decoder, y)
            self._elapsed_s += time.perf_counter() - t0

    def finish(self) -> AsrResult:
        if self._finished:
            raise RuntimeError("finish() twice")
        t0 = time.perf_counter()
        asr = self._asr
        with asr._lock:
            if self.cancelled:
                self._release()
                raise RuntimeError("the utterance was cancelled")
            self._begin()
            self._finished = True
            tail = asr._dithered(np.zeros(self._pad, np.int16), self._pad + self._samples)
            self._fed.append(tail)
            x16 = np.concatenate(self._fed)
            if self._incremental:
                self._claim()
                d = asr._decoder
                h = d.hyp()  # the best path through the audio, before the padding: complete or not
                heard = " ".join(h.hypstr.split()) if h is not None else ""
                _process(d, tail)
                asr._owner = None
                d.end_utt()
                text = asr._grammar_words(self._samples)
                conf = 0.9 if self._grammar is not None and self._grammar.accepts(text) else 0.2
                result = asr._conclude(x16, self._samples, self._grammar, text, conf)
                if result.text and result.source == "grammar":
                    if self._channel == asr._channel:
                        asr._cmn = d.get_cmn(True)  # the running mean, this utterance included
                    # the audio itself held a sentence this long (its last word may still change: "where is the
                    # red plant" → "… mug"), the search did not make one up in the silence after it
                    complete = self._grammar is not None and self._grammar.accepts(heard)
                    settled = complete and len(heard.split()) == len(result.text.split())
                    result = dataclasses.replace(result, settled=settled)
                    if not settled:
                        log.debug("the grammar search completed %r to %r after the audio", heard, result.text)
            else:
                asr._take_decoder(None)
                cmn = asr._cmn
                result = asr._decode_whole(x16, self._samples)
                if self._channel != asr._channel:  # heard before reset_channel(): not the new channel's mean
                    asr._cmn = cmn
        self._elapsed_s += time.perf_counter() - t0
        return dataclasses.replace(result, elapsed_s=self._elapsed_s)

    def cancel(self) -> None:
        self.cancelled = True  # the decoder is freed by this stream's next call or by its next user

    @property
    def _pad(self) -> int:
        return int(self._asr.options.pad_s * ASR_SAMPLE_RATE_HZ)

    def _begin(self) -> None:
        if self._incremental is not None:
            return
        asr = self._asr
        self._incremental = asr.options.use_grammar and asr._grammar is not None and asr._cmn is not None
        self._channel = asr._channel
        self._fed.append(asr._dithered(np.zeros(self._pad, np.int16), 0))
        if self._incremental:
            self._claim()

    def _claim(self) -> None:
        """Makes this stream's utterance the one open in the decoder (replaying it if another took it)."""
        asr = self._asr
        if asr._owner is self:
            return
        asr._take_decoder(self)
        self._grammar = asr._grammar  # set_scene may have changed it while the decoder was elsewhere
        d = asr._decoder
        if asr._cmn is not None:
            d.set_cmn(asr._cmn)
        d.activate_search("scene")
        d.start_utt()
        for y in self._fed:
            _process(d, y)

    def _release(self) -> None:
        if self._asr._owner is self:
            self._asr._take_decoder(None)


@dataclass(frozen=True)
class FasterWhisperOptions:
    """model_path: a CTranslate2 Whisper model directory on this host (faster-whisper's format; required,
    nothing is downloaded). device: "cpu" | "cuda" | "auto". compute_type: "int8", "float16", "default" ….
    beam_size: beam search width. language: ISO code, "" to detect."""

    model_path: str = ""
    device: str = "auto"
    compute_type: str = "default"
    beam_size: int = 1
    language: str = "en"


class FasterWhisperAsr:
    """faster-whisper backend: the accurate path when a model is configured. Imports faster_whisper lazily."""

    def __init__(self, options: FasterWhisperOptions) -> None:
        self.options = options
        path = Path(options.model_path) if options.model_path else None
        if path is None or not path.is_dir() or not (path / "model.bin").is_file():
            raise FileNotFoundError(
                f"FasterWhisperAsr needs FasterWhisperOptions.model_path to be a local faster-whisper (CTranslate2) "
                f"model directory containing model.bin; got {options.model_path!r}"
            )
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ImportError(
                "FasterWhisperAsr needs the faster-whisper package (pip install faster-whisper); "
                "the default recogniser is PocketsphinxAsr"
            ) from exc
        self._model = WhisperModel(
            str(path), device=options.device, compute_type=options.compute_type, local_files_only=True
        )
        self._lock = threading.Lock()

    @classmethod
    def create_from_options(cls, options: FasterWhisperOptions) -> FasterWhisperAsr:
        return cls(options)

    def set_scene(self, scene: SceneSummary | None, **kwargs: object) -> None:
        """Whisper needs no grammar; accepted for interface parity with PocketsphinxAsr."""

    def stream(self) -> AsrStream:
        """Whisper decodes whole utterances: the stream keeps the audio and recognises it at finish."""
        return BufferedAsrStream(self)

    def recognize(self, pcm: np.ndarray, sample_rate_hz: int) -> AsrResult:
        """(n,) int16 mono utterance at any rate → AsrResult (source "whisper")."""
        t0 = time.perf_counter()
        x = resample_pcm16(np.asarray(pcm, dtype=np.int16), sample_rate_hz, ASR_SAMPLE_RATE_HZ)
        audio = x.astype(np.float32) / 32768.0
        with self._lock:
            segments, _info = self._model.transcribe(
                audio, beam_size=self.options.beam_size, language=self.options.language or None
            )
            segs = list(segments)
        text = " ".join(s.text.strip() for s in segs).strip()
        conf = float(np.exp(np.mean([s.avg_logprob for s in segs]))) if segs else 0.0
        return AsrResult(text, conf, "whisper", len(x) / ASR_SAMPLE_RATE_HZ, time.perf_counter() - t0)

    def close(self) -> None:
        self._model = None
