"""Lifting a camera hand (21 pixel landmarks) to metric 3D in the world frame.

MediaPipe gives, per hand, landmarks in pixels plus a relative depth ``z`` per landmark (relative to
the wrist, "roughly the same scale as x": times the image width it is in pixels). Together they are a
weak-perspective 3D hand in pixel units; the frame's depth gives the scale and the distance:

1. **Anchor depth.** Around each palm landmark (wrist and the four MCPs, the part of the hand least
   likely to be occluded or blurred), take the valid depth in a small window and keep its *near
   mode*: the nearest histogram bin holding a good share of the samples, whose median is the hand's
   surface there. A window that straddles the hand's edge also sees the background, which is
   farther; flying pixels and noise are too few to form a bin. Each anchor gives an estimate of the
   hand's reference depth (its joint centre = surface + ``surface_to_joint_m``, minus that anchor's
   relative depth); the median of these is the reference depth ``Z``.
2. **Relative depth.** Each anchor keeps its own measured depth (unless it disagrees with the
   hand's estimate by more than ``anchor_tolerance_m``: occluded, or its window saw something else;
   then it gets ``Z`` plus its relative depth). Every other landmark hangs off its finger's anchor
   (the thumb off the wrist, each finger off its MCP): the anchor's depth plus the relative depth
   between them, converted from pixels to metres at that distance (``Z / f`` metres per pixel).
3. **Back-projection.** Each landmark is its pixel's ray at that depth, then ``pose_world_camera``.
   The lifted hand reprojects exactly onto the detected pixels, and its size is metric because the
   depth is.

MediaPipe also outputs "world" landmarks in metres, but on real images their shape disagrees with
the pixels (e.g. 50 degree bends at the knuckles of a flat open hand in ``hands.jpg``, 2 cm between
index and little knuckles), while pixels plus relative z stay consistent, so the lift uses the latter.

Without depth (or too little of it around the palm) the distance is the one at which the hand's
3D size in pixels matches a typical adult hand (``typical_hand_scale_m``, the mean wrist-to-knuckle
distance), and the confidence is scaled down (``no_depth_confidence_scale``): the distance is then
only as right as the typical-hand assumption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import Intrinsics, Pose
from ._landmarks import PALM_LANDMARKS, hand_scale_m

__all__ = ["HandLift", "HandLiftingOptions", "lift_hand", "near_mode_depth"]


@dataclass(frozen=True)
class HandLiftingOptions:
    """How camera hands are placed in metric 3D."""

    #: Half-size of the depth window around each palm landmark, in depth-image pixels.
    depth_window_px: int = 4
    #: Histogram bin of the near-mode depth estimate, metres.
    depth_bin_m: float = 0.02
    #: The nearest bin holding at least this share of the largest bin's samples is the hand.
    near_mode_min_fraction: float = 0.3
    #: Depth outside this range is ignored, metres.
    min_depth_m: float = 0.1
    max_depth_m: float = 5.0
    #: Depth sees the skin; landmarks are joint centres about this much behind it, metres.
    surface_to_joint_m: float = 0.01
    #: An anchor whose own depth is this far from the hand's estimate for it is not trusted, metres.
    anchor_tolerance_m: float = 0.04
    #: Anchors (of 5) with depth needed to use depth at all.
    min_depth_anchors: int = 2
    #: Mean wrist-to-MCP distance of an adult hand (see ``hand_scale_m``), used without depth, metres.
    typical_hand_scale_m: float = 0.088
    #: Confidence factor for hands placed without depth.
    no_depth_confidence_scale: float = 0.5


@dataclass(frozen=True, eq=False)
class HandLift:
    """A lifted hand.

    points_camera_m / points_world_m : (21, 3) float64, camera frame (OpenCV) / world frame, metres.
    reference_depth_m : depth of the palm's joint centres along the optical axis, metres.
    used_depth : whether the depth image placed it (else the typical-hand fallback did).
    metres_per_pixel : the scale applied to MediaPipe's relative depth (reference depth / focal length).
    """

    points_camera_m: np.ndarray
    points_world_m: np.ndarray
    reference_depth_m: float
    used_depth: bool
    metres_per_pixel: float


def near_mode_depth(values: np.ndarray, options: HandLiftingOptions | None = None) -> float | None:
    """Depth of the nearest well-supported surface among ``values`` (n,) metres, or None if too few.

    A histogram with ``depth_bin_m`` bins; the first bin (from near to far) holding at least
    ``near_mode_min_fraction`` of the fullest bin, together with the next bin (a surface can straddle
    a bin edge), gives the samples whose median is returned.
    """
    o = options or HandLiftingOptions()
    v = np.asarray(values, dtype=np.float64)
    v = v[(v >= o.min_depth_m) & (v <= o.max_depth_m)]
    if v.size < 3:
        return None
    lo = float(v.min())
    bins = ((v - lo) / o.depth_bin_m).astype(np.int64)
    counts = np.bincount(bins)
    need = max(2.0, o.near_mode_min_fraction * float(counts.max()))
    first = int(np.argmax(counts >= need))
    sel = v[(bins >= first) & (bins <= first + 1)]
    return float(np.median(sel))


def _window(depth_m: np.ndarray, u: float, v: float, r: int) -> np.ndarray:
    h, w = depth_m.shape
    x, y = round(u), round(v)
    x0, x1, y0, y1 = max(0, x - r), min(w, x + r + 1), max(0, y - r), min(h, y + r + 1)
    if x0 >= x1 or y0 >= y1:
        return np.empty(0)
    return depth_m[y0:y1, x0:x1].ravel()


# Non-anchor landmarks per base anchor: thumb off the wrist, each finger off its MCP.
_CHAINS = ((0, (1, 2, 3, 4)), (5, (6, 7, 8)), (9, (10, 11, 12)), (13, (14, 15, 16)), (17, (18, 19, 20)))


def _backproject(px: np.ndarray, z: np.ndarray, k: Intrinsics) -> np.ndarray:
    return np.stack([(px[:, 0] - k.cx_px) / k.fx_px * z, (px[:, 1] - k.cy_px) / k.fy_px * z, z], axis=1)


def lift_hand(
    landmarks_px: np.ndarray,
    relative_depth_px: np.ndarray,
    intrinsics: Intrinsics,
    pose_world_camera: Pose | None,
    depth_m: np.ndarray | None,
    options: HandLiftingOptions | None = None,
) -> HandLift:
    """Places one hand in 3D (see the module docstring).

    landmarks_px : (21, 2) pixels of the colour image (OpenCV convention), whose camera ``intrinsics`` describe.
    relative_depth_px : (21,) MediaPipe's landmark z times the image width (pixels; larger = farther).
    depth_m : (h, w) float metres (0 = no measurement) registered to the colour image, possibly at
        another resolution, or None.
    pose_world_camera : T_W_C; None means the world is the camera frame.
    """
    o = options or HandLiftingOptions()
    px = np.asarray(landmarks_px, dtype=np.float64)
    zpx = np.asarray(relative_depth_px, dtype=np.float64)
    k = intrinsics
    f = 0.5 * (k.fx_px + k.fy_px)
    anchors = list(PALM_LANDMARKS)
    dz_px = zpx - float(zpx[anchors].mean())

    z_ref: float | None = None
    surf_a = np.full(len(anchors), np.nan)
    ok = np.zeros(len(anchors), bool)
    if depth_m is not None:
        dh, dw = depth_m.shape
        sx, sy = dw / k.width_px, dh / k.height_px
        surf = []
        for a in anchors:
            u = (px[a, 0] + 0.5) * sx - 0.5
            v = (px[a, 1] + 0.5) * sy - 0.5
            d = near_mode_depth(_window(depth_m, u, v, o.depth_window_px), o)
            surf.append(np.nan if d is None else d + o.surface_to_joint_m)
        surf_a = np.asarray(surf)
        ok = np.isfinite(surf_a)
        if int(ok.sum()) >= o.min_depth_anchors:
            # Two passes: the pixel-to-metre factor of the relative depth depends on the depth it corrects.
            z_ref = float(np.median(surf_a[ok]))
            for _ in range(2):
                z_ref = float(np.median(surf_a[ok] - dz_px[anchors][ok] * z_ref / f))
    used_depth = z_ref is not None
    if z_ref is None:
        size_px = hand_scale_m(np.column_stack([px, zpx]))
        z_ref = f * o.typical_hand_scale_m / max(size_px, 1e-6)
        # Perspective makes the pixel-unit hand a little off; two fixed-point steps on the metric size fix it.
        for _ in range(2):
            cam = _backproject(px, np.maximum(z_ref + dz_px * z_ref / f, 0.5 * o.min_depth_m), k)
            z_ref *= o.typical_hand_scale_m / max(hand_scale_m(cam), 1e-6)
    z_ref = max(z_ref, o.min_depth_m)
    m_per_px = z_ref / f
    z = z_ref + dz_px * m_per_px
    if used_depth:
        # Anchors keep their own measured depth unless it disagrees with the hand (occluded, or a
        # window that saw something else); each finger hangs off its knuckle, the thumb off the wrist.
        z_anchor = z[anchors]
        good = ok & (np.abs(surf_a - z_anchor) <= o.anchor_tolerance_m)
        z_anchor = np.where(good, surf_a, z_anchor)
        z[anchors] = z_anchor
        for base, chain in _CHAINS:
            z[list(chain)] = z[base] + (zpx[list(chain)] - zpx[base]) * m_per_px
    z = np.maximum(z, 0.5 * o.min_depth_m)
    cam = _backproject(px, z, k)
    world = pose_world_camera.transform_points(cam) if pose_world_camera is not None else cam
    return HandLift(cam, world, z_ref, used_depth, m_per_px)
