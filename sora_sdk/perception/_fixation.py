"""Fixation identification on a stream of gaze directions: dispersion-based (I-DT).

Salvucci & Goldberg (2000), "Identifying fixations and saccades in eye-tracking protocols", I-DT:
a fixation is a run of samples lasting at least ``min_duration_s`` whose dispersion stays within a
threshold. Working on directions (angles) rather than screen points, dispersion here is the largest
angle between a sample and the run's mean direction (the "distance from centroid" measure of
Blignaut 2009, "Fixation identification: the optimum threshold for a dispersion algorithm"), which
unlike max-minus-min does not grow with the number of samples in a run.

Online form: samples collect in a window; while its dispersion exceeds the threshold the oldest
sample is dropped; once it spans ``min_duration_s`` a fixation starts at its first sample (so the
``START`` is known ``min_duration_s`` after the fixation really began, and says so). During a
fixation each new sample is compared with the running mean; ``max_outlier_samples`` consecutive
samples outside the threshold may be tolerated as noise (they are dropped), one more ends the
fixation at the last sample inside it. A gap longer than ``max_gap_s`` (blink, tracking loss) ends
it too. So fixation start and end times are exact to one sample.

Defaults: 2.5 deg about the mean suits headset eye trackers (precision ~0.5-1.5 deg RMS); 100 ms is
the common minimum fixation duration (glances shorter than that are saccade landings, not looks).

The hot path is plain Python floats: directions are 3-vectors, and numpy's per-call overhead would
cost more than the arithmetic (the gaze pipeline must handle tens of thousands of samples a second).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from ._events import EventPhase

__all__ = ["Fixation", "FixationFilter", "FixationFilterOptions"]


@dataclass(frozen=True)
class FixationFilterOptions:
    """I-DT thresholds."""

    #: Largest angle between a sample and the fixation's mean direction, degrees.
    max_dispersion_deg: float = 2.5
    #: Shortest fixation, seconds.
    min_duration_s: float = 0.1
    #: A pause between samples longer than this ends a fixation, seconds.
    max_gap_s: float = 0.1
    #: Consecutive out-of-threshold samples tolerated as noise inside a fixation.
    max_outlier_samples: int = 1


@dataclass(frozen=True, eq=False)
class Fixation:
    """A fixation so far (or final, once ended): times in seconds; direction (3,) float64 unit."""

    start_time_s: float
    end_time_s: float
    direction: np.ndarray
    sample_count: int

    @property
    def duration_s(self) -> float:
        return self.end_time_s - self.start_time_s


_Sample = tuple[float, float, float, float]  # t, x, y, z (unit)


class FixationFilter:
    """Online I-DT over unit gaze directions (see the module docstring).

    ``update`` ignores a sample whose time does not increase (streams can repeat or reorder).
    """

    def __init__(self, options: FixationFilterOptions | None = None) -> None:
        self.options = options or FixationFilterOptions()
        if self.options.min_duration_s <= 0 or self.options.max_dispersion_deg <= 0:
            raise ValueError("min_duration_s and max_dispersion_deg must be positive")
        self._cos_thr = math.cos(math.radians(self.options.max_dispersion_deg))
        self.reset()

    @classmethod
    def create_from_options(cls, options: FixationFilterOptions | None = None) -> FixationFilter:
        return cls(options)

    def reset(self) -> None:
        self._window: deque[_Sample] = deque()
        self._last_t: float | None = None
        self._fixating = False
        self._start = 0.0
        self._end = 0.0
        self._sx = self._sy = self._sz = 0.0
        self._n = 0
        self._outliers: list[_Sample] = []

    @property
    def fixating(self) -> bool:
        return self._fixating

    @property
    def current(self) -> Fixation | None:
        """The fixation in progress, or None."""
        return self._snapshot() if self._fixating else None

    def mean_direction(self) -> tuple[float, float, float]:
        """Unit mean direction of the fixation in progress (undefined when not fixating)."""
        norm = math.sqrt(self._sx * self._sx + self._sy * self._sy + self._sz * self._sz) or 1.0
        return self._sx / norm, self._sy / norm, self._sz / norm

    def _snapshot(self) -> Fixation:
        return Fixation(self._start, self._end, np.array(self.mean_direction()), self._n)

    def update(
        self, time_s: float, direction: np.ndarray | tuple[float, float, float]
    ) -> list[tuple[EventPhase, Fixation]]:
        """Feeds one sample; returns ``(START|END, fixation)`` transitions it completes, in order.

        direction : (3,) any non-zero length (normalised here).
        """
        x, y, z = float(direction[0]), float(direction[1]), float(direction[2])
        norm = math.sqrt(x * x + y * y + z * z)
        if not norm > 0.0 or (self._last_t is not None and time_s <= self._last_t):
            return []
        s = (time_s, x / norm, y / norm, z / norm)
        out: list[tuple[EventPhase, Fixation]] = []
        if self._last_t is not None and time_s - self._last_t > self.options.max_gap_s:
            if self._fixating:
                out.append(self._end_fixation())
            self._window.clear()
        self._last_t = time_s

        if self._fixating:
            mx, my, mz = self.mean_direction()
            if mx * s[1] + my * s[2] + mz * s[3] >= self._cos_thr:
                self._add(s)
                self._outliers.clear()
                return out
            self._outliers.append(s)
            if len(self._outliers) <= self.options.max_outlier_samples:
                return out
            pending = self._outliers
            out.append(self._end_fixation())
            self._window.extend(pending)
            started = self._shrink_and_maybe_start()
        else:
            self._window.append(s)
            started = self._shrink_and_maybe_start()
        if started is not None:
            out.append((EventPhase.START, started))
        return out

    def flush(self) -> list[tuple[EventPhase, Fixation]]:
        """Ends the fixation in progress (source switch, stream end)."""
        out = [self._end_fixation()] if self._fixating else []
        self._window.clear()
        return out

    def _add(self, s: _Sample) -> None:
        self._sx += s[1]
        self._sy += s[2]
        self._sz += s[3]
        self._n += 1
        self._end = s[0]

    def _end_fixation(self) -> tuple[EventPhase, Fixation]:
        fix = self._snapshot()
        self._fixating = False
        self._outliers = []
        self._sx = self._sy = self._sz = 0.0
        self._n = 0
        return EventPhase.END, fix

    def _shrink_and_maybe_start(self) -> Fixation | None:
        w = self._window
        cos_thr = self._cos_thr
        while len(w) > 1:
            sx = sum(q[1] for q in w)
            sy = sum(q[2] for q in w)
            sz = sum(q[3] for q in w)
            norm = math.sqrt(sx * sx + sy * sy + sz * sz) or 1.0
            mx, my, mz = sx / norm, sy / norm, sz / norm
            if min(mx * q[1] + my * q[2] + mz * q[3] for q in w) >= cos_thr:
                break
            w.popleft()
        if len(w) < 2 or w[-1][0] - w[0][0] < self.options.min_duration_s - 1e-9:
            return None
        self._fixating = True
        self._start = w[0][0]
        self._sx = self._sy = self._sz = 0.0
        self._n = 0
        for q in w:
            self._add(q)
        w.clear()
        return self._snapshot()
