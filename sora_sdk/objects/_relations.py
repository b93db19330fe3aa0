"""Spatial relations between objects, and between objects and planes, recomputed and diffed per update.

Predicates are the proto's ``RelationType`` names in lower case:

- ``on``: an object on its support plane (``object_id`` is the plane ID), or on another object (its
  bottom within ``on_max_gap_m`` of the other's top, its footprint centre over the other's footprint)
- ``under``: the inverse of ``on`` between objects; and an object under a support plane above it
  (a box under the table: its footprint centre inside the plane's boundary)
- ``inside``: at least 80 % of the subject's box inside the other's box
- ``next_to``: on the same support, footprints at most ``next_to_max_distance_m`` apart (both ways)
- ``near``: boxes at most ``near_max_distance_m`` apart and not ``next_to`` (both ways)
- ``left_of`` / ``right_of`` / ``in_front_of`` / ``behind``: from the user's view (the camera pose), in
  the level frame of the view: right = the camera's x axis made level, forward = the level view
  direction. A is left of B when A - B points left by at least ``direction_min_separation_m``, the
  pair is at most ``direction_max_distance_m`` apart, and left/right carries at least
  ``direction_dominance`` of their horizontal separation; in front of = nearer the user along
  forward. Each is added with its inverse (B right of A). A relation that holds keeps holding until
  its margin falls under half the threshold (hysteresis), so a user walking around does not make
  them flicker.

Confidences: 1 for support, containment and the view relations (they hold or they do not: a
confidence that followed the user's every step would re-send them all the time), falling with
distance for ``near`` / ``next_to``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.spatial import cKDTree

from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import Plane, Relation, SceneObject

from ._boxes import UpBox
from ._discovery import _convex, _edges
from ._options import ObjectOptions

__all__ = ["PREDICATES", "compute_relations", "diff_relations", "spatial_relations", "view_relations"]

#: The predicate names (proto ``RelationType`` without ``RELATION_TYPE_``, lower case).
PREDICATES = ("on", "under", "inside", "near", "next_to", "left_of", "right_of", "in_front_of", "behind")
_INVERSE = {"left_of": "right_of", "right_of": "left_of", "in_front_of": "behind", "behind": "in_front_of"}
_INSIDE_SHARE = 0.8


def compute_relations(
    objects: Mapping[str, SceneObject],
    planes: Mapping[str, Plane],
    r_world_up: np.ndarray,
    *,
    view_world_camera: Pose | None = None,
    previous: Iterable[Relation] = (),
    options: ObjectOptions | None = None,
) -> set[Relation]:
    """Every relation among ``objects`` (and to planes) as a set: :func:`spatial_relations` and
    :func:`view_relations` together.

    r_world_up : (3, 3) R_W_U (third column = up); view_world_camera : T_W_C of the user's view (OpenCV
    camera: x right, z forward), without it no view relations; previous : the relations of the last
    update (for hysteresis of the view relations).
    """
    opts = options or ObjectOptions()
    out = spatial_relations(objects, planes, r_world_up, options=opts)
    if view_world_camera is not None:
        out |= view_relations(objects, r_world_up, view_world_camera, previous=previous, options=opts)
    return out


def spatial_relations(
    objects: Mapping[str, SceneObject],
    planes: Mapping[str, Plane],
    r_world_up: np.ndarray,
    *,
    options: ObjectOptions | None = None,
    previous: set[Relation] | None = None,
    changed: set[str] | None = None,
) -> set[Relation]:
    """``on``, ``under``, ``inside``, ``next_to`` and ``near``: they depend on the objects and planes only.

    Pairs are found with a k-d tree over the box centres (only pairs whose footprint circles come within
    reach are looked at), so the cost grows with the objects near each other, not with all pairs. Given
    the ``previous`` relations and the IDs of the objects ``changed`` since (new, moved or gone), the
    relations between two unchanged objects are kept and only pairs with a changed object are looked at;
    the relations to planes are always recomputed (one array operation per plane).
    """
    opts = options or ObjectOptions()
    ids = sorted(objects)
    out: set[Relation] = set()
    if not ids:
        return out
    if previous is not None and changed is not None:
        out = {r for r in previous if r.object_id in objects and r.subject_id in objects
               and r.subject_id not in changed and r.object_id not in changed}  # fmt: skip
    boxes = [UpBox.from_pose(objects[k].pose_world_box, objects[k].size_m, r_world_up) for k in ids]
    centres = np.array([b.centre[:2] for b in boxes])
    tops = np.array([b.top for b in boxes])
    for k in ids:
        if objects[k].support_plane_id:
            out.add(Relation(k, "on", objects[k].support_plane_id, 1.0))
    # Under a plane: a plane facing up above the object's top, over its footprint centre.
    cos_h = math.cos(math.radians(opts.horizontal_tolerance_deg))
    up = r_world_up[:, 2]
    for p in planes.values():
        if float(p.normal_world @ up) < cos_h:
            continue
        below = np.flatnonzero(tops < float(p.pose_world_plane.translation @ up))
        if len(below) == 0:
            continue
        inside = _over_polygon(p, centres[below], r_world_up)
        for i in below[inside].tolist():
            if objects[ids[i]].support_plane_id != p.plane_id:
                out.add(Relation(ids[i], "under", p.plane_id, 1.0))
    radius = 0.5 * np.hypot([b.size[0] for b in boxes], [b.size[1] for b in boxes])
    reach = max(opts.near_max_distance_m, opts.next_to_max_distance_m)
    for i, j in sorted(cKDTree(centres).query_pairs(reach + 2.0 * float(radius.max()))):
        if changed is not None and previous is not None and ids[i] not in changed and ids[j] not in changed:
            continue  # kept from before
        if float(np.linalg.norm(centres[i] - centres[j])) - radius[i] - radius[j] > reach:
            continue  # the footprints' circles are too far apart
        a, b = ids[i], ids[j]
        ba, bb = boxes[i], boxes[j]
        gap = ba.gap_xy(bb)
        # Stacking and containment.
        for s, t, bs, bt in ((a, b, ba, bb), (b, a, bb, ba)):
            if abs(bs.bottom - bt.top) <= opts.on_max_gap_m and bool(bt.contains_xy(bs.centre[None, :2], 0.02)[0]):
                out.add(Relation(s, "on", t, 1.0))
                out.add(Relation(t, "under", s, 1.0))
            if gap <= 0.0:
                inter = bs.intersection_volume(bt)
                if bs.volume() > 0 and inter >= _INSIDE_SHARE * bs.volume() and bt.volume() > bs.volume():
                    out.add(Relation(s, "inside", t, 1.0))
        same_support = objects[a].support_plane_id == objects[b].support_plane_id != ""
        if same_support and gap <= opts.next_to_max_distance_m:
            c = 1.0 - 0.5 * gap / max(opts.next_to_max_distance_m, 1e-9)
            out.update((Relation(a, "next_to", b, c), Relation(b, "next_to", a, c)))
        elif _box_gap(ba, bb, gap) <= opts.near_max_distance_m:
            c = 1.0 - 0.5 * _box_gap(ba, bb, gap) / max(opts.near_max_distance_m, 1e-9)
            out.update((Relation(a, "near", b, c), Relation(b, "near", a, c)))
    return out


def view_relations(
    objects: Mapping[str, SceneObject],
    r_world_up: np.ndarray,
    view_world_camera: Pose,
    *,
    previous: Iterable[Relation] = (),
    options: ObjectOptions | None = None,
) -> set[Relation]:
    """``left_of``, ``right_of``, ``in_front_of`` and ``behind`` from the view (see the module docstring)."""
    opts = options or ObjectOptions()
    ids = sorted(objects)
    right, forward = _view_axes(view_world_camera, r_world_up)
    out: set[Relation] = set()
    if right is None or forward is None or len(ids) < 2:
        return out
    held = {(r.subject_id, r.predicate, r.object_id) for r in previous if r.predicate in _INVERSE}
    centres = np.array([(r_world_up.T @ objects[k].pose_world_box.translation)[:2] for k in ids])
    pairs = np.array(sorted(cKDTree(centres).query_pairs(opts.direction_max_distance_m)), dtype=np.int64)
    if len(pairs) == 0:
        return out
    d = centres[pairs[:, 0]] - centres[pairs[:, 1]]
    dist = np.maximum(np.linalg.norm(d, axis=1), 1e-9)
    for axis, pos, neg in ((right, "right_of", "left_of"), (forward, "behind", "in_front_of")):
        along = d @ axis
        share = np.abs(along) / dist
        for (i, j), a_long, sh in zip(pairs.tolist(), along.tolist(), share.tolist(), strict=True):
            a, b = ids[i], ids[j]
            pred = pos if a_long > 0 else neg
            kept = (a, pred, b) in held
            sep = opts.direction_min_separation_m * (0.5 if kept else 1.0)
            dominance = opts.direction_dominance - (0.1 if kept else 0.0)
            if abs(a_long) >= sep and sh >= dominance:
                out.add(Relation(a, pred, b, 1.0))
                out.add(Relation(b, _INVERSE[pred], a, 1.0))
    return out


def diff_relations(old: set[Relation], new: set[Relation]) -> tuple[list[Relation], list[Relation]]:
    """(added, removed), sorted; a relation whose confidence changed by less than 0.1 is not re-sent."""
    key_old = {(r.subject_id, r.predicate, r.object_id): r for r in old}
    key_new = {(r.subject_id, r.predicate, r.object_id): r for r in new}
    added: list[Relation] = []
    removed: list[Relation] = []
    for k, r in key_new.items():
        o = key_old.get(k)
        if o is None:
            added.append(r)
        elif abs(o.confidence - r.confidence) >= 0.1:
            removed.append(o)
            added.append(r)
    removed.extend(r for k, r in key_old.items() if k not in key_new)
    order = lambda r: (r.subject_id, r.predicate, r.object_id)  # noqa: E731
    return sorted(added, key=order), sorted(removed, key=order)


def _over_polygon(plane: Plane, points_up: np.ndarray, r_world_up: np.ndarray) -> np.ndarray:
    """(n,) bool: the (n, 2) up-frame points, projected along up onto the plane, lie inside its boundary's
    convex hull (the plane tracker's boundaries are convex hulls)."""
    pose = plane.pose_world_plane
    poly = np.asarray(plane.boundary_plane_m, dtype=np.float64).reshape(-1, 2)
    if len(poly) < 3 or len(points_up) == 0:
        return np.zeros(len(points_up), dtype=bool)
    # The boundary seen from above (the plane faces up, so projecting along up keeps its shape).
    hull = _convex((pose.transform_points(np.column_stack([poly, np.zeros(len(poly))])) @ r_world_up)[:, :2])
    if hull is None:
        return np.zeros(len(points_up), dtype=bool)
    normals, offsets = _edges(hull)
    return np.all(np.asarray(points_up, dtype=np.float64) @ normals.T - offsets <= 0.0, axis=1)


def _box_gap(a: UpBox, b: UpBox, gap_xy: float) -> float:
    """Distance between two boxes: the horizontal footprint gap and the vertical gap, combined."""
    dz = max(0.0, max(a.bottom, b.bottom) - min(a.top, b.top))
    return math.hypot(gap_xy, dz)


def _view_axes(view: Pose | None, r_world_up: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Level right and forward (2,) unit vectors in the up frame of a camera pose; None when looking straight
    up or down (no level direction)."""
    if view is None:
        return None, None
    r = r_world_up.T @ view.rotation  # camera axes in the up frame
    fwd = r[:2, 2]
    if float(np.linalg.norm(fwd)) < 1e-3:
        fwd = -r[:2, 1]  # looking down: the image's up is forward
    n = float(np.linalg.norm(fwd))
    if n < 1e-6:
        return None, None
    fwd = fwd / n
    right = np.array([fwd[1], -fwd[0]])  # forward turned clockwise seen from above
    return right, fwd
