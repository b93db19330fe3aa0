"""A session's map layers, and where they run: in the server's process, or in a map process of their own.

:class:`SessionMap` owns one session's TSDF :class:`~sora_sdk.mapping.Mapper`, its
:class:`~sora_sdk.mapping.PlaneTracker` and its :class:`~sora_sdk.objects.ObjectMapper`, and offers
the few coarse operations the session's pipeline needs (fuse a frame, re-mesh, re-fit planes, update
objects, raycast, save, load). Its arguments and results are plain data (frames, chunks, planes,
objects), so the same object serves both placements:

* :class:`LocalMap` runs it on the server's background threads (``server.map_process = false``, and
  library use);
* :class:`MapProcess` hosts the maps of every session in one child process (``python -m
  sora_sdk.maphost``), at ``server.background_nice`` (the default on a server; the servers of one
  Python process share it, see :func:`shared_map_process`). Fusion, meshing, plane fitting and object
  discovery hold Python's GIL for much of their time; in the serving process every stream's writes
  wait for it, and a native crash there would take the server down with it. The socket carries each
  frame once (~0.1 MB at 160x120, ~1.5 MB at 640x480) and each update's changed chunks back, which the
  scene needs anyway.

When the map process dies (a native crash in a map library), every call waiting on it fails with
:class:`MapLostError`, the next call starts a new one, and each session brings its map back from its
last autosave (``Session`` does that): what a session reported saved survives, as after a ``kill -9``
of the whole server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import logging
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from .. import __file__ as _package_init
from ..core.config import MapperConfig
from ..core.errors import UnavailableError
from ..core.geometry import Pose
from ..core.scene import Anchor, Plane, RaycastHit, SceneObject
from ..core.sensors import CameraFrame
from ..mapping import IntegrateResult, Mapper, MeshUpdate, PlaneTracker, load_map, write_map
from ..objects import Detection3D, ObjectMapper, ObjectOptions, ObjectsUpdate

__all__ = [
    "LocalMap",
    "MapLostError",
    "MapProcess",
    "MapSpec",
    "RemoteMap",
    "SessionMap",
    "anchor_from_json",
    "anchor_to_json",
    "host_main",
    "shared_map_process",
]

log = logging.getLogger("sora.map")


class MapLostError(UnavailableError):
    """The map process exited while a call waited on it; the session's map is gone from memory."""

    def __init__(self, message: str = "the map process exited; the session's map is restored from its autosave"):
        super().__init__(message, reason="MAP_PROCESS_EXITED")


@dataclass(frozen=True)
class MapSpec:
    """What a :class:`SessionMap` is built from (sent to the map process)."""

    mapper: MapperConfig
    up_world: tuple[float, float, float]
    objects: ObjectOptions | None  # None: objects disabled


@dataclass(frozen=True)
class PlanesResult:
    """One plane update: the planes upserted, the IDs removed, and every current plane when either."""

    upserted: list[Plane]
    removed: list[str]
    planes: list[Plane] | None


@dataclass(frozen=True)
class ObjectsResult:
    """One object update, and every current object when it changed anything (for the raycaster)."""

    update: ObjectsUpdate
    objects: list[SceneObject] | None


