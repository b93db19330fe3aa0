"""Shared fixtures for the dialogue tests: one constructed scene, and models loaded once per session."""

from __future__ import annotations

import pytest
from dialogue_helpers import living_room

from sora_sdk.core.avatar import SceneSummary


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from sora_sdk.dialogue import default_embedder

    return default_embedder()


@pytest.fixture(scope="session")
def tts():  # type: ignore[no-untyped-def]
    from sora_sdk.dialogue import EspeakTts

    return EspeakTts()


@pytest.fixture(scope="session")
def scene() -> SceneSummary:
    return living_room()
