"""Helpers for the object-layer tests: a real fusion run over a synthetic room that changes mid-sequence,
matching against ground truth, tight ground-truth boxes, and detections lifted from rendered masks.

Everything runs the real pipeline: frames rendered by ray casting, fused by the :class:`Mapper`, meshed,
planes from the :class:`PlaneTracker`, objects from the :class:`ObjectMapper` with the mapper's own
free-space probe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import trimesh
from scipy.optimize import linear_sum_assignment

from sora_sdk.core import CameraFrame, MapperConfig, Plane, SceneObject
from sora_sdk.datasets import (
    SyntheticRoom,
    generate_room,
    orbit_trajectory,
    render,
    render_object_masks,
    synthetic_intrinsics,
)
from sora_sdk.datasets._synthetic import rearrange_room
from sora_sdk.mapping import Mapper, PlaneTracker
from sora_sdk.objects import Detection3D, ObjectMapper, ObjectsUpdate, UpBox

FRAME_RATE_HZ = 30.0


@dataclass
class Step:
    """One object update of a run: after ``frame`` frames, at ``time_s``."""

    frame: int
    time_s: float
    update: ObjectsUpdate
    objects: dict[str, SceneObject]
    phase: int  # 0: the original room, 1: the rearranged one
    seconds: dict[str, float]
    centroids: dict[
        str, np.ndarray
    ]  # volume centroid estimates of the objects  # wall time of this step's mesh, planes and objects updates


@dataclass
class Run:
    """A fused sequence: the room before and after the change, and every object update."""

    before: SyntheticRoom
    after: SyntheticRoom
    removed: tuple[str, ...]
    moved: tuple[str, ...]
    mapper: Mapper
    planes: PlaneTracker
    objects: ObjectMapper
    steps: list[Step] = field(default_factory=list)
    frames: list[CameraFrame] = field(default_factory=list)

    def last_of_phase(self, phase: int) -> Step:
        return [s for s in self.steps if s.phase == phase][-1]

    def room(self, phase: int) -> SyntheticRoom:
        return self.before if phase == 0 else self.after


def run_synthetic(
    seed: int = 0,
    *,
    before: int = 40,
    after: int = 60,
    every: int = 5,
    size: tuple[int, int] = (320, 240),
    noise_m: float = 0.005,
    n_removed: int = 2,
    n_moved: int = 2,
    detections: bool = False,
) -> Run:
    """Fuse ``before`` frames of ``generate_room(seed)``'s camera loop, then ``after`` frames of the room with
    ``n_removed`` objects taken away and ``n_moved`` put elsewhere (a second loop, starting elsewhere); mesh,
    planes and objects are updated every ``every`` frames. With ``detections``, every update gets the
    detections of the frames since the last one (ground-truth masks lifted with the frame's depth: a perfect
    detector)."""
    room = generate_room(seed)
    ids = [o.object_id for o in room.objects]
    removed = tuple(ids[:n_removed])
    # Moved: the next objects on the table or the floor (a shelf board is too crowded to move along).
    roomy = [o.object_id for o in room.objects[n_removed:] if o.support_id in ("table_top", "floor")]
    moved = tuple(roomy[:n_moved])
    changed = rearrange_room(room, remove=removed, move=moved, seed=seed + 1) if after else room
    intr = synthetic_intrinsics(*size)
    poses_a = orbit_trajectory(room, before)
    poses_b = orbit_trajectory(changed, after, start_angle_rad=0.3) if after else []
    frames = render(room, poses_a, intr, depth_noise_std_m=noise_m, noise_seed=seed)
    frames += render(changed, poses_b, intr, depth_noise_std_m=noise_m, noise_seed=seed + 100) if after else []
    masks: list[np.ndarray] = []
    if detections:
        masks = render_object_masks(room, poses_a, intr) + render_object_masks(changed, poses_b, intr)
    mapper = Mapper(MapperConfig(device="cpu"))
    planes = PlaneTracker(voxel_size_m=mapper.config.voxel_size_m)
    objects = ObjectMapper()
    run = Run(room, changed, removed, moved, mapper, planes, objects, frames=frames)
    pending: list[Detection3D] = []
    for i, frame in enumerate(frames):
        mapper.integrate(frame)
        phase = 0 if i < before else 1
        if detections:  # the detector sees every frame; the object update gets what came since the last one
            pending += detections_from_mask(run.room(phase), frame, masks[i])
        if (i + 1) % every:
            continue
        t0 = time.perf_counter()
        mesh = mapper.update_mesh()
        t1 = time.perf_counter()
        planes.update(mapper.chunks, [c.key for c in mesh.upserted] + list(mesh.removed))
        t2 = time.perf_counter()
        lifted, pending = pending, []
        time_s = i / FRAME_RATE_HZ
        update = objects.update(
            mapper.chunks,
            planes.planes,
            time_s=time_s,
            view_world_camera=frame.pose_world_camera,
            free_space=mapper.free_space,
            detections=lifted,
        )
        t3 = time.perf_counter()
        seconds = {"mesh": t1 - t0, "planes": t2 - t1, "objects": t3 - t2}
        run.steps.append(Step(i + 1, time_s, update, objects.objects, phase, seconds, objects.centroids))
    return run


def match_objects(gt: tuple, objects: dict[str, SceneObject], max_distance_m: float = 0.1) -> dict[str, SceneObject]:
    """Ground-truth object ID -> the object whose box centre is nearest its box centre (at most
    ``max_distance_m`` apart), one to one (Hungarian)."""
    found = list(objects.values())
    if not gt or not found:
        return {}
    cost = np.array(
        [
            [float(np.linalg.norm(g.pose_world_box.translation - o.pose_world_box.translation)) for o in found]
            for g in gt
        ]
    )
    rows, cols = linear_sum_assignment(np.where(cost <= max_distance_m, cost, 1e3))
    return {gt[r].object_id: found[c] for r, c in zip(rows, cols, strict=True) if cost[r, c] <= max_distance_m}


def tight_box(room: SyntheticRoom, object_id: str, like: UpBox | None = None) -> UpBox:
    """The object's tight up-aligned box from its mesh (trimesh's minimum-area rectangle of the footprint).

    The generator's own boxes are the shapes' boxes in their own frame: for a square pyramid (a diamond
    seen from above) that is the diamond's bounding square, twice its area. For a footprint that is a
    circle every heading gives the same rectangle; then ``like``'s heading is used, so that only sizes
    and positions are compared.
    """
    v = room.to_trimesh(object_id).vertices
    transform, extents = trimesh.bounds.oriented_bounds_2D(v[:, :2])
    inv = np.linalg.inv(transform)
    centre_xy = inv[:2, 2]
    axis = inv[:2, 0]
    lo, hi = float(v[:, 2].min()), float(v[:, 2].max())
    if like is not None and _circular(v):
        axis = like.axis
    return UpBox(np.array([centre_xy[0], centre_xy[1], 0.5 * (lo + hi)]), axis, np.array([*extents, hi - lo]))


def _circular(vertices: np.ndarray) -> bool:
    """Whether the footprint's outline is (nearly) a circle: hull vertices all at the same distance."""
    from scipy.spatial import ConvexHull

    xy = vertices[:, :2]
    hull = xy[ConvexHull(xy).vertices]
    r = np.linalg.norm(hull - hull.mean(axis=0), axis=1)
    return float(r.min()) >= 0.97 * float(r.max())


