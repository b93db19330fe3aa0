"""espeak-ng TTS through ctypes: audio of plausible length, aligned phoneme events, thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sora_sdk.dialogue import EspeakTts, TtsOptions, synthesize


def test_synthesize_returns_speech_of_plausible_duration_for_the_text(tts: EspeakTts) -> None:
    text = "Where is the red cup on the kitchen table?"  # 9 words
    r = tts.synthesize(text)
    assert r.sample_rate_hz == 22050 and r.pcm.dtype == np.int16 and r.pcm.ndim == 1
    # 175 words per minute is ~0.34 s per word; allow for the trailing pause and short function words
    assert 1.5 < r.duration_s < 4.5
    assert np.sqrt(np.mean(r.pcm.astype(np.float64) ** 2)) > 500  # not silence


def test_rate_changes_duration_and_module_function_returns_the_triplet() -> None:
    pcm_slow, sr, phonemes = synthesize("I can see three chairs and a table.", rate_wpm=120)
    pcm_fast, _, _ = synthesize("I can see three chairs and a table.", rate_wpm=300)
    assert sr == 22050 and len(pcm_fast) < 0.7 * len(pcm_slow)
    assert phonemes and all(isinstance(n, str) and t >= 0 for n, t in phonemes)


def test_phoneme_events_are_ordered_and_inside_the_audio(tts: EspeakTts) -> None:
    r = tts.synthesize("Papa sees the big blue ball.")
    times = [t for _n, t in r.phonemes]
    assert times == sorted(times)
    assert times[-1] <= r.duration_s + 1e-6
    names = [n.lstrip("',") for n, _t in r.phonemes]
    assert "p" in names and "s" in names and "b" in names
    # words are located too: "blue" starts after "big"
    starts = {r.text[s : s + n]: t for s, n, t in r.words}
    assert starts["big"] < starts["blue"] < starts["ball"]


def test_first_phoneme_energy_matches_its_event_time(tts: EspeakTts) -> None:
    r = tts.synthesize("Sue.")
    t_s = next(t for n, t in r.phonemes if n.lstrip("'") == "s")
    sr = r.sample_rate_hz
    before = r.pcm[: int(t_s * sr)].astype(np.float64)
    after = r.pcm[int(t_s * sr) : int((t_s + 0.05) * sr)].astype(np.float64)
    assert np.abs(after).mean() > 3 * (np.abs(before).mean() + 1)


def test_sentence_streaming_yields_one_result_per_sentence(tts: EspeakTts) -> None:
    parts = list(tts.synthesize_sentences("Hello there. How are you today? I'm fine!"))
    assert [p.text for p in parts] == ["Hello there.", "How are you today?", "I'm fine!"]
    assert all(p.duration_s > 0.3 for p in parts)


def test_concurrent_calls_are_serialised_and_each_gets_its_own_speech(tts: EspeakTts) -> None:
    # espeak-ng varies its output by a few samples from call to call, so compare phonemes and lengths
    texts = ["The red mug is on the table.", "The plant is to your right.", "I count two chairs."] * 3
    serial = [tts.synthesize(t) for t in texts]
    other = EspeakTts(TtsOptions())
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(other.synthesize, texts))
    for a, b in zip(serial, parallel, strict=True):
        assert a.text == b.text
        assert [n for n, _t in a.phonemes] == [n for n, _t in b.phonemes]
        assert abs(a.duration_s - b.duration_s) < 0.01 * a.duration_s
