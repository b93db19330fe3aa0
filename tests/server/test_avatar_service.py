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


def _spoken(text: str, *, trim_start: bool = False):  # type: ignore[no-untyped-def]
    """``text`` in our TTS voice at 16 kHz, cut after its last voiced sample (before it with trim_start)."""
    from sora_sdk.dialogue import resample_pcm16, synthesize

    pcm, rate, _ = synthesize(text)
    pcm16k = resample_pcm16(pcm, rate, 16000)
    loud = np.nonzero(np.abs(pcm16k.astype(np.int32)) > 300)[0]
    return pcm16k[loud[0] if trim_start else 0 : loud[-1] + 1]


async def _talk_live(conv, audio: np.ndarray, chunk: int = 512) -> float:  # type: ignore[no-untyped-def]
    """Sends 16 kHz ``audio`` as a microphone would: each 32 ms chunk once its last sample has been spoken.
    Returns the wall time (perf_counter) at which its first sample was spoken."""
    import time

    t0 = time.perf_counter()
    for i in range(0, len(audio), chunk):
        part = audio[i : i + chunk]
        await asyncio.sleep(max(0.0, t0 + (i + len(part)) / 16000 - time.perf_counter()))
        await conv.send_audio(part, 16000)
    return t0


async def test_a_spoken_question_is_answered_from_its_speculative_transcript(caplog) -> None:  # type: ignore[no-untyped-def]
    """Real audio through the real path (VAD, pocketsphinx, engine, espeak-ng) at real-time pace, with and
    without speculative recognition: the same transcript, and the end of speech → first audio chunk time
    as the client sees it (printed; its target is the benchmark's business)."""
    import logging
    import time

    from sora_sdk.server import create_server
    from tests.conftest import test_config

    caplog.set_level(logging.DEBUG, logger="sora.dialogue")
    speech = _spoken("what am i looking at")
    audio = np.concatenate([np.zeros(4800, np.int16), speech, np.zeros(9600, np.int16)])
    end_of_speech_s = (4800 + len(speech)) / 16000  # in the fed audio
    heard: dict[float, tuple[list[str], float, bool]] = {}
    for speculate_after_s in (0.12, 0.0):
        caplog.clear()
        config = test_config(dialogue={"speculate_after_s": speculate_after_s, "realtime_speech": False})
        running = await create_server(config)
        try:
            async with SoraClient(f"127.0.0.1:{running.port}") as client:
                session = await client.create_session(display_name="speech")
                conv = session.converse(speech=True)
                await conv.turn("hello")  # a conversation under way: models loaded and warm
                sending = asyncio.ensure_future(_talk_live(conv, audio))
                events, first_audio = [], float("nan")
                async for ev in conv.events():
                    events.append(ev)
                    if ev.WhichOneof("event") == "audio" and first_audio != first_audio:
                        first_audio = time.perf_counter()
                    if ev.WhichOneof("event") == "turn_end":
                        break
                t0 = await sending
                await conv.done_sending()
                conv.cancel()
        finally:
            await running.stop(0.2)
        transcripts = [e.transcript.text for e in events if e.WhichOneof("event") == "transcript"]
        speculative = any("recognised speculatively" in r.getMessage() for r in caplog.records)
        heard[speculate_after_s] = (transcripts, first_audio - (t0 + end_of_speech_s), speculative)
        assert events[-1].turn_end.reason == 1 and any(e.WhichOneof("event") == "audio" for e in events)
    (spec_text, spec_s, spec_used), (plain_text, plain_s, plain_used) = heard[0.12], heard[0.0]
    print(f"\nend of speech -> first audio chunk: {spec_s * 1000:.0f} ms speculative, {plain_s * 1000:.0f} ms without")
    assert spec_used and not plain_used
    assert spec_text == plain_text == ["what am i looking at"]
    assert spec_s > 0 and plain_s > 0


async def test_speech_resuming_after_a_short_pause_is_one_turn_with_nothing_leaked(client: SoraClient, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.DEBUG, logger="sora.dialogue")
    gap = np.zeros(3200, np.int16)  # 200 ms: long enough to start a speculation, too short to end the turn
    first, second = _spoken("what do you know"), _spoken("about me", trim_start=True)
    audio = np.concatenate([np.zeros(4800, np.int16), first, gap, second, np.zeros(9600, np.int16)])
    session = await client.create_session(display_name="pause")
    conv = session.converse(speech=False)  # only recognition is speculative: text shows any leak as well
    await _talk_live(conv, audio)
    await conv.done_sending()  # the server finishes the turn under way, then ends the stream
    events = [ev async for ev in conv.events()]
    conv.cancel()
    kinds = _kinds(events)
    messages = [r.getMessage() for r in caplog.records]
    assert any("discarded" in m for m in messages)  # the pause was speculated on, then speech resumed
    assert kinds[0] == "transcript" and kinds.count("transcript") == 1
    assert events[0].transcript.text == "what do you know about me"
    answer = events[1:]
    assert len({e.turn_id for e in answer}) == 1 and kinds.count("turn_end") == 1 and kinds[-1] == "turn_end"
    assert "text_delta" in kinds
