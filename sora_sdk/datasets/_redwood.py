"""Redwood / Augmented ICL-NUIM style RGB-D folders (the layout Open3D's samples use).

A folder holds ``color/*.jpg|png`` and ``depth/*.png`` (uint16 millimetres, registered to colour),
optionally ``rgbd.match`` (``depth/x.png color/x.jpg`` per line) and ``trajectory.log`` (Redwood
``.log``: a ``i j n`` line, then four rows of the 4x4 T_W_C of frame ``i``, OpenCV camera, metres).
Intrinsics are an Open3D ``PinholeCameraIntrinsic`` JSON (``intrinsic_matrix`` column-major).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sora_sdk.core.errors import DataLossError, NotFoundError
from sora_sdk.core.geometry import Intrinsics, Pose

from ._sequence import FrameRecord, RgbdSequence

__all__ = [
    "REDWOOD_DEPTH_M_PER_UNIT",
    "REDWOOD_FRAME_RATE_HZ",
    "PRIMESENSE_INTRINSICS",
    "read_open3d_intrinsics",
    "read_redwood",
    "read_redwood_log",
]

REDWOOD_DEPTH_M_PER_UNIT = 0.001
#: Redwood folders carry no timestamps; frames are taken as 30 Hz (the sensors' rate).
REDWOOD_FRAME_RATE_HZ = 30.0
#: Open3D's ``PinholeCameraIntrinsicParameters.PrimeSenseDefault``.
PRIMESENSE_INTRINSICS = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)

_INTRINSICS_NAMES = ("camera_primesense.json", "camera_intrinsic.json", "intrinsic.json", "intrinsics.json")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def read_redwood(
    path: str | Path,
    *,
    frames: slice | None = None,
    intrinsics_json: str | Path | None = None,
    trajectory_log: str | Path | None = None,
) -> RgbdSequence:
    """Read a Redwood-style RGB-D folder.

    Colour and depth are paired by ``rgbd.match`` when present, else by sorted file name.
    Frame ``i`` gets the pose of the ``trajectory.log`` block whose header starts with ``i``
    (or ``trajectory_log`` when given), None when the log is absent or has no such block, and
    ``capture_time_s = i / 30``. Intrinsics come from ``intrinsics_json``, else from a camera
    JSON in the folder (``camera_primesense.json``…), else PrimeSense defaults (525, 525, 319.5,
    239.5) at 640x480.
    """
    root = Path(path)
    if not root.is_dir():
        raise NotFoundError(f"Redwood folder {root} not found")
    pairs = _pair_images(root)

    log_path = Path(trajectory_log) if trajectory_log is not None else root / "trajectory.log"
    poses: dict[int, Pose] = {}
    if log_path.is_file():
        poses = dict(read_redwood_log(log_path))
    elif trajectory_log is not None:
        raise NotFoundError(f"trajectory log {log_path} not found")

    if intrinsics_json is not None:
        intrinsics = read_open3d_intrinsics(intrinsics_json)
    else:
        found = [root / n for n in _INTRINSICS_NAMES if (root / n).is_file()]
        intrinsics = read_open3d_intrinsics(found[0]) if found else PRIMESENSE_INTRINSICS

    records = tuple(
        FrameRecord(
            sequence=i,
            capture_time_s=i / REDWOOD_FRAME_RATE_HZ,
            pose_world_camera=poses.get(i),
            color_path=color,
            depth_path=depth,
        )
        for i, (color, depth) in enumerate(pairs)
    )
    if frames is not None:
        records = records[frames]
    return RgbdSequence(
        name=root.name,
        source_format="redwood",
        root=root,
        intrinsics=intrinsics,
        depth_m_per_unit=REDWOOD_DEPTH_M_PER_UNIT,
        records=records,
    )


def read_redwood_log(path: str | Path) -> list[tuple[int, Pose]]:
    """A Redwood ``.log`` -> [(frame index from each block's header, 4x4 pose)], in file order."""
    path = Path(path)
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if len(rows) % 5:
        raise DataLossError(f"{path}: {len(rows)} lines is not a whole number of 5-line blocks")
    out: list[tuple[int, Pose]] = []
    for b in range(0, len(rows), 5):
        header, body = rows[b], rows[b + 1 : b + 5]
        try:
            index = int(header[0])
            matrix = np.array([[float(v) for v in row] for row in body], dtype=np.float64)
        except (ValueError, IndexError) as e:
            raise DataLossError(f"{path}:{b + 1}: malformed block") from e
        if matrix.shape != (4, 4):
            raise DataLossError(f"{path}:{b + 2}: expected 4 rows of 4 numbers")
        out.append((index, Pose(matrix)))
    return out


def read_open3d_intrinsics(path: str | Path) -> Intrinsics:
    """An Open3D ``PinholeCameraIntrinsic`` JSON (width, height, column-major intrinsic_matrix)."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"intrinsics file {path} not found")
    try:
        data = json.loads(path.read_text())
        k = np.asarray(data["intrinsic_matrix"], dtype=np.float64).reshape(3, 3).T
        return Intrinsics(int(data["width"]), int(data["height"]), k[0, 0], k[1, 1], k[0, 2], k[1, 2])
    except (ValueError, KeyError, TypeError) as e:
        raise DataLossError(f"{path}: not an Open3D camera intrinsic JSON ({e})") from e


def _pair_images(root: Path) -> list[tuple[Path, Path]]:
    match = root / "rgbd.match"
    if match.is_file():
        pairs = []
        for line in match.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2:
                pairs.append((root / fields[1], root / fields[0]))
        return pairs
    colors = _images(root / "color")
    depths = _images(root / "depth")
    if len(colors) != len(depths):
        raise DataLossError(f"{root}: {len(colors)} colour images but {len(depths)} depth images")
    return list(zip(colors, depths, strict=True))


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise NotFoundError(f"image folder {folder} not found")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
