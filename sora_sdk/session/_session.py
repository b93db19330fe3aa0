"""One session: one user in one space, and the pipeline that turns its sensor data into a scene.

Data flow (DESIGN.md)::

    sensor stream ─▶ submit_frame ─▶ bounded frame queue ─▶ worker ─▶ Mapper.integrate (executor)
                                                               └──▶ every mesh_interval_s:
                                                                    Mapper.update_mesh (executor)
                                                                    ─▶ SceneStore.commit(delta)
                                                               └──▶ every planes_interval_s: planes,
                                                                    every objects.interval_s: objects
                                                                    ─▶ SceneStore.commit(delta) each
    hand joints / gaze ─▶ perception (cheap, on the loop) ─▶ latest-wins slots + event log

All state changes happen on the event loop thread. The map layers (TSDF, planes, objects) live in a
:class:`~sora_sdk.maphost.SessionMap`, on the server's background threads or in its map process
(``server.map_process``); one mapper call at a time per session (the mapper lock), so a save's copy
never races an integration. Blocking work a client waits on runs in the shared executor.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.avatar import AnchorSummary, ObjectSummary, PlaneSummary, SceneSummary
from ..core.config import SoraConfig
from ..core.errors import FailedPreconditionError, UnavailableError
from ..core.geometry import Pose
from ..core.scene import Anchor, RaycastHit, StreamPosition
from ..core.sensors import CameraFrame, EyeGazeSample, HandJointsSample, HeadPoseSample
from ..maphost import LocalMap, MapLostError, MapProcess, MapSpec, RemoteMap, anchor_from_json
from ..objects import Detection3D, ObjectOptions
from ..perception import (
    STATIC_GESTURES,
    GazeObservation,
    GestureEvent,
    HandObservation,
    Perception,
    PerceptionOptions,
    PointingEvent,
    SceneRaycaster,
)
from ..scene import LatestSlot, OrderedLog, SceneDelta, SceneState, SceneStore
from ._objects import detect_and_lift, shared_detector

__all__ = ["IngestStats", "Session", "SessionInfo"]

log = logging.getLogger("sora.session")


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    display_name: str
    user_id: str
    space_id: str
    pose_source: str  # "client" | "server_odometry"
    voxel_size_m: float
    depth_max_m: float
    recording_enabled: bool
    created_time_s: float
    up_world: tuple[float, float, float] = (0.0, 0.0, 1.0)
    owner: str = ""  # the principal that created the session ("" without authentication)


@dataclass
class IngestStats:
    frames_received: int = 0
    frames_integrated: int = 0
    drops: Counter[str] = field(default_factory=Counter)
    integrate_times_s: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    mesh_times_s: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    object_times_s: deque[float] = field(default_factory=lambda: deque(maxlen=50))

    @property
    def frames_dropped(self) -> int:
        return sum(self.drops.values())


@dataclass
class _QueuedFrame:
    frame: CameraFrame
    done: asyncio.Future[str] | None  # resolved with "" (fused) or a drop reason
    stream: str = ""  # the sensor stream it came from ("" for frames from inside the server)


class Session:
    """A live session. Create through SessionManager."""

    def __init__(
        self,
        info: SessionInfo,
        config: SoraConfig,
        executor: Executor,
        *,
        autosave_path: Path | None = None,
        background: Executor | None = None,
        maps: MapProcess | None = None,
    ) -> None:
        self.info = info
        self.config = config
        self.closed = False
        #: Set when the server drains: no new frames are accepted, what is queued is fused and saved.
        self.draining = False
        self._executor = executor
        # Continuous map work (fusion, meshing, planes, objects, autosaves) runs here; calls a client
        # waits on (raycasts, saves, exports) and the latest-frame vision (detector) on the executor.
        self._background = background or executor
        # A server leaves one core to its event loop: meshing on every core at once (even at a lower
        # priority) cost the load bench's subscribers ~2 ms of p99 latency on 2 cores.
        threads = config.mapper.mesh_threads or max(1, min(8, (os.cpu_count() or 1) - 1))
        mapper_cfg = replace(
            config.mapper, voxel_size_m=info.voxel_size_m, depth_max_m=info.depth_max_m, mesh_threads=threads
        )
        #: Whether objects are discovered (``objects.enabled``).
        self.objects_enabled = config.objects.enabled
        object_options = (
            ObjectOptions(
                confirm_observations=config.objects.confirm_observations,
                confirm_frames=config.objects.confirm_frames,
            )
            if self.objects_enabled
            else None
        )
        spec = MapSpec(mapper_cfg, tuple(info.up_world), object_options)  # type: ignore[arg-type]
        self._map: LocalMap | RemoteMap = (
            RemoteMap(maps, info.session_id, spec) if maps is not None else LocalMap(spec, self._background, executor)
        )
        #: T_W_C of the last fused frame.
        self.last_pose: Pose | None = None
        self._mapper_lock = asyncio.Lock()
        self._mesh_lock = asyncio.Lock()
        self._recover_lock = asyncio.Lock()  # the pipeline and the autosave loop may both find the map lost
        epoch = uuid.uuid4().int >> 66  # fits in 62 bits; a new server gets new epochs
        self.scene = SceneStore(config.scene, epoch=epoch)
        self.hands: LatestSlot[list[HandObservation]] = LatestSlot()
        self.gaze: LatestSlot[GazeObservation] = LatestSlot()
        self.events: OrderedLog[Any] = OrderedLog(
            epoch=epoch, capacity=config.scene.history_versions, max_lag=config.scene.subscriber_queue_items
        )
        self.avatar_events: OrderedLog[Any] = OrderedLog(
            epoch=epoch, capacity=config.scene.history_versions, max_lag=config.scene.subscriber_queue_items
        )
        #: Last camera-frame sequence per sensor stream name, so a reconnecting client's retries are ignored.
        self.stream_sequences: dict[str, int] = {}
        #: Last camera-frame sequence per sensor stream that the volume holds (updated under the mapper
        #: lock, saved with the map): after a crash, a retried frame is fused only if the map lacks it.
        self.fused_sequences: dict[str, int] = {}
        #: Where autosaves go (None: this session is not kept across restarts), the scene position and
        #: wall time of the last completed save (what a restart brings back).
        self.autosave_path = autosave_path
        self.saved_position: StreamPosition | None = None
        self.saved_time_s = 0.0
        self._saved_fused: dict[str, int] = {}
        self._save_lock = asyncio.Lock()
        self._closing = asyncio.Event()
        self.stats = IngestStats()
        self.sensor_streams = 0
        self.subscribers = 0
        #: Map files this session saved (CloseSession(delete_map) removes them).
        self.saved_maps: set[str] = set()
        self.head_pose: HeadPoseSample | None = None
        # Perception state is touched by one executor call at a time (the perception lock).
        # Face-camera gaze loads its model on the first frame of a user-facing stream.
        # One raycaster over the map's mesh and the session's planes and objects, perception's too: each
        # planes or objects update rebuilds its arrays once (on the event loop; ~1.3 ms for 27 planes).
        self.raycaster = SceneRaycaster(mesh_raycast=functools.partial(self._map.call_blocking, "raycast"))
        self.perception = Perception(
            PerceptionOptions(camera_hands=config.session.camera_hands, face_gaze=True), raycaster=self.raycaster
        )
        self._face_frame: CameraFrame | None = None  # latest-wins, like camera hands
        self._face_time_s = -np.inf
        self._perception_lock = asyncio.Lock()
        self._device_hands: dict[str, HandObservation] = {}
        self._camera_hands: list[HandObservation] = []
        self._camera_frame: CameraFrame | None = None  # latest-wins: hands follow the present
        self._camera_frame_ready = asyncio.Event()
        self._camera_time_s = -np.inf
        self._perceiving = False
        self._perception_passes = 0  # perception loop iterations done
        self._last_pointing: PointingEvent | None = None
        self._mesh_stats_cache: tuple[StreamPosition, tuple[float, np.ndarray, np.ndarray]] | None = None
        self._gesture = ""
        self._queue: deque[_QueuedFrame] = deque()
        self._queue_changed = asyncio.Event()
        self._space = asyncio.Condition()
        self._busy = False
        self._dirty = False
        self._last_mesh = 0.0
        self._last_realtime_fusion = -np.inf
        # Objects: discovery + tracks after mesh updates; an optional 2D detector labels them.
        self._detector = shared_detector(config.objects) if self.objects_enabled else None
        self._detections: list[Detection3D] = []
        self._detect_frame: CameraFrame | None = None
        self._detect_frame_ready = asyncio.Event()
        self._detecting = False
        self._last_capture_s = 0.0
        self._last_detect = -np.inf
        self._last_objects = -np.inf
        self._last_planes = -np.inf
        # Chunks changed since the last plane update (planes run at most every mapper.planes_interval_s).
        self._planes_changed: set[Any] = set()
        self._objects_dirty = False
        # Chunks changed since the last object update; empty: the object mapper compares every chunk's version.
        self._objects_changed: set[Any] = set()
        #: Held while the object layer updates or answers a query (it is not thread-safe).
        self.objects_lock = asyncio.Lock()
        loop = asyncio.get_running_loop()
        self._worker = loop.create_task(self._run(), name=f"session-{info.session_id}")
        self._perception_worker = loop.create_task(self._run_perception(), name=f"perception-{info.session_id}")
        self._detect_worker = (
            loop.create_task(self._run_detector(), name=f"detector-{info.session_id}")
            if self._detector is not None
            else None
        )
        interval = config.session.autosave_interval_s
        self._autosave_worker = (
            loop.create_task(self._run_autosave(interval), name=f"autosave-{info.session_id}")
            if autosave_path is not None and interval > 0
            else None
        )

    # ---- ingest -------------------------------------------------------------------------

    async def submit_frame(self, frame: CameraFrame, *, lossless: bool, stream: str = "") -> asyncio.Future[str] | None:
        """Queues a validated frame for fusion.

        REALTIME (``lossless=False``): when the queue is full the oldest queued REALTIME frame is
        dropped (this one when only LOSSLESS frames wait); with ``mapper.realtime_fusion_hz`` a
        stream keeps one frame waiting, its newest. LOSSLESS: waits for room, and returns a future
        resolved when the frame was fused.
        ``stream`` names the sensor stream, so the saved map records which frames it holds.
        """
        self._check_accepting()
        self.stats.frames_received += 1
        if frame.color is not None and self.config.session.camera_hands:
            self._camera_frame = frame
            self._camera_frame_ready.set()
        if self._detector is not None and frame.color is not None and frame.depth is not None:
            self._detect_frame = frame  # latest wins: labels follow the present
            self._detect_frame_ready.set()
        if frame.depth is None:
            self.stats.drops["no_depth"] += 1
            return None
        limit = self.config.session.frame_queue
        done: asyncio.Future[str] | None = None
        if lossless:
            async with self._space:
                await self._space.wait_for(lambda: len(self._queue) < limit or self.closed or self.draining)
            self._check_accepting()
            done = asyncio.get_running_loop().create_future()
        else:
            if self.config.mapper.realtime_fusion_hz > 0:
                # Under a fusion rate a stream keeps one frame waiting for its turn: its newest.
                older = next((q for q in self._queue if q.done is None and q.stream == stream), None)
                if older is not None:
                    self._queue.remove(older)
                    self.stats.drops["fusion_rate"] += 1
            while len(self._queue) >= limit:
                oldest = next((q for q in self._queue if q.done is None), None)
                self.stats.drops["queue_full"] += 1
                if oldest is None:  # only LOSSLESS frames wait, and they are never dropped: this one is
                    return None
                self._queue.remove(oldest)
        self._queue.append(_QueuedFrame(frame, done, stream))
        self._queue_changed.set()
        return done

    async def flush(self) -> None:
        """Waits until every frame queued now is fused and the mesh is up to date (exactly: changes
        within ``mapper.remesh_tolerance_voxels`` are re-meshed too). Frames queued meanwhile (another
        device's live stream) are not waited for."""
        queued = list(self._queue)
        # Perception passes still owed to frames that arrived before now: the one running, and one
        # for the newest camera / face frame waiting (later ones replace it, and are not waited for).
        passes = self._perception_passes + int(self._perceiving) + int(self._frames_to_perceive())

        def waiting() -> bool:
            perceiving = self._perceiving or self._frames_to_perceive()
            return any(any(q is w for w in self._queue) for q in queued) or (
                perceiving and self._perception_passes < passes
            )

        while waiting() or self._busy:
            await asyncio.sleep(0.005)
        while self._detect_frame is not None or self._detecting:
            await asyncio.sleep(0.005)
        await self.update_mesh(now=True, exact=True)

    def _frames_to_perceive(self) -> bool:
        """A camera or face frame waits for the perception loop."""
        return self._camera_frame is not None or self._face_frame is not None

    async def _perceive(self, fn: Callable[..., Any], *args: Any) -> Any:
        async with self._perception_lock:
            return await self._in_executor(fn, *args, self.raycaster)

    def _publish_perception(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, PointingEvent):
                self._last_pointing = None if event.phase == "end" else event
            elif isinstance(event, GestureEvent) and event.gesture in STATIC_GESTURES:
                if event.phase == "start":
                    self._gesture = event.gesture
                elif event.phase == "end" and self._gesture == event.gesture:
                    self._gesture = ""
            self.events.append(event)

    def _publish_hands(self) -> None:
        self.hands.publish([*self._camera_hands, *self._device_hands.values()])

    async def submit_head_pose(self, sample: HeadPoseSample) -> None:
        """The head pose: gesture reference frame, mesh priority, and head gaze without eye tracking."""
        self.head_pose = sample
        gaze, events = await self._perceive(self.perception.process_head_pose, sample)
        if gaze is not None:
            self.gaze.publish(gaze)
        self._publish_perception(events)

    async def submit_hand_joints(self, sample: HandJointsSample) -> None:
        hand, events = await self._perceive(self.perception.process_device_hand, sample)
        if hand is None:
            self._device_hands.pop(sample.handedness, None)
        else:
            self._device_hands[sample.handedness] = hand
        self._publish_hands()
        self._publish_perception(events)

    async def submit_eye_gaze(self, sample: EyeGazeSample) -> None:
        gaze, events = await self._perceive(self.perception.process_eye_gaze, sample)
        if gaze is not None:
            self.gaze.publish(gaze)
        self._publish_perception(events)

    def submit_face_frame(self, frame: CameraFrame) -> None:
        """A frame of a camera that looks at the user: face-camera gaze (newest frame wins)."""
        self._check_open()
        self.stats.frames_received += 1
        self._face_frame = frame
        self._camera_frame_ready.set()

    async def _perceive_frame(self, fn: Callable[..., Any], frame: CameraFrame, what: str) -> Any | None:
        """``fn`` on ``frame`` while flagged as perceiving (flush waits for it); None, logged, when it
        fails: one bad frame must not stop perception."""
        self._perceiving = True
        try:
            return await self._perceive(fn, frame)
        except Exception:
            log.exception("session %s: %s failed on frame %d", self.info.session_id, what, frame.sequence)
            return None
        finally:
            self._perceiving = False

    async def _run_face(self) -> None:
        frame, self._face_frame = self._face_frame, None
        if frame is None or frame.capture_time_s <= self._face_time_s:
            return
        self._face_time_s = frame.capture_time_s
        result = await self._perceive_frame(self.perception.process_face_frame, frame, "face gaze")
        if result is None:
            return
        gaze, events = result
        if gaze is not None:
            self.gaze.publish(gaze)
        self._publish_perception(events)

    async def _run_perception(self) -> None:
        """Camera hands on the newest colour frame, face gaze on the newest user-facing frame; frames
        that arrive while busy are skipped."""
        while not self.closed:
            await self._camera_frame_ready.wait()
            self._camera_frame_ready.clear()
            try:
                await self._perception_pass()
            finally:
                self._perception_passes += 1  # flush() counts passes to know its frames were seen

    async def _perception_pass(self) -> None:
        if self._face_frame is not None:
            await self._run_face()
        frame, self._camera_frame = self._camera_frame, None
        if frame is None or frame.capture_time_s <= self._camera_time_s:
            return  # MediaPipe's video mode needs increasing timestamps across all streams
        self._camera_time_s = frame.capture_time_s
        result = await self._perceive_frame(self.perception.process_camera_frame, frame, "camera hands")
        if result is None:
            return
        hands, events = result
        if hands or self._camera_hands:
            self._camera_hands = hands
            self._publish_hands()
        self._publish_perception(events)

    # ---- queries ------------------------------------------------------------------------

    async def raycast(self, origin: np.ndarray, direction: np.ndarray, max_distance_m: float) -> RaycastHit | None:
        self._check_open()
        async with self._mapper_lock:
            return await self._in_executor(self.raycaster, origin, direction, max_distance_m)

    async def export_mesh(self, path: str) -> None:
        async with self._mapper_lock:
            await self._map.call_urgent("export_mesh", path)

    async def query_objects(self, **query: Any) -> list[Any]:
        """The objects that satisfy every filter (``ObjectMapper.query``); objects must be enabled."""
        self._check_open()
        async with self.objects_lock:
            return await self._map.call_urgent("query_objects", query)

    async def save_map(self, path: str | Path, *, background: bool = False) -> tuple[int, str, StreamPosition]:
        """Saves the volume, anchors and the fused-frame record atomically; returns (bytes, sha256,
        the position saved). The volume is copied under the mapper lock and compressed and written
        outside it, so fusion waits only for the copy. One save at a time per session.
        ``background``: on the lower-priority threads (autosaves), not the executor."""
        call = self._map.call if background else self._map.call_urgent
        self._check_open()
        async with self._save_lock:
            async with self._mapper_lock:
                # No await between reading the position and taking the scene: they are one instant. Anchors
                # and planes are immutable, so the loop only copies references (a map with 100,000 anchors
                # takes ~1 ms); turning them into JSON happens on the worker with the volume's compression.
                position = self.scene.position
                anchors = list(self.scene.state.anchors.values())
                planes = list(self.scene.state.planes.values())
                fused = dict(self.fused_sequences)
                await call("dump")
            size, sha = await call("write", str(path), anchors, planes, fused)
        return size, sha, position

    async def autosave(self) -> bool:
        """Saves to ``autosave_path`` if the scene or the fused frames changed since the last save;
        returns whether it saved. ``saved_position`` then says what a restart brings back."""
        if self.autosave_path is None or self.closed:
            return False
        if self.saved_position == self.scene.position and self._saved_fused == self.fused_sequences:
            return False
        fused = dict(self.fused_sequences)
        _size, _sha, position = await self.save_map(self.autosave_path, background=True)
        self.saved_position, self.saved_time_s, self._saved_fused = position, time.time(), fused
        return True

    async def _run_autosave(self, interval_s: float) -> None:
        while not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), interval_s)
            if self.closed or self.draining:
                return
            try:
                if self._map.lost:
                    await self._recover_map()  # a saved map comes back before anything overwrites it
                    continue
                await self.autosave()
            except MapLostError:
                log.warning("session %s: autosave lost with the map process", self.info.session_id)
            except Exception:  # a full disk must not stop the session; the next interval tries again
                log.exception("session %s: autosave failed", self.info.session_id)

    async def load_map(self, path: str | Path) -> StreamPosition:
        """Replaces the map with a saved one (verified first); subscribers get a fresh snapshot."""
        position, _extra = await self._load(path)
        return position

    async def restore(self, path: str | Path) -> StreamPosition:
        """Brings back this session's last autosave after a restart, with the record of the frames
        it holds (so a client retrying those frames does not fuse them twice)."""
        position, extra = await self._load(path)
        self._adopt_fused_record(extra)
        self.saved_position, self.saved_time_s = position, time.time()
        return position

    def _adopt_fused_record(self, extra: dict[str, Any]) -> None:
        """The loaded map's record of the frames it holds becomes the session's: a client retrying
        those is not fused twice, frames after them are fused when retried."""
        fused = {str(k): int(v) for k, v in extra.get("fused_sequences", {}).items()}
        self.fused_sequences = dict(fused)
        self.stream_sequences = dict(fused)
        self._saved_fused = fused

    async def _load(
        self, path: str | Path, anchors: dict[str, Anchor] | None = None
    ) -> tuple[StreamPosition, dict[str, Any]]:
        """Loads a saved map; the scene restarts with its chunks, planes and anchors (``anchors``: these
        instead of the saved ones)."""
        self._check_open()
        async with self._mapper_lock:
            extra, chunks = await self._map.call_urgent("load", str(path))
            self.last_pose = None
        state = SceneState()
        state.chunks.update(chunks)
        if anchors is None:
            anchors = {(a := anchor_from_json(item)).anchor_id: a for item in extra.get("anchors", [])}
        state.anchors.update(anchors)
        position = self.scene.restart(uuid.uuid4().int >> 66, state)
        async with self._mesh_lock:
            self._planes_changed.clear()  # every loaded chunk is planed now
            await self._update_planes(list(state.chunks), reset=True, saved=extra.get("planes", []))
            if self.objects_enabled:
                await self._map.call("reset_objects")  # rediscovered on the loaded map
                self._objects_changed.clear()
                await self._update_objects()
        return position, extra

    async def _recover_map(self) -> None:
        """The map process exited and this session's map with it: an empty map in a new one, and the
        last autosave loaded into it (the anchors are the scene's, which lived here). Without an
        autosave the scene restarts empty but for its anchors. Subscribers get a snapshot either way."""
        async with self._recover_lock:
            if self._map.lost:  # not already restored by the other caller
                await self._restore_lost_map()

    async def _restore_lost_map(self) -> None:
        log.warning("session %s: its map was lost with the map process; restoring", self.info.session_id)
        async with self._mapper_lock:
            await self._map.renew()
            self.last_pose = None
        anchors = dict(self.scene.state.anchors)
        path = self.autosave_path
        if path is not None and path.exists():
            try:
                _position, extra = await self._load(path, anchors)
            except Exception:
                log.exception("session %s: its autosave could not be loaded", self.info.session_id)
            else:
                self._adopt_fused_record(extra)
                return
        state = SceneState()
        state.anchors.update(anchors)
        self.scene.restart(uuid.uuid4().int >> 66, state)
        self.fused_sequences, self.stream_sequences = {}, {}
        self._planes_changed.clear()
        self._objects_changed.clear()
        self._objects_dirty = False

    async def drain(self, timeout_s: float) -> None:
        """Server shutdown: refuse new frames, fuse what is queued (up to ``timeout_s``), save."""
        if self.closed:
            return
        self.draining = True
        async with self._space:
            self._space.notify_all()
        try:
            await asyncio.wait_for(self.flush(), timeout_s)
        except TimeoutError:
            log.warning("session %s: drain timed out before every queued frame was fused", self.info.session_id)
        if self.autosave_path is not None:
            await self.autosave()

    def priority_points(self) -> list[np.ndarray]:
        """Where the user is and looks (world metres): mesh streaming sends chunks nearest these first."""
        points = []
        if self.head_pose is not None:
            points.append(self.head_pose.pose_world_head.translation)
        elif self.last_pose is not None:
            points.append(self.last_pose.translation)
        gaze = self.gaze.value
        if gaze is not None and gaze.hit is not None:
            points.append(np.asarray(gaze.hit.point_world_m, dtype=np.float64))
        return points

    def add_anchor(self, anchor: Anchor) -> None:
        self._check_open()
        self.scene.commit(SceneDelta(upserted_anchors=[anchor]))

    def remove_anchor(self, anchor_id: str) -> bool:
        self._check_open()
        if anchor_id not in self.scene.state.anchors:
            return False
        self.scene.commit(SceneDelta(removed_anchor_ids=[anchor_id]))
        return True

    def _mesh_stats(self) -> tuple[float, np.ndarray, np.ndarray]:
        """(surface area m², min corner, max corner) of the mesh, recomputed only when the scene changed."""
        key = self.scene.position
        if self._mesh_stats_cache is not None and self._mesh_stats_cache[0] == key:
            return self._mesh_stats_cache[1]
        area = 0.0
        lo = np.full(3, np.inf)
        hi = np.full(3, -np.inf)
        for c in self.scene.state.chunks.values():
            if c.triangle_count:
                v = c.vertices[c.triangles]
                area += 0.5 * float(np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1).sum())
                lo = np.minimum(lo, c.vertices.min(axis=0))
                hi = np.maximum(hi, c.vertices.max(axis=0))
        if not np.isfinite(lo).all():
            lo = hi = np.zeros(3)
        self._mesh_stats_cache = (key, (area, lo, hi))
        return area, lo, hi

    def summary(self) -> SceneSummary:
        """The compact, current scene context a dialogue turn sees (world frame, metres)."""
        st = self.scene.state
        chunks = list(st.chunks.values())
        area, lo, hi = self._mesh_stats()
        planes = tuple(
            PlaneSummary(
                p.plane_id, p.label.value, float(p.area_m2), _vec(p.pose_world_plane.translation), _vec(p.normal_world)
            )
            for p in st.planes.values()
        )
        labels = {p.plane_id: p.label.value for p in st.planes.values()}
        labels.update({o.object_id: o.label for o in st.objects.values()})
        objects = tuple(
            ObjectSummary(
                o.object_id,
                o.label,
                _vec(o.centroid_world_m),
                _vec(o.size_m),
                o.color_name,
                o.support_plane_id,
                labels.get(o.support_plane_id, ""),
                float(o.label_confidence),
                o.first_seen_s,
                o.last_seen_s,
            )
            for o in st.objects.values()
        )
        gaze = self.gaze.value
        gaze_kind, gaze_id, gaze_label, gaze_point = _target_fields(gaze.hit if gaze else None, labels)
        point_kind, point_id, point_label, point_point = _target_fields(
            self._last_pointing.hit if self._last_pointing is not None else None, labels
        )
        head = self.head_pose.pose_world_head if self.head_pose is not None else self.last_pose
        return SceneSummary(
            mesh_chunks=len(chunks),
            mesh_triangles=sum(c.triangle_count for c in chunks),
            surface_area_m2=area,
            extent_min_m=_vec(lo),
            extent_max_m=_vec(hi),
            planes=tuple((p.plane_id, p.label, p.area_m2) for p in planes),
            objects=tuple((o.object_id, o.label, o.position_world_m) for o in objects),
            gaze_target=gaze_label or (f"a surface {gaze.hit.distance_m:.1f} metres away" if gaze and gaze.hit else ""),
            gaze_dwell_s=gaze.dwell_s if gaze is not None else 0.0,
            frames_integrated=self.stats.frames_integrated,
            object_details=objects,
            plane_details=planes,
            relations=tuple((r.subject_id, r.predicate, r.object_id) for r in st.relations),
            anchors=tuple(
                AnchorSummary(a.anchor_id, a.label, _vec(a.pose_world_anchor.translation)) for a in st.anchors.values()
            ),
            gaze_target_kind=gaze_kind,
            gaze_target_id=gaze_id,
            gaze_target_label=gaze_label,
            gaze_point_world_m=gaze_point,
            gesture=self._gesture,
            pointing_target_kind=point_kind,
            pointing_target_id=point_id,
            pointing_target_label=point_label,
            pointing_point_world_m=point_point,
            head_position_world_m=_vec(head.translation) if head is not None else None,
            # Head and camera poses use camera axes: +Z is where the user looks.
            head_forward_world=_vec(head.rotation[:, 2]) if head is not None else None,
            up_world=self.info.up_world,
            time_s=time.time(),
        )

    # ---- pipeline -----------------------------------------------------------------------

    async def _in_executor(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        while not self.closed:
            try:
                await self._pipeline()
            except MapLostError:
                pass
            if self.closed or not self._map.lost:
                continue
            try:
                await self._recover_map()
            except Exception:  # the new map process failed too: try again shortly
                log.exception("session %s: restoring its map failed", self.info.session_id)
                await asyncio.sleep(1.0)

    async def _pipeline(self) -> None:
        """Fuses queued frames and keeps the mesh, planes and objects up to date; returns when the
        session closes, raises MapLostError when the map process exited."""
        interval = self.config.mapper.mesh_interval_s
        while not self.closed:
            if self._map.lost:
                raise MapLostError()
            if not self._queue:
                if self._dirty:
                    await self.update_mesh()
                    continue
                self._queue_changed.clear()
                objects_pending = self._objects_pending()
                if self._planes_changed or objects_pending:
                    # The stream paused: bring planes and objects up to date once their intervals have passed.
                    now = time.monotonic()
                    planes_wait = self.config.mapper.planes_interval_s - (now - self._last_planes)
                    objects_wait = self.config.objects.interval_s - (now - self._last_objects)
                    wait = min(
                        planes_wait if self._planes_changed else np.inf, objects_wait if objects_pending else np.inf
                    )
                    if wait > 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._queue_changed.wait(), wait)
                        continue
                    async with self._mesh_lock:
                        await self._update_derived(now=False)
                    continue
                await self._queue_changed.wait()
                continue
            if self._queue[0].done is None and (wait := self._fusion_wait()) > 0:
                # A REALTIME frame before its turn (mapper.realtime_fusion_hz): LOSSLESS frames behind
                # it go first, the mesh is updated when due, else wait (a newer frame may replace it).
                lossless = next((q for q in self._queue if q.done is not None), None)
                if lossless is None:
                    if self._dirty:
                        mesh_wait = interval - (time.monotonic() - self._last_mesh)
                        if mesh_wait <= 0:
                            await self.update_mesh()
                            continue
                        wait = min(wait, mesh_wait)
                    self._queue_changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._queue_changed.wait(), wait)
                    continue
                self._queue.remove(lossless)
                item = lossless
            else:
                item = self._queue.popleft()
                if item.done is None:
                    self._last_realtime_fusion = time.monotonic()
            async with self._space:
                self._space.notify_all()
            self._busy = True
            try:
                reason = await self._integrate(item.frame, item.stream)
            except Exception as exc:  # one bad frame must not kill the session's pipeline
                log.exception("session %s: integrating frame %d failed", self.info.session_id, item.frame.sequence)
                reason = f"error: {exc}"
            finally:
                self._busy = False
            if item.done is not None and not item.done.done():
                item.done.set_result(reason)
            if self._dirty and time.monotonic() - self._last_mesh >= interval:
                await self.update_mesh()

    def _fusion_wait(self) -> float:
        """Seconds until the next REALTIME frame may be fused (``mapper.realtime_fusion_hz``)."""
        hz = self.config.mapper.realtime_fusion_hz
        return 1.0 / hz - (time.monotonic() - self._last_realtime_fusion) if hz > 0 else 0.0

    async def _integrate(self, frame: CameraFrame, stream: str = "") -> str:
        t0 = time.perf_counter()
        async with self._mapper_lock:
            result, last_pose = await self._map.call("integrate", frame)
            if last_pose is not None:
                self.last_pose = last_pose
            if stream:  # under the lock: a save sees the volume and this record change together
                self.fused_sequences[stream] = max(frame.sequence, self.fused_sequences.get(stream, -1))
        if getattr(result, "tracking_lost", False):
            self.stats.drops["tracking_lost"] += 1
            if self.scene.state.tracking_state != "lost":
                self.scene.commit(SceneDelta(tracking_state="lost"))
            return "tracking_lost"
        if self.scene.state.tracking_state != "tracking":
            self.scene.commit(SceneDelta(tracking_state="tracking"))
        self.stats.frames_integrated += 1
        self._last_capture_s = frame.capture_time_s
        self.stats.integrate_times_s.append(time.perf_counter() - t0)
        self._dirty = True
        return ""

    async def update_mesh(self, *, now: bool = False, exact: bool = False) -> None:
        """Re-meshes the dirty blocks and commits the changed chunks as one scene version, then brings
        the planes and objects up to date where their intervals have passed (``now``: regardless).
        One update at a time (flush waits for the worker's)."""
        async with self._mesh_lock:
            self._dirty = False
            self._last_mesh = time.monotonic()
            t0 = time.perf_counter()
            async with self._mapper_lock:
                update = await self._map.call("update_mesh", exact)
            self.stats.mesh_times_s.append(time.perf_counter() - t0)
            if update.upserted or update.removed:
                delta = SceneDelta(upserted_chunks=list(update.upserted), removed_chunks=list(update.removed))
                self.scene.commit(delta)
                changed = [c.key for c in update.upserted] + list(update.removed)
                self._planes_changed.update(changed)
                self._objects_dirty = True
                self._objects_changed.update(changed)
            await self._update_derived(now=now)

    async def _update_derived(self, *, now: bool) -> None:
        """The planes (at most every ``mapper.planes_interval_s``), then the objects (at most every
        ``objects.interval_s``), each committed as a version of its own; ``now``: both regardless
        of their intervals. An object update always sees current planes: discovery looks for objects
        on the supports of the chunks that changed (on stale planes the service test's scan found 6 of
        its 12 objects instead of 12). Under the mesh lock."""
        t = time.monotonic()
        objects_due = self._objects_pending() and (now or t - self._last_objects >= self.config.objects.interval_s)
        planes_due = t - self._last_planes >= self.config.mapper.planes_interval_s
        if self._planes_changed and (now or objects_due or planes_due):
            changed, self._planes_changed = sorted(self._planes_changed), set()
            self._last_planes = t
            await self._update_planes(changed)
        if objects_due:
            await self._update_objects()

    def _objects_pending(self) -> bool:
        """Objects are on and the mesh or the detector changed since their last update."""
        return self.objects_enabled and (self._objects_dirty or bool(self._detections))

    async def _update_objects(self) -> None:
        """Discovers and tracks objects on the current mesh and planes; commits them as one version.

        Holds the mapper lock: removal probes the volume for free space where an object was.
        """
        assert self.objects_enabled
        detections, self._detections = self._detections, []
        changed, self._objects_changed = self._objects_changed, set()
        head = self.head_pose.pose_world_head if self.head_pose is not None else None
        t0 = time.perf_counter()
        try:
            async with self._mapper_lock, self.objects_lock:
                result = await self._map.call("update_objects", detections, changed, head, self._last_capture_s)
        except Exception:  # objects are a layer on the map: a failure there must not stop fusion
            log.exception("session %s: object update failed", self.info.session_id)
            self._objects_dirty = False
            self._last_objects = time.monotonic()
            return
        self.stats.object_times_s.append(time.perf_counter() - t0)
        self._objects_dirty = False
        self._last_objects = time.monotonic()
        update = result.update
        if update.empty:
            return
        self.perception.set_objects(result.objects)  # and so the session's raycaster
        self.scene.commit(
            SceneDelta(
                upserted_objects=list(update.upserted), removed_object_ids=list(update.removed_ids),
                added_relations=list(update.added_relations), removed_relations=list(update.removed_relations),
            )
        )  # fmt: skip

    async def _run_detector(self) -> None:
        """The 2D detector on the newest colour frame with depth, at most every ``detector_interval_s``;
        its detections are lifted to 3D and fused at the next object update."""
        assert self._detector is not None
        detector = self._detector
        up = np.asarray(self.info.up_world)
        while not self.closed:
            await self._detect_frame_ready.wait()
            self._detect_frame_ready.clear()
            wait = self.config.objects.detector_interval_s - (time.monotonic() - self._last_detect)
            if wait > 0:
                await asyncio.sleep(wait)
            frame, self._detect_frame = self._detect_frame, None
            if frame is None or frame.pose_world_camera is None:
                continue
            self._last_detect = time.monotonic()
            self._detecting = True
            try:
                # At the server's priority, like perception: the detector sees only the newest frame,
                # so at a lower one it fell behind under load and labelled fewer objects.
                lifted = await self._in_executor(detect_and_lift, detector, frame, up)
            except Exception:
                log.exception("session %s: detector failed on frame %d", self.info.session_id, frame.sequence)
                continue
            finally:
                self._detecting = False
            self._detections.extend(lifted)
            del self._detections[:-256]  # bounded if object updates stall
            if lifted:
                self._queue_changed.set()  # wakes an idle pipeline worker to fuse them

    async def _update_planes(self, changed: list[Any], *, reset: bool = False, saved: list[Any] | None = None) -> None:
        """Re-fits the planes the changed chunks belong to and commits them as their own version."""
        result = await self._map.call("update_planes", changed, reset, saved)
        if result.planes is not None:
            self.perception.set_planes(result.planes)  # and so the session's raycaster
            self.scene.commit(SceneDelta(upserted_planes=result.upserted, removed_plane_ids=result.removed))

    # ---- lifecycle ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise FailedPreconditionError(f"session {self.info.session_id} is closed", reason="SESSION_CLOSED")

    def _check_accepting(self) -> None:
        """Open and not draining: a frame may still be queued."""
        self._check_open()
        if self.draining:
            raise UnavailableError("the server is draining; resume elsewhere", reason="SERVER_DRAINING")

    async def close(self, error: BaseException) -> None:
        """Stops the pipeline and ends every stream of this session with ``error``."""
        if self.closed:
            return
        self.closed = True
        self._closing.set()
        if self._autosave_worker is not None:
            # Not cancelled: a save in flight finishes (its thread would go on writing anyway), so
            # nothing is written into the session's folder after close returns.
            with contextlib.suppress(Exception):
                await self._autosave_worker
        self._queue_changed.set()
        async with self._space:
            self._space.notify_all()
        for item in self._queue:
            if item.done is not None and not item.done.done():
                item.done.set_result("closed")
        self._queue.clear()
        for task in (self._worker, self._perception_worker, self._detect_worker):
            if task is None:
                continue
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        await asyncio.get_running_loop().run_in_executor(self._executor, self.perception.close)
        await self._map.close()
        self.scene.close(error)
        self.events.close(error)
        self.avatar_events.close(error)
        self.hands.close(error)
        self.gaze.close(error)


def _vec(v: Any) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _target_fields(hit: RaycastHit | None, labels: dict[str, str]) -> tuple[str, str, str, Any]:
    """(kind, id, label, point) of a raycast hit for the dialogue summary."""
    if hit is None:
        return "", "", "", None
    if hit.object_id:
        return "object", hit.object_id, labels.get(hit.object_id, ""), _vec(hit.point_world_m)
    if hit.plane_id:
        return "plane", hit.plane_id, labels.get(hit.plane_id, ""), _vec(hit.point_world_m)
    return "surface", "", "", _vec(hit.point_world_m)
