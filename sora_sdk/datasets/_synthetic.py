"""A deterministic furnished room with exact ground truth.

The world frame is right-handed, metres, +Z up, the floor at z = 0; the room spans
``[-sx/2, sx/2] x [-sy/2, sy/2] x [0, sz]``. ``generate_room(seed)`` builds floor, ceiling and four
walls (textured with tiles and panels so photometric methods have something to track), a table,
two chairs, a shelf unit against a long wall, and up to twelve small objects of distinct colours
resting on the table, the shelf boards and the floor without touching each other.

Everything is one triangle soup with a colour and an element id per triangle; the ground-truth types
live in ``_ground_truth``, rendering in ``_synthetic_render``, files in ``_synthetic_io``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from sora_sdk.core.errors import InvalidArgumentError
from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import NAMED_COLORS, PlaneLabel

from ._ground_truth import GroundTruthObject, GroundTruthPlane, SyntheticRoom

__all__ = ["OBJECT_CLASSES", "OBJECT_COLORS", "generate_room", "orbit_axes_m", "rearrange_room"]

#: Colour names and the albedo (uint8 RGB) objects of that name are painted with: the names the
#: object layer describes colours by (``core.scene.NAMED_COLORS``).
OBJECT_COLORS: dict[str, tuple[int, int, int]] = NAMED_COLORS

#: Object class labels, each a distinct shape.
OBJECT_CLASSES: tuple[str, ...] = (
    "box", "cube", "can", "ball", "cone", "pyramid", "ring", "mug", "bottle", "capsule",
)  # fmt: skip

ROOM_SIZE_M = (5.0, 4.0, 2.6)
TABLE_SIZE_M = (1.4, 0.8)
TABLE_HEIGHT_M = 0.75
SEAT_HEIGHT_M = 0.46
SHELF_SIZE_M = (0.35, 1.0, 1.6)  # depth (out of the wall), width (along it), height
SHELF_BOARD_HEIGHTS_M = (0.42, 0.82, 1.22)  # top surfaces that carry objects
_PANEL_M = 0.02  # board and panel thickness
_GAP_M = 0.03  # least clearance between objects, and between objects and furniture
_FLOOR = (176, 160, 140), (156, 142, 124)
_WALLS = {"wall_west": (205, 200, 190), "wall_east": (190, 200, 205), "wall_south": (200, 205, 190),
          "wall_north": (205, 195, 200)}  # fmt: skip
_CEILING = (240, 240, 238)
_TABLE = (190, 160, 120)
_CHAIR = (70, 80, 95)
_SHELF = (200, 185, 160)


def orbit_axes_m(size_m: np.ndarray) -> tuple[float, float]:
    """Semi-axes (x, y) of the camera loop around the table; objects on the floor stay inside it."""
    return float(size_m[0] / 2 - 0.8), float(size_m[1] / 2 - 0.9)


def generate_room(seed: int = 0, *, n_objects: int = 12) -> SyntheticRoom:
    """A furnished 5 x 4 x 2.6 m room with ``n_objects`` (0..12) small objects; same seed, same room.

    The seed moves the table (within 10 cm), picks the shelf's wall and the chairs' places, and
    draws every object's class, colour, size (8-30 cm per edge), support, position and heading.
    """
    if not 0 <= n_objects <= len(OBJECT_COLORS):
        raise InvalidArgumentError.field("n_objects", f"must be in 0..{len(OBJECT_COLORS)}, got {n_objects}")
    rng = np.random.default_rng(seed)
    size = np.array(ROOM_SIZE_M, dtype=np.float64)
    builder = _MeshBuilder()
    planes: list[GroundTruthPlane] = []
    _add_shell(builder, planes, size)
    surfaces, obstacles = _add_furniture(builder, planes, size, rng)
    objects = _add_objects(builder, surfaces, obstacles, size, n_objects, rng)
    vertices, triangles, colors, elements = builder.arrays()
    return SyntheticRoom(
        seed=seed,
        size_m=size,
        objects=tuple(objects),
        planes=tuple(planes),
        element_ids=tuple(builder.element_ids),
        vertices=vertices,
        triangles=triangles,
        triangle_colors=colors,
        triangle_elements=elements,
    )


# --- building blocks -------------------------------------------------------------------------


class _MeshBuilder:
    """Collects coloured triangle meshes, one element (a contiguous triangle range) at a time."""

    def __init__(self) -> None:
        self.element_ids: list[str] = []
        self._vertices: list[np.ndarray] = []
        self._faces: list[np.ndarray] = []
        self._colors: list[np.ndarray] = []
        self._elements: list[np.ndarray] = []
        self._count = 0

    def add(self, element_id: str, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray) -> None:
        """Append triangles to ``element_id`` (a new element unless it is the last one added)."""
        if not self.element_ids or self.element_ids[-1] != element_id:
            if element_id in self.element_ids:
                raise ValueError(f"element {element_id} would not be contiguous")
            self.element_ids.append(element_id)
        colors = np.broadcast_to(np.asarray(colors, dtype=np.uint8), (len(faces), 3))
        self._vertices.append(np.asarray(vertices, dtype=np.float64))
        self._faces.append(np.asarray(faces, dtype=np.int64) + self._count)
        self._colors.append(colors)
        self._elements.append(np.full(len(faces), len(self.element_ids) - 1, dtype=np.int32))
        self._count += len(vertices)

    def add_mesh(self, element_id: str, mesh: trimesh.Trimesh, color: tuple[int, int, int]) -> None:
        self.add(element_id, mesh.vertices, mesh.faces, np.asarray(color))

    def add_box(self, element_id: str, lo: np.ndarray | list[float], hi: np.ndarray | list[float],
                color: tuple[int, int, int]) -> None:  # fmt: skip
        lo_a, hi_a = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        box = trimesh.creation.box(extents=hi_a - lo_a)
        box.apply_translation((lo_a + hi_a) / 2)
        self.add_mesh(element_id, box, color)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # Round vertices to float32 once so that the PLY file (float32) and the raycaster
        # (float32) hold exactly the geometry the ground truth describes.
        vertices = np.concatenate(self._vertices).astype(np.float32).astype(np.float64)
        return (
            vertices,
            np.concatenate(self._faces).astype(np.int32),
            np.ascontiguousarray(np.concatenate(self._colors)),
            np.concatenate(self._elements),
        )


def _quad_grid(corner: np.ndarray, u: np.ndarray, v: np.ndarray, nu: int, nv: int) -> tuple[np.ndarray, np.ndarray]:
    """Quad from ``corner`` spanning u, v, split into nu x nv tiles, two triangles each, facing u x v.

    Returns ((4 * nu * nv, 3) vertices, (2 * nu * nv, 3) faces), tiles in row-major (v, u) order.
    """
    verts: list[np.ndarray] = []
    faces: list[list[int]] = []
    for j in range(nv):
        for i in range(nu):
            o = corner + u * (i / nu) + v * (j / nv)
            du, dv = u / nu, v / nv
            k = len(verts)
            verts += [o, o + du, o + du + dv, o + dv]
            faces += [[k, k + 1, k + 2], [k, k + 2, k + 3]]
    return np.array(verts), np.array(faces)


def _rect_plane(plane_id: str, label: PlaneLabel, center: np.ndarray, u: np.ndarray, v: np.ndarray) -> GroundTruthPlane:
    """A rectangle centre +- u/2 +- v/2 with normal u x v (unit)."""
    n = np.cross(u, v)
    n = n / np.linalg.norm(n)
    corners = np.array([center - u / 2 - v / 2, center + u / 2 - v / 2, center + u / 2 + v / 2, center - u / 2 + v / 2])
    return GroundTruthPlane(plane_id, label, n, float(-n @ center), corners)


def _add_shell(builder: _MeshBuilder, planes: list[GroundTruthPlane], size: np.ndarray) -> None:
    sx, sy, sz = size
    ex, ey, ez = np.eye(3)
    lo = np.array([-sx / 2, -sy / 2, 0.0])
    # Floor: 0.5 m tiles in two tones, facing up.
    nu, nv = round(sx / 0.5), round(sy / 0.5)
    verts, faces = _quad_grid(lo, ex * sx, ey * sy, nu, nv)
    tile = np.add.outer(np.arange(nv), np.arange(nu)).ravel() % 2
    builder.add("floor", verts, faces, np.array(_FLOOR, dtype=np.uint8)[np.repeat(tile, 2)])
    planes.append(_rect_plane("floor", PlaneLabel.FLOOR, np.array([0, 0, 0.0]), ex * sx, ey * sy))
    # Walls: vertical 0.5 m panels in two shades, facing into the room.
    walls = {
        "wall_west": (np.array([-sx / 2, -sy / 2, 0]), ey * sy),
        "wall_east": (np.array([sx / 2, sy / 2, 0]), -ey * sy),
        "wall_south": (np.array([sx / 2, -sy / 2, 0]), -ex * sx),
        "wall_north": (np.array([-sx / 2, sy / 2, 0]), ex * sx),
    }
    for wall_id, (corner, along) in walls.items():
        n_panels = round(np.linalg.norm(along) / 0.5)
        verts, faces = _quad_grid(corner, along, ez * sz, n_panels, 1)
        base = np.array(_WALLS[wall_id], dtype=np.float64)
        shades = np.stack([base, base * 0.93]).astype(np.uint8)
        builder.add(wall_id, verts, faces, shades[np.repeat(np.arange(n_panels) % 2, 2)])
        planes.append(_rect_plane(wall_id, PlaneLabel.WALL, corner + along / 2 + ez * sz / 2, along, ez * sz))
    # Ceiling, facing down.
    verts, faces = _quad_grid(np.array([-sx / 2, sy / 2, sz]), ex * sx, -ey * sy, 1, 1)
    builder.add("ceiling", verts, faces, np.array(_CEILING))
    planes.append(_rect_plane("ceiling", PlaneLabel.CEILING, np.array([0, 0, sz]), ex * sx, -ey * sy))


@dataclass
class _Surface:
    """Where objects may stand: an axis-aligned rectangle at height z with headroom."""

    plane_id: str
    z_m: float
    lo_xy: np.ndarray
    hi_xy: np.ndarray
    headroom_m: float
    placed: list[tuple[np.ndarray, float]] = field(default_factory=list)  # (xy centre, radius)


def _add_furniture(
    builder: _MeshBuilder, planes: list[GroundTruthPlane], size: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, list[_Surface]], list[tuple[np.ndarray, np.ndarray]]]:
    """Table, two chairs, shelf -> (surfaces by kind, floor obstacles as (lo_xy, hi_xy) rectangles)."""
    ex, ey = np.eye(3)[:2]
    obstacles: list[tuple[np.ndarray, np.ndarray]] = []

    # Table, long side along x.
    center = rng.uniform(-0.1, 0.1, size=2)
    half = np.array(TABLE_SIZE_M) / 2
    t_lo, t_hi = center - half, center + half
    builder.add_box("table", [*t_lo, TABLE_HEIGHT_M - 0.04], [*t_hi, TABLE_HEIGHT_M], _TABLE)
    for sx_ in (-1, 1):
        for sy_ in (-1, 1):
            leg = center + np.array([sx_, sy_]) * (half - 0.05)
            builder.add_box("table", [*(leg - 0.025), 0.0], [*(leg + 0.025), TABLE_HEIGHT_M - 0.04], _TABLE)
    top = np.array([*center, TABLE_HEIGHT_M])
    planes.append(_rect_plane("table_top", PlaneLabel.TABLE, top, ex * TABLE_SIZE_M[0], ey * TABLE_SIZE_M[1]))
    obstacles.append((t_lo, t_hi))
    table = _Surface("table_top", TABLE_HEIGHT_M, t_lo, t_hi, headroom_m=1.0)

    # Shelf unit against the north or south wall, open towards the room; the chairs face the table
    # from the other long side, or one from there and one from an end.
    shelf_side = -1 if rng.uniform() < 0.5 else 1
    opposite = np.array([0.0, -shelf_side * (half[1] + 0.3)])
    if rng.uniform() < 0.5:
        chairs = [(center + opposite + [dx, 0], -np.sign(opposite)) for dx in (-0.35, 0.35)]
    else:
        end = np.array([(1 if rng.uniform() < 0.5 else -1) * (half[0] + 0.3), 0.0])
        chairs = [(center + opposite + [rng.uniform(-0.3, 0.3), 0], -np.sign(opposite)),
                  (center + end, -np.sign(end))]  # fmt: skip
    for k, (seat_xy, facing) in enumerate(chairs):
        obstacles.append(_add_chair(builder, planes, f"chair_{k}", seat_xy, facing))
    shelves, shelf_lo, shelf_hi = _add_shelf(builder, planes, size, shelf_side, rng.uniform(-0.8, 0.8))
    obstacles.append((shelf_lo, shelf_hi))

    floor = _Surface("floor", 0.0, -size[:2] / 2, size[:2] / 2, headroom_m=1.0)
    return {"table": [table], "shelf": shelves, "floor": [floor]}, obstacles


def _add_chair(
    builder: _MeshBuilder, planes: list[GroundTruthPlane], name: str, seat_xy: np.ndarray, facing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A chair whose seat is centred at ``seat_xy``, facing the unit axis ``facing`` (x or y)
    -> its footprint rectangle (lo_xy, hi_xy)."""
    ex, ey = np.eye(3)[:2]
    seat = 0.44
    lo, hi = seat_xy - seat / 2, seat_xy + seat / 2
    builder.add_box(name, [*lo, SEAT_HEIGHT_M - 0.04], [*hi, SEAT_HEIGHT_M], _CHAIR)
    for lx in (-1, 1):
        for ly in (-1, 1):
            leg = seat_xy + np.array([lx, ly]) * (seat / 2 - 0.03)
            builder.add_box(name, [*(leg - 0.02), 0.0], [*(leg + 0.02), SEAT_HEIGHT_M - 0.04], _CHAIR)
    # The backrest stands on the edge away from what the chair faces.
    back = seat_xy - facing * (seat / 2 - 0.02)
    half_back = np.where(facing != 0, 0.02, seat / 2)
    builder.add_box(name, [*(back - half_back), SEAT_HEIGHT_M], [*(back + half_back), SEAT_HEIGHT_M + 0.45], _CHAIR)
    planes.append(
        _rect_plane(f"{name}_seat", PlaneLabel.SEAT, np.array([*seat_xy, SEAT_HEIGHT_M]), ex * seat, ey * seat)
    )
    return lo, hi


