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
