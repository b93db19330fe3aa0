"""Open-vocabulary object queries: a text against the objects' labels, with the bundled sentence embedder.

"mug" finds a "cup", "something to drink from" finds mugs, cups and bottles before a ball. The query
is split into colour words (the palette's names, and "grey") and the rest:

- colour words keep only the objects of that colour (``color_name``, or a colour word in the label);
- the rest is compared with each object's label and its detector alternatives (``label_scores``): an
  exact match (case- and plural-insensitive) scores 1, otherwise the cosine of the sentence
  embeddings (all-MiniLM-L6-v2, ``sora_sdk.dialogue._embeddings.Embedder``, loaded from its package,
  nothing downloaded); a query of colour words and generic nouns only ("red things") matches every
  object of the colour with score 1.

An object matches when its score is at least ``text_min_score`` and within ``text_relative_margin`` of
the best object's; results are ranked by score. Label embeddings are cached (the embedder keeps an LRU
of texts; this class keeps the vectors of the labels it has seen, so a query costs one embedding).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sora_sdk.core.scene import SceneObject

from ._colors import PALETTE
from ._options import ObjectOptions

if TYPE_CHECKING:
    from sora_sdk.dialogue._embeddings import Embedder

__all__ = ["ObjectVocabulary"]

_COLOR_WORDS = {**{c: c for c in PALETTE}, "grey": "gray"}
_GENERIC = frozenset(
    "thing things object objects item items stuff one ones something anything "
    "the a an some any that this those these my your its there here please".split()
)
_WORD = re.compile(r"[a-z']+")


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _normal(text: str) -> str:
    return " ".join(_singular(w) for w in _WORD.findall(text.lower()))


class ObjectVocabulary:
    """Ranks objects for a text query (see the module docstring). Thread-safe.

    ``embedder``: a loaded :class:`~sora_sdk.dialogue._embeddings.Embedder`; None loads the process's
    shared one (``default_embedder()``, a few seconds) on the first query that needs it.
    """

    def __init__(self, embedder: Embedder | None = None, options: ObjectOptions | None = None) -> None:
        self.options = options or ObjectOptions()
        self._embedder = embedder
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from sora_sdk.dialogue._embeddings import default_embedder

                self._embedder = default_embedder()
            return self._embedder

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) unit vectors, from the cache where this vocabulary has seen the text."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            vecs = self.embedder.embed(missing)
            with self._lock:
                for t, v in zip(missing, vecs, strict=True):
                    self._vectors[t] = np.asarray(v, dtype=np.float32)
        with self._lock:
            return np.stack([self._vectors[t] for t in texts])

    @property
    def cached_labels(self) -> int:
        """Texts whose embeddings this vocabulary holds."""
        with self._lock:
            return len(self._vectors)

    def scores(self, text: str, labels: Sequence[str]) -> np.ndarray:
        """(n,) similarity of ``text`` to each label: 1 for an exact (case- and plural-insensitive) match,
        else the embeddings' cosine (-1..1)."""
        if not labels:
            return np.zeros(0)
        query = _normal(text)
        exact = np.array([_normal(lab) == query for lab in labels])
        if exact.all():
            return np.ones(len(labels))
        vecs = self._embed([text.strip().lower(), *(lab.lower() for lab in labels)])
        out = (vecs[1:] @ vecs[0]).astype(np.float64)
        out[exact] = 1.0
        return out

    def match(self, text: str, objects: Sequence[SceneObject]) -> list[tuple[SceneObject, float]]:
        """The objects ``text`` names, best first, as (object, score)."""
        words = _WORD.findall(text.lower())
        colors = {_COLOR_WORDS[w] for w in words if w in _COLOR_WORDS}
        rest = [w for w in words if w not in _COLOR_WORDS]
        pool = list(objects)
        if colors:
            pool = [o for o in pool if o.color_name in colors or colors & set(_WORD.findall(o.label.lower()))]
        nouns = [w for w in rest if w not in _GENERIC]
        if not pool:
            return []
        if not nouns:
            return [(o, 1.0) for o in pool] if colors or rest else []
        query = " ".join(rest)
        # Each object's names: its label (less any colour words) and its detectors' alternatives.
        names = [self._names(o) for o in pool]
        flat = [n for ns in names for n in ns]
        s = self.scores(query, flat)
        best_per: list[float] = []
        k = 0
        for ns in names:
            best_per.append(float(s[k : k + len(ns)].max()))
            k += len(ns)
        top = max(best_per)
        floor = max(self.options.text_min_score, top - self.options.text_relative_margin)
        ranked = sorted(
            ((o, sc) for o, sc in zip(pool, best_per, strict=True) if sc >= floor),
            key=lambda t: (-t[1], t[0].object_id),
        )
        return ranked

    @staticmethod
    def _names(o: SceneObject) -> list[str]:
        label = " ".join(w for w in _WORD.findall(o.label.lower()) if w not in _COLOR_WORDS) or o.label.lower()
        return [label, *(k.lower() for k in o.label_scores if k.lower() != label)]
