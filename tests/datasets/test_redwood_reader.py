from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sora_sdk.core.errors import DataLossError
from sora_sdk.core.geometry import Intrinsics
from sora_sdk.datasets import PRIMESENSE_INTRINSICS, read_open3d_intrinsics, read_redwood


def test_poses_equal_trajectory_log(redwood_path: Path) -> None:
    lines = (redwood_path / "trajectory.log").read_text().split("\n")
    blocks = [lines[i : i + 5] for i in range(0, len(lines) - 4, 5)]
    headers = [[int(v) for v in block[0].split()] for block in blocks]
    matrices = [np.array([[float(v) for v in row.split()] for row in block[1:]]) for block in blocks]
    seq = read_redwood(redwood_path)
    assert len(seq) == len(matrices) == 5
    for k, (record, header, matrix) in enumerate(zip(seq.records, headers, matrices, strict=True)):
        assert int(header[0]) == k == record.sequence
        assert record.pose_world_camera is not None
        np.testing.assert_array_equal(record.pose_world_camera.matrix, matrix)
        assert record.pose_world_camera.is_valid()


def test_images_pair_by_rgbd_match_and_time_is_30_hz(redwood_path: Path) -> None:
    seq = read_redwood(redwood_path)
    assert [r.color_path.name for r in seq.records if r.color_path] == [f"0000{i}.jpg" for i in range(5)]
    assert [r.depth_path.name for r in seq.records if r.depth_path] == [f"0000{i}.png" for i in range(5)]
    np.testing.assert_allclose(seq.timestamps_s, np.arange(5) / 30.0)


def test_depth_is_millimetres_with_plausible_values(redwood_path: Path) -> None:
    seq = read_redwood(redwood_path)
    assert seq.depth_m_per_unit == 0.001
    for frame in seq:
        assert frame.color is not None and frame.color.shape == (480, 640, 3) and frame.color.dtype == np.uint8
        assert frame.depth is not None and frame.depth.dtype == np.uint16
        depth = frame.depth_m()
        valid = depth[depth > 0]
        assert valid.size > 0.8 * depth.size  # the sample is ~87 % valid
        # A living room 2 m in front of the camera: nothing closer than 0.3 m or beyond 6 m.
        assert 0.3 < valid.min() and valid.max() < 6.0
        assert 1.0 < np.median(valid) < 4.0


def test_poses_are_camera_to_world(redwood_path: Path, depth_disagreement) -> None:
    seq = read_redwood(redwood_path)
    a, b = seq[0], seq[4]
    assert a.pose_world_camera is not None and b.pose_world_camera is not None
    moved = depth_disagreement(a, b, a.pose_world_camera.inverse() @ b.pose_world_camera)
    unmoved = depth_disagreement(a, b, b.pose_world_camera.inverse() @ b.pose_world_camera)
    assert moved < 0.01
    assert moved < 0.25 * unmoved


def test_intrinsics_from_json_else_primesense_defaults(redwood_path: Path, tmp_path: Path) -> None:
    assert read_redwood(redwood_path).intrinsics == Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
    copy = tmp_path / "no_json"
    copy.mkdir()
    for name in ("color", "depth"):
        shutil.copytree(redwood_path / name, copy / name)
    assert read_redwood(copy).intrinsics == PRIMESENSE_INTRINSICS
    # Without trajectory.log and rgbd.match: paired by name, no poses.
    seq = read_redwood(copy, frames=slice(1, 3))
    assert [r.sequence for r in seq.records] == [1, 2]
    assert seq.poses_world_camera == [None, None]

    custom = tmp_path / "cam.json"
    # Column-major, as Open3D writes it: fx, 0, 0, 0, fy, 0, cx, cy, 1.
    custom.write_text('{"width": 320, "height": 240, "intrinsic_matrix": [262, 0, 0, 0, 263, 0, 159.5, 119.5, 1]}')
    assert read_open3d_intrinsics(custom) == Intrinsics(320, 240, 262.0, 263.0, 159.5, 119.5)
    assert read_redwood(copy, intrinsics_json=custom).intrinsics.fy_px == 263.0


def test_malformed_trajectory_log_raises_data_loss(redwood_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "broken.log"
    log.write_text("0 0 1\n1 0 0 0\n0 1 0 0\n")
    with pytest.raises(DataLossError):
        read_redwood(redwood_path, trajectory_log=log)
