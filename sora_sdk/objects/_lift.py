"""Lifting 2D detections into the world frame with the frame's depth, intrinsics and pose.

For each detection:

1. **Pixels.** Its mask, or without one the core of its box (the central ``core_fraction`` of the
   box's width and height, where a box around a thin or hollow object is most likely to see it).
   Detections come in colour-image pixels; a depth image of another size is addressed by scaling.
2. **Nearest surface.** The valid depths, sorted, split wherever neighbours differ by more than
   ``depth_gap_m`` (+ ``depth_gap_fraction`` of the depth, as sensor noise grows with distance):
   each piece is one surface along the viewing rays. The nearest piece holding at least
   ``near_mode_min_fraction`` of the largest one's pixels is the object; the background seen past a
   thin object, through a ring's hole or beside a mask's bleeding edge is farther and dropped, and a
   few flying pixels in front are too few to count.
3. **Outliers.** Within that surface, depths farther from its median depth than ``mad_k`` robust
   standard deviations (1.4826 x the median absolute deviation) go, unless they are within
   ``mad_min_m`` or within the detection's own lateral size (``depth_extent_ratio`` x the box's larger
   side at that depth) of it: an object is about as deep as it is wide, and the far side of a cone or
   a pyramid seen from above is a skewed tail of its depths but no outlier.
4. **Back-projection.** Pixel (u, v) at depth z is ((u - cx) z / fx, (v - cy) z / fy, z) in the
   OpenCV camera frame (pixel centres at integers), then ``pose_world_camera`` takes it to the world.
5. **Box.** An upright box: z along ``up_world``, the footprint (the points projected on the plane
   normal to up) in OpenCV's minimum-area rectangle, whose longer side is the box's x axis; the
   box spans the points' lowest to highest along up. It bounds what the camera saw: the far side
   of an object is unseen, so the box is shallower than the object when seen from the side, and the
   centroid (the mean of the kept points) is that of the visible surface, nearer the camera than the
   solid's.

All of it is vectorised numpy; the only Python loop is over detections.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from sora_sdk.core.errors import InvalidArgumentError
from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.sensors import CameraFrame

from ._types import Detection2D, Detection3D

__all__ = ["LiftingOptions", "lift_detection", "lift_detections", "nearest_surface", "upright_box"]

# 1.4826 x MAD estimates a gaussian's standard deviation.
_MAD_TO_STD = 1.4826


@dataclass(frozen=True)
class LiftingOptions:
    """How detections are placed in 3D (metres unless named otherwise)."""

    core_fraction: float = 0.5
    """without a mask, the box's central part used: this fraction (0..1] of its width and of its height"""
    min_depth_m: float = 0.1
    """depth readings nearer than this are ignored"""
    max_depth_m: float = 8.0
    """depth readings farther than this are ignored"""
    depth_gap_m: float = 0.04
    """sorted depths farther apart than this (plus ``depth_gap_fraction`` of the depth) are different surfaces"""
    depth_gap_fraction: float = 0.01
    """the part of the surface gap that grows with depth (dimensionless)"""
    near_mode_min_fraction: float = 0.3
    """the nearest surface with at least this share of the largest surface's pixels is the object"""
    mad_k: float = 3.0
    """points farther than this many robust standard deviations from the surface's median depth are outliers"""
    mad_min_m: float = 0.02
    """… but points this close to the median depth are always kept …"""
    depth_extent_ratio: float = 1.0
    """… and so are points closer to it than this times the detection's lateral size (its box's larger side,
    in metres at the median depth; dimensionless)"""
    min_points: int = 20
    """detections with fewer depth points left are not lifted"""
    max_points: int = 4096
    """``Detection3D.points_world_m`` holds at most this many points (evenly subsampled); the box uses all"""

    def __post_init__(self) -> None:
        if not 0.0 < self.core_fraction <= 1.0:
            raise InvalidArgumentError.field("core_fraction", f"must be in (0, 1], got {self.core_fraction}")
        if not 0.0 <= self.min_depth_m < self.max_depth_m:
            raise InvalidArgumentError.field("min_depth_m", "must be >= 0 and below max_depth_m")
        if self.min_points < 1 or self.max_points < 1:
            raise InvalidArgumentError.field("min_points", "min_points and max_points must be positive")


def lift_detections(
    detections: Sequence[Detection2D],
    frame: CameraFrame,
    *,
    up_world: np.ndarray | Sequence[float] | None = None,
    options: LiftingOptions | None = None,
) -> list[Detection3D]:
    """The detections (in ``frame.color``'s pixels) placed in the world frame, in their order.

    ``up_world`` : (3,) the world's up direction (default +Z), the lifted boxes' z axis.
    Detections with fewer than ``min_points`` valid depth pixels are left out; use
    :func:`lift_detection` to keep the correspondence. The frame needs depth and ``pose_world_camera``.
    """
    if not detections:
        return []
    ctx = _FrameContext.of(frame, _unit_up(up_world))
    o = options or LiftingOptions()
    lifted = (_lift(d, ctx, o) for d in detections)
    return [d for d in lifted if d is not None]


