"""The embedded, offline engine: intents from sentence embeddings, answers composed from the scene.

Understanding and composition run in one worker thread per turn (the embedding model and SQLite
block); SceneTools calls are awaited on the event loop from that thread. Answers are templates filled
from the summary — labels, distances and directions from the user's head, supports and relations —
so they change with the scene. Cues come first (emotion, look_at, body, point_at), then the text
sentence by sentence, then turn_end.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from ..core.avatar import AvatarEvent, CueTarget, ObjectSummary, SceneSummary
from ._affect import avatar_emotion, text_sentiment
from ._embeddings import Embedder, default_embedder
from ._engine import TurnContext, sentences
from ._grammar import label_words
from ._grounding import (
    COLOR_WORDS,
    Referent,
    content_words,
    direction_phrase,
    distance_m,
    distance_phrase,
    find_objects,
    find_planes,
    label_list,
    number_word,
    object_phrase,
    plural_label,
    relation_phrases,
    resolve_deixis,
    support_phrase,
    where_sentence,
)
from ._intents import Intent, IntentClassifier, IntentOptions
from ._memory import MemoryStore, extract_facts
from ._tools import SummarySceneTools

__all__ = ["EmbeddedEngine", "EmbeddedEngineOptions"]

T = TypeVar("T")

_SCENE_INTENTS = frozenset({"where_is", "how_far", "how_many"})
_FALLBACK_SCORE = 0.42


@dataclass(frozen=True)
class EmbeddedEngineOptions:
    """intent: intent-recognition thresholds. memory_path: SQLite file for per-user memory ("" = in
    memory only). max_listed: most objects named in one list. remember_utterances: store every user
    turn in the user's history (for "what did I ask before")."""

    intent: IntentOptions = field(default_factory=IntentOptions)
    memory_path: str = ""
    max_listed: int = 6
    remember_utterances: bool = True


@dataclass
class _Answer:
    text: str = ""
    emotion: tuple[str, float] | None = None
    look_at: CueTarget | None = None
    point_at: CueTarget | None = None
    body: str = ""
    referent: Referent | None = None


@dataclass
class _UserState:
    last_referent: Referent | None = None
    last_answer: str = ""


_classifiers: dict[int, IntentClassifier] = {}
_classifiers_lock = threading.Lock()


def _classifier(embedder: Embedder, options: IntentOptions) -> IntentClassifier:
    key = id(embedder)
    with _classifiers_lock:
        c = _classifiers.get(key)
        if c is None:
            c = _classifiers[key] = IntentClassifier(embedder, options)
        return c


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _you(text: str) -> str:
    """First person → second person, for repeating what the user said ("my keys are" → "your keys are")."""
    swaps = {"my": "your", "i": "you", "i'm": "you're", "am": "are", "me": "you", "mine": "yours", "myself": "yourself"}
    return re.sub(r"[a-z']+", lambda m: swaps.get(m.group(0), m.group(0)), text)