class SessionMap:
    """One session's map layers. Synchronous; the caller runs one call at a time per layer (the
    session's locks), except raycasts, which the Mapper serialises itself."""

    def __init__(self, spec: MapSpec) -> None:
        self.spec = spec
        self.mapper = Mapper(spec.mapper)
        self.plane_tracker = PlaneTracker(voxel_size_m=spec.mapper.voxel_size_m)
        self.objects = ObjectMapper(spec.objects) if spec.objects is not None else None
        self._up = np.asarray(spec.up_world, dtype=np.float64)
        # The chunks handed out by update_mesh (what the scene, and so every subscriber, holds): planes
        # and objects are fitted on these.
        self._chunks: dict[Any, Any] = {}
        self._dump: dict[str, np.ndarray] | None = None

    def integrate(self, frame: CameraFrame) -> tuple[IntegrateResult, Pose | None]:
        """Fuses a frame; returns the result and the pose of the last fused frame."""
        result = self.mapper.integrate(frame, frame.pose_world_camera)
        return result, self.mapper.last_pose

    def update_mesh(self, exact: bool = False) -> MeshUpdate:
        update = self.mapper.update_mesh(exact=exact)
        for key in update.removed:
            self._chunks.pop(key, None)
        for chunk in update.upserted:
            self._chunks[chunk.key] = chunk
        return update

    def update_planes(self, changed: list[Any], reset: bool = False, saved: list[Any] | None = None) -> PlanesResult:
        removed = self.plane_tracker.reset(saved or []).removed if reset else []
        planes = self.plane_tracker.update(self._chunks, changed, up_world=self._up)
        removed = removed + list(planes.removed)
        current = self.planes() if planes.upserted or removed else None
        return PlanesResult(list(planes.upserted), removed, current)

    def planes(self) -> list[Plane]:
        """Every plane the tracker holds now."""
        return list(self.plane_tracker.planes.values())

    def update_objects(
        self, detections: Sequence[Detection3D], changed: set[Any], head: Pose | None, time_s: float
    ) -> ObjectsResult:
        assert self.objects is not None
        view = self.mapper.last_pose if self.mapper.last_pose is not None else head
        update = self.objects.update(
            dict(self._chunks), dict(self.plane_tracker.planes), time_s=time_s, view_world_camera=view,
            up_world=self._up, free_space=self.mapper.free_space, detections=detections, changed=changed or None,
            seen_count=self.mapper.seen_counts,
        )  # fmt: skip
        return ObjectsResult(update, None if update.empty else list(self.objects.objects.values()))

    def reset_objects(self) -> None:
        if self.objects is not None:
            self.objects.reset()

    def query_objects(self, query: dict[str, Any]) -> list[SceneObject]:
        """``ObjectMapper.query`` with these keyword arguments."""
        assert self.objects is not None
        return self.objects.query(**query)

    def raycast(self, origin: np.ndarray, direction: np.ndarray, max_distance_m: float = 10.0) -> RaycastHit | None:
        return self.mapper.raycast(origin, direction, max_distance_m)

    def export_mesh(self, path: str) -> None:
        self.mapper.export_mesh(path)

    def dump(self) -> None:
        """Copies the volume for :meth:`write` (under the session's map lock: one instant with the
        scene position and fused-frame record the session saves with it)."""
        self._dump = self.mapper.volume.dump_blocks()

    def write(
        self, path: str | Path, anchors: list[Anchor], planes: list[Plane], fused: dict[str, int]
    ) -> tuple[int, str]:
        """Writes the last :meth:`dump` with the anchors, planes and fused-frame record; (bytes, sha256)."""
        blocks, self._dump = self._dump, None
        if blocks is None:
            raise RuntimeError("write() without a dump()")
        extra = {
            "anchors": [anchor_to_json(a) for a in anchors],
            "planes": PlaneTracker.dump(planes),
            "fused_sequences": fused,
        }
        return write_map(path, blocks, self.mapper.config, extra)

    def load(self, path: str | Path) -> tuple[dict[str, Any], dict[Any, Any]]:
        """Replaces the volume with a saved map (verified first); returns its extras and every chunk."""
        extra, _update = load_map(path, self.mapper)
        self._chunks = dict(self.mapper.chunks)
        return extra, dict(self._chunks)


def anchor_to_json(a: Anchor) -> dict[str, Any]:
    return {
        "anchor_id": a.anchor_id,
        "version": a.version,
        "pose_world_anchor": a.pose_world_anchor.matrix.tolist(),
        "label": a.label,
        "created_time_s": a.created_time_s,
        "attached_to_id": a.attached_to_id,
    }


