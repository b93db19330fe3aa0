"""``rearrange_room``: the synthetic room with some objects removed and some moved (for the tracking tests)."""

from __future__ import annotations

import numpy as np
import pytest

from sora_sdk.core import InvalidArgumentError
from sora_sdk.datasets import generate_room
from sora_sdk.datasets._synthetic import rearrange_room


@pytest.fixture(scope="module", params=[0, 1, 2])
def rooms(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    room = generate_room(request.param)
    remove = (room.objects[0].object_id,)
    move = tuple(o.object_id for o in room.objects if o.support_id in ("table_top", "floor"))[1:3]
    return room, rearrange_room(room, remove=remove, move=move, seed=7), remove, move


def test_removed_objects_are_gone_and_the_rest_is_untouched(rooms) -> None:  # type: ignore[no-untyped-def]
    room, after, remove, move = rooms
    assert [o.object_id for o in after.objects] == [o.object_id for o in room.objects if o.object_id not in remove]
    assert set(after.element_ids) == set(room.element_ids) - set(remove)
    for element in after.element_ids:
        if element in move:
            continue
        old = room.to_trimesh(element)
        new = after.to_trimesh(element)
        assert np.array_equal(old.vertices, new.vertices) and np.array_equal(old.faces, new.faces), element
    assert after.planes == room.planes


def test_moved_objects_are_moved_rigidly_onto_free_spots(rooms) -> None:  # type: ignore[no-untyped-def]
    room, after, _, move = rooms
    for gid in move:
        old, new = room.object(gid), after.object(gid)
        assert new.support_id == old.support_id and new.label == old.label
        assert new.bottom_z_m == pytest.approx(old.bottom_z_m)
        assert np.linalg.norm(new.pose_world_box.translation[:2] - old.pose_world_box.translation[:2]) >= 0.3
        # The mesh moved with the box: the same shape in the box frame.
        a = old.pose_world_box.inverse().transform_points(room.to_trimesh(gid).vertices)
        b = new.pose_world_box.inverse().transform_points(after.to_trimesh(gid).vertices)
        assert np.abs(a - b).max() < 1e-5
        assert np.allclose(new.pose_world_box.inverse().transform_points(new.centroid_world_m[None]),
                           old.pose_world_box.inverse().transform_points(old.centroid_world_m[None]))  # fmt: skip
        # On its support's rectangle, clear of the other objects there.
        plane = after.plane(new.support_id).polygon_world_m
        corners = new.box_corners_world_m()[:, :2]
        assert np.all(corners >= plane[:, :2].min(axis=0) - 1e-6) and np.all(corners <= plane[:, :2].max(axis=0) + 1e-6)
        radius = 0.5 * np.hypot(*new.size_m[:2])
        for other in after.objects:
            if other.object_id != gid and other.support_id == new.support_id:
                gap = np.linalg.norm(other.pose_world_box.translation[:2] - new.pose_world_box.translation[:2])
                assert gap >= radius + 0.5 * np.hypot(*other.size_m[:2]), (gid, other.object_id)


def test_bad_requests_are_refused() -> None:
    room = generate_room(0)
    with pytest.raises(InvalidArgumentError):
        rearrange_room(room, remove=("obj_99",))
    with pytest.raises(InvalidArgumentError):
        rearrange_room(room, remove=("obj_00",), move=("obj_00",))
    same = rearrange_room(room)
    assert np.array_equal(same.vertices, room.vertices) and np.array_equal(same.triangles, room.triangles)
