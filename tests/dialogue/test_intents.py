"""Intent recognition: nearest prototype by sentence embedding, object words masked."""

from __future__ import annotations

from sora_sdk.dialogue import Embedder, IntentClassifier
from sora_sdk.dialogue._intents import mask_objects

CASES = {
    "Hi! How's it going?": "greeting", "good afternoon": "greeting", "hello sora": "greeting",
    "where is the green capsule": "where_is", "where did I leave my blue mug": "where_is",
    "can you see a pyramid anywhere": "where_is", "is there a bottle": "where_is",
    "what am I looking at right now": "looking_at", "what's this I'm staring at": "looking_at",
    "what am I pointing at": "pointing_at", "what is that over there": "identify_this",
    "what is this": "identify_this",
    "how far is the yellow cone": "how_far", "how far away is the shelf from me": "how_far",
    "how far is the mug from the bottle": "how_far", "how many mugs are there": "how_many",
    "how many red things do you see": "how_many", "count the chairs": "how_many", "what's on the table": "what_is_on",
    "what is near the red mug": "what_is_on", "what do you see": "describe_scene",
    "describe the room": "describe_scene",
    "tell me about this room": "describe_scene", "what is around me": "describe_scene", "what changed": "what_changed",
    "did something move since last time": "what_changed", "put an anchor there": "create_anchor",
    "place a marker on that spot": "create_anchor", "my name is Ana": "remember", "I really like plants": "remember",
    "I'm a nurse": "remember", "what's my name": "recall", "what do I like": "recall",
    "do you remember what I like": "recall", "please forget me": "forget_me", "thanks": "thanks",
    "thank you so much": "thanks", "bye for now": "farewell", "how are you": "small_talk", "who are you": "small_talk",
    "go on": "continue", "the weather is nice": "unknown", "quantum physics is hard": "unknown",
}  # fmt: skip


def test_intents_of_varied_phrasings(embedder: Embedder) -> None:
    c = IntentClassifier(embedder)
    wrong = {t: c.classify(t).name for t, want in CASES.items() if c.classify(t).name != want}
    # measured: 43 of 43; unmasked object words alone got 37
    assert len(wrong) <= 2, wrong


def test_object_words_are_masked_on_both_sides() -> None:
    assert mask_objects("Where is the green capsule?") == "where is the thing"
    assert mask_objects("where is the giraffe") == "where is the thing"
    assert mask_objects("how many red mugs are there") == "how many things are there"
    assert mask_objects("the weather is nice") == "the weather is nice"
    assert mask_objects("where is the zorbtron", {"zorbtron"}) == "where is the thing"


def test_low_similarity_is_unknown_with_the_nearest_intent_as_alternative(embedder: Embedder) -> None:
    i = IntentClassifier(embedder).classify("purple monkey dishwasher symphony")
    assert i.name == "unknown" and i.alternative and i.score < 0.55


def test_a_stated_name_is_remembered_whatever_the_name(embedder: Embedder, tmp_path) -> None:
    """Names move sentence embeddings: "my name is Ben" lands nearer "what's my name" than the
    prototype "my name is ana". The engine remembers any statement its fact extractor understands."""
    from sora_sdk.dialogue import EmbeddedEngine, EmbeddedEngineOptions

    engine = EmbeddedEngine(EmbeddedEngineOptions(memory_path=str(tmp_path / "m.sqlite")), embedder=embedder)
    names = ["Ben", "Ana", "Zoe", "Marcus", "Priya", "Olek", "Jean-Luc"]
    assert {n: engine.classify(f"my name is {n}").name for n in names} == dict.fromkeys(names, "remember")
    assert engine.classify("what's my name?").name == "recall"
    assert engine.classify("do you remember my name").name == "recall"


def test_objects_on_an_unnamed_plane_are_on_a_raised_surface() -> None:
    """A shelf board is a plane labelled "other": the avatar must not say "on the other"."""
    from sora_sdk.core.avatar import ObjectSummary, PlaneSummary, SceneSummary
    from sora_sdk.dialogue._grounding import support_phrase

    fields = {f: 0 for f in ("mesh_chunks", "mesh_triangles", "frames_integrated")}
    scene = SceneSummary(
        **fields, surface_area_m2=0.0, extent_min_m=(0.0, 0.0, 0.0), extent_max_m=(1.0, 1.0, 1.0),
        planes=(("p1", "other", 0.3), ("p2", "table", 1.0)), objects=(), gaze_target="", gaze_dwell_s=0.0,
        plane_details=(PlaneSummary("p1", "other", 0.3, (0, 0, 0.8), (0, 0, 1)),
                       PlaneSummary("p2", "table", 1.0, (0, 0, 0.75), (0, 0, 1))),
    )  # fmt: skip
    on_shelf = ObjectSummary("o1", "red mug", (0, 0, 0.9), (0.1, 0.1, 0.1), "red", "p1", "other", 1.0, 0.0, 0.0)
    on_table = ObjectSummary("o2", "blue can", (1, 0, 0.8), (0.1, 0.1, 0.1), "blue", "p2", "table", 1.0, 0.0, 0.0)
    assert support_phrase(on_shelf, scene) == "on a raised surface"
    assert support_phrase(on_table, scene) == "on the table"
