"""Incremental block meshing against Open3D's whole-grid extraction and one global marching cubes.

Tolerance for vertex positions: both sides put a vertex at ``voxel * (i + a / (a - b))`` on the
same grid edge from the same two voxel values; Open3D computes it in float32 and we in float64
rounded to float32, so they may differ by a few float32 ulps of the coordinate (ulp(4 m) =
4.8e-7 m). We allow 1e-5 m (0.05 % of a 2 cm voxel); measured max: 2.9e-7 m (TUM).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from mapping_helpers import (
    DEVICE,
    dense_grid,
    edge_counts,
    fused,
    oriented,
    reference_marching_cubes,
    surface_distances,
    synthetic_room_frames,
    union_mesh,
    weld_to,
)
from scipy.spatial import cKDTree

from sora_sdk.core import BlockKey, CameraFrame, Intrinsics, MapperConfig, MeshChunk, Pose
from sora_sdk.mapping import BlockMesher, Mapper, blocks_to_remesh

VERTEX_TOLERANCE_M = 1e-5


@pytest.fixture(params=["tum", "redwood"])
def mapper(request: pytest.FixtureRequest) -> Mapper:
    return request.getfixturevalue(f"{request.param}_mapper")


def test_blocks_to_remesh_adds_the_seven_minus_neighbours() -> None:
    got = {tuple(k) for k in blocks_to_remesh(np.array([[2, -1, 5]]))}
    want = {(2 + dx, -1 + dy, 5 + dz) for dx in (-1, 0) for dy in (-1, 0) for dz in (-1, 0)}
    assert got == want


def test_chunk_union_matches_open3d_full_extraction(mapper: Mapper) -> None:
    chunks = list(mapper.chunks.values())
    vertices, triangles = union_mesh(chunks)
    full = mapper.volume.extract_full_mesh()
    fv = full.vertex.positions.numpy().astype(np.float64)
    ft = full.triangle.indices.numpy().astype(np.int64)
    assert len(ft) > 10_000

    # The same vertices on both sides: one per crossed edge of a meshed cell, same interpolation.
    d_full, _ = cKDTree(vertices).query(fv)
    assert d_full.max() <= VERTEX_TOLERANCE_M
    d_ours, nearest = cKDTree(fv).query(vertices)
    assert d_ours.max() <= VERTEX_TOLERANCE_M

    # Weld ours onto Open3D's (already shared) vertices, then compare the topology.
    ours = nearest[triangles]
    assert len(np.unique(ours)) == len(fv)
    # Our table and Lorensen's (Open3D) split a cell with an ambiguous face differently; elsewhere
    # a cell's loop gives as many triangles in both.
    assert abs(len(ours) - len(ft)) <= 0.002 * len(ft)
    open_ours = {e for e, c in edge_counts(ours).items() if c == 1}
    open_full = {e for e, c in edge_counts(ft).items() if c == 1}
    assert len(open_ours) <= len(open_full)  # no cracks beyond the surface's own borders
    assert max(edge_counts(ours).values()) == 2  # manifold edges

    # Winding: counter-clockwise seen from free space, i.e. face normals agree with Open3D's
    # vertex normals (the TSDF gradient, pointing out of the surface).
    fn_full = full.vertex.normals.numpy()[nearest[triangles]].sum(axis=1)
    v = vertices[triangles]
    face = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    agree = np.einsum("ij,ij->i", face, fn_full) > 0
    assert agree.mean() > 0.99


def test_chunk_union_is_the_global_marching_cubes_surface(mapper: Mapper) -> None:
    """Per-block meshing with a one-voxel apron reproduces one marching cubes over the whole
    grid, triangle for triangle and with the same orientation: no seams between chunks."""
    _assert_union_is_global_marching_cubes(mapper, published=False)


def _assert_union_is_global_marching_cubes(mapper: Mapper, *, published: bool) -> None:
    tsdf, observed, origin_voxel = dense_grid(mapper, published=published)
    vs = mapper.config.voxel_size_m
    gv, gt = reference_marching_cubes(tsdf, observed)
    global_vertices = (gv + origin_voxel) * vs

    vertices, triangles = union_mesh(list(mapper.chunks.values()))
    # Weld by exact position: a vertex on a face shared by two chunks must be bit-identical.
    unique, inverse = np.unique(vertices, axis=0, return_inverse=True)
    ours = inverse.reshape(-1)[triangles]
    theirs = weld_to(unique, global_vertices, VERTEX_TOLERANCE_M)[gt]
    assert len(unique) == len(global_vertices)
    assert oriented(ours) == oriented(theirs)


def test_no_triangle_uses_unobserved_voxels(mapper: Mapper) -> None:
    """Every vertex lies on a grid edge whose two voxels were observed >= weight_threshold times."""
    vol = mapper.volume
    r, vs = vol.block_resolution, vol.voxel_size_m
    for chunk in list(mapper.chunks.values())[::5]:
        local = chunk.vertices.astype(np.float64) / vs - np.asarray(chunk.key) * r  # in voxels
        snapped = np.where(np.abs(local - np.rint(local)) < 1e-3, np.rint(local), local)
        lo = np.floor(snapped).astype(np.int64)
        hi = np.ceil(snapped).astype(np.int64)
        ends = np.concatenate([lo, hi])
        block = np.asarray(chunk.key) + ends // r
        keys, row = np.unique(block, axis=0, return_inverse=True)
        v = ends % r
        got = vol.gather_voxels(keys, row.reshape(-1), v[:, 0] * r * r + v[:, 1] * r + v[:, 2], ("weight",))
        assert got["weight"].min() >= mapper.config.weight_threshold


def test_chunk_attributes(tum_mapper: Mapper) -> None:
    full = tum_mapper.volume.extract_full_mesh()
    fv = full.vertex.positions.numpy()
    tree = cKDTree(fv)
    bs = tum_mapper.volume.block_size_m
    dots = []
    for chunk in tum_mapper.chunks.values():
        assert chunk.vertices.dtype == np.float32 and chunk.vertices.shape[1] == 3
        assert chunk.triangles.dtype == np.int32 and chunk.triangles.max() < chunk.vertex_count
        assert chunk.colors.dtype == np.uint8 and chunk.colors.shape == chunk.vertices.shape
        np.testing.assert_allclose(np.linalg.norm(chunk.normals, axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(chunk.origin_world_m, np.asarray(chunk.key) * bs)
        assert chunk.size_m == pytest.approx(bs)
        inside = (chunk.vertices >= chunk.origin_world_m - 1e-6) & (chunk.vertices <= chunk.origin_world_m + bs + 1e-6)
        assert inside.all()  # cells [0, 16) plus the shared far faces
        # Colours: the same edge interpolation as Open3D's, rounded to uint8.
        dist, idx = tree.query(chunk.vertices)
        same = dist <= VERTEX_TOLERANCE_M
        assert same.all()
        theirs = full.vertex.colors.numpy()[idx[same]] * 255.0
        assert np.abs(chunk.colors[same].astype(np.float64) - theirs).max() <= 1.0
        dots.append(np.einsum("ij,ij->i", chunk.normals[same], full.vertex.normals.numpy()[idx[same]]))
    # Normals: the TSDF gradient like Open3D's; they differ where we use forward differences (block
    # faces) or skip unobserved neighbours (Open3D reads their zeros). Measured: median 0.99998,
    # 98.5 % above 0.9 (TUM).
    all_dots = np.concatenate(dots)
    assert np.median(all_dots) > 0.999
    assert (all_dots > 0.9).mean() > 0.95


def _cropped_last_frame(tum_desk: list[CameraFrame]) -> CameraFrame:
    """TUM's last frame, cropped to a 96 x 96 window: it changes only a few blocks."""
    frame = tum_desk[8]
    assert frame.depth is not None
    depth = np.zeros_like(frame.depth)
    depth[200:296, 300:396] = frame.depth[200:296, 300:396]
    return CameraFrame(
        9, frame.capture_time_s, frame.intrinsics, frame.pose_world_camera, frame.color, depth, frame.depth_m_per_unit
    )


