"""VoiceInput: barge-in and end of turn from the VAD, recognition with the scene grammar, prosody."""

from __future__ import annotations

import numpy as np
import pytest

from sora_sdk.dialogue import EspeakTts, PocketsphinxAsr, VoiceInput


@pytest.fixture(scope="module")
def asr(scene) -> PocketsphinxAsr:  # type: ignore[no-untyped-def]
    a = PocketsphinxAsr()
    a.set_scene(scene)
    return a


def test_streamed_speech_gives_a_barge_in_then_the_recognised_utterance(asr: PocketsphinxAsr, tts: EspeakTts) -> None:
    said = tts.synthesize("where is the yellow bottle")
    sr = said.sample_rate_hz
    audio = np.concatenate([np.zeros(sr // 2, np.int16), said.pcm, np.zeros(sr, np.int16)])
    vi = VoiceInput(asr)
    events = []
    for i in range(0, len(audio), sr // 10):  # 100 ms chunks at the client's 22050 Hz
        events += vi.feed(audio[i : i + sr // 10], sr)
    assert [e.kind for e in events] == ["speech_start", "utterance"]
    assert abs(events[0].time_s - 0.5) < 0.25
    u = events[1].utterance
    assert u is not None and u.text == "where is the yellow bottle" and u.asr.source == "grammar"
    assert u.start_s < 0.5 < 0.5 + said.duration_s - 0.3 < u.end_s and u.voice.pitch_hz > 60


def test_client_end_pointing_recognises_without_waiting_for_silence(asr: PocketsphinxAsr, tts: EspeakTts) -> None:
    said = tts.synthesize("what am I looking at")
    vi = VoiceInput(asr)
    events = vi.feed(np.concatenate([np.zeros(8000, np.int16), said.pcm]), said.sample_rate_hz)
    assert [e.kind for e in events] == ["speech_start"]
    done = vi.end_of_utterance()
    assert len(done) == 1 and done[0].utterance is not None and done[0].utterance.text == "what am i looking at"
    assert vi.end_of_utterance() == []
    assert [e.kind for e in vi.feed(np.zeros(16000, np.int16), 16000)] == []  # the VAD's late end is ignored
