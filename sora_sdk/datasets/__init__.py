"""Datasets: readers for recorded RGB-D sequences and a synthetic room with exact ground truth.

Every reader returns an :class:`RgbdSequence` that decodes :class:`~sora_sdk.core.CameraFrame`
objects lazily; poses are T_W_C in the OpenCV camera convention, depth is uint16 with the
dataset's ``depth_m_per_unit``.

- ``read_tum`` — TUM RGB-D folders (rgb.txt, depth.txt, groundtruth.txt)
- ``read_redwood`` — Redwood / Open3D sample folders (color/, depth/, trajectory.log)
- ``generate_room`` / ``orbit_trajectory`` / ``render`` — a furnished synthetic room, a camera
  loop through it and its RGB-D frames; ``save_synthetic`` / ``load_synthetic`` put them on disk
- ``RecordingWriter`` / ``RecordingReader`` — Sora recordings: every sensor message of a stream, bit-exact
- ``open_dataset`` — any of the three, recognised from the folder's contents
"""

from __future__ import annotations

from pathlib import Path

from sora_sdk.core.errors import InvalidArgumentError, NotFoundError

from ._ground_truth import GroundTruthObject, GroundTruthPlane, SyntheticRoom
from ._recording import RecordingReader, RecordingWriter, is_recording
from ._redwood import PRIMESENSE_INTRINSICS, read_open3d_intrinsics, read_redwood, read_redwood_log
from ._sequence import FrameRecord, RgbdSequence
from ._synthetic import OBJECT_CLASSES, OBJECT_COLORS, generate_room
from ._synthetic_io import load_synthetic, read_synthetic, save_synthetic
from ._synthetic_render import (
    look_at,
    orbit_trajectory,
    render,
    render_object_masks,
    synthetic_intrinsics,
)
from ._tum import TUM_INTRINSICS, associate_timestamps, read_tum

__all__ = [
    "OBJECT_CLASSES",
    "OBJECT_COLORS",
    "PRIMESENSE_INTRINSICS",
    "TUM_INTRINSICS",
    "FrameRecord",
    "GroundTruthObject",
    "GroundTruthPlane",
    "RecordingReader",
    "RecordingWriter",
    "RgbdSequence",
    "SyntheticRoom",
    "associate_timestamps",
    "detect_format",
    "generate_room",
    "is_recording",
    "load_synthetic",
    "look_at",
    "open_dataset",
    "orbit_trajectory",
    "read_open3d_intrinsics",
    "read_redwood",
    "read_redwood_log",
    "read_synthetic",
    "read_tum",
    "render",
    "render_object_masks",
    "save_synthetic",
    "synthetic_intrinsics",
]

_FORMATS = ("synthetic", "tum", "redwood")


def detect_format(path: str | Path) -> str:
    """The format of a dataset folder: "synthetic" (synthetic.json), "tum" (rgb.txt + depth.txt) or
    "redwood" (color/ + depth/)."""
    root = Path(path)
    if not root.is_dir():
        raise NotFoundError(f"dataset folder {root} not found")
    if (root / "synthetic.json").is_file():
        return "synthetic"
    if (root / "rgb.txt").is_file() and (root / "depth.txt").is_file():
        return "tum"
    if (root / "color").is_dir() and (root / "depth").is_dir():
        return "redwood"
    raise InvalidArgumentError.field("path", f"{root} is not a TUM, Redwood or synthetic recording folder")


def open_dataset(path: str | Path, format: str | None = None, *, frames: slice | None = None) -> RgbdSequence:  # noqa: A002
    """Read a dataset folder in ``format`` ("tum", "redwood", "synthetic"), detected when None."""
    fmt = detect_format(path) if format is None else format
    if fmt == "tum":
        return read_tum(path, frames=frames)
    if fmt == "redwood":
        return read_redwood(path, frames=frames)
    if fmt == "synthetic":
        return read_synthetic(path, frames=frames)
    raise InvalidArgumentError.field("format", f"must be one of {', '.join(_FORMATS)}, got {fmt!r}")
