from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import open3d as o3d
import pytest

from sora_sdk.core.errors import InvalidArgumentError
from sora_sdk.core.scene import PlaneLabel
from sora_sdk.datasets import (
    OBJECT_CLASSES,
    OBJECT_COLORS,
    GroundTruthObject,
    SyntheticRoom,
    generate_room,
    orbit_trajectory,
    render_object_masks,
    synthetic_intrinsics,
)

SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def any_room(request: pytest.FixtureRequest) -> SyntheticRoom:
    return generate_room(request.param)


def _same_room(a: SyntheticRoom, b: SyntheticRoom) -> bool:
    arrays = ("vertices", "triangles", "triangle_colors", "triangle_elements", "size_m")
    if not all(np.array_equal(getattr(a, n), getattr(b, n)) for n in arrays):
        return False
    if a.element_ids != b.element_ids or len(a.objects) != len(b.objects):
        return False
    return all(
        x.label == y.label
        and x.support_id == y.support_id
        and x.pose_world_box == y.pose_world_box
        and np.array_equal(x.size_m, y.size_m)
        and np.array_equal(x.centroid_world_m, y.centroid_world_m)
        for x, y in zip(a.objects, b.objects, strict=True)
    )


def test_same_seed_same_room_other_seed_other_room() -> None:
    assert _same_room(generate_room(7), generate_room(7))
    assert not _same_room(generate_room(7), generate_room(8))
    labels_7 = [o.label for o in generate_room(7).objects]
    labels_8 = [o.label for o in generate_room(8).objects]
    assert labels_7 != labels_8


def test_room_has_shell_furniture_and_a_dozen_distinct_objects(any_room: SyntheticRoom) -> None:
    room = any_room
    np.testing.assert_allclose(room.size_m, [5.0, 4.0, 2.6])
    labels = Counter(p.label for p in room.planes)
    assert labels[PlaneLabel.FLOOR] == 1 and labels[PlaneLabel.CEILING] == 1 and labels[PlaneLabel.WALL] == 4
    assert labels[PlaneLabel.TABLE] == 1 and labels[PlaneLabel.SEAT] == 2
    for element in ("floor", "ceiling", "table", "chair_0", "chair_1", "shelf"):
        assert np.any(room.triangle_elements == room.element_index(element))
    assert len(room.objects) == 12
    assert len({o.label for o in room.objects}) == 12
    assert len({o.color_name for o in room.objects}) == 12
    assert len({o.class_name for o in room.objects}) >= 9
    for obj in room.objects:
        assert obj.class_name in OBJECT_CLASSES and obj.label == f"{obj.color_name} {obj.class_name}"
        assert obj.color_rgb == OBJECT_COLORS[obj.color_name]
        assert np.all(obj.size_m >= 0.08 - 1e-9) and np.all(obj.size_m <= 0.30 + 1e-9), obj.label
        faces = room.triangle_elements == room.element_index(obj.object_id)
        assert np.all(room.triangle_colors[faces] == obj.color_rgb)
    supports = Counter(room.plane(o.support_id).label for o in room.objects)
    assert supports[PlaneLabel.TABLE] >= 3 and supports[PlaneLabel.OTHER] >= 2 and supports[PlaneLabel.FLOOR] >= 1


def test_elements_are_contiguous_and_the_room_is_float32_exact(room: SyntheticRoom) -> None:
    assert np.all(np.diff(room.triangle_elements) >= 0)
    np.testing.assert_array_equal(room.vertices.astype(np.float32).astype(np.float64), room.vertices)
    assert room.to_trimesh().is_winding_consistent


def _object_vertices(room: SyntheticRoom, obj: GroundTruthObject) -> np.ndarray:
    faces = room.triangles[room.triangle_elements == room.element_index(obj.object_id)]
    return room.vertices[np.unique(faces)]


def test_oriented_boxes_are_tight(any_room: SyntheticRoom) -> None:
    for obj in any_room.objects:
        local = obj.pose_world_box.inverse().transform_points(_object_vertices(any_room, obj))
        np.testing.assert_allclose(local.min(axis=0), -obj.size_m / 2, atol=1e-5)
        np.testing.assert_allclose(local.max(axis=0), obj.size_m / 2, atol=1e-5)
        np.testing.assert_allclose(obj.pose_world_box.rotation[:, 2], [0, 0, 1], atol=1e-12)
        assert np.all(
            np.abs(obj.pose_world_box.inverse().transform_points(obj.centroid_world_m[None])) <= obj.size_m / 2
        )


def test_objects_rest_on_their_support(any_room: SyntheticRoom) -> None:
    for obj in any_room.objects:
        support = any_room.plane(obj.support_id)
        assert support.label in (PlaneLabel.FLOOR, PlaneLabel.TABLE, PlaneLabel.OTHER)
        support_z = -support.offset_m  # horizontal, normal +Z
        np.testing.assert_allclose(support.normal_world, [0, 0, 1])
        assert abs(obj.bottom_z_m - support_z) < 1e-3, obj.label
        assert abs(_object_vertices(any_room, obj)[:, 2].min() - support_z) < 1e-3, obj.label
        # The whole box footprint lies on the support.
        corners = obj.box_corners_world_m()[:, :2]
        lo, hi = support.polygon_world_m[:, :2].min(axis=0), support.polygon_world_m[:, :2].max(axis=0)
        assert np.all(corners >= lo - 1e-9) and np.all(corners <= hi + 1e-9), obj.label


