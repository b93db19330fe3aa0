"""``Mapper.free_space``, the probe the object layer removes objects with, on the fused synthetic run.

The run's map is the rearranged room after 60 frames of it (and 40 of the original before): the room's
exact geometry says where there is air, where there is solid, and where objects were taken away.
"""

from __future__ import annotations

import numpy as np
from objects_helpers import Run


def _grid(centre: np.ndarray, half: np.ndarray, n: int = 5) -> np.ndarray:
    g = np.linspace(-1.0, 1.0, n)
    local = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3) * half
    return centre + local


def test_air_above_the_table_is_free_solid_and_unseen_space_is_not(synthetic_run: Run) -> None:
    mapper = synthetic_run.mapper
    room = synthetic_run.after
    top = room.plane("table_top").polygon_world_m
    lo, hi = top.min(axis=0), top.max(axis=0)
    # A layer 3-6 cm above the table top, away from every object on it (15 cm clear of their boxes).
    xy = np.stack(np.meshgrid(np.linspace(lo[0] + 0.1, hi[0] - 0.1, 15), np.linspace(lo[1] + 0.1, hi[1] - 0.1, 9)), -1)
    xy = xy.reshape(-1, 2)
    clear = np.ones(len(xy), dtype=bool)
    for o in room.objects:
        if o.support_id == "table_top":
            d = np.abs((np.column_stack([xy, np.zeros(len(xy))]) - o.pose_world_box.translation)[:, :2])
            clear &= ~np.all(d <= 0.5 * o.size_m[:2] + 0.15, axis=1)
    air = np.concatenate([np.column_stack([xy[clear], np.full(int(clear.sum()), top[0, 2] + h)]) for h in (0.03, 0.06)])
    free = mapper.free_space(air)
    print(f"air above the table: {free.mean():.2f} free of {len(air)}")
    assert free.mean() >= 0.9
    # Inside the table top (1-3 cm under its surface): solid.
    slab = np.column_stack([xy[clear], np.full(int(clear.sum()), top[0, 2] - 0.02)])
    assert not mapper.free_space(slab).any()
    # Far outside the room, and behind the walls: never observed.
    assert not mapper.free_space(np.array([[10.0, 0.0, 1.0], [0.0, 2.2, 1.0], [-2.7, 0.0, 1.0]])).any()
    # Inside a prism-shaped object that stayed put (a cone's box holds air around its waist): not free.
    kept = [
        o for o in room.objects if o.object_id not in synthetic_run.moved and o.class_name in ("box", "cube", "can")
    ]
    assert kept
    for o in kept:
        inside = _grid(o.pose_world_box.translation, 0.25 * o.size_m, 3)
        assert mapper.free_space(inside).mean() <= 0.2, o.label


def test_a_removed_objects_place_reads_free(synthetic_run: Run) -> None:
    """The lower inside of each removed object's box (where the tracker probes) is free after the second loop."""
    mapper = synthetic_run.mapper
    for gid in synthetic_run.removed:
        o = synthetic_run.before.object(gid)
        c = o.pose_world_box.translation.copy()
        c[2] = o.bottom_z_m + 0.3 * o.size_m[2]
        half = np.array([0.3 * o.size_m[0], 0.3 * o.size_m[1], 0.2 * o.size_m[2]])
        frac = float(mapper.free_space(_grid(c, half, 4)).mean())
        print(f"{o.label}: {frac:.2f} of its lower inside free")
        assert frac >= 0.6, o.label


def test_seen_counts_are_the_frames_that_saw_a_point(synthetic_run: Run) -> None:
    """``Mapper.seen_counts`` (the probe objects are confirmed with) at points on the table top equals the
    number of fused frames whose depth there lay within the truncation band of the point, counted from the
    frames themselves; space the map never observed reads 0."""
    mapper = synthetic_run.mapper
    cfg = mapper.config
    room = synthetic_run.after
    top = room.plane("table_top").polygon_world_m
    lo, hi = top.min(axis=0), top.max(axis=0)
    xy = np.stack(np.meshgrid(np.linspace(lo[0] + 0.1, hi[0] - 0.1, 7), np.linspace(lo[1] + 0.1, hi[1] - 0.1, 5)), -1)
    v = cfg.voxel_size_m
    # Points on voxel centres (the probe reads the nearest voxel) just above the table top.
    points = np.rint(np.column_stack([xy.reshape(-1, 2), np.full(35, top[0, 2] + 0.5 * v)]) / v) * v
    expected = np.zeros(len(points))
    for frame in synthetic_run.frames:
        cam = frame.pose_world_camera.inverse().transform_points(points)
        z = cam[:, 2]
        uv = np.rint(cam[:, :2] / np.maximum(z, 1e-6)[:, None] * [frame.intrinsics.fx_px, frame.intrinsics.fy_px])
        u = (uv[:, 0] + frame.intrinsics.cx_px).astype(int)
        w = (uv[:, 1] + frame.intrinsics.cy_px).astype(int)
        h, wd = frame.depth.shape
        ok = (z > 0) & (u >= 0) & (u < wd) & (w >= 0) & (w < h)
        d = np.zeros(len(points))
        d[ok] = frame.depth_m()[w[ok], u[ok]]
        valid = ok & (d >= cfg.depth_min_m) & (d <= cfg.depth_max_m)
        expected += valid & (d - z >= -cfg.sdf_trunc_m)  # Open3D counts a voxel up to one band behind the surface
    counts = mapper.seen_counts(points)
    seen = expected > 0
    print(f"seen counts: median {np.median(counts[seen]):.0f}, expected {np.median(expected[seen]):.0f}")
    assert seen.sum() >= 20
    # Projection to the nearest pixel and depth noise move a few frames across the band's edge.
    assert np.abs(counts[seen] - expected[seen]).max() <= max(2.0, 0.1 * expected.max())
    assert np.all(mapper.seen_counts(np.array([[10.0, 0.0, 1.0], [0.0, 2.2, 1.0]])) == 0)
