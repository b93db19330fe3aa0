from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sora_sdk.datasets as datasets
from sora_sdk.core.errors import InvalidArgumentError, NotFoundError
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.datasets import (
    RgbdSequence,
    SyntheticRoom,
    detect_format,
    load_synthetic,
    open_dataset,
    read_tum,
    save_synthetic,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, room: SyntheticRoom, orbit_frames: list[CameraFrame]) -> Path:
    return save_synthetic(room, orbit_frames[:6], tmp_path_factory.mktemp("synthetic") / "room0")


def test_round_trip_keeps_room_ground_truth_and_frames(
    saved: Path, room: SyntheticRoom, orbit_frames: list[CameraFrame]
) -> None:
    loaded, seq = load_synthetic(saved)
    for name in ("vertices", "triangles", "triangle_colors", "triangle_elements", "size_m"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(room, name), err_msg=name)
    assert loaded.seed == room.seed and loaded.element_ids == room.element_ids
    for a, b in zip(loaded.objects, room.objects, strict=True):
        assert (a.object_id, a.label, a.class_name, a.color_name, a.color_rgb, a.support_id) == (
            b.object_id, b.label, b.class_name, b.color_name, b.color_rgb, b.support_id,
        )  # fmt: skip
        assert a.pose_world_box == b.pose_world_box
        np.testing.assert_array_equal(a.size_m, b.size_m)
        np.testing.assert_array_equal(a.centroid_world_m, b.centroid_world_m)
    for p, q in zip(loaded.planes, room.planes, strict=True):
        assert (p.plane_id, p.label, p.offset_m) == (q.plane_id, q.label, q.offset_m)
        np.testing.assert_array_equal(p.normal_world, q.normal_world)
        np.testing.assert_array_equal(p.polygon_world_m, q.polygon_world_m)

    assert isinstance(seq, RgbdSequence) and seq.source_format == "synthetic" and len(seq) == 6
    assert seq.intrinsics == orbit_frames[0].intrinsics
    for x, y in zip(seq, orbit_frames[:6], strict=True):
        assert (x.sequence, x.capture_time_s, x.depth_m_per_unit) == (y.sequence, y.capture_time_s, y.depth_m_per_unit)
        assert x.pose_world_camera == y.pose_world_camera
        assert x.color is not None and x.depth is not None and y.color is not None and y.depth is not None
        np.testing.assert_array_equal(x.color, y.color)
        np.testing.assert_array_equal(x.depth, y.depth)


def test_saved_trajectory_is_tum_style(saved: Path, orbit_frames: list[CameraFrame]) -> None:
    rows = np.loadtxt(saved / "groundtruth.txt", comments="#")
    assert rows.shape == (6, 8)
    for row, frame in zip(rows, orbit_frames[:6], strict=True):
        assert frame.pose_world_camera is not None
        assert row[0] == pytest.approx(frame.capture_time_s)
        np.testing.assert_allclose(row[1:4], frame.pose_world_camera.translation, atol=1e-8)
        q = frame.pose_world_camera.quaternion_xyzw
        assert abs(abs(row[4:8] @ q) - 1.0) < 1e-8


def test_open_dataset_detects_each_format(saved: Path, tum_path: Path, redwood_path: Path, tmp_path: Path) -> None:
    assert detect_format(saved) == "synthetic"
    assert detect_format(tum_path) == "tum"
    assert detect_format(redwood_path) == "redwood"
    assert open_dataset(saved).source_format == "synthetic"
    tum = open_dataset(tum_path, frames=slice(0, 2))
    assert tum.source_format == "tum" and len(tum) == 2
    assert [r.depth_path for r in tum.records] == [r.depth_path for r in read_tum(tum_path).records[:2]]
    assert len(open_dataset(redwood_path, "redwood")) == 5
    with pytest.raises(InvalidArgumentError):
        open_dataset(tmp_path)
    with pytest.raises(InvalidArgumentError):
        open_dataset(tum_path, "kitti")
    with pytest.raises(NotFoundError):
        open_dataset(tmp_path / "missing")


def test_public_api_is_frozen() -> None:
    assert sorted(datasets.__all__) == sorted([
        "OBJECT_CLASSES", "OBJECT_COLORS", "PRIMESENSE_INTRINSICS", "TUM_INTRINSICS",
        "FrameRecord", "GroundTruthObject", "GroundTruthPlane", "RecordingReader", "RecordingWriter", "RgbdSequence",
        "SyntheticRoom", "is_recording",
        "associate_timestamps", "detect_format", "generate_room", "load_synthetic", "look_at", "open_dataset",
        "orbit_trajectory", "read_open3d_intrinsics", "read_redwood", "read_redwood_log", "read_synthetic",
        "read_tum", "render", "render_object_masks", "save_synthetic", "synthetic_intrinsics",
    ])  # fmt: skip
    for name in datasets.__all__:
        assert hasattr(datasets, name), name
