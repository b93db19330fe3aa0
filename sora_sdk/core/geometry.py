"""Rigid transforms and camera models.

Frames follow one convention everywhere: ``pose_world_camera`` (T_W_C) maps points from the
camera frame into the world frame, ``p_world = T_W_C @ p_camera``. The world is right-handed,
metric, +Z up is *not* assumed (it comes from the client). Camera frames are OpenCV's:
x right, y down, z forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Intrinsics", "Pose", "quaternion_to_matrix", "matrix_to_quaternion"]

# A proper rotation matrix has R^T R = I and det R = 1; client poses arrive as float32
# quaternions, so allow float32 round-off and a little more.
_ROTATION_TOLERANCE = 1e-3


def quaternion_to_matrix(q_xyzw: np.ndarray) -> np.ndarray:
    """(4,) quaternion x, y, z, w (need not be unit) -> (3, 3) float64 rotation matrix."""
    x, y, z, w = (float(v) for v in q_xyzw)
    n = x * x + y * y + z * z + w * w
    if not np.isfinite(n) or n < 1e-12:
        raise ValueError("quaternion has zero or non-finite norm")
    s = 2.0 / n
    return np.array(
        [
            [1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
            [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
            [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)],
        ]
    )


def matrix_to_quaternion(r: np.ndarray) -> np.ndarray:
    """(3, 3) rotation matrix -> (4,) unit quaternion x, y, z, w with w >= 0 (Shepperd's method)."""
    m = np.asarray(r, dtype=np.float64)
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = np.sqrt(tr + 1.0) * 2
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    qa = np.asarray(q, dtype=np.float64)
    qa /= np.linalg.norm(qa)
    return -qa if qa[3] < 0 else qa


@dataclass(frozen=True, eq=False)
class Pose:
    """A rigid transform T_A_B as a (4, 4) float64 matrix; name instances by frames (``pose_world_camera``)."""

    matrix: np.ndarray = field(default_factory=lambda: np.eye(4))

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=np.float64)
        if m.shape != (4, 4):
            raise ValueError(f"pose matrix must be 4x4, got {m.shape}")
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    @classmethod
    def identity(cls) -> Pose:
        return cls(np.eye(4))

    @classmethod
    def from_quaternion(cls, translation_m: np.ndarray, q_xyzw: np.ndarray) -> Pose:
        """Translation (3,) metres and quaternion (4,) x, y, z, w."""
        m = np.eye(4)
        m[:3, :3] = quaternion_to_matrix(np.asarray(q_xyzw))
        m[:3, 3] = np.asarray(translation_m, dtype=np.float64)
        return cls(m)

    @classmethod
    def from_rotation_translation(cls, rotation: np.ndarray, translation_m: np.ndarray) -> Pose:
        m = np.eye(4)
        m[:3, :3] = rotation
        m[:3, 3] = translation_m
        return cls(m)

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) float64."""
        return self.matrix[:3, :3]

    @property
    def translation(self) -> np.ndarray:
        """(3,) float64, metres."""
        return self.matrix[:3, 3]

    @property
    def quaternion_xyzw(self) -> np.ndarray:
        return matrix_to_quaternion(self.rotation)

    def inverse(self) -> Pose:
        r = self.rotation
        m = np.eye(4)
        m[:3, :3] = r.T
        m[:3, 3] = -r.T @ self.translation
        return Pose(m)

    def __matmul__(self, other: Pose) -> Pose:
        return Pose(self.matrix @ other.matrix)

    def transform_points(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) points in frame B -> (n, 3) in frame A."""
        p = np.asarray(points, dtype=np.float64)
        return p @ self.rotation.T + self.translation

    def is_valid(self) -> bool:
        """Finite, proper rotation (orthonormal, det +1), last row (0, 0, 0, 1)."""
        m = self.matrix
        if not np.all(np.isfinite(m)):
            return False
        r = m[:3, :3]
        if np.abs(r.T @ r - np.eye(3)).max() > _ROTATION_TOLERANCE:
            return False
        if abs(np.linalg.det(r) - 1.0) > _ROTATION_TOLERANCE:
            return False
        return bool(np.allclose(m[3], [0.0, 0.0, 0.0, 1.0]))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pose) and bool(np.array_equal(self.matrix, other.matrix))

    def __hash__(self) -> int:
        return hash(self.matrix.tobytes())

    def __repr__(self) -> str:
        t = np.round(self.translation, 4).tolist()
        q = np.round(self.quaternion_xyzw, 4).tolist()
        return f"Pose(t={t}, q_xyzw={q})"


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole camera, pixels; OpenCV convention (pixel centre of the top-left pixel is (0, 0))."""

    width_px: int
    height_px: int
    fx_px: float
    fy_px: float
    cx_px: float
    cy_px: float

    @property
    def matrix(self) -> np.ndarray:
        """(3, 3) float64 K."""
        return np.array([[self.fx_px, 0.0, self.cx_px], [0.0, self.fy_px, self.cy_px], [0.0, 0.0, 1.0]])

    def problems(self) -> list[tuple[str, str]]:
        """What makes these intrinsics implausible, as (field, description) pairs; empty when fine."""
        out: list[tuple[str, str]] = []
        for name in ("width_px", "height_px"):
            v = getattr(self, name)
            if not 0 < v <= 16384:
                out.append((name, f"must be in 1..16384, got {v}"))
        for name in ("fx_px", "fy_px", "cx_px", "cy_px"):
            v = getattr(self, name)
            if not np.isfinite(v):
                out.append((name, f"must be finite, got {v}"))
        if not out:
            if not (self.fx_px > 0 and self.fy_px > 0):
                out.append(("fx_px", "focal lengths must be positive"))
            # A principal point far outside the image means swapped or garbage values.
            if not -self.width_px <= self.cx_px <= 2 * self.width_px:
                out.append(("cx_px", f"principal point {self.cx_px} far outside the image"))
            if not -self.height_px <= self.cy_px <= 2 * self.height_px:
                out.append(("cy_px", f"principal point {self.cy_px} far outside the image"))
        return out

    def scaled(self, width_px: int, height_px: int) -> Intrinsics:
        """The same camera at another resolution."""
        sx, sy = width_px / self.width_px, height_px / self.height_px
        return Intrinsics(
            width_px, height_px, self.fx_px * sx, self.fy_px * sy,
            (self.cx_px + 0.5) * sx - 0.5, (self.cy_px + 0.5) * sy - 0.5,
        )  # fmt: skip