def lift_detection(
    detection: Detection2D,
    frame: CameraFrame,
    *,
    up_world: np.ndarray | Sequence[float] | None = None,
    options: LiftingOptions | None = None,
) -> Detection3D | None:
    """One detection placed in the world frame (see :func:`lift_detections`), or None when too few of its
    pixels have depth."""
    return _lift(detection, _FrameContext.of(frame, _unit_up(up_world)), options or LiftingOptions())


def nearest_surface(
    depth_m: np.ndarray, options: LiftingOptions | None = None, *, size_per_depth: float = 0.0
) -> np.ndarray:
    """(n,) bool: which of the (n,) depths (metres, all valid) belong to the nearest well-supported
    surface, without its outliers (steps 2 and 3 of the module docstring).

    size_per_depth : the detection's lateral size per metre of depth (its box's larger side in pixels
    over the focal length in pixels); 0 leaves the outlier test to the MAD alone.
    """
    o = options or LiftingOptions()
    z = np.asarray(depth_m, dtype=np.float64)
    keep = np.zeros(z.shape, dtype=bool)
    if z.size == 0:
        return keep
    order = np.argsort(z, kind="stable")
    zs = z[order]
    split = np.diff(zs) > o.depth_gap_m + o.depth_gap_fraction * zs[:-1]
    piece = np.concatenate([[0], np.cumsum(split)])  # surface index, increasing with depth
    counts = np.bincount(piece)
    first = int(np.argmax(counts >= o.near_mode_min_fraction * counts.max()))
    lo, hi = np.searchsorted(piece, [first, first + 1])
    surface = zs[lo:hi]
    median = float(np.median(surface))
    mad = float(np.median(np.abs(surface - median)))
    tolerance = max(o.mad_k * _MAD_TO_STD * mad, o.mad_min_m, o.depth_extent_ratio * size_per_depth * median)
    keep[order[lo:hi]] = np.abs(surface - median) <= tolerance
    return keep


def upright_box(
    points_world_m: np.ndarray, up_world: np.ndarray | Sequence[float] | None = None
) -> tuple[Pose, np.ndarray]:
    """The minimum-footprint upright box around (n, 3) world points -> (T_W_B, (3,) float64 edge lengths).

    B's z is ``up_world`` (default +Z); B's x is the footprint rectangle's longer side, pointing within
    90 degrees of the world's first horizontal axis (+X when up is +Z), so the yaw is in (-90, 90]
    degrees; the box's origin is its centre. Edges are metres, along B's x, y, z.
    """
    up = _unit_up(up_world)
    basis = _horizontal_basis(up)  # (3, 3) columns e1, e2, up
    local = np.asarray(points_world_m, dtype=np.float64) @ basis
    # minAreaRect is exact on float32 for room-sized coordinates (sub-micrometre steps at 10 m); centring
    # first keeps it so far from the origin too.
    origin = local[:, :2].mean(axis=0)
    (cx, cy), _, _ = rect = cv2.minAreaRect((local[:, :2] - origin).astype(np.float32))
    corners = cv2.boxPoints(rect).astype(np.float64)
    edge_a, edge_b = corners[1] - corners[0], corners[2] - corners[1]
    len_a, len_b = float(np.hypot(*edge_a)), float(np.hypot(*edge_b))
    along = edge_a if len_a >= len_b else edge_b
    yaw = math.atan2(along[1], along[0]) if max(len_a, len_b) > 0 else 0.0
    if yaw <= -math.pi / 2:
        yaw += math.pi
    elif yaw > math.pi / 2:
        yaw -= math.pi
    z_lo, z_hi = float(local[:, 2].min()), float(local[:, 2].max())
    x_axis = math.cos(yaw) * basis[:, 0] + math.sin(yaw) * basis[:, 1]
    rotation = np.column_stack([x_axis, np.cross(up, x_axis), up])
    center = basis @ np.array([cx + origin[0], cy + origin[1], (z_lo + z_hi) / 2])
    size = np.array([max(len_a, len_b), min(len_a, len_b), z_hi - z_lo], dtype=np.float64)
    return Pose.from_rotation_translation(rotation, center), size


# --- internals ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _FrameContext:
    """What every detection of one frame needs: depth in metres (hd, wd) float32, the intrinsics at the
    depth's size, T_W_C, the detections' image size (h, w), the unit up direction, the capture time."""

    depth_m: np.ndarray
    intrinsics: Intrinsics
    pose_world_camera: Pose
    image_hw: tuple[int, int]
    up: np.ndarray
    time_s: float

    @classmethod
    def of(cls, frame: CameraFrame, up: np.ndarray) -> _FrameContext:
        if frame.depth is None:
            raise InvalidArgumentError.field("frame.depth", "is required to lift detections")
        if frame.pose_world_camera is None:
            raise InvalidArgumentError.field("frame.pose_world_camera", "is required to lift detections")
        depth = frame.depth_m()
        hd, wd = depth.shape
        k = frame.intrinsics
        if (k.width_px, k.height_px) != (wd, hd):
            k = k.scaled(wd, hd)
        image_hw = (
            frame.color.shape[:2]
            if frame.color is not None
            else (frame.intrinsics.height_px, frame.intrinsics.width_px)
        )
        return cls(
            depth, k, frame.pose_world_camera, (int(image_hw[0]), int(image_hw[1])), up, float(frame.capture_time_s)
        )