def anchor_from_json(d: dict[str, Any]) -> Anchor:
    return Anchor(
        anchor_id=str(d["anchor_id"]),
        version=int(d.get("version", 0)),
        pose_world_anchor=Pose(np.asarray(d["pose_world_anchor"], dtype=np.float64)),
        label=str(d.get("label", "")),
        created_time_s=float(d.get("created_time_s", 0.0)),
        attached_to_id=str(d.get("attached_to_id", "")),
    )


# ---------------------------------------------------------------------------- handles


class LocalMap:
    """A :class:`SessionMap` in this process: the pipeline's calls run on ``background`` (the map
    threads, at a lower priority), those a client waits on (:meth:`call_urgent`) on ``executor``."""

    def __init__(self, spec: MapSpec, background: Executor, executor: Executor) -> None:
        self._map = SessionMap(spec)
        self._background = background
        self._executor = executor

    @property
    def lost(self) -> bool:
        return False

    async def call(self, method: str, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._background, getattr(self._map, method), *args)

    async def call_urgent(self, method: str, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, getattr(self._map, method), *args)

    def call_blocking(self, method: str, *args: Any) -> Any:
        return getattr(self._map, method)(*args)

    async def renew(self) -> None:
        self._map = SessionMap(self._map.spec)

    async def close(self) -> None:
        pass


class RemoteMap:
    """A :class:`SessionMap` in the :class:`MapProcess`."""

    def __init__(self, host: MapProcess, session_id: str, spec: MapSpec) -> None:
        self._host = host
        self._sid = session_id
        self._spec = spec
        host.submit(session_id, "__create__", (spec,))  # a failure there fails the calls after it
        self._generation = host.generation

    @property
    def lost(self) -> bool:
        """The map process this map lived in has exited (its state is gone)."""
        return self._generation != self._host.generation or not self._host.alive

    def _submit(self, method: str, args: tuple[Any, ...]) -> concurrent.futures.Future[Any]:
        if self._generation != self._host.generation:
            raise MapLostError()
        return self._host.submit(self._sid, method, args)

    async def call(self, method: str, *args: Any) -> Any:
        return await asyncio.wrap_future(self._submit(method, args))

    call_urgent = call  # the map process serves calls on a pool of its own

    def call_blocking(self, method: str, *args: Any) -> Any:
        return self._submit(method, args).result()

    async def renew(self) -> None:
        """An empty map in a running map process (after the one this map lived in exited)."""
        self._host.ensure_running()
        self._generation = self._host.generation
        await asyncio.wrap_future(self._host.submit(self._sid, "__create__", (self._spec,)))

    async def close(self) -> None:
        if self._generation == self._host.generation and self._host.alive:
            try:
                await asyncio.wrap_future(self._host.submit(self._sid, "__drop__", ()))
            except MapLostError:
                pass


