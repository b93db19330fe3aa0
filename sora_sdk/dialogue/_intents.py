"""What the user wants: nearest intent prototype by sentence embedding, with a threshold.

Each intent has a handful of example phrasings; a turn's intent is the one whose closest example is
most similar to the (lower-cased) text, if that similarity reaches ``IntentOptions.threshold``.
Prototype embeddings are computed once per Embedder (cached by the Embedder).

Object words are masked before comparing ("where is the green capsule" → "where is the thing"), on both
sides: otherwise an unusual object name outweighs the carrier phrase that says what is asked (measured on
43 phrasings: 37 right unmasked, see tests/dialogue/test_intents.py for the masked rate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ._embeddings import Embedder

__all__ = ["INTENT_PROTOTYPES", "Intent", "IntentClassifier", "IntentOptions", "mask_objects"]

#: Words masked as "thing" in every text, besides the scene's own vocabulary.
COMMON_OBJECT_WORDS: frozenset[str] = frozenset(
    "cup mug phone keys key book bottle ball chair lamp box table shelf floor wall sofa couch plant plants "
    "laptop glass door window bed desk pen remote bag shoe shoes tv screen monitor object objects item items "
    "cube can cone pyramid ring capsule thing things seat cabinet drawer "
    "red orange yellow green cyan blue purple pink brown white black gray grey".split()
)
_KEEP = frozenset("this that it one there here me my i you".split())
_DETERMINERS = frozenset("the a an my your some any".split())
_CARRIERS = frozenset(
    "is are where's what's find see show at on near to from of many far put place count about".split()
)
_FUNCTION_WORDS = frozenset(
    "this that it one there here me my i you is are was be not very most best same other next "
    "distance number way room space name favourite favorite lot little bit".split()
)


def mask_objects(text: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> str:
    """Lower-cases ``text`` and replaces each run of object / colour words with "thing" ("things" when the
    run ends in a plural). ``vocabulary`` adds the scene's words to COMMON_OBJECT_WORDS."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    vocab = COMMON_OBJECT_WORDS | vocabulary
    out: list[str] = []
    run: list[str] = []
    prev2 = prev = ""
    for w in [*words, ""]:
        base = w[:-1] if w.endswith("s") and w[:-1] in vocab else w
        # an unknown noun after "is the", "find my", "at the" … ("where is the giraffe") is an object too
        after_det = prev in _DETERMINERS and prev2 in _CARRIERS and w not in _FUNCTION_WORDS
        prev2, prev = prev, w
        if w and w not in _KEEP and (w in vocab or base in vocab or after_det):
            run.append(w)
            continue
        if run:
            out.append("things" if run[-1].endswith("s") and run[-1] not in ("glass",) else "thing")
            run = []
        if w:
            out.append(w)
    return " ".join(out)


