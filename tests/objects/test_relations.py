"""Relations among the tracked objects of the synthetic run, checked against the room's ground truth.

The objects are those published at the end of ``synthetic_run`` (the rearranged room); the view relations
are computed for views chosen here, so their truth follows from the ground-truth positions.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from objects_helpers import Run, match_objects, planes_by_ground_truth

from sora_sdk.core import Pose, SceneObject
from sora_sdk.datasets import look_at
from sora_sdk.objects import PREDICATES, ObjectMapper, spatial_relations, view_relations


def _final(run: Run) -> tuple[dict[str, SceneObject], dict[str, str]]:
    objects = run.last_of_phase(1).objects
    return objects, {o.object_id: gid for gid, o in match_objects(run.after.objects, objects).items()}


def test_predicates_are_the_proto_names() -> None:
    from sora_sdk._proto.sora.v1 import scene_pb2

    names = {n.removeprefix("RELATION_TYPE_").lower() for n in scene_pb2.RelationType.keys()} - {"unspecified"}
    assert set(PREDICATES) == names


def test_objects_are_on_their_support_planes(synthetic_run: Run) -> None:
    objects, gt_of = _final(synthetic_run)
    relations = synthetic_run.objects.relations
    planes = planes_by_ground_truth(synthetic_run.after, synthetic_run.planes.planes)
    on_plane = {(r.subject_id, r.object_id) for r in relations if r.predicate == "on"}
    for oid, o in objects.items():
        assert (oid, o.support_plane_id) in on_plane
        if oid in gt_of:
            assert o.support_plane_id == planes[synthetic_run.after.object(gt_of[oid]).support_id]
    on_table = [oid for oid in objects if (oid, planes["table_top"]) in on_plane]
    assert sorted(gt_of[o] for o in on_table if o in gt_of) == sorted(
        g.object_id for g in synthetic_run.after.objects if g.support_id == "table_top"
    )


def test_left_right_front_behind_from_a_known_view(synthetic_run: Run) -> None:
    """From a camera south of the table looking north, right is +x and nearer is -y."""
    objects, gt_of = _final(synthetic_run)
    centre = synthetic_run.after.table_center_world_m
    view = look_at(centre + np.array([0.0, -2.0, 0.8]), centre)
    relations = view_relations(objects, np.eye(3), view)
    gt = {oid: synthetic_run.after.object(g).pose_world_box.translation for oid, g in gt_of.items()}
    checked = 0
    for r in relations:
        if r.subject_id not in gt or r.object_id not in gt:
            continue
        d = gt[r.subject_id] - gt[r.object_id]
        expect = {"left_of": d[0] < 0, "right_of": d[0] > 0, "in_front_of": d[1] < 0, "behind": d[1] > 0}
        assert expect[r.predicate], (r, d)
        checked += 1
    # Every clearly separated pair within reach is related: along x by 10 cm and mostly along x.
    ids = sorted(gt)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            d = gt[a] - gt[b]
            if 0.1 <= abs(d[0]) and abs(d[0]) >= 0.9 * np.hypot(d[0], d[1]) and np.hypot(d[0], d[1]) <= 1.4:
                pred = "left_of" if d[0] < 0 else "right_of"
                assert any(r.subject_id == a and r.object_id == b and r.predicate == pred for r in relations), (a, b)
    print(f"{checked} view relations checked against ground truth")
    assert checked >= 10


def test_near_and_next_to_are_symmetric(synthetic_run: Run) -> None:
    objects, _ = _final(synthetic_run)
    relations = synthetic_run.objects.relations
    keys = {(r.subject_id, r.predicate, r.object_id) for r in relations}
    for s, p, o in keys:
        if p in ("near", "next_to"):
            assert (o, p, s) in keys
        if p == "next_to":
            assert objects[s].support_plane_id == objects[o].support_plane_id
    assert any(p == "next_to" for _, p, _ in keys) and any(p == "near" for _, p, _ in keys)


def test_stacked_objects_and_objects_under_a_table(synthetic_run: Run) -> None:
    """Real tracked objects put on top of each other, and under the table's plane."""
    objects, _ = _final(synthetic_run)
    planes = synthetic_run.planes.planes
    table = planes_by_ground_truth(synthetic_run.after, planes)["table_top"]
    floor = [o for o in objects.values() if o.support_plane_id != table and o.centroid_world_m[2] < 0.3]
    on_table = [o for o in objects.values() if o.support_plane_id == table]
    low, high = floor[0], on_table[0]
    base = low.pose_world_box.translation
    top = base + np.array([0.0, 0.0, 0.5 * (low.size_m[2] + high.size_m[2])])
    stacked = dataclasses.replace(high, pose_world_box=Pose.from_rotation_translation(np.eye(3), top))
    rel = spatial_relations({low.object_id: low, high.object_id: stacked}, planes, np.eye(3))
    keys = {(r.subject_id, r.predicate, r.object_id) for r in rel}
    assert (high.object_id, "on", low.object_id) in keys and (low.object_id, "under", high.object_id) in keys
    # The floor object slid under the table's centre: under the table's plane.
    centre = synthetic_run.after.table_center_world_m
    slid = dataclasses.replace(
        low, pose_world_box=Pose.from_rotation_translation(np.eye(3), np.array([centre[0], centre[1], base[2]]))
    )
    keys = {
        (r.subject_id, r.predicate, r.object_id) for r in spatial_relations({low.object_id: slid}, planes, np.eye(3))
    }
    assert (low.object_id, "under", table) in keys
    assert (low.object_id, "under", table) not in {
        (r.subject_id, r.predicate, r.object_id) for r in spatial_relations({low.object_id: low}, planes, np.eye(3))
    }


def test_view_relations_follow_the_user_without_flicker(synthetic_run: Run) -> None:
    """A small turn of the head sends nothing; walking to the other side of the table swaps left and right."""
    chunks, planes = synthetic_run.mapper.chunks, synthetic_run.planes.planes
    om = ObjectMapper()
    centre = synthetic_run.after.table_center_world_m
    south = look_at(centre + np.array([0.0, -2.0, 0.8]), centre)
    for t in range(4):
        om.update(chunks, planes, time_s=float(t), view_world_camera=south)
    before = {(r.subject_id, r.predicate, r.object_id) for r in om.relations if r.predicate in ("left_of", "right_of")}
    assert before
    turned = look_at(centre + np.array([0.0, -2.0, 0.8]), centre + np.array([0.3, 0.0, 0.0]))  # ~8 deg
    assert om.update(chunks, planes, time_s=4.0, view_world_camera=turned).empty
    north = look_at(centre + np.array([0.0, 2.0, 0.8]), centre)
    u = om.update(chunks, planes, time_s=5.0, view_world_camera=north)
    after = {(r.subject_id, r.predicate, r.object_id) for r in om.relations if r.predicate in ("left_of", "right_of")}
    swapped = {(s, "right_of" if p == "left_of" else "left_of", o) for s, p, o in before}
    assert after == swapped
    assert {(r.subject_id, r.predicate, r.object_id) for r in u.removed_relations} >= before


def test_incremental_relations_equal_a_full_recompute(synthetic_run: Run) -> None:
    """The mapper recomputes only pairs with a changed object; a full recompute agrees."""
    objects, _ = _final(synthetic_run)
    full = spatial_relations(objects, synthetic_run.planes.planes, np.eye(3))
    spatial = {"on", "under", "inside", "near", "next_to"}
    kept = {(r.subject_id, r.predicate, r.object_id) for r in synthetic_run.objects.relations if r.predicate in spatial}
    assert kept == {(r.subject_id, r.predicate, r.object_id) for r in full}
