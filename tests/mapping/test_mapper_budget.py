"""Block budget: eviction of stale far blocks, deletions reported, no crash, no stale voxels."""

from __future__ import annotations

import dataclasses

import numpy as np
from mapping_helpers import DEVICE

from sora_sdk.core import BlockKey, CameraFrame, MapperConfig, Pose
from sora_sdk.mapping import Mapper

# The Redwood room moved 50 m away, so that its blocks never share keys with the TUM desk's.
FAR = Pose.from_rotation_translation(np.eye(3), np.array([50.0, 0.0, 0.0]))


def as_keys(keys: np.ndarray) -> set[BlockKey]:
    return {(int(k[0]), int(k[1]), int(k[2])) for k in keys}


def far(frames: list[CameraFrame]) -> list[CameraFrame]:
    out = []
    for f in frames:
        assert f.pose_world_camera is not None
        out.append(dataclasses.replace(f, pose_world_camera=FAR @ f.pose_world_camera))
    return out


def test_tiny_budget_evicts_far_stale_blocks_and_reports_deletions(
    tum_desk: list[CameraFrame], redwood_room: list[CameraFrame]
) -> None:
    budget = 96  # a TUM frame touches 60-80 blocks
    # With a re-meshing tolerance, so the published copy's eviction is checked too (off by default).
    config = MapperConfig(device=DEVICE, block_budget=budget, eviction_radius_m=0.6, remesh_tolerance_voxels=0.1)
    mapper = Mapper(config)
    capacity = mapper.volume.grid.hashmap().capacity()
    evicted: set[BlockKey] = set()
    removed: set[BlockKey] = set()
    had_chunk: set[BlockKey] = set()
    for frame in [*tum_desk, *far(redwood_room), *tum_desk[:3]]:
        result = mapper.integrate(frame)
        assert result.integrated
        assert mapper.volume.block_count <= budget
        keys = as_keys(result.evicted)
        assert not keys & as_keys(result.blocks_touched)
        had_chunk |= keys & set(mapper.chunks)
        evicted |= keys
        update = mapper.update_mesh()
        removed |= set(update.removed)
        allocated = as_keys(mapper.volume.active_keys())
        assert set(mapper.chunks) <= allocated  # no chunk outlives its block
        copy = mapper.published_voxels
        assert copy is not None and as_keys(copy.keys()) == allocated  # evicted blocks' copies are dropped
        # The copy costs 8 B per voxel and never holds more blocks than the budget.
        assert copy.nbytes <= budget * mapper.config.block_resolution**3 * 8
    assert len(evicted) > 50
    assert had_chunk and had_chunk <= removed  # every evicted chunk was reported as deleted
    # The hash map never grew past the budget (Open3D would otherwise double it and move blocks).
    assert mapper.volume.grid.hashmap().capacity() == capacity
    assert mapper.stats()["chunks"] > 0


def test_reused_slots_carry_no_stale_voxels(tum_desk: list[CameraFrame], redwood_room: list[CameraFrame]) -> None:
    """Open3D hands an erased block's buffer slot, voxels included, to the next new block."""
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=110, eviction_radius_m=0.5))
    for frame in tum_desk:  # weights up to 9
        mapper.integrate(frame)
    redwood = far(redwood_room)
    for frame in redwood:  # 5 frames: no voxel of these blocks may have seen more
        result = mapper.integrate(frame)
        assert len(result.evicted) or frame is not redwood[0]
    keys = mapper.volume.active_keys()
    far_keys = keys[keys[:, 0] * mapper.volume.block_size_m > 40.0]
    assert len(far_keys) > 20
    assert mapper.volume.block_voxels(far_keys).weight.max() <= len(redwood)


def test_budget_smaller_than_one_frame_drops_blocks_without_crashing(tum_desk: list[CameraFrame]) -> None:
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=16, eviction_radius_m=100.0))
    for frame in tum_desk[:3]:
        result = mapper.integrate(frame)
        assert result.integrated and result.dropped_blocks > 0
        assert mapper.volume.block_count <= 16
        assert len(result.evicted) == 0  # everything is within the protected radius
    mapper.update_mesh()
    assert mapper.stats()["blocks"] == 15  # one slot always stays free for Open3D's integrate