def _add_shelf(
    builder: _MeshBuilder, planes: list[GroundTruthPlane], size: np.ndarray, side: int, x_center: float
) -> tuple[list[_Surface], np.ndarray, np.ndarray]:
    """A shelf unit against the wall at y = side * sy / 2 -> (its boards, footprint lo_xy, hi_xy)."""
    ex, ey = np.eye(3)[:2]
    depth, width, height = SHELF_SIZE_M
    p = _PANEL_M
    y_wall = side * size[1] / 2
    y_lo, y_hi = sorted((y_wall, y_wall - side * depth))
    x_lo, x_hi = x_center - width / 2, x_center + width / 2
    back_lo, back_hi = (y_hi - p, y_hi) if side > 0 else (y_lo, y_lo + p)
    builder.add_box("shelf", [x_lo, back_lo, 0], [x_hi, back_hi, height], _SHELF)
    builder.add_box("shelf", [x_lo, y_lo, 0], [x_lo + p, y_hi, height], _SHELF)
    builder.add_box("shelf", [x_hi - p, y_lo, 0], [x_hi, y_hi, height], _SHELF)
    inner_y = (y_lo, y_hi - p) if side > 0 else (y_lo + p, y_hi)
    inner_lo, inner_hi = np.array([x_lo + p, inner_y[0]]), np.array([x_hi - p, inner_y[1]])
    boards = [p, *SHELF_BOARD_HEIGHTS_M, height]
    shelves: list[_Surface] = []
    for k, z in enumerate(boards):
        builder.add_box("shelf", [*inner_lo, z - p], [*inner_hi, z], _SHELF)
        if 0 < k < len(boards) - 1:
            plane_id = f"shelf_board_{k - 1}"
            shelves.append(_Surface(plane_id, z, inner_lo, inner_hi, headroom_m=boards[k + 1] - p - z))
            ext = inner_hi - inner_lo
            mid = np.array([*(inner_lo + inner_hi) / 2, z])
            planes.append(_rect_plane(plane_id, PlaneLabel.OTHER, mid, ex * ext[0], ey * ext[1]))
    top = np.array([x_center, (y_lo + y_hi) / 2, height])
    planes.append(_rect_plane("shelf_top", PlaneLabel.OTHER, top, ex * width, ey * depth))
    return shelves, np.array([x_lo, y_lo]), np.array([x_hi, y_hi])


