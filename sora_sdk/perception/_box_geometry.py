"""Oriented boxes (``SceneObject.pose_world_box`` + ``size_m``) as arrays: ray casting and point distances.

Written here rather than taken from Open3D's ``RaycastingScene`` because object boxes change every
few frames and are few (tens): building an Open3D scene per change costs more than the slab test,
and gaze resolution has a budget of ~50 us per ray. For the same budget the ray test for up to
``_PYTHON_MAX_BOXES`` boxes is plain Python floats with a bounding-sphere early out (numpy's
per-call overhead, ~1 us, exceeds the arithmetic on a handful of boxes); beyond that it is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.scene import SceneObject

__all__ = ["BoxSet", "box_signed_distance"]

_PYTHON_MAX_BOXES = 24


@dataclass(frozen=True, eq=False)
class BoxSet:
    """n oriented boxes stacked for vectorised queries.

    rotations_t : (3n, 3) float64, row block i = R_i^T (world -> box i); centers_local : (n, 3) = R_i^T c_i;
    half_m : (n, 3) half edge lengths; rotations : (n, 3, 3) R_i (box -> world); ids : object ids.
    """

    ids: tuple[str, ...]
    rotations: np.ndarray
    rotations_t: np.ndarray
    centers_local: np.ndarray
    half_m: np.ndarray

    @property
    def _rows(self) -> np.ndarray:
        return np.arange(len(self.ids))

    @classmethod
    def from_objects(cls, objects: Sequence[SceneObject]) -> BoxSet:
        n = len(objects)
        rot = np.zeros((n, 3, 3))
        cen = np.zeros((n, 3))
        half = np.zeros((n, 3))
        for i, ob in enumerate(objects):
            rot[i] = ob.pose_world_box.rotation
            cen[i] = ob.pose_world_box.translation
            half[i] = 0.5 * np.asarray(ob.size_m, dtype=np.float64)
        rt = np.transpose(rot, (0, 2, 1))
        box = cls(
            ids=tuple(ob.object_id for ob in objects),
            rotations=rot,
            rotations_t=rt.reshape(3 * n, 3),
            centers_local=np.einsum("nij,nj->ni", rt, cen),
            half_m=half,
        )
        # Plain-float copies for the small-set ray test: (cx, cy, cz, radius^2, R^T rows, local centre, half).
        rows = []
        for i in range(n):
            rows.append(
                (
                    *cen[i].tolist(),
                    float(half[i] @ half[i]),
                    *rt[i].reshape(9).tolist(),
                    *box.centers_local[i].tolist(),
                    *half[i].tolist(),
                )
            )
        object.__setattr__(box, "_py", rows)
        return box

    def __len__(self) -> int:
        return len(self.ids)

    def cast(self, origin: np.ndarray, direction: np.ndarray, max_distance_m: float) -> tuple[int, float, np.ndarray]:
        """Nearest box the ray enters within ``max_distance_m``: (index, distance, unit outward normal (3,)),
        or (-1, inf, zeros) when none. Boxes that contain the origin are ignored.

        origin : (3,) world metres; direction : (3,) unit, world frame.
        """
        n = len(self.ids)
        if n == 0:
            return -1, np.inf, np.zeros(3)
        if n <= _PYTHON_MAX_BOXES:
            return self._cast_py(origin, direction, max_distance_m)
        o = (self.rotations_t @ origin).reshape(n, 3) - self.centers_local
        d = (self.rotations_t @ direction).reshape(n, 3)
        # Keep slab arithmetic finite (no errstate: it costs more than the test) by nudging zero components.
        d_safe = np.where(np.abs(d) < 1e-12, 1e-12, d)
        t1 = (-self.half_m - o) / d_safe
        t2 = (self.half_m - o) / d_safe
        tlo = np.minimum(t1, t2)
        axis = tlo.argmax(axis=1)
        tmin = tlo[self._rows, axis]
        tmax = np.maximum(t1, t2).min(axis=1)
        ok = (tmin <= tmax) & (tmin > 0.0) & (tmin <= max_distance_m)
        if not ok.any():
            return -1, np.inf, np.zeros(3)
        i = int(np.where(ok, tmin, np.inf).argmin())
        a = int(axis[i])
        normal = -np.sign(d[i, a]) * self.rotations[i][:, a]
        return i, float(tmin[i]), normal

    def _cast_py(
        self, origin: np.ndarray, direction: np.ndarray, max_distance_m: float
    ) -> tuple[int, float, np.ndarray]:
        ox, oy, oz = origin.tolist()
        dx, dy, dz = direction.tolist()
        best, best_t, best_axis, best_sign = -1, max_distance_m, 0, 0.0
        for i, row in enumerate(self._py):  # type: ignore[attr-defined]
            cx, cy, cz, r2, r00, r01, r02, r10, r11, r12, r20, r21, r22, lx, ly, lz, hx, hy, hz = row
            wx, wy, wz = cx - ox, cy - oy, cz - oz
            tc = wx * dx + wy * dy + wz * dz
            if wx * wx + wy * wy + wz * wz - tc * tc > r2:
                continue  # the ray's line passes outside the bounding sphere
            lo = [
                r00 * ox + r01 * oy + r02 * oz - lx,
                r10 * ox + r11 * oy + r12 * oz - ly,
                r20 * ox + r21 * oy + r22 * oz - lz,
            ]
            ld = [r00 * dx + r01 * dy + r02 * dz, r10 * dx + r11 * dy + r12 * dz, r20 * dx + r21 * dy + r22 * dz]
            tmin, tmax, axis = -np.inf, np.inf, 0
            for a, h in ((0, hx), (1, hy), (2, hz)):
                da = ld[a]
                if -1e-12 < da < 1e-12:
                    if abs(lo[a]) > h:
                        tmin = np.inf
                        break
                    continue
                t1, t2 = (-h - lo[a]) / da, (h - lo[a]) / da
                if t1 > t2:
                    t1, t2 = t2, t1
                if t1 > tmin:
                    tmin, axis = t1, a
                if t2 < tmax:
                    tmax = t2
            if tmin <= tmax and 0.0 < tmin < best_t:
                best, best_t, best_axis, best_sign = i, tmin, axis, ld[axis]
        if best < 0:
            return -1, np.inf, np.zeros(3)
        normal = (-1.0 if best_sign > 0 else 1.0) * self.rotations[best][:, best_axis]
        return best, best_t, normal

    def signed_distances(self, points: np.ndarray) -> np.ndarray:
        """(k, n) float64 metres from each of k world points (k, 3) to each box surface; negative inside."""
        n = len(self.ids)
        p = np.asarray(points, dtype=np.float64)
        if n == 0:
            return np.zeros((p.shape[0], 0))
        local = (p @ self.rotations_t.T).reshape(p.shape[0], n, 3) - self.centers_local[None]
        q = np.abs(local) - self.half_m[None]
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=2)
        inside = np.minimum(q.max(axis=2), 0.0)
        return outside + inside

    def nearest_face_normals(self, points: np.ndarray, box: int) -> np.ndarray:
        """(k, 3) world unit outward normals of the face of box ``box`` nearest to each point (k, 3)."""
        p = np.asarray(points, dtype=np.float64)
        rt = self.rotations_t[3 * box : 3 * box + 3]
        local = p @ rt.T - self.centers_local[box]
        # The face whose plane is nearest (scaled by the half extent, so points beside a face pick it).
        q = np.abs(local) - self.half_m[box]
        axis = np.argmax(q, axis=1)
        sign = np.sign(local[np.arange(len(p)), axis])
        sign[sign == 0] = 1.0
        return self.rotations[box][:, axis].T * sign[:, None]


def box_signed_distance(points: np.ndarray, obj: SceneObject) -> np.ndarray:
    """(k,) float64 metres from world points (k, 3) to ``obj``'s box surface; negative inside."""
    return BoxSet.from_objects([obj]).signed_distances(points)[:, 0]
