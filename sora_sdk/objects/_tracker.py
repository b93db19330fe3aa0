"""Tracks: each update's observations fused into persistent objects with stable IDs.

One :meth:`ObjectTracker.update` per discovery run:

1. Association. An observation may continue a track when their box centres are within
   ``association_gate_m`` horizontally (or ``association_gate_fraction`` of the track's footprint
   diagonal, if larger), their heights overlap and their sizes are within ``max_size_ratio``; the
   cost of a pair is its distance over the gate plus one minus its box IoU, and pairs are chosen by
   the Hungarian method (``scipy.optimize.linear_sum_assignment``) over the gated pairs only (a
   k-d tree finds them, so the cost grows with the pairs, not with tracks x observations).
2. Matched tracks take the observation: the box is blended (a small change is smoothed with weight
   ``smoothing``; one of twice ``republish_distance_m`` or more is taken as it is, since the map
   grew there), colour and support follow, detection labels add their scores.
3. Matched tracks whose observation shrank to a fraction of the most they had (half the points, or
   seven tenths of the height) while the free-space probe finds the lower inside of their fullest box
   empty are *vacated*: what is left is the part of a removed object the TSDF has not forgotten yet.
   Unmatched tracks: one overlapping a matched track on the same support was a fragment of it and is
   merged away. Otherwise its place is checked: it is vacated when the map is still there (its
   chunks exist) and either its surface is gone (fewer than a fifth of its surface cells above the
   support still hold a mesh vertex) or it is going (fewer than three fifths) and the probe finds at
   least ``free_fraction`` of the points sampled in the lower inside of its fullest box free. A
   vacated track is removed, unless an observation of the same size and colour appeared elsewhere in
   the same update (unmatched, or matched by a track that appeared since, younger than
   ``move_window_s``, which is then removed): the object moved, and the track follows it (same ID).
   For ``remnant_memory_s`` a new observation over a vacated place whose inside the probe finds
   empty is a remnant, not an object. A track that is simply not seen
   is kept, unless it was missed twice and its surface now lies in clusters discovery rejects (the
   rest of a chair came into view: the "object" was its leg); a tentative one is dropped after
   ``tentative_max_misses`` updates, a confirmed one is lost after ``lost_after_s`` and removed
   ``forget_lost_after_s`` later.
4. New tracks for the remaining observations, but those whose centre is over a track's footprint on
   the same support (a piece of that object: footprints of objects on a support do not overlap);
   tentative until observed ``confirm_observations`` times, or until the map's ``seen_count`` probe
   says the surface of an observation was seen in ``confirm_frames`` depth frames (median over its
   points): an object first found by the last update before the stream paused is confirmed on the
   frames fused, whatever the update rate was.
5. Publishing: a track's :class:`~sora_sdk.core.scene.SceneObject` is re-sent only when something a
   subscriber sees changed beyond the ``republish_*`` tolerances (or its state, label, colour name
   or support changed), so the jitter of the map does not stream upserts. ``last_seen_s`` and
   ``observation_count`` are as of the last upsert.

Labels: without detections a track is described ("small red object", confidence 0); detections
(:class:`~sora_sdk.objects.Detection3D`) whose points fall mostly on an observation's cells vote for
their label with their score, and ``label_scores`` are the votes over the detections fused. A detection
that falls on no observation (the detector saw the object before the map held enough of it to be found)
waits up to ``detection_wait_s`` for an update that has one; each detection votes once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from sora_sdk.core.scene import BlockKey, MeshChunk, SceneObject

from ._boxes import UpBox, box_iou
from ._colors import color_name as name_of_color
from ._discovery import (
    _ALL27,
    _MASK,
    _OFFSET,
    FreeSpaceProbe,
    Observation,
    SeenCountProbe,
    _cell_codes,
    _delta,
    _next_to,
)
from ._options import ObjectOptions
from ._types import Detection3D

__all__ = ["ObjectTracker", "TrackUpdate", "describe"]

#: Track states, as in ``SceneObject.state``.
TENTATIVE, CONFIRMED, LOST, REMOVED = "tentative", "confirmed", "lost", "removed"
# A vacated place's surface: fewer than this share of the track's cells still hold a mesh vertex.
_SURFACE_GONE_FRACTION = 0.2
# With a probe saying free, the surface may still partly linger (TSDF carving is gradual).
_SURFACE_LINGER_FRACTION = 0.6
# An observation with fewer points than this share of the most its track had, or lower than this share of
# its tallest, is what is left of the object (with its place probed empty, the object is gone).
_SHRUNK_POINTS = 0.5
_SHRUNK_HEIGHT = 0.7
# An unmatched track is dropped when this share of its surface lies in clusters discovery now rejects.
_RECLASSIFIED_FRACTION = 0.5
# The free-space probe samples this band of a box's height (fractions from its bottom): the bulk of an
# object standing on its support, below any lingering top.
_PROBE_HEIGHTS = (0.1, 0.5)
_PROBE_CLEARANCE_M = 0.025
# A detection belongs to the observation holding at least this share of its points.
_MIN_DETECTION_OVERLAP = 0.3
# Detections waiting for their object at most (the newest kept): bounds memory if discovery finds nothing.
_MAX_WAITING_DETECTIONS = 256
# Footprints longer than wide by this ratio have a heading worth publishing (round ones spin freely).
_ELONGATED = 1.2


def describe(size_m: np.ndarray, color: str) -> str:
    """A label for an object no detector named: "<size> <colour> object" (size from its longest edge)."""
    longest = float(np.max(size_m))
    size = "small" if longest < 0.15 else "medium" if longest < 0.4 else "large"
    return " ".join(w for w in (size, color, "object") if w)


@dataclass
class _Track:
    object_id: str
    box: UpBox
    centroid_up: np.ndarray
    support_plane_id: str
    color_rgb: np.ndarray  # (3,) float, running mean
    first_seen_s: float
    last_seen_s: float
    cells: np.ndarray
    chunk_keys: frozenset[BlockKey]
    max_points: int = 0
    max_height: float = 0.0
    peak_box: UpBox | None = None  # the box of the fullest observation (probed when the object may be gone)
    observations: int = 1
    misses: int = 0
    state: str = TENTATIVE
    label_votes: dict[str, float] = field(default_factory=dict)
    detections: int = 0
    published: SceneObject | None = None

    @property
    def peak(self) -> UpBox:
        return self.peak_box if self.peak_box is not None else self.box

    @property
    def color_name(self) -> str:
        return name_of_color(np.rint(self.color_rgb).astype(np.int64))


@dataclass(frozen=True, eq=False)
class TrackUpdate:
    """What one :meth:`ObjectTracker.update` changed.

    upserted : objects new to subscribers or changed (carrying this update's version)
    removed_ids : published objects that are gone
    moved_ids : tracks that followed their object to a new place this update
    matched, created, dropped : tracks matched, created, and dropped unpublished
    """

    upserted: list[SceneObject] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    moved_ids: list[str] = field(default_factory=list)
    matched: int = 0
    created: int = 0
    dropped: int = 0
    elapsed_s: float = 0.0


class ObjectTracker:
    """Persistent object tracks from discovery observations. Not thread-safe (one caller at a time)."""

    def __init__(self, options: ObjectOptions | None = None) -> None:
        self.options = options or ObjectOptions()
        self._tracks: dict[str, _Track] = {}
        self._next_id = 1
        self._r_world_up = np.eye(3)
        self._cell_m = 0.02
        # Places vacated lately: (box, support plane ID, forget time s), for telling remnants from objects.
        self._vacated_places: list[tuple[UpBox, str, float]] = []
        # Detections that fell on no observation yet, oldest first: the detector often sees an object
        # before the map holds enough of its surface for discovery to find it.
        self._waiting: list[Detection3D] = []

    def reset(self) -> list[str]:
        """Forget every track; returns the IDs of the published ones."""
        gone = sorted(t.object_id for t in self._tracks.values() if t.published is not None)
        self._tracks.clear()
        self._vacated_places.clear()
        self._waiting.clear()
        return gone

    @property
    def published(self) -> dict[str, SceneObject]:
        """Published objects by ID (what subscribers hold)."""
        return {k: t.published for k, t in self._tracks.items() if t.published is not None}

    @property
    def centroids(self) -> dict[str, np.ndarray]:
        """Volume centroid estimates (3,) world metres of the published objects."""
        r = self._r_world_up
        return {k: r @ t.centroid_up for k, t in self._tracks.items() if t.published is not None}

    @property
    def track_count(self) -> int:
        return len(self._tracks)

    def update(
        self,
        observations: Sequence[Observation],
        *,
        time_s: float,
        version: int,
        chunks: Mapping[BlockKey, MeshChunk],
        r_world_up: np.ndarray,
        free_space: FreeSpaceProbe | None = None,
        detections: Sequence[Detection3D] = (),
        cell_m: float = 0.02,
        rejected_cells: np.ndarray | None = None,
        seen_count: SeenCountProbe | None = None,
    ) -> TrackUpdate:
        """Fuse one update's observations; ``version`` is stamped on every object upserted."""
        t0 = time.perf_counter()
        opts = self.options
        self._r_world_up = r_world_up
        self._cell_m = cell_m
        self._vacated_places = [v for v in self._vacated_places if v[2] > time_s]
        boxes = [UpBox.from_pose(o.pose_world_box, o.size_m, r_world_up) for o in observations]
        # A detection votes once: with the first update that has an observation under it, within
        # ``detection_wait_s`` of its capture.
        detections = [d for d in (*self._waiting, *detections) if time_s - d.time_s <= opts.detection_wait_s]
        votes, unowned = _detection_votes(observations, detections, r_world_up, cell_m)
        self._waiting = [detections[i] for i in unowned][-_MAX_WAITING_DETECTIONS:]
        tracks = list(self._tracks.values())
        pairs = self._associate(tracks, boxes)
        vacated: list[_Track] = []
        used_obs: set[int] = set()
        kept_pairs: list[tuple[int, int]] = []
        seen_now: dict[str, int] = {}  # track ID -> the observation it took this update
        for ti, oi in pairs:
            used_obs.add(oi)
            track = tracks[ti]
            # What is left of a removed object (the TSDF forgets gradually) must not keep it alive: a
            # shrunken observation over a place the map now sees empty ends the track.
            if self._shrunk(track, observations[oi], boxes[oi]) and self._interior_free(track.peak, free_space):
                vacated.append(track)
                continue
            self._absorb(track, observations[oi], boxes[oi], votes[oi], time_s)
            kept_pairs.append((ti, oi))
            seen_now[track.object_id] = oi
        matched_tracks = {ti for ti, _ in pairs}

        # Unmatched tracks: fragments of a matched track, vacated places, or simply not seen.
        dropped = 0
        removed: list[str] = []
        for ti, track in enumerate(tracks):
            if ti in matched_tracks:
                continue
            if self._is_fragment(track, [tracks[j] for j, _ in kept_pairs]):
                dropped += self._remove(track, removed)
                continue
            if self._vacated(track, chunks, free_space):
                vacated.append(track)
                continue
            track.misses += 1
            if track.misses >= 2 and self._reclassified(track, rejected_cells):
                dropped += self._remove(track, removed)
                continue
            if track.state == TENTATIVE and track.misses >= opts.tentative_max_misses:
                dropped += self._remove(track, removed)
            elif track.state == CONFIRMED and time_s - track.last_seen_s >= opts.lost_after_s:
                track.state = LOST
            elif track.state == LOST and time_s - track.last_seen_s >= opts.forget_lost_after_s:
                self._remove(track, removed)

        # New observations over a place vacated lately, with its inside seen empty, are remnants too.
        fresh = [
            oi
            for oi in range(len(observations))
            if oi not in used_obs and not self._remnant(observations[oi], boxes[oi], free_space)
        ]
        # Moves: a vacated track takes the new observation (or young track) that looks like it.
        moved: list[str] = []
        vacated_ids = {t.object_id for t in vacated}
        young = [
            (ti, oi)
            for ti, oi in kept_pairs
            if time_s - tracks[ti].first_seen_s <= opts.move_window_s and tracks[ti].object_id not in vacated_ids
        ]
        young_since = {ti: tracks[ti].first_seen_s for ti, _ in young}
        for track in sorted(vacated, key=lambda t: -t.observations):
            self._vacated_places.append((track.peak, track.support_plane_id, time_s + opts.remnant_memory_s))
            if track.state == TENTATIVE:
                dropped += self._remove(track, removed)
                continue
            # Only tracks that appeared after this one did can be its object seen elsewhere.
            later = [(ti, oi) for ti, oi in young if young_since[ti] > track.first_seen_s]
            best = self._move_target(track, observations, boxes, fresh, later)
            if best is None:
                self._remove(track, removed)
                continue
            kind, index = best
            if kind == "fresh":
                oi = index
                fresh.remove(oi)
            else:
                ti_young, oi = later[index]
                young.remove((ti_young, oi))
                dropped += self._remove(tracks[ti_young], removed)
            self._take_place(track, observations[oi], boxes[oi], votes[oi], time_s)
            moved.append(track.object_id)

        created = 0
        for oi in fresh:
            # A piece of a tracked object (its cluster split in two) is not a new object: footprints of
            # objects on one support do not overlap.
            if any(self._overlaps(t, observations[oi], boxes[oi]) for t in self._tracks.values()):
                continue
            seen_now[self._create(observations[oi], boxes[oi], votes[oi], time_s)] = oi
            created += 1
        for track in self._tracks.values():
            if track.state != TENTATIVE:
                continue
            oi = seen_now.get(track.object_id)
            if track.observations >= opts.confirm_observations or (
                oi is not None and _frames_seen(observations[oi], seen_count) >= opts.confirm_frames
            ):
                track.state = CONFIRMED
        upserted = self._publish(version)
        return TrackUpdate(
            upserted=upserted,
            removed_ids=sorted(removed),
            moved_ids=sorted(moved),
            matched=len(kept_pairs),
            created=created,
            dropped=dropped,
            elapsed_s=time.perf_counter() - t0,
        )

    # ------------------------------------------------------------------ association

    def _gate(self, track: _Track) -> float:
        opts = self.options
        return max(opts.association_gate_m, opts.association_gate_fraction * float(np.hypot(*track.box.size[:2])))

    def _associate(self, tracks: list[_Track], boxes: list[UpBox]) -> list[tuple[int, int]]:
        """(track index, observation index) pairs: gated by a k-d tree, chosen by the Hungarian method."""
        if not tracks or not boxes:
            return []
        opts = self.options
        t_xy = np.array([t.box.centre[:2] for t in tracks])
        o_xy = np.array([b.centre[:2] for b in boxes])
        gates = np.array([self._gate(t) for t in tracks])
        candidates = cKDTree(o_xy).query_ball_point(t_xy, r=gates)
        rows: list[int] = []
        cols: list[int] = []
        costs: list[float] = []
        for ti, near in enumerate(candidates):
            tb = tracks[ti].box
            for oi in near:
                ob = boxes[oi]
                if not _compatible(tb, ob, opts.max_size_ratio):
                    continue
                d = float(np.linalg.norm(tb.centre[:2] - ob.centre[:2]))
                rows.append(ti)
                cols.append(oi)
                costs.append(d / gates[ti] + 1.0 - box_iou(tb, ob))
        return _assign(rows, cols, costs)

    # ------------------------------------------------------------------ track changes

    def _absorb(
        self, track: _Track, obs: Observation, box: UpBox, votes: list[tuple[str, float]], time_s: float
    ) -> None:
        opts = self.options
        aligned = _align(box, track.box)
        change = float(np.linalg.norm(aligned.centre - track.box.centre)) + float(
            np.abs(aligned.size - track.box.size).max()
        )
        # Small changes are the map's jitter (smoothed); large ones are new surface or a nudge (taken).
        w = 1.0 if track.observations == 1 else min(1.0, max(opts.smoothing, change / opts.republish_distance_m - 1.0))
        centre = (1 - w) * track.box.centre + w * aligned.centre
        size = (1 - w) * track.box.size + w * aligned.size
        axis = (1 - w) * track.box.axis + w * aligned.axis
        track.box = UpBox(centre, axis, size)
        centroid = np.asarray(obs.centroid_world_m) @ self._r_world_up
        track.centroid_up = (1 - w) * track.centroid_up + w * centroid
        n = track.observations
        track.color_rgb = (track.color_rgb * min(n, 9) + np.asarray(obs.color_rgb, float)) / (min(n, 9) + 1)
        track.support_plane_id = obs.support_plane_id
        track.cells = obs.cells
        track.chunk_keys = obs.chunk_keys
        if obs.point_count >= track.max_points:
            track.peak_box = aligned
        track.max_points = max(track.max_points, obs.point_count)
        track.max_height = max(track.max_height, float(box.size[2]))
        track.observations += 1
        track.misses = 0
        track.last_seen_s = time_s
        if track.state == LOST:
            track.state = CONFIRMED
        self._vote(track, votes)

    def _take_place(
        self, track: _Track, obs: Observation, box: UpBox, votes: list[tuple[str, float]], time_s: float
    ) -> None:
        """The object of ``track`` moved to ``obs``: the track restarts there, keeping its ID and labels."""
        track.box = box
        track.centroid_up = np.asarray(obs.centroid_world_m) @ self._r_world_up
        track.color_rgb = np.asarray(obs.color_rgb, dtype=np.float64)
        track.support_plane_id = obs.support_plane_id
        track.cells = obs.cells
        track.chunk_keys = obs.chunk_keys
        track.max_points = obs.point_count
        track.max_height = float(box.size[2])
        track.peak_box = box
        track.observations += 1
        track.misses = 0
        track.last_seen_s = time_s
        track.state = CONFIRMED
        self._vote(track, votes)

    def _create(self, obs: Observation, box: UpBox, votes: list[tuple[str, float]], time_s: float) -> str:
        object_id = f"obj-{self._next_id:04d}"
        self._next_id += 1
        track = _Track(
            object_id=object_id,
            box=box,
            centroid_up=np.asarray(obs.centroid_world_m) @ self._r_world_up,
            support_plane_id=obs.support_plane_id,
            color_rgb=np.asarray(obs.color_rgb, dtype=np.float64),
            first_seen_s=time_s,
            last_seen_s=time_s,
            cells=obs.cells,
            chunk_keys=obs.chunk_keys,
            max_points=obs.point_count,
            max_height=float(box.size[2]),
            peak_box=box,
        )
        self._vote(track, votes)
        self._tracks[object_id] = track
        return object_id

    def _remove(self, track: _Track, removed: list[str]) -> int:
        """Drop a track; its ID goes to ``removed`` when subscribers had it. Returns 1 when it was unpublished."""
        self._tracks.pop(track.object_id, None)
        if track.published is not None:
            removed.append(track.object_id)
            return 0
        return 1

    @staticmethod
    def _vote(track: _Track, votes: list[tuple[str, float]]) -> None:
        for label, score in votes:
            track.label_votes[label] = track.label_votes.get(label, 0.0) + float(score)
            track.detections += 1

    # ------------------------------------------------------------------ unmatched tracks

    @staticmethod
    def _overlaps(track: _Track, obs: Observation, box: UpBox) -> bool:
        """Whether an observation's box centre is over the track's (fullest) footprint on the same support."""
        peak = track.peak
        return (
            track.support_plane_id == obs.support_plane_id
            and peak.vertical_overlap(box) > 0.0
            and bool(peak.contains_xy(box.centre[None, :2], 0.02)[0])
        )

    def _is_fragment(self, track: _Track, matched: list[_Track]) -> bool:
        """An unmatched track overlapping a matched one on the same support: a piece of the same object."""
        for other in matched:
            if other.support_plane_id != track.support_plane_id:
                continue
            if bool(other.box.contains_xy(track.box.centre[None, :2])[0]) or box_iou(track.box, other.box) >= 0.2:
                return True
        return False

    def _vacated(self, track: _Track, chunks: Mapping[BlockKey, MeshChunk], free_space: FreeSpaceProbe | None) -> bool:
        """Whether the map shows the unmatched track's place empty (see the module docstring)."""
        present = [chunks[k] for k in track.chunk_keys if k in chunks]
        if not present or len(track.cells) == 0:  # the map forgot the place (evicted): no evidence either way
            return False
        r32 = self._r_world_up.astype(np.float32)
        vertices = np.concatenate([np.asarray(c.vertices, dtype=np.float32).reshape(-1, 3) for c in present]) @ r32
        # The support's own surface under the object is no evidence of the object: look above it.
        floor = track.box.bottom + 2.0 * self._cell_m
        codes = np.unique(_cell_codes(vertices[vertices[:, 2] > floor], self._cell_m))
        cells = track.cells[_cell_z(track.cells) * self._cell_m > floor]
        if len(cells) == 0:
            return False
        surface = float(_next_to(cells, codes).mean())
        if surface < _SURFACE_GONE_FRACTION:
            return True
        return surface < _SURFACE_LINGER_FRACTION and self._interior_free(track.peak, free_space)

    def _reclassified(self, track: _Track, rejected_cells: np.ndarray | None) -> bool:
        """Whether most of the track's surface is now part of a cluster discovery rejects (the rest of a chair
        came into view: what looked like an object is a leg)."""
        if rejected_cells is None or len(rejected_cells) == 0:
            return False
        cells = track.cells[_cell_z(track.cells) * self._cell_m > track.box.bottom + 2.0 * self._cell_m]
        return len(cells) > 0 and float(_next_to(cells, rejected_cells).mean()) >= _RECLASSIFIED_FRACTION

    def _interior_free(self, box: UpBox, free_space: FreeSpaceProbe | None) -> bool:
        """Whether the probe finds the lower inside of ``box`` free (an object stands on its support: with the
        space just above the support empty, it is not there, whatever is left of it higher up)."""
        if free_space is None:
            return False
        opts = self.options
        n = max(2, int(opts.free_probe_points))
        g = (np.arange(n) + 0.5) / n - 0.5  # cell centres of an n x n grid over [-0.5, 0.5]
        gx, gy, gz = np.meshgrid(g, g, g, indexing="ij")
        # Heights above the bottom: the lower part of the box, but clear of the support's own surface (whose
        # TSDF reads near zero for a couple of centimetres).
        height = float(box.size[2])
        lo = min(max(_PROBE_HEIGHTS[0] * height, _PROBE_CLEARANCE_M), height)
        hi = min(max(_PROBE_HEIGHTS[1] * height, lo + _PROBE_CLEARANCE_M), height)
        local = np.column_stack(
            [
                gx.ravel() * opts.free_probe_shrink * box.size[0],
                gy.ravel() * opts.free_probe_shrink * box.size[1],
                (gz.ravel() + 0.5) * (hi - lo) + lo - 0.5 * height,
            ]
        )
        free = np.asarray(free_space(box.pose(self._r_world_up).transform_points(local)), dtype=bool).reshape(-1)
        count = int(free.sum())
        return count >= opts.min_free_probes and count >= opts.free_fraction * len(free)

    def _shrunk(self, track: _Track, obs: Observation, box: UpBox) -> bool:
        """Whether an observation is much less of the object than the track has seen (parts carved away)."""
        return obs.point_count < _SHRUNK_POINTS * track.max_points or box.size[2] < _SHRUNK_HEIGHT * track.max_height

    def _remnant(self, obs: Observation, box: UpBox, free_space: FreeSpaceProbe | None) -> bool:
        """A new observation over a lately vacated place whose inside the probe finds empty."""
        for place, support, _ in self._vacated_places:
            if support != obs.support_plane_id and abs(place.bottom - box.bottom) > 0.05:
                continue
            if bool(place.contains_xy(box.centre[None, :2], 0.02)[0]) or box_iou(place, box) >= 0.2:
                if self._interior_free(box, free_space) or self._interior_free(place, free_space):
                    return True
        return False

    def _move_target(
        self,
        track: _Track,
        observations: Sequence[Observation],
        boxes: list[UpBox],
        fresh: list[int],
        young: list[tuple[int, int]],
    ) -> tuple[str, int] | None:
        """The new observation (``("fresh", obs index)``) or young track (``("young", index in young)``) that
        looks like ``track``'s object: every box edge within ``move_max_size_change``, colour within
        ``move_max_color_distance``; the most similar."""
        opts = self.options
        best: tuple[float, tuple[str, int]] | None = None
        options = [("fresh", i, oi) for i, oi in enumerate(fresh)] + [
            ("young", i, oi) for i, (_, oi) in enumerate(young)
        ]
        for kind, index, oi in options:
            box = _align(boxes[oi], track.box)
            rel = np.abs(box.size - track.box.size) / np.maximum(track.box.size, 1e-3)
            colour = float(np.linalg.norm(np.asarray(observations[oi].color_rgb, float) - track.color_rgb))
            if float(rel.max()) > opts.move_max_size_change or colour > opts.move_max_color_distance:
                continue
            score = float(rel.max()) + colour / max(opts.move_max_color_distance, 1e-9)
            if best is None or score < best[0]:
                best = (score, (kind, fresh[index] if kind == "fresh" else index))
        return None if best is None else best[1]

    # ------------------------------------------------------------------ publishing

    def _publish(self, version: int) -> list[SceneObject]:
        opts = self.options
        out: list[SceneObject] = []
        states = (TENTATIVE, CONFIRMED, LOST) if opts.publish_tentative else (CONFIRMED, LOST)
        for track in self._tracks.values():
            if track.state not in states:
                continue
            label, confidence, scores = self._label(track)
            pub = track.published
            if pub is not None and not self._changed(track, pub, label):
                continue
            track.published = SceneObject(
                object_id=track.object_id,
                version=version,
                label=label,
                label_confidence=confidence,
                state=track.state,
                pose_world_box=track.box.pose(self._r_world_up),
                size_m=track.box.size.copy(),
                color_rgb=tuple(int(c) for c in np.clip(np.rint(track.color_rgb), 0, 255)),  # type: ignore[arg-type]
                color_name=track.color_name,
                support_plane_id=track.support_plane_id,
                first_seen_s=track.first_seen_s,
                last_seen_s=track.last_seen_s,
                observation_count=track.observations,
                label_scores=scores,
            )
            out.append(track.published)
        out.sort(key=lambda o: o.object_id)
        return out

    @staticmethod
    def _label(track: _Track) -> tuple[str, float, dict[str, float]]:
        """(label, confidence, label_scores): the detectors' vote, or a description without detections."""
        if not track.label_votes or track.detections == 0:
            return describe(track.box.size, track.color_name), 0.0, {}
        scores = {k: round(v / track.detections, 4) for k, v in track.label_votes.items()}
        best = max(sorted(scores), key=lambda k: scores[k])
        return best, float(min(1.0, scores[best])), scores

    def _changed(self, track: _Track, pub: SceneObject, label: str) -> bool:
        """Whether a subscriber would see a meaningful change (beyond the republish tolerances)."""
        opts = self.options
        if (pub.state, pub.label, pub.color_name, pub.support_plane_id) != (
            track.state,
            label,
            track.color_name,
            track.support_plane_id,
        ):
            return True
        old = UpBox.from_pose(pub.pose_world_box, pub.size_m, self._r_world_up)
        if float(np.linalg.norm(old.centre - track.box.centre)) >= opts.republish_distance_m:
            return True
        new = _align(track.box, old)
        if float(np.abs(new.size - old.size).max()) >= opts.republish_size_m:
            return True
        if max(new.size[0], new.size[1]) >= _ELONGATED * min(new.size[0], new.size[1]):
            turn = abs(math.degrees(math.atan2(float(np.cross(old.axis, new.axis)), float(old.axis @ new.axis))))
            if turn >= opts.republish_yaw_deg:
                return True
        return False


# ---------------------------------------------------------------------- helpers


def _compatible(a: UpBox, b: UpBox, max_ratio: float) -> bool:
    """Heights overlap and footprint diagonals are within ``max_ratio`` of each other."""
    if a.vertical_overlap(b) <= 0.0:
        return False
    da, db = float(np.hypot(*a.size[:2])), float(np.hypot(*b.size[:2]))
    return max(da, db) <= max_ratio * max(min(da, db), 1e-6)


def _assign(rows: list[int], cols: list[int], costs: list[float]) -> list[tuple[int, int]]:
    """Minimum-cost matching over the given (row, col, cost) pairs only."""
    if not rows:
        return []
    r_ids, r_inv = np.unique(rows, return_inverse=True)
    c_ids, c_inv = np.unique(cols, return_inverse=True)
    big = 1e6
    matrix = np.full((len(r_ids), len(c_ids)), big)
    matrix[r_inv, c_inv] = costs
    rr, cc = linear_sum_assignment(matrix)
    return [(int(r_ids[r]), int(c_ids[c])) for r, c in zip(rr, cc, strict=True) if matrix[r, c] < big]


def _align(box: UpBox, ref: UpBox) -> UpBox:
    """``box`` turned by a multiple of 90 deg (edges swapped accordingly) so its x axis is nearest ``ref``'s."""
    a = box.axis
    turns = [a, np.array([-a[1], a[0]]), -a, np.array([a[1], -a[0]])]
    k = int(np.argmax([float(t @ ref.axis) for t in turns]))
    size = box.size.copy()
    if k % 2:
        size[[0, 1]] = size[[1, 0]]
    return UpBox(box.centre, turns[k], size)


#: Surface points of an observation the ``seen_count`` probe reads (evenly spaced; the median is stable).
_SEEN_SAMPLES = 128


def _frames_seen(obs: Observation, seen_count: SeenCountProbe | None) -> float:
    """The median number of depth frames that saw ``obs``'s surface points (0 without a probe)."""
    if seen_count is None or obs.point_count == 0:
        return 0.0
    step = max(1, obs.point_count // _SEEN_SAMPLES)
    counts = np.asarray(seen_count(obs.points_world_m[::step]), dtype=np.float64).reshape(-1)
    return float(np.median(counts)) if counts.size else 0.0


def _detection_votes(
    observations: Sequence[Observation], detections: Sequence[Detection3D], r_world_up: np.ndarray, cell_m: float
) -> tuple[list[list[tuple[str, float]]], list[int]]:
    """Per observation, the (label, score) of the detections whose points fall mostly on its cells; and
    the indices of the detections that fell on none."""
    out: list[list[tuple[str, float]]] = [[] for _ in observations]
    if not detections or not observations:
        return out, list(range(len(detections)))
    unowned: list[int] = []
    owner_cells = np.concatenate([o.cells for o in observations])
    owner = np.concatenate([np.full(len(o.cells), i) for i, o in enumerate(observations)])
    order = np.argsort(owner_cells, kind="stable")
    owner_cells, owner = owner_cells[order], owner[order]
    r32 = r_world_up.astype(np.float32)
    for i, det in enumerate(detections):
        pts = np.asarray(det.points_world_m, dtype=np.float32).reshape(-1, 3)
        if len(pts) == 0:
            continue
        codes = _cell_codes(pts @ r32, cell_m)
        # A detection's depth pixels lie on the object's surface, within a cell of its mesh vertices.
        owner_of = np.full(len(codes), -1, dtype=np.int64)
        for d in _NEIGHBOURS:
            todo = np.flatnonzero(owner_of < 0)
            if len(todo) == 0:
                break
            q = codes[todo] + d
            j = np.minimum(np.searchsorted(owner_cells, q), len(owner_cells) - 1)
            ok = owner_cells[j] == q
            owner_of[todo[ok]] = owner[j[ok]]
        share = np.bincount(owner_of[owner_of >= 0], minlength=len(observations)) / len(codes)
        best = int(np.argmax(share))
        if share[best] >= _MIN_DETECTION_OVERLAP:
            out[best].append((det.label, float(det.score)))
        else:
            unowned.append(i)
    return out, unowned


def _cell_z(codes: np.ndarray) -> np.ndarray:
    """(n,) int64 up-frame z cell index of cell codes."""
    return (np.asarray(codes, dtype=np.int64) & _MASK) - _OFFSET


# Code offsets of a cell and its 26 neighbours, the cell itself first.
_NEIGHBOURS = _delta(_ALL27[np.argsort(np.abs(_ALL27).sum(axis=1), kind="stable")])