# --- objects ------------------------------------------------------------------------------------


def _add_objects(
    builder: _MeshBuilder,
    surfaces: dict[str, list[_Surface]],
    obstacles: list[tuple[np.ndarray, np.ndarray]],
    size: np.ndarray,
    n_objects: int,
    rng: np.random.Generator,
) -> list[GroundTruthObject]:
    classes = [OBJECT_CLASSES[i] for i in rng.permutation(len(OBJECT_CLASSES))]
    classes += [classes[i] for i in rng.integers(0, len(classes), size=max(0, n_objects - len(classes)))]
    color_names = [list(OBJECT_COLORS)[i] for i in rng.permutation(len(OBJECT_COLORS))]
    shapes = [_Shape.make(classes[k], rng) for k in range(n_objects)]

    # Share out: about 40 % on the table, a third on the shelf (among those that fit its depth),
    # the rest on the floor.
    n_shelf = round(0.33 * n_objects)
    n_floor = n_objects - round(0.42 * n_objects) - n_shelf
    shelf_depth = min(float(np.min(s.hi_xy - s.lo_xy)) for s in surfaces["shelf"])
    kinds = ["table"] * n_objects
    for k in rng.permutation(n_objects):
        if n_shelf and min(shapes[k].extents[:2]) <= shelf_depth - 2 * _GAP_M - 0.04:
            kinds[k], n_shelf = "shelf", n_shelf - 1
        elif n_floor:
            kinds[k], n_floor = "floor", n_floor - 1
    table_center = (surfaces["table"][0].lo_xy + surfaces["table"][0].hi_xy) / 2
    floor_ellipse = (table_center, np.array(orbit_axes_m(size)) - 0.35)

    objects: list[GroundTruthObject] = []
    for k, shape in enumerate(shapes):
        # Try the object's share first, then the others, so a wide object never blocks generation.
        placed = None
        for kind in [kinds[k]] + [s for s in ("table", "floor", "shelf") if s != kinds[k]]:
            candidates = [s for s in surfaces[kind] if shape.extents[2] <= s.headroom_m - _GAP_M]
            candidates = [candidates[i] for i in rng.permutation(len(candidates))]
            for surface in candidates:
                placed = _find_spot(
                    surface, shape, rng,
                    obstacles=obstacles if kind == "floor" else [],
                    ellipse=floor_ellipse if kind == "floor" else None,
                    # Long objects lie along the shelf, as anyone would put them.
                    along_x=kind == "shelf",
                )  # fmt: skip
                if placed is not None:
                    break
            if placed is not None:
                break
        if placed is None:
            raise InvalidArgumentError.field("n_objects", f"no room left for object {k} ({shape.class_name})")
        xy, yaw = placed
        surface.placed.append((xy, shape.radius))

        rotation = trimesh.transformations.rotation_matrix(yaw, [0, 0, 1])[:3, :3]
        pose = Pose.from_rotation_translation(rotation, np.array([*xy, surface.z_m + shape.extents[2] / 2]))
        object_id = f"obj_{k:02d}"
        color_name = color_names[k]
        color = OBJECT_COLORS[color_name]
        builder.add(object_id, pose.transform_points(shape.mesh.vertices), shape.mesh.faces, np.array(color))
        objects.append(
            GroundTruthObject(
                object_id=object_id,
                label=f"{color_name} {shape.class_name}",
                class_name=shape.class_name,
                color_name=color_name,
                color_rgb=color,
                pose_world_box=pose,
                size_m=shape.extents,
                centroid_world_m=pose.transform_points(shape.centroid[None])[0],
                support_id=surface.plane_id,
            )
        )
    return objects


