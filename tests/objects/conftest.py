"""Fixtures for the object-layer tests: fused runs shared by the session (loaders live in ``objects_helpers``).

Fusion dominates the cost, so each run is made once: tests must not change the mappers they are given.
"""

from __future__ import annotations

import pytest
from objects_helpers import Run, run_synthetic


@pytest.fixture(scope="session")
def synthetic_run() -> Run:
    """Room 0: 40 frames of its camera loop, then 60 frames of the room with two objects removed and two
    moved (320 x 240, 5 mm depth noise), mesh / planes / objects updated every 5 frames, detections from
    ground-truth masks (class names as labels)."""
    return run_synthetic(0, before=40, after=60, every=5, detections=True)


@pytest.fixture(scope="session")
def static_run() -> Run:
    """Room 1: 40 frames of its camera loop, no change, no detector (objects are described, not named)."""
    return run_synthetic(1, before=40, after=0, every=8)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from sora_sdk.dialogue._embeddings import default_embedder

    return default_embedder()
