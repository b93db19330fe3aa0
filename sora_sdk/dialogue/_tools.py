"""SceneTools: what an engine may ask of the live scene during a turn, and a stand-in over a SceneSummary.

The session implements SceneTools over its mapper and scene store and hands it to the engine in the
TurnContext; engines await its methods (the embedded engine for anchors, the LLM engine for every tool
call the model makes). ``SummarySceneTools`` answers from a SceneSummary alone (boxes and planes from
the summary, anchors kept in a list) — for tests, for offline use, and as the fallback when a session
passes no tools.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..core.avatar import AnchorSummary, CueTarget, ObjectSummary, SceneSummary
from ..core.scene import RaycastHit
from ._embeddings import Embedder
from ._grounding import find_objects, resolve_deixis

__all__ = ["SceneTools", "SummarySceneTools"]


@runtime_checkable
class SceneTools(Protocol):
    """Queries and actions into the live scene, awaited by dialogue engines. Positions: world frame, metres.

    query_objects(text, limit): objects the text names (open vocabulary), best first.
    raycast(origin, direction, max_distance_m): first surface / plane / object hit, or None.
    gaze_target() / pointing_target(): what the user looks / points at now, or None.
    create_anchor(at, label, point_world_m): places an anchor where the user points (at="pointing"), looks
    (at="gaze"), at an explicit point (at="point"), or on an object (at="object:<id>"); returns it, or None
    when there is no such place.
    """

    async def query_objects(self, text: str, *, limit: int = 5) -> list[ObjectSummary]: ...

    async def raycast(
        self, origin_world_m: Sequence[float], direction_world: Sequence[float], max_distance_m: float = 10.0
    ) -> RaycastHit | None: ...

    async def gaze_target(self) -> CueTarget | None: ...

    async def pointing_target(self) -> CueTarget | None: ...

    async def create_anchor(
        self, at: str = "pointing", *, label: str = "", point_world_m: Sequence[float] | None = None
    ) -> AnchorSummary | None: ...


class SummarySceneTools:
    """SceneTools answered from one SceneSummary. Anchors it creates are kept in ``created``."""

    _ids = itertools.count(1)

    def __init__(self, scene: SceneSummary, embedder: Embedder | None = None) -> None:
        self.scene = scene
        self.embedder = embedder
        self.created: list[AnchorSummary] = []

    async def query_objects(self, text: str, *, limit: int = 5) -> list[ObjectSummary]:
        return find_objects(text, self.scene, self.embedder)[:limit]

    async def raycast(
        self, origin_world_m: Sequence[float], direction_world: Sequence[float], max_distance_m: float = 10.0
    ) -> RaycastHit | None:
        """Ray against the objects' axis-aligned boxes (size_m, at least 10 cm) and the planes (unbounded)."""
        o = np.asarray(origin_world_m, float)
        d = np.asarray(direction_world, float)
        d = d / max(np.linalg.norm(d), 1e-12)
        best: tuple[float, RaycastHit] | None = None
        for obj in self.scene.object_list():
            half = np.maximum(np.asarray(obj.size_m, float), 0.1) / 2
            c = np.asarray(obj.position_world_m, float)
            with np.errstate(divide="ignore", invalid="ignore"):
                t1 = (c - half - o) / d
                t2 = (c + half - o) / d
            tmin = float(np.nanmax(np.minimum(t1, t2)))
            tmax = float(np.nanmin(np.maximum(t1, t2)))
            if tmax >= max(tmin, 0.0) and tmin <= max_distance_m and (best is None or tmin < best[0]):
                p = o + max(tmin, 0.0) * d
                best = (tmin, RaycastHit(p.astype(np.float32), -d.astype(np.float32), max(tmin, 0.0), "object",
                                         object_id=obj.object_id))  # fmt: skip
        for pl in self.scene.plane_list():
            n = np.asarray(pl.normal_world, float)
            denom = float(n @ d)
            if abs(denom) < 1e-6:
                continue
            t = float(n @ (np.asarray(pl.center_world_m, float) - o)) / denom
            if 0 <= t <= max_distance_m and (best is None or t < best[0]):
                p = o + t * d
                best = (t, RaycastHit(p.astype(np.float32), n.astype(np.float32), t, "plane", plane_id=pl.plane_id))
        return None if best is None else best[1]

    async def gaze_target(self) -> CueTarget | None:
        r = resolve_deixis("that", self.scene, prefer="gaze")
        return r.cue() if r is not None and r.via == "gaze" else None

    async def pointing_target(self) -> CueTarget | None:
        r = resolve_deixis("that", self.scene, prefer="pointing")
        return r.cue() if r is not None and r.via == "pointing" else None

    async def create_anchor(
        self, at: str = "pointing", *, label: str = "", point_world_m: Sequence[float] | None = None
    ) -> AnchorSummary | None:
        pos: Sequence[float] | None = None
        if at == "point":
            pos = point_world_m
        elif at.startswith("object:"):
            oid = at.split(":", 1)[1]
            pos = next((o.position_world_m for o in self.scene.object_list() if o.object_id == oid), None)
        else:
            s = self.scene
            point = s.pointing_point_world_m if at == "pointing" else s.gaze_point_world_m
            if point is None:
                r = resolve_deixis("there", s, prefer=at)
                point = r.position_world_m if r is not None and r.via == at else None
            pos = point
        if pos is None:
            return None
        a = AnchorSummary(f"anchor-{next(self._ids)}", label or "anchor", tuple(float(v) for v in pos))  # type: ignore[arg-type]
        self.created.append(a)
        return a
