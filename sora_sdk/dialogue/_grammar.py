"""A speech grammar built from the live scene's vocabulary: the fast path for the recogniser.

pocketsphinx's general language model recognises little of short scene questions (NOTES.md: "where is
the red cup on the table" → "the goal"); a JSGF grammar of question templates filled with the scene's
object, colour and plane words recognises most of them in tens of milliseconds. The same templates are
compiled into a Python regex over words so the recogniser can tell a complete grammar sentence from a
partial path (pocketsphinx returns its best partial hypothesis when no final state was reached), and into a
second regex that tells whether a longer sentence starts with a given one ("how far is the green plant" →
"… from the red mug"): the end of turn uses it to wait when the user may not be done.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from ..core.avatar import SceneSummary

__all__ = ["SceneGrammar", "label_words", "plural"]

_COLORS = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "white", "black",
           "gray", "grey")  # fmt: skip

# Templates in JSGF expansion syntax. <thing>, <things>, <place>, <name> are filled from the scene.
_RULES: dict[str, list[str]] = {
    "det": ["the", "a", "an", "this", "that", "my"],
    "deixis": ["this", "that", "this one", "that one", "it", "there", "over there"],
    "thing": ["[<det>] [<color>] <noun>", "<deixis>"],
    "things": ["[the] [<color>] <nouns>"],
    "place": ["[the] <noun>"],
    "question": [
        "where is <thing>", "where are <things>", "where did i put <thing>",
        "how far is <thing> [from (me | <thing>)]", "how far away is <thing>",
        "how many <nouns> are there [on <place>]", "how many <nouns> do you see", "how many things are there",
        "what am i looking at", "what am i pointing at", "what is (this | that)", "what is this thing",
        "what do you see", "what can you see", "describe the room", "describe what you see",
        "what is on <place>", "what is (near | next to) <thing>", "what changed", "what is new",
        "is there <thing>", "do you see <thing>", "what color is <thing>",
    ],
    "command": [
        "put an anchor (there | here | on <thing>)", "place an anchor (there | here)", "mark this spot",
        "show me <thing>", "find <thing>", "look at <thing>", "stop", "continue", "go on",
    ],
    "social": [
        "hello", "hi", "hey", "good morning", "good evening", "how are you", "who are you",
        "what is your name", "thank you", "thanks", "goodbye", "bye",
    ],
    "memory": [
        "what is my name", "what do i like", "what do you know about me", "forget me", "forget what i told you",
        "i like <nouns>", "i like <thing>",
    ],
}  # fmt: skip
_MEMORY_WITH_NAME = ["my name is <name>", "call me <name>"]
# Stands for "one more word" in the prefix regex (a character no word of the grammar contains).
_MORE = "\x00 "
_TOP = ["question", "command", "social", "memory"]


def label_words(label: str) -> list[str]:
    """Lower-case words of a label ("tv_monitor" → ["tv", "monitor"])."""
    return [w for w in re.split(r"[^a-z']+", label.lower()) if w]


def plural(noun: str) -> str:
    """English plural of a simple noun (box → boxes, shelf → shelves, berry → berries)."""
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and len(noun) > 1 and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith("f") and not noun.endswith("ff"):
        return noun[:-1] + "ves"
    return noun + "s"


@dataclass(frozen=True)
class SceneGrammar:
    """A JSGF grammar (``jsgf``) and the equivalent word regex (``pattern``), plus every word it uses."""

    jsgf: str
    pattern: re.Pattern[str]
    words: frozenset[str]
    # the source of the prefix regex behind continues(), compiled on first use (as long again to compile
    # as ``pattern``, and only the grammar the recogniser decodes with needs it)
    _prefixes: str = field(default="", repr=False, compare=False)

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a complete sentence of the grammar (case and punctuation ignored)."""
        words = label_words(text)
        return bool(words) and self.pattern.fullmatch(" ".join(words) + " ") is not None

    def continues(self, text: str) -> bool:
        """Whether a longer sentence of the grammar starts with ``text`` ("how far is the green plant" can
        go on with "from me"; "where is the red mug" cannot). Also true of a partial path ("where is the")."""
        if not self._prefixes:
            return False
        words = label_words(text)
        return self._prefix_pattern.fullmatch(" ".join(words) + (" " if words else "") + _MORE) is not None

    @cached_property
    def _prefix_pattern(self) -> re.Pattern[str]:
        return re.compile(self._prefixes)

    @classmethod
    def from_scene(
        cls,
        scene: SceneSummary | None,
        *,
        names: Iterable[str] = (),
        extra_nouns: Iterable[str] = (),
        extra_phrases: Iterable[str] = (),
        known_words: Iterable[str] | None = None,
    ) -> SceneGrammar:
        """Fills the templates with the scene's object labels (whole and head noun), colours and planes.

        names: people's names to accept in "my name is …" (e.g. from memory). extra_phrases: whole
        sentences to accept verbatim. known_words: when given, words outside it (not in the recogniser's
        dictionary) are dropped, and phrases made only of such words disappear.
        """
        nouns: set[str] = set()
        colors: set[str] = set()
        if scene is not None:
            labels = [o.label for o in scene.object_list()] + [p.label for p in scene.plane_list()]
            labels += [a.label for a in scene.anchors if a.label]
            for label in labels:
                ws = [w for w in label_words(label) if w not in ("other", "unknown")]
                colors.update(w for w in ws if w in _COLORS)
                rest = [w for w in ws if w not in _COLORS]
                if rest:
                    nouns.add(" ".join(rest))
                    nouns.add(rest[-1])
        nouns.update(w for n in extra_nouns for w in [" ".join(label_words(n))] if w)
        nouns.update(["table", "floor", "wall", "room", "thing"])
        colors.update(_COLORS[:12])
        known = set(known_words) if known_words is not None else None

        def ok(phrase: str) -> bool:
            return known is None or all(w in known for w in phrase.split())

        rules = {k: list(v) for k, v in _RULES.items()}
        name_list = sorted({" ".join(label_words(n)) for n in names if label_words(n)})
        name_list = [n for n in name_list if ok(n)]
        if name_list:
            rules["memory"] += _MEMORY_WITH_NAME
            rules["name"] = name_list
        rules["noun"] = sorted(n for n in nouns if ok(n))
        rules["nouns"] = sorted({" ".join([*n.split()[:-1], plural(n.split()[-1])]) for n in rules["noun"]})
        rules["nouns"] = [n for n in rules["nouns"] if ok(n)]
        rules["color"] = sorted(c for c in colors if ok(c))
        extra = [" ".join(label_words(p)) for p in extra_phrases]
        rules["extra"] = [p for p in extra if p and ok(p)]
        top = _TOP + (["extra"] if rules["extra"] else [])
        if known is not None:  # drop template words the dictionary lacks (none of ours should be)
            for k in ("question", "command", "social", "memory"):
                rules[k] = [a for a in rules[k] if ok(re.sub(r"<\w+>|[\[\]()|]", " ", a))]
        rules = {k: v for k, v in rules.items() if v}
        top = [t for t in top if t in rules]

        lines = ["#JSGF V1.0;", "grammar sora;", "public <utterance> = " + " | ".join(f"<{t}>" for t in top) + ";"]
        lines += [f"<{k}> = " + " | ".join(v) + ";" for k, v in rules.items()]
        jsgf = "\n".join(lines) + "\n"
        top_expansion = "|".join(f"<{t}>" for t in top)
        pattern = re.compile(_to_regex(top_expansion, rules))
        words = frozenset(w for alts in rules.values() for a in alts for w in re.findall(r"[a-z']+", a))
        return cls(jsgf, pattern, words, _to_regex(top_expansion, rules, prefix=True))