def _unit_up(up_world: np.ndarray | Sequence[float] | None) -> np.ndarray:
    up = np.array([0.0, 0.0, 1.0]) if up_world is None else np.asarray(up_world, dtype=np.float64).reshape(-1)
    n = float(np.linalg.norm(up)) if up.shape == (3,) else 0.0
    if not (np.isfinite(n) and n > 1e-9):
        raise InvalidArgumentError.field("up_world", f"must be a non-zero (3,) vector, got {up_world!r}")
    return up / n


def _horizontal_basis(up: np.ndarray) -> np.ndarray:
    """(3, 3) columns e1, e2, up: right-handed, e1 the world axis least aligned with up made horizontal."""
    a = np.eye(3)[int(np.argmin(np.abs(up)))]
    e1 = a - (a @ up) * up
    e1 /= np.linalg.norm(e1)
    return np.column_stack([e1, np.cross(up, e1), up])


def _pixels(det: Detection2D, ctx: _FrameContext, o: LiftingOptions) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) int arrays of the depth pixels the detection covers (mask, else box core)."""
    hd, wd = ctx.depth_m.shape
    if det.mask is not None:
        mask = np.asarray(det.mask, dtype=bool)
        if mask.shape != (hd, wd):
            mask = cv2.resize(mask.astype(np.uint8), (wd, hd), interpolation=cv2.INTER_NEAREST).astype(bool)
        rows, cols = np.nonzero(mask)
        return rows, cols
    sx, sy = wd / ctx.image_hw[1], hd / ctx.image_hw[0]
    x1, y1, x2, y2 = (float(v) for v in np.asarray(det.box_xyxy_px, dtype=np.float64))
    cx, cy = (x1 + x2) / 2 * sx, (y1 + y2) / 2 * sy
    hw, hh = (x2 - x1) * sx * o.core_fraction / 2, (y2 - y1) * sy * o.core_fraction / 2
    # Depth pixels whose centre (u + 0.5) lies in the core; at least the one under the box's centre.
    c0, c1 = math.ceil(cx - hw - 0.5), math.floor(cx + hw - 0.5) + 1
    r0, r1 = math.ceil(cy - hh - 0.5), math.floor(cy + hh - 0.5) + 1
    if c1 <= c0:
        c0 = c1 = math.floor(cx)
        c1 += 1
    if r1 <= r0:
        r0 = r1 = math.floor(cy)
        r1 += 1
    c0, c1, r0, r1 = max(c0, 0), min(c1, wd), max(r0, 0), min(r1, hd)
    if c1 <= c0 or r1 <= r0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    rows, cols = np.mgrid[r0:r1, c0:c1]
    return rows.ravel(), cols.ravel()


def _size_per_depth(det: Detection2D, ctx: _FrameContext) -> float:
    """The detection box's larger side over the focal length (metres of object per metre of depth)."""
    x1, y1, x2, y2 = (float(v) for v in np.asarray(det.box_xyxy_px, dtype=np.float64))
    k = ctx.intrinsics  # at the depth image's size; the box is in the colour image's pixels
    sx, sy = ctx.depth_m.shape[1] / ctx.image_hw[1], ctx.depth_m.shape[0] / ctx.image_hw[0]
    return max((x2 - x1) * sx / k.fx_px, (y2 - y1) * sy / k.fy_px, 0.0)


def _lift(det: Detection2D, ctx: _FrameContext, o: LiftingOptions) -> Detection3D | None:
    rows, cols = _pixels(det, ctx, o)
    z = ctx.depth_m[rows, cols]
    valid = (z >= o.min_depth_m) & (z <= o.max_depth_m)
    if np.count_nonzero(valid) < o.min_points:
        return None
    rows, cols, z = rows[valid], cols[valid], z[valid].astype(np.float64)
    keep = nearest_surface(z, o, size_per_depth=_size_per_depth(det, ctx))
    if np.count_nonzero(keep) < o.min_points:
        return None
    rows, cols, z = rows[keep], cols[keep], z[keep]
    k = ctx.intrinsics
    points_camera = np.column_stack([(cols - k.cx_px) * (z / k.fx_px), (rows - k.cy_px) * (z / k.fy_px), z])
    points_world = ctx.pose_world_camera.transform_points(points_camera)
    pose_world_box, size = upright_box(points_world, ctx.up)
    if len(points_world) > o.max_points:
        points_world_kept = points_world[np.linspace(0, len(points_world) - 1, o.max_points).astype(np.int64)]
    else:
        points_world_kept = points_world
    return Detection3D(
        label=det.label,
        score=float(det.score),
        time_s=ctx.time_s,
        points_world_m=points_world_kept.astype(np.float32),
        centroid_world_m=points_world.mean(axis=0),
        pose_world_box=pose_world_box,
        size_m=size,
    )
