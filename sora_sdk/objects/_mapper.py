"""The object layer's facade: discovery, tracking, relations and queries for one session's space.

Typical use, after each mesh and plane update of the session::

    mesh = mapper.update_mesh()
    planes = plane_tracker.update(mapper.chunks, changed, up_world=up)
    update = objects.update(mapper.chunks, plane_tracker.planes, time_s=t, view_world_camera=mapper.last_pose,
                            up_world=up, free_space=mapper.free_space, seen_count=mapper.seen_counts,
                            detections=lifted)
    if not update.empty:
        store.apply(update)  # upserted objects, removed IDs, added / removed relations

Every call re-discovers the objects in the map (incrementally: see :mod:`._discovery`), fuses them into
tracks (:mod:`._tracker`), recomputes the relations and returns what changed for subscribers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sora_sdk.core.errors import InvalidArgumentError
from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import BlockKey, MeshChunk, Plane, Relation, SceneObject

from ._boxes import UpBox
from ._discovery import DiscoveryResult, FreeSpaceProbe, ObjectDiscovery, SeenCountProbe, up_frame
from ._options import ObjectOptions
from ._relations import PREDICATES, diff_relations, spatial_relations, view_relations
from ._tracker import ObjectTracker, TrackUpdate
from ._types import Detection3D
from ._vocab import ObjectVocabulary

if TYPE_CHECKING:
    from sora_sdk.dialogue._embeddings import Embedder

__all__ = ["ObjectMapper", "ObjectsUpdate", "UpdateStats"]


@dataclass(frozen=True)
class UpdateStats:
    """Costs and counts of one :meth:`ObjectMapper.update` (seconds, wall time)."""

    discovery_s: float = 0.0
    tracking_s: float = 0.0
    relations_s: float = 0.0
    total_s: float = 0.0
    observations: int = 0
    tracks: int = 0
    chunks_filtered: int = 0
    clusters_described: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class ObjectsUpdate:
    """What one :meth:`ObjectMapper.update` changed, for subscribers.

    upserted : new or changed objects (each carries the update's version)
    removed_ids : objects that are gone
    added_relations, removed_relations : the relation set's difference to the previous update
    version : the object layer's version after this update
    moved_ids : objects that moved to a new place this update (also in ``upserted``)
    """

    upserted: list[SceneObject] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    added_relations: list[Relation] = field(default_factory=list)
    removed_relations: list[Relation] = field(default_factory=list)
    version: int = 0
    moved_ids: list[str] = field(default_factory=list)
    stats: UpdateStats = field(default_factory=UpdateStats)

    @property
    def empty(self) -> bool:
        return not (self.upserted or self.removed_ids or self.added_relations or self.removed_relations)


class ObjectMapper:
    """Objects in the map: class-agnostic discovery, persistent tracks, relations, open-vocabulary queries.

    Public methods take a lock, so a session may call them from executor threads; ``update`` calls are
    serialised.
    """

    def __init__(self, options: ObjectOptions | None = None, *, embedder: Embedder | None = None) -> None:
        self.options = options or ObjectOptions()
        self._lock = threading.RLock()
        self._discovery = ObjectDiscovery(self.options)
        self._tracker = ObjectTracker(self.options)
        self._vocab = ObjectVocabulary(embedder, self.options)
        self._relations: set[Relation] = set()
        self._version = 0
        self._r_world_up = np.eye(3)
        self._last: DiscoveryResult | None = None
        # The view the view relations were computed for; replaced when the user moved or turned enough.
        self._view: Pose | None = None
        self._relation_planes: dict[str, int] = {}
        self._spatial: set[Relation] = set()
        self._viewed: set[Relation] = set()

    @classmethod
    def create_from_options(cls, options: ObjectOptions, *, embedder: Embedder | None = None) -> ObjectMapper:
        return cls(options, embedder=embedder)

    # ------------------------------------------------------------------ state

    @property
    def objects(self) -> dict[str, SceneObject]:
        """The current objects (confirmed and lost; tentative too with ``publish_tentative``) by ID."""
        with self._lock:
            return self._tracker.published

    @property
    def relations(self) -> set[Relation]:
        with self._lock:
            return set(self._relations)

    @property
    def version(self) -> int:
        """Increases with every update that changed something a subscriber sees."""
        return self._version

    @property
    def centroids(self) -> dict[str, np.ndarray]:
        """Volume centroid estimates of the current objects, (3,) world metres (``SceneObject``'s own
        ``centroid_world_m`` is its box centre)."""
        with self._lock:
            return self._tracker.centroids

    @property
    def last_discovery(self) -> DiscoveryResult | None:
        """The raw result of the last discovery run (observations before tracking), for tools and tests."""
        return self._last

    @property
    def vocabulary(self) -> ObjectVocabulary:
        return self._vocab

    def reset(self) -> None:
        """Forget every object and relation (a new map). The next update publishes afresh."""
        with self._lock:
            self._discovery.reset()
            self._tracker.reset()
            self._relations = set()
            self._last = None
            self._view = None
            self._relation_planes = {}
            self._spatial = set()
            self._viewed = set()
            self._version += 1

    # ------------------------------------------------------------------ update

    def update(
        self,
        chunks: Mapping[BlockKey, MeshChunk],
        planes: Mapping[str, Plane],
        *,
        time_s: float,
        view_world_camera: Pose | None = None,
        up_world: np.ndarray | None = None,
        free_space: FreeSpaceProbe | None = None,
        detections: Sequence[Detection3D] = (),
        changed: Iterable[BlockKey] | None = None,
        seen_count: SeenCountProbe | None = None,
    ) -> ObjectsUpdate:
        """Re-discover, fuse and relate the objects after a mesh / plane update.

        chunks : every current mesh chunk; planes : every current plane (both world frame);
        time_s : capture time of the newest fused frame, seconds (drives the lost / forget timers);
        view_world_camera : T_W_C of the user's view, for left / right / in front / behind;
        up_world : (3,) world up (default +Z); free_space : the map's probe (``Mapper.free_space``), for
        removals and for telling objects from occluded furniture; detections : the detections lifted to 3D
        since the last update, for labels; changed : keys of the chunks the mesh update upserted or removed
        (``MeshUpdate``), when known: only those are looked at (otherwise every chunk's version is compared);
        seen_count : the map's probe of how many depth frames saw a point (``Mapper.seen_counts``), so an
        object whose surface is well observed is confirmed without waiting for more updates.
        """
        if not np.isfinite(time_s):
            raise InvalidArgumentError.field("time_s", "must be finite")
        t0 = time.perf_counter()
        with self._lock:
            r_wu = up_frame(up_world)
            self._r_world_up = r_wu
            found = self._discovery.discover(chunks, planes, r_wu[:, 2], free_space=free_space, changed=changed)
            self._last = found
            t1 = time.perf_counter()
            tracked: TrackUpdate = self._tracker.update(
                found.observations,
                time_s=float(time_s),
                version=self._version + 1,
                chunks=chunks,
                r_world_up=r_wu,
                free_space=free_space,
                detections=detections,
                cell_m=self.options.cluster_cell_m,
                rejected_cells=found.rejected_cells,
                seen_count=seen_count,
            )
            t2 = time.perf_counter()
            # Relations: spatial ones change with the objects and planes, view ones with those and the view.
            changed_ids = {o.object_id for o in tracked.upserted} | set(tracked.removed_ids)
            objects_changed = bool(changed_ids)
            view_moved = self._move_view(view_world_camera)
            plane_ids = {p.plane_id: p.version for p in planes.values()}
            current = self._tracker.published
            if objects_changed or plane_ids != self._relation_planes:
                self._spatial = spatial_relations(
                    current, planes, r_wu, options=self.options, previous=self._spatial, changed=changed_ids
                )
                self._relation_planes = plane_ids
            if self._view is not None and (objects_changed or view_moved):
                self._viewed = view_relations(current, r_wu, self._view, previous=self._relations, options=self.options)
            relations = self._spatial | self._viewed
            added, removed = diff_relations(self._relations, relations)
            # What subscribers hold: a relation whose confidence moved a little keeps its sent value.
            self._relations = (self._relations - set(removed)) | set(added)
            t3 = time.perf_counter()
            update = ObjectsUpdate(
                upserted=tracked.upserted,
                removed_ids=tracked.removed_ids,
                added_relations=added,
                removed_relations=removed,
                moved_ids=tracked.moved_ids,
            )
            if not update.empty:
                self._version += 1
            update.version = self._version
            update.stats = UpdateStats(
                discovery_s=t1 - t0,
                tracking_s=t2 - t1,
                relations_s=t3 - t2,
                total_s=t3 - t0,
                observations=len(found.observations),
                tracks=self._tracker.track_count,
                chunks_filtered=found.chunks_filtered,
                clusters_described=found.clusters_described,
                rejected=dict(found.rejected),
            )
            return update

    def _move_view(self, view: Pose | None) -> bool:
        """Adopt ``view`` for the view relations when it is the first, or the user moved more than
        ``view_update_m`` or turned more than ``view_update_deg`` since the adopted one; True when adopted.
        (Relations relative to a view that follows every step would be re-sent all the time.)"""
        if view is None:
            return False
        old = self._view
        if old is not None:
            moved = float(np.linalg.norm(view.translation - old.translation))
            cos = float(np.clip(view.rotation[:, 2] @ old.rotation[:, 2], -1.0, 1.0))
            if moved < self.options.view_update_m and math.degrees(math.acos(cos)) < self.options.view_update_deg:
                return False
        self._view = view
        return True

    # ------------------------------------------------------------------ queries

    def query(
        self,
        *,
        label: str = "",
        text: str = "",
        region: tuple[Pose, np.ndarray] | None = None,
        relation: str = "",
        related_id: str = "",
        max_results: int = 0,
    ) -> list[SceneObject]:
        """Objects that satisfy every given filter.

        label : exact label (case-insensitive; also a detector alternative in ``label_scores``, or the
            colour name); text : open-vocabulary (see :class:`ObjectVocabulary`), ranks the result by
            similarity; region : (T_W_R, (3,) edge lengths in metres) of a box: objects whose box centre
            is inside; relation : a predicate (``on``, ``near``, …) the object is the subject of, with
            ``related_id`` (an object or plane ID) as its object when given; related_id alone: any
            relation to it. max_results : at most this many (0: all). Without ``text`` the order is by
            object ID.
        """
        if relation and relation not in PREDICATES:
            raise InvalidArgumentError.field("relation", f"must be one of {', '.join(PREDICATES)}")
        if max_results < 0:
            raise InvalidArgumentError.field("max_results", "must be >= 0")
        with self._lock:
            objects = sorted(self._tracker.published.values(), key=lambda o: o.object_id)
            relations = set(self._relations)
        if label:
            want = label.strip().lower()
            objects = [
                o
                for o in objects
                if o.label.lower() == want or want in {k.lower() for k in o.label_scores} or o.color_name == want
            ]
        if region is not None:
            pose, size = region
            half = 0.5 * np.asarray(size, dtype=np.float64).reshape(3)
            inv = pose.inverse()
            objects = [
                o for o in objects if bool(np.all(np.abs(inv.transform_points(o.centroid_world_m[None])[0]) <= half))
            ]
        if relation or related_id:
            ok = {
                r.subject_id
                for r in relations
                if (not relation or r.predicate == relation) and (not related_id or r.object_id == related_id)
            }
            objects = [o for o in objects if o.object_id in ok]
        if text:
            objects = [o for o, _ in self._vocab.match(text, objects)]
        return objects[:max_results] if max_results else objects

    def box_of(self, object_id: str) -> UpBox | None:
        """The object's box in the up frame of the last update (for tools), None when unknown."""
        with self._lock:
            o = self._tracker.published.get(object_id)
            return None if o is None else UpBox.from_pose(o.pose_world_box, o.size_m, self._r_world_up)
