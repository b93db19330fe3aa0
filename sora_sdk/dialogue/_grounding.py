"""Reading a SceneSummary the way a conversation needs it: which objects a phrase means, where they are
relative to the user, what they stand on and what is next to them, and what "this" / "that" / "it" is.

Positions are world frame, metres; directions relative to the user come from the head pose in the
summary (forward and up vectors), so "to your left" means the user's left.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.avatar import CueTarget, ObjectSummary, PlaneSummary, SceneSummary
from ._embeddings import Embedder
from ._grammar import label_words, plural

__all__ = [
    "COLOR_WORDS",
    "Referent",
    "direction_phrase",
    "distance_m",
    "find_objects",
    "number_word",
    "object_phrase",
    "label_list",
    "relation_phrases",
    "resolve_deixis",
    "scene_context_text",
    "support_phrase",
    "where_sentence",
    "the",
]

COLOR_WORDS = frozenset(
    "red orange yellow green cyan blue purple pink brown white black gray grey silver gold beige".split()
)
_GENERIC = frozenset("thing things object objects stuff item items one ones something anything".split())
_STOP = frozenset(
    "where what which how far many much is are was were the a an some any of to in on at do does did you your "
    "can could would will please me my i i'm i've there here see find show tell count number away from is "
    "there's where's what's it's put leave left placed place kept keep have has been anywhere room this that "
    "these those it close near next beside by around look looking point pointing at distance between and or "
    "with for".split()
)
_DEIXIS = re.compile(r"\b(this|that|it|there|here|these|those)\b")
_PREDICATES = {
    "on": "on", "under": "under", "inside": "inside", "near": "near", "next_to": "next to",
    "left_of": "to the left of", "right_of": "to the right of", "in_front_of": "in front of", "behind": "behind",
}  # fmt: skip
_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def number_word(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def the(label: str) -> str:
    return f"the {label}"


def _singular(w: str) -> str:
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ves"):
        return w[:-3] + "f"
    if w.endswith(("ses", "xes", "ches", "shes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


@dataclass(frozen=True)
class Referent:
    """What a phrase refers to: an object, a plane, an anchor or a bare point. ``via`` says how it was
    resolved: "label" | "embedding" | "pointing" | "gaze" | "previous"."""

    kind: str
    target_id: str
    label: str
    position_world_m: tuple[float, float, float] | None
    via: str
    obj: ObjectSummary | None = None

    def cue(self) -> CueTarget:
        p = np.asarray(self.position_world_m if self.position_world_m is not None else (0, 0, 0), np.float32)
        return CueTarget(self.kind, self.target_id, self.label, p)


def _obj_ref(o: ObjectSummary, via: str) -> Referent:
    return Referent("object", o.object_id, o.label, o.position_world_m, via, o)


def content_words(phrase: str) -> list[str]:
    """The words of ``phrase`` that can name a thing (stop words and carrier words removed)."""
    return [w for w in re.findall(r"[a-z']+", phrase.lower()) if w not in _STOP]


def find_objects(
    phrase: str,
    scene: SceneSummary,
    embedder: Embedder | None = None,
    *,
    min_score: float = 0.42,
) -> list[ObjectSummary]:
    """Objects that ``phrase`` names ("the red mug", "mugs", "something to drink from", "red things").

    Colour words filter by colour; label words match exactly (plural-insensitive); failing that (and with
    an ``embedder``), labels are ranked by sentence-embedding similarity and every label within 0.08 of the
    best (and ≥ ``min_score``) is taken. Generic nouns ("things") match every object of the colour.
    """
    objects = list(scene.object_list())
    words = content_words(phrase)
    colors = {w for w in words if w in COLOR_WORDS} | ({"gray"} if "grey" in words else set())
    nouns = [_singular(w) for w in words if w not in COLOR_WORDS]
    if colors:
        objects = [o for o in objects if (o.color_name in colors) or (colors & set(label_words(o.label)))]
    specific = [w for w in nouns if w not in _GENERIC]
    if not specific:
        return objects if (colors or nouns) else []

    def lex(o: ObjectSummary) -> float:
        lw = {_singular(w) for w in label_words(o.label)}
        return sum(1.0 for w in specific if w in lw) / len(specific)

    scored = [(lex(o), o) for o in objects]
    best = max((s for s, _ in scored), default=0.0)
    if best > 0:
        return [o for s, o in scored if s == best]
    if embedder is None or not objects:
        return []
    nouns_of = {o.object_id: " ".join(w for w in label_words(o.label) if w not in COLOR_WORDS) or o.label
                for o in objects}  # fmt: skip
    query = " ".join(w for w in re.findall(r"[a-z']+", phrase.lower()) if w not in COLOR_WORDS) or phrase
    ranked = embedder.best_matches(query, list(set(nouns_of.values())), top_k=20)
    if not ranked or ranked[0][1] < min_score:
        return []
    keep = {lab for lab, s in ranked if s >= max(min_score, ranked[0][1] - 0.08)}
    return [o for o in objects if nouns_of[o.object_id] in keep]


def find_planes(phrase: str, scene: SceneSummary) -> list[PlaneSummary]:
    """Planes whose label is one of the phrase's words (floor, wall, table, seat …)."""
    words = {_singular(w) for w in content_words(phrase)}
    return [p for p in scene.plane_list() if p.label in words]


