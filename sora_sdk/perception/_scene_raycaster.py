"""One raycaster over everything a ray can name: objects (oriented boxes), planes and the mesh.

Every consumer (gaze, pointing) takes a plain ``Raycaster`` callable,
``(origin (3,), direction (3,) unit, max_distance_m) -> RaycastHit | None`` (the signature of
``Mapper.raycast``). :class:`SceneRaycaster` is one: it wraps the map's mesh raycast and adds the
objects and planes the session knows, so a ray names the cup rather than the mesh triangles of the cup.

Precedence: the surfaces of an object and of its supporting plane are also in the mesh, within the
noise of the reconstruction. So an object wins when its box is hit no farther than
``surface_margin_m`` behind the nearest plane or mesh hit, and a plane wins over the mesh the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..core.scene import Plane, RaycastHit, SceneObject
from ._box_geometry import BoxSet
from ._gaze import Raycaster

__all__ = ["SceneRaycaster"]


class _PlaneSet:
    """Planes stacked for a vectorised ray test; polygons checked only for the candidates hit."""

    def __init__(self, planes: Iterable[Plane]) -> None:
        self.planes = list(planes)
        n = len(self.planes)
        self.normals = np.zeros((n, 3))
        self.points = np.zeros((n, 3))
        self.rotations = np.zeros((n, 3, 3))
        self.offsets = np.zeros(n)
        # Per plane: polygon edges (x0, y0, x1, y1, dx/dy) for the crossing-number test, or None
        # to use the extent rectangle.
        self.edges: list[list[tuple[float, float, float, float]] | None] = []
        for i, p in enumerate(self.planes):
            self.rotations[i] = p.pose_world_plane.rotation
            self.normals[i] = self.rotations[i][:, 2]
            self.points[i] = p.pose_world_plane.translation
            self.offsets[i] = self.normals[i] @ self.points[i]
            poly = np.asarray(p.boundary_plane_m, dtype=np.float64)
            if poly.ndim == 2 and poly.shape[0] >= 3:
                x0, y0 = poly[:, 0], poly[:, 1]
                x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
                dy = np.where(y1 == y0, 1e-12, y1 - y0)
                self.edges.append(
                    list(zip(x0.tolist(), y0.tolist(), y1.tolist(), ((x1 - x0) / dy).tolist(), strict=True))
                )
            else:
                self.edges.append(None)
        self._normals_py = [tuple(v) for v in self.normals.tolist()]
        self._offsets_py = self.offsets.tolist()
        self._points_py = [tuple(v) for v in self.points.tolist()]
        # Plane x and y axes as rows (world -> plane coordinates).
        self._axes_py = [tuple(r[:, 0].tolist() + r[:, 1].tolist()) for r in self.rotations]

    def cast(self, origin: np.ndarray, direction: np.ndarray, max_distance_m: float) -> tuple[int, float]:
        """Nearest plane whose polygon the ray crosses within range: (index, distance) or (-1, inf)."""
        if not self.planes:
            return -1, np.inf
        # Plain floats: there are a handful of planes and numpy's per-call overhead would dominate.
        ox, oy, oz = origin.tolist()
        dx, dy, dz = direction.tolist()
        cands = []
        for i, (nx, ny, nz) in enumerate(self._normals_py):
            denom = nx * dx + ny * dy + nz * dz
            if -1e-9 < denom < 1e-9:
                continue
            t = (self._offsets_py[i] - (nx * ox + ny * oy + nz * oz)) / denom
            if 0.0 < t <= max_distance_m:
                cands.append((t, i))
        cands.sort()
        for t, i in cands:
            (r00, r01, r02, r10, r11, r12), (px, py, pz) = self._axes_py[i], self._points_py[i]
            qx, qy, qz = ox + t * dx - px, oy + t * dy - py, oz + t * dz - pz
            if self._inside(i, r00 * qx + r01 * qy + r02 * qz, r10 * qx + r11 * qy + r12 * qz):
                return i, t
        return -1, np.inf

    def _inside(self, i: int, x: float, y: float) -> bool:
        edges = self.edges[i]
        if edges is None:
            ex, ey = self.planes[i].extent_m
            return abs(x) <= 0.5 * ex and abs(y) <= 0.5 * ey
        inside = False
        for x0, y0, y1, slope in edges:
            if (y0 > y) != (y1 > y) and x < x0 + slope * (y - y0):
                inside = not inside
        return inside


class SceneRaycaster:
    """A ``Raycaster`` over objects, planes and (optionally) the map's mesh raycaster.

    Objects whose state is ``"removed"`` are ignored. Call :meth:`set_objects` / :meth:`set_planes`
    whenever the scene changes; a call is cheap (arrays of a few numbers per object).
    """

    def __init__(
        self,
        mesh_raycast: Raycaster | None = None,
        *,
        objects: Iterable[SceneObject] = (),
        planes: Iterable[Plane] = (),
        surface_margin_m: float = 0.05,
    ) -> None:
        self._mesh = mesh_raycast
        self.surface_margin_m = surface_margin_m
        self._objects: list[SceneObject] = []
        self._boxes = BoxSet.from_objects([])
        self._planes = _PlaneSet([])
        self.set_objects(objects)
        self.set_planes(planes)

    def set_objects(self, objects: Iterable[SceneObject]) -> None:
        self._objects = [o for o in objects if o.state != "removed"]
        self._boxes = BoxSet.from_objects(self._objects)

    def set_planes(self, planes: Iterable[Plane]) -> None:
        self._planes = _PlaneSet(planes)

    @property
    def objects(self) -> list[SceneObject]:
        return list(self._objects)

    def __call__(
        self, origin_world_m: np.ndarray, direction_world: np.ndarray, max_distance_m: float = 10.0
    ) -> RaycastHit | None:
        o = np.asarray(origin_world_m, dtype=np.float64)
        d = np.asarray(direction_world, dtype=np.float64)
        bi, bt, bn = self._boxes.cast(o, d, max_distance_m)
        pi, pt = self._planes.cast(o, d, max_distance_m)
        mesh_hit = self._mesh(o, d, max_distance_m) if self._mesh is not None else None
        mt = mesh_hit.distance_m if mesh_hit is not None else np.inf
        margin = self.surface_margin_m
        if bi >= 0 and bt <= min(pt, mt) + margin:
            return RaycastHit(o + bt * d, bn, bt, "object", object_id=self._boxes.ids[bi])
        if pi >= 0 and pt <= mt + margin:
            n = self._planes.normals[pi]
            if float(n @ d) > 0:
                n = -n
            return RaycastHit(o + pt * d, n, pt, "plane", plane_id=self._planes.planes[pi].plane_id)
        return mesh_hit
