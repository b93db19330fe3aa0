"""GazeTracker: targets named under 1 degree of noise, dwell that ignores glances, source priority."""

from __future__ import annotations

import math

import numpy as np
import pytest
from perception_helpers import box, head_pose, horizontal_plane

from sora_sdk.core import EyeGazeSample
from sora_sdk.perception import EventPhase, FixationEvent, GazeTracker, SceneRaycaster, bench_gaze

EYE = np.array([0.0, 1.5, 0.0])
RATE_HZ = 60.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _noisy(d: np.ndarray, rng: np.random.Generator, rms_deg: float = 1.0) -> np.ndarray:
    """``d`` turned by Gaussian angular noise of ``rms_deg`` RMS (rms_deg / sqrt(2) per axis)."""
    a = _unit(np.cross(d, [0.0, 1.0, 0.0]))
    b = np.cross(a, d)
    s = math.radians(rms_deg) / math.sqrt(2.0)
    return _unit(d + rng.normal(0.0, s) * a + rng.normal(0.0, s) * b)


def _scene() -> tuple[SceneRaycaster, dict[str, float]]:
    """Seven boxes 1.3-3 m away, subtending 5.1-9.5 degrees (full angle across the box), on a table."""
    specs = {  # id: (centre, edge)
        "mug": ((-0.45, 0.85, -1.2), 0.13),
        "book": ((0.0, 0.9, -1.3), 0.2),
        "lamp": ((0.3, 1.1, -1.6), 0.25),
        "plant": ((-0.9, 1.0, -2.2), 0.3),
        "box": ((1.1, 0.875, -2.5), 0.25),
        "tv": ((0.0, 1.6, -3.0), 0.5),
        "vase": ((-0.3, 1.3, -2.0), 0.19),
    }
    objects = [box(k, np.array(c), s) for k, (c, s) in specs.items()]
    subtends = {
        k: math.degrees(2 * math.atan(0.5 * s / np.linalg.norm(np.array(c) - EYE))) for k, (c, s) in specs.items()
    }
    planes = [horizontal_plane("table", 0.75, (0.0, -1.6), (2.4, 2.0)), horizontal_plane("floor", 0.0, (0, -2), (8, 8))]
    return SceneRaycaster(objects=objects, planes=planes), subtends


def test_objects_over_5_degrees_are_named_under_1_degree_noise() -> None:
    """Each of 7 objects (5.1-9.5 deg) gazed at 500 times with 1 deg RMS noise on the ray, single rays:
    measured 100 % named right (3500/3500; 5.1-9.5 deg objects); required >= 95 % per object."""
    raycast, subtends = _scene()
    assert min(subtends.values()) > 5.0
    rng = np.random.default_rng(0)
    rates = {}
    for ob in raycast.objects:
        d0 = _unit(ob.centroid_world_m - EYE)
        hits = sum(
            (h := raycast(EYE, _noisy(d0, rng), 10.0)) is not None and h.object_id == ob.object_id for _ in range(500)
        )
        rates[ob.object_id] = hits / 500
    assert min(rates.values()) >= 0.95, rates


def _fixate(
    tracker: GazeTracker, raycast: SceneRaycaster, target: np.ndarray, t0: float, dur: float, rng: np.random.Generator
) -> tuple[float, list, list[FixationEvent]]:
    obs, events = [], []
    k = 0
    t = t0
    while t < t0 + dur - 1e-9:
        t = t0 + k / RATE_HZ
        o, ev = tracker.process_eye_gaze(EyeGazeSample(t, EYE, _noisy(_unit(target - EYE), rng), 0.9), raycast)
        obs.append(o)
        events += ev
        k += 1
    return t, obs, events