def _to_regex(expansion: str, rules: dict[str, list[str]], depth: int = 0, *, prefix: bool = False) -> str:
    """JSGF expansion → regex over words, each word followed by one space.

    prefix: the regex instead matches a sentence's first words followed by ``_MORE`` (there is at least one
    more word): each word may also be ``_MORE`` at the end of the string, or nothing there (\\Z matches only
    at the end, so the words it stands for can only be the ones after the text).
    """
    if depth > 8:
        raise ValueError("grammar nests too deeply")
    out: list[str] = []
    for tok in re.findall(r"<\w+>|[\[\]()|]|[a-z']+", expansion):
        if tok.startswith("<"):
            alts = rules.get(tok[1:-1], [])
            out.append(
                "(?:" + "|".join(_to_regex(a, rules, depth + 1, prefix=prefix) for a in alts) + ")" if alts else "(?!)"
            )
        elif tok == "[":
            out.append("(?:")
        elif tok == "]":
            out.append(")?")
        elif tok == "(":
            out.append("(?:")
        elif tok == ")":
            out.append(")")
        elif tok == "|":
            out.append("|")
        elif prefix:
            out.append("(?:" + re.escape(tok) + " |" + re.escape(_MORE) + r"\Z|\Z)")
        else:
            out.append(re.escape(tok) + " ")
    return "(?:" + "".join(out) + ")"
