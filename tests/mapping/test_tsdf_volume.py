"""TsdfVolume: frame preparation, voxel layout, device choice."""

from __future__ import annotations

import dataclasses

import numpy as np
import open3d.core as o3c
import pytest
from mapping_helpers import DEVICE

from sora_sdk.core import CameraFrame, FailedPreconditionError, Intrinsics, InvalidArgumentError, MapperConfig, Pose
from sora_sdk.mapping import TsdfVolume, resolve_device

CONFIG = MapperConfig(device=DEVICE, block_budget=2000)


def gt(frame: CameraFrame) -> Pose:
    assert frame.pose_world_camera is not None
    return frame.pose_world_camera


def wall_frame(distance_m: float, pose: Pose | None = None) -> CameraFrame:
    """A fronto-parallel wall ``distance_m`` in front of the camera (float32 metres)."""
    intr = Intrinsics(160, 120, 130.0, 130.0, 79.5, 59.5)
    depth = np.full((120, 160), distance_m, dtype=np.float32)
    return CameraFrame(0, 0.0, intr, pose or Pose.identity(), None, depth)


def test_voxel_arrays_are_indexed_x_y_z_in_world_metres() -> None:
    """A wall at z = 1 m seen from the origin: the TSDF must vary along the third array axis
    only, as (1 m - z) / truncation with voxel (i, j, k) at (i, j, k) * voxel_size."""
    vol = TsdfVolume(CONFIG)
    keys = vol.integrate(wall_frame(1.0), Pose.identity())
    assert len(keys) > 0
    v = vol.block_voxels(keys)
    r, vs = vol.block_resolution, vol.voxel_size_m
    z_m = (keys[:, 2, None, None, None] * r + np.arange(r)[None, None, None, :]) * vs
    expected = np.clip((1.0 - z_m) / CONFIG.sdf_trunc_m, -1.0, 1.0) * np.ones((1, r, r, 1))
    seen = v.weight > 0
    assert seen.sum() > 1000
    np.testing.assert_allclose(v.tsdf[seen], expected[seen], atol=1e-4)


def test_float_metres_and_uint16_depth_give_the_same_volume(tum_desk: list[CameraFrame]) -> None:
    frame = tum_desk[0]
    metres = dataclasses.replace(frame, depth=frame.depth_m())
    a, b = TsdfVolume(CONFIG), TsdfVolume(CONFIG)
    ka = a.integrate(frame, gt(frame))
    kb = b.integrate(metres, gt(frame))
    assert {tuple(k) for k in ka} == {tuple(k) for k in kb}
    va, vb = a.block_voxels(ka), b.block_voxels(ka)
    np.testing.assert_array_equal(va.weight, vb.weight)
    np.testing.assert_allclose(va.tsdf, vb.tsdf, atol=1e-4)
    np.testing.assert_allclose(va.color, vb.color, atol=1e-3)


def test_depth_outside_the_configured_range_is_ignored() -> None:
    vol = TsdfVolume(CONFIG)
    assert len(vol.integrate(wall_frame(0.05), Pose.identity())) == 0  # nearer than depth_min_m
    assert len(vol.integrate(wall_frame(6.0), Pose.identity())) == 0  # farther than depth_max_m
    assert vol.block_count == 0


def test_frame_without_colour_is_fused_grey(tum_desk: list[CameraFrame]) -> None:
    frame = dataclasses.replace(tum_desk[0], color=None)
    vol = TsdfVolume(CONFIG)
    v = vol.block_voxels(vol.integrate(frame, gt(frame)))
    seen = v.weight > 0
    np.testing.assert_array_equal(v.color[seen], 128.0)


def test_frame_without_depth_is_rejected(tum_desk: list[CameraFrame]) -> None:
    frame = dataclasses.replace(tum_desk[0], depth=None)
    with pytest.raises(InvalidArgumentError):
        TsdfVolume(CONFIG).integrate(frame, gt(frame))


def test_unallocated_blocks_read_as_unobserved(tum_desk: list[CameraFrame]) -> None:
    vol = TsdfVolume(CONFIG)
    keys = vol.integrate(tum_desk[0], gt(tum_desk[0]))
    probe = np.concatenate([keys[:2], [[1000, 1000, 1000]]])
    v = vol.block_voxels(probe)
    assert v.found.tolist() == [True, True, False]
    assert v.weight[2].max() == 0 and v.weight[:2].max() > 0


def test_device_resolution() -> None:
    assert resolve_device("cpu") == o3c.Device("CPU:0")
    expected = "CUDA:0" if o3c.cuda.is_available() else "CPU:0"
    assert str(resolve_device("auto")) == expected
    with pytest.raises(InvalidArgumentError):
        resolve_device("tpu")
    if not o3c.cuda.is_available():
        with pytest.raises(FailedPreconditionError):
            resolve_device("cuda:0")
