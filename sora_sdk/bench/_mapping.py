"""``sora bench mapping``: the mapping layer against baselines measured in the same run, on the same frames.

Frames: synthetic rooms at 640 x 480 along their camera loops (``generate_room``, ``orbit_trajectory``),
plus the TUM fr1/desk frames in ``tests/data`` when the source tree is at hand. Metrics:

(a) integrate overhead: :meth:`Mapper.integrate` (a numpy frame in; everything the service does:
    depth range, tensor upload, block budget) over the bare Open3D calls it wraps
    (``compute_unique_block_coordinates`` + ``VoxelBlockGrid.integrate`` on ready tensors, same
    grid, same parameters), frame by frame, alternating which goes first.
(b) mesh update vs explored area: revisit frames in room 0, each fused and followed by
    :meth:`Mapper.update_mesh`, on a map of room 0 alone and on a map of room 0 plus three more
    rooms (4x the explored surface). The rooms are closed and 1 m apart, so the revisit frames see
    exactly the same surfaces in both maps and only the size of the map differs; room 0 is meshed
    after each of its frames in both, so both hold the same published voxels. (Exploring more
    of the *same* room would also put more surface into the blocks the revisit frames touch, which
    is more work per block, not a cost of the map's size.)
(c) incremental vs full: (b)'s update per frame against one ``extract_triangle_mesh()`` of the
    same volume, on the room-sized map (and, in the details, on the four-room map). The maps re-mesh
    with the default ``remesh_tolerance_voxels``; the details also time the exact update
    (tolerance 0) on a third map of the same room fed the same frames, interleaved with the others.
(d) bytes streamed: chunk upserts encoded as the server sends them (``encode_chunk``) while
    exploring room 0, against resending the whole mesh at every update.
(e) peak memory: the process's peak RSS against its RSS before the bench.
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open3d as o3d
import open3d.core as o3c

from sora_sdk.core.config import MapperConfig
from sora_sdk.core.scene import BlockKey, MeshChunk
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.datasets import generate_room, orbit_trajectory, read_tum, render, synthetic_intrinsics
from sora_sdk.mapping import Mapper, resolve_device
from sora_sdk.mapping._o3d import to_tensor
from sora_sdk.server._encode import encode_chunk

from ._report import Metric, Report, current_rss_mb, machine_info, peak_rss_mb
from ._rooms import ROOM_OFFSETS_M, LazyFrames, between, mean, shifted, side_by_side

__all__ = ["run_mapping"]

TUM_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "tum_fr1_desk_9frames"
#: Pace of the camera loop for (d): 30 deg/s, one loop in 12 s.
LOOP_S = 12.0
#: The issue's targets when a GPU is lent (640 x 480, 2 cm voxels).
GPU_INTEGRATE_MS = 2.0
GPU_MESH_MS = 3.0


def run_mapping(frames: int = 40, *, log: Callable[[str], None] = print, tum_dir: Path | None = TUM_DIR) -> Report:
    """Run every mapping measurement; ``frames`` is the length of each room's camera loop (>= 4)."""
    rss_start = current_rss_mb()
    cfg = MapperConfig()
    device = str(resolve_device(cfg.device))
    n_loop = max(int(frames), 4)
    n_revisit = max(2, n_loop // 4)
    intr = synthetic_intrinsics(640, 480)
    rooms = [generate_room(seed) for seed in range(1 + len(ROOM_OFFSETS_M))]
    world = side_by_side(rooms)
    loops = [
        [shifted(p, offset) for p in orbit_trajectory(room, n_loop)]
        for room, offset in zip(rooms, ((0.0, 0.0, 0.0), *ROOM_OFFSETS_M), strict=True)
    ]
    log(f"rendering {n_loop} + {n_revisit} frames of room 0 at 640x480 ...")
    loop0 = render(world, loops[0], intr)
    revisit = render(world, between(rooms[0], n_loop, n_revisit), intr)
    tum = list(read_tum(tum_dir)) if tum_dir is not None and tum_dir.is_dir() else []
    report = Report(
        "mapping",
        machine_info(device),
        setup={
            "synthetic": f"{len(rooms)} rooms x {n_loop} loop frames + {n_revisit} revisits, 640x480",
            "tum": f"{len(tum)} frames" if tum else "absent",
            "voxel_m": cfg.voxel_size_m,
            "block_res": cfg.block_resolution,
            "block_budget": cfg.block_budget,
            "remesh_tolerance_voxels": cfg.remesh_tolerance_voxels,
        },
    )

    # (a) integrate overhead, per data set, then over all frames.
    log("(a) integrate: Mapper vs bare VoxelBlockGrid ...")
    sets = {"synthetic": loop0, **({"tum": tum} if tum else {})}
    per_set = {name: _integrate_overhead(cfg, fs) for name, fs in sets.items()}
    mapper_ms = [t for m, _ in per_set.values() for t in m]
    bare_ms = [t for _, b in per_set.values() for t in b]
    integ = report.add(
        Metric(
            "integrate_overhead",
            "(a) Mapper.integrate / bare VBG integrate",
            mean(mapper_ms),
            mean(bare_ms),
            "ms/frame",
            mean(mapper_ms) / mean(bare_ms),
            1.15,
            "max",
            note="Mean over every frame; the baseline gets its tensors ready-made, the Mapper converts the frame.",
            details={
                name: {"mapper_ms": mean(m), "bare_ms": mean(b), "ratio": mean(m) / mean(b), "frames": len(m)}
                for name, (m, b) in per_set.items()
            }
            | {"median_paired_ratio": statistics.median(m / b for m, b in zip(mapper_ms, bare_ms, strict=True))},
        )
    )

    # Room 0 alone, explored with a mesh update per frame (bytes for (d)); rooms 0-3, explored with
    # frames rendered room by room. Then the same revisits on both, interleaved frame by frame (and
    # the full extractions between them), so that a busy host slows both sides alike.
    log(f"(b, d) room 0: {n_loop} frames, mesh update after each ...")
    small = _explore(cfg, [loop0], stream=True)
    # The same room re-meshed exactly (tolerance 0), for (c)'s details; a budget of twice its blocks
    # is never full, and keeps a third grid's preallocation small.
    exact_cfg = dataclasses.replace(cfg, remesh_tolerance_voxels=0.0, block_budget=max(2 * small.blocks, 1024))
    exact = _explore(exact_cfg, [loop0], stream=False)
    del loop0
    log(f"(b) rooms 0-3: {len(rooms) * n_loop} frames ...")
    # Room 0 meshed after every frame as in the room map, so that its published voxels (what a
    # revisit is compared with, at a tolerance > 0) are the same in both maps.
    large = _explore(cfg, [LazyFrames(world, poses, intr) for poses in loops], stream=False, per_frame=1)
    assert small.mapper is not None and large.mapper is not None and exact.mapper is not None
    log(f"(b, c) {n_revisit} revisits on the three maps, full extractions between them ...")
    small_ms: list[float] = []
    large_ms: list[float] = []
    exact_ms: list[float] = []
    small_meshed: list[int] = []
    large_meshed: list[int] = []
    exact_meshed: list[int] = []
    small_full_ms: list[float] = []
    small_triangles = 0
    sides = [
        (small.mapper, small_ms, small_meshed),
        (large.mapper, large_ms, large_meshed),
        (exact.mapper, exact_ms, exact_meshed),
    ]
    for i, frame in enumerate(revisit):
        for mapper, times, meshed in sides[i % 3 :] + sides[: i % 3]:  # each goes first in turn
            ms, blocks = _update_after(mapper, frame)
            times.append(ms)
            meshed.append(blocks)
        if i < 3:
            ms, small_triangles = _full_extraction(small.mapper, cfg)
            small_full_ms.append(ms)
    large_full_ms, large_triangles = _full_extraction(large.mapper, cfg)
    small.mapper = large.mapper = exact.mapper = None  # each grid holds its whole block budget
    gc.collect()

    area_ratio = large.area_m2 / max(small.area_m2, 1e-9)
    report.add(
        Metric(
            "mesh_update_flat",
            f"(b) mesh update/frame, {area_ratio:.1f}x explored area",
            mean(large_ms),
            mean(small_ms),
            "ms/frame",
            statistics.median(b / a for a, b in zip(small_ms, large_ms, strict=True)),
            1.3,
            "max",
            ratio_is="median over the revisit frames of (four-room map / room map), each pair timed back to back",
            note=(
                f"Same {n_revisit} revisit frames in room 0; map of room 0: {small.area_m2:.1f} m2 of surface "
                f"({small.blocks} blocks); map of rooms 0-3: {large.area_m2:.1f} m2 ({large.blocks} blocks)."
            ),
            details={
                "mean_ratio": mean(large_ms) / mean(small_ms),
                "small_area_m2": small.area_m2,
                "large_area_m2": large.area_m2,
                "small_blocks": small.blocks,
                "large_blocks": large.blocks,
                "small_blocks_meshed_per_frame": mean(small_meshed),
                "large_blocks_meshed_per_frame": mean(large_meshed),
                "small_median_ms": statistics.median(small_ms),
                "large_median_ms": statistics.median(large_ms),
            },
        )
    )
    full_ms = statistics.median(small_full_ms)
    report.add(
        Metric(
            "incremental_vs_full",
            "(c) full re-extraction / incremental update",
            mean(small_ms),
            full_ms,
            "ms",
            full_ms / mean(small_ms),
            10.0,
            "min",
            ratio_is="baseline / value (speed-up)",
            note=(
                f"Room-sized map: full extraction of {small_triangles:,} triangles (median of {len(small_full_ms)}) vs "
                f"the mean update per revisit frame at remesh_tolerance_voxels={cfg.remesh_tolerance_voxels:g} "
                f"({mean(small_meshed):.0f} blocks meshed); exact update (tolerance 0) {mean(exact_ms):.0f} ms, "
                f"{mean(exact_meshed):.0f} blocks ({full_ms / mean(exact_ms):.1f}x); four rooms: "
                f"{large_full_ms:.0f} ms vs {mean(large_ms):.0f} ms ({large_full_ms / mean(large_ms):.1f}x)."
            ),
            details={
                "room_full_triangles": small_triangles,
                "room_blocks_meshed_per_frame": mean(small_meshed),
                "exact_update_ms": mean(exact_ms),
                "exact_blocks_meshed_per_frame": mean(exact_meshed),
                "exact_ratio": full_ms / mean(exact_ms),
                "median_paired_update_ratio_exact_over_tolerant": statistics.median(
                    e / t for t, e in zip(small_ms, exact_ms, strict=True)
                ),
                "four_rooms_full_ms": large_full_ms,
                "four_rooms_full_triangles": large_triangles,
                "four_rooms_update_ms": mean(large_ms),
                "four_rooms_ratio": large_full_ms / mean(large_ms),
            },
        )
    )

    # (d) bytes streamed per second while exploring room 0.
    bps = small.upsert_bytes / LOOP_S
    full_bps = small.full_bytes / LOOP_S
    report.add(
        Metric(
            "bytes_streamed",
            "(d) chunk bytes streamed while exploring",
            bps / 1024.0,
            full_bps / 1024.0,
            "KiB/s",
            bps / full_bps,
            note=(
                f"Room 0's loop of {n_loop} frames walked at 30 deg/s ({LOOP_S:g} s), mesh updated after every "
                "frame; baseline resends every chunk at every update."
            ),
            details={
                "upsert_bytes": small.upsert_bytes,
                "full_resend_bytes": small.full_bytes,
                "updates": small.updates,
                "chunks_sent": small.chunks_sent,
                "bytes_per_chunk": small.upsert_bytes / max(small.chunks_sent, 1),
                "explore_update_ms_mean": mean(small.update_ms),
            },
        )
    )

    # Absolute times against the GPU targets (judged only on a GPU).
    on_gpu = device.upper().startswith("CUDA")
    for key, title, value, target in (
        ("integrate_ms", "integrate time per 640x480 frame", integ.details["synthetic"]["mapper_ms"], GPU_INTEGRATE_MS),
        ("mesh_update_ms", "mesh update time per 640x480 frame", mean(small_ms), GPU_MESH_MS),
    ):
        report.add(
            Metric(
                key,
                title,
                value,
                target,
                "ms",
                value / target,
                1.0 if on_gpu else None,
                "max" if on_gpu else "info",
                ratio_is="value / GPU target",
                note="" if on_gpu else "Target applies on a GPU; this run is on the CPU.",
            )
        )

    # (e) peak memory.
    peak = peak_rss_mb()
    # tsdf + weight + rgb, float32, per voxel.
    grid_mib = cfg.block_budget * cfg.block_resolution**3 * (1 + 1 + 3) * 4 / 2**20
    report.add(
        Metric(
            "peak_memory",
            "(e) peak RSS",
            peak,
            rss_start,
            "MiB",
            peak / max(rss_start, 1e-9),
            note=(
                "Baseline: RSS before the bench (interpreter, libraries). Open3D allocates a grid's whole block "
                f"budget up front ({grid_mib:.0f} MiB here) and two grids are alive at a time (Mapper and bare "
                "grid; room map and four-room map, beside a third with twice the room's blocks for (c)'s exact "
                "update), plus the frames and each map's published voxels (8 B per voxel of its blocks)."
            ),
            details={"rss_end_mib": current_rss_mb(), "grid_preallocated_mib": grid_mib},
        )
    )
    return report


# ---------------------------------------------------------------------- (a)


_Inputs = tuple[o3d.t.geometry.Image, o3d.t.geometry.Image, o3c.Tensor, o3c.Tensor, float]


class _BareGrid:
    """The baseline: Open3D's VoxelBlockGrid with the Mapper's attributes and parameters, nothing else."""

    def __init__(self, cfg: MapperConfig, device: o3c.Device) -> None:
        self.cfg = cfg
        self.device = device
        self.grid = o3d.t.geometry.VoxelBlockGrid(
            attr_names=("tsdf", "weight", "color"),
            attr_dtypes=(o3c.float32, o3c.float32, o3c.float32),
            attr_channels=(o3c.SizeVector([1]), o3c.SizeVector([1]), o3c.SizeVector([3])),
            voxel_size=cfg.voxel_size_m,
            block_resolution=cfg.block_resolution,
            block_count=cfg.block_budget,
            device=device,
        )

    def prepare(self, frame: CameraFrame) -> _Inputs:
        """Tensors for one frame (not timed): depth, colour, K, T_C_W, depth scale."""
        assert frame.depth is not None and frame.color is not None and frame.pose_world_camera is not None
        k = frame.intrinsics.matrix
        k[:2, 2] += 0.5  # the Mapper's pixel-centre convention, so both fuse the same
        return (
            o3d.t.geometry.Image(to_tensor(frame.depth)).to(self.device),
            o3d.t.geometry.Image(to_tensor(frame.color)).to(self.device),
            to_tensor(k, o3c.float64),
            to_tensor(frame.pose_world_camera.inverse().matrix, o3c.float64),
            1.0 / float(frame.depth_m_per_unit),
        )

    def integrate(
        self, depth: o3d.t.geometry.Image, color: o3d.t.geometry.Image, k: o3c.Tensor, t_c_w: o3c.Tensor, scale: float
    ) -> None:
        trunc, depth_max = float(self.cfg.sdf_trunc_voxels), float(self.cfg.depth_max_m)
        coords = self.grid.compute_unique_block_coordinates(depth, k, t_c_w, scale, depth_max, trunc)
        self.grid.integrate(coords, depth, color, k, k, t_c_w, scale, depth_max, trunc)


def _integrate_overhead(cfg: MapperConfig, frames: Sequence[CameraFrame]) -> tuple[list[float], list[float]]:
    """Per-frame wall times (ms) of Mapper.integrate and of the bare grid, alternating order."""
    mapper = Mapper(cfg)
    bare = _BareGrid(cfg, resolve_device(cfg.device))
    mapper.integrate(frames[0])  # warm-up (first-call allocations), both sides
    bare.integrate(*bare.prepare(frames[0]))
    mapper_ms: list[float] = []
    bare_ms: list[float] = []
    for i, frame in enumerate(frames):
        inputs = bare.prepare(frame)
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            t0 = time.perf_counter()
            if side == 0:
                mapper.integrate(frame)
            else:
                bare.integrate(*inputs)
            (mapper_ms if side == 0 else bare_ms).append((time.perf_counter() - t0) * 1000.0)
    del mapper, bare  # each grid holds its whole block budget
    gc.collect()
    return mapper_ms, bare_ms


# ---------------------------------------------------------------------- (b), (c), (d)


@dataclass
class _Explored:
    mapper: Mapper | None  # None once freed
    blocks: int
    area_m2: float
    update_ms: list[float]
    updates: int = 0
    upsert_bytes: int = 0
    full_bytes: int = 0
    chunks_sent: int = 0


def _explore(
    cfg: MapperConfig, batches: Sequence[Iterable[CameraFrame]], *, stream: bool, per_frame: int = 0
) -> _Explored:
    """Fuse the frames; update the mesh after every frame of the first ``per_frame`` batches (all with
    ``stream``, counting the bytes a subscriber gets), else once per batch."""
    mapper = Mapper(cfg)
    sizes: dict[BlockKey, int] = {}
    update_ms: list[float] = []
    upsert_bytes = full_bytes = sent = updates = 0
    for b, batch in enumerate(batches):
        each = stream or b < per_frame
        for frame in batch:
            mapper.integrate(frame)
            if not each:
                continue
            t0 = time.perf_counter()
            update = mapper.update_mesh()
            update_ms.append((time.perf_counter() - t0) * 1000.0)
            if update.empty or not stream:
                continue
            updates += 1
            for chunk in update.upserted:
                sizes[chunk.key] = encode_chunk(chunk).ByteSize()
                upsert_bytes += sizes[chunk.key]
            for key in update.removed:
                sizes.pop(key, None)
            sent += len(update.upserted)
            full_bytes += sum(sizes.values())
        if not each:
            mapper.update_mesh()
    return _Explored(
        mapper,
        mapper.volume.block_count,
        _mesh_area(mapper.chunks.values()),
        update_ms,
        updates,
        upsert_bytes,
        full_bytes,
        sent,
    )


def _update_after(mapper: Mapper, frame: CameraFrame) -> tuple[float, int]:
    """Fuse one frame, then time the mesh update: (ms, blocks it meshed)."""
    mapper.integrate(frame)
    t0 = time.perf_counter()
    update = mapper.update_mesh()
    return (time.perf_counter() - t0) * 1000.0, update.blocks_meshed


def _full_extraction(mapper: Mapper, cfg: MapperConfig) -> tuple[float, int]:
    """Wall time (ms) of one whole-volume extraction by Open3D, and its triangle count."""
    t0 = time.perf_counter()
    mesh = mapper.volume.grid.extract_triangle_mesh(weight_threshold=float(cfg.weight_threshold))
    ms = (time.perf_counter() - t0) * 1000.0
    return ms, int(mesh.triangle.indices.shape[0])


def _mesh_area(chunks: Iterable[MeshChunk]) -> float:
    """Total triangle area of some chunks, square metres."""
    total = 0.0
    for c in chunks:
        if c.triangle_count:
            v, t = c.vertices.astype(np.float64), c.triangles
            cross = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
            total += 0.5 * float(np.linalg.norm(cross, axis=1).sum())
    return total
