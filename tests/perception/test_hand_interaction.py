"""HandInteractionDetector on boxes built around procedural hands (objects arrive with issue 5)."""

from __future__ import annotations

import dataclasses

import numpy as np
from perception_helpers import box, device_hand, observation

from sora_sdk.perception import EventPhase, HandInteractionDetector, SyntheticHand

GRASP = SyntheticHand(curls=(0.0, 0.45, 0.3, 0.2, 0.1), pinch_gap_m=0.04)


def _frame_with_x(x: np.ndarray) -> np.ndarray:
    x = x / np.linalg.norm(x)
    helper = np.array([0.0, 1.0, 0.0]) if abs(x[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    y = np.cross(helper, x)
    y /= np.linalg.norm(y)
    return np.stack([x, y, np.cross(x, y)], axis=1)


def test_approach_grasp_and_release_give_nested_events() -> None:
    at_grasp = observation(device_hand("pinch", 0.0, hand=GRASP))
    lm = at_grasp.landmarks_world_m.astype(np.float64)
    axis = lm[4] - lm[8]  # index tip -> thumb tip, 4 cm
    gap = float(np.linalg.norm(axis))
    # A 5 cm box between the tips, 3 mm clear of each.
    held = box("cup", 0.5 * (lm[4] + lm[8]), np.array([gap - 0.006, 0.05, 0.05]), _frame_with_x(axis))
    back = np.array([0.0, 0.0, 1.0])  # toward the user: the hand approaches along -z
    path = [0.3 * (1 - k / 30) for k in range(31)] + [0.0] * 10 + [0.01 * k for k in range(1, 31)]
    det = HandInteractionDetector.create_from_options()
    events = []
    for k, d in enumerate(path):
        events += det.update(observation(device_hand("pinch", k / 30.0, hand=GRASP, offset=back * d)), [held])
    seq = [(e.interaction, e.phase) for e in events]
    assert seq == [
        ("near", EventPhase.START),
        ("touch", EventPhase.START),
        ("hold", EventPhase.START),
        ("hold", EventPhase.END),
        ("touch", EventPhase.END),
        ("near", EventPhase.END),
    ], seq
    near_start = events[0]
    assert near_start.object_id == "cup" and near_start.distance_m <= 0.10
    hold_end = events[3]
    assert hold_end.start_time_s == events[2].time_s and hold_end.distance_m > 0.015


def test_a_fingertip_trembling_at_the_threshold_touches_once() -> None:
    pointing = observation(device_hand("point", 0.0))
    lm = pointing.landmarks_world_m.astype(np.float64)
    direction = (lm[8] - lm[5]) / np.linalg.norm(lm[8] - lm[5])
    size = 0.1

    def wall_at(gap: float):  # a box whose near face is ``gap`` in front of the index tip
        return box("wall", lm[8] + direction * (gap + size / 2), size, _frame_with_x(direction))

    gaps = [0.2, 0.1, 0.05, 0.02, 0.005, 0.005] + [0.02, 0.028] * 20 + [0.1, 0.1, 0.2, 0.2]
    det = HandInteractionDetector()
    events = []
    for k, g in enumerate(gaps):
        obs = dataclasses.replace(pointing, capture_time_s=k / 30.0)
        events += det.update(obs, [wall_at(g)])
    seq = [(e.interaction, e.phase) for e in events]
    assert seq == [
        ("near", EventPhase.START),
        ("touch", EventPhase.START),
        ("touch", EventPhase.END),
        ("near", EventPhase.END),
    ], seq
    assert events[2].time_s >= len(gaps[:-4]) / 30.0  # touch ended only when the hand pulled away


def test_removed_objects_and_lost_hands_end_interactions() -> None:
    obs = observation(device_hand("pinch", 0.0, hand=GRASP))
    lm = obs.landmarks_world_m.astype(np.float64)
    near_box = box("near", lm[8] + np.array([0.0, 0.05, 0.0]) + np.array([0.0, 0.05, 0.0]), 0.1)
    det = HandInteractionDetector()
    for k in range(3):
        det.update(dataclasses.replace(obs, capture_time_s=k / 30.0), [near_box])
    assert det.active(1)["near"] == {"near"}
    removed = dataclasses.replace(near_box, state="removed")
    ends = det.update(dataclasses.replace(obs, capture_time_s=0.2), [removed])
    assert [(e.interaction, e.phase, e.object_id) for e in ends] == [("near", EventPhase.END, "near")]
    for k in range(3):
        det.update(dataclasses.replace(obs, capture_time_s=0.3 + k / 30.0), [near_box])
    lost = det.hand_lost(1, 1.0)
    assert [(e.interaction, e.phase, e.time_s) for e in lost] == [("near", EventPhase.END, 1.0)]
    assert det.active(1)["near"] == set()
