"""``sora bench objects``: the object layer's per-update cost against baselines measured in the same run.

Frames: synthetic rooms (``generate_room``) along their camera loops, fused with the real :class:`Mapper`,
planes from the real :class:`PlaneTracker`. Metrics:

(a) incremental vs full discovery: while exploring room 0 and then revisiting it (mesh, planes and objects
    updated after every ``every`` frames), :meth:`ObjectDiscovery.discover` on a discovery that keeps its
    caches (only changed chunks are filtered, only changed clusters described) against a fresh discovery on
    the same snapshot (everything filtered and described), alternating which goes first.
(b) update cost vs map size: :meth:`ObjectMapper.update` after revisit frames in room 0, on a map of room 0
    alone and on a map of rooms 0-3 (4x the surface; the rooms are closed, so the revisits see the same
    surfaces in both maps).
(c) association: :class:`ObjectTracker` fusing n boxes into n tracks (k-d tree gating, Hungarian method on
    the gated pairs) against naive association (every track against every box, IoU for each pair, the
    Hungarian method on the full matrix), for n = 12, 48 and 192 objects.
(d) absolute: the mean :meth:`ObjectMapper.update` time per revisit on the room-sized map (5 x 4 m, 12 objects)
    against the 100 ms aim.

Times are CPU time of this process (``time.process_time``): the object layer is single-threaded numpy, and a
shared host would otherwise inflate the wall time of whichever side ran while it was busy.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from sora_sdk.bench._report import Metric, Report, machine_info
from sora_sdk.bench._rooms import ROOM_OFFSETS_M, LazyFrames, between, mean, shifted, side_by_side
from sora_sdk.core.config import MapperConfig
from sora_sdk.core.geometry import Pose
from sora_sdk.datasets import generate_room, orbit_trajectory, render, synthetic_intrinsics
from sora_sdk.mapping import Mapper, PlaneTracker

from ._boxes import UpBox, box_iou
from ._discovery import ObjectDiscovery, Observation
from ._mapper import ObjectMapper
from ._tracker import ObjectTracker

__all__ = ["bench_objects", "objects_report"]

#: The aim for one update on a room-sized map (5 x 4 m, 12 objects), milliseconds.
UPDATE_AIM_MS = 100.0


def bench_objects(
    frames: int = 40,
    *,
    every: int = 4,
    revisits: int = 8,
    size: tuple[int, int] = (320, 240),
    counts: Sequence[int] = (12, 48, 192),
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Run every measurement; returns one dict per metric (``Metric`` fields plus ``verdict``).

    frames : length of each room's camera loop (>= 8); every : frames per mesh / plane / object update;
    revisits : revisit frames (each followed by an update) for (a) and (b); size : render size, pixels;
    counts : object counts for (c).
    """
    return [_as_dict(m) for m in objects_report(frames, every=every, revisits=revisits, size=size, counts=counts,
                                                log=log).metrics]  # fmt: skip


