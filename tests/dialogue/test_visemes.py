"""Viseme timelines from espeak-ng phoneme events: monotonic, covering the audio, with the right shapes."""

from __future__ import annotations

import itertools

import pytest

from sora_sdk.dialogue import VISEME_BLENDSHAPES, VISEMES, EspeakTts, phoneme_to_viseme, viseme_track
from sora_sdk.dialogue._visemes import BLENDSHAPE_NAMES, slice_track


def _track(tts: EspeakTts, text: str):  # type: ignore[no-untyped-def]
    r = tts.synthesize(text)
    return r, viseme_track(r.phonemes, r.duration_s)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("papa", {"pp", "aa"}),
        ("see", {"ss", "i"}),
        ("five", {"ff", "aa"}),
        ("think", {"th", "i", "kk"}),
        ("church", {"ch", "rr"}),
        ("do it", {"dd", "u", "i"}),
        ("no", {"nn", "o"}),
        ("red", {"rr", "e", "dd"}),
        ("book", {"pp", "u", "kk"}),
    ],
)
def test_words_use_the_mouth_shapes_their_phonemes_call_for(tts: EspeakTts, text: str, expected: set[str]) -> None:
    _r, tr = _track(tts, text)
    used = {v for v, _t, _w in tr.keys}
    assert expected <= used, (text, tr.keys)


def test_timeline_is_monotonic_covers_the_audio_and_starts_and_ends_closed(tts: EspeakTts) -> None:
    r, tr = _track(tts, "Hello, where is the red mug? It's on the table, next to the box.")
    times = [t for _v, t, _w in tr.keys]
    assert all(b > a for a, b in itertools.pairwise(times))
    assert tr.keys[0][:2] == ("sil", 0.0) and tr.keys[-1][0] == "sil"
    assert tr.keys[-1][1] <= r.duration_s + 1e-3
    assert all(v in VISEMES and 0.0 < w <= 1.0 for v, _t, w in tr.keys)
    # the comma and the question mark are pauses: the mouth closes in between
    inner_sil = [t for v, t, _w in tr.keys[1:-1] if v == "sil"]
    assert len(inner_sil) >= 2
    # every phoneme's time appears as a key time or inside a key that merged it (same viseme)
    assert times[-1] > 0.8 * r.duration_s


def test_key_times_follow_the_phoneme_events(tts: EspeakTts) -> None:
    r, tr = _track(tts, "papa")
    p_times = [t for n, t in r.phonemes if n.lstrip("'") == "p"]
    pp_times = [t for v, t, _w in tr.keys if v == "pp"]
    assert pp_times == pytest.approx(p_times, abs=1e-6)


def test_blendshape_frames_cover_the_audio_with_valid_arkit_weights(tts: EspeakTts) -> None:
    r, tr = _track(tts, "Papa, look at the moon.")
    assert tr.frames[0][0] == 0.0 and tr.frames[-1][0] <= r.duration_s
    assert len(tr.frames) == int(r.duration_s * 60) + 1
    for _t, w in tr.frames:
        assert set(w) == set(BLENDSHAPE_NAMES) and all(0.0 <= x <= 1.0 for x in w.values())
    # lips press during /p/ and the jaw opens during /A:/
    t_p = next(t for n, t in r.phonemes if n == "p")
    t_a = next(t for n, t in r.phonemes if n.lstrip("'") == "A:")
    at = lambda t: min(tr.frames, key=lambda f: abs(f[0] - t - 0.02))[1]  # noqa: E731
    assert at(t_p)["mouthPressLeft"] > 0.3 and at(t_a)["jawOpen"] > 0.5
    assert at(0.0)["jawOpen"] == 0.0  # starts closed


def test_coarticulation_blends_neighbouring_shapes() -> None:
    keys = [("sil", 0.0, 1.0), ("aa", 0.1, 1.0), ("pp", 0.3, 1.0), ("sil", 0.5, 1.0)]
    from sora_sdk.dialogue._visemes import VisemeOptions, blendshape_frames

    frames = dict(blendshape_frames(keys, 0.6, VisemeOptions(blend_s=0.1, frame_rate_hz=100)))
    jaw = [frames[round(t / 100, 2)]["jawOpen"] for t in range(0, 60)]
    assert jaw[10] == pytest.approx(0.35, abs=0.01)  # halfway into "aa" at its key time
    assert jaw[20] == pytest.approx(0.7, abs=1e-6)  # fully "aa"
    assert 0.04 < jaw[30] < 0.7  # blending "aa" into "pp"


def test_phoneme_table_covers_espeak_mnemonics() -> None:
    assert phoneme_to_viseme("_:") == "sil" and phoneme_to_viseme("'i:") == "i"
    assert phoneme_to_viseme("tS") == "ch" and phoneme_to_viseme("dZ") == "ch" and phoneme_to_viseme("T") == "th"
    assert phoneme_to_viseme("h") is None  # takes the next sound's shape
    assert set(VISEME_BLENDSHAPES) == set(VISEMES)


def test_slices_restate_the_active_key_and_shift_to_the_turn_clock(tts: EspeakTts) -> None:
    _r, tr = _track(tts, "Hello there, my friend.")
    keys, frames = slice_track(tr, 0.2, 0.4, offset_s=10.0)
    assert keys[0][1] == pytest.approx(10.2) and all(10.2 <= t < 10.4 for _v, t, _w in keys)
    assert all(10.2 <= t < 10.4 for t, _w in frames)