def detections_from_mask(room: SyntheticRoom, frame: CameraFrame, mask: np.ndarray) -> list[Detection3D]:
    """One :class:`Detection3D` per object seen by at least 60 pixels: its depth pixels in the world, its class
    name as the label and score 0.9 (a perfect detector's masks, lifted with the frame's depth and pose)."""
    assert frame.depth is not None and frame.pose_world_camera is not None
    depth = frame.depth_m()
    k = frame.intrinsics
    out: list[Detection3D] = []
    for index in np.unique(mask[mask >= 0]):
        v, u = np.nonzero((mask == index) & (depth > 0))
        if len(u) < 60:
            continue
        z = depth[v, u]
        cam = np.column_stack([(u - k.cx_px) * z / k.fx_px, (v - k.cy_px) * z / k.fy_px, z])
        pts = frame.pose_world_camera.transform_points(cam).astype(np.float32)
        obj = room.objects[int(index)]
        centre = pts.mean(axis=0).astype(np.float64)
        out.append(
            Detection3D(
                label=obj.class_name,
                score=0.9,
                time_s=frame.capture_time_s,
                points_world_m=pts,
                centroid_world_m=centre,
                pose_world_box=obj.pose_world_box,
                size_m=np.asarray(obj.size_m, dtype=np.float64),
            )
        )
    return out


def planes_by_ground_truth(room: SyntheticRoom, planes: dict[str, Plane]) -> dict[str, str]:
    """Ground-truth plane ID -> the ID of the largest published plane on it (normal within 10 deg, offset within
    3 cm, centre over the ground-truth rectangle grown by 0.2 m)."""
    out: dict[str, tuple[str, float]] = {}
    for gt in room.planes:
        lo = gt.polygon_world_m.min(axis=0) - 0.2
        hi = gt.polygon_world_m.max(axis=0) + 0.2
        for p in planes.values():
            n = p.normal_world
            c = p.pose_world_plane.translation
            if float(n @ gt.normal_world) < np.cos(np.radians(10.0)):
                continue
            if abs(float(-n @ c) - gt.offset_m) > 0.03 or not np.all((c >= lo) & (c <= hi)):
                continue
            if gt.plane_id not in out or p.area_m2 > out[gt.plane_id][1]:
                out[gt.plane_id] = (p.plane_id, p.area_m2)
    return {k: v[0] for k, v in out.items()}
