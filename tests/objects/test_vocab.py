"""Open-vocabulary queries with the real sentence embedder (all-MiniLM-L6-v2 from its package, offline).

Measured when written: "mug" scores 0.71 against "cup" (next: bottle 0.51); "something to drink from" scores
bottle 0.47, mug 0.47, cup 0.43, then capsule 0.32 and ball 0.26.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from objects_helpers import Run, match_objects

from sora_sdk.core import InvalidArgumentError, SceneObject
from sora_sdk.datasets import generate_room
from sora_sdk.objects import ObjectMapper, ObjectOptions, ObjectVocabulary


@pytest.fixture(scope="module")
def shelf() -> list[SceneObject]:
    """Room 0's objects as scene objects (class names as labels), plus a cup and a second, red, mug."""
    room = generate_room(0)
    objects = [dataclasses.replace(g.to_scene_object(), object_id=g.object_id) for g in room.objects]
    mug = next(o for o in objects if o.label == "mug")
    objects.append(dataclasses.replace(mug, object_id="cup_1", label="cup", color_name="white"))
    objects.append(dataclasses.replace(mug, object_id="mug_2", color_name="red"))
    return objects


@pytest.fixture(scope="module")
def vocab(embedder) -> ObjectVocabulary:  # type: ignore[no-untyped-def]
    return ObjectVocabulary(embedder)


def _labels(matches: list[tuple[SceneObject, float]]) -> list[str]:
    return [o.label for o, _ in matches]


def test_mug_finds_cup(vocab: ObjectVocabulary, shelf: list[SceneObject]) -> None:
    no_mugs = [o for o in shelf if o.label != "mug"]
    found = vocab.match("mug", no_mugs)
    assert found and found[0][0].label == "cup", [(o.label, round(s, 2)) for o, s in found]
    assert "ball" not in _labels(found) and "ring" not in _labels(found)


def test_something_to_drink_from(vocab: ObjectVocabulary, shelf: list[SceneObject]) -> None:
    scores = dict(zip([o.label for o in shelf], vocab.scores("something to drink from", [o.label for o in shelf]),
                      strict=True))  # fmt: skip
    drink = min(scores[k] for k in ("mug", "cup", "bottle"))
    other = max(scores[k] for k in ("ball", "box", "ring", "pyramid", "cube", "cone"))
    assert drink > other, scores
    found = _labels(vocab.match("something to drink from", shelf))
    assert {"mug", "bottle"} <= set(found) and "ball" not in found


def test_exact_label_first_and_plural(vocab: ObjectVocabulary, shelf: list[SceneObject]) -> None:
    found = vocab.match("Mugs", shelf)
    assert [o.object_id for o, s in found if s == 1.0] == sorted(o.object_id for o in shelf if o.label == "mug")
    assert found[0][1] == 1.0 and found[-1][1] <= 1.0


def test_colour_words_filter(vocab: ObjectVocabulary, shelf: list[SceneObject]) -> None:
    red = vocab.match("the red mug", shelf)
    assert [o.object_id for o, _ in red] == ["mug_2"]
    things = vocab.match("red things", shelf)
    assert things and all(o.color_name == "red" for o, _ in things)
    grey = vocab.match("grey one", shelf)
    assert all(o.color_name == "gray" for o, _ in grey) and grey


def test_unrelated_text_finds_nothing(vocab: ObjectVocabulary, shelf: list[SceneObject]) -> None:
    assert vocab.match("giraffe", shelf) == []
    assert vocab.match("", shelf) == []


def test_label_embeddings_are_cached(embedder, shelf: list[SceneObject]) -> None:  # type: ignore[no-untyped-def]
    vocab = ObjectVocabulary(embedder)
    vocab.match("a cup", shelf)
    cached = vocab.cached_labels
    vocab.match("a cup", shelf)
    vocab.match("something round", shelf)
    assert vocab.cached_labels == cached + 1  # only the new query text


def test_detector_labels_are_fused_and_queried(synthetic_run: Run, embedder) -> None:  # type: ignore[no-untyped-def]
    """The run fed detections from ground-truth masks: tracks carry class names; queries find them."""
    objects = synthetic_run.objects.objects
    found = match_objects(synthetic_run.after.objects, objects)
    right = [gid for gid, o in found.items() if o.label == synthetic_run.after.object(gid).class_name]
    print(f"labels right: {len(right)}/{len(found)}")
    assert len(right) >= 0.8 * len(found)
    for gid in right:
        o = found[gid]
        assert 0.8 <= o.label_confidence <= 1.0 and max(o.label_scores, key=o.label_scores.get) == o.label
    om = synthetic_run.objects  # its vocabulary loads the shared embedder (the fixture's) on first use
    mug = found["obj_06"]
    assert om.query(label="mug") == [mug]
    assert om.query(text="cup")[0] is mug
    assert om.query(text="orange cup") == [mug]
    assert mug in om.query(relation="on", related_id=mug.support_plane_id)
    assert om.query(text="cup", relation="on", related_id="no_such_plane") == []
    region = (mug.pose_world_box, np.array([0.3, 0.3, 0.3]))
    assert om.query(region=region) == [mug]
    assert len(om.query(max_results=2)) == 2
    with pytest.raises(InvalidArgumentError):
        om.query(relation="beside")


def test_mapper_without_embedder_loads_the_shared_one(embedder, shelf: list[SceneObject]) -> None:  # type: ignore[no-untyped-def]
    om = ObjectMapper(ObjectOptions())
    assert om.vocabulary.match("mug", shelf)[0][0].label == "mug"
    assert om.vocabulary.embedder is embedder
