"""silero-vad (bundled ONNX) streaming: speech segments in TTS audio padded with silence."""

from __future__ import annotations

import numpy as np
import pytest

from sora_sdk.dialogue import EspeakTts, SileroVad, VadOptions, resample_pcm16, speech_segments


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


def _voiced_extent(pcm: np.ndarray, sr: int) -> tuple[float, float]:
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > 300)[0]
    return loud[0] / sr, (loud[-1] + 1) / sr


def _two_utterances(tts: EspeakTts) -> tuple[np.ndarray, list[tuple[float, float]]]:
    a = tts.synthesize("Where is the red cup on the table?")
    b = tts.synthesize("Thank you very much.")
    sr = a.sample_rate_hz
    a16, b16 = resample_pcm16(a.pcm, sr, 16000), resample_pcm16(b.pcm, sr, 16000)
    gap = lambda s: np.zeros(int(s * 16000), np.int16)  # noqa: E731
    audio = np.concatenate([gap(1.0), a16, gap(1.5), b16, gap(1.0)])
    s1, e1 = _voiced_extent(a16, 16000)
    s2, e2 = _voiced_extent(b16, 16000)
    off2 = 1.0 + len(a16) / 16000 + 1.5
    return audio, [(1.0 + s1, 1.0 + e1), (off2 + s2, off2 + e2)]


def test_finds_each_utterance_with_boundaries_within_100_ms(vad: SileroVad, tts: EspeakTts) -> None:
    audio, truth = _two_utterances(tts)
    segs = speech_segments(vad, audio, 16000)
    assert len(segs) == 2
    for (s, e), (ts, te) in zip(segs, truth, strict=True):
        assert abs(s - ts) < 0.1 and abs(e - te) < 0.1, (segs, truth)


def test_streaming_in_odd_chunks_matches_whole_clip(vad: SileroVad, tts: EspeakTts) -> None:
    audio, _truth = _two_utterances(tts)
    whole = speech_segments(vad, audio, 16000)
    vad.reset()
    events = []
    for i in range(0, len(audio), 777):
        events += vad.process(audio[i : i + 777])
    events += vad.flush()
    starts = [e.time_s for e in events if e.kind == "speech_start"]
    ends = [e.time_s for e in events if e.kind == "speech_end"]
    assert starts == pytest.approx([s for s, _ in whole]) and ends == pytest.approx([e for _, e in whole])


def test_accepts_22050_hz_input_and_stays_silent_on_silence_and_noise(tts: EspeakTts) -> None:
    vad = SileroVad(VadOptions(hangover_s=0.3))
    r = tts.synthesize("Hello there.")
    pad = np.zeros(int(0.8 * r.sample_rate_hz), np.int16)
    segs = speech_segments(vad, np.concatenate([pad, r.pcm, pad]), r.sample_rate_hz)
    assert len(segs) == 1 and abs(segs[0][0] - 0.8) < 0.1
    noise = np.random.default_rng(0).normal(0, 30, 32000).astype(np.int16)
    assert speech_segments(vad, noise, 16000) == []


def test_barge_in_is_reported_within_250_ms_of_speech_onset(vad: SileroVad, tts: EspeakTts) -> None:
    r = tts.synthesize("Stop, please stop talking.")
    speech = resample_pcm16(r.pcm, r.sample_rate_hz, 16000)
    audio = np.concatenate([np.zeros(16000, np.int16), speech])
    onset = 1.0 + _voiced_extent(speech, 16000)[0]
    vad.reset()
    for i in range(0, len(audio), 512):
        if any(e.kind == "speech_start" for e in vad.process(audio[i : i + 512])):
            heard_at = (i + 512) / 16000
            break
    else:
        pytest.fail("no speech start")
    # measured ~0.2 s: min_speech_s (96 ms) plus the model's rise over the first syllable
    assert heard_at - onset < 0.25