class EmbeddedEngine:
    """Offline engine: embeddings for intent and open-vocabulary object matching; scene-grounded answers.

    The embedding model loads on first use (or with ``warm_up()``); engines share one model per process.
    Memory persists per user in ``memory`` (or a store at ``options.memory_path``).
    """

    name = "embedded"

    def __init__(
        self,
        options: EmbeddedEngineOptions | None = None,
        *,
        embedder: Embedder | None = None,
        memory: MemoryStore | None = None,
    ) -> None:
        self.options = options or EmbeddedEngineOptions()
        self._embedder = embedder
        self.memory = memory if memory is not None else MemoryStore(self.options.memory_path)
        self._users: dict[str, _UserState] = {}

    @classmethod
    def create_from_options(cls, options: EmbeddedEngineOptions) -> EmbeddedEngine:
        return cls(options)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def warm_up(self) -> None:
        """Loads the embedding model and the intent prototypes (blocking, seconds on first call)."""
        _classifier(self.embedder, self.options.intent)

    def prepare(self, text: str, scene: SceneSummary | None = None) -> None:
        """Computes ahead what answering ``text`` will need, with no effect but the embedding cache: a
        speculative transcript's (heard before the end of the turn) query embedding. Blocking."""
        self.classify(text, scene)

    def classify(self, text: str, scene: SceneSummary | None = None) -> Intent:
        """The intent of ``text``, masking the scene's object words.

        A statement the fact extractor understands ("my name is Ben") is remembered even when its
        nearest prototype is a question about memory: names pull sentence embeddings around.
        """
        intent = _classifier(self.embedder, self.options.intent).classify(text, self._vocabulary(scene))
        if intent.name in ("recall", "unknown") and not text.rstrip().endswith("?") and extract_facts(text):
            return Intent("remember", intent.score, intent.example, intent.name)
        return intent

    @staticmethod
    def _vocabulary(scene: SceneSummary | None) -> set[str]:
        if scene is None:
            return set()
        words = {w for o in scene.object_list() for w in label_words(o.label)}
        return words | {w for p in scene.plane_list() for w in label_words(p.label)} - {"other"}

    async def respond(
        self, turn_id: str, text: str, scene: SceneSummary, *, context: TurnContext | None = None
    ) -> AsyncIterator[AvatarEvent]:
        ctx = context or TurnContext()
        loop = asyncio.get_running_loop()
        try:
            ans = await loop.run_in_executor(None, self._answer, text, scene, ctx, loop)
        except Exception as exc:  # the turn still ends cleanly; the session logs nothing it can't see
            yield AvatarEvent(turn_id, "turn_end", end_reason="error", detail=f"{type(exc).__name__}: {exc}"[:200])
            return
        if ans.emotion is not None:
            yield AvatarEvent(turn_id, "emotion", emotion=ans.emotion[0], intensity=round(ans.emotion[1], 3))
        yield AvatarEvent(turn_id, "look_at", target=ans.look_at or CueTarget("user"))
        if ans.body:
            yield AvatarEvent(turn_id, "body", body_gesture=ans.body)
        if ans.point_at is not None:
            yield AvatarEvent(turn_id, "point_at", target=ans.point_at)
        spoken = ""
        for sentence in sentences(ans.text):
            spoken += sentence
            yield AvatarEvent(turn_id, "text_delta", text=sentence)
        yield AvatarEvent(turn_id, "turn_end", end_reason="completed", text=spoken.strip(), spoken_fraction=1.0)

    # ---- understanding and composition (worker thread) -------------------------------------------

    def _answer(self, text: str, scene: SceneSummary, ctx: TurnContext, loop: asyncio.AbstractEventLoop) -> _Answer:
        state = self._users.setdefault(ctx.user_id, _UserState())
        intent = self.classify(text, scene)
        name = intent.name
        if (
            name == "unknown"
            and intent.alternative in _SCENE_INTENTS
            and intent.score >= _FALLBACK_SCORE
            and text_sentiment(text).valence == 0.0
        ):
            name = intent.alternative  # a near miss on a scene question is still a scene question
        handler = getattr(self, f"_on_{name}", self._on_unknown)
        ans: _Answer = handler(text, scene, ctx, state, _Loop(loop))
        if ans.referent is not None:
            state.last_referent = ans.referent
        affect = text_sentiment(text)
        if ans.emotion is None or ans.emotion[0] == "neutral" or abs(affect.valence) >= 0.5:
            # the user's feeling (words, and voice when spoken) outweighs the answer's own mood when strong
            default = ans.emotion[0] if ans.emotion else "neutral"
            emo = avatar_emotion(affect, ctx.voice, default=default)
            if affect.valence != 0.0 or ctx.voice is not None or ans.emotion is None:
                ans.emotion = emo
        if ctx.style == "brief" and name not in ("remember", "recall"):
            first = sentences(ans.text)
            ans.text = first[0].strip() if first else ans.text
        state.last_answer = ans.text
        if self.options.remember_utterances and name != "forget_me":
            self.memory.add_utterance(ctx.user_id, text.strip(), name)
        return ans

    def _name(self, ctx: TurnContext) -> str:
        names = self.memory.get(ctx.user_id, "name")
        return names[-1] if names else ""

    def _find(self, phrase: str, scene: SceneSummary) -> list[ObjectSummary]:
        return find_objects(phrase, scene, self.embedder)

    def _referent(
        self, text: str, scene: SceneSummary, state: _UserState
    ) -> tuple[list[ObjectSummary], Referent | None]:
        """Objects the text names, or (when it names none and says this/that/it) the deictic referent."""
        nouns = [w for w in content_words(text) if w not in COLOR_WORDS]
        colors = [w for w in content_words(text) if w in COLOR_WORDS]
        if nouns or colors:
            objs = find_objects(text, scene)  # exact label words first
            if objs:
                return objs, None
            planes = find_planes(text, scene)
            if planes:
                p = planes[0]
                return [], Referent("plane", p.plane_id, p.label, p.center_world_m, "label")
            return self._find(text, scene), None
        ref = resolve_deixis(text, scene, state.last_referent)
        return ([ref.obj] if ref is not None and ref.obj is not None else []), ref

    @staticmethod
    def _nearest(objs: list[ObjectSummary], scene: SceneSummary) -> ObjectSummary:
        if scene.head_position_world_m is None:
            return objs[0]
        return min(objs, key=lambda o: distance_m(o.position_world_m, scene) or 0.0)

    # ---- intents ---------------------------------------------------------------------------------

    def _on_greeting(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        name = self._name(ctx)
        hello = f"Hello, {name}!" if name else "Hello!"
        if ctx.previous_spoken_text or self.memory.utterances(ctx.user_id, 1):
            hello = f"Hello again, {name}!" if name else "Hello again!"
        n = len(scene.object_list())
        if n:
            seen = f"I can see {number_word(n)} thing{'s' if n != 1 else ''} around you. Ask me about any of them."
        elif scene.mesh_chunks:
            seen = "I'm starting to map your space, but I haven't recognised any objects yet."
        else:
            seen = "I haven't seen your space yet. Look around and I'll start mapping it."
        intro = f"I'm {ctx.avatar_name}." if not name else ""
        return _Answer(" ".join(x for x in (hello, intro, seen) if x), ("happy", 0.7), body="wave")

    def _on_farewell(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        name = self._name(ctx)
        return _Answer(f"Goodbye{', ' + name if name else ''}! Talk to you soon.", ("happy", 0.5), body="wave")

    def _on_thanks(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        name = self._name(ctx)
        return _Answer(f"You're welcome{', ' + name if name else ''}.", ("happy", 0.6), body="nod")

    def _on_small_talk(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        t = text.lower()
        if re.search(r"\b(who are you|your name|yourself|are you a)\b", t):
            persona = f" {ctx.persona.rstrip('.')}." if ctx.persona else ""
            return _Answer(
                f"I'm {ctx.avatar_name}, your companion in this space.{persona} I see what your device sees and "
                "can tell you where things are.",
                ("happy", 0.5),
            )
        if re.search(r"\b(what can you do|help)\b", t):
            return _Answer(
                "I can tell you what I see, where things are and how far away, what you're looking or pointing "
                "at, and what changed. I can also put anchors where you point, and I remember what you tell me.",
                ("happy", 0.4),
            )
        if re.search(r"\bjoke\b", t):
            objs = scene.object_list()
            if objs:
                o = objs[0].label
                return _Answer(
                    f"Why did the {o} look so calm? Because it had everything in place.", ("happy", 0.7), body="shrug"
                )
            return _Answer("I'd tell you a joke about empty rooms, but there's nothing to it.", ("happy", 0.7))
        n = len(scene.object_list())
        if not re.search(r"\bhow('s| is| are) (you|it|things)\b|\bhow you doing\b", t):
            return _Answer(
                "I'm here, watching the space with you. Ask me about anything you see, or tell me about yourself.",
                ("happy", 0.4),
            )
        mood = "I'm doing well, thanks for asking."
        if n:
            mood += f" I've been keeping an eye on the {number_word(n)} things around you."
        return _Answer(mood, ("happy", 0.5), body="nod")

    def _on_describe_scene(
        self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop
    ) -> _Answer:
        parts: list[str] = []
        if scene.mesh_chunks == 0 and not scene.object_list():
            return _Answer(
                "I haven't seen any of your space yet. Look around slowly and I'll start mapping it.",
                ("thinking", 0.5),
                body="shrug",
            )
        lo, hi = np.asarray(scene.extent_min_m), np.asarray(scene.extent_max_m)
        size = hi - lo
        up = int(np.argmax(np.abs(scene.up_world)))
        horiz = sorted((float(size[i]) for i in range(3) if i != up), reverse=True)
        if scene.mesh_chunks:
            mapped = f"I've mapped about {scene.surface_area_m2:.1f} square metres of surface"
            if scene.frames_integrated:
                mapped += f" from {scene.frames_integrated} frames"
            if horiz[0] > 0.5:
                mapped += (
                    f", a space about {horiz[0]:.1f} by {horiz[1]:.1f} metres and {float(size[up]):.1f} metres high"
                )
            parts.append(mapped + ".")
        planes: dict[str, int] = {}
        for p in scene.plane_list():
            planes[p.label] = planes.get(p.label, 0) + 1
        planes.pop("other", None)
        if planes:
            parts.append(
                "I can see "
                + _join([f"{number_word(n) if n > 1 else 'a'} {plural_label(lab, n)}" for lab, n in planes.items()])
                + "."
            )
        objs = list(scene.object_list())
        if objs:
            groups: dict[str, list[ObjectSummary]] = {}
            for o in objs:
                groups.setdefault(support_phrase(o, scene), []).append(o)
            limit = self.options.max_listed * (2 if ctx.style == "detailed" else 1)
            said = 0
            for sup, group in sorted(groups.items(), key=lambda kv: (kv[0] == "", -len(kv[1]))):
                shown = group[: max(1, limit - said)]
                names = label_list(shown)
                said += len(shown)
                if sup:
                    parts.append(f"{_cap(sup)} there {'is' if len(names) == 1 else 'are'} {_join(names)}.")
                else:
                    parts.append(f"I also see {_join(names)}.")
                if said >= limit:
                    break
            if said < len(objs):
                parts.append(f"That's {said} of the {len(objs)} objects I know about.")
            nearest = self._nearest(objs, scene)
            d = distance_m(nearest.position_world_m, scene)
            if d is not None:
                parts.append(f"The closest to you is the {nearest.label}, {distance_phrase(d)} away.")
            look = CueTarget(
                "object", nearest.object_id, nearest.label, np.asarray(nearest.position_world_m, np.float32)
            )
            return _Answer(" ".join(parts), ("curious", 0.5), look_at=look)
        parts.append("I haven't recognised any objects yet.")
        return _Answer(" ".join(parts), ("thinking", 0.4))

    def _on_where_is(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        objs, ref = self._referent(text, scene, st)
        if not objs and ref is not None and ref.kind != "object":
            where = direction_phrase(ref.position_world_m, scene) if ref.position_world_m else ""
            d = distance_m(ref.position_world_m, scene)
            txt = (
                f"The {ref.label} is "
                + (f"{distance_phrase(d)} away" if d is not None else "here")
                + (f", {where}." if where else ".")
            )
            return _Answer(txt, ("neutral", 0.4), look_at=ref.cue(), point_at=ref.cue(), referent=ref)
        if not objs:
            return self._not_found(text, scene)
        if len(objs) == 1:
            o = objs[0]
            txt = where_sentence(o, scene, relations=2 if ctx.style == "detailed" else 1)
            r = Referent("object", o.object_id, o.label, o.position_world_m, "label", o)
            return _Answer(txt, ("neutral", 0.4), look_at=r.cue(), point_at=r.cue(), referent=r)
        objs = sorted(objs, key=lambda o: distance_m(o.position_world_m, scene) or 0.0)
        shown = objs[: self.options.max_listed]
        noun = _common_noun(shown)
        lines = [f"I see {number_word(len(objs))} {plural_label(noun, len(objs))}."]
        for o in shown:
            lines.append(where_sentence(o, scene, relations=0))
        o = objs[0]
        r = Referent("object", o.object_id, o.label, o.position_world_m, "label", o)
        return _Answer(" ".join(lines), ("neutral", 0.4), look_at=r.cue(), point_at=r.cue(), referent=r)

    def _not_found(self, text: str, scene: SceneSummary) -> _Answer:
        words = [w for w in content_words(text) if w not in ("thing", "things")]
        what = " ".join(words) or "that"
        txt = f"I don't see any {what} right now."
        labels = [o.label for o in scene.object_list()]
        if labels:
            near = self.embedder.best_matches(" ".join(words) or text, labels, top_k=1, min_score=0.3)
            if near:
                txt += f" The closest thing I can see is the {near[0][0]}."
        return _Answer(txt, ("concerned", 0.4), body="shake_head")

    def _on_how_far(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        m = re.search(r"\b(?:from|to|and)\s+(?:the\s+)?(.+?)[?.!]*$", text.lower())
        second = m.group(1) if m and m.group(1).strip() not in ("me", "here", "you") else ""
        first_text = text[: m.start()] if m is not None and second else text
        objs, ref = self._referent(first_text, scene, st)
        if objs:
            o = self._nearest(objs, scene)
            ref = Referent("object", o.object_id, o.label, o.position_world_m, "label", o)
        if ref is None or ref.position_world_m is None:
            return self._not_found(first_text, scene)
        if second:
            others = self._find(second, scene)
            if not others:
                return self._not_found(second, scene)
            b = self._nearest(others, scene)
            between = float(np.linalg.norm(np.subtract(ref.position_world_m, b.position_world_m)))
            txt = f"The {ref.label} is {distance_phrase(between)} from the {b.label}."
            return _Answer(txt, ("neutral", 0.4), look_at=ref.cue(), referent=ref)
        d = distance_m(ref.position_world_m, scene)
        if d is None:
            return _Answer(
                f"I can see the {ref.label}, but I don't know where you are right now, so I can't say how far it is.",
                ("concerned", 0.3),
                look_at=ref.cue(),
                body="shrug",
                referent=ref,
            )
        where = direction_phrase(ref.position_world_m, scene)
        txt = f"The {ref.label} is {distance_phrase(d)} from you" + (f", {where}." if where else ".")
        if len(objs) > 1:
            txt += f" That's the nearest of the {number_word(len(objs))} I see."
        return _Answer(txt, ("neutral", 0.4), look_at=ref.cue(), point_at=ref.cue(), referent=ref)

    def _on_how_many(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        t = text.lower()
        m = re.search(r"\b(?:on|under|near|next to|beside)\s+(?:the\s+)?([a-z ]+?)[?.!]*$", t)
        place = m.group(1).strip() if m else ""
        what = t[: m.start()] if m else t
        objs = self._find(what, scene)
        if not objs and not [w for w in content_words(what) if w not in COLOR_WORDS]:
            objs = [o for o in scene.object_list()]
        if place:
            objs = [
                o
                for o in objs
                if place in support_phrase(o, scene) or any(place in r for r in relation_phrases(o, scene))
            ]
        words = [w for w in content_words(what) if w not in ("many", "count")]
        noun = _common_noun(objs) if objs else (" ".join(words) or "thing")
        where = f" on the {place}" if place else ""
        if not objs:
            return _Answer(f"I don't see any {plural_label(noun, 2)}{where}.", ("concerned", 0.3), body="shake_head")
        n = len(objs)
        txt = f"I count {number_word(n)} {plural_label(noun, n)}{where}."
        if 1 < n <= self.options.max_listed and len({o.label for o in objs}) > 1:
            txt += " " + _cap(_join(label_list(objs))) + "."
        o = self._nearest(objs, scene)
        r = Referent("object", o.object_id, o.label, o.position_world_m, "label", o)
        return _Answer(txt, ("neutral", 0.4), look_at=r.cue(), body="nod", referent=r)

    def _on_what_is_on(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        t = text.lower()
        near = re.search(r"\b(near|next to|beside|by|close to|around)\b", t) is not None
        m = re.search(r"\b(?:on|near|next to|beside|by|close to|around)\s+(?:the\s+)?(.+?)[?.!]*$", t)
        target = m.group(1) if m else ""
        if not target or re.fullmatch(r"(this|that|it|there)( one)?", target):
            ref = resolve_deixis(target or "that", scene, st.last_referent)
        else:
            objs, ref = self._referent(target, scene, st)
            if ref is None and objs:
                ref = Referent("object", objs[0].object_id, objs[0].label, objs[0].position_world_m, "label", objs[0])
        if ref is None:
            return self._not_found(target or text, scene)
        if near and ref.position_world_m is not None:
            p0 = np.asarray(ref.position_world_m)
            close = sorted(
                (
                    (float(np.linalg.norm(np.asarray(o.position_world_m) - p0)), o)
                    for o in scene.object_list()
                    if o.object_id != ref.target_id
                ),
                key=lambda x: x[0],
            )
            close = [(d, o) for d, o in close if d <= 1.0][: self.options.max_listed]
            if not close:
                return _Answer(
                    f"There's nothing close to the {ref.label}.",
                    ("neutral", 0.4),
                    look_at=ref.cue(),
                    body="shake_head",
                    referent=ref,
                )
            items = [f"the {o.label}, {distance_phrase(d)} away" for d, o in close]
            return _Answer(
                f"Near the {ref.label} I see {_join(items)}.", ("neutral", 0.4), look_at=ref.cue(), referent=ref
            )
        on = [
            o
            for o in scene.object_list()
            if o.support_id == ref.target_id
            or (ref.label and support_phrase(o, scene) == f"on the {ref.label}")
            or (ref.target_id, "on") in {(ob, p) for s, p, ob in scene.relations if s == o.object_id}
        ]
        if not on:
            return _Answer(
                f"I don't see anything on the {ref.label}.",
                ("neutral", 0.4),
                look_at=ref.cue(),
                body="shake_head",
                referent=ref,
            )
        names = label_list(on[: self.options.max_listed])
        verb = "is" if len(on) == 1 else "are"
        txt = f"On the {ref.label} there {verb} {_join(names)}."
        if len(on) > len(names):
            txt += f" {number_word(len(on) - len(names)).capitalize()} more besides."
        return _Answer(txt, ("neutral", 0.4), look_at=ref.cue(), referent=ref)

    def _on_looking_at(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        ref = resolve_deixis("that", scene, None, prefer="gaze")
        if ref is None or ref.via != "gaze":
            if scene.gaze_target:
                return _Answer(f"You're looking at {scene.gaze_target}.", ("curious", 0.4))
            return _Answer(
                "I can't tell what you're looking at right now. Try looking at it a moment longer.",
                ("thinking", 0.4),
                body="shrug",
            )
        return self._identify(ref, scene, "You're looking at", dwell=scene.gaze_dwell_s)

    def _on_pointing_at(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        ref = resolve_deixis("that", scene, None, prefer="pointing")
        if ref is None or ref.via != "pointing":
            return _Answer("I don't see you pointing at anything right now.", ("thinking", 0.4), body="shrug")
        return self._identify(ref, scene, "You're pointing at")

    def _on_identify_this(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        objs, ref = self._referent(text, scene, st)
        if ref is None and objs:
            o = objs[0]
            ref = Referent("object", o.object_id, o.label, o.position_world_m, "label", o)
        if ref is None or (ref.via == "previous" and not re.search(r"\bit\b", text.lower())):
            return _Answer(
                "I'm not sure which thing you mean. Point at it or look at it and ask me again.",
                ("thinking", 0.4),
                body="shrug",
            )
        lead = {"pointing": "That's", "gaze": "That's", "label": "That's"}.get(ref.via, "It's")
        return self._identify(ref, scene, lead)

    def _identify(self, ref: Referent, scene: SceneSummary, lead: str, dwell: float = 0.0) -> _Answer:
        if ref.obj is not None:
            txt = f"{lead} {object_phrase(ref.obj, scene)}."
        else:
            d = distance_m(ref.position_world_m, scene)
            name = {"plane": f"the {ref.label}", "anchor": f"your anchor '{ref.label}'"}.get(ref.kind, ref.label)
            txt = f"{lead} {name}" + (f", {distance_phrase(d)} away." if d is not None else ".")
        if dwell >= 1.0:
            txt += f" You've been looking at it for {dwell:.0f} second{'s' if round(dwell) != 1 else ''}."
        return _Answer(txt, ("curious", 0.5), look_at=ref.cue(), referent=ref)

    def _on_what_changed(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        events = list(scene.recent_events)
        if not events:
            return _Answer(
                "Nothing has changed since I started watching, as far as I can tell.",
                ("neutral", 0.4),
                body="shake_head",
            )
        verbs = {
            "appeared": "appeared",
            "moved": "was moved",
            "removed": "is gone",
            "disappeared": "is gone",
            "anchor_created": "was anchored",
            "added": "appeared",
        }
        lines = []
        objs = {o.object_id: o for o in scene.object_list()}
        for e in events[-self.options.max_listed :]:
            label = e.label or (objs[e.subject_id].label if e.subject_id in objs else "something")
            verb = verbs.get(e.kind, e.kind.replace("_", " "))
            sup = support_phrase(objs[e.subject_id], scene) if e.subject_id in objs and e.kind != "removed" else ""
            ago = f" {scene.time_s - e.time_s:.0f} seconds ago" if scene.time_s > e.time_s else ""
            lines.append(
                f"The {label} {verb}" + (f" {sup}" if sup else "") + (f", {e.detail}" if e.detail else "") + f"{ago}."
            )
        last = events[-1]
        look = None
        if last.subject_id in objs:
            o = objs[last.subject_id]
            look = CueTarget("object", o.object_id, o.label, np.asarray(o.position_world_m, np.float32))
        head = f"{number_word(len(events)).capitalize()} things changed." if len(events) > 1 else ""
        return _Answer(" ".join([head, *lines]).strip(), ("curious", 0.5), look_at=look)

    def _on_create_anchor(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        tools = ctx.tools if ctx.tools is not None else SummarySceneTools(scene, self.embedder)
        pointing = scene.pointing_target_id or scene.pointing_point_world_m is not None
        at = "pointing" if pointing else "gaze"
        m = re.search(r"\b(?:called|named|labelled|label it|for (?:my|the))\s+([a-z' ]+)", text.lower())
        label = m.group(1).strip() if m else ""
        anchor = lp.run(tools.create_anchor(at, label=label))
        if anchor is None:
            return _Answer(
                "I can't tell where you mean. Point at the spot and ask me again.", ("thinking", 0.4), body="shrug"
            )
        ref = resolve_deixis("there", scene, None, prefer=at)
        on = f" on the {ref.label}" if ref is not None and ref.label and ref.kind in ("plane", "object") else ""
        how = "where you're pointing" if at == "pointing" else "where you're looking"
        d = distance_m(anchor.position_world_m, scene)
        far = f", {distance_phrase(d)} from you" if d is not None else ""
        cue = CueTarget("anchor", anchor.anchor_id, anchor.label, np.asarray(anchor.position_world_m, np.float32))
        return _Answer(
            f"Done. I put an anchor{on}, {how}{far}.",
            ("happy", 0.5),
            look_at=cue,
            body="nod",
            referent=Referent("anchor", anchor.anchor_id, anchor.label, anchor.position_world_m, "label"),
        )

    def _on_remember(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        facts = extract_facts(text)
        if not facts:
            return self._on_unknown(text, scene, ctx, st, lp)
        said: list[str] = []
        extra = ""
        for f in facts:
            self.memory.remember(ctx.user_id, f.key, f.value)
            if f.key == "name":
                said.append(f"Nice to meet you, {f.value}! I'll remember your name.")
            elif f.key == "likes":
                said.append(f"Noted: you like {f.value}.")
                objs = self._find(f.value, scene)
                if objs:
                    where = direction_phrase(objs[0].position_world_m, scene) or "nearby"
                    extra = f" There's a {objs[0].label} right here, {where}."
            elif f.key == "dislikes":
                said.append(f"Got it, you don't like {f.value}.")
            elif f.key.startswith("favourite_"):
                said.append(f"I'll remember that your favourite {f.key[10:].replace('_', ' ')} is {f.value}.")
            elif f.key == "note":
                said.append(f"I'll remember that {_you(f.value)}.")
            else:
                phrase = {"job": f"are a {f.value}", "age": f"are {f.value} years old", "home": f"live in {f.value}"}
                said.append(f"I'll remember that you {phrase.get(f.key, 'said ' + f.value)}.")
        return _Answer(" ".join(said) + extra.replace(", nearby.", " nearby."), ("happy", 0.6), body="nod")

    def _on_recall(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        t = text.lower()
        facts = self.memory.facts(ctx.user_id)
        by: dict[str, list[str]] = {}
        for f in facts:
            by.setdefault(f.key, []).append(f.value)
        if re.search(r"\bname\b", t):
            if "name" in by:
                return _Answer(f"Your name is {by['name'][-1]}.", ("happy", 0.5), body="nod")
            return _Answer("You haven't told me your name yet. What should I call you?", ("curious", 0.4), body="shrug")
        m = re.search(r"\bfavou?rite (\w+)", t)
        if m:
            key = "favourite_" + m.group(1).replace("colour", "color")
            if key in by:
                return _Answer(f"Your favourite {m.group(1)} is {by[key][-1]}.", ("happy", 0.5), body="nod")
            return _Answer(f"You haven't told me your favourite {m.group(1)} yet.", ("curious", 0.4), body="shrug")
        if re.search(r"\b(ask|asked|said|say)\b", t):
            past = [u for u in self.memory.utterances(ctx.user_id, 20) if u[2] not in ("recall", "remember")]
            if not past:
                return _Answer("You haven't asked me anything before.", ("neutral", 0.4), body="shrug")
            asked = [f"\u201c{x.rstrip('?.!')}\u201d" for _t, x, _i in past[-3:]]
            return _Answer(f"Recently you asked me {_join(asked)}.", ("neutral", 0.4), body="nod")
        if re.search(r"\b(like|love|enjoy)\b", t) and "know" not in t:
            if "likes" in by:
                return _Answer(f"You like {_join(by['likes'])}.", ("happy", 0.5), body="nod")
            return _Answer("You haven't told me what you like yet.", ("curious", 0.4), body="shrug")
        if not facts:
            return _Answer(
                "I don't know anything about you yet. Tell me your name, or what you like.",
                ("curious", 0.4),
                body="shrug",
            )
        parts = []
        if "name" in by:
            parts.append(f"your name is {by['name'][-1]}")
        if "likes" in by:
            parts.append(f"you like {_join(by['likes'])}")
        if "dislikes" in by:
            parts.append(f"you don't like {_join(by['dislikes'])}")
        for k, values in by.items():
            if k.startswith("favourite_"):
                parts.append(f"your favourite {k[10:]} is {values[-1]}")
        if "job" in by:
            parts.append(f"you're a {by['job'][-1]}")
        if "home" in by:
            parts.append(f"you live in {by['home'][-1]}")
        for note in by.get("note", []):
            parts.append(_you(note))
        return _Answer(f"I know that {_join(parts)}.", ("happy", 0.5), body="nod")

    def _on_forget_me(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        self.memory.forget_user(ctx.user_id)
        self._users.pop(ctx.user_id, None)
        return _Answer("Done. I've forgotten everything you told me.", ("neutral", 0.4), body="nod")

    def _on_continue(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        rest = ctx.previous_unspoken_text.strip()
        if not rest and ctx.previous_interrupted and st.last_answer:
            said = ctx.previous_spoken_text.strip()
            rest = st.last_answer[len(said) :].strip() if st.last_answer.startswith(said) else st.last_answer
        if rest:
            return _Answer(f"As I was saying, {rest[:1].lower() + rest[1:]}", ("neutral", 0.4))
        return _Answer("I had finished. What would you like to know?", ("neutral", 0.4), body="shrug")

    def _on_stop(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        return _Answer("Okay.", ("neutral", 0.3), body="nod")

    def _on_unknown(self, text: str, scene: SceneSummary, ctx: TurnContext, st: _UserState, lp: _Loop) -> _Answer:
        objs = self._find(text, scene) if content_words(text) else []
        if objs:  # a bare object mention ("the red mug?") is a where-is question
            return self._on_where_is(text, scene, ctx, st, lp)
        affect = text_sentiment(text)
        if affect.valence <= -0.25:
            return _Answer("I'm sorry to hear that. Is there anything here I can help you with?", ("concerned", 0.6))
        if affect.valence >= 0.25:
            return _Answer("That's lovely to hear!", ("happy", 0.7), body="nod")
        prefix = "Sorry, I'll stop there. " if ctx.previous_interrupted else ""
        labels = [o.label for o in scene.object_list()][:2]
        hint = (
            f" You could ask me where the {labels[0]} is, or what you're looking at."
            if labels
            else " You could ask me what I see, or tell me your name."
        )
        return _Answer(f"{prefix}I'm not sure what you mean.{hint}", ("thinking", 0.5), body="shrug")


def _common_noun(objs: list[ObjectSummary]) -> str:
    """The shared head noun of the objects' labels ("mug" for red mug + blue mug), else "object"."""
    heads = {(label_words(o.label) or ["object"])[-1] for o in objs}
    return heads.pop() if len(heads) == 1 else "object"


class _Loop:
    """Runs SceneTools coroutines on the event loop from the worker thread, waiting for their result."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 5.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)
