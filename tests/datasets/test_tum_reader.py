from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sora_sdk.core.errors import NotFoundError
from sora_sdk.core.geometry import Intrinsics
from sora_sdk.datasets import TUM_INTRINSICS, RgbdSequence, associate_timestamps, read_tum
from sora_sdk.datasets._tum import _read_list


def _associate_txt(tum_path: Path) -> list[list[str]]:
    return [line.split() for line in (tum_path / "associate.txt").read_text().splitlines() if line.strip()]


def test_association_reproduces_the_first_nine_rows_of_associate_txt(tum_path: Path) -> None:
    seq = read_tum(tum_path)
    expected = _associate_txt(tum_path)[:9]
    assert len(seq) == 9
    for record, (t_rgb, rgb, t_depth, depth) in zip(seq.records, expected, strict=True):
        assert record.color_path == tum_path / rgb
        assert record.depth_path == tum_path / depth
        assert record.capture_time_s == float(t_depth)
        assert record.color_path.stem == t_rgb


def test_association_of_the_full_lists_equals_associate_txt(tum_path: Path) -> None:
    rgb_t, rgb_files = _read_list(tum_path / "rgb.txt")
    depth_t, depth_files = _read_list(tum_path / "depth.txt")
    pairs = associate_timestamps(rgb_t, depth_t, max_time_diff_s=0.02)
    expected = [(row[1], row[3]) for row in _associate_txt(tum_path)]
    assert [(rgb_files[i], depth_files[j]) for i, j in pairs] == expected


def test_association_is_greedy_closest_first_and_strict() -> None:
    # 0.100 is closest to 0.101 (0.001), so 0.095 cannot have it and takes nothing within 0.02;
    # 0.300 and 0.320 are exactly 0.02 apart: not a match.
    first = [0.095, 0.100, 0.300]
    second = [0.101, 0.320]
    assert associate_timestamps(first, second, max_time_diff_s=0.02) == [(1, 0)]
    assert associate_timestamps(first, second, max_time_diff_s=0.0201) == [(1, 0), (2, 1)]
    # An offset is added to the second list, as in associate.py.
    assert associate_timestamps([1.0], [0.5], offset_s=0.5) == [(0, 0)]


def _groundtruth(tum_path: Path) -> np.ndarray:
    return np.loadtxt(tum_path / "groundtruth.txt", comments="#")


def test_poses_are_groundtruth_interpolated_to_depth_timestamps(tum_path: Path) -> None:
    gt = _groundtruth(tum_path)
    seq = read_tum(tum_path)
    for record in seq.records:
        pose = record.pose_world_camera
        assert pose is not None and pose.is_valid()
        t = record.capture_time_s
        i1 = int(np.searchsorted(gt[:, 0], t, side="right"))
        before, after = gt[i1 - 1], gt[i1]
        assert before[0] <= t < after[0]
        alpha = (t - before[0]) / (after[0] - before[0])
        # Translation: linear between the neighbours, hence inside their bounding box.
        np.testing.assert_allclose(pose.translation, (1 - alpha) * before[1:4] + alpha * after[1:4], atol=1e-9)
        lo, hi = np.minimum(before[1:4], after[1:4]), np.maximum(before[1:4], after[1:4])
        assert np.all(pose.translation >= lo - 1e-9) and np.all(pose.translation <= hi + 1e-9)
        # Rotation: on the shortest arc between the neighbours, at fraction alpha.
        r0, r1 = Rotation.from_quat(before[4:8]), Rotation.from_quat(after[4:8])
        r = Rotation.from_matrix(pose.rotation)
        span = (r0.inv() * r1).magnitude()
        assert (r0.inv() * r).magnitude() == pytest.approx(alpha * span, abs=1e-7)
        assert (r.inv() * r1).magnitude() == pytest.approx((1 - alpha) * span, abs=1e-7)