def objects_report(
    frames: int = 40,
    *,
    every: int = 4,
    revisits: int = 8,
    size: tuple[int, int] = (320, 240),
    counts: Sequence[int] = (12, 48, 192),
    log: Callable[[str], None] = print,
) -> Report:
    """As :func:`bench_objects`, as a :class:`~sora_sdk.bench._report.Report` (for printing and JSON)."""
    n_loop = max(int(frames), 8)
    intr = synthetic_intrinsics(*size)
    rooms = [generate_room(seed) for seed in range(1 + len(ROOM_OFFSETS_M))]
    cfg = MapperConfig()
    report = Report(
        "objects",
        machine_info(cfg.device),
        setup={"loop_frames": n_loop, "every": every, "revisits": revisits, "size": f"{size[0]}x{size[1]}"},
    )

    # (a) room 0: explore, then revisit; both discoveries on every snapshot.
    log(f"(a) room 0: {n_loop} frames, updates every {every}, then {revisits} revisits ...")
    small = _Map(cfg)
    incremental = ObjectDiscovery()
    inc_ms: dict[str, list[float]] = {"explore": [], "revisit": []}
    full_ms: dict[str, list[float]] = {"explore": [], "revisit": []}
    chunks_changed: dict[str, list[int]] = {"explore": [], "revisit": []}
    loop = render(rooms[0], orbit_trajectory(rooms[0], n_loop), intr)
    revisit = render(rooms[0], between(rooms[0], n_loop, revisits), intr)
    for phase, batch, step in (("explore", loop, every), ("revisit", revisit, 1)):
        for i, frame in enumerate(batch):
            small.mapper.integrate(frame)
            if (i + 1) % step:
                continue
            changed = small.update_planes()
            chunks_changed[phase].append(len(changed))
            sides = [(incremental, inc_ms[phase]), (None, full_ms[phase])]
            for disc, times in sides if i % 2 == 0 else sides[::-1]:
                d = disc if disc is not None else ObjectDiscovery()
                t0 = _clock()
                d.discover(small.mapper.chunks, small.planes.planes, changed=changed if disc is not None else None)
                times.append((_clock() - t0) * 1000.0)
    speedup = mean(full_ms["revisit"]) / mean(inc_ms["revisit"])
    report.add(
        Metric(
            "discovery_incremental",
            "(a) full / incremental discovery, revisiting",
            mean(inc_ms["revisit"]),
            mean(full_ms["revisit"]),
            "ms/update",
            speedup,
            3.0,
            "min",
            ratio_is="baseline / value (speed-up)",
            note=(
                f"Room 0 revisited frame by frame after a {n_loop}-frame loop; exploring (update every {every} "
                f"frames): {mean(inc_ms['explore']):.0f} ms vs {mean(full_ms['explore']):.0f} ms "
                f"({mean(full_ms['explore']) / mean(inc_ms['explore']):.1f}x)."
            ),
            details={
                "explore_incremental_ms": mean(inc_ms["explore"]),
                "explore_full_ms": mean(full_ms["explore"]),
                "chunks_changed_explore": mean(chunks_changed["explore"]),
                "chunks_changed_revisit": mean(chunks_changed["revisit"]),
                "chunks": len(small.mapper.chunks),
            },
        )
    )

    # (b) the same revisits with the object mapper, on room 0's map and on rooms 0-3's.
    log(f"(b) rooms 0-3: {len(rooms) * n_loop} frames ...")
    world = side_by_side(rooms)
    large = _Map(cfg)
    for k, room in enumerate(rooms):
        offset = (0.0, 0.0, 0.0) if k == 0 else ROOM_OFFSETS_M[k - 1]
        for frame in LazyFrames(world, [shifted(p, offset) for p in orbit_trajectory(room, n_loop)], intr):
            large.mapper.integrate(frame)
        large.update_planes()
    small_om, large_om = ObjectMapper(), ObjectMapper()
    for m, om in ((small, small_om), (large, large_om)):  # warm: the first update describes everything
        om.update(m.mapper.chunks, m.planes.planes, time_s=0.0, free_space=m.mapper.free_space)
    log(f"(b) {revisits} revisits on both maps ...")
    small_ms: list[float] = []
    large_ms: list[float] = []
    more = render(world, between(rooms[0], n_loop, revisits, offset=0.25), intr)
    for i, frame in enumerate(more):
        pair = ((small, small_om, small_ms), (large, large_om, large_ms))
        for m, om, times in pair if i % 2 == 0 else pair[::-1]:
            m.mapper.integrate(frame)
            changed = m.update_planes()
            t0 = _clock()
            om.update(
                m.mapper.chunks,
                m.planes.planes,
                time_s=0.1 * (i + 1),
                view_world_camera=frame.pose_world_camera,
                free_space=m.mapper.free_space,
                changed=changed,
            )
            times.append((_clock() - t0) * 1000.0)
    report.add(
        Metric(
            "update_vs_map_size",
            f"(b) object update, {len(large.mapper.chunks) / max(len(small.mapper.chunks), 1):.1f}x map",
            mean(large_ms),
            mean(small_ms),
            "ms/update",
            statistics.median(b / a for a, b in zip(small_ms, large_ms, strict=True)),
            1.5,
            "max",
            ratio_is="median over the revisits of (four-room map / room map), timed back to back",
            note=(
                f"Room map: {len(small.mapper.chunks)} chunks, {len(small_om.objects)} objects; four rooms: "
                f"{len(large.mapper.chunks)} chunks, {len(large_om.objects)} objects."
            ),
            details={
                "small_chunks": len(small.mapper.chunks),
                "large_chunks": len(large.mapper.chunks),
                "small_objects": len(small_om.objects),
                "large_objects": len(large_om.objects),
            },
        )
    )

    # (c) association: gated vs naive, with growing object counts.
    log(f"(c) association of {', '.join(str(n) for n in counts)} objects ...")
    per_count = {n: _association(n) for n in counts}
    top = max(counts)
    gated, naive = per_count[top]
    report.add(
        Metric(
            "association",
            f"(c) naive / gated association, {top} objects",
            gated,
            naive,
            "ms/update",
            naive / gated,
            3.0,
            "min",
            ratio_is="baseline / value (speed-up)",
            note="Tracker update fusing n jittered boxes into n tracks; naive: all pairs scored, full Hungarian.",
            details={f"n{n}": {"gated_ms": g, "naive_ms": v, "ratio": v / g} for n, (g, v) in per_count.items()},
        )
    )

    # (d) the absolute cost on the room-sized map.
    mean_small = mean(small_ms)
    report.add(
        Metric(
            "update_ms",
            "(d) object update on a 5 x 4 m room, 12 objects",
            mean_small,
            UPDATE_AIM_MS,
            "ms",
            mean_small / UPDATE_AIM_MS,
            1.0,
            "max",
            ratio_is="value / aim",
            note=f"Mean of {len(small_ms)} revisit updates (discovery, tracking, relations); aim {UPDATE_AIM_MS:g} ms.",
            details={"median_ms": statistics.median(small_ms), "max_ms": max(small_ms)},
        )
    )
    return report


