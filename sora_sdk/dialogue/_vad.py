"""Voice activity detection with silero-vad's bundled ONNX model, streamed in 512-sample windows at 16 kHz.

We run the model with our own onnxruntime session rather than ``silero_vad.load_silero_vad(onnx=True)``:
the package's wrapper converts every window through torch tensors, while the model itself only needs
numpy arrays. The model file comes from the installed ``silero_vad`` package, found with
``importlib.util.find_spec`` rather than imported (its ``__init__`` imports torch: 1.4 s of a session's
first speech on a 2-core CPU), so nothing is downloaded. Its contract (from
silero_vad.utils_vad.OnnxWrapper): input = the last 64 samples of the previous window followed by the 512
new ones, float32 in [-1, 1]; a (2, 1, 128) recurrent state; ``sr`` = 16000; output = speech probability
of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from ._audio import pcm16_to_float, resample_pcm16

__all__ = ["SileroVad", "VadEvent", "VadOptions", "speech_segments"]

SAMPLE_RATE_HZ = 16000
WINDOW = 512  # samples per model step at 16 kHz (32 ms)
_CONTEXT = 64


@dataclass(frozen=True)
class VadOptions:
    """threshold: speech probability at which a window counts as speech (silero's default 0.5).
    neg_threshold: probability below which a window counts as silence (default threshold - 0.15; between
    the two the previous state holds). min_speech_s: speech must last this long before "speech_start" is
    declared (filters clicks; a barge-in is reported this late at the earliest). hangover_s: silence must
    last this long before "speech_end" (the end-of-turn delay); the reported end is the start of that
    silence. pad_s: reported starts are moved this much earlier (the model needs a few ms of voicing).
    model: which ONNX file of the silero_vad package (16 kHz / 8 kHz capable, opset 16)."""

    threshold: float = 0.5
    neg_threshold: float | None = None
    min_speech_s: float = 0.096
    hangover_s: float = 0.4
    pad_s: float = 0.03
    model: str = "silero_vad.onnx"


@dataclass(frozen=True)
class VadEvent:
    """kind: "speech_start" | "speech_end"; time_s: seconds from the first sample fed since reset()."""

    kind: str
    time_s: float


class SileroVad:
    """Streaming VAD. Feed 16 kHz int16 (or float) audio in chunks of any size; get start/end events.

    Not thread-safe (it carries the recurrent state); use one instance per audio stream.
    """

    def __init__(self, options: VadOptions | None = None) -> None:
        import onnxruntime as ort

        self.options = options or VadOptions()
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1  # one 512-sample window is ~0.1 ms of work; threads only add overhead
        so.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(_model_path(self.options.model)), sess_options=so, providers=["CPUExecutionProvider"]
        )
        self._sr = np.array(SAMPLE_RATE_HZ, dtype=np.int64)
        self.reset()

    @classmethod
    def create_from_options(cls, options: VadOptions) -> SileroVad:
        return cls(options)

    def reset(self) -> None:
        """Forget the stream: state, buffered samples, and the clock."""
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._samples = 0  # samples consumed by the model
        self._in_speech = False
        self._run_start = -1  # first sample of the current candidate speech (or silence) run
        self.last_probability = 0.0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def time_s(self) -> float:
        """Seconds of audio the model has consumed."""
        return self._samples / SAMPLE_RATE_HZ

    @property
    def silence_start_s(self) -> float | None:
        """While in speech: where the current run of silence began (the "speech_end" time it will report if
        it lasts ``hangover_s``), seconds on the stream clock; None when not in speech or not in a pause."""
        return self._run_start / SAMPLE_RATE_HZ if self._in_speech and self._run_start >= 0 else None

    @property
    def silence_s(self) -> float:
        """While in speech: seconds of the current pause so far (0 when there is none)."""
        return (self._samples - self._run_start) / SAMPLE_RATE_HZ if self._in_speech and self._run_start >= 0 else 0.0

    def end_speech(self) -> None:
        """Closes the current speech without a "speech_end" event (the caller ended the turn itself); the
        next speech is reported with a new "speech_start"."""
        self._in_speech = False
        self._run_start = -1

    def probability(self, window: np.ndarray) -> float:
        """Speech probability of one (512,) float32 window; advances the recurrent state."""
        x = np.concatenate([self._context, window]).astype(np.float32)[None, :]
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = x[0, -_CONTEXT:]
        return float(out[0, 0])

    def process(self, audio: np.ndarray, sample_rate_hz: int = SAMPLE_RATE_HZ) -> list[VadEvent]:
        """Feeds (n,) int16 or float32 mono audio; returns the start/end events it completed.

        Audio at another rate is resampled to 16 kHz first (resample chunks of ≥ 100 ms).
        """
        a = np.asarray(audio)
        if sample_rate_hz != SAMPLE_RATE_HZ:
            a = resample_pcm16(a if a.dtype == np.int16 else (a * 32768).astype(np.int16), sample_rate_hz)
        x = pcm16_to_float(a) if a.dtype == np.int16 else a.astype(np.float32)
        self._pending = np.concatenate([self._pending, x])
        o = self.options
        neg = o.neg_threshold if o.neg_threshold is not None else max(0.0, o.threshold - 0.15)
        events: list[VadEvent] = []
        while len(self._pending) >= WINDOW:
            w, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            p = self.probability(w)
            self.last_probability = p
            start = self._samples
            self._samples += WINDOW
            if not self._in_speech:
                if p >= o.threshold:
                    if self._run_start < 0:
                        self._run_start = start
                    if (self._samples - self._run_start) / SAMPLE_RATE_HZ >= o.min_speech_s:
                        self._in_speech = True
                        t = max(0.0, self._run_start / SAMPLE_RATE_HZ - o.pad_s)
                        events.append(VadEvent("speech_start", t))
                        self._run_start = -1
                else:
                    self._run_start = -1
            else:
                if p < neg:
                    if self._run_start < 0:
                        self._run_start = start
                    if (self._samples - self._run_start) / SAMPLE_RATE_HZ >= o.hangover_s:
                        self._in_speech = False
                        events.append(VadEvent("speech_end", self._run_start / SAMPLE_RATE_HZ))
                        self._run_start = -1
                elif p >= o.threshold:
                    self._run_start = -1
        return events

    def flush(self) -> list[VadEvent]:
        """Ends the stream: pads the last partial window with zeros and closes open speech at the end."""
        events: list[VadEvent] = []
        if len(self._pending):
            events += self.process(np.zeros(WINDOW - len(self._pending), np.float32))
        if self._in_speech:
            self._in_speech = False
            end = self._run_start if self._run_start >= 0 else self._samples
            events.append(VadEvent("speech_end", end / SAMPLE_RATE_HZ))
            self._run_start = -1
        return events

    def close(self) -> None:
        self._session = None  # type: ignore[assignment]

    def __enter__(self) -> SileroVad:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _model_path(name: str) -> Path:
    spec = find_spec("silero_vad")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
        if path.is_file():
            return path
    with resources.as_file(resources.files("silero_vad.data").joinpath(name)) as p:  # e.g. a zipped install
        return Path(p)


def speech_segments(
    vad: SileroVad, audio: np.ndarray, sample_rate_hz: int = SAMPLE_RATE_HZ
) -> list[tuple[float, float]]:
    """Offline convenience: resets ``vad``, runs it over the whole clip, returns [(start_s, end_s)]."""
    vad.reset()
    events = vad.process(audio, sample_rate_hz) + vad.flush()
    segs: list[tuple[float, float]] = []
    start = 0.0
    for e in events:
        if e.kind == "speech_start":
            start = e.time_s
        else:
            segs.append((start, e.time_s))
    return segs
