"""The user's affect: lexicon sentiment of the words, arousal from voice energy and pitch."""

from __future__ import annotations

from sora_sdk.dialogue import EspeakTts, TtsOptions, avatar_emotion, text_sentiment, voice_features


def test_text_sentiment_handles_negation_and_intensifiers() -> None:
    assert text_sentiment("I love this room!").valence > 0.5
    assert text_sentiment("this is not good").valence < 0
    assert text_sentiment("really bad").valence < text_sentiment("bad").valence
    assert text_sentiment("where is the cup").valence == 0.0
    assert avatar_emotion(text_sentiment("I'm so sad and lonely"))[0] == "sad"
    assert avatar_emotion(text_sentiment("you are useless, I hate this"))[0] == "concerned"
    assert avatar_emotion(text_sentiment("where is the cup"), default="curious")[0] == "curious"


def test_voice_features_track_pitch_and_loudness(tts: EspeakTts) -> None:
    text = "Where did I put my keys?"
    low = EspeakTts(TtsOptions(pitch=20, volume=60)).synthesize(text)
    high = EspeakTts(TtsOptions(pitch=90, volume=180)).synthesize(text)
    fl, fh = voice_features(low.pcm, low.sample_rate_hz), voice_features(high.pcm, high.sample_rate_hz)
    assert 60 < fl.pitch_hz < fh.pitch_hz < 400 and fh.energy_dbfs > fl.energy_dbfs + 3
    assert fh.arousal() > fl.arousal() and 0.3 < fl.voiced_fraction <= 1.0
    # the same neutral words sound more intense when said loud and high
    calm = avatar_emotion(text_sentiment("that is nice"), fl)
    excited = avatar_emotion(text_sentiment("that is nice"), fh)
    assert calm[0] == excited[0] == "happy" and excited[1] > calm[1]
