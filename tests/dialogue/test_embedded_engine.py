"""The embedded engine on a constructed scene: grounded answers, deixis, cues, memory across instances."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from dialogue_helpers import living_room

from sora_sdk.core.avatar import AvatarEvent, SceneSummary
from sora_sdk.dialogue import (
    EmbeddedEngine,
    EmbeddedEngineOptions,
    Embedder,
    MemoryStore,
    SummarySceneTools,
    TurnContext,
)


@pytest.fixture(scope="module")
def engine(embedder: Embedder) -> EmbeddedEngine:
    e = EmbeddedEngine(embedder=embedder)
    e.warm_up()
    return e


async def turn(engine: EmbeddedEngine, text: str, scene: SceneSummary, **ctx: object) -> tuple[str, list[AvatarEvent]]:
    events = [ev async for ev in engine.respond("t", text, scene, context=TurnContext(**ctx))]  # type: ignore[arg-type]
    assert events[-1].kind == "turn_end" and events[-1].end_reason == "completed"
    return "".join(e.text for e in events if e.kind == "text_delta"), events


def cue(events: list[AvatarEvent], kind: str) -> list[str]:
    out = []
    for e in events:
        if e.kind == kind:
            out.append(e.target.target_id if e.target is not None else e.body_gesture or e.emotion)
    return out


async def test_where_is_names_support_distance_direction_and_neighbour(engine: EmbeddedEngine, scene) -> None:
    text, events = await turn(engine, "Where is the red mug?", scene)
    # the mug is 2.2 m from the head (0, 0, 1.6), ahead and left (+Y is the user's left), on the table
    assert "red mug" in text and "on the table" in text and "2.2 metres" in text
    assert "ahead of you" in text and "left" in text and "blue box" in text
    assert cue(events, "point_at") == ["o-mug"] and cue(events, "look_at") == ["o-mug"]
    kinds = [e.kind for e in events]
    assert kinds.index("look_at") < kinds.index("point_at") < kinds.index("text_delta")


async def test_open_vocabulary_and_plural_answers(engine: EmbeddedEngine, scene) -> None:
    text, _ = await turn(engine, "where is my cup", scene)
    assert "two mugs" in text and "white mug" in text and "behind you" in text and "red mug" in text
    text, _ = await turn(engine, "How many chairs are there?", scene)
    assert "two chairs" in text
    text, _ = await turn(engine, "what's on the table", scene)
    assert "red mug" in text and "blue box" in text and "plant" not in text


async def test_missing_things_get_a_head_shake(engine: EmbeddedEngine, scene) -> None:
    text, events = await turn(engine, "where is the giraffe", scene)
    assert "don't see" in text and "giraffe" in text
    assert cue(events, "body") == ["shake_head"]


async def test_what_am_i_looking_at_follows_the_gaze_target(engine: EmbeddedEngine, scene) -> None:
    text, events = await turn(engine, "What am I looking at?", scene)
    assert "green plant" in text and "to your right" in text and "2 seconds" in text
    assert cue(events, "look_at") == ["o-plant"]
    moved = dataclasses.replace(scene, gaze_target_id="o-bottle", gaze_target_label="yellow bottle", gaze_dwell_s=0.2)
    text, events = await turn(engine, "What am I looking at?", moved)
    assert "yellow bottle" in text and "on the shelf" in text and "behind you" in text
    assert cue(events, "look_at") == ["o-bottle"]


async def test_this_and_that_resolve_from_pointing_then_gaze(engine: EmbeddedEngine, scene) -> None:
    text, events = await turn(engine, "what is that?", scene)
    assert text.startswith("That's the red mug") and cue(events, "look_at") == ["o-mug"]
    text, _ = await turn(engine, "how far is it", scene)  # "it" = the thing just talked about
    assert "red mug" in text and "2.2 metres" in text
    no_point = dataclasses.replace(scene, gesture="", pointing_target_id="", pointing_point_world_m=None)
    text, _ = await turn(engine, "what is this", no_point)
    assert "green plant" in text
    text, _ = await turn(engine, "what am I pointing at", no_point)
    assert "don't see you pointing" in text


async def test_distances_between_objects_and_what_changed(engine: EmbeddedEngine, scene) -> None:
    text, _ = await turn(engine, "how far is the red mug from the white mug", scene)
    assert re.search(r"red mug is about 3\.\d metres from the white mug", text), text
    text, events = await turn(engine, "what changed?", scene)
    assert "white mug appeared on the shelf" in text and "blue box was moved" in text
    assert cue(events, "look_at") == ["o-box"]


async def test_describe_groups_objects_by_support_and_names_the_nearest(engine: EmbeddedEngine, scene) -> None:
    text, _ = await turn(engine, "describe the room", scene)
    assert "from 300 frames" in text and "5.0 by 4.0 metres" in text
    assert "On the table there are the red mug and the blue box" in text and "two chairs" in text
    assert "closest to you is the white mug" in text
    empty = living_room(object_details=(), objects=(), mesh_chunks=0, plane_details=(), planes=())
    text, events = await turn(engine, "what do you see", empty)
    assert "haven't seen" in text and cue(events, "body") == ["shrug"]


async def test_put_an_anchor_there_uses_the_pointing_target(engine: EmbeddedEngine, scene) -> None:
    tools = SummarySceneTools(scene)
    text, events = await turn(engine, "put an anchor there", scene, tools=tools)
    assert len(tools.created) == 1 and tools.created[0].position_world_m == pytest.approx((2.0, 0.6, 0.85))
    assert "anchor" in text and "where you're pointing" in text and cue(events, "body") == ["nod"]
    assert cue(events, "look_at") == [tools.created[0].anchor_id]
    nowhere = dataclasses.replace(
        scene,
        gesture="",
        pointing_target_id="",
        pointing_point_world_m=None,
        gaze_target_id="",
        gaze_point_world_m=None,
    )
    text, events = await turn(engine, "put an anchor there", nowhere, tools=SummarySceneTools(nowhere))
    assert "can't tell where" in text and cue(events, "body") == ["shrug"]


async def test_greeting_waves_and_emotion_follows_the_user(engine: EmbeddedEngine, scene) -> None:
    text, events = await turn(engine, "hello!", scene, user_id="greeter")
    assert text.startswith("Hello") and cue(events, "body") == ["wave"] and cue(events, "emotion") == ["happy"]
    _, events = await turn(engine, "I'm really sad today", scene)
    assert cue(events, "emotion") == ["sad"]
    _, events = await turn(engine, "this is awful and useless", scene)
    assert cue(events, "emotion") == ["concerned"]


async def test_memory_is_recalled_by_another_engine_instance_and_deletable(embedder: Embedder, tmp_path: Path) -> None:
    scene = living_room()
    path = str(tmp_path / "memory.db")
    first = EmbeddedEngine(EmbeddedEngineOptions(memory_path=path), embedder=embedder)
    text, _ = await turn(first, "My name is Ana and I like plants", scene, user_id="ana")
    assert "Ana" in text and "plants" in text and "green plant" in text
    first.memory.close()
    second = EmbeddedEngine(EmbeddedEngineOptions(memory_path=path), embedder=embedder)
    text, _ = await turn(second, "What's my name?", scene, user_id="ana")
    assert text.strip() == "Your name is Ana."
    text, _ = await turn(second, "what do you know about me", scene, user_id="ana")
    assert "Ana" in text and "plants" in text
    text, _ = await turn(second, "What's my name?", scene, user_id="someone-else")
    assert "haven't told me" in text
    text, _ = await turn(second, "hello", scene, user_id="ana")
    assert "Ana" in text
    await turn(second, "please forget everything about me", scene, user_id="ana")
    assert MemoryStore(path).facts("ana") == []


async def test_brief_style_and_continue_after_an_interruption(engine: EmbeddedEngine, scene) -> None:
    full, _ = await turn(engine, "describe the room", scene, user_id="styles")
    brief, _ = await turn(engine, "describe the room", scene, user_id="styles", style="brief")
    assert len(brief) < len(full) and brief.strip() == full.split(". ")[0].strip() + "."
    text, _ = await turn(
        engine, "go on", scene, previous_interrupted=True, previous_unspoken_text="The plant is to your right."
    )
    assert text.strip() == "As I was saying, the plant is to your right."


async def test_answers_change_with_the_scene_not_canned(engine: EmbeddedEngine) -> None:
    a = living_room()
    objs = tuple(
        dataclasses.replace(o, label="purple lamp", color_name="purple") if o.object_id == "o-mug" else o
        for o in a.object_details
    )
    b = living_room(object_details=objs, head_position_world_m=(3.5, 0.6, 1.6), head_forward_world=(-1.0, 0.0, 0.0))
    ta, _ = await turn(engine, "how far is the red mug", a)
    tb, _ = await turn(engine, "how far is the purple lamp", b)
    assert "red mug" in ta and "purple lamp" in tb
    assert "2.2 metres" in ta and "1.7 metres" in tb and "straight ahead" in tb
