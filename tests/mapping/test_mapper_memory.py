"""Memory: fusing and meshing the same frames over and over must not grow the process.

Open3D allocates the whole block budget up front (block_budget x 16^3 voxels x 20 bytes: 16 MB
for the 200 blocks used here), so growth is measured after a warm-up, against a bound well
below one budget's worth: leaking a tenth of the chunk set (~0.5 MB) per cycle would exceed it.
"""

from __future__ import annotations

import dataclasses
import gc

import numpy as np
import psutil
from mapping_helpers import DEVICE

from sora_sdk.core import CameraFrame, MapperConfig, Pose
from sora_sdk.mapping import Mapper

CYCLES = 300
WARM_UP = 40
GROWTH_BOUND_MB = 24.0


def test_repeated_integrate_and_mesh_cycles_do_not_grow_rss(
    tum_desk: list[CameraFrame], redwood_room: list[CameraFrame]
) -> None:
    # TUM and a far-away Redwood alternate every 30 cycles, so that the small budget keeps
    # evicting and re-allocating blocks, and chunks keep being deleted and re-made.
    shift = Pose.from_rotation_translation(np.eye(3), np.array([30.0, 0.0, 0.0]))
    redwood = []
    for f in redwood_room:
        assert f.pose_world_camera is not None
        redwood.append(dataclasses.replace(f, pose_world_camera=shift @ f.pose_world_camera))
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=200, eviction_radius_m=1.0))
    process = psutil.Process()
    samples: list[float] = []
    evictions = 0
    for i in range(CYCLES):
        frames = tum_desk if (i // 30) % 2 == 0 else redwood
        frame = frames[i % len(frames)]
        evictions += len(mapper.integrate(frame).evicted)
        mapper.update_mesh()
        if i % 10 == 0:
            assert frame.pose_world_camera is not None
            mapper.raycast(frame.pose_world_camera.translation, frame.pose_world_camera.rotation[:, 2])
        if i == WARM_UP or i == CYCLES - 1:
            gc.collect()
            samples.append(process.memory_info().rss / 2**20)
    growth = samples[-1] - samples[0]
    print(f"RSS after warm-up {samples[0]:.0f} MB, after {CYCLES} cycles {samples[-1]:.0f} MB; {evictions} evictions")
    assert evictions > 100
    assert growth < GROWTH_BOUND_MB
