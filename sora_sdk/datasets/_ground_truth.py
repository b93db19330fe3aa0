"""Ground truth of a synthetic room as plain data: objects, planes, and the room's triangle mesh.

World frame: right-handed, metres, +Z up, floor at z = 0. Each type converts to its core
counterpart (:class:`~sora_sdk.core.scene.SceneObject`, :class:`~sora_sdk.core.scene.Plane`) so
tests can compare what the pipeline found with what is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from sora_sdk.core.errors import NotFoundError
from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import Plane, PlaneLabel, SceneObject

__all__ = ["GroundTruthObject", "GroundTruthPlane", "SyntheticRoom"]


@dataclass(frozen=True, eq=False)
class GroundTruthObject:
    """A small object on a support surface.

    pose_world_box : T_W_B of its tight oriented box (box centre, box axes; B's z is world +Z)
    size_m : (3,) float64 box edge lengths along the box's x, y, z, metres
    centroid_world_m : (3,) float64 volume centroid of the object's mesh, world frame
    support_id : ``plane_id`` of the :class:`GroundTruthPlane` it stands on
    """

    object_id: str
    label: str  # "<colour> <class>", e.g. "red mug"
    class_name: str
    color_name: str
    color_rgb: tuple[int, int, int]
    pose_world_box: Pose
    size_m: np.ndarray
    centroid_world_m: np.ndarray
    support_id: str

    @property
    def bottom_z_m(self) -> float:
        return float(self.pose_world_box.translation[2] - 0.5 * self.size_m[2])

    def box_corners_world_m(self) -> np.ndarray:
        """(8, 3) float64 corners of the oriented box, world frame."""
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
        return self.pose_world_box.transform_points(0.5 * signs * self.size_m)

    def to_scene_object(self, version: int = 0) -> SceneObject:
        """As the core type, confirmed and fully confident."""
        return SceneObject(
            object_id=self.object_id,
            version=version,
            label=self.class_name,
            label_confidence=1.0,
            state="confirmed",
            pose_world_box=self.pose_world_box,
            size_m=np.array(self.size_m, dtype=np.float64),
            color_rgb=self.color_rgb,
            color_name=self.color_name,
            support_plane_id=self.support_id,
        )


@dataclass(frozen=True, eq=False)
class GroundTruthPlane:
    """A planar surface: points p on it satisfy ``normal_world . p + offset_m = 0``.

    normal_world : (3,) float64 unit, pointing to the side the surface is seen from (into the room,
        up for table tops and boards)
    polygon_world_m : (k, 3) float64 boundary, counter-clockwise seen from the normal side
    """

    plane_id: str
    label: PlaneLabel
    normal_world: np.ndarray
    offset_m: float
    polygon_world_m: np.ndarray

    @property
    def area_m2(self) -> float:
        p = self.polygon_world_m
        cross = np.cross(p - p[0], np.roll(p, -1, axis=0) - p[0]).sum(axis=0)
        return float(0.5 * abs(cross @ self.normal_world))

    def to_core_plane(self, version: int = 0) -> Plane:
        """As the core type: plane frame at the polygon's vertex mean, x along the first edge."""
        p = self.polygon_world_m
        origin = p.mean(axis=0)
        x_axis = p[1] - p[0]
        x_axis = x_axis / np.linalg.norm(x_axis)
        y_axis = np.cross(self.normal_world, x_axis)
        rotation = np.column_stack([x_axis, y_axis, self.normal_world])
        pose = Pose.from_rotation_translation(rotation, origin)
        local = (p - origin) @ rotation
        extent = local[:, :2].max(axis=0) - local[:, :2].min(axis=0)
        return Plane(
            plane_id=self.plane_id,
            version=version,
            label=self.label,
            pose_world_plane=pose,
            extent_m=(float(extent[0]), float(extent[1])),
            boundary_plane_m=local[:, :2].astype(np.float32),
            area_m2=self.area_m2,
        )


@dataclass(frozen=True, eq=False)
class SyntheticRoom:
    """A generated room: ground truth plus its triangle mesh.

    size_m : (3,) float64 room extents x, y, z; the room spans [-x/2, x/2] x [-y/2, y/2] x [0, z]
    vertices : (n, 3) float64 world metres (values exactly representable as float32)
    triangles : (m, 3) int32, counter-clockwise seen from outside each solid and from inside the room
    triangle_colors : (m, 3) uint8 RGB albedo
    triangle_elements : (m,) int32 index into ``element_ids`` ("floor", "table", "chair_0",
        "shelf", an object_id…); each element's triangles are contiguous
    """

    seed: int
    size_m: np.ndarray
    objects: tuple[GroundTruthObject, ...]
    planes: tuple[GroundTruthPlane, ...]
    element_ids: tuple[str, ...]
    vertices: np.ndarray
    triangles: np.ndarray
    triangle_colors: np.ndarray
    triangle_elements: np.ndarray
    _element_index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_element_index", {e: i for i, e in enumerate(self.element_ids)})

    def object(self, object_id: str) -> GroundTruthObject:
        for o in self.objects:
            if o.object_id == object_id:
                return o
        raise NotFoundError(f"no object {object_id!r} in the synthetic room")

    def plane(self, plane_id: str) -> GroundTruthPlane:
        for p in self.planes:
            if p.plane_id == plane_id:
                return p
        raise NotFoundError(f"no plane {plane_id!r} in the synthetic room")

    def element_index(self, element_id: str) -> int:
        try:
            return self._element_index[element_id]
        except KeyError:
            raise NotFoundError(f"no element {element_id!r} in the synthetic room") from None

    @property
    def table_center_world_m(self) -> np.ndarray:
        """(3,) float64 centre of the table top surface."""
        return self.plane("table_top").polygon_world_m.mean(axis=0)

    def to_trimesh(self, element_id: str | None = None) -> trimesh.Trimesh:
        """The whole room (or one element) as a trimesh with per-face colours; vertices are shared."""
        faces = self.triangles
        colors = self.triangle_colors
        if element_id is not None:
            keep = self.triangle_elements == self.element_index(element_id)
            faces, colors = faces[keep], colors[keep]
        rgba = np.concatenate([colors, np.full((len(colors), 1), 255, np.uint8)], axis=1)
        mesh = trimesh.Trimesh(self.vertices, faces, face_colors=rgba, process=False)
        if element_id is not None:
            mesh.remove_unreferenced_vertices()
        return mesh
