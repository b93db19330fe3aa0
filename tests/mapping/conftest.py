"""Fixtures for the mapping tests (loaders and helpers live in ``mapping_helpers``)."""

from __future__ import annotations

import pytest
from mapping_helpers import fused, load_redwood, load_tum

from sora_sdk.core import CameraFrame
from sora_sdk.mapping import Mapper


@pytest.fixture(scope="session")
def tum_desk() -> list[CameraFrame]:
    """TUM fr1/desk, 9 frames, ground-truth poses interpolated to the depth timestamps."""
    frames = load_tum()
    assert len(frames) == 9
    return frames


@pytest.fixture(scope="session")
def redwood_room() -> list[CameraFrame]:
    """Redwood / ICL-NUIM living room 1, frames 0-4, ground-truth poses."""
    frames = load_redwood()
    assert len(frames) == 5
    return frames


@pytest.fixture(scope="module")
def tum_mapper(tum_desk: list[CameraFrame]) -> Mapper:
    """All 9 TUM frames fused, mesh up to date. Shared by a module: tests must not change it."""
    return fused(tum_desk)


@pytest.fixture(scope="module")
def redwood_mapper(redwood_room: list[CameraFrame]) -> Mapper:
    """All 5 Redwood frames fused, mesh up to date. Shared by a module: tests must not change it."""
    return fused(redwood_room)