#: Intent name → example phrasings. Object words vary so the carrier phrase, not the object, decides.
INTENT_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "greeting": (
        "hello", "hi there", "hey", "good morning", "good evening", "hello, nice to meet you", "hi, how's it going",
    ),
    "farewell": ("goodbye", "bye", "see you later", "good night", "talk to you later"),
    "thanks": ("thank you", "thanks a lot", "thanks, that's helpful", "great, thanks"),
    "small_talk": (
        "how are you", "how are you doing today", "who are you", "what's your name", "what can you do",
        "tell me about yourself", "are you a robot", "what is your favourite colour", "tell me a joke",
        "i'm bored", "how is it going",
    ),
    "describe_scene": (
        "what do you see", "describe the room", "what's around me", "what can you see", "tell me what is here",
        "describe my surroundings", "what is in this room", "look around and tell me what you see",
    ),
    "where_is": (
        "where is the cup", "where's my phone", "where are the keys", "where did i put the book",
        "can you find the bottle", "do you see a ball", "is there a chair here", "show me the lamp",
        "where is the red box", "find my mug", "can you see a ball anywhere", "do you see my keys",
    ),
    "looking_at": (
        "what am i looking at", "what is this i'm looking at", "what's in front of my eyes",
        "what am i staring at", "do you know what i'm looking at",
    ),
    "pointing_at": (
        "what am i pointing at", "what is that i'm pointing to", "what does my finger point at",
        "what is this i'm pointing at",
    ),
    "identify_this": ("what is this", "what is that", "what's that thing", "what is this object", "what's this one"),
    "how_far": (
        "how far is the cup", "how far away is the chair", "how far is it", "what's the distance to the table",
        "how close is the bottle", "how far is the box from the ball", "how far is that from me",
    ),
    "how_many": (
        "how many chairs are there", "how many cups do you see", "count the boxes", "how many things are there",
        "how many objects are on the table", "what is the number of balls",
    ),
    "what_is_on": (
        "what is on the table", "what's on the shelf", "what's on the floor", "what is next to the chair",
        "what is near the box", "what's beside the lamp",
    ),
    "what_changed": (
        "what changed", "what's new", "did anything move", "what is different now", "has anything changed",
        "what happened while i was away",
    ),
    "create_anchor": (
        "put an anchor there", "place an anchor here", "mark this spot", "drop a pin there",
        "remember this place", "put a marker where i'm pointing", "anchor that spot",
    ),
    "remember": (
        "my name is ana", "call me sam", "i like plants", "i love coffee", "i don't like spiders",
        "my favourite colour is blue", "remember that my keys are in the drawer", "i am a teacher",
        "i live in berlin", "i hate loud music",
    ),
    "recall": (
        "what's my name", "do you remember my name", "what do i like", "what do you know about me",
        "what did i tell you", "what did i ask you before", "what is my favourite colour",
    ),
    "forget_me": (
        "forget everything about me", "delete what you know about me", "forget my name",
        "erase my data", "forget what i told you",
    ),
    "continue": ("go on", "continue", "keep going", "what were you saying", "please continue", "and then"),
    "stop": ("stop", "stop talking", "be quiet", "never mind", "that's enough"),
}  # fmt: skip


@dataclass(frozen=True)
class IntentOptions:
    """threshold: least cosine similarity to a prototype for an intent to be taken (below → "unknown").
    margin: when the best two intents are closer than this, the runner-up is reported in ``alternative``."""

    threshold: float = 0.55
    margin: float = 0.03


@dataclass(frozen=True)
class Intent:
    """name: an INTENT_PROTOTYPES key or "unknown"; score: cosine to the nearest prototype; example: that
    prototype; alternative: the runner-up when it was within ``margin``."""

    name: str
    score: float
    example: str
    alternative: str = ""


class IntentClassifier:
    """Nearest-prototype intent recognition over sentence embeddings."""

    def __init__(
        self,
        embedder: Embedder,
        options: IntentOptions | None = None,
        prototypes: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.embedder = embedder
        self.options = options or IntentOptions()
        protos = prototypes or INTENT_PROTOTYPES
        self._names = [n for n, exs in protos.items() for _ in exs]
        self._examples = [e for exs in protos.values() for e in exs]
        self._matrix = embedder.embed([mask_objects(e) for e in self._examples])

    def classify(self, text: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> Intent:
        """The intent of ``text``; ``vocabulary``: the scene's object and colour words (masked)."""
        q = mask_objects(text, vocabulary)
        if not q:
            return Intent("unknown", 0.0, "")
        s = self._matrix @ self.embedder.embed(q)
        best: dict[str, tuple[float, int]] = {}
        for i, (name, score) in enumerate(zip(self._names, s, strict=True)):
            if name not in best or score > best[name][0]:
                best[name] = (float(score), i)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        (name, (score, i)) = ranked[0]
        alt = ranked[1][0] if len(ranked) > 1 and score - ranked[1][1][0] < self.options.margin else ""
        if score < self.options.threshold:
            return Intent("unknown", score, self._examples[i], name)
        return Intent(name, score, self._examples[i], alt)

    def scores(self, text: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> dict[str, float]:
        """Best prototype similarity per intent (for debugging and tests)."""
        s = self._matrix @ self.embedder.embed(mask_objects(text, vocabulary))
        out: dict[str, float] = {}
        for name, score in zip(self._names, np.asarray(s), strict=True):
            out[name] = max(out.get(name, -1.0), float(score))
        return out