def test_fixations_name_the_target_and_dwell_ignores_a_glance() -> None:
    raycast, _ = _scene()
    by_id = {o.object_id: o.centroid_world_m for o in raycast.objects}
    rng = np.random.default_rng(1)
    tracker = GazeTracker.create_from_options()
    events: list[FixationEvent] = []
    t, book, ev = _fixate(tracker, raycast, by_id["book"], 0.0, 0.6, rng)
    events += ev
    t, glance, ev = _fixate(tracker, raycast, by_id["lamp"], t + 0.04, 0.06, rng)  # a 60 ms glance
    events += ev
    t, book2, ev = _fixate(tracker, raycast, by_id["tv"], t + 0.04, 0.5, rng)
    events += ev
    tracker.process_eye_gaze(EyeGazeSample(t + 0.04, EYE, _unit(by_id["mug"] - EYE), 0.9), raycast)
    _, _, ev = _fixate(tracker, raycast, by_id["mug"], t + 0.06, 0.3, rng)
    events += ev

    # Dwell: 0 until the fixation is confirmed (100 ms), then the time since it began.
    assert book[3].dwell_s == 0.0 and not book[3].fixating
    assert book[-1].fixating and book[-1].target_key == "object:book"
    assert book[-1].dwell_s == pytest.approx(0.6, abs=1.0 / RATE_HZ)
    # A glance never accumulates dwell (its first samples still count as the book fixation's noise).
    on_lamp = [o for o in glance if o.target_key == "object:lamp"]
    assert on_lamp and all(o.dwell_s == 0.0 for o in on_lamp)
    assert book2[-1].target_key == "object:tv" and book2[-1].dwell_s == pytest.approx(0.5, abs=1.0 / RATE_HZ)

    pairs = [(e.phase, e.target_key) for e in events]
    assert pairs[:4] == [
        (EventPhase.START, "object:book"),
        (EventPhase.END, "object:book"),
        (EventPhase.START, "object:tv"),
        (EventPhase.END, "object:tv"),
    ]
    assert not any(key == "object:lamp" for _, key in pairs)
    totals = tracker.dwell_totals()
    assert totals["object:book"] == pytest.approx(0.6, abs=1.0 / RATE_HZ)
    assert totals["object:tv"] == pytest.approx(0.5, abs=1.0 / RATE_HZ)
    assert "object:lamp" not in totals
    end = events[1]
    assert end.duration_s == pytest.approx(0.6, abs=1.0 / RATE_HZ) and end.source == "eye_tracking"


def test_source_priority_eye_then_head_then_face() -> None:
    raycast, _ = _scene()
    tracker = GazeTracker()
    rng = np.random.default_rng(2)
    target = _unit(np.array([0.0, 0.9, -1.3]) - EYE)
    head = head_pose(0.0, 0.0, EYE).pose_world_head
    sources: list[tuple[float, str]] = []
    events = []
    for k in range(int(2.5 * RATE_HZ)):
        t = k / RATE_HZ
        if t < 1.0:
            o, ev = tracker.process_eye_gaze(EyeGazeSample(t, EYE, _noisy(target, rng), 0.9), raycast)
            sources.append((t, o.source if o else ""))
            events += ev
        if k % 2 == 0 and t < 1.6:  # head pose at 30 Hz until 1.6 s
            from sora_sdk.core import HeadPoseSample

            o, ev = tracker.process_head_pose(HeadPoseSample(t, head), raycast)
            events += ev
            if o is not None:
                sources.append((t, o.source))
                assert o.confidence == 0.5
        o, ev = tracker.process_face_gaze(t, EYE, target, 0.6, raycast)
        if o is not None:
            sources.append((t, o.source))
        events += ev
    first = {}
    for t, s in sources:
        first.setdefault(s, t)
    assert first["eye_tracking"] == 0.0
    last_eye, last_head = 59 / RATE_HZ, 94 / RATE_HZ
    assert last_eye + 0.3 < first["head"] <= last_eye + 0.3 + 1 / 30.0  # the first head pose after the timeout
    assert last_head + 0.5 < first["face_camera"] <= last_head + 0.5 + 1 / RATE_HZ
    # Switching from eye tracking to head gaze ends the eye fixation.
    ends = [e for e in events if e.phase is EventPhase.END]
    assert ends and ends[0].source == "eye_tracking"


def test_low_confidence_and_repeated_samples_are_dropped() -> None:
    raycast, _ = _scene()
    tracker = GazeTracker()
    d = _unit(np.array([0.0, 0.9, -1.3]) - EYE)
    assert tracker.process_eye_gaze(EyeGazeSample(0.0, EYE, d, 0.01), raycast) == (None, [])
    assert tracker.process_eye_gaze(EyeGazeSample(0.1, EYE, d, 0.9), raycast)[0] is not None
    assert tracker.process_eye_gaze(EyeGazeSample(0.1, EYE, d, 0.9), raycast) == (None, [])


def test_bench_gaze_runs() -> None:
    """A smoke run of the benchmark (the rate itself is reported by ``sora bench perception``;
    measured ~35,000 resolutions/s on this 2-core CPU)."""
    assert bench_gaze(300) > 0.0
