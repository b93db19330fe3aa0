"""TurnRunner: speech and lip-sync sentence by sentence, interrupts within one chunk, the next turn knows."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from sora_sdk.core.avatar import AvatarEvent
from sora_sdk.dialogue import EmbeddedEngine, Embedder, EspeakTts, SpeakerOptions, TurnRunner


@pytest.fixture(scope="module")
def engine(embedder: Embedder) -> EmbeddedEngine:
    e = EmbeddedEngine(embedder=embedder)
    e.warm_up()
    return e


async def test_audio_and_visemes_follow_each_sentence_and_cover_the_answer(engine, tts: EspeakTts, scene) -> None:
    runner = TurnRunner(engine, SpeakerOptions(realtime=False, chunk_s=0.2), tts=tts)
    events = [e async for e in runner.run("t1", "describe the room", scene)]
    kinds = [e.kind for e in events]
    assert kinds[-1] == "turn_end" and events[-1].end_reason == "completed" and events[-1].spoken_fraction == 1.0
    # text first, then per chunk a viseme track and its audio, in order
    assert kinds.index("text_delta") < kinds.index("visemes") < kinds.index("audio")
    audio = [e for e in events if e.kind == "audio"]
    starts = [e.start_s for e in audio]
    durs = [len(e.audio) / e.sample_rate_hz for e in audio]
    assert all(abs(s - (p + d)) < 1e-6 for s, p, d in zip(starts[1:], starts, durs, strict=False))  # contiguous
    assert max(durs) <= 0.2 + 1e-3 and events[-1].spoken_s == pytest.approx(starts[-1] + durs[-1], abs=1e-3)
    vis = [e for e in events if e.kind == "visemes"]
    assert len(vis) == len(audio)
    for v, a in zip(vis, audio, strict=True):
        t0, t1 = a.start_s, a.start_s + len(a.audio) / a.sample_rate_hz
        assert v.visemes and abs(v.visemes[0][1] - t0) < 1e-6 and all(t0 <= t < t1 for _n, t, _w in v.visemes)
        assert v.blendshapes and all(t0 <= t < t1 + 1e-9 for t, _w in v.blendshapes)
    # the whole text was spoken: one sentence of audio per text delta, silence between them
    sentences = [e for e in events if e.kind == "text_delta"]
    assert len(sentences) >= 4 and events[-1].text == "".join(e.text for e in sentences).strip()
    keys = [k for v in vis for k in v.visemes]
    assert sum(1 for k in keys if k[0] == "sil") >= len(sentences)


async def test_cues_are_stamped_on_the_audio_clock(engine, tts: EspeakTts, scene) -> None:
    runner = TurnRunner(engine, SpeakerOptions(realtime=False), tts=tts)
    events = [e async for e in runner.run("t2", "where is the red mug", scene)]
    point = next(e for e in events if e.kind == "point_at")
    assert point.target is not None and point.target.target_id == "o-mug" and point.start_s == 0.0


async def test_interrupt_stops_within_one_chunk_and_reports_what_was_spoken(engine, tts: EspeakTts, scene) -> None:
    opts = SpeakerOptions(realtime=True, chunk_s=0.1, lead_s=0.1)
    runner = TurnRunner(engine, opts, tts=tts)
    events: list[AvatarEvent] = []
    t_interrupt = 0.0
    async for e in runner.run("t3", "describe the room", scene):
        events.append(e)
        if e.kind == "audio" and e.start_s >= 1.5 and not t_interrupt:
            t_interrupt = time.monotonic()
            assert runner.interrupt("user spoke")
    cut = next(i for i, e in enumerate(events) if e.kind == "audio" and e.start_s >= 1.5)
    after = events[cut + 1 :]
    assert [e.kind for e in after] == ["turn_end"]  # nothing more after the interrupt, not even one chunk
    end = after[0]
    assert end.end_reason == "interrupted" and end.detail == "user spoke"
    assert time.monotonic() - t_interrupt < 0.1
    sent = max(e.start_s + len(e.audio) / e.sample_rate_hz for e in events if e.kind == "audio")
    # spoken = what a client playing in real time had played: up to lead_s behind what was sent
    assert sent - opts.lead_s - opts.chunk_s - 0.05 <= end.spoken_s <= sent
    planned = "".join(e.text for e in events if e.kind == "text_delta")
    assert 0.0 < end.spoken_fraction < 0.5 and end.text and planned.startswith(end.text)
    assert runner.last_outcome is not None and runner.last_outcome.unspoken_text.startswith("I've mapped")

    # the next turn knows: "go on" resumes from the sentence that was cut (not paced, to keep the test short)
    runner.options = dataclasses.replace(opts, realtime=False)
    events = [e async for e in runner.run("t4", "go on", scene)]
    text = "".join(e.text for e in events if e.kind == "text_delta")
    assert text.startswith("As I was saying, i've mapped") or text.startswith("As I was saying, I've mapped")
    assert events[-1].end_reason == "completed"


async def test_output_rate_and_text_only_mode(engine, tts: EspeakTts, scene) -> None:
    runner = TurnRunner(engine, SpeakerOptions(realtime=False, output_sample_rate_hz=16000), tts=tts)
    audio = [e async for e in runner.run("t5", "hello", scene) if e.kind == "audio"]
    assert audio and all(e.sample_rate_hz == 16000 and e.audio.dtype == np.int16 for e in audio)
    silent = TurnRunner(engine, SpeakerOptions(speech_enabled=False))
    kinds = [e.kind async for e in silent.run("t6", "hello", scene)]
    assert "audio" not in kinds and "visemes" not in kinds and kinds[-1] == "turn_end"


async def test_interrupt_while_idle_is_a_no_op(engine) -> None:
    assert not TurnRunner(engine, SpeakerOptions(speech_enabled=False)).interrupt()


class ScriptedEngine:
    """Yields the given text pieces as deltas (like an LLM streaming tokens), or raises midway."""

    name = "scripted"

    def __init__(self, pieces: list[str], fail_after: int | None = None) -> None:
        self.pieces = pieces
        self.fail_after = fail_after

    async def respond(self, turn_id, text, scene, *, context=None):  # type: ignore[no-untyped-def]
        for i, p in enumerate(self.pieces):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError("backend went away")
            yield AvatarEvent(turn_id, "text_delta", text=p)
        yield AvatarEvent(turn_id, "turn_end", end_reason="completed")


async def test_streamed_tokens_are_voiced_by_whole_sentences(tts: EspeakTts, scene) -> None:
    pieces = ["The mug", " is about 2", ".", "2 metres", " away.", " It is", " red"]
    runner = TurnRunner(ScriptedEngine(pieces), SpeakerOptions(realtime=False), tts=tts)
    events = [e async for e in runner.run("t7", "?", scene)]
    deltas = [e.text for e in events if e.kind == "text_delta"]
    assert deltas == pieces  # captions pass through as they stream
    # audio for "The mug is about 2.2 metres away." comes after its last piece, not after "2."
    kinds = [(e.kind, e.text) for e in events]
    first_audio = next(i for i, (k, _t) in enumerate(kinds) if k == "audio")
    assert kinds[first_audio - 2] == ("text_delta", " It is")  # the sentence closed when " It is" arrived
    assert events[-1].end_reason == "completed" and events[-1].text == "The mug is about 2.2 metres away. It is red"


async def test_an_engine_failure_ends_the_turn_with_an_error(tts: EspeakTts, scene) -> None:
    runner = TurnRunner(
        ScriptedEngine(["Hello there. ", "More"], fail_after=1), SpeakerOptions(realtime=False), tts=tts
    )
    events = [e async for e in runner.run("t8", "?", scene)]
    assert events[-1].kind == "turn_end" and events[-1].end_reason == "error" and events[-1].detail == "RuntimeError"
    assert any(e.kind == "audio" for e in events)  # what was complete was still spoken
