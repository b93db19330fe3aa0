"""The gaze pipeline: pick a source, resolve the ray, identify fixations, keep dwell per target.

Sources, best first:

1. ``"eye_tracking"``: device eye-gaze rays (OpenXR eye gaze). Always used when they arrive.
2. ``"head"``: the head's forward axis (+z of ``pose_world_head``, camera-like: x right, y down,
   z forward) when no eye-gaze sample arrived for ``eye_tracking_timeout_s``.
3. ``"face_camera"``: a ray estimated from a user-facing camera (:class:`FaceGazeEstimator`), when
   neither of the above arrived recently.

Switching source ends the fixation in progress (the sources differ in noise and in meaning).

Each sample's ray goes through the :class:`FixationFilter`. While a fixation is in progress the
target is what the fixation's *mean* ray hits, which is far steadier than any one noisy sample.
Dwell on a target counts from the start of the first fixation on it and continues across breaks of
at most ``dwell_gap_s`` (a blink, a small saccade within the object); a glance shorter than the
minimum fixation never counts. :meth:`GazeTracker.dwell_totals` sums fixation time per target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.geometry import Pose
from ..core.scene import RaycastHit
from ..core.sensors import EyeGazeSample, HeadPoseSample
from ._events import EventPhase, FixationEvent
from ._fixation import Fixation, FixationFilter, FixationFilterOptions
from ._gaze import GazeObservation, Raycaster, target_key

__all__ = ["GazeTracker", "GazeTrackerOptions"]


@dataclass(frozen=True)
class GazeTrackerOptions:
    """Source priority, ray range and fixation settings."""

    max_distance_m: float = 10.0
    #: Head gaze is used when no eye-gaze sample arrived for this long, seconds.
    eye_tracking_timeout_s: float = 0.3
    #: Face-camera gaze is used when neither eye gaze nor head pose arrived for this long, seconds.
    head_timeout_s: float = 0.5
    #: Confidence reported for head gaze (the eyes may look elsewhere).
    head_gaze_confidence: float = 0.5
    #: Eye-gaze samples below this confidence are dropped.
    min_eye_confidence: float = 0.05
    #: Dwell continues across breaks this short on the same target, seconds.
    dwell_gap_s: float = 0.3
    fixation: FixationFilterOptions = field(default_factory=FixationFilterOptions)


class GazeTracker:
    """Stateful gaze for one user (see the module docstring). Not thread-safe: one caller at a time."""

    def __init__(self, options: GazeTrackerOptions | None = None) -> None:
        self.options = options or GazeTrackerOptions()
        self._filter = FixationFilter(self.options.fixation)
        self._source = ""
        self._last_eye_t: float | None = None
        self._last_head_t: float | None = None
        self._latest: GazeObservation | None = None
        self._fix_hit: RaycastHit | None = None
        self._fix_key = ""
        self._dwell_key = ""
        self._dwell_start = 0.0
        self._dwell_last = -math.inf
        self._totals: dict[str, float] = {}

    @classmethod
    def create_from_options(cls, options: GazeTrackerOptions | None = None) -> GazeTracker:
        return cls(options)

    def close(self) -> None:
        """Nothing to release; present for the common component shape."""

    def __enter__(self) -> GazeTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def latest(self) -> GazeObservation | None:
        return self._latest

    @property
    def source(self) -> str:
        """The source in use: ``"eye_tracking"``, ``"head"``, ``"face_camera"`` or ``""`` before any."""
        return self._source

    @property
    def fixation(self) -> Fixation | None:
        return self._filter.current

    def dwell_totals(self) -> dict[str, float]:
        """Seconds of completed fixations per target key (ongoing fixations are not included)."""
        return dict(self._totals)

    # ---- sources ----------------------------------------------------------------------

    def process_eye_gaze(
        self, sample: EyeGazeSample, raycast: Raycaster | None
    ) -> tuple[GazeObservation | None, list[FixationEvent]]:
        """A device eye-gaze ray (world frame). Returns the observation (None if dropped) and events."""
        if sample.confidence < self.options.min_eye_confidence:
            return None, []
        self._last_eye_t = sample.capture_time_s
        return self._process(
            sample.capture_time_s,
            "eye_tracking",
            sample.origin_world_m,
            sample.direction_world,
            float(sample.confidence),
            raycast,
        )

    def process_head_pose(
        self, sample: HeadPoseSample, raycast: Raycaster | None
    ) -> tuple[GazeObservation | None, list[FixationEvent]]:
        """A head pose: head gaze when eye tracking is silent, else (None, [])."""
        t = sample.capture_time_s
        self._last_head_t = t
        if self._last_eye_t is not None and t - self._last_eye_t <= self.options.eye_tracking_timeout_s:
            return None, []
        pose: Pose = sample.pose_world_head
        return self._process(
            t, "head", pose.translation, pose.rotation[:, 2], self.options.head_gaze_confidence, raycast
        )

    def process_face_gaze(
        self,
        capture_time_s: float,
        origin_world_m: np.ndarray,
        direction_world: np.ndarray,
        confidence: float,
        raycast: Raycaster | None,
    ) -> tuple[GazeObservation | None, list[FixationEvent]]:
        """A ray from a user-facing camera: used only when eye gaze and head pose are both silent."""
        t = capture_time_s
        o = self.options
        if self._last_eye_t is not None and t - self._last_eye_t <= o.eye_tracking_timeout_s:
            return None, []
        if self._last_head_t is not None and t - self._last_head_t <= o.head_timeout_s:
            return None, []
        return self._process(t, "face_camera", origin_world_m, direction_world, confidence, raycast)

    # ---- the pipeline -----------------------------------------------------------------

    def _process(
        self,
        t: float,
        source: str,
        origin: np.ndarray,
        direction: np.ndarray,
        confidence: float,
        raycast: Raycaster | None,
    ) -> tuple[GazeObservation | None, list[FixationEvent]]:
        events: list[FixationEvent] = []
        if self._latest is not None and t <= self._latest.capture_time_s and source == self._source:
            return None, []  # repeated or out-of-order sample
        if source != self._source:
            for _phase, fix in self._filter.flush():
                events.append(self._end_event(fix, t))
            self._filter.reset()
            self._source = source
            self._dwell_key = ""
        # Plain floats until the ray cast: this path runs for every gaze sample (see bench_gaze).
        ox, oy, oz = (float(v) for v in origin)
        dx, dy, dz = (float(v) for v in direction)
        n = math.sqrt(dx * dx + dy * dy + dz * dz) or 1.0
        dx, dy, dz = dx / n, dy / n, dz / n
        o = np.array((ox, oy, oz))

        transitions = self._filter.update(t, (dx, dy, dz))
        for phase, fix in transitions:
            if phase is EventPhase.END:
                events.append(self._end_event(fix, t))

        fixating = self._filter.fixating
        ray = np.array(self._filter.mean_direction() if fixating else (dx, dy, dz))
        hit = raycast(o, ray, self.options.max_distance_m) if raycast is not None else None
        key = target_key(hit)

        for phase, fix in transitions:
            if phase is EventPhase.START:
                self._fix_hit, self._fix_key = hit, key
                continuing = key == self._dwell_key and fix.start_time_s - self._dwell_last <= self.options.dwell_gap_s
                if not (key and continuing):
                    self._dwell_key, self._dwell_start = key, fix.start_time_s
                events.append(
                    FixationEvent(
                        EventPhase.START, hit, key, fix.start_time_s, fix.duration_s, source, fix.direction, t
                    )
                )
        if fixating and key != self._fix_key:
            # The fixation's mean ray crossed onto another target: dwell restarts there.
            self._fix_hit, self._fix_key = hit, key
            self._dwell_key, self._dwell_start = key, t

        dwell = 0.0
        if key and key == self._dwell_key:
            if fixating:
                self._dwell_last = t
                dwell = t - self._dwell_start
            elif t - self._dwell_last <= self.options.dwell_gap_s:
                dwell = t - self._dwell_start
        obs = GazeObservation(
            capture_time_s=t,
            source=source,
            origin_world_m=np.array((ox, oy, oz), np.float32),
            direction_world=np.array((dx, dy, dz), np.float32),
            confidence=confidence,
            hit=hit,
            target_key=key,
            dwell_s=dwell,
            fixating=fixating,
        )
        self._latest = obs
        return obs, events

    def _end_event(self, fix: Fixation, t: float) -> FixationEvent:
        if self._fix_key:
            self._totals[self._fix_key] = self._totals.get(self._fix_key, 0.0) + fix.duration_s
        ev = FixationEvent(
            EventPhase.END,
            self._fix_hit,
            self._fix_key,
            fix.start_time_s,
            fix.duration_s,
            self._source,
            fix.direction,
            t,
        )
        self._fix_hit, self._fix_key = None, ""
        return ev