def test_poses_are_camera_to_world(tum_path: Path, depth_disagreement) -> None:
    # Frame 8's depth, moved into frame 0's camera with the ground truth, matches frame 0's depth
    # far better than without moving it; with world-to-camera poses it would not.
    seq = read_tum(tum_path)
    a, b = seq[0], seq[8]
    assert a.pose_world_camera is not None and b.pose_world_camera is not None
    moved = depth_disagreement(a, b, a.pose_world_camera.inverse() @ b.pose_world_camera)
    unmoved = depth_disagreement(a, b, b.pose_world_camera.inverse() @ b.pose_world_camera)
    assert moved < 0.02
    assert moved < 0.25 * unmoved


def test_frames_have_plausible_depth_and_colour(tum_path: Path) -> None:
    seq = read_tum(tum_path)
    assert seq.depth_m_per_unit == pytest.approx(1 / 5000)
    assert seq.intrinsics == TUM_INTRINSICS["fr1"]
    for k, frame in enumerate(seq):
        assert frame.sequence == k
        assert frame.color is not None and frame.color.shape == (480, 640, 3) and frame.color.dtype == np.uint8
        assert frame.depth is not None and frame.depth.shape == (480, 640) and frame.depth.dtype == np.uint16
        depth = frame.depth_m()
        valid = depth[depth > 0]
        assert valid.size > 0.5 * depth.size
        # A desk seen from a hand-held Kinect: everything between 0.3 m and 6 m, most of it within 3 m.
        assert 0.3 < valid.min() and valid.max() < 6.0
        assert 0.5 < np.median(valid) < 3.0


def test_frames_selects_and_slicing_is_lazy(tum_path: Path) -> None:
    seq = read_tum(tum_path, frames=slice(2, 8, 2))
    full = read_tum(tum_path)
    assert [r.depth_path for r in seq.records] == [r.depth_path for r in full.records[2:8:2]]
    assert [f.sequence for f in seq] == [2, 4, 6]
    tail = full[6:]
    assert isinstance(tail, RgbdSequence) and len(tail) == 3
    np.testing.assert_array_equal(tail.timestamps_s, full.timestamps_s[6:])
    assert len(full.frames) == 9


def _tum_copy(src: Path, dst: Path, *, groundtruth_lines: int | None = None) -> Path:
    dst.mkdir()
    for name in ("rgb.txt", "depth.txt"):
        shutil.copy(src / name, dst / name)
    for name in ("rgb", "depth"):
        (dst / name).symlink_to(src / name)
    lines = (src / "groundtruth.txt").read_text().splitlines()
    if groundtruth_lines is not None:
        lines = lines[:groundtruth_lines]
    (dst / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return dst


@pytest.mark.parametrize(("folder", "camera"), [("rgbd_dataset_freiburg2_xyz", "fr2"), ("fr3_office", "fr3"),
                                                ("my_recording", "fr1")])  # fmt: skip
def test_intrinsics_follow_the_folder_name(tum_path: Path, tmp_path: Path, folder: str, camera: str) -> None:
    copy = _tum_copy(tum_path, tmp_path / folder)
    # The rgb.txt header names freiburg1; strip it so only the folder name speaks.
    rgb = copy / "rgb.txt"
    rgb.write_text("\n".join(line for line in rgb.read_text().splitlines() if not line.startswith("#")))
    assert read_tum(copy).intrinsics == TUM_INTRINSICS[camera]
    custom = Intrinsics(640, 480, 500.0, 500.0, 320.0, 240.0)
    assert read_tum(copy, intrinsics=custom).intrinsics == custom


def test_frames_without_groundtruth_nearby_get_no_pose(tum_path: Path, tmp_path: Path) -> None:
    gt = _groundtruth(tum_path)
    seq = read_tum(tum_path)
    # Keep the ground truth up to just after the 5th frame's depth timestamp.
    cut = int(np.searchsorted(gt[:, 0], seq.records[4].capture_time_s, side="right")) + 1
    copy = _tum_copy(tum_path, tmp_path / "fr1_cut", groundtruth_lines=3 + cut)
    poses = read_tum(copy).poses_world_camera
    assert all(p is not None for p in poses[:5])
    assert all(p is None for p in poses[6:])
    (copy / "groundtruth.txt").unlink()
    assert read_tum(copy).poses_world_camera == [None] * 9


def test_missing_folder_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        read_tum(tmp_path / "nope")
