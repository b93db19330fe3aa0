"""SceneStore: one session's versioned scene, its deltas, and its subscribers.

The store is the single writer of scene state. Each ``commit(delta)`` applies the delta and
appends it to an ordered log as one version; subscribers receive a snapshot and then every
delta after it, or resume from a position they already applied.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..core.config import SceneConfig
from ..core.errors import OutOfRangeError
from ..core.scene import Anchor, BlockKey, MeshChunk, Plane, Relation, SceneObject, StreamPosition
from ._channels import EpochChanged, LogReader, OrderedLog

__all__ = ["SceneContent", "SceneDelta", "SceneState", "SceneStore", "SceneUpdate", "UpdateKind"]


@dataclass
class SceneDelta:
    """The changes of one version. Empty lists mean "no change"."""

    upserted_chunks: list[MeshChunk] = field(default_factory=list)
    removed_chunks: list[BlockKey] = field(default_factory=list)
    upserted_planes: list[Plane] = field(default_factory=list)
    removed_plane_ids: list[str] = field(default_factory=list)
    upserted_anchors: list[Anchor] = field(default_factory=list)
    removed_anchor_ids: list[str] = field(default_factory=list)
    upserted_objects: list[SceneObject] = field(default_factory=list)
    removed_object_ids: list[str] = field(default_factory=list)
    added_relations: list[Relation] = field(default_factory=list)
    removed_relations: list[Relation] = field(default_factory=list)
    tracking_state: str = ""  # "" (unchanged) | "tracking" | "lost"
    server_time_s: float = 0.0

    def is_empty(self) -> bool:
        return not any(
            (
                self.upserted_chunks, self.removed_chunks, self.upserted_planes, self.removed_plane_ids,
                self.upserted_anchors, self.removed_anchor_ids, self.upserted_objects,
                self.removed_object_ids, self.added_relations, self.removed_relations, self.tracking_state,
            )
        )  # fmt: skip

    def approx_bytes(self) -> int:
        """Rough wire size, for splitting snapshots."""
        mesh = sum(c.vertex_count * 12 + c.triangle_count * 6 + 64 for c in self.upserted_chunks)
        others = 200 * (len(self.upserted_planes) + len(self.upserted_objects) + len(self.upserted_anchors))
        return mesh + others + 16 * len(self.removed_chunks)


def _memory_bytes(delta: SceneDelta) -> int:
    """What a delta holds in memory (its chunks' arrays dominate), for the history's byte bound."""
    mesh = sum(
        c.vertices.nbytes + c.normals.nbytes + c.colors.nbytes + c.triangles.nbytes + 200 for c in delta.upserted_chunks
    )
    others = len(delta.upserted_planes) + len(delta.upserted_objects) + len(delta.upserted_anchors)
    return mesh + 500 * others + 16 * (len(delta.removed_chunks) + 1)


class UpdateKind(StrEnum):
    SNAPSHOT_BEGIN = "snapshot_begin"
    SNAPSHOT_PART = "snapshot_part"
    DELTA = "delta"


@dataclass(frozen=True)
class SceneContent:
    """What a subscriber wants."""

    mesh: bool = True
    planes: bool = True
    objects: bool = True
    anchors: bool = True

    def filter(self, d: SceneDelta) -> SceneDelta:
        if self.mesh and self.planes and self.objects and self.anchors:
            return d
        return SceneDelta(
            upserted_chunks=d.upserted_chunks if self.mesh else [],
            removed_chunks=d.removed_chunks if self.mesh else [],
            upserted_planes=d.upserted_planes if self.planes else [],
            removed_plane_ids=d.removed_plane_ids if self.planes else [],
            upserted_anchors=d.upserted_anchors if self.anchors else [],
            removed_anchor_ids=d.removed_anchor_ids if self.anchors else [],
            upserted_objects=d.upserted_objects if self.objects else [],
            removed_object_ids=d.removed_object_ids if self.objects else [],
            added_relations=d.added_relations if self.objects else [],
            removed_relations=d.removed_relations if self.objects else [],
            tracking_state=d.tracking_state,
            server_time_s=d.server_time_s,
        )


@dataclass(frozen=True)
class SceneUpdate:
    """What a subscriber receives: a snapshot part, one version's delta, or (byte-budgeted
    streams) a coalesced delta whose position is the version through which all was delivered."""

    position: StreamPosition
    kind: UpdateKind
    delta: SceneDelta
    snapshot_complete: bool = False
    coalesced: bool = False


@dataclass
class SceneState:
    """The current scene; elements are immutable, so a snapshot is a copy of the dicts."""

    chunks: dict[BlockKey, MeshChunk] = field(default_factory=dict)
    planes: dict[str, Plane] = field(default_factory=dict)
    anchors: dict[str, Anchor] = field(default_factory=dict)
    objects: dict[str, SceneObject] = field(default_factory=dict)
    relations: set[Relation] = field(default_factory=set)
    tracking_state: str = "tracking"

    def apply(self, d: SceneDelta) -> None:
        for c in d.upserted_chunks:
            self.chunks[c.key] = c
        for k in d.removed_chunks:
            self.chunks.pop(k, None)
        for p in d.upserted_planes:
            self.planes[p.plane_id] = p
        for pid in d.removed_plane_ids:
            self.planes.pop(pid, None)
        for a in d.upserted_anchors:
            self.anchors[a.anchor_id] = a
        for aid in d.removed_anchor_ids:
            self.anchors.pop(aid, None)
        for o in d.upserted_objects:
            self.objects[o.object_id] = o
        for oid in d.removed_object_ids:
            self.objects.pop(oid, None)
        self.relations.difference_update(d.removed_relations)
        self.relations.update(d.added_relations)
        if d.tracking_state:
            self.tracking_state = d.tracking_state

    def as_delta(self) -> SceneDelta:
        return SceneDelta(
            upserted_chunks=list(self.chunks.values()),
            upserted_planes=list(self.planes.values()),
            upserted_anchors=list(self.anchors.values()),
            upserted_objects=list(self.objects.values()),
            added_relations=sorted(self.relations, key=lambda r: (r.subject_id, r.predicate, r.object_id)),
            tracking_state=self.tracking_state,
            server_time_s=time.time(),
        )


class SceneStore:
    """One session's scene. Use from the event loop thread only."""

    def __init__(self, config: SceneConfig, *, epoch: int) -> None:
        self.config = config
        self.state = SceneState()
        self._log: OrderedLog[SceneDelta] = OrderedLog(
            epoch=epoch,
            capacity=config.history_versions,
            max_lag=config.subscriber_queue_items,
            max_bytes=config.history_bytes,
            size_of=_memory_bytes,
        )

    @property
    def position(self) -> StreamPosition:
        return self._log.position

    def commit(self, delta: SceneDelta) -> StreamPosition:
        """Applies ``delta`` as the next version and wakes subscribers."""
        if not delta.server_time_s:
            delta.server_time_s = time.time()
        self.state.apply(delta)
        return self._log.append(delta)

    def restart(self, epoch: int, state: SceneState) -> StreamPosition:
        """Replaces the whole scene (map load); subscribers receive a fresh snapshot."""
        self.state = state
        self._log.restart(epoch)
        return self._log.position

    def close(self, error: BaseException) -> None:
        self._log.close(error)

    def snapshot(self, content: SceneContent = SceneContent()) -> list[SceneUpdate]:
        """The current scene split into messages of about ``snapshot_batch_bytes``."""
        full = content.filter(self.state.as_delta())
        pos = self.position
        parts: list[SceneDelta] = []
        current = SceneDelta(
            upserted_planes=full.upserted_planes, upserted_anchors=full.upserted_anchors,
            upserted_objects=full.upserted_objects, added_relations=full.added_relations,
            tracking_state=full.tracking_state, server_time_s=full.server_time_s,
        )  # fmt: skip
        size = current.approx_bytes()
        for chunk in full.upserted_chunks:
            csize = chunk.vertex_count * 12 + chunk.triangle_count * 6 + 64
            if current.upserted_chunks and size + csize > self.config.snapshot_batch_bytes:
                parts.append(current)
                current = SceneDelta(server_time_s=full.server_time_s)
                size = 0
            current.upserted_chunks.append(chunk)
            size += csize
        parts.append(current)
        return [
            SceneUpdate(
                position=pos,
                kind=UpdateKind.SNAPSHOT_BEGIN if i == 0 else UpdateKind.SNAPSHOT_PART,
                delta=d,
                snapshot_complete=i == len(parts) - 1,
            )
            for i, d in enumerate(parts)
        ]

    async def watch(
        self,
        resume_from: StreamPosition | None = None,
        content: SceneContent = SceneContent(),
        *,
        strict_resume: bool = False,
        reader_out: list[LogReader[SceneDelta]] | None = None,
    ) -> AsyncIterator[SceneUpdate]:
        """Snapshot (unless resuming), then every delta, forever.

        A resume position whose history is gone yields a fresh snapshot, or OutOfRangeError when
        ``strict_resume``. The reader is appended to ``reader_out`` so the caller can end the
        stream once ``reader.lagged`` (it fell ``max_lag`` versions behind while a write was blocked).
        """
        if resume_from is not None and not self._log.can_resume(resume_from):
            if strict_resume:
                raise OutOfRangeError(
                    f"cannot resume from epoch {resume_from.epoch} sequence {resume_from.sequence}: "
                    f"history starts at epoch {self._log.epoch} sequence {self._log.oldest_sequence}",
                    reason="RESUME_POSITION_TOO_OLD",
                )
            resume_from = None
        while True:
            if resume_from is None:
                parts = self.snapshot(content)
                start = parts[0].position
            else:
                parts, start = [], resume_from
            reader = self._log.reader(start)
            if reader_out is not None:
                reader_out.append(reader)
            try:
                for part in parts:
                    yield part
                while True:
                    try:
                        batch = await reader.next_batch()
                    except EpochChanged:  # a map load started a new epoch: re-snapshot
                        resume_from = None
                        break
                    for item in batch:
                        d = content.filter(item.value)
                        if not d.is_empty():
                            yield SceneUpdate(item.position, UpdateKind.DELTA, d)
            finally:
                reader.close()

    async def watch_budgeted(
        self,
        max_mesh_bytes_per_s: int,
        priority_points: Callable[[], list[np.ndarray]],
        resume_from: StreamPosition | None = None,
        content: SceneContent = SceneContent(),
        *,
        rate_hz: float = 10.0,
        reader_out: list[LogReader[SceneDelta]] | None = None,
    ) -> AsyncIterator[SceneUpdate]:
        """Like :meth:`watch`, but mesh chunks go out nearest-first within a byte budget.

        Chunk changes wait in a per-subscriber dict keyed by block (a newer change replaces an
        older one, so the backlog is bounded by the map's size, not by time). Every 1/rate_hz
        seconds the changes whose chunk centres are nearest to ``priority_points()`` (the user's
        head, the gaze hit …) are sent up to the budget, always at least one. Other changes
        (planes, anchors, objects, tracking) are small and go out at once.
        """
        budget_per_tick = max(1.0, max_mesh_bytes_per_s / rate_hz)
        if resume_from is not None and not self._log.can_resume(resume_from):
            resume_from = None
        # (key) -> (chunk or None for a removal, sequence of the change)
        pending: dict[BlockKey, tuple[MeshChunk | None, int]] = {}
        snapshot: SceneUpdate | None = None
        if resume_from is None:
            snap = self.state.as_delta()
            start = self.position
            head = content.filter(dataclasses.replace(snap, upserted_chunks=[]))
            snapshot = SceneUpdate(start, UpdateKind.SNAPSHOT_BEGIN, head, snapshot_complete=False)
            if content.mesh:
                pending = {c.key: (c, start.sequence) for c in snap.upserted_chunks}
        else:
            start = resume_from
        announced = snapshot is None
        reader = self._log.reader(start)
        if reader_out is not None:
            reader_out.append(reader)
        if snapshot is not None:
            yield snapshot
        # Through which version the client has everything: one before the snapshot until it is whole.
        delivered = start.sequence if snapshot is None else start.sequence - 1
        try:
            while True:
                other = SceneDelta()
                while self._log.position.sequence > reader.cursor:
                    for item in await reader.next_batch(1 << 16):
                        d = content.filter(item.value)
                        seq = item.position.sequence
                        for c in d.upserted_chunks:
                            pending[c.key] = (c, seq)
                        for k in d.removed_chunks:
                            pending[k] = (None, seq)
                        _merge_non_mesh(other, d)
                chosen = self._pick(pending, priority_points(), budget_per_tick)
                send = SceneDelta(
                    upserted_chunks=[c for k in chosen if (c := pending[k][0]) is not None],
                    removed_chunks=[k for k in chosen if pending[k][0] is None],
                )
                _merge_non_mesh(send, other)
                for k in chosen:
                    del pending[k]
                through = min((seq for _, seq in pending.values()), default=reader.cursor + 1) - 1
                through = max(through, delivered)
                if not announced and through >= start.sequence:
                    # Everything of the snapshot has arrived: tell the client its copy is whole.
                    yield SceneUpdate(StreamPosition(start.epoch, through), UpdateKind.SNAPSHOT_PART, send,
                                      snapshot_complete=True, coalesced=True)  # fmt: skip
                    announced, delivered = True, through
                elif not send.is_empty() or through > delivered:
                    kind = UpdateKind.DELTA if announced else UpdateKind.SNAPSHOT_PART
                    yield SceneUpdate(StreamPosition(start.epoch, through), kind, send, coalesced=True)
                    delivered = through
                if pending:
                    await asyncio.sleep(1.0 / rate_hz)
                else:
                    await reader.wait()
        finally:
            reader.close()

    @staticmethod
    def _pick(
        pending: dict[BlockKey, tuple[MeshChunk | None, int]], points: list[np.ndarray], budget: float
    ) -> list[BlockKey]:
        if not pending:
            return []
        keys = list(pending)
        if points:
            centers = np.array(
                [c.center_world_m() if c is not None else np.zeros(3) for c, _ in pending.values()], dtype=np.float64
            )
            dist = np.min(np.linalg.norm(centers[:, None, :] - np.asarray(points)[None, :, :], axis=2), axis=1)
            # Removals first: they are tiny and stale geometry is worse than missing geometry.
            dist[[c is None for c, _ in pending.values()]] = -1.0
            order = np.argsort(dist, kind="stable")
        else:
            order = np.arange(len(keys))
        chosen: list[BlockKey] = []
        used = 0.0
        for i in order:
            c = pending[keys[i]][0]
            size = 16.0 if c is None else c.vertex_count * 12 + c.triangle_count * 6 + 64
            if chosen and used + size > budget:
                break
            chosen.append(keys[i])
            used += size
        return chosen

    def chunks_near(self, keys: Iterable[BlockKey]) -> list[MeshChunk]:
        return [self.state.chunks[k] for k in keys if k in self.state.chunks]


def _merge_non_mesh(into: SceneDelta, d: SceneDelta) -> None:
    """Appends the non-mesh changes of ``d`` to ``into`` (later changes win when applied in order)."""
    into.upserted_planes.extend(d.upserted_planes)
    into.removed_plane_ids.extend(d.removed_plane_ids)
    into.upserted_anchors.extend(d.upserted_anchors)
    into.removed_anchor_ids.extend(d.removed_anchor_ids)
    into.upserted_objects.extend(d.upserted_objects)
    into.removed_object_ids.extend(d.removed_object_ids)
    into.added_relations.extend(d.added_relations)
    into.removed_relations.extend(d.removed_relations)
    if d.tracking_state:
        into.tracking_state = d.tracking_state
