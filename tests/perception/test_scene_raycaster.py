"""SceneRaycaster: objects before planes before the mesh, exact box and polygon hits."""

from __future__ import annotations

import numpy as np
import pytest
from perception_helpers import box, horizontal_plane, rotation_about

from sora_sdk.core import Plane, PlaneLabel, Pose, RaycastHit
from sora_sdk.perception import SceneRaycaster, box_signed_distance
from sora_sdk.perception._box_geometry import BoxSet

EYE = np.array([0.0, 1.5, 0.0])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.fixture
def scene() -> SceneRaycaster:
    cup = box("cup", np.array([0.0, 0.80, -1.0]), 0.1)  # on the table (top at 0.75)
    table = horizontal_plane("table", 0.75, (0.0, -1.0), (1.2, 0.8))
    floor = horizontal_plane("floor", 0.0, (0.0, -1.0), (6.0, 6.0), PlaneLabel.FLOOR)
    return SceneRaycaster(objects=[cup], planes=[table, floor])


def test_object_then_plane_then_nothing(scene: SceneRaycaster) -> None:
    hit = scene(EYE, _unit(np.array([0.0, 0.85, -1.0]) - EYE), 10.0)
    assert hit is not None and hit.target == "object" and hit.object_id == "cup"
    assert hit.point_world_m[1] == pytest.approx(0.85, abs=1e-6)  # looking down: the cup's top
    assert hit.normal_world == pytest.approx([0.0, 1.0, 0.0])
    hit = scene(np.array([0.0, 0.8, 0.0]), np.array([0.0, 0.0, -1.0]), 10.0)
    assert hit is not None and hit.object_id == "cup"
    assert hit.point_world_m == pytest.approx([0.0, 0.8, -0.95])  # level: its front face
    assert hit.normal_world == pytest.approx([0.0, 0.0, 1.0])
    assert hit.distance_m == pytest.approx(0.95)
    hit = scene(EYE, _unit(np.array([0.3, 0.75, -1.2]) - EYE), 10.0)
    assert hit is not None and hit.target == "plane" and hit.plane_id == "table"
    assert hit.normal_world == pytest.approx([0.0, 1.0, 0.0])
    assert hit.point_world_m == pytest.approx([0.3, 0.75, -1.2])
    hit = scene(EYE, _unit(np.array([1.0, 0.0, -1.0]) - EYE), 10.0)
    assert hit is not None and hit.plane_id == "floor"
    assert scene(EYE, np.array([0.0, 1.0, 0.0]), 10.0) is None
    assert scene(EYE, _unit(np.array([0.0, 0.85, -1.0]) - EYE), 0.5) is None  # out of range


def test_mesh_hits_defer_to_objects_and_planes_within_the_margin(scene: SceneRaycaster) -> None:
    def mesh_at(distance: float):
        def cast(o: np.ndarray, d: np.ndarray, max_d: float) -> RaycastHit | None:
            return RaycastHit(o + distance * d, -d, distance, "mesh", chunk_key=(0, 0, 0))

        return cast

    d = _unit(np.array([0.0, 0.85, -1.0]) - EYE)
    cup_distance = scene(EYE, d, 10.0).distance_m  # type: ignore[union-attr]
    # The reconstructed surface of the cup is 3 cm in front of its box: still the cup.
    near = SceneRaycaster(mesh_at(cup_distance - 0.03), objects=scene.objects)
    assert near(EYE, d, 10.0).object_id == "cup"  # type: ignore[union-attr]
    # A wall (mesh) 30 cm in front of the cup hides it.
    wall = SceneRaycaster(mesh_at(cup_distance - 0.3), objects=scene.objects)
    assert wall(EYE, d, 10.0).target == "mesh"  # type: ignore[union-attr]


