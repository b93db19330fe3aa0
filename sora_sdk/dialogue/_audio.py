"""PCM helpers shared by VAD, ASR and the speaker: conversion and resampling."""

from __future__ import annotations

from math import gcd

import numpy as np
from scipy.signal import resample_poly

__all__ = ["pcm16_to_float", "float_to_pcm16", "resample_pcm16"]


def pcm16_to_float(pcm: np.ndarray) -> np.ndarray:
    """(n,) int16 → (n,) float32 in [-1, 1)."""
    return np.asarray(pcm, dtype=np.float32) / 32768.0


def float_to_pcm16(x: np.ndarray) -> np.ndarray:
    """(n,) float in [-1, 1] → (n,) int16, clipped."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def resample_pcm16(pcm: np.ndarray, from_hz: int, to_hz: int = 16000) -> np.ndarray:
    """(n,) int16 at ``from_hz`` → (m,) int16 at ``to_hz`` with a polyphase filter (scipy resample_poly).

    22050 → 16000 is the ratio 320/441. Each call filters its input on its own, so resample whole
    utterances (or chunks of ≥ 100 ms) rather than tiny pieces.
    """
    pcm = np.asarray(pcm)
    if from_hz == to_hz or len(pcm) == 0:
        return pcm.astype(np.int16, copy=False)
    g = gcd(int(from_hz), int(to_hz))
    y = resample_poly(pcm.astype(np.float32), int(to_hz) // g, int(from_hz) // g)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)
