"""Perception through the service: camera hands, device-hand gestures and gaze fixations as streams."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from PIL import Image

from sora_sdk.client import SoraClient
from sora_sdk.core.geometry import Intrinsics
from sora_sdk.core.sensors import CameraFrame, EyeGazeSample
from tests.conftest import DATA
from tests.perception.perception_helpers import device_hand


async def _collect(stream, until, timeout_s: float = 20.0) -> list:
    out = []

    async def run() -> None:
        async for msg in stream:
            out.append(msg)
            if until(out):
                return

    await asyncio.wait_for(run(), timeout_s)
    return out


async def test_hands_jpg_gives_two_hands_within_mediapipes_threshold(client: SoraClient) -> None:
    expected = json.loads((DATA / "images" / "EXPECTED.json").read_text())["hands.jpg"]["mediapipe_python"]
    threshold = expected["threshold_px_full_model(model_complexity=1)"]
    image = np.asarray(Image.open(DATA / "images" / "hands.jpg").convert("RGB"))
    h, w = image.shape[:2]
    frame = CameraFrame(1, 1.0, Intrinsics(w, h, 0.9 * w, 0.9 * w, w / 2, h / 2), None, image, None)
    session = await client.create_session()
    stream = session.watch_perception(include_gaze=False)
    await session.stream_frames([frame], lossless=True, color_encoding="png", stream_name="cam")
    msgs = await _collect(stream, lambda m: len(m[-1].hands.hands) == 2)
    hands = msgs[-1].hands.hands
    found = [np.array([[p.x, p.y] for p in hand.landmarks_px]) for hand in hands]
    for want in expected["expected_xy_per_hand_21"]:
        want = np.asarray(want, dtype=float)
        err = min(np.abs(f - want).max() for f in found)
        assert err < threshold, err
    assert all(len(hand.landmarks_world_m) == 21 and hand.source == 1 for hand in hands)
    await stream.aclose()


async def test_device_hand_gestures_arrive_as_ordered_events(client: SoraClient) -> None:
    session = await client.create_session()
    stream = session.watch_perception(include_hands=False, include_gaze=False)
    samples = [device_hand("thumb_up", 0.02 * i) for i in range(15)]
    samples += [device_hand("victory", 0.3 + 0.02 * i) for i in range(15)]
    sender = asyncio.create_task(session.stream_sensor_data(samples, stream_name="hands"))
    msgs = await _collect(
        stream, lambda m: any(x.gesture.gesture == 6 and x.gesture.phase == 1 for x in m if x.HasField("gesture"))
    )
    await sender
    events = [(m.gesture.gesture, m.gesture.phase) for m in msgs if m.WhichOneof("item") == "gesture"]
    # thumb_up (5) starts, ends when the pose changes, then victory (6) starts: no flicker in between.
    assert events[:3] == [(5, 1), (5, 3), (6, 1)]
    positions = [m.position.sequence for m in msgs]
    assert positions == sorted(positions)
    await stream.aclose()


async def test_gaze_fixations_on_the_map(client: SoraClient, tum_frames) -> None:
    session = await client.create_session()
    await session.stream_frames(tum_frames, lossless=True, color_encoding="raw", depth_encoding="raw")
    cam = tum_frames[4].pose_world_camera
    origin, forward = cam.translation, cam.rotation[:, 2]
    side = cam.rotation @ np.array([np.sin(0.3), 0.0, np.cos(0.3)])
    # 0.5 s on one spot, a saccade, 0.5 s on another, at 60 Hz.
    gazes = [EyeGazeSample(20.0 + i / 60, origin, forward, 0.9) for i in range(30)]
    gazes += [EyeGazeSample(20.5 + i / 60, origin, side, 0.9) for i in range(30)]
    stream = session.watch_perception(include_hands=False, include_gaze=False)
    sender = asyncio.create_task(session.stream_sensor_data(gazes, stream_name="eyes"))
    msgs = await _collect(stream, lambda m: sum(x.WhichOneof("item") == "fixation" for x in m) >= 3)
    await sender
    fix = [m.fixation for m in msgs if m.WhichOneof("item") == "fixation"]
    assert [f.phase for f in fix[:3]] == [1, 3, 1]  # start, end, start
    first = fix[1]
    assert abs(first.start_time_s - 20.0) < 1 / 60 + 1e-6
    assert 0.45 < first.duration_s < 0.55
    assert first.target.distance_m > 0.2  # the fixation landed on the fused surface
    await stream.aclose()


async def test_a_user_facing_stream_feeds_face_camera_gaze_with_its_landmarks(client: SoraClient) -> None:
    """A webcam that looks at the user (camera_role user_facing): its frames give face-camera gaze, not map
    frames. The portrait looks into the lens, so the world gaze ray points back at the camera (the
    library test measures ~4 deg with this focal length; 10 deg allowed) from 0.3-1.5 m in front of it."""
    from sora_sdk._proto.sora.v1 import perception_pb2
    from sora_sdk.core.geometry import Pose

    image = np.asarray(Image.open(DATA / "images" / "portrait.jpg").convert("RGB"))
    h, w = image.shape[:2]
    k = Intrinsics(w, h, 820.0, 820.0, (w - 1) / 2, (h - 1) / 2)
    camera = Pose.from_rotation_translation(np.eye(3), np.array([0.5, -0.2, 1.2]))
    frames = [CameraFrame(i, 10.0 + 0.1 * i, k, camera, image, None) for i in range(3)]
    session = await client.create_session()
    stream = session.watch_perception(include_hands=False)
    summary = await session.stream_frames(frames, lossless=True, color_encoding="png", camera_role="user_facing")
    msgs = await _collect(
        stream,
        lambda m: m[-1].WhichOneof("item") == "gaze" and m[-1].gaze.source == perception_pb2.GAZE_SOURCE_FACE_CAMERA,
    )
    ray = msgs[-1].gaze.gaze_world
    origin = np.array([ray.origin_m.x, ray.origin_m.y, ray.origin_m.z])
    direction = np.array([ray.direction.x, ray.direction.y, ray.direction.z])
    to_camera = camera.translation - origin
    assert 0.3 < float(np.linalg.norm(to_camera)) < 1.5
    angle = np.degrees(np.arccos(np.clip(direction @ to_camera / np.linalg.norm(to_camera), -1, 1)))
    assert angle < 10.0, angle
    # The eye and iris landmarks come with the gaze, within MediaPipe's own 5 px expectation.
    mp = json.loads((DATA / "images" / "EXPECTED.json").read_text())["portrait.jpg face mesh"]["mediapipe_python"]
    want = {int(i): xy for i, xy in mp["eye_index_to_xy"].items()}
    want |= {int(i): xy for i, xy in mp["iris_index_to_xy (refine_landmarks=True)"].items()}
    got = np.array([[p.x, p.y] for p in msgs[-1].gaze.face_landmarks_px]) + 0.5  # MediaPipe's x * width convention
    assert got.shape == (478, 2)
    worst = max(float(np.abs(got[i] - xy).max()) for i, xy in want.items())
    assert len(want) == 42 and worst < mp["threshold_px"], worst
    assert summary.frames_integrated == 0  # the face camera never feeds the map
    assert len((await session.get_scene(include_mesh=True)).chunks) == 0
    await stream.aclose()
