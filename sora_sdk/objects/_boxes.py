"""Up-aligned oriented boxes: footprints, overlap and distances, in the up frame.

An object box (``pose_world_box``, ``size_m``) has its z axis along up, so two boxes overlap where
their footprints (rotated rectangles seen from above) overlap and their height ranges do. The
footprint intersection is Sutherland-Hodgman clipping of one convex polygon by the other: a few
lines here against a geometry library (shapely is not among our dependencies) for 4-gons.
"""

from __future__ import annotations

import math

import numpy as np

from sora_sdk.core.geometry import Pose

__all__ = ["UpBox", "box_iou", "clip_convex", "polygon_area"]

_SIGNS = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])


class UpBox:
    """A box with z along up, in the up frame (R_W_U): centre (3,), unit x axis (2,), size (3,) metres."""

    __slots__ = ("axis", "centre", "size")

    def __init__(self, centre_up: np.ndarray, axis_xy: np.ndarray, size_m: np.ndarray) -> None:
        self.centre = np.asarray(centre_up, dtype=np.float64).reshape(3)
        a = np.asarray(axis_xy, dtype=np.float64).reshape(2)
        self.axis = a / max(float(np.linalg.norm(a)), 1e-12)
        self.size = np.asarray(size_m, dtype=np.float64).reshape(3)

    @classmethod
    def from_pose(cls, pose_world_box: Pose, size_m: np.ndarray, r_world_up: np.ndarray) -> UpBox:
        """From a world box pose whose z is (close to) up; ``r_world_up`` (3, 3) R_W_U."""
        r_ub = r_world_up.T @ pose_world_box.rotation
        return cls(r_world_up.T @ pose_world_box.translation, r_ub[:2, 0], size_m)

    def pose(self, r_world_up: np.ndarray) -> Pose:
        """T_W_B of this box (B's z = up, x = the footprint's x axis)."""
        r_ub = np.eye(3)
        r_ub[:2, 0] = self.axis
        r_ub[:2, 1] = (-self.axis[1], self.axis[0])
        return Pose.from_rotation_translation(r_world_up @ r_ub, r_world_up @ self.centre)

    @property
    def yaw(self) -> float:
        """Heading of the x axis in the up frame, radians."""
        return math.atan2(float(self.axis[1]), float(self.axis[0]))

    @property
    def bottom(self) -> float:
        return float(self.centre[2] - 0.5 * self.size[2])

    @property
    def top(self) -> float:
        return float(self.centre[2] + 0.5 * self.size[2])

    def footprint(self, grow_m: float = 0.0) -> np.ndarray:
        """(4, 2) corners seen from above, counter-clockwise, grown by ``grow_m`` on every side."""
        half = 0.5 * self.size[:2] + grow_m
        y = np.array([-self.axis[1], self.axis[0]])
        local = _SIGNS * half
        return self.centre[:2] + local[:, :1] * self.axis + local[:, 1:] * y

    def volume(self) -> float:
        return float(np.prod(self.size))

    def contains_xy(self, xy: np.ndarray, grow_m: float = 0.0) -> np.ndarray:
        """(n,) bool: (n, 2) up-frame points inside the footprint grown by ``grow_m``."""
        d = np.asarray(xy, dtype=np.float64).reshape(-1, 2) - self.centre[:2]
        y = np.array([-self.axis[1], self.axis[0]])
        return (np.abs(d @ self.axis) <= 0.5 * self.size[0] + grow_m) & (np.abs(d @ y) <= 0.5 * self.size[1] + grow_m)

    def gap_xy(self, other: UpBox) -> float:
        """Horizontal distance between the two footprints (0 when they overlap), metres.

        Exact for convex polygons: the least distance from a corner of either to the other's edges.
        """
        a, b = self.footprint(), other.footprint()
        if polygon_area(clip_convex(a, b)) > 0.0:
            return 0.0
        return min(_point_polygon_distance(a, b), _point_polygon_distance(b, a))

    def vertical_overlap(self, other: UpBox) -> float:
        return max(0.0, min(self.top, other.top) - max(self.bottom, other.bottom))

    def intersection_volume(self, other: UpBox) -> float:
        h = self.vertical_overlap(other)
        if h <= 0.0:
            return 0.0
        return polygon_area(clip_convex(self.footprint(), other.footprint())) * h


def box_iou(a: UpBox, b: UpBox) -> float:
    """3D intersection over union of two up-aligned boxes, 0..1."""
    inter = a.intersection_volume(b)
    union = a.volume() + b.volume() - inter
    return inter / union if union > 0 else 0.0


def polygon_area(poly: np.ndarray) -> float:
    """Area of a (k, 2) polygon (shoelace); 0 for fewer than 3 corners."""
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Intersection of the (k, 2) polygon ``subject`` with the convex counter-clockwise (m, 2) ``clip``."""
    out = [tuple(p) for p in np.asarray(subject, dtype=np.float64)]
    c = np.asarray(clip, dtype=np.float64)
    for i in range(len(c)):
        if not out:
            break
        a, b = c[i], c[(i + 1) % len(c)]
        edge = b - a
        pts = out
        out = []

        def side(p: tuple[float, float], a: np.ndarray = a, edge: np.ndarray = edge) -> float:
            return float(edge[0] * (p[1] - a[1]) - edge[1] * (p[0] - a[0]))  # > 0: left of the edge (inside)

        for j in range(len(pts)):
            p, q = pts[j], pts[(j + 1) % len(pts)]
            sp, sq = side(p), side(q)
            if sp >= 0:
                out.append(p)
            if (sp >= 0) != (sq >= 0):
                t = sp / (sp - sq)
                out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _point_polygon_distance(points: np.ndarray, poly: np.ndarray) -> float:
    """Least distance from any of (k, 2) points to the edges of the (m, 2) polygon."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    ab = b - a  # (m, 2)
    ap = points[:, None, :] - a[None, :, :]  # (k, m, 2)
    t = np.clip(np.einsum("kmi,mi->km", ap, ab) / np.maximum(np.einsum("mi,mi->m", ab, ab), 1e-18), 0.0, 1.0)
    closest = a[None] + t[..., None] * ab[None]
    return float(np.linalg.norm(points[:, None, :] - closest, axis=2).min())
