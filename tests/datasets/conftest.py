"""Shared fixtures for the datasets tests: the checked-in sample folders and one synthetic room."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.datasets import SyntheticRoom, generate_room, orbit_trajectory, render, synthetic_intrinsics

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def tum_path() -> Path:
    return DATA / "tum_fr1_desk_9frames"


@pytest.fixture(scope="session")
def redwood_path() -> Path:
    return DATA / "redwood_livingroom1_5frames"


@pytest.fixture(scope="session")
def room() -> SyntheticRoom:
    return generate_room(0)


@pytest.fixture(scope="session")
def small_intrinsics() -> Intrinsics:
    return synthetic_intrinsics(320, 240)


@pytest.fixture(scope="session")
def orbit(room: SyntheticRoom) -> list[Pose]:
    return orbit_trajectory(room)


@pytest.fixture(scope="session")
def orbit_frames(room: SyntheticRoom, orbit: list[Pose], small_intrinsics: Intrinsics) -> list[CameraFrame]:
    """Every 4th pose of the default loop (30 frames), 320x240, no noise."""
    return render(room, orbit[::4], small_intrinsics)


def depth_disagreement_m(frame_a: CameraFrame, frame_b: CameraFrame, pose_a_b: Pose) -> float:
    """Median |depth_a - z| over frame b's points moved into camera a by ``pose_a_b`` (T_A_B) and
    projected into a's image, where both frames measured depth; metres."""
    k = frame_a.intrinsics
    z_b = frame_b.depth_m()
    v, u = np.nonzero(z_b > 0)
    z = z_b[v, u]
    points_b = np.stack([(u - k.cx_px) / k.fx_px * z, (v - k.cy_px) / k.fy_px * z, z], axis=1)
    points_a = pose_a_b.transform_points(points_b)
    points_a = points_a[points_a[:, 2] > 0.1]
    u_a = np.round(points_a[:, 0] / points_a[:, 2] * k.fx_px + k.cx_px).astype(int)
    v_a = np.round(points_a[:, 1] / points_a[:, 2] * k.fy_px + k.cy_px).astype(int)
    inside = (u_a >= 0) & (u_a < k.width_px) & (v_a >= 0) & (v_a < k.height_px)
    z_a = frame_a.depth_m()[v_a[inside], u_a[inside]]
    measured = z_a > 0
    return float(np.median(np.abs(z_a[measured] - points_a[inside][measured, 2])))


@pytest.fixture(scope="session")
def depth_disagreement():
    return depth_disagreement_m
