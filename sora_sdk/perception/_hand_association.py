"""Stable hand IDs for camera hands: detections matched to tracks across frames.

MediaPipe's legacy API returns the hands of a frame in no stable order. Each frame's detections are
matched to the live tracks by minimum total cost (Hungarian, ``scipy.optimize.linear_sum_assignment``):
the wrist's image distance (normalised by the image diagonal) plus ``handedness_penalty`` when the
labels differ (MediaPipe's label can flip for a frame, so a mismatch is discouraged, not forbidden).
A pair costing more than ``max_distance`` starts a new track. A track keeps its ID for
``timeout_s`` after its hand was last seen, so a one-frame dropout does not renumber the hand.
Handedness is a running vote over the track's frames, so it does not flicker either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HandIdAssigner"]


@dataclass
class _Track:
    hand_id: int
    wrist: np.ndarray  # (2,) normalised image coordinates
    p_left: float
    last_time_s: float


class HandIdAssigner:
    """Matches each frame's hands to tracks (see the module docstring)."""

    def __init__(
        self,
        *,
        max_distance: float = 0.25,
        handedness_penalty: float = 0.1,
        timeout_s: float = 0.5,
        vote_rate: float = 0.3,
    ) -> None:
        self.max_distance = max_distance
        self.handedness_penalty = handedness_penalty
        self.timeout_s = timeout_s
        self.vote_rate = vote_rate
        self._tracks: list[_Track] = []
        self._next_id = 1

    def assign(
        self, time_s: float, detections: list[tuple[str, float, np.ndarray]]
    ) -> tuple[list[tuple[int, str]], list[int]]:
        """Matches ``detections`` [(handedness "left"/"right", its score 0..1, wrist (2,) normalised
        by the image diagonal)] to tracks.

        Returns ([(hand_id, voted handedness)] in detection order, IDs whose tracks timed out).
        """
        expired = [t.hand_id for t in self._tracks if time_s - t.last_time_s > self.timeout_s]
        self._tracks = [t for t in self._tracks if time_s - t.last_time_s <= self.timeout_s]
        out: list[tuple[int, str] | None] = [None] * len(detections)
        matched: dict[int, int] = {}
        if self._tracks and detections:
            cost = np.zeros((len(detections), len(self._tracks)))
            for i, (label, _score, wrist) in enumerate(detections):
                for j, tr in enumerate(self._tracks):
                    same = (tr.p_left >= 0.5) == (label == "left")
                    cost[i, j] = float(np.linalg.norm(wrist - tr.wrist)) + (0.0 if same else self.handedness_penalty)
            from scipy.optimize import linear_sum_assignment  # scipy.optimize costs ~0.5 s to import

            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=True):
                if cost[i, j] <= self.max_distance:
                    matched[int(i)] = int(j)
        for i, (label, score, wrist) in enumerate(detections):
            p = score if label == "left" else 1.0 - score
            if i in matched:
                tr = self._tracks[matched[i]]
                tr.p_left = (1.0 - self.vote_rate) * tr.p_left + self.vote_rate * p
                tr.wrist = np.asarray(wrist, dtype=np.float64)
                tr.last_time_s = time_s
            else:
                tr = _Track(self._next_id, np.asarray(wrist, dtype=np.float64), p, time_s)
                self._next_id += 1
                self._tracks.append(tr)
            out[i] = (tr.hand_id, "left" if tr.p_left >= 0.5 else "right")
        return [x for x in out if x is not None], expired

    def expire(self, time_s: float) -> list[int]:
        """IDs of tracks not seen for ``timeout_s`` at ``time_s`` (and forgets them)."""
        return self.assign(time_s, [])[1]

    def reset(self, *, restart_ids: bool = False) -> list[int]:
        """Forgets every track (and with ``restart_ids`` numbers new ones from 1 again); returns their IDs."""
        ids = [t.hand_id for t in self._tracks]
        self._tracks = []
        if restart_ids:
            self._next_id = 1
        return ids