def resolve_deixis(
    text: str, scene: SceneSummary, previous: Referent | None = None, *, prefer: str = ""
) -> Referent | None:
    """What "this" / "that one" / "over there" / "it" means now.

    "it" (and any deixis when nothing is pointed at or looked at) is the previous referent; otherwise the
    pointing target wins while the hand points (or when ``prefer`` == "pointing"), else the gaze target.
    """
    t = text.lower()
    only_it = re.search(r"\bit\b", t) is not None and not re.search(r"\b(this|that|there|here|these|those)\b", t)
    if only_it and previous is not None:
        return previous
    order = ["pointing", "gaze"] if (prefer != "gaze") else ["gaze", "pointing"]
    if prefer == "" and not (scene.gesture in ("point", "pointing", "pointing_up") or scene.pointing_target_id):
        order = ["gaze", "pointing"]
    for src in order:
        kind, tid, label, point = (
            (scene.pointing_target_kind, scene.pointing_target_id, scene.pointing_target_label,
             scene.pointing_point_world_m)
            if src == "pointing"
            else (scene.gaze_target_kind, scene.gaze_target_id, scene.gaze_target_label, scene.gaze_point_world_m)
        )  # fmt: skip
        if not (tid or point is not None):
            continue
        if kind == "object" or (not kind and tid):
            obj = next((o for o in scene.object_list() if o.object_id == tid), None)
            if obj is not None:
                return _obj_ref(obj, src)
        if kind == "plane":
            pl = next((p for p in scene.plane_list() if p.plane_id == tid), None)
            pos = point if point is not None else (pl.center_world_m if pl else None)
            return Referent("plane", tid, label or (pl.label if pl else "surface"), pos, src)
        if kind == "anchor":
            an = next((a for a in scene.anchors if a.anchor_id == tid), None)
            return Referent("anchor", tid, label or (an.label if an else "anchor"),
                            an.position_world_m if an else point, src)  # fmt: skip
        if point is not None:
            return Referent("point", tid, label or "that spot", point, src)
    return previous


def distance_m(position_world_m: Sequence[float] | None, scene: SceneSummary) -> float | None:
    """Straight-line distance from the user's head, metres (None without a head pose)."""
    if position_world_m is None or scene.head_position_world_m is None:
        return None
    return float(np.linalg.norm(np.subtract(position_world_m, scene.head_position_world_m)))


