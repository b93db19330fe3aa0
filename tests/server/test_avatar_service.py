"""The avatar through the real server: speech with visemes, grounding in gaze, anchors, interrupts, voice in."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sora_sdk.client import SoraClient
from sora_sdk.core.sensors import EyeGazeSample


@pytest.fixture(scope="module")
def room_frames():
    from sora_sdk.datasets import generate_room, orbit_trajectory, render, synthetic_intrinsics

    room = generate_room(0)
    frames = render(room, orbit_trajectory(room, n_frames=30), synthetic_intrinsics(320, 240))
    return room, frames


def _kinds(events) -> list[str]:
    return [e.WhichOneof("event") for e in events]


def _text(events) -> str:
    return "".join(e.text_delta.text for e in events if e.WhichOneof("event") == "text_delta")


async def _room_session(client: SoraClient, room_frames):
    room, frames = room_frames
    session = await client.create_session(display_name="room", user_id="ana")
    await session.stream_frames(frames, lossless=True, color_encoding="raw", depth_encoding="raw")
    return room, frames, session


async def test_spoken_answer_has_audio_with_visemes_covering_it(client: SoraClient, room_frames) -> None:
    _, _, session = await _room_session(client, room_frames)
    conv = session.converse(speech=True)
    events = await conv.turn("What do you see?")
    await conv.done_sending()
    kinds = _kinds(events)
    assert kinds[-1] == "turn_end" and events[-1].turn_end.reason == 1
    assert "table" in _text(events).lower() or "floor" in _text(events).lower()
    audio = [e.audio for e in events if e.WhichOneof("event") == "audio"]
    assert audio and all(a.sample_rate_hz == 22050 for a in audio)
    total_s = sum(len(a.pcm16) // 2 for a in audio) / 22050
    starts = [a.start_s for a in audio]
    assert starts == sorted(starts) and abs(starts[-1] + len(audio[-1].pcm16) / 2 / 22050 - total_s) < 1e-3
    keys = [k for e in events if e.WhichOneof("event") == "visemes" for k in e.visemes.keys]
    times = [k.start_s for k in keys]
    assert times == sorted(times)
    assert times[0] <= 0.05 and times[-1] >= total_s - 0.5  # the track covers the audio
    assert {k.viseme for k in keys} >= {1, 11}  # silence and open vowels at least
    blend = [f for e in events if e.WhichOneof("event") == "visemes" for f in e.visemes.blendshapes]
    assert blend and any(w.name == "jawOpen" and w.weight > 0.2 for f in blend for w in f.weights)
    conv.cancel()


async def test_what_am_i_looking_at_follows_the_gaze_and_anchors_go_there(client: SoraClient, room_frames) -> None:
    room, _, session = await _room_session(client, room_frames)
    scene = await session.get_scene()
    labels = {p.label for p in scene.planes}
    assert 4 in labels  # PLANE_LABEL_TABLE
    eye = np.array([0.0, 0.0, 1.6]) + np.asarray(room.table_center_world_m) * [1, 1, 0]
    eye[0] += 1.0
    table = np.asarray(room.table_center_world_m, dtype=float)
    d = (table - eye) / np.linalg.norm(table - eye)
    gazes = [EyeGazeSample(50.0 + i / 30, eye, d, 0.95) for i in range(20)]
    await session.stream_sensor_data(gazes, stream_name="eyes")
    conv = session.converse(speech=False)
    answer = _text(await conv.turn("What am I looking at?")).lower()
    assert "table" in answer
    events = await conv.turn("Put an anchor there")
    await conv.done_sending()
    anchors = await session.list_anchors()
    assert len(anchors) == 1
    p = anchors[0].pose_world_anchor.position_m
    assert np.linalg.norm(np.array([p.x, p.y, p.z]) - table) < 0.6  # on the table top, near where the gaze lands
    assert any(e.WhichOneof("event") == "look_at" for e in events)
    conv.cancel()


async def test_interrupt_stops_within_a_chunk_and_the_next_turn_knows(client: SoraClient, room_frames) -> None:
    _, _, session = await _room_session(client, room_frames)
    conv = session.converse(speech=True)
    await conv.say("Describe the room in detail")
    got = []
    async for ev in conv.events():
        got.append(ev)
        if ev.WhichOneof("event") == "audio":
            await conv.interrupt("user tapped stop")
        if ev.WhichOneof("event") == "turn_end":
            break
    end = got[-1].turn_end
    assert end.reason == 2  # interrupted
    assert 0.0 < end.spoken_fraction < 1.0
    audio_after = [e for e in got if e.WhichOneof("event") == "audio"]
    assert len(audio_after) <= 3  # stopped before the next chunk (one may be in flight)
    follow = _text(await conv.turn("Go on")).lower()
    assert follow.startswith("as i was saying")
    await conv.done_sending()
    conv.cancel()


async def test_a_spoken_question_is_recognised_and_answered(client: SoraClient, room_frames) -> None:
    from sora_sdk.dialogue import resample_pcm16, synthesize

    _, _, session = await _room_session(client, room_frames)
    pcm, rate, _ = await asyncio.to_thread(synthesize, "what do you see")
    pcm16k = resample_pcm16(pcm, rate, 16000)
    silence = np.zeros(8000, np.int16)
    audio = np.concatenate([silence, pcm16k, silence, silence])
    conv = session.converse(speech=False)
    chunk = 1600
    for i in range(0, len(audio), chunk):
        await conv.send_audio(audio[i : i + chunk], 16000, end_of_utterance=i + chunk >= len(audio))
    events = []
    async for ev in conv.events():
        events.append(ev)
        if ev.WhichOneof("event") == "turn_end":
            break
    transcripts = [e.transcript.text for e in events if e.WhichOneof("event") == "transcript"]
    assert transcripts and "see" in transcripts[0]
    assert _text(events)
    await conv.done_sending()
    conv.cancel()
