"""``bench_avatar()``: the avatar's latencies and real-time factors on this host, for ``sora bench avatar``.

Measured in one process, models warm (loading is reported separately):

- text → first text delta: user text handed to the embedded engine → its first "text_delta".
- text → first audio: user text → first "audio" event (with its "visemes" just before it) from a
  TurnRunner that synthesises sentence by sentence.
- end of speech → first audio: a spoken question (our TTS, 16 kHz, then 1 s of silence) goes through
  ``VoiceInput`` (VAD + recogniser) in 32 ms chunks, in an executor thread as the session does it: the
  leading silence as fast as it is processed, and from 0.1 s before the speech on at real-time pace, so
  the recogniser has the time it would have live while the user speaks and during the pause. Measured
  from the true end of the user's speech (last sample above -40 dBFS) to the first avatar audio chunk:
  the end-of-turn decision (audio time: the pause the VAD must hear, ``complete_sentence_end_s`` after a
  complete scene-grammar question, else its ``hangover_s``) + the compute after it (what is left of
  recognition, engine, TTS of the first sentence).
  Four configurations in the same run on the same audio, interleaved: the default (incremental and
  speculative recognition, semantic end of turn) in a conversation under way (the recogniser has heard
  the voice before); the same on the first utterance of a conversation (the recogniser decodes it whole,
  ``PocketsphinxAsr.reset_channel``, which cannot tell a sentence heard to its end from one the search
  completed, so the turn waits for the hangover); waiting for the hangover (``complete_sentence_end_s`` =
  0); and the baseline, which recognises the whole utterance after the hangover.
- TTS / ASR real-time factor: compute seconds per second of audio (below 1 is faster than real time).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncGenerator
from dataclasses import asdict, dataclass
from typing import ClassVar, cast

import numpy as np

from ..core.avatar import AvatarEvent, ObjectSummary, PlaneSummary, SceneSummary
from ._asr import PocketsphinxAsr
from ._audio import resample_pcm16
from ._embedded import EmbeddedEngine
from ._intents import mask_objects
from ._speaker import SpeakerOptions, TurnRunner
from ._tts import EspeakTts
from ._vad import WINDOW, SileroVad, VadOptions
from ._voice_input import VoiceInput, VoiceInputOptions

__all__ = ["AvatarBenchResult", "bench_avatar", "bench_scene"]

_QUESTIONS = (
    "where is the red mug",
    "how far is the green plant",
    "what am i looking at",
    "how many chairs are there",
    "what is on the table",
    "describe the room",
    "what am i pointing at",
    "where is the yellow bottle",
)


_LEADS = ("so", "okay", "hmm", "and", "well", "now", "please", "quick question")


@dataclass(frozen=True)
class AvatarBenchResult:
    """Medians over the questions, milliseconds unless named otherwise; ``targets_ms`` from the issue.

    speech_end_* / vad_decision_ms: the default configuration (the end-of-turn decision; the compute after
    it), with ``complete_sentence_end_s`` = ``complete_sentence_end_s``; early_ends: its turns that ended on
    a complete sentence (the others waited for the hangover); speculations_used: its turns answered from
    the recognition finished in the final pause. first_utterance_*: the default on a conversation's first
    utterance. hangover_*: the default without the semantic end. baseline_*: whole-utterance recognition
    after the hangover; ratio_to_baseline = default / baseline end of speech → first audio;
    transcripts_same: questions recognised identically by the default and the baseline. questions: how
    many were spoken (asr_exact counts them)."""

    load_s: float
    text_to_first_delta_ms: float
    text_to_first_audio_ms: float
    speech_end_to_first_audio_ms: float
    vad_decision_ms: float
    speech_end_compute_ms: float
    complete_sentence_end_s: float
    early_ends: int
    speculations_used: int
    first_utterance_speech_end_to_first_audio_ms: float
    hangover_speech_end_to_first_audio_ms: float
    hangover_vad_decision_ms: float
    hangover_speech_end_compute_ms: float
    baseline_speech_end_to_first_audio_ms: float
    baseline_vad_decision_ms: float
    baseline_speech_end_compute_ms: float
    ratio_to_baseline: float
    transcripts_same: int
    tts_rtf: float
    asr_rtf: float
    asr_exact: int
    questions: int

    targets_ms: ClassVar[dict[str, float]] = {
        "text_to_first_delta_ms": 20.0,
        "text_to_first_audio_ms": 120.0,
        "speech_end_to_first_audio_ms": 232.0,
    }

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def format(self) -> str:
        """Human-readable lines, each with its target where the issue sets one."""
        t = self.targets_ms
        lines = [
            f"models loaded in {self.load_s:.1f} s",
            f"text -> first text delta        {self.text_to_first_delta_ms:8.1f} ms  "
            f"(target <= {t['text_to_first_delta_ms']:.0f})",
            f"text -> first audio + visemes   {self.text_to_first_audio_ms:8.1f} ms  "
            f"(target <= {t['text_to_first_audio_ms']:.0f})",
            f"end of speech -> first audio    {self.speech_end_to_first_audio_ms:8.1f} ms  (target <= "
            f"{t['speech_end_to_first_audio_ms']:.0f}; = end-of-turn decision {self.vad_decision_ms:.0f} + compute "
            f"{self.speech_end_compute_ms:.1f}; {self.early_ends}/{self.questions} ended on a complete sentence "
            f"after {self.complete_sentence_end_s:.2f} s of pause, the others after the hangover)",
            f"  a conversation's first turn   {self.first_utterance_speech_end_to_first_audio_ms:8.1f} ms  "
            f"(decoded whole: waits for the hangover)",
            f"  waiting for the hangover      {self.hangover_speech_end_to_first_audio_ms:8.1f} ms  (= VAD decision "
            f"{self.hangover_vad_decision_ms:.0f} + compute {self.hangover_speech_end_compute_ms:.1f}; "
            f"complete_sentence_end_s = 0)",
            f"  baseline (whole, after it)    {self.baseline_speech_end_to_first_audio_ms:8.1f} ms  (= VAD decision "
            f"{self.baseline_vad_decision_ms:.0f} + compute {self.baseline_speech_end_compute_ms:.1f}); default / "
            f"baseline {self.ratio_to_baseline:.2f}x, same transcript on {self.transcripts_same}/{self.questions}",
            f"TTS real-time factor            {self.tts_rtf:8.4f}",
            f"ASR real-time factor            {self.asr_rtf:8.4f}  ({self.asr_exact}/{self.questions} questions exact)",
        ]  # fmt: skip
        return "\n".join(lines)


def bench_scene() -> SceneSummary:
    """A small furnished scene (+Z up, the user at the origin looking along +X) for benchmarks and demos."""
    objects = (
        ObjectSummary("o1", "red mug", (2.0, 0.6, 0.8), (0.08, 0.08, 0.1), "red", "p-table", "table"),
        ObjectSummary("o2", "blue box", (2.2, 0.2, 0.82), (0.2, 0.2, 0.15), "blue", "p-table", "table"),
        ObjectSummary("o3", "green plant", (1.0, -1.5, 0.3), (0.4, 0.4, 0.6), "green", "p-floor", "floor"),
        ObjectSummary("o4", "chair", (2.6, -0.6, 0.45), (0.5, 0.5, 0.9), "brown", "p-floor", "floor"),
        ObjectSummary("o5", "chair", (2.6, 1.4, 0.45), (0.5, 0.5, 0.9), "brown", "p-floor", "floor"),
        ObjectSummary("o6", "yellow bottle", (-1.2, 0.7, 1.25), (0.07, 0.07, 0.25), "yellow", "", "shelf"),
    )
    planes = (
        PlaneSummary("p-floor", "floor", 18.0, (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
        PlaneSummary("p-table", "table", 1.1, (2.1, 0.4, 0.75), (0.0, 0.0, 1.0)),
    )
    return SceneSummary(
        mesh_chunks=100, mesh_triangles=40_000, surface_area_m2=40.0, extent_min_m=(-1.5, -2.0, 0.0),
        extent_max_m=(3.5, 2.0, 2.6), planes=tuple((p.plane_id, p.label, p.area_m2) for p in planes),
        objects=tuple((o.object_id, o.label, o.position_world_m) for o in objects), object_details=objects,
        plane_details=planes, gaze_target_kind="object", gaze_target_id="o3", gaze_target_label="green plant",
        gesture="point", pointing_target_kind="object", pointing_target_id="o1", pointing_target_label="red mug",
        pointing_point_world_m=(2.0, 0.6, 0.85), head_position_world_m=(0.0, 0.0, 1.6),
        head_forward_world=(1.0, 0.0, 0.0),
    )  # fmt: skip


async def _first_events(runner: TurnRunner, text: str, scene: SceneSummary) -> tuple[float, float]:
    t0 = time.perf_counter()
    first_delta = first_audio = float("nan")
    async for ev in runner.run("bench", text, scene):
        if ev.kind == "text_delta" and first_delta != first_delta:
            first_delta = time.perf_counter() - t0
        if ev.kind == "audio":
            first_audio = time.perf_counter() - t0
            runner.interrupt("bench")
    return first_delta, first_audio


@dataclass(frozen=True)
class _SpokenTurn:
    latency_s: float  # true end of speech → first avatar audio chunk, wall seconds
    decision_s: float  # true end of speech → end of the chunk whose feed ended the turn, audio seconds
    compute_s: float  # that feed's start → first avatar audio chunk, wall seconds
    text: str
    speculative: bool
    early_end: bool


async def _spoken_turn(
    runner: TurnRunner, voice: VoiceInput, pcm16k: np.ndarray, scene: SceneSummary
) -> _SpokenTurn | None:
    """Streams ``pcm16k`` (leading silence, speech, trailing silence) through ``voice`` in 32 ms chunks,
    live-paced from 0.1 s before the speech on (the leading silence as fast as it is processed: nothing
    is recognised there); when it reports the utterance, answers it up to the first audio chunk."""
    loud = np.nonzero(np.abs(pcm16k.astype(np.int32)) > 300)[0]
    true_end = int(loud[-1]) + 1 if len(loud) else 0
    live_from = max(0, int(loud[0]) - 1600) if len(loud) else 0
    loop = asyncio.get_running_loop()
    t_live: float | None = None  # wall time at which sample live_from was "spoken"
    for i in range(0, len(pcm16k), WINDOW):
        chunk = pcm16k[i : i + WINDOW]
        heard = i + len(chunk)  # the chunk is complete (can be sent) once its last sample is spoken
        if heard > live_from:
            if t_live is None:
                t_live = time.perf_counter() - (heard - live_from) / 16000
            await asyncio.sleep(max(0.0, t_live + (heard - live_from) / 16000 - time.perf_counter()))
        t_feed = time.perf_counter()
        events = await loop.run_in_executor(None, voice.feed, chunk, 16000)
        utt = next((e.utterance for e in events if e.utterance is not None), None)
        if utt is None:
            continue
        # run() is an async generator: close it here, so the runner is free for the next turn at once
        answer = cast("AsyncGenerator[AvatarEvent, None]", runner.run("bench", utt.text, scene))
        async with contextlib.aclosing(answer) as turn:
            async for ev in turn:
                if ev.kind == "audio":
                    first = time.perf_counter()
                    runner.interrupt("bench")
                    break
            else:
                return None
        assert t_live is not None
        t_end = t_live + (true_end - live_from) / 16000  # wall time at which the speech ended
        decision_s = (heard - true_end) / 16000
        return _SpokenTurn(first - t_end, decision_s, first - t_feed, utt.text, utt.speculative, utt.early_end)
    return None


def bench_avatar(repeats: int = 3, *, spoken_questions: int = len(_QUESTIONS)) -> AvatarBenchResult:
    """Runs the benchmark (about 70 s on a 2-core CPU, 5–7 s of it model loading) and returns its numbers.

    repeats: rounds of the typed questions. spoken_questions: how many of the questions are also spoken
    (each in four configurations, 1.5–2 s of live-paced audio apiece).
    """
    t_load = time.perf_counter()
    engine = EmbeddedEngine()
    engine.warm_up()
    tts = EspeakTts()
    asr = PocketsphinxAsr()
    vad = SileroVad(VadOptions())
    scene = bench_scene()
    asr.set_scene(scene)
    load_s = time.perf_counter() - t_load
    runner = TurnRunner(engine, SpeakerOptions(realtime=False), tts=tts)
    default = VoiceInputOptions()
    modes = {
        "default": default,
        "first_utterance": default,
        "hangover": VoiceInputOptions(complete_sentence_end_s=0.0),
        "baseline": VoiceInputOptions(incremental=False, speculate_after_s=0.0, complete_sentence_end_s=0.0),
    }

    async def run_all() -> tuple[list[float], list[float], dict[str, list[_SpokenTurn]], int, float]:
        deltas: list[float] = []
        audios: list[float] = []
        spoken: dict[str, list[_SpokenTurn]] = {m: [] for m in modes}
        for q in _QUESTIONS:  # warm every code path once (first-call allocations)
            await _first_events(runner, q, scene)
        for r in range(repeats):
            for q in _QUESTIONS:  # a new wording each time, so the query embedding is computed, not cached
                d, a = await _first_events(runner, f"{_LEADS[r % len(_LEADS)]} {q}?", scene)
                deltas.append(d)
                audios.append(a)
        exact = 0
        asr_time = asr_audio = 0.0
        said = tts.synthesize("hello")  # a conversation under way: the recogniser has heard this voice once
        asr.recognize(said.pcm, said.sample_rate_hz)
        for q in _QUESTIONS[:spoken_questions]:
            said = tts.synthesize(q)
            pcm = resample_pcm16(said.pcm, said.sample_rate_hz, 16000)
            padded = np.concatenate([np.zeros(8000, np.int16), pcm, np.zeros(16000, np.int16)])
            for mode, options in modes.items():  # interleaved, so load on the host affects all alike
                # the engine meets the question for the first time (scene labels stay cached, as in a session)
                engine.embedder.evict([q, mask_objects(q, engine._vocabulary(scene))])
                vad.reset()
                if mode == "first_utterance":
                    asr.reset_channel()
                with VoiceInput(asr, vad, options, on_speculation=lambda r: engine.prepare(r.text, scene)) as voice:
                    turn = await _spoken_turn(runner, voice, padded, scene)
                if turn is not None:
                    spoken[mode].append(turn)
            heard = asr.recognize(pcm, 16000)
            asr_time += heard.elapsed_s
            asr_audio += heard.audio_s
            exact += int(heard.text == q)
        return deltas, audios, spoken, exact, asr_time / max(asr_audio, 1e-9)

    deltas, audios, spoken, exact, asr_rtf = asyncio.run(run_all())
    tts_time = tts_audio = 0.0
    for q in _QUESTIONS:
        t0 = time.perf_counter()
        r = tts.synthesize(f"Here is the answer to your question: {q}. I hope that helps.")
        tts_time += time.perf_counter() - t0
        tts_audio += r.duration_s

    def ms(mode: str, name: str) -> float:
        values = [getattr(t, name) for t in spoken[mode]]
        return statistics.median(values) * 1000 if values else float("nan")

    main, base = spoken["default"], spoken["baseline"]
    return AvatarBenchResult(
        load_s=load_s,
        text_to_first_delta_ms=statistics.median(deltas) * 1000,
        text_to_first_audio_ms=statistics.median(audios) * 1000,
        speech_end_to_first_audio_ms=ms("default", "latency_s"),
        vad_decision_ms=ms("default", "decision_s"),
        speech_end_compute_ms=ms("default", "compute_s"),
        complete_sentence_end_s=default.complete_sentence_end_s,
        early_ends=sum(t.early_end for t in main),
        speculations_used=sum(t.speculative for t in main),
        first_utterance_speech_end_to_first_audio_ms=ms("first_utterance", "latency_s"),
        hangover_speech_end_to_first_audio_ms=ms("hangover", "latency_s"),
        hangover_vad_decision_ms=ms("hangover", "decision_s"),
        hangover_speech_end_compute_ms=ms("hangover", "compute_s"),
        baseline_speech_end_to_first_audio_ms=ms("baseline", "latency_s"),
        baseline_vad_decision_ms=ms("baseline", "decision_s"),
        baseline_speech_end_compute_ms=ms("baseline", "compute_s"),
        ratio_to_baseline=ms("default", "latency_s") / ms("baseline", "latency_s"),
        transcripts_same=sum(a.text == b.text for a, b in zip(main, base, strict=False)),
        tts_rtf=tts_time / tts_audio,
        asr_rtf=asr_rtf,
        asr_exact=exact,
        questions=len(_QUESTIONS[:spoken_questions]),
    )