# ---------------------------------------------------------------------- helpers


class _Map:
    """A mapper and its plane tracker."""

    def __init__(self, cfg: MapperConfig) -> None:
        self.mapper = Mapper(cfg)
        self.planes = PlaneTracker(voxel_size_m=cfg.voxel_size_m)

    def update_planes(self) -> list:  # type: ignore[type-arg]
        """Mesh and plane update; returns the keys of the chunks changed."""
        mesh = self.mapper.update_mesh()
        changed = [c.key for c in mesh.upserted] + list(mesh.removed)
        self.planes.update(self.mapper.chunks, changed)
        return changed


def _association(n: int, repeats: int = 5) -> tuple[float, float]:
    """(gated ms, naive ms) to fuse n jittered boxes into n tracks, medians of ``repeats``."""
    rng = np.random.default_rng(n)
    side = float(np.sqrt(n)) * 0.5  # objects 0.5 m apart on average
    centres = rng.uniform(0, side, size=(n, 2))
    sizes = rng.uniform(0.08, 0.3, size=(n, 3))

    def observations(jitter: float) -> list[Observation]:
        out = []
        for c, s in zip(centres + rng.normal(0, jitter, size=(n, 2)), sizes, strict=True):
            pose = Pose.from_rotation_translation(np.eye(3), np.array([c[0], c[1], 0.5 * s[2]]))
            out.append(Observation(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint8), np.zeros(0, np.int64),
                                   "floor", 0.0, pose, s, pose.translation, (128, 128, 128), "gray", 0.0,
                                   frozenset()))  # fmt: skip
        return out

    gated: list[float] = []
    naive: list[float] = []
    for _ in range(repeats):
        tracker = ObjectTracker()
        tracker.update(observations(0.0), time_s=0.0, version=1, chunks={}, r_world_up=np.eye(3))
        obs = observations(0.01)
        boxes = [UpBox.from_pose(o.pose_world_box, o.size_m, np.eye(3)) for o in obs]
        tracks = list(tracker._tracks.values())
        t0 = _clock()
        tracker._associate(tracks, boxes)
        gated.append((_clock() - t0) * 1000.0)
        t0 = _clock()
        cost = np.array([[1.0 - box_iou(t.box, b) for b in boxes] for t in tracks])
        linear_sum_assignment(cost)
        naive.append((_clock() - t0) * 1000.0)
    return statistics.median(gated), statistics.median(naive)


def _clock() -> float:
    """CPU seconds of this process: what the work costs, whatever else the host is busy with (the object layer
    runs on one thread)."""
    return time.process_time()


def _as_dict(m: Metric) -> dict:
    return {**dataclasses.asdict(m), "verdict": m.verdict}
