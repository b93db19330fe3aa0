"""The user's affect: sentiment of what they said (a small lexicon) and arousal from their voice.

A lexicon scorer is enough for the avatar's emotion cue (it needs a direction and a strength, not a
classifier's nuance) and costs microseconds, which keeps it off the first-text-delta budget. Voice
features are RMS energy and pitch (autocorrelation f0 over voiced frames); loud, high or lively speech
raises arousal, which sharpens the emotion the text suggests (excited joy vs calm contentment, anger
vs sadness).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Affect", "VoiceFeatures", "avatar_emotion", "text_sentiment", "voice_features"]

_POSITIVE = {
    "good": 1.0, "great": 1.5, "awesome": 2.0, "amazing": 2.0, "love": 1.5, "like": 0.6, "nice": 1.0,
    "happy": 1.5, "glad": 1.2, "thanks": 1.0, "thank": 1.0, "wonderful": 2.0, "excellent": 2.0, "cool": 1.0,
    "beautiful": 1.5, "fun": 1.2, "perfect": 1.8, "yay": 1.5, "excited": 1.6, "enjoy": 1.2, "fantastic": 2.0,
    "lovely": 1.5, "pleased": 1.2, "best": 1.5, "helpful": 1.2, "brilliant": 1.8, "wow": 1.0, "haha": 1.0,
}  # fmt: skip
_NEGATIVE = {
    "bad": -1.2, "terrible": -2.0, "awful": -2.0, "hate": -1.8, "sad": -1.5, "angry": -1.8, "upset": -1.5,
    "annoying": -1.3, "annoyed": -1.4, "wrong": -1.0, "broken": -1.2, "lost": -0.8, "tired": -0.8,
    "worried": -1.3, "afraid": -1.4, "scared": -1.5, "lonely": -1.5, "stupid": -1.5, "useless": -1.8,
    "sucks": -1.8, "horrible": -2.0, "hurt": -1.4, "sick": -1.2, "bored": -0.8, "frustrated": -1.6,
    "damn": -1.2, "ugh": -1.0, "no": -0.3, "not": 0.0, "miss": -0.6, "cry": -1.4, "pain": -1.4, "mad": -1.6,
}  # fmt: skip
_ANGER = {"angry", "hate", "stupid", "useless", "mad", "damn", "annoying", "annoyed", "frustrated", "sucks"}
_FEAR_SAD = {"sad", "worried", "afraid", "scared", "lonely", "hurt", "sick", "cry", "pain", "miss", "lost", "tired"}
_NEGATORS = {"not", "no", "never", "don't", "dont", "doesn't", "isn't", "wasn't", "can't", "won't", "hardly"}
_INTENSIFIERS = {"very": 1.5, "really": 1.4, "so": 1.3, "extremely": 1.8, "super": 1.5, "totally": 1.4}


@dataclass(frozen=True)
class Affect:
    """valence: -1 (negative) .. 1 (positive); arousal: 0 (calm) .. 1 (excited); anger / sadness flags
    say which negative family the words came from."""

    valence: float
    arousal: float
    anger: bool = False
    sadness: bool = False


def text_sentiment(text: str) -> Affect:
    """Lexicon sentiment with negation ("not good") and intensifiers ("really bad") in a 3-word window."""
    words = re.findall(r"[a-z']+", text.lower())
    total, hits = 0.0, 0
    anger = sadness = False
    for i, w in enumerate(words):
        s = _POSITIVE.get(w, 0.0) or _NEGATIVE.get(w, 0.0)
        if not s:
            continue
        window = words[max(0, i - 3) : i]
        if any(x in _NEGATORS for x in window):
            s = -0.6 * s
        for x in window:
            s *= _INTENSIFIERS.get(x, 1.0)
        total += s
        hits += 1
        anger |= w in _ANGER and s < 0
        sadness |= w in _FEAR_SAD and s < 0
    valence = float(np.tanh(total / 2.0))
    exclaim = min(text.count("!"), 3) * 0.15
    arousal = float(min(1.0, 0.2 + 0.25 * abs(total) / max(hits, 1) + exclaim)) if hits or exclaim else 0.2
    return Affect(valence, arousal, anger, sadness)


@dataclass(frozen=True)
class VoiceFeatures:
    """Prosody of one utterance. energy_dbfs: RMS level of voiced frames, dB re full scale (speech at a
    normal level is about -30..-20). pitch_hz: median f0 of voiced frames (0 when none). pitch_range_st:
    spread of f0 (10th..90th percentile), semitones. voiced_fraction: share of 30 ms frames that are voiced."""

    energy_dbfs: float
    pitch_hz: float
    pitch_range_st: float
    voiced_fraction: float

    def arousal(self) -> float:
        """0..1 from loudness (above -30 dBFS), pitch height (above 180 Hz) and liveliness (range > 4 st)."""
        loud = np.clip((self.energy_dbfs + 30.0) / 15.0, 0.0, 1.0)
        high = np.clip((self.pitch_hz - 180.0) / 120.0, 0.0, 1.0) if self.pitch_hz else 0.0
        lively = np.clip((self.pitch_range_st - 4.0) / 8.0, 0.0, 1.0)
        return float(np.clip(0.2 + 0.4 * loud + 0.2 * high + 0.2 * lively, 0.0, 1.0))


def voice_features(pcm: np.ndarray, sample_rate_hz: int) -> VoiceFeatures:
    """(n,) int16 mono → VoiceFeatures, from 30 ms frames with autocorrelation pitch (60–400 Hz)."""
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    n = int(0.03 * sample_rate_hz)
    if len(x) < n:
        return VoiceFeatures(-120.0, 0.0, 0.0, 0.0)
    frames = x[: len(x) // n * n].reshape(-1, n)
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    lag_lo, lag_hi = int(sample_rate_hz / 400), int(sample_rate_hz / 60)
    f0s: list[float] = []
    voiced = np.zeros(len(frames), bool)
    gate = max(1e-3, float(np.percentile(rms, 90)) * 0.1)
    for i, f in enumerate(frames):
        if rms[i] < gate:
            continue
        f = f - f.mean()
        ac = np.correlate(f, f, "full")[n - 1 :]
        if ac[0] <= 0 or lag_hi >= len(ac):
            continue
        # Unbiased autocorrelation: at lag L only n - L samples overlap, so the raw sum understates the
        # periodicity of low voices (an 85 Hz voice's lag is 40 % of a 30 ms frame) by that factor.
        # Multiples of the period score as high then; the shortest lag near the best is the period.
        unbiased = ac[lag_lo:lag_hi] * (n / (n - np.arange(lag_lo, lag_hi)))
        j = int(np.argmax(unbiased >= 0.9 * unbiased.max()))
        while j + 1 < len(unbiased) and unbiased[j + 1] >= unbiased[j]:  # climb to that lobe's peak
            j += 1
        lag = lag_lo + j
        if unbiased[lag - lag_lo] / ac[0] > 0.45:
            voiced[i] = True
            f0s.append(sample_rate_hz / lag)
    energy = float(20 * np.log10(np.sqrt((frames[voiced] ** 2).mean()))) if voiced.any() else -120.0
    if f0s:
        f0 = np.asarray(f0s)
        pitch = float(np.median(f0))
        rng = float(12 * np.log2(np.percentile(f0, 90) / np.percentile(f0, 10)))
    else:
        pitch, rng = 0.0, 0.0
    return VoiceFeatures(energy, pitch, rng, float(voiced.mean()))


def avatar_emotion(
    text_affect: Affect, voice: VoiceFeatures | None = None, *, default: str = "neutral"
) -> tuple[str, float]:
    """The avatar's emotional response (proto Emotion name, intensity 0..1) to the user's affect.

    Positive → happy; anger → concerned (the avatar de-escalates rather than mirrors); sadness → sad
    (empathy); other negative → concerned; neutral → ``default``. Voice arousal sharpens the intensity and
    turns strong positive arousal into "surprised" delight.
    """
    arousal = text_affect.arousal if voice is None else 0.5 * (text_affect.arousal + voice.arousal())
    v = text_affect.valence
    intensity = float(np.clip(0.3 + 0.5 * abs(v) + 0.3 * (arousal - 0.2), 0.1, 1.0))
    if v > 0.25:
        return ("surprised" if arousal > 0.8 and v > 0.6 else "happy"), intensity
    if v < -0.25:
        if text_affect.sadness and not text_affect.anger:
            return "sad", intensity
        return "concerned", intensity
    return default, 0.4 if voice is None else float(np.clip(0.3 + 0.3 * arousal, 0.1, 0.8))
