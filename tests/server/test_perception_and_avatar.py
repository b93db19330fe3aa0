"""Perception and avatar streams through the real server."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sora_sdk import InvalidArgumentError
from sora_sdk.client import SoraClient
from sora_sdk.core.sensors import EyeGazeSample, HandJointsSample


def _open_hand(wrist: np.ndarray) -> HandJointsSample:
    """A flat right hand, fingers along +x, in the OpenXR joint order (palm, wrist, thumb 4, 4 x 5)."""
    joints = [wrist + [0.04, 0, 0], wrist]
    joints += [wrist + [0.02, -0.03 - 0.015 * k, 0] for k in range(4)]  # thumb
    for f in range(4):
        y = 0.02 - 0.015 * f
        joints += [wrist + [0.02 + 0.025 * k, y, 0] for k in range(5)]
    pos = np.asarray(joints, dtype=np.float32)
    return HandJointsSample(1.0, "right", pos, np.full(26, 0.01, np.float32), np.ones(26, bool))


async def test_device_hands_arrive_on_the_common_21_landmark_model(client: SoraClient) -> None:
    session = await client.create_session()
    stream = session.watch_perception(include_gaze=False)
    hand = _open_hand(np.array([0.1, 0.2, 1.0]))
    sender = asyncio.create_task(session.stream_sensor_data([hand], stream_name="hands"))
    msg = await asyncio.wait_for(stream.__anext__(), 5)
    await sender
    assert msg.WhichOneof("item") == "hands"
    (h,) = msg.hands.hands
    assert h.handedness == 2 and h.source == 2 and len(h.landmarks_world_m) == 21
    lm = np.array([[p.x, p.y, p.z] for p in h.landmarks_world_m])
    np.testing.assert_allclose(lm[0], hand.positions_world_m[1], atol=1e-6)  # MediaPipe wrist = OpenXR wrist
    np.testing.assert_allclose(lm[8], hand.positions_world_m[10], atol=1e-6)  # index tip
    ray = h.pointing_ray_world.direction
    assert ray.x == pytest.approx(1.0, abs=1e-3)  # the index finger points along +x
    await stream.aclose()


async def test_gaze_resolves_against_the_map_and_dwell_grows(client: SoraClient, tum_frames) -> None:
    session = await client.create_session()
    await session.stream_frames(tum_frames, lossless=True, color_encoding="raw", depth_encoding="raw")
    cam = tum_frames[4].pose_world_camera
    origin, forward = cam.translation, cam.rotation[:, 2]
    hit = await session.raycast(origin, forward)
    assert hit is not None and 0.3 < hit.distance_m < 3.0
    stream = session.watch_perception(include_hands=False)
    gazes = [EyeGazeSample(10.0 + 0.05 * i, origin, forward, 0.9) for i in range(5)]
    await session.stream_sensor_data(gazes, stream_name="eyes")
    last = None
    while last is None or last.capture_time_s < gazes[-1].capture_time_s:
        msg = await asyncio.wait_for(stream.__anext__(), 5)
        last = msg.gaze
    assert last.target.distance_m == pytest.approx(hit.distance_m, abs=0.02)
    assert last.dwell_s == pytest.approx(0.2, abs=1e-6)
    await stream.aclose()


async def test_conversation_answers_from_the_scene_and_rejects_empty_turns(client: SoraClient, tum_frames) -> None:
    session = await client.create_session()
    await session.stream_frames(tum_frames, lossless=True, color_encoding="raw", depth_encoding="raw")
    conv = session.converse()
    events = await conv.turn("What do you see?")
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[-1] == "turn_end" and "text_delta" in kinds
    text = "".join(e.text_delta.text for e in events if e.WhichOneof("event") == "text_delta")
    assert "9 frames" in text
    positions = [(e.position.epoch, e.position.sequence) for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert events[-1].turn_end.reason == 1  # completed
    await conv.done_sending()
    conv.cancel()

    with pytest.raises(InvalidArgumentError):
        conv2 = session.converse()
        await conv2.say("")
        async for _ in conv2.events():
            pass
