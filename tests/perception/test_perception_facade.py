"""The Perception facade: device hands, eye/head gaze and camera frames through one object."""

from __future__ import annotations

import numpy as np
import pytest
from perception_helpers import box, device_hand, frame, head_pose

from sora_sdk.core import EyeGazeSample, HandJointsSample
from sora_sdk.perception import (
    EventPhase,
    FixationEvent,
    GestureEvent,
    InteractionEvent,
    Perception,
    PerceptionOptions,
    PointingEvent,
)


def _lost(handedness: str, t: float) -> HandJointsSample:
    return HandJointsSample(t, handedness, np.zeros((0, 3), np.float32), np.zeros(0, np.float32), np.zeros(0, bool))


def test_device_hand_points_at_an_object_and_touches_it() -> None:
    perception = Perception.create_from_options(PerceptionOptions(camera_hands=False))
    first = device_hand("point", 0.0)
    lm = first.positions_world_m.astype(np.float64)
    tip, knuckle = lm[10], lm[7]  # OpenXR index tip and proximal (MCP)
    d = (tip - knuckle) / np.linalg.norm(tip - knuckle)
    target = box("cup", tip + d * 0.6, 0.2)  # 0.5 m in front of the fingertip
    perception.set_objects([target])
    perception.process_head_pose(head_pose(0.0, 0.0))
    events = []
    hand = None
    for k in range(6):
        hand, ev = perception.process_device_hand(device_hand("point", k / 30.0))
        events += ev
    assert hand is not None and hand.gesture == "point" and hand.source == "device"
    assert hand.gesture_confidence >= 0.7
    assert np.allclose(hand.pointing_direction, d, atol=1e-5)
    kinds = [(type(e).__name__, e.phase) for e in events]
    assert kinds == [("GestureEvent", EventPhase.START), ("PointingEvent", EventPhase.START)]
    pointing = events[1]
    assert isinstance(pointing, PointingEvent) and pointing.target_key == "object:cup"
    assert pointing.distance_m == pytest.approx(0.5, abs=0.01)

    # Move the hand until the fingertip is inside the box's surface: near, then touch.
    for k in range(6, 12):
        _, ev = perception.process_device_hand(device_hand("point", k / 30.0, offset=d * 0.505))
        events += ev
    touches = [(e.interaction, e.phase) for e in events if isinstance(e, InteractionEvent)]
    assert touches == [("near", EventPhase.START), ("touch", EventPhase.START)]

    # The hand is lost: everything it was doing ends, in order: gesture, pointing, interactions.
    gone, ev = perception.process_device_hand(_lost("right", 0.5))
    assert gone is None
    assert [(type(e).__name__, e.phase) for e in ev] == [
        ("GestureEvent", EventPhase.END),
        ("PointingEvent", EventPhase.END),
        ("InteractionEvent", EventPhase.END),
        ("InteractionEvent", EventPhase.END),
    ]
    assert perception.hands == []


def test_head_frame_decides_what_pointing_up_means() -> None:
    """A hand pointing along world +y is "pointing_up" for an upright head and "point" for a head
    lying on its side (its up is world -x)."""
    p = Perception(PerceptionOptions(camera_hands=False))
    p.process_head_pose(head_pose(0.0, 0.0))
    for k in range(4):
        hand, _ = p.process_device_hand(device_hand("pointing_up", k / 30.0))
    assert hand is not None and hand.gesture == "pointing_up"
    from sora_sdk.core import HeadPoseSample, Pose

    on_side = head_pose(0.0, 1.0).pose_world_head
    roll = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # head x -> world y
    p.process_head_pose(HeadPoseSample(1.0, Pose.from_rotation_translation(roll @ on_side.rotation, np.zeros(3))))
    for k in range(6):
        hand, _ = p.process_device_hand(device_hand("pointing_up", 1.0 + k / 30.0))
    assert hand is not None and hand.gesture == "point"


def test_eye_gaze_fixation_through_the_facade() -> None:
    p = Perception(PerceptionOptions(camera_hands=False))
    p.set_objects([box("tv", np.array([0.0, 0.0, -2.0]), 0.5)])
    events = []
    obs = None
    for k in range(30):
        obs, ev = p.process_eye_gaze(EyeGazeSample(k / 60.0, np.zeros(3), np.array([0.0, 0.0, -1.0]), 0.9))
        events += ev
    assert obs is not None and obs.fixating and obs.target_key == "object:tv" and obs.source == "eye_tracking"
    assert [(type(e), e.phase) for e in events] == [(FixationEvent, EventPhase.START)]
    assert p.latest_gaze is obs


def test_camera_frames_give_tracked_hands_with_gestures(hands_rgb) -> None:
    """hands.jpg as a 5-frame video: two camera hands, stable IDs, both open palms (image up = up)."""
    p = Perception(PerceptionOptions())
    events = []
    ids = set()
    for k in range(5):
        hands, ev = p.process_camera_frame(frame(hands_rgb, t=k / 30.0))
        events += ev
        ids |= {h.hand_id for h in hands}
        assert len(hands) == 2 and all(h.source == "camera" for h in hands)
    assert len(ids) == 2
    assert {h.gesture for h in hands} == {"open_palm"}
    starts = [e for e in events if isinstance(e, GestureEvent) and e.phase is EventPhase.START]
    assert sorted(e.hand_id for e in starts) == sorted(ids)
    p.close()
