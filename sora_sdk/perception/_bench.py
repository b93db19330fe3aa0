"""Library-level benchmarks the ``sora bench perception`` command calls (timings, not tests).

- :func:`bench_gaze`: gaze-target resolutions per second through :class:`GazeTracker` (target
  >= 20,000/s on the CPU).
- :func:`bench_camera_hands`: time per frame of :class:`CameraHandTracker` over the bare MediaPipe
  Hands call on the same frames (target <= 1.10x).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from ..core.geometry import Intrinsics, Pose
from ..core.scene import Plane, PlaneLabel, SceneObject
from ..core.sensors import CameraFrame, EyeGazeSample
from ._camera_hands import CameraHandTracker, CameraHandTrackerOptions
from ._gaze_tracker import GazeTracker
from ._scene_raycaster import SceneRaycaster

__all__ = ["bench_camera_hands", "bench_gaze"]


def _bench_scene() -> tuple[list[SceneObject], list]:
    """Five boxes on a table and a floor, the user 1.5 m away (world: y up, metres)."""
    objects = []
    for i, x in enumerate((-0.6, -0.3, 0.0, 0.3, 0.6)):
        objects.append(
            SceneObject(
                object_id=f"box{i}",
                version=1,
                label="box",
                label_confidence=1.0,
                state="confirmed",
                pose_world_box=Pose.from_rotation_translation(np.eye(3), np.array([x, 0.85, -1.5])),
                size_m=np.array([0.15, 0.15, 0.15]),
            )
        )
    rot = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # plane +z (normal) = world +y
    square = np.array([[-2.0, -2.0], [2.0, -2.0], [2.0, 2.0], [-2.0, 2.0]])
    planes = [
        Plane("floor", 1, PlaneLabel.FLOOR, Pose.from_rotation_translation(rot, np.zeros(3)), (4.0, 4.0), square, 16.0),
        Plane(
            "table",
            1,
            PlaneLabel.TABLE,
            Pose.from_rotation_translation(rot, np.array([0.0, 0.775, -1.5])),
            (1.6, 0.8),
            square * np.array([0.4, 0.2]),
            1.28,
        ),
    ]
    return objects, planes


def bench_gaze(n: int = 20000, *, noise_deg: float = 1.0, rate_hz: float = 120.0, seed: int = 0) -> float:
    """Gaze-target resolutions per second through :class:`GazeTracker` on the CPU.

    Each resolution is one eye-gaze sample through the whole tracker: source choice, fixation filter,
    a ray cast against five object boxes and two planes (:class:`SceneRaycaster`), dwell and the
    observation. The scripted gaze fixates each box in turn for 0.4 s with ``noise_deg`` RMS noise.
    """
    objects, planes = _bench_scene()
    raycast = SceneRaycaster(objects=objects, planes=planes)
    eye = np.array([0.0, 1.5, 0.0])
    rng = np.random.default_rng(seed)
    targets = [o.centroid_world_m - eye for o in objects]
    samples = []
    for k in range(n):
        base = targets[int(k / (0.4 * rate_hz)) % len(targets)]
        d = base / np.linalg.norm(base) + rng.normal(0.0, math.radians(noise_deg) / math.sqrt(2), 3)
        samples.append(EyeGazeSample(k / rate_hz, eye, d / np.linalg.norm(d), 0.9))
    tracker = GazeTracker()
    start = time.perf_counter()
    for s in samples:
        tracker.process_eye_gaze(s, raycast)
    return n / (time.perf_counter() - start)


def bench_camera_hands(images: Sequence[np.ndarray], *, model_complexity: int = 1, rounds: int = 3) -> dict[str, float]:
    """Milliseconds per frame: ``CameraHandTracker.detect_for_video`` (tracking, IDs, lifting without
    depth) and the bare ``mp.solutions.hands.Hands.process`` (VIDEO mode) on the same RGB frames.

    images : (h, w, 3) uint8 RGB frames of one stream. Each side runs ``rounds`` times over all
    frames after a warm-up; the best round counts (the least disturbed by other load).
    Returns ``{"tracker_ms", "mediapipe_ms", "ratio"}``.
    """
    import mediapipe as mp

    h, w = images[0].shape[:2]
    k = Intrinsics(w, h, float(w), float(w), (w - 1) / 2.0, (h - 1) / 2.0)
    bare_best = tracker_best = math.inf
    with (
        mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2, model_complexity=model_complexity) as bare,
        CameraHandTracker(CameraHandTrackerOptions(model_complexity=model_complexity)) as tracker,
    ):
        bare.process(np.ascontiguousarray(images[0]))
        t = 0.0
        tracker.detect_for_video(CameraFrame(0, t, k, None, images[0], None))
        for _ in range(rounds):
            start = time.perf_counter()
            for img in images:
                bare.process(np.ascontiguousarray(img))
            bare_best = min(bare_best, (time.perf_counter() - start) / len(images))
            start = time.perf_counter()
            for i, img in enumerate(images):
                t += 1.0 / 30.0
                tracker.detect_for_video(CameraFrame(i, t, k, None, img, None))
            tracker_best = min(tracker_best, (time.perf_counter() - start) / len(images))
    return {"tracker_ms": 1e3 * tracker_best, "mediapipe_ms": 1e3 * bare_best, "ratio": tracker_best / bare_best}
