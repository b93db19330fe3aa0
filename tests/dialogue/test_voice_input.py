"""VoiceInput: barge-in and end of turn from the VAD, recognition with the scene grammar, prosody, and
speculative recognition during the pause before the end of the turn."""

from __future__ import annotations

import numpy as np
import pytest

from sora_sdk.dialogue import (
    EspeakTts,
    PocketsphinxAsr,
    VoiceInput,
    VoiceInputEvent,
    VoiceInputOptions,
    resample_pcm16,
)


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
    # The determiner is the one word the grammar decode sometimes swaps ("that" for "the", ~2 in 100
    # synthesised clips); the words that carry the question must all be right.
    assert u is not None and u.asr.source == "grammar"
    assert [w for w in u.text.split() if w not in ("the", "that", "a")] == ["where", "is", "yellow", "bottle"], u.text
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


def _speech16k(tts: EspeakTts, text: str, *, trim_start: bool = False) -> np.ndarray:
    """``text`` spoken at 16 kHz up to its last voiced sample (and from its first with ``trim_start``), so
    the silences put around it are exact."""
    said = tts.synthesize(text)
    pcm = resample_pcm16(said.pcm, said.sample_rate_hz, 16000)
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > 300)[0]
    return pcm[loud[0] if trim_start else 0 : loud[-1] + 1]


def _feed(vi: VoiceInput, audio: np.ndarray, chunk: int = 512) -> list[VoiceInputEvent]:
    events: list[VoiceInputEvent] = []
    for i in range(0, len(audio), chunk):  # 32 ms chunks, as a live client sends them
        events += vi.feed(audio[i : i + chunk], 16000)
    return events


def test_the_pause_is_recognised_speculatively_and_used_when_it_ends_the_turn(scene, tts: EspeakTts) -> None:  # type: ignore[no-untyped-def]
    speech = _speech16k(tts, "where is the red mug")
    audio = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(16000, np.int16)])
    fresh = []  # one recogniser each, so neither has adapted to an utterance the other has not heard
    for _ in range(2):
        fresh.append(PocketsphinxAsr())
        fresh[-1].set_scene(scene)
    with VoiceInput(fresh[0], options=VoiceInputOptions(speculate_after_s=0.0)) as plain:
        reference = [e.utterance for e in _feed(plain, audio) if e.utterance is not None]
    with VoiceInput(fresh[1]) as vi:
        events = _feed(vi, audio)
        assert (vi.speculations_started, vi.speculations_used, vi.speculations_discarded) == (1, 1, 0)
    assert plain.speculations_started == 0 and not reference[0].speculative
    assert [e.kind for e in events] == ["speech_start", "utterance"]
    u, ref = events[1].utterance, reference[0]
    assert u is not None and u.speculative and u.text == ref.text == "where is the red mug"
    assert (u.start_s, u.end_s) == (ref.start_s, ref.end_s) and np.array_equal(u.audio, ref.audio)
    assert u.asr.text == ref.asr.text and u.asr.source == ref.asr.source and u.asr.confidence == ref.asr.confidence


def test_speech_resuming_after_a_200_ms_pause_discards_the_speculation_and_makes_one_turn(
    asr: PocketsphinxAsr, tts: EspeakTts
) -> None:
    # "how far is the green plant" alone is a complete question: it must not become a turn of its own
    first, second = _speech16k(tts, "how far is the green plant"), _speech16k(tts, "from the red mug", trim_start=True)
    gap = np.zeros(3200, np.int16)  # 200 ms
    audio = np.concatenate([np.zeros(8000, np.int16), first, gap, second, np.zeros(16000, np.int16)])
    with VoiceInput(asr) as vi:
        events = _feed(vi, audio)
        # one speculation in the gap (discarded when speech resumed; a 64 ms pause inside the words can start
        # one more), one in the final pause (used)
        assert vi.speculations_discarded >= 1 and vi.speculations_used == 1
        assert vi.speculations_started == vi.speculations_discarded + vi.speculations_used
    assert [e.kind for e in events] == ["speech_start", "utterance"]
    u = events[1].utterance
    assert u is not None and u.text == "how far is the green plant from the red mug" and u.speculative
    assert u.end_s > 0.5 + (len(first) + len(gap) + len(second)) / 16000


def test_a_complete_sentence_can_end_the_turn_before_the_hangover(asr: PocketsphinxAsr, tts: EspeakTts) -> None:
    speech = _speech16k(tts, "what am i looking at")
    silence = np.zeros(16000, np.int16)
    audio = np.concatenate([silence[:8000], speech, silence, speech, silence])
    end_of_speech = (8000 + len(speech)) / 16000
    with VoiceInput(asr, options=VoiceInputOptions(complete_sentence_end_s=0.2)) as vi:
        times: list[float] = []
        events: list[VoiceInputEvent] = []
        for i in range(0, len(audio), 512):
            for e in vi.feed(audio[i : i + 512], 16000):
                events.append(e)
                times.append((i + 512) / 16000)
    assert [e.kind for e in events] == ["speech_start", "utterance", "speech_start", "utterance"]
    assert all(e.utterance is not None and e.utterance.text == "what am i looking at" for e in events[1::2])
    # decided before the 0.4 s hangover could have passed (the VAD's end lags the speech by up to ~0.1 s)
    assert times[1] - end_of_speech < 0.4