def _spy_meshed(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Records the keys of every BlockMesher.mesh_blocks call until monkeypatch.undo()."""
    meshed: list[np.ndarray] = []
    original = BlockMesher.mesh_blocks

    def spy(self: BlockMesher, source, keys, version=0):  # type: ignore[no-untyped-def]
        meshed.append(np.asarray(keys).reshape(-1, 3))
        return original(self, source, keys, version)

    monkeypatch.setattr(BlockMesher, "mesh_blocks", spy)
    return meshed


def _assert_same_chunks(
    got: dict[BlockKey, MeshChunk], want: dict[BlockKey, MeshChunk], *, color_levels: int = 0
) -> None:
    assert got.keys() == want.keys()
    for key, chunk in want.items():
        mine = got[key]
        np.testing.assert_array_equal(mine.vertices, chunk.vertices)
        np.testing.assert_array_equal(mine.triangles, chunk.triangles)
        np.testing.assert_array_equal(mine.normals, chunk.normals)
        assert np.abs(mine.colors.astype(int) - chunk.colors).max(initial=0) <= color_levels


def test_exact_incremental_update_remeshes_dirty_blocks_and_matches_scratch(
    tum_desk: list[CameraFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``remesh_tolerance_voxels=0``: the blocks a frame touched and the blocks whose apron reads
    them are re-meshed from the live volume, and the chunks equal a scratch meshing of it."""
    mapper = fused(tum_desk[:8], MapperConfig(device=DEVICE, remesh_tolerance_voxels=0.0))
    assert mapper.published_voxels is None
    before = mapper.chunks
    result = mapper.integrate(_cropped_last_frame(tum_desk))
    touched = {tuple(k) for k in result.blocks_touched}
    assert 0 < len(touched) < mapper.volume.block_count / 2

    meshed = _spy_meshed(monkeypatch)
    update = mapper.update_mesh()
    monkeypatch.undo()

    expected = {tuple(k) for k in blocks_to_remesh(result.blocks_touched)}
    allocated = {tuple(k) for k in mapper.volume.active_keys()}
    assert {tuple(k) for k in np.concatenate(meshed)} == expected & allocated
    assert update.blocks_meshed == len(expected & allocated)
    assert 0 < len(update.upserted) <= len(expected)
    assert {c.key for c in update.upserted} <= expected
    assert all(c.version == update.version for c in update.upserted)

    after = mapper.chunks
    for key, chunk in after.items():
        if key not in expected:
            assert chunk is before[key]  # untouched chunks are not even re-created

    # From scratch: mesh every block of the same volume again.
    _assert_same_chunks(after, BlockMesher(mapper.config).mesh_blocks(mapper.volume, mapper.volume.active_keys()))


def test_tolerant_incremental_update_remeshes_published_changes_and_matches_scratch_of_the_copy(
    tum_desk: list[CameraFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a tolerance, only voxels that moved by more than it are published, and only blocks that
    read a published voxel are re-meshed: a subset of the exact update's blocks. The chunks equal a
    scratch meshing of the published copy exactly, and come within the tolerance of the live
    volume's surface at 99 % of their vertices (the rest sit where the TSDF is nearly flat, so a
    small change moves its zero crossing further: measured at most 1.1 voxels on TUM and Redwood);
    an exact update makes them the live volume's surface."""
    config = MapperConfig(device=DEVICE, remesh_tolerance_voxels=0.5)
    vs = config.voxel_size_m
    mapper = fused(tum_desk[:8], config)
    copy = mapper.published_voxels
    assert copy is not None and copy.stale_count == 0  # a new map is published exactly
    before = mapper.chunks
    result = mapper.integrate(_cropped_last_frame(tum_desk))

    meshed = _spy_meshed(monkeypatch)
    update = mapper.update_mesh()
    monkeypatch.undo()

    dependents = {tuple(k) for k in blocks_to_remesh(result.blocks_touched)}
    got = {tuple(k) for k in np.concatenate(meshed)}
    assert 0 < len(got) < len(dependents & {tuple(k) for k in mapper.volume.active_keys()})
    assert update.blocks_meshed == len(got)
    assert {c.key for c in update.upserted} <= got
    after = mapper.chunks
    for key, chunk in after.items():
        if key not in got:
            assert chunk is before[key]
    assert copy.stale_count > 0

    keys = mapper.volume.active_keys()
    _assert_same_chunks(after, BlockMesher(config).mesh_blocks(copy, keys))
    live = BlockMesher(config).mesh_blocks(mapper.volume, keys)
    ours_to_live, live_to_ours = surface_distances(list(after.values()), list(live.values()))
    for d in (ours_to_live, live_to_ours):
        assert np.quantile(d, 0.99) <= config.remesh_tolerance_voxels * vs
        assert d.max() <= 1.5 * vs

    exact = mapper.update_mesh(exact=True)
    assert exact.upserted and copy.stale_count == 0
    # The copy's colours are uint8: at most one level from the live volume's float colours.
    _assert_same_chunks(mapper.chunks, live, color_levels=1)


@pytest.mark.parametrize("frames", ["tum", "redwood"])
def test_tolerant_updates_after_every_frame_stay_crack_free_and_near_the_live_surface(
    frames: str, tum_desk: list[CameraFrame], redwood_room: list[CameraFrame], tmp_path: Path
) -> None:
    """A map meshed after every frame with a tolerance holds voxels published at different times;
    its chunks are still one marching-cubes surface (of the published copy), welded without seams,
    and near the live one."""
    config = MapperConfig(device=DEVICE, remesh_tolerance_voxels=0.5)
    mapper = Mapper(config)
    for frame in tum_desk if frames == "tum" else redwood_room:
        mapper.integrate(frame)
        mapper.update_mesh()
    copy = mapper.published_voxels
    assert copy is not None and copy.stale_count > 0
    _assert_union_is_global_marching_cubes(mapper, published=True)
    live = BlockMesher(config).mesh_blocks(mapper.volume, mapper.volume.active_keys())
    vs = config.voxel_size_m
    for d in surface_distances(list(mapper.chunks.values()), list(live.values())):
        assert np.quantile(d, 0.99) <= config.remesh_tolerance_voxels * vs
        assert d.max() <= 1.5 * vs
    # Exporting publishes every change first: the file holds the live surface.
    mapper.export_mesh(tmp_path / "map.ply")
    assert copy.stale_count == 0
    _assert_same_chunks(mapper.chunks, live, color_levels=1)
    assert {c.key for c in mapper.update_mesh().upserted}  # the changed chunks still reach subscribers


def test_changes_within_the_tolerance_are_not_remeshed_until_an_exact_update() -> None:
    """A wall seen at 1.000 m, then at 0.999 m: every voxel moves by 0.5 mm (0.025 voxel), less than
    the 0.1-voxel tolerance, so nothing is re-meshed; an exact update moves the chunks."""
    intr = Intrinsics(160, 120, 130.0, 130.0, 79.5, 59.5)

    def wall(distance_m: float) -> CameraFrame:
        return CameraFrame(0, 0.0, intr, Pose.identity(), None, np.full((120, 160), distance_m, np.float32))

    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=2000, remesh_tolerance_voxels=0.1))
    mapper.integrate(wall(1.0))
    first = mapper.update_mesh()
    assert first.upserted
    mapper.integrate(wall(0.999))
    update = mapper.update_mesh()
    assert update.empty and update.blocks_meshed == 0
    exact = mapper.update_mesh(exact=True)
    assert {c.key for c in exact.upserted} == {c.key for c in first.upserted}
    z = np.concatenate([c.vertices[:, 2] for c in exact.upserted])
    assert np.all(np.abs(z - 0.9995) < 2e-4)


