"""Server-side pose estimation: frame-to-model RGB-D odometry and tracking loss.

Measured on Redwood (frame 0 at its ground-truth pose, frames 1-4 tracked): position error
1.6, 2.8, 4.0, 5.3 mm, rotation error <= 0.1 deg; TUM fr1/desk (frames 1-8 tracked): 2.8 mm
after one frame, 16.6 mm after eight, <= 1.6 deg. A frame from the other data set scores a
fitness of 0.06-0.12 against the model (good frames: 0.67-0.76).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from mapping_helpers import DEVICE

from sora_sdk.core import CameraFrame, MapperConfig, Pose
from sora_sdk.mapping import Mapper


def without_pose(frame: CameraFrame) -> CameraFrame:
    return dataclasses.replace(frame, pose_world_camera=None)


def pose_error(estimate: Pose, truth: Pose) -> tuple[float, float]:
    """(translation error m, rotation error deg) of estimate against truth."""
    delta = np.linalg.inv(truth.matrix) @ estimate.matrix
    angle = np.degrees(np.arccos(np.clip((np.trace(delta[:3, :3]) - 1) / 2, -1.0, 1.0)))
    return float(np.linalg.norm(delta[:3, 3])), float(angle)


@pytest.fixture(scope="module")
def tracked_redwood(redwood_room: list[CameraFrame]) -> tuple[Mapper, list]:
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=2000))
    results = [mapper.integrate(redwood_room[0])]
    results += [mapper.integrate(without_pose(f)) for f in redwood_room[1:]]
    return mapper, results


def test_odometry_tracks_redwood(tracked_redwood: tuple[Mapper, list], redwood_room: list[CameraFrame]) -> None:
    _, results = tracked_redwood
    assert results[0].pose_source == "client"
    for result, frame in zip(results[1:], redwood_room[1:], strict=True):
        assert result.integrated and not result.tracking_lost
        assert result.pose_source == "odometry"
        assert result.odometry_fitness is not None and result.odometry_fitness > 0.5
        assert frame.pose_world_camera is not None and result.pose_world_camera is not None
        t_err, r_err = pose_error(result.pose_world_camera, frame.pose_world_camera)
        assert t_err < 0.01 and r_err < 0.5


def test_a_frame_from_elsewhere_is_reported_lost_and_not_fused(
    tracked_redwood: tuple[Mapper, list], tum_desk: list[CameraFrame]
) -> None:
    mapper, _ = tracked_redwood
    mapper.update_mesh()
    before = mapper.stats()
    last = mapper.last_pose
    result = mapper.integrate(without_pose(tum_desk[0]))
    assert result.tracking_lost and not result.integrated
    assert result.pose_world_camera is None and result.pose_source == "none"
    assert result.odometry_fitness is not None and result.odometry_fitness < 0.3
    assert len(result.blocks_touched) == 0
    assert mapper.stats() == before and mapper.last_pose is last


def test_a_jump_beyond_the_limit_is_tracking_loss(redwood_room: list[CameraFrame]) -> None:
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=2000, odometry_max_translation_m=0.005))
    mapper.integrate(redwood_room[0])
    result = mapper.integrate(without_pose(redwood_room[2]))  # ~4.8 cm from frame 0
    assert result.tracking_lost and not result.integrated
    assert result.odometry_fitness is not None and result.odometry_fitness > 0.5  # it did match


def test_first_frame_without_pose_defines_the_world(redwood_room: list[CameraFrame]) -> None:
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=2000))
    result = mapper.integrate(without_pose(redwood_room[0]))
    assert result.integrated and result.pose_source == "origin"
    assert result.pose_world_camera == Pose.identity()


def test_mesh_changes_made_for_tracking_still_reach_update_mesh(redwood_room: list[CameraFrame]) -> None:
    """Tracking re-meshes before it ray-casts; those chunk changes must not be lost to callers."""
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=2000))
    mapper.integrate(redwood_room[0])
    assert mapper.integrate(without_pose(redwood_room[1])).pose_source == "odometry"
    update = mapper.update_mesh()
    assert update.upserted and {c.key for c in update.upserted} == set(mapper.chunks)
    assert not update.removed
