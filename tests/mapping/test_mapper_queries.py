"""Mapper queries on fused real data: rendered depth vs measured depth, ray casts, export, stats.

Depth accuracy (all frames fused at ground-truth poses, rendered back at each frame's pose, over
every pixel valid in both; 2 cm voxels), measured on this data:

=========  =======  =============  ===========  ============
data       source   median |err|   signed med   within 2 cm
=========  =======  =============  ===========  ============
TUM desk   volume   6.6 mm         -0.3 mm      85.2 %
TUM desk   mesh     3.8 mm         +0.5 mm      92.2 %
Redwood    volume   7.7 mm         -0.5 mm      82.9 %
Redwood    mesh     4.2 mm         +0.6 mm      94.2 %
=========  =======  =============  ===========  ============

NOTES.md reports ~9-10 mm for the volume ray cast on fr1/xyz (unseen frames, 120 fused); the
bounds below leave ~35 % headroom over what we measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from mapping_helpers import DEVICE

from sora_sdk.core import CameraFrame, FailedPreconditionError, InvalidArgumentError, MapperConfig
from sora_sdk.mapping import Mapper, resolve_device

# (median |err| m, share within 2 cm, |signed median| m) bounds per data set and source.
DEPTH_BOUNDS = {
    ("tum", "volume"): (0.009, 0.80, 0.003),
    ("tum", "mesh"): (0.0055, 0.88, 0.003),
    ("redwood", "volume"): (0.0105, 0.77, 0.003),
    ("redwood", "mesh"): (0.006, 0.90, 0.003),
}


@pytest.mark.parametrize("data", ["tum", "redwood"])
@pytest.mark.parametrize("source", ["volume", "mesh"])
def test_rendered_depth_matches_measured_depth(request: pytest.FixtureRequest, data: str, source: str) -> None:
    mapper: Mapper = request.getfixturevalue(f"{data}_mapper")
    frames: list[CameraFrame] = request.getfixturevalue("tum_desk" if data == "tum" else "redwood_room")
    errors = []
    for frame in frames:
        assert frame.pose_world_camera is not None
        assert frame.depth is not None
        rendered = mapper.render_depth(frame.intrinsics, frame.pose_world_camera, source=source)  # type: ignore[arg-type]
        assert rendered.shape == frame.depth.shape and rendered.dtype == np.float32
        measured = frame.depth_m()
        both = (rendered > 0) & (measured > 0)
        assert both.mean() > 0.6
        errors.append(rendered[both] - measured[both])
    err = np.concatenate(errors)
    median_abs, within_2cm, signed = (
        float(np.median(np.abs(err))),
        float((np.abs(err) < 0.02).mean()),
        float(np.median(err)),
    )
    print(f"{data} {source}: median {median_abs * 1e3:.1f} mm, signed {signed * 1e3:+.1f} mm, ", end="")
    print(f"within 2 cm {within_2cm:.1%}")
    max_median, min_within, max_signed = DEPTH_BOUNDS[(data, source)]
    assert median_abs < max_median
    assert within_2cm > min_within
    assert abs(signed) < max_signed


def _pixel_rays(frame: CameraFrame, step: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel coords (k, 2) on a grid and their world ray directions (k, 3), camera z = 1."""
    k = frame.intrinsics
    u, v = np.meshgrid(np.arange(step // 2, k.width_px, step), np.arange(step // 2, k.height_px, step))
    uv = np.stack([u.ravel(), v.ravel()], axis=1)
    cam = np.stack([(uv[:, 0] - k.cx_px) / k.fx_px, (uv[:, 1] - k.cy_px) / k.fy_px, np.ones(len(uv))], axis=1)
    assert frame.pose_world_camera is not None
    return uv, cam, cam @ frame.pose_world_camera.rotation.T


def test_raycast_hits_the_surface_where_rendered_depth_says(tum_mapper: Mapper, tum_desk: list[CameraFrame]) -> None:
    frame = tum_desk[4]
    assert frame.pose_world_camera is not None
    origin = frame.pose_world_camera.translation
    uv, cam, world = _pixel_rays(frame)
    mesh_depth = tum_mapper.render_depth(frame.intrinsics, frame.pose_world_camera, source="mesh")
    volume_depth = tum_mapper.render_depth(frame.intrinsics, frame.pose_world_camera)
    block = tum_mapper.volume.block_size_m
    chunks = tum_mapper.chunks
    hits = disagree = 0
    d_mesh, d_volume, facing = [], [], []
    for (u, v), ray_cam, ray_world in zip(uv, cam, world, strict=True):
        hit = tum_mapper.raycast(origin, ray_world)
        if hit is None:
            # A ray grazing a hole's border may miss by float32 rounding where the renderer hit.
            disagree += int(mesh_depth[v, u] > 0)
            continue
        hits += 1
        z = hit.distance_m / np.linalg.norm(ray_cam)  # camera z of the hit
        np.testing.assert_allclose(
            hit.point_world_m, origin + hit.distance_m * ray_world / np.linalg.norm(ray_world), atol=1e-6
        )
        d_mesh.append(z - mesh_depth[v, u])
        if volume_depth[v, u] > 0:
            d_volume.append(z - volume_depth[v, u])
        facing.append(float(hit.normal_world @ ray_world) < 0)
        assert hit.target == "mesh" and hit.chunk_key in chunks
        lo = np.asarray(hit.chunk_key) * block
        assert np.all(hit.point_world_m >= lo - 1e-4) and np.all(hit.point_world_m <= lo + block + 1e-4)
        np.testing.assert_allclose(np.linalg.norm(hit.normal_world), 1.0, atol=1e-5)
    assert hits > 0.7 * len(uv)
    assert disagree <= 2  # measured: 0 of 768
    # The same mesh and the same ray casting: identical to float32 rounding, except rays that
    # graze an edge and pass on to a surface behind.
    assert (np.abs(d_mesh) < 1e-4).mean() > 0.995  # measured: all 700 hits within 1e-5 m
    # Against the volume's ray cast (un-interpolated voxels, see _volume.render): within a voxel.
    # Measured: median 4.9 mm, p90 20.6 mm.
    off = np.abs(d_volume)
    print(f"raycast vs volume render: median {np.median(off) * 1e3:.1f} mm, p90 {np.percentile(off, 90) * 1e3:.1f} mm")
    assert np.median(off) < 0.01
    assert np.percentile(off, 90) < 0.03
    assert np.mean(facing) > 0.97  # outward normals face the camera that saw the surface


def test_raycast_misses_and_bad_rays(tum_mapper: Mapper, tum_desk: list[CameraFrame]) -> None:
    pose = tum_desk[4].pose_world_camera
    assert pose is not None
    forward = pose.rotation[:, 2]
    assert tum_mapper.raycast(pose.translation, -forward) is None  # behind the camera: nothing seen
    hit = tum_mapper.raycast(pose.translation, forward)
    assert hit is not None
    assert tum_mapper.raycast(pose.translation, forward, max_distance_m=0.5 * hit.distance_m) is None
    with pytest.raises(InvalidArgumentError):
        tum_mapper.raycast(pose.translation, np.zeros(3))
    assert Mapper(MapperConfig(device=DEVICE, block_budget=64)).raycast(np.zeros(3), np.array([0, 0, 1.0])) is None


@pytest.mark.parametrize("suffix", [".ply", ".glb", ".obj"])
def test_export_round_trips_through_trimesh(tum_mapper: Mapper, tmp_path: Path, suffix: str) -> None:
    path = tum_mapper.export_mesh(tmp_path / f"map{suffix}")
    loaded = trimesh.load(path, force="mesh")
    assert isinstance(loaded, trimesh.Trimesh)
    stats = tum_mapper.stats()
    assert len(loaded.faces) == stats["triangles"]
    # Chunks share their border vertices; the export welds them.
    unique = np.unique(np.concatenate([c.vertices for c in tum_mapper.chunks.values()]), axis=0)
    assert len(loaded.vertices) == len(unique) < stats["vertices"]
    if suffix != ".obj":
        assert loaded.visual is not None and loaded.visual.kind == "vertex"  # colours survive


def test_export_rejects_unknown_formats_and_empty_maps(tum_mapper: Mapper, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        tum_mapper.export_mesh(tmp_path / "map.stl")
    with pytest.raises(FailedPreconditionError):
        Mapper(MapperConfig(device=DEVICE, block_budget=64)).export_mesh(tmp_path / "empty.ply")


def test_stats(tum_mapper: Mapper) -> None:
    s = tum_mapper.stats()
    chunks = tum_mapper.chunks
    assert s["chunks"] == len(chunks) > 0
    assert s["triangles"] == sum(c.triangle_count for c in chunks.values())
    assert s["vertices"] == sum(c.vertex_count for c in chunks.values())
    assert s["blocks"] == tum_mapper.volume.block_count >= s["chunks"]
    assert s["frames_integrated"] == 9
    assert s["device"] == str(resolve_device(DEVICE))  # "CPU:0", or "CUDA:0" with SORA_TEST_DEVICE=cuda:0


def test_reset_deletes_every_published_chunk(redwood_room: list[CameraFrame]) -> None:
    mapper = Mapper(MapperConfig(device=DEVICE, block_budget=2000))
    mapper.integrate(redwood_room[0])
    published = {c.key for c in mapper.update_mesh().upserted}
    version = mapper.stats()["mesh_version"]
    update = mapper.reset()
    assert set(update.removed) == published and not update.upserted
    assert update.version > version
    assert mapper.chunks == {} and mapper.stats()["blocks"] == 0 and mapper.last_pose is None
    assert mapper.update_mesh().empty