class MapProcess:
    """One child process hosting the :class:`SessionMap` of every session.

    Requests go down a socket as (id, session, method, args) and are served by a pool of threads in the
    child (a raycast is answered while another session's planes are fitted); answers come back on the
    same socket and resolve :class:`concurrent.futures.Future` objects, which the event loop awaits and
    executor threads block on. The child runs at ``nice`` above the server's niceness (with
    ``sched_idle``, under Linux's SCHED_IDLE policy too) and with the server's malloc setting. It is a
    fresh interpreter (``python -m sora_sdk.maphost``), not a fork: nothing of the server's threads or
    gRPC state goes with it, and a script that starts a server needs no ``if __name__ == "__main__"``
    guard. It imports only the map libraries (~2 s) and exits when the socket closes (the server's
    process ended). Thread-safe.
    """

    def __init__(
        self, *, nice: int = 10, mmap_threshold_kib: int = 0, threads: int = 0, sched_idle: bool = False
    ) -> None:
        # At least 4 threads in the child: a raycast is not held up behind two sessions' plane fits.
        threads = max(4, int(threads) or (os.cpu_count() or 1))
        self._args = (int(nice), int(mmap_threshold_kib), threads, int(bool(sched_idle)))
        self._lock = threading.Lock()  # the process, the pending futures, the generation
        self._pending: dict[int, concurrent.futures.Future[Any]] = {}
        self._outbox: queue.SimpleQueue[tuple[int, Any] | None] = queue.SimpleQueue()
        self._ids = itertools.count()
        self._process: Any = None
        self._conn: Any = None
        self.generation = 0
        self._closed = False

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _run_locked(self) -> None:
        """Starts the child unless it is running (or the process is closing); under the lock."""
        if not self._closed and (self._process is None or self._process.poll() is not None):
            self._start_locked()

    def _start_locked(self) -> None:
        # What the previous process owed is lost with it.
        owed, self._pending = self._pending, {}
        for fut in owed.values():
            _resolve(fut, False, MapLostError())
        self._outbox.put(None)  # the previous writer stops
        parent, child = socket.socketpair()
        root = os.path.dirname(os.path.dirname(os.path.abspath(_package_init)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        args = [str(a) for a in (child.fileno(), *self._args)]
        process = subprocess.Popen(
            [sys.executable, "-m", "sora_sdk.maphost", *args], pass_fds=(child.fileno(),), env=env, close_fds=True
        )
        child.close()
        self._process, self._conn = process, Connection(parent.detach())
        self._outbox = queue.SimpleQueue()
        self.generation += 1
        threading.Thread(
            target=self._read, args=(self._conn, process, self.generation), name="maphost-reader", daemon=True
        ).start()
        # Calls are pickled and sent by a thread of their own: the event loop never waits on the socket
        # (a frame is larger than its buffer) nor pickles a large call (an autosave's anchors) in one go.
        threading.Thread(
            target=self._write, args=(self._conn, self._outbox), name="maphost-writer", daemon=True
        ).start()
        log.info("map process %d started", process.pid)

    def ensure_running(self) -> None:
        with self._lock:
            self._run_locked()

    def submit(self, session_id: str, method: str, args: tuple[Any, ...]) -> concurrent.futures.Future[Any]:
        """Sends one call; the future resolves with its result, its error, or MapLostError. A map
        process that has exited is replaced first (its sessions' maps are gone: their handles see
        the new generation)."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        rid = next(self._ids)
        with self._lock:
            if self._closed:
                fut.set_exception(UnavailableError("the server is stopping", reason="SERVER_DRAINING"))
                return fut
            self._run_locked()
            self._pending[rid] = fut
            self._outbox.put((rid, (rid, session_id, method, args)))  # arguments are not changed after a call
        return fut

    def _write(self, conn: Connection, outbox: queue.SimpleQueue[tuple[int, Any] | None]) -> None:
        while (item := outbox.get()) is not None:
            rid, message = item
            try:
                payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # an argument that cannot travel fails its call only
                with self._lock:
                    fut = self._pending.pop(rid, None)
                if fut is not None:
                    _resolve(fut, False, exc)
                continue
            try:
                conn.send_bytes(payload)
            except (OSError, ValueError):  # the child is gone: its reader fails what is pending
                return

    def _read(self, conn: Any, process: Any, generation: int) -> None:
        while True:
            try:
                rid, ok, value = conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # an answer that does not unpickle: that call fails, the others go on
                log.exception("map process: an answer could not be read")
                continue
            with self._lock:
                fut = self._pending.pop(rid, None)
            if fut is None:
                continue
            _resolve(fut, ok, value)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        with self._lock:
            if self.generation != generation:
                return
            pending, self._pending = self._pending, {}
            closed = self._closed
        if not closed:
            log.error("map process %s exited (code %s): every session's map is restored from its autosave",
                      process.pid, process.returncode)  # fmt: skip
        for fut in pending.values():
            _resolve(fut, False, MapLostError())

    def close(self) -> None:
        """Stops the child (what it was doing is lost; sessions save before this)."""
        with self._lock:
            self._closed = True
            conn, process = self._conn, self._process
            self._outbox.put((-1, None))  # the child's stop
            self._outbox.put(None)  # the writer's
        if conn is None:
            return
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        conn.close()


def _resolve(fut: concurrent.futures.Future[Any], ok: bool, value: Any) -> None:
    """Settles a call's future, unless its caller gave up on it (a cancelled await cancels it)."""
    try:
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
    except concurrent.futures.InvalidStateError:
        pass


# SessionMap operations served on the query threads.
_QUERIES = frozenset({"raycast", "query_objects"})

_shared: MapProcess | None = None
_shared_lock = threading.Lock()


def shared_map_process(
    *, nice: int = 10, mmap_threshold_kib: int = 0, threads: int = 0, sched_idle: bool = False
) -> MapProcess:
    """The map process of this Python process, started on first use: the servers of one process (a
    test suite's) share it, each session with a map of its own. The first caller's settings hold."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = MapProcess(
                nice=nice, mmap_threshold_kib=mmap_threshold_kib, threads=threads, sched_idle=sched_idle
            )
        _shared.ensure_running()
        return _shared


def host_main(conn: Connection, nice: int, mmap_threshold_kib: int, threads: int, sched_idle: bool = False) -> None:
    """The map process: serves SessionMap calls until the pipe closes or says stop."""
    from ..core._malloc import set_mmap_threshold

    if (nice > 0 or sched_idle) and sys.platform.startswith("linux"):
        # Every thread: those the map libraries started when imported (OpenMP's, numba's) as well;
        # threads started later inherit both from the thread that starts them.
        target = min(19, os.getpriority(os.PRIO_PROCESS, 0) + max(0, nice))
        for tid in os.listdir("/proc/self/task"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(tid), target)
                if sched_idle:  # lowering one's own policy needs no privilege
                    os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))
            except OSError:
                log.warning("map process: could not lower the priority of thread %s", tid)
    set_mmap_threshold(mmap_threshold_kib)
    maps: dict[str, concurrent.futures.Future[SessionMap]] = {}
    send_lock = threading.Lock()

    def answer(rid: int, ok: bool, value: Any) -> None:
        if not ok:
            value = _portable(value)
        try:
            payload = pickle.dumps((rid, ok, value), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a result that cannot travel fails its call only
            payload = pickle.dumps((rid, False, RuntimeError(f"map process: unpicklable result: {exc}")))
        with send_lock:
            conn.send_bytes(payload)

    def serve(rid: int, created: concurrent.futures.Future[SessionMap], method: str, args: tuple[Any, ...]) -> None:
        try:
            target = created.result()  # created by a task queued before this one
            if method.startswith("_") or not callable(getattr(target, method, None)):
                raise AttributeError(f"a session map has no operation {method!r}")
            value = getattr(target, method)(*args)
        except BaseException as exc:  # every failure goes back to its caller
            answer(rid, False, exc)
        else:
            answer(rid, True, value)

    def created(rid: int, fut: concurrent.futures.Future[SessionMap]) -> None:
        exc = fut.exception()
        answer(rid, exc is None, exc)

    # Raycasts and object queries (a client or a gaze sample waits on them) have threads of their own,
    # so they never queue behind the pipeline's plane fits and object updates.
    with (
        ThreadPoolExecutor(threads, thread_name_prefix="sora-map") as pool,
        ThreadPoolExecutor(2, thread_name_prefix="sora-map-query") as queries,
    ):
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg is None:
                break
            rid, sid, method, args = msg
            if method == "__create__":  # on the pool (a volume takes a moment); calls after it wait for it
                maps[sid] = pool.submit(SessionMap, *args)
                maps[sid].add_done_callback(functools.partial(created, rid))
            elif method == "__drop__":
                maps.pop(sid, None)
                answer(rid, True, None)
            elif sid not in maps:
                answer(rid, False, MapLostError(f"no map for session {sid} in this map process"))
            else:
                (queries if method in _QUERIES else pool).submit(serve, rid, maps[sid], method, args)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (the project's errors do), else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
