"""Speech recognition: pocketsphinx 5 with its bundled en-us model (default), faster-whisper (configured).

The pocketsphinx path decodes with a grammar built from the live scene (``SceneGrammar``) first and
falls back to the general language model when the grammar finds no complete sentence. Two measured
details shape it: pocketsphinx's live cepstral normalisation and its silence model misbehave on digitally
silent padding (synthetic or gated audio), so utterances are padded and dithered with low-level noise
(on espeak-ng speech: 4/14 scene questions exact without, 12/14 with); and words missing from the CMU
dictionary (new object labels) get a pronunciation from espeak-ng's phonemes mapped to ARPAbet.

The dither is the same noise every call, so a decode depends only on its audio and on what the decoder
adapted to in earlier utterances (its cepstral mean and noise estimate: the user's voice and channel).
A speculative decode of the utterance, started during the pause before the end of the turn, therefore
gives what decoding it at the end of the turn would. (Resetting that adaptation before every decode would
make results independent of history, but costs accuracy: 32/40 instead of 37/40 on one borderline question.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.avatar import SceneSummary
from ._audio import resample_pcm16
from ._grammar import SceneGrammar

__all__ = ["AsrOptions", "AsrResult", "FasterWhisperAsr", "FasterWhisperOptions", "PocketsphinxAsr", "arpabet"]

ASR_SAMPLE_RATE_HZ = 16000


@dataclass(frozen=True)
class AsrResult:
    """text: lower-case words; confidence 0..1 (a heuristic for pocketsphinx: 0.9 for a complete grammar
    sentence, 0.5 from the language model, 0.2 for a partial grammar path); source: "grammar" | "lm" |
    "whisper"; audio_s: utterance length, seconds; elapsed_s: decoding time, seconds."""

    text: str
    confidence: float
    source: str
    audio_s: float
    elapsed_s: float


@dataclass(frozen=True)
class AsrOptions:
    """model_dir: acoustic model directory ("" = pocketsphinx's bundled en-us). dictionary: pronunciation
    dictionary ("" = bundled cmudict-en-us.dict). language_model: fallback LM ("" = bundled en-us.lm.bin).
    use_grammar: decode with the scene grammar first. fallback_to_lm: when the grammar yields no complete
    sentence, decode again with the language model (0.3–1.2 s per utterance on a 2-core CPU).
    min_partial_words: a partial grammar path at least this long is kept instead of the LM fallback.
    pad_s: noise padding added before and after the utterance, seconds. dither_rms: RMS of that noise and
    of the dither added to the speech, int16 units."""

    model_dir: str = ""
    dictionary: str = ""
    language_model: str = ""
    use_grammar: bool = True
    fallback_to_lm: bool = True
    min_partial_words: int = 4
    pad_s: float = 0.5
    dither_rms: float = 10.0


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

    Thread-safe (one lock around the decoder); decode calls block, run them in an executor.
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
        self._lock = threading.Lock()
        self._grammar: SceneGrammar | None = None
        self._grammar_key: object = None
        self._dither_seed = 0
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

        Words the dictionary lacks are added with espeak-ng-derived pronunciations.
        """
        labels = () if scene is None else tuple(sorted({o.label for o in scene.object_list()}))
        planes = () if scene is None else tuple(sorted({p.label for p in scene.plane_list()}))
        key = (labels, planes, names, tuple(sorted(kwargs.items())))
        with self._lock:
            if key == self._grammar_key and self._grammar is not None:
                return self._grammar
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
            self._grammar, self._grammar_key = grammar, key
            return grammar

    def _decode(self, pcm16k: np.ndarray, search: str) -> str:
        d = self._decoder
        d.activate_search(search)
        d.start_utt()
        d.process_raw(pcm16k.tobytes(), full_utt=True)
        d.end_utt()
        h = d.hyp()
        return " ".join(h.hypstr.split()) if h is not None else ""

    def recognize(self, pcm: np.ndarray, sample_rate_hz: int) -> AsrResult:
        """(n,) int16 mono utterance at any rate → AsrResult (resampled to 16 kHz with resample_poly)."""
        t0 = time.perf_counter()
        o = self.options
        x = resample_pcm16(np.asarray(pcm, dtype=np.int16), sample_rate_hz, ASR_SAMPLE_RATE_HZ)
        audio_s = len(x) / ASR_SAMPLE_RATE_HZ
        pad = int(o.pad_s * ASR_SAMPLE_RATE_HZ)
        with self._lock:
            noisy = np.concatenate([np.zeros(pad), x.astype(np.float64), np.zeros(pad)])
            noisy += np.random.default_rng(self._dither_seed).normal(0.0, o.dither_rms, len(noisy))
            x16 = np.clip(np.round(noisy), -32768, 32767).astype(np.int16)
            text, conf, source = "", 0.0, "grammar"
            if o.use_grammar and self._grammar is not None:
                text = self._decode(x16, "scene")
                conf = 0.9 if self._grammar.accepts(text) else 0.2
            # A long partial grammar path ("how far is the blue box from the") is usually the question with
            # its last word misheard, and more useful than what the general LM makes of grammar speech.
            if conf < 0.9 and o.fallback_to_lm and len(text.split()) < o.min_partial_words:
                lm_text = self._decode(x16, self._lm_search)
                if lm_text:
                    text, conf, source = lm_text, 0.5, "lm"
        return AsrResult(text, conf if text else 0.0, source, audio_s, time.perf_counter() - t0)

    def close(self) -> None:
        self._decoder = None  # type: ignore[assignment]

    def __enter__(self) -> PocketsphinxAsr:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