@dataclass(frozen=True, eq=False)
class _Shape:
    """An object's mesh in its box frame (AABB centred at the origin, z up).

    extents : (3,) box edges, metres; centroid : (3,) volume centroid; radius : footprint circle
    """

    class_name: str
    mesh: trimesh.Trimesh
    extents: np.ndarray
    centroid: np.ndarray
    radius: float

    @classmethod
    def make(cls, class_name: str, rng: np.random.Generator) -> _Shape:
        parts = _make_parts(class_name, rng)
        vertices, faces = trimesh.util.append_faces([p.vertices for p in parts], [p.faces for p in parts])
        mesh = trimesh.Trimesh(vertices, faces, process=False)
        lo, hi = mesh.bounds
        center = (lo + hi) / 2
        mesh.apply_translation(-center)
        # Overlapping parts (a mug's handle dips into its body) count twice; close enough for a centroid.
        volumes = np.array([p.volume for p in parts])
        centroid = (volumes[:, None] * np.array([p.center_mass for p in parts])).sum(0) / volumes.sum() - center
        extents = (hi - lo).astype(np.float64)
        return cls(class_name, mesh, extents, centroid, 0.5 * float(np.hypot(extents[0], extents[1])))


def _make_parts(class_name: str, rng: np.random.Generator) -> list[trimesh.Trimesh]:
    """The parts of one object in its own frame (z up); sizes in metres, every edge 8-30 cm."""
    c = trimesh.creation
    u = rng.uniform
    if class_name == "box":
        return [c.box(extents=[u(0.12, 0.30), u(0.08, 0.20), u(0.08, 0.22)])]
    if class_name == "cube":
        return [c.box(extents=[u(0.08, 0.18)] * 3)]
    if class_name == "can":
        return [c.cylinder(radius=u(0.04, 0.07), height=u(0.10, 0.24), sections=32)]
    if class_name == "ball":
        return [c.icosphere(subdivisions=2, radius=u(0.05, 0.11))]
    if class_name == "cone":
        return [c.cone(radius=u(0.05, 0.10), height=u(0.12, 0.28), sections=32)]
    if class_name == "pyramid":
        return [c.cone(radius=u(0.07, 0.12), height=u(0.10, 0.25), sections=4)]
    if class_name == "ring":
        return [c.torus(u(0.06, 0.10), u(0.04, 0.05), major_sections=32, minor_sections=16)]
    if class_name == "mug":
        r, h = u(0.04, 0.055), u(0.09, 0.13)
        body = c.cylinder(radius=r, height=h, sections=32)
        handle = c.torus(0.3 * h, 0.01, major_sections=24, minor_sections=8)
        handle.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
        handle.apply_translation([r, 0, 0])
        return [body, handle]
    if class_name == "bottle":
        r, h, neck = u(0.04, 0.05), u(0.14, 0.20), u(0.05, 0.08)
        body = c.cylinder(radius=r, height=h, sections=32)
        top = c.cylinder(radius=0.4 * r, height=neck, sections=16)
        top.apply_translation([0, 0, (h + neck) / 2])
        return [body, top]
    if class_name == "capsule":
        r, length = u(0.04, 0.06), u(0.18, 0.30)
        capsule = c.capsule(height=length - 2 * r, radius=r, count=[24, 12])
        capsule.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
        return [capsule]
    raise ValueError(f"unknown object class {class_name}")


