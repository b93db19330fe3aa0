"""Pointing: the index ray (or the pinch aim ray) resolved against boxes, with START/UPDATE/END."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from perception_helpers import box, device_hand, head_pose, observation

from sora_sdk.perception import EventPhase, HandObservation, PointingTracker, SceneRaycaster
from sora_sdk.perception._pointing import shoulder_from_head


def _aimed(label: str, t: float, target: np.ndarray, gesture: str) -> HandObservation:
    """A device hand whose index ray passes through ``target`` (world), with its gesture set."""
    obs = observation(device_hand(label, t))
    lm = obs.landmarks_world_m.astype(np.float64)
    d = (lm[8] - lm[5]) / np.linalg.norm(lm[8] - lm[5])
    want = (target - lm[8]) / np.linalg.norm(target - lm[8])
    # Rotate the hand about its index tip so the index ray points at the target.
    v = np.cross(d, want)
    s, c = np.linalg.norm(v), float(d @ want)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    rot = np.eye(3) + k + k @ k * ((1 - c) / (s * s)) if s > 1e-9 else np.eye(3)
    lm = (lm - lm[8]) @ rot.T + lm[8]
    return dataclasses.replace(obs, landmarks_world_m=lm.astype(np.float32), gesture=gesture)


def test_start_update_end_with_targets() -> None:
    a = box("left_box", np.array([-0.4, 0.9, -1.5]), 0.2)
    b = box("right_box", np.array([0.5, 0.9, -1.5]), 0.2)
    raycast = SceneRaycaster(objects=[a, b])
    tracker = PointingTracker.create_from_options()
    events = []
    seq = (
        [("open_palm", None, "open_palm")] * 3
        + [("point", a, "point")] * 5
        + [("point", b, "point")] * 5
        + [("open_palm", None, "open_palm")] * 2
    )
    results = []
    for k, (label, target, gesture) in enumerate(seq):
        t = k / 30.0
        obs = (
            _aimed(label, t, target.centroid_world_m, gesture)
            if target is not None
            else dataclasses.replace(observation(device_hand(label, t)), gesture=gesture)
        )
        res = tracker.update(obs, raycast)
        results.append(res)
        events += res.events
    assert [(e.phase, e.target_key) for e in events] == [
        (EventPhase.START, "object:left_box"),
        (EventPhase.UPDATE, "object:right_box"),
        (EventPhase.END, "object:right_box"),
    ]
    start, update, end = events
    assert start.time_s == pytest.approx(3 / 30.0)
    assert update.time_s == pytest.approx(9 / 30.0)  # the new target held for 2 frames
    assert end.time_s == pytest.approx(13 / 30.0) and end.start_time_s == pytest.approx(3 / 30.0)
    # Where and how far: the hit is on the box's surface, about 1.4 m from the fingertip.
    assert start.hit is not None and start.hit.target == "object"
    assert 1.0 < start.distance_m < 1.6
    assert np.linalg.norm(start.hit.point_world_m - a.centroid_world_m) < 0.2
    assert not results[0].pointing and results[4].pointing


def test_pinch_aims_from_the_shoulder_when_the_head_is_known() -> None:
    head = head_pose(0.0, 0.0, np.array([0.0, 0.1, 0.0])).pose_world_head
    tracker = PointingTracker()
    obs = dataclasses.replace(observation(device_hand("pinch", 0.0)), gesture="pinch")
    res = tracker.update(obs, None, pose_world_head=head)
    lm = obs.landmarks_world_m.astype(np.float64)
    pinch = 0.5 * (lm[4] + lm[8])
    shoulder = shoulder_from_head(head, "right", tracker.options)
    assert shoulder == pytest.approx([0.18, -0.1, 0.0])  # right of and below the head
    assert res.pointing and res.origin_world_m == pytest.approx(pinch)
    assert res.direction_world == pytest.approx((pinch - shoulder) / np.linalg.norm(pinch - shoulder))
    assert [e.phase for e in res.events] == [EventPhase.START] and res.target_key == ""
    assert [e.phase for e in tracker.hand_lost(1, 0.5)] == [EventPhase.END]
