"""The bundled all-MiniLM-L6-v2 embeddings: offline, cached, thread-safe, open-vocabulary matching."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sora_sdk.dialogue import Embedder, cosine_similarity

LABELS = ["cup", "plant", "chair", "table", "lamp", "book", "laptop", "bottle", "shoe", "mug", "pillow"]


def test_embeddings_are_unit_vectors_of_the_model_dimension(embedder: Embedder) -> None:
    v = embedder.embed(["where is the cup", "hello"])
    assert v.shape == (2, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert embedder.embed("hello").shape == (384,)


def test_mug_finds_cup_above_unrelated_labels(embedder: Embedder) -> None:
    ranked = embedder.best_matches("mug", [lab for lab in LABELS if lab != "mug"], top_k=3)
    assert ranked[0][0] == "cup"
    scores = dict(embedder.best_matches("mug", LABELS, top_k=len(LABELS)))
    assert scores["cup"] > max(scores[x] for x in ("plant", "chair", "shoe", "pillow", "laptop")) + 0.15


def test_a_description_finds_the_drinking_vessels(embedder: Embedder) -> None:
    top = [lab for lab, _s in embedder.best_matches("something to drink from", LABELS, top_k=3)]
    assert set(top) == {"cup", "mug", "bottle"}
    assert embedder.best_matches("somewhere to sit", LABELS, top_k=1)[0][0] == "chair"


def test_exact_label_scores_one_and_min_score_filters(embedder: Embedder) -> None:
    assert embedder.best_matches("Lamp", LABELS, top_k=1) == [("lamp", 1.0)]
    assert embedder.best_matches("quantum chromodynamics", LABELS, min_score=0.5) == []


def test_cache_returns_identical_vectors_and_threads_agree(embedder: Embedder) -> None:
    texts = [f"where did I leave object number {i}" for i in range(12)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(embedder.embed, texts))
    serial = embedder.embed(texts)
    assert np.allclose(np.stack(parallel), serial, atol=1e-5)
    a = embedder.embed("the same text")
    assert embedder.embed("the same text") is not None and np.array_equal(a, embedder.embed("the same text"))
    assert cosine_similarity(serial[0], serial).shape == (12,)
