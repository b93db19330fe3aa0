"""Synthetic rooms laid out for benchmarks: several rooms side by side, poses around and between loops."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

import numpy as np

from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.sensors import CameraFrame
from sora_sdk.datasets import SyntheticRoom, orbit_trajectory, render

__all__ = ["ROOM_OFFSETS_M", "LazyFrames", "between", "mean", "shifted", "side_by_side"]

#: Where rooms 1-3 sit relative to room 0 (the 5 x 4 m rooms are then 1 m apart).
ROOM_OFFSETS_M = ((6.0, 0.0, 0.0), (0.0, 5.0, 0.0), (6.0, 5.0, 0.0))


def between(room: SyntheticRoom, n_loop: int, count: int, offset: float = 0.5) -> list[Pose]:
    """``count`` poses spread over the room's loop, ``offset`` of a loop step off the ``n_loop`` explored ones."""
    step = 2.0 * math.pi / n_loop
    every = n_loop / count
    return [
        orbit_trajectory(room, 1, start_angle_rad=-math.pi / 2 + (math.floor(i * every) + offset) * step)[0]
        for i in range(count)
    ]


def shifted(pose: Pose, offset_m: Sequence[float]) -> Pose:
    m = pose.matrix.copy()
    m[:3, 3] += np.asarray(offset_m, dtype=np.float64)
    return Pose(m)


def side_by_side(rooms: Sequence[SyntheticRoom]) -> SyntheticRoom:
    """One triangle soup to render: room 0 where it is, room k + 1 moved by ``ROOM_OFFSETS_M[k]``
    (the planes, objects and element ids stay room 0's: this is for rendering only)."""
    offsets = [np.zeros(3), *(np.asarray(o, dtype=np.float64) for o in ROOM_OFFSETS_M)]
    first = np.cumsum([0] + [len(r.vertices) for r in rooms])
    return dataclasses.replace(
        rooms[0],
        vertices=np.concatenate([r.vertices + o for r, o in zip(rooms, offsets, strict=True)]),
        triangles=np.concatenate([r.triangles + f for r, f in zip(rooms, first, strict=False)]).astype(np.int32),
        triangle_colors=np.concatenate([r.triangle_colors for r in rooms]),
        triangle_elements=np.concatenate([r.triangle_elements for r in rooms]),
    )


class LazyFrames:
    """Frames of one pose list, rendered when iterated (so four rooms' frames are never all in memory)."""

    def __init__(self, world: SyntheticRoom, poses: Sequence[Pose], intrinsics: Intrinsics) -> None:
        self.world, self.poses, self.intrinsics = world, poses, intrinsics

    def __iter__(self) -> Iterator[CameraFrame]:
        for start in range(0, len(self.poses), 8):
            yield from render(self.world, self.poses[start : start + 8], self.intrinsics)


def mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else float("nan")