def _boxes_overlap(a: GroundTruthObject, b: GroundTruthObject) -> bool:
    """Separating-axis test for two oriented boxes."""
    ra, rb = a.pose_world_box.rotation, b.pose_world_box.rotation
    ha, hb = a.size_m / 2, b.size_m / 2
    d = b.pose_world_box.translation - a.pose_world_box.translation
    axes = [*ra.T, *rb.T]
    axes += [np.cross(x, y) for x in ra.T for y in rb.T]
    for axis in axes:
        norm = np.linalg.norm(axis)
        if norm < 1e-9:
            continue
        axis = axis / norm
        reach = np.abs(ra.T @ axis) @ ha + np.abs(rb.T @ axis) @ hb
        if abs(d @ axis) > reach:
            return False
    return True


def test_objects_do_not_intersect_each_other(any_room: SyntheticRoom) -> None:
    for a, b in itertools.combinations(any_room.objects, 2):
        assert not _boxes_overlap(a, b), (a.label, b.label)


def test_objects_do_not_intersect_furniture(any_room: SyntheticRoom) -> None:
    room = any_room
    furniture = np.isin(
        room.triangle_elements, [room.element_index(e) for e in ("table", "chair_0", "chair_1", "shelf")]
    )
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(_tensor(room.vertices.astype(np.float32)), _tensor(room.triangles[furniture].astype(np.uint32)))
    furniture_points = room.vertices[np.unique(room.triangles[furniture])]
    for obj in room.objects:
        points = _tensor(_object_vertices(room, obj).astype(np.float32))
        # Outside every furniture solid, or on its surface (the base touches the support).
        signed = scene.compute_signed_distance(points).numpy()
        assert signed.min() > -1e-4, obj.label
        local = obj.pose_world_box.inverse().transform_points(furniture_points)
        in_box = np.all(np.abs(local) < obj.size_m / 2 - 1e-3, axis=1)
        assert not in_box.any(), obj.label


def test_planes_are_consistent(any_room: SyntheticRoom) -> None:
    for plane in any_room.planes:
        n, poly = plane.normal_world, plane.polygon_world_m
        assert np.linalg.norm(n) == pytest.approx(1.0)
        np.testing.assert_allclose(poly @ n + plane.offset_m, 0.0, atol=1e-9)
        # Counter-clockwise seen from the normal side, and the normal faces into the room.
        turn = np.cross(poly[1] - poly[0], poly[2] - poly[1]) @ n
        assert turn > 0, plane.plane_id
        center = poly.mean(axis=0)
        room_center = np.array([0.0, 0.0, any_room.size_m[2] / 2])
        if plane.label in (PlaneLabel.WALL, PlaneLabel.CEILING, PlaneLabel.FLOOR):
            assert (room_center - center) @ n > 0, plane.plane_id
        core = plane.to_core_plane()
        np.testing.assert_allclose(core.normal_world, n)
        assert core.area_m2 == pytest.approx(plane.area_m2)
        assert core.label == plane.label
    assert any_room.plane("floor").area_m2 == pytest.approx(20.0)


def test_scene_object_conversion(room: SyntheticRoom) -> None:
    obj = room.objects[0]
    scene_object = obj.to_scene_object()
    assert scene_object.label == obj.class_name and scene_object.color_name == obj.color_name
    assert scene_object.support_plane_id == obj.support_id
    np.testing.assert_array_equal(scene_object.centroid_world_m, obj.pose_world_box.translation)


def test_every_object_is_seen_in_several_frames_of_the_default_loop(any_room: SyntheticRoom) -> None:
    masks = render_object_masks(any_room, orbit_trajectory(any_room), synthetic_intrinsics(320, 240))
    counts = np.array([np.bincount(m[m >= 0].ravel(), minlength=len(any_room.objects)) for m in masks])
    frames_seen = (counts >= 100).sum(axis=0)  # >= 100 px at 320x240, i.e. >= 400 px at 640x480
    for obj, seen in zip(any_room.objects, frames_seen, strict=True):
        assert seen >= 5, f"{obj.label} on {obj.support_id} seen in {seen} frames"


def test_fewer_objects_and_bounds() -> None:
    assert len(generate_room(0, n_objects=3).objects) == 3
    assert generate_room(0, n_objects=0).objects == ()
    with pytest.raises(InvalidArgumentError):
        generate_room(0, n_objects=13)


def _tensor(array: np.ndarray) -> o3d.core.Tensor:
    return o3d.core.Tensor.from_numpy(np.ascontiguousarray(array))