def test_a_surface_that_moves_out_of_a_block_becomes_a_deletion() -> None:
    """A wall seen once at 1.00 m (in the block layer z = 0.96-1.28 m), then three times at
    0.94 m (the layer below): the upper layer's voxels all turn negative, so its chunks lose
    their triangles and are reported removed, while the lower layer's appear."""
    intr = Intrinsics(160, 120, 130.0, 130.0, 79.5, 59.5)

    def wall(distance_m: float) -> CameraFrame:
        return CameraFrame(0, 0.0, intr, Pose.identity(), None, np.full((120, 160), distance_m, np.float32))

    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=2000))
    mapper.integrate(wall(1.0))
    first = {c.key for c in mapper.update_mesh().upserted}
    assert first and {k[2] for k in first} == {3}
    for _ in range(3):
        mapper.integrate(wall(0.94))
    update = mapper.update_mesh()
    assert set(update.removed) == first
    assert {c.key[2] for c in update.upserted} == {2}
    assert set(mapper.chunks) == {c.key for c in update.upserted}


def test_update_mesh_without_changes_is_empty(tum_mapper: Mapper) -> None:
    update = tum_mapper.update_mesh()
    assert update.empty and update.blocks_meshed == 0


def test_incremental_update_touches_a_fraction_of_a_room() -> None:
    """One more frame into a 30-frame room re-meshes only the blocks it dirtied and their
    neighbours, a fraction of the map. The time this saves against Open3D's full extraction
    (NOTES.md: ~200 ms for a room at 2 cm) is measured by `sora bench mapping`, not asserted here."""
    frames = synthetic_room_frames(30)
    mapper = Mapper(MapperConfig(device=DEVICE))
    for f in frames:
        mapper.integrate(f)
    mapper.update_mesh()
    blocks = mapper.volume.block_count
    assert blocks > 600

    full_s = []
    for _ in range(3):
        t0 = time.perf_counter()
        mapper.volume.extract_full_mesh()
        full_s.append(time.perf_counter() - t0)
    update_s, meshed = [], []
    for f in frames[:3]:
        mapper.integrate(f)
        update = mapper.update_mesh()
        update_s.append(update.elapsed_s)
        meshed.append(update.blocks_meshed)
    assert max(meshed) < blocks / 3
    updates_ms = [round(s * 1e3) for s in update_s]
    print(f"room: {blocks} blocks; full extraction {min(full_s) * 1e3:.0f} ms; update {meshed} blocks {updates_ms} ms")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_split_updates_run_on_pool_threads_at_the_configured_niceness(
    tum_mapper: Mapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server lowers its map work's priority (server.background_nice); the mesher's pool, which
    splits a large update over the cores, follows (the rise sticks: niceness only goes up)."""
    from sora_sdk.mapping import _mesher, set_mesh_thread_nice

    monkeypatch.setattr(_mesher, "_pool_nice", None)
    monkeypatch.setattr(_mesher, "_BLOCKS_PER_THREAD", 16)  # TUM's map is small: split it anyway
    # The most (19): pool threads an earlier server in this process raised stay raised, and must rise again.
    want = 19
    set_mesh_thread_nice(19)
    keys = tum_mapper.volume.active_keys()
    assert len(keys) >= 2 * _mesher._BLOCKS_PER_THREAD
    mesher = BlockMesher(dataclasses.replace(tum_mapper.config, mesh_threads=2))
    split = mesher.mesh_blocks(tum_mapper.volume, keys)
    _assert_same_chunks(
        split, BlockMesher(dataclasses.replace(tum_mapper.config, mesh_threads=1)).mesh_blocks(tum_mapper.volume, keys)
    )
    pool = [t for t in threading.enumerate() if t.name.startswith("sora-mesh") and t.native_id is not None]
    nice = [int(Path(f"/proc/self/task/{t.native_id}/stat").read_text().rsplit(")", 1)[1].split()[16]) for t in pool]
    assert want in nice
