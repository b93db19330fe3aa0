"""An RGB-D sequence on disk, read one frame at a time.

Every reader (TUM, Redwood, the synthetic recordings) resolves its folder into a list of
:class:`FrameRecord` — where the images are and what is known without decoding them (time, pose) —
and wraps them in one :class:`RgbdSequence`. Iterating decodes frames one by one, so a long
sequence never has to fit in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import overload

import numpy as np
from PIL import Image

from sora_sdk.core.errors import DataLossError, NotFoundError
from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.sensors import CameraFrame

__all__ = ["FrameRecord", "RgbdSequence", "read_color_image", "read_depth_png"]


@dataclass(frozen=True)
class FrameRecord:
    """One frame of a sequence before its images are decoded.

    sequence : the frame's index in the dataset's own order (kept when a sequence is sliced)
    capture_time_s : seconds on the dataset's clock (the depth image's timestamp for TUM)
    pose_world_camera : ground-truth T_W_C (OpenCV camera), or None where the dataset has none
    color_path, depth_path : image files, or None where the frame has no such image
    """

    sequence: int
    capture_time_s: float
    pose_world_camera: Pose | None
    color_path: Path | None
    depth_path: Path | None


@dataclass(frozen=True, eq=False)
class RgbdSequence:
    """A read-only RGB-D sequence whose frames are decoded lazily.

    intrinsics : the colour camera; depth is registered to it (same size, same pixels)
    depth_m_per_unit : metres per unit of the uint16 depth images (TUM 1/5000, Redwood and
        synthetic 0.001)
    records : one :class:`FrameRecord` per frame, in time order

    ``len(seq)``, ``for frame in seq`` and ``seq[i]`` decode one frame at a time; ``seq[a:b]`` is
    another (cheap) sequence; :attr:`frames` decodes everything at once.
    """

    name: str
    source_format: str  # "tum" | "redwood" | "synthetic"
    root: Path
    intrinsics: Intrinsics
    depth_m_per_unit: float
    records: tuple[FrameRecord, ...]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[CameraFrame]:
        for record in self.records:
            yield self._load(record)

    @overload
    def __getitem__(self, index: int) -> CameraFrame: ...

    @overload
    def __getitem__(self, index: slice) -> RgbdSequence: ...

    def __getitem__(self, index: int | slice) -> CameraFrame | RgbdSequence:
        if isinstance(index, slice):
            return replace(self, records=self.records[index])
        return self._load(self.records[index])

    @property
    def frames(self) -> list[CameraFrame]:
        """Every frame, decoded now (640x480 costs about 1.5 MB a frame)."""
        return list(self)

    @property
    def timestamps_s(self) -> np.ndarray:
        """(n,) float64 capture times, seconds."""
        return np.array([r.capture_time_s for r in self.records], dtype=np.float64)

    @property
    def poses_world_camera(self) -> list[Pose | None]:
        """Ground-truth T_W_C per frame (None where unknown), without decoding any image."""
        return [r.pose_world_camera for r in self.records]

    def _load(self, record: FrameRecord) -> CameraFrame:
        size = (self.intrinsics.width_px, self.intrinsics.height_px)
        color = read_color_image(record.color_path, size) if record.color_path is not None else None
        depth = read_depth_png(record.depth_path, size) if record.depth_path is not None else None
        return CameraFrame(
            sequence=record.sequence,
            capture_time_s=record.capture_time_s,
            intrinsics=self.intrinsics,
            pose_world_camera=record.pose_world_camera,
            color=color,
            depth=depth,
            depth_m_per_unit=self.depth_m_per_unit,
        )


def read_color_image(path: Path, size_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Decode a colour image (PNG or JPEG) -> (h, w, 3) uint8 RGB; checks the size when given."""
    try:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError as e:
        raise NotFoundError(f"colour image {path} not found") from e
    _check_size(path, rgb.shape[1::-1], size_wh)
    return rgb


def read_depth_png(path: Path, size_wh: tuple[int, int] | None = None) -> np.ndarray:
    """Decode a 16-bit depth PNG -> (h, w) uint16 in the dataset's depth units, 0 = no measurement."""
    try:
        with Image.open(path) as img:
            if img.mode not in ("I;16", "I;16B", "I;16L", "I"):
                raise DataLossError(f"depth image {path} is {img.mode}, not 16-bit")
            raw = np.asarray(img)
    except FileNotFoundError as e:
        raise NotFoundError(f"depth image {path} not found") from e
    if raw.dtype != np.uint16:
        # Pillow opens some 16-bit PNGs as 32-bit "I"; their values still fit 16 bits.
        if raw.min() < 0 or raw.max() > np.iinfo(np.uint16).max:
            raise DataLossError(f"depth image {path} has values outside uint16")
        raw = raw.astype(np.uint16)
    _check_size(path, raw.shape[1::-1], size_wh)
    return raw


def _check_size(path: Path, got_wh: tuple[int, ...], want_wh: tuple[int, int] | None) -> None:
    if want_wh is not None and tuple(got_wh) != tuple(want_wh):
        raise DataLossError(f"{path} is {got_wh[0]}x{got_wh[1]}, expected {want_wh[0]}x{want_wh[1]}")
