"""Objects on the desk of the real TUM fr1/desk frames (tests/data: 9 frames, ground-truth poses).

The truth comes from the frames themselves (``tum_reference``: raw depth points, RANSAC planes, DBSCAN above
the desk, no TSDF and no mesh): five things stand on the desk (the monitor, the device at the right, the
book and papers pile, a small box by the device, the board at the back). The object layer runs as a
session runs it: Mapper (the 9 frames fused at their poses), PlaneTracker, ObjectMapper with the mapper's
free-space probe; up is the floor's normal from the reference (the mocap frame's z is tilted by 3.6 deg).

The plane tracker is given a looser plane fit (``max_plane_rms_m`` 20 mm, ``merge_distance_m`` 3 cm): the
desk is two desks of an L, about a centimetre apart in height, and with 9 frames their joint fit has 18 mm
RMS, over the default's 12 mm (tuned on the synthetic rooms), so by default no desk plane is published.

Measured when written: 4 desk objects for the 5 reference clusters (the small box by the device is inside
the device's footprint: one object); each reference cluster within 14 cm of an object's box centre or
inside its footprint; the monitor 0.42 m tall, its box centre seen at pixel (164, 94) of the first frame,
inside the monitor as marked by hand on that image (x 0-245, y 0-225).
"""

from __future__ import annotations

import numpy as np
import pytest
from tum_reference import DeskReference, desk_reference

from sora_sdk.core import CameraFrame, MapperConfig, SceneObject
from sora_sdk.mapping import Mapper, PlaneTracker, PlaneTrackerOptions
from sora_sdk.objects import ObjectMapper, UpBox, up_frame

#: The monitor in the first frame's colour image, marked by hand: x from, x to, y from, y to (pixels).
MONITOR_PX = (0, 245, 0, 225)
#: A reference cluster and an object agree when the cluster's centroid is this close to the object's box
#: centre (both are the visible surface seen from one side: 9 frames, 0.3 s of a hand-held camera) …
AGREE_M = 0.15
#: … or inside its footprint grown by this.
GROW_M = 0.06


@pytest.fixture(scope="module")
def desk(tum_frames: list[CameraFrame]) -> tuple[DeskReference, ObjectMapper, dict[str, SceneObject]]:
    ref = desk_reference(tum_frames)
    mapper = Mapper(MapperConfig(device="cpu"))
    for f in tum_frames:
        mapper.integrate(f)
    mapper.update_mesh()
    tracker = PlaneTracker(PlaneTrackerOptions(max_plane_rms_m=0.02, merge_distance_m=0.03), voxel_size_m=0.02)
    tracker.update(mapper.chunks, list(mapper.chunks), up_world=ref.up)
    objects = ObjectMapper()
    for t in range(3):  # the map does not change: three updates confirm what is there
        objects.update(mapper.chunks, tracker.planes, time_s=float(t), up_world=ref.up, free_space=mapper.free_space)
    desk_planes = {
        k
        for k, p in tracker.planes.items()
        if abs(float(p.pose_world_plane.translation @ ref.up) - ref.desk_height_m) < 0.03
    }
    on_desk = {k: o for k, o in objects.objects.items() if o.support_plane_id in desk_planes}
    return ref, objects, on_desk


def _agree(cluster: np.ndarray, o: SceneObject, r_wu: np.ndarray) -> bool:
    box = UpBox.from_pose(o.pose_world_box, o.size_m, r_wu)
    c = (cluster.mean(axis=0) @ r_wu)[:2]
    return float(np.linalg.norm(c - box.centre[:2])) <= AGREE_M or bool(box.contains_xy(c[None], GROW_M)[0])


def test_the_desk_objects_match_the_frames(desk: tuple[DeskReference, ObjectMapper, dict[str, SceneObject]]) -> None:
    ref, _, on_desk = desk
    r_wu = up_frame(ref.up)
    assert len(ref.clusters) == 5
    for q in ref.clusters:
        assert any(_agree(q, o, r_wu) for o in on_desk.values()), q.mean(axis=0)
    for o in on_desk.values():
        assert any(_agree(q, o, r_wu) for q in ref.clusters), (o.label, o.centroid_world_m)
    assert 4 <= len(on_desk) <= 5
    for o in on_desk.values():  # box z is up, the box stands on the desk
        box = UpBox.from_pose(o.pose_world_box, o.size_m, r_wu)
        assert abs(float(o.pose_world_box.rotation[:, 2] @ ref.up) - 1.0) < 1e-9
        assert abs(box.bottom - ref.desk_height_m) < 0.03


def test_the_monitor(desk: tuple[DeskReference, ObjectMapper, dict[str, SceneObject]], tum_frames: list) -> None:
    ref, _, on_desk = desk
    monitor = max(on_desk.values(), key=lambda o: o.size_m[2])
    tallest_ref = max(float((q @ ref.up).max()) - ref.desk_height_m for q in ref.clusters)
    assert abs(float(monitor.size_m[2]) - tallest_ref) < 0.05
    frame = tum_frames[0]
    c = frame.pose_world_camera.inverse().transform_points(monitor.centroid_world_m[None])[0]
    k = frame.intrinsics
    u, v = k.fx_px * c[0] / c[2] + k.cx_px, k.fy_px * c[1] / c[2] + k.cy_px
    x0, x1, y0, y1 = MONITOR_PX
    assert x0 <= u <= x1 and y0 <= v <= y1, (u, v)


def test_the_desk_is_related(desk: tuple[DeskReference, ObjectMapper, dict[str, SceneObject]]) -> None:
    _, objects, on_desk = desk
    relations = {(r.subject_id, r.predicate, r.object_id) for r in objects.relations}
    for k, o in on_desk.items():
        assert (k, "on", o.support_plane_id) in relations