def _find_spot(
    surface: _Surface,
    shape: _Shape,
    rng: np.random.Generator,
    *,
    obstacles: list[tuple[np.ndarray, np.ndarray]],
    ellipse: tuple[np.ndarray, np.ndarray] | None,
    along_x: bool,
    tries: int = 200,
) -> tuple[np.ndarray, float] | None:
    """A random (xy centre, yaw) for ``shape`` on ``surface``: its rotated footprint inside the
    surface (and the ellipse), its footprint circle clear of the objects already there and of the
    obstacle rectangles by ``_GAP_M``. None after ``tries`` misses."""
    half = shape.extents[:2] / 2
    for _ in range(tries):
        if along_x:
            yaw = (0.0 if half[0] > half[1] else np.pi / 2) + rng.uniform(-0.2, 0.2) + np.pi * rng.integers(2)
        else:
            yaw = rng.uniform(0, 2 * np.pi)
        c, s = abs(np.cos(yaw)), abs(np.sin(yaw))
        half_xy = np.array([c * half[0] + s * half[1], s * half[0] + c * half[1]])
        lo = surface.lo_xy + half_xy + _GAP_M
        hi = surface.hi_xy - half_xy - _GAP_M
        if np.any(lo >= hi):
            continue
        xy = rng.uniform(lo, hi)
        if ellipse is not None and np.sum(((xy - ellipse[0]) / ellipse[1]) ** 2) > 1.0:
            continue
        if any(np.linalg.norm(xy - p) < r + shape.radius + _GAP_M for p, r in surface.placed):
            continue
        if any(np.linalg.norm(xy - np.clip(xy, o_lo, o_hi)) < shape.radius + _GAP_M for o_lo, o_hi in obstacles):
            continue
        return xy, float(yaw)
    return None


