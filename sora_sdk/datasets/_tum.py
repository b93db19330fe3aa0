"""TUM RGB-D benchmark sequences (https://cvg.cit.tum.de/data/datasets/rgbd-dataset).

A sequence folder holds ``rgb.txt`` and ``depth.txt`` (``timestamp path`` per line),
``groundtruth.txt`` (``timestamp tx ty tz qx qy qz qw``, T_W_C of the colour camera in the OpenCV
convention, metres) and 640x480 PNGs; depth is uint16 with 5000 units per metre and registered
to the colour camera.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.spatial.transform import Rotation

from sora_sdk.core.errors import DataLossError, NotFoundError
from sora_sdk.core.geometry import Intrinsics, Pose

from ._sequence import FrameRecord, RgbdSequence

__all__ = ["TUM_DEPTH_M_PER_UNIT", "TUM_INTRINSICS", "associate_timestamps", "read_tum"]

#: Metres per unit of TUM depth PNGs (the benchmark's factor 5000).
TUM_DEPTH_M_PER_UNIT = 1.0 / 5000.0

#: The benchmark's published colour-camera calibrations (640x480, distortion ignored).
TUM_INTRINSICS: dict[str, Intrinsics] = {
    "fr1": Intrinsics(640, 480, 517.3, 516.5, 318.6, 255.3),
    "fr2": Intrinsics(640, 480, 520.9, 521.0, 325.1, 249.7),
    "fr3": Intrinsics(640, 480, 535.4, 539.2, 320.1, 247.6),
}

_CAMERA_PATTERN = re.compile(r"(?:freiburg|fr)([123])(?![0-9])")


def read_tum(
    path: str | Path,
    *,
    frames: slice | None = None,
    max_time_diff_s: float = 0.02,
    intrinsics: Intrinsics | None = None,
    max_gt_gap_s: float = 0.1,
) -> RgbdSequence:
    """Read a TUM RGB-D sequence folder.

    Colour and depth images are paired as TUM's ``associate.py`` does (greedy, closest first,
    ``|t_rgb - t_depth| < max_time_diff_s``). A pair whose image files are absent is dropped, so
    trimmed copies of a sequence (full lists, a few images) read as the images they ship.
    ``frames`` then selects among the remaining pairs.

    Each frame's ``capture_time_s`` is its depth timestamp, and its pose is the ground truth
    interpolated to that time (linear translation, slerp rotation) between the two samples around
    it when they are at most ``max_gt_gap_s`` apart; a frame within ``max_time_diff_s`` of the
    first or last sample takes that sample; any other frame has pose None.

    Intrinsics come from the folder name (``freiburg2``/``fr2``…, else the ``rgb.txt`` header,
    else fr1) unless given.
    """
    root = Path(path)
    if not root.is_dir():
        raise NotFoundError(f"TUM sequence folder {root} not found")
    rgb_times, rgb_files = _read_list(root / "rgb.txt")
    depth_times, depth_files = _read_list(root / "depth.txt")
    pairs = associate_timestamps(rgb_times, depth_times, max_time_diff_s=max_time_diff_s)
    pairs = [(i, j) for i, j in pairs if (root / rgb_files[i]).is_file() and (root / depth_files[j]).is_file()]

    gt_path = root / "groundtruth.txt"
    stamps = np.array([depth_times[j] for _, j in pairs], dtype=np.float64)
    if gt_path.is_file():
        poses = _interpolate_groundtruth(
            stamps, *_read_groundtruth(gt_path), max_gap_s=max_gt_gap_s, max_time_diff_s=max_time_diff_s
        )
    else:
        poses = [None] * len(pairs)

    records = tuple(
        FrameRecord(
            sequence=k,
            capture_time_s=float(depth_times[j]),
            pose_world_camera=pose,
            color_path=root / rgb_files[i],
            depth_path=root / depth_files[j],
        )
        for k, ((i, j), pose) in enumerate(zip(pairs, poses, strict=True))
    )
    if frames is not None:
        records = records[frames]
    if intrinsics is None:
        intrinsics = TUM_INTRINSICS[_camera_name(root)]
        if records and records[0].color_path is not None:
            with Image.open(records[0].color_path) as img:
                width, height = img.size
            if (width, height) != (intrinsics.width_px, intrinsics.height_px):
                intrinsics = intrinsics.scaled(width, height)
    return RgbdSequence(
        name=root.name,
        source_format="tum",
        root=root,
        intrinsics=intrinsics,
        depth_m_per_unit=TUM_DEPTH_M_PER_UNIT,
        records=records,
    )


def associate_timestamps(
    first_s: np.ndarray | list[float],
    second_s: np.ndarray | list[float],
    *,
    max_time_diff_s: float = 0.02,
    offset_s: float = 0.0,
) -> list[tuple[int, int]]:
    """Pair two timestamp lists as TUM's ``associate.py`` does -> sorted (i, j) index pairs.

    Candidate pairs with ``|first[i] - (second[j] + offset_s)| < max_time_diff_s`` are taken closest
    first (ties by the earlier timestamps); each timestamp is used at most once.
    """
    a = np.asarray(first_s, dtype=np.float64)
    b = np.asarray(second_s, dtype=np.float64) + offset_s
    order_b = np.argsort(b, kind="stable")
    b_sorted = b[order_b]
    lo = np.searchsorted(b_sorted, a - max_time_diff_s, side="left")
    hi = np.searchsorted(b_sorted, a + max_time_diff_s, side="right")
    counts = hi - lo
    ii = np.repeat(np.arange(a.size), counts)
    jj = order_b[np.concatenate([np.arange(s, e) for s, e in zip(lo, hi, strict=True)] or [np.empty(0, int)])]
    diff = np.abs(a[ii] - b[jj])
    keep = diff < max_time_diff_s
    ii, jj, diff = ii[keep], jj[keep], diff[keep]
    # associate.py sorts (diff, a, b) tuples: the same order, by key instead of by value.
    order = np.lexsort((b[jj], a[ii], diff))
    used_a = np.zeros(a.size, dtype=bool)
    used_b = np.zeros(b.size, dtype=bool)
    pairs: list[tuple[int, int]] = []
    for k in order:
        i, j = int(ii[k]), int(jj[k])
        if not used_a[i] and not used_b[j]:
            used_a[i] = used_b[j] = True
            pairs.append((i, j))
    pairs.sort(key=lambda p: (a[p[0]], b[p[1]]))
    return pairs


def _read_list(path: Path) -> tuple[np.ndarray, list[str]]:
    """``timestamp path`` lines -> ((n,) float64 seconds, n relative paths)."""
    if not path.is_file():
        raise NotFoundError(f"TUM list {path} not found")
    times: list[float] = []
    files: list[str] = []
    for lineno, fields in _data_lines(path):
        if len(fields) < 2:
            raise DataLossError(f"{path}:{lineno}: expected 'timestamp filename'")
        times.append(_float(path, lineno, fields[0]))
        files.append(fields[1])
    return np.array(times, dtype=np.float64), files


def _read_groundtruth(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """groundtruth.txt -> ((n,) s, (n, 3) translations m, (n, 4) quaternions xyzw), time-sorted."""
    rows: list[list[float]] = []
    for lineno, fields in _data_lines(path):
        if len(fields) < 8:
            raise DataLossError(f"{path}:{lineno}: expected 'timestamp tx ty tz qx qy qz qw'")
        rows.append([_float(path, lineno, f) for f in fields[:8]])
    data = np.array(rows, dtype=np.float64).reshape(-1, 8)
    data = data[np.argsort(data[:, 0], kind="stable")]
    return data[:, 0], data[:, 1:4], data[:, 4:8]


def _interpolate_groundtruth(
    query_s: np.ndarray,
    stamps_s: np.ndarray,
    translations_m: np.ndarray,
    quats_xyzw: np.ndarray,
    *,
    max_gap_s: float,
    max_time_diff_s: float,
) -> list[Pose | None]:
    """Poses at ``query_s`` (see :func:`read_tum` for the rules); None where there is no ground truth."""
    out: list[Pose | None] = [None] * len(query_s)
    if stamps_s.size == 0:
        return out
    rotations = Rotation.from_quat(quats_xyzw)
    hi = np.searchsorted(stamps_s, query_s, side="right")
    for k, (t, i1) in enumerate(zip(query_s, hi, strict=True)):
        i1 = int(i1)
        if 0 < i1 < stamps_s.size and stamps_s[i1] - stamps_s[i1 - 1] <= max_gap_s:
            i0 = i1 - 1
            alpha = (t - stamps_s[i0]) / (stamps_s[i1] - stamps_s[i0])
            r0 = rotations[i0]
            delta = (r0.inv() * rotations[i1]).as_rotvec()
            rotation = r0 * Rotation.from_rotvec(alpha * delta)
            translation = (1 - alpha) * translations_m[i0] + alpha * translations_m[i1]
        else:
            nearest = int(np.argmin(np.abs(stamps_s - t)))
            if abs(stamps_s[nearest] - t) > max_time_diff_s:
                continue
            rotation, translation = rotations[nearest], translations_m[nearest]
        out[k] = Pose.from_rotation_translation(rotation.as_matrix(), translation)
    return out


def _camera_name(root: Path) -> str:
    match = _CAMERA_PATTERN.search(root.name.lower())
    if match is None:
        rgb_list = root / "rgb.txt"
        header = "".join(line for line in rgb_list.read_text().splitlines(True) if line.startswith("#"))
        match = _CAMERA_PATTERN.search(header.lower())
    return f"fr{match.group(1)}" if match else "fr1"


def _data_lines(path: Path) -> list[tuple[int, list[str]]]:
    out = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((lineno, line.replace(",", " ").split()))
    return out


def _float(path: Path, lineno: int, text: str) -> float:
    try:
        return float(text)
    except ValueError as e:
        raise DataLossError(f"{path}:{lineno}: {text!r} is not a number") from e