def direction_phrase(position_world_m: Sequence[float], scene: SceneSummary) -> str:
    """ "ahead of you", "to your left", "behind you, to the right" … relative to the head pose ("" without)."""
    if scene.head_position_world_m is None or scene.head_forward_world is None:
        return ""
    up = np.asarray(scene.up_world, float)
    up = up / max(np.linalg.norm(up), 1e-9)
    f = np.asarray(scene.head_forward_world, float)
    f = f - (f @ up) * up
    if np.linalg.norm(f) < 1e-6:
        return ""
    f /= np.linalg.norm(f)
    right = np.cross(f, up)
    d = np.asarray(position_world_m, float) - np.asarray(scene.head_position_world_m, float)
    x, y = float(d @ right), float(d @ f)
    ang = math.degrees(math.atan2(x, y))  # 0 ahead, +90 right
    a = abs(ang)
    side = "right" if ang > 0 else "left"
    if a < 15:
        return "straight ahead of you"
    if a < 45:
        return f"ahead of you, a little to your {side}"
    if a < 135:
        return f"to your {side}"
    if a < 165:
        return f"behind you, to your {side}"
    return "behind you"


def support_phrase(obj: ObjectSummary, scene: SceneSummary) -> str:
    """ "on the table" from the object's support or an "on" relation ("" when unknown; "on a raised
    surface" for a support plane labelled other)."""
    label = obj.support_label
    if not label and obj.support_id:
        label = _label_of(obj.support_id, scene)
    if not label:
        for s, p, o in scene.relations:
            if s == obj.object_id and p == "on":
                label = _label_of(o, scene)
                break
    if label == "other":  # a horizontal plane that is no floor, table or seat: a shelf board, a ledge
        return "on a raised surface"
    return f"on the {label}" if label else ""


def _label_of(target_id: str, scene: SceneSummary) -> str:
    for o in scene.object_list():
        if o.object_id == target_id:
            return o.label
    for p in scene.plane_list():
        if p.plane_id == target_id:
            return p.label
    return ""


def relation_phrases(obj: ObjectSummary, scene: SceneSummary, *, limit: int = 1, near_m: float = 0.6) -> list[str]:
    """ "next to the blue box" … from the summary's relations (except "on"), else the nearest object
    within ``near_m``."""
    out: list[str] = []
    for s, p, o in scene.relations:
        if s == obj.object_id and p != "on" and p in _PREDICATES:
            lab = _label_of(o, scene)
            if lab:
                out.append(f"{_PREDICATES[p]} the {lab}")
        if len(out) >= limit:
            return out
    if out:
        return out
    p0 = np.asarray(obj.position_world_m)
    others = [(float(np.linalg.norm(np.asarray(o.position_world_m) - p0)), o) for o in scene.object_list()
              if o.object_id != obj.object_id]  # fmt: skip
    others.sort(key=lambda x: x[0])
    return [f"next to the {o.label}" for d, o in others[:limit] if d <= near_m]


def distance_phrase(d: float) -> str:
    if d < 1.0:
        return f"about {round(d * 100 / 5) * 5:.0f} centimetres"
    return f"about {d:.1f} metres"


def object_phrase(obj: ObjectSummary, scene: SceneSummary, *, with_distance: bool = True, relations: int = 1) -> str:
    """ "the red mug, on the table, about 1.4 metres away, ahead of you, next to the blue box"."""
    parts = [the(obj.label)]
    sup = support_phrase(obj, scene)
    if sup:
        parts.append(sup)
    if with_distance:
        d = distance_m(obj.position_world_m, scene)
        if d is not None:
            where = direction_phrase(obj.position_world_m, scene)
            parts.append(f"{distance_phrase(d)} away" + (f", {where}" if where else ""))
    parts += relation_phrases(obj, scene, limit=relations)
    return ", ".join(parts)


