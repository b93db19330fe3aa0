"""Fixtures for the perception tests: the test images and MediaPipe components, built once per module."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from perception_helpers import DATA


def _rgb(name: str) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(DATA / name))
    assert bgr is not None, f"missing test image {name}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def hands_rgb() -> np.ndarray:
    """tests/data/images/hands.jpg: two hands, (382, 720, 3) uint8 RGB."""
    return _rgb("hands.jpg")


@pytest.fixture(scope="session")
def portrait_rgb() -> np.ndarray:
    """tests/data/images/portrait.jpg: one face, (1024, 820, 3) uint8 RGB."""
    return _rgb("portrait.jpg")


@pytest.fixture(scope="module")
def image_tracker() -> Iterator[object]:
    from sora_sdk.perception import CameraHandTracker, CameraHandTrackerOptions, RunningMode

    with CameraHandTracker.create_from_options(CameraHandTrackerOptions(running_mode=RunningMode.IMAGE)) as t:
        yield t