# --- rearranging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Footprint:
    """What ``_find_spot`` needs of a shape: its box edges and footprint circle radius."""

    extents: np.ndarray
    radius: float


def rearrange_room(
    room: SyntheticRoom,
    *,
    remove: tuple[str, ...] | list[str] = (),
    move: tuple[str, ...] | list[str] = (),
    seed: int = 0,
    min_shift_m: float = 0.3,
) -> SyntheticRoom:
    """A copy of ``room`` with the objects ``remove`` taken away and the objects ``move`` put elsewhere.

    A moved object stays on its support (same plane, same height) at a random spot drawn from ``seed``
    by the generator's own placement rule (inside the surface, clear of the other objects and, on the
    floor, of the furniture and inside the camera loop), at least ``min_shift_m`` from where it was,
    with a new heading. The mesh is rebuilt element by element with the generator's builder; every
    other element is unchanged, the moved objects' ground truth follows them.
    """
    ids = {o.object_id for o in room.objects}
    unknown = sorted((set(remove) | set(move)) - ids)
    if unknown:
        raise InvalidArgumentError.field("remove", f"no such objects: {', '.join(unknown)}")
    if set(remove) & set(move):
        raise InvalidArgumentError.field("move", "an object cannot be both moved and removed")
    rng = np.random.default_rng(seed)
    kept = [o for o in room.objects if o.object_id not in set(remove)]
    # Surfaces as the generator saw them, with the objects that stay (moved ones are placed in turn).
    surfaces: dict[str, _Surface] = {}
    for plane in room.planes:
        if plane.label in (PlaneLabel.WALL, PlaneLabel.CEILING):
            continue
        poly = plane.polygon_world_m
        z = float(poly[:, 2].mean())
        headroom = float(room.size_m[2] - z)
        surfaces[plane.plane_id] = _Surface(
            plane.plane_id, z, poly[:, :2].min(axis=0), poly[:, :2].max(axis=0), headroom
        )
    for o in kept:
        if o.object_id not in set(move):
            surfaces[o.support_id].placed.append((o.pose_world_box.translation[:2].copy(), _radius(o.size_m)))
    obstacles = [
        _element_footprint(room, e) for e in room.element_ids if e in ("table", "shelf") or e.startswith("chair_")
    ]
    table = room.plane("table_top").polygon_world_m
    ellipse = ((table[:, :2].min(axis=0) + table[:, :2].max(axis=0)) / 2, np.array(orbit_axes_m(room.size_m)) - 0.35)
    transforms: dict[str, np.ndarray] = {}
    new_objects: list[GroundTruthObject] = []
    for o in kept:
        if o.object_id not in set(move):
            new_objects.append(o)
            continue
        surface = surfaces[o.support_id]
        shape = _Footprint(np.asarray(o.size_m, dtype=np.float64), _radius(o.size_m))
        old_xy = o.pose_world_box.translation[:2]
        spot = None
        for _ in range(50):
            spot = _find_spot(
                surface, shape, rng,  # type: ignore[arg-type]
                obstacles=obstacles if o.support_id == "floor" else [],
                ellipse=ellipse if o.support_id == "floor" else None,
                along_x=o.support_id.startswith("shelf_board"),
            )  # fmt: skip
            if spot is not None and np.linalg.norm(spot[0] - old_xy) >= min_shift_m:
                break
            spot = None
        if spot is None:
            raise InvalidArgumentError.field("move", f"no free spot for {o.object_id} on {o.support_id}")
        xy, yaw = spot
        surface.placed.append((xy, shape.radius))
        rotation = trimesh.transformations.rotation_matrix(yaw, [0, 0, 1])[:3, :3]
        pose = Pose.from_rotation_translation(rotation, np.array([*xy, o.pose_world_box.translation[2]]))
        # World transform taking the old placement to the new one.
        transforms[o.object_id] = pose.matrix @ o.pose_world_box.inverse().matrix
        t = Pose(transforms[o.object_id])
        new_objects.append(
            GroundTruthObject(
                object_id=o.object_id,
                label=o.label,
                class_name=o.class_name,
                color_name=o.color_name,
                color_rgb=o.color_rgb,
                pose_world_box=pose,
                size_m=o.size_m,
                centroid_world_m=t.transform_points(o.centroid_world_m[None])[0],
                support_id=o.support_id,
            )
        )
    builder = _MeshBuilder()
    for index, element in enumerate(room.element_ids):
        if element in set(remove):
            continue
        faces = room.triangles[room.triangle_elements == index]
        colors = room.triangle_colors[room.triangle_elements == index]
        used, local = np.unique(faces, return_inverse=True)
        vertices = room.vertices[used]
        if element in transforms:
            vertices = Pose(transforms[element]).transform_points(vertices)
        builder.add(element, vertices, local.reshape(-1, 3), colors)
    vertices, triangles, colors, elements = builder.arrays()
    return SyntheticRoom(
        seed=room.seed,
        size_m=room.size_m,
        objects=tuple(new_objects),
        planes=room.planes,
        element_ids=tuple(builder.element_ids),
        vertices=vertices,
        triangles=triangles,
        triangle_colors=colors,
        triangle_elements=elements,
    )


def _radius(size_m: np.ndarray) -> float:
    return 0.5 * float(np.hypot(size_m[0], size_m[1]))


def _element_footprint(room: SyntheticRoom, element_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(lo_xy, hi_xy) of an element's vertices."""
    faces = room.triangles[room.triangle_elements == room.element_index(element_id)]
    v = room.vertices[np.unique(faces)]
    return v[:, :2].min(axis=0), v[:, :2].max(axis=0)