def where_sentence(obj: ObjectSummary, scene: SceneSummary, *, relations: int = 1) -> str:
    """E.g. "The red mug is on the table, about 2.2 metres away, ahead of you. It's next to the blue box."."""
    bits: list[str] = []
    sup = support_phrase(obj, scene)
    if sup:
        bits.append(sup)
    d = distance_m(obj.position_world_m, scene)
    if d is not None:
        where = direction_phrase(obj.position_world_m, scene)
        bits.append(f"{distance_phrase(d)} away" + (f", {where}" if where else ""))
    rel = relation_phrases(obj, scene, limit=relations) if relations else []
    if not bits:
        bits = rel[:1] or ["here somewhere, but I'm not sure exactly where"]
        rel = rel[1:]
    text = f"The {obj.label} is {', '.join(bits)}."
    if rel:
        text += f" It's {' and '.join(rel)}."
    return text


def scene_context_text(scene: SceneSummary, *, max_objects: int = 25) -> str:
    """A compact plain-text scene description for an LLM prompt (one fact per line, metres)."""
    lines: list[str] = []
    if scene.mesh_chunks:
        lo, hi = scene.extent_min_m, scene.extent_max_m
        lines.append(
            f"Mapped space: {scene.surface_area_m2:.1f} m² of surface, extent "
            + " x ".join(f"{hi[i] - lo[i]:.1f}" for i in range(3))
            + " m."
        )
    if scene.head_position_world_m is not None:
        lines.append("User head at (" + ", ".join(f"{v:.2f}" for v in scene.head_position_world_m) + ") m.")
    planes = scene.plane_list()
    if planes:
        lines.append("Planes: " + "; ".join(f"{p.plane_id} {p.label} {p.area_m2:.1f} m²" for p in planes[:15]))
    for o in scene.object_list()[:max_objects]:
        pos = ", ".join(f"{v:.2f}" for v in o.position_world_m)
        bits = [f"Object {o.object_id}: {o.label} at ({pos})"]
        d = distance_m(o.position_world_m, scene)
        if d is not None:
            bits.append(f"{d:.1f} m from the user, {direction_phrase(o.position_world_m, scene)}")
        sup = support_phrase(o, scene)
        if sup:
            bits.append(sup)
        lines.append(", ".join(bits) + ".")
    for subj, pred, obj in scene.relations[:30]:
        lines.append(f"Relation: {subj} {pred} {obj}.")
    for a in scene.anchors[:10]:
        pos = ", ".join(f"{v:.2f}" for v in a.position_world_m)
        lines.append(f"Anchor {a.anchor_id} '{a.label}' at ({pos}).")
    if scene.gaze_target_id or scene.gaze_target_label or scene.gaze_target:
        lines.append(
            f"User is looking at: {scene.gaze_target_kind or 'surface'} {scene.gaze_target_id} "
            f"'{scene.gaze_target_label or scene.gaze_target}' for {scene.gaze_dwell_s:.1f} s."
        )
    if scene.gesture:
        lines.append(f"User hand gesture: {scene.gesture}.")
    if scene.pointing_target_id or scene.pointing_point_world_m is not None:
        lines.append(f"User is pointing at: {scene.pointing_target_kind} {scene.pointing_target_id} "
                     f"'{scene.pointing_target_label}'.")  # fmt: skip
    for e in scene.recent_events[-10:]:
        lines.append(f"Event at {e.time_s:.0f} s: {e.kind} {e.label or e.subject_id} {e.detail}".rstrip() + ".")
    return "\n".join(lines) if lines else "Nothing has been mapped yet."


def label_list(objects: Sequence[ObjectSummary], *, article: str = "the") -> list[str]:
    """["the green plant", "two chairs", "the shelf"]: identical labels are counted, first-seen order."""
    counts: dict[str, int] = {}
    for o in objects:
        counts[o.label] = counts.get(o.label, 0) + 1
    return [f"{article} {lab}" if n == 1 else f"{number_word(n)} {plural_label(lab, n)}" for lab, n in counts.items()]


def plural_label(label: str, n: int) -> str:
    """ "red mug" → "red mugs" when n != 1."""
    if n == 1:
        return label
    ws = label.split()
    return " ".join([*ws[:-1], plural(ws[-1])]) if ws else label