def test_polygon_boundary_not_just_the_extent() -> None:
    """An L-shaped floor: a ray into the missing corner misses though it is inside the extent."""
    rot = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # plane x = world x, y = world -z, normal +y
    ell = np.array([[-1, -1], [1, -1], [1, 0], [0, 0], [0, 1], [-1, 1]], dtype=np.float64)
    plane = Plane("L", 1, PlaneLabel.FLOOR, Pose.from_rotation_translation(rot, np.zeros(3)), (2.0, 2.0), ell, 3.0)
    rc = SceneRaycaster(planes=[plane])
    down = np.array([0.0, -1.0, 0.0])
    assert rc(np.array([-0.5, 1.0, 0.5]), down, 5.0) is not None  # plane (x, y) = (-0.5, -0.5)
    assert rc(np.array([0.5, 1.0, -0.5]), down, 5.0) is None  # plane (0.5, 0.5): the notch


def test_python_and_vectorised_box_tests_agree() -> None:
    """The small-set path (plain floats) and the vectorised one give the same hits on 2000 random rays."""
    rng = np.random.default_rng(0)
    objects = []
    for i in range(30):
        rot = rotation_about(rng.normal(size=3), rng.uniform(0, 3.0))
        objects.append(box(f"b{i}", rng.uniform(-2, 2, 3), rng.uniform(0.05, 0.6, 3), rot))
    big = BoxSet.from_objects(objects)  # 30 boxes: vectorised
    singles = [BoxSet.from_objects([ob]) for ob in objects]  # one box at a time: the plain-float path
    for _ in range(2000):
        o = rng.uniform(-3, 3, 3)
        d = _unit(rng.normal(size=3))
        i, t, n = big.cast(o, d, 10.0)
        best = (-1, np.inf)
        for j, single in enumerate(singles):
            jj, tj, _ = single.cast(o, d, 10.0)
            if jj == 0 and tj < best[1]:
                best = (j, tj)
        assert i == best[0]
        if i >= 0:
            assert t == pytest.approx(best[1], abs=1e-9)
            # The hit point is on the surface and the normal faces the ray.
            assert abs(box_signed_distance((o + t * d)[None], objects[i])[0]) < 1e-9
            assert float(n @ d) < 0


def test_signed_distance_inside_and_outside() -> None:
    ob = box("b", np.zeros(3), np.array([0.2, 0.4, 0.6]))
    pts = np.array([[0.0, 0.0, 0.0], [0.2, 0.0, 0.0], [0.2, 0.3, 0.0], [0.05, 0.0, 0.0]])
    assert box_signed_distance(pts, ob) == pytest.approx([-0.1, 0.1, np.hypot(0.1, 0.1), -0.05])


def test_perception_shares_the_raycaster_it_is_given(scene: SceneRaycaster) -> None:
    """A session hands its raycaster (over the map's mesh too) to perception: one set of planes and
    objects, built once per update, that perception's own calls and the session's both see."""
    from sora_sdk.perception import Perception

    def far_mesh(o: np.ndarray, d: np.ndarray, max_d: float) -> RaycastHit | None:
        return RaycastHit(o + 9.0 * d, -d, 9.0, "mesh", chunk_key=(0, 0, 0))

    shared = SceneRaycaster(far_mesh)
    perception = Perception(raycaster=shared)
    assert perception.raycaster is shared
    to_cup = _unit(np.array([0.0, 0.85, -1.0]) - EYE)
    assert shared(EYE, to_cup, 10.0).target == "mesh"  # type: ignore[union-attr]
    perception.set_objects(scene.objects)
    assert shared(EYE, to_cup, 10.0).object_id == "cup"  # type: ignore[union-attr]
    perception.set_planes([horizontal_plane("table", 0.75, (0.0, -1.0), (1.2, 0.8))])
    hit = shared(EYE, _unit(np.array([0.3, 0.75, -1.2]) - EYE), 10.0)
    assert hit is not None and hit.plane_id == "table"
    assert Perception().raycaster is not Perception().raycaster  # by default each has its own
