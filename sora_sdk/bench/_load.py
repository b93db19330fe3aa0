"""``sora bench load``: many subscribers on one session, against a bare grpcio fan-out measured in the same run.

Setup (both servers run in subprocesses of their own, so each one's RSS and CPU are its own):

* **Sora**: ``sora serve`` on loopback, one session. ``subscribers`` WatchScene streams, each on its own
  connection (anchors, planes and objects; mesh with ``include_mesh``), and ``perception_subscribers``
  WatchPerception streams. A driver changes the anchors every ``1 / rate_hz`` s, so each scene
  subscriber should receive ``rate_hz`` updates a second: it creates one, or, once ``anchor_window``
  anchors live, deletes the oldest instead (the scene stays the size a live session's would, so RSS
  drift over a soak is the server's, not the workload's ever-growing scene); ``ingest_streams``
  sensor streams send synthetic depth frames (a rendered room, 160 x 120) at ``rate_hz`` each, so the
  map, planes and objects are being updated meanwhile, as in a live session; the first of them also
  sends a device hand at ``rate_hz``, which perception subscribers receive.
* **Baseline**: a minimal ``grpc.aio`` server (:func:`_serve_baseline`) that publishes a message of
  the mean size the Sora subscribers received, at ``rate_hz``, through a bounded queue per subscriber,
  to the same number of subscribers, on as many connections.

CPUs (``pin_cpus``, Linux): by default each server (its map process too) runs on the first half of the
CPUs and this process, which plays every client, on the other half. The clients stand for headsets on
other machines; sharing the server's cores, their ~0.5 s/s of CPU made the serving event loop wait,
runnable, for a CPU (0.12-0.13 s a second on 2 cores, against 0.05 pinned) and set the p99.
``pin_cpus="none"`` measures that shared case.

Measured over ``duration_s`` (the baseline: at most :data:`BASELINE_MAX_S`) after a warm-up (for long
windows, until Sora's RSS levels off: :func:`settle_default_s`, :func:`_settle`), for each: the rate
each subscriber received the driven updates at (mean and slowest), latency from the server's commit
(``SceneUpdate.server_time_s``; the baseline's publish time in its message) to the client's receipt,
p50 / p99 / max (one host, one clock), errors (failed calls, streams that ended, anchors a subscriber
never got: scene streams are lossless), and the server's RSS at the start and end of the window
(drift) and CPU time per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import statistics
import struct
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core._threads import format_cpu_list, parse_cpu_list, pin_process, pinned
from ._report import Metric, Report

__all__ = ["bench_load", "run_load", "split_cpus"]

#: Each subscriber gets its own TCP connection, as separate devices would (grpcio otherwise shares one).
_CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1), ("grpc.max_receive_message_length", 64 << 20)]
_BASELINE_METHOD = "/sora.bench.Fanout/Watch"
_LISTENING = re.compile(r"listening on [^\s:]+:(\d+)")
WARMUP_S = 1.0
GRACE_S = 1.0


@dataclass
class _Subscriber:
    """What one subscriber saw: (commit time, receive time) of each driven update, and how it ended."""

    latencies_s: list[float] = field(default_factory=list)
    commit_times_s: list[float] = field(default_factory=list)
    anchor_ids: set[str] = field(default_factory=set)
    removed_ids: set[str] = field(default_factory=set)
    message_bytes: list[int] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: str = ""


@dataclass
class _Side:
    """One measured server: its subscribers, the driven updates, its process."""

    subscribers: list[_Subscriber]
    window: tuple[float, float]
    rss_mb: tuple[float, float]
    cpu_s: float
    loop_s: tuple[float, float] = (float("nan"), float("nan"))  # the event loop: (on a CPU, waiting for one)
    driver_errors: int = 0
    expected_ids: set[str] = field(default_factory=set)
    expected_removed: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self, rate_hz: float) -> dict[str, Any]:
        t0, t1 = self.window
        span = t1 - t0
        lat = [
            lat_s
            for s in self.subscribers
            for c, lat_s in zip(s.commit_times_s, s.latencies_s, strict=True)
            if t0 <= c < t1
        ]
        rates = [sum(1 for c in s.commit_times_s if t0 <= c < t1) / span for s in self.subscribers]
        ended = sum(1 for s in self.subscribers if s.error)
        missing = sum(
            len(self.expected_ids - s.anchor_ids) + len(self.expected_removed - s.removed_ids) for s in self.subscribers
        )
        sizes = [b for s in self.subscribers for b in s.message_bytes]
        ms = np.asarray(lat, dtype=np.float64) * 1e3
        return {
            "subscribers": len(self.subscribers),
            "rate_hz": rate_hz,
            "window_s": span,
            "delivered_hz_mean": float(np.mean(rates)) if rates else 0.0,
            "delivered_hz_min": float(np.min(rates)) if rates else 0.0,
            "messages": len(lat),
            "latency_p50_ms": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
            "latency_p99_ms": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
            "latency_max_ms": float(ms.max()) if len(ms) else float("nan"),
            "message_bytes_mean": float(statistics.fmean(sizes)) if sizes else 0.0,
            "streams_ended": ended,
            "stream_errors": sorted({s.error for s in self.subscribers if s.error})[:5],
            "driver_errors": self.driver_errors,
            "missing_updates": missing,
            "errors": ended + self.driver_errors + missing,
            "rss_start_mb": self.rss_mb[0],
            "rss_end_mb": self.rss_mb[1],
            "rss_drift_mb": self.rss_mb[1] - self.rss_mb[0],
            "rss_samples_mb": list(self.extra.get("rss_samples_mb", self.rss_mb)),
            "cpu_s_per_s": self.cpu_s / span,
            "loop_cpu_s_per_s": self.loop_s[0] / span,
            "loop_runqueue_s_per_s": self.loop_s[1] / span,
            **self.extra,
        }


# ---- server processes ---------------------------------------------------------------------------


def _median_drift_mb(trace: list[tuple[float, float, float]]) -> list[float]:
    """[serving, map process] RSS growth over the window, MiB: the median of the last tenth of the
    trace's readings less that of the first tenth (a transient in either tenth does not count)."""
    if len(trace) < 2:
        return [float("nan"), float("nan")]
    k = max(1, len(trace) // 10)
    return [float(np.median([t[i] for t in trace[-k:]]) - np.median([t[i] for t in trace[:k]])) for i in (1, 2)]


def _second_half_mb(samples: list[float]) -> float:
    """RSS growth over the second half of the window (samples at its quarters), MiB."""
    return samples[-1] - samples[len(samples) // 2] if len(samples) >= 3 else float("nan")


def settle_default_s(duration_s: float) -> float:
    """How long a run may warm up before its window: none for short runs; for soaks, until the server's
    RSS levels off (a fresh map fills its block pool, chunks and scene history first), at most a
    quarter of the window or 5 minutes."""
    return 0.0 if duration_s < 60.0 else min(300.0, duration_s / 4.0)


#: The bare fan-out's window is capped: it holds no state that could drift, and its rate and latency
#: settle within seconds, so an hour-long soak compares with two minutes of it, not an hour.
BASELINE_MAX_S = 120.0


#: Steady state for the warm-up: RSS grew by less than this share over the last :data:`SETTLE_SPAN_S`.
SETTLE_GROWTH = 0.005
SETTLE_SPAN_S = 60.0


async def _settle(pid: int, settle_s: float, log: Callable[[str], None]) -> tuple[float, float, float]:
    """Wait until process ``pid``'s RSS grew by less than :data:`SETTLE_GROWTH` over the last
    :data:`SETTLE_SPAN_S`, or ``settle_s`` passed. Returns (seconds waited, RSS before, RSS after) in MiB.

    A fresh session fills for minutes (scene history, chunks, allocator arenas) at a few MiB a
    minute: a test over 10 s (1 %, the first version) ended the warm-up while it still filled, and the
    hour-long soak counted the fill as drift."""
    t0 = time.monotonic()
    step = 5.0
    back = round(SETTLE_SPAN_S / step)
    samples = [_rss_mb(pid)]
    while time.monotonic() - t0 < settle_s:
        await asyncio.sleep(step)
        samples.append(_rss_mb(pid))
        if len(samples) > back and samples[-1] - samples[-1 - back] < SETTLE_GROWTH * samples[-1]:
            break
    waited = time.monotonic() - t0
    log(f"warm-up: RSS {samples[0]:.0f} -> {samples[-1]:.0f} MiB in {waited:.0f} s")
    return waited, samples[0], samples[-1]


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc; only ``pid`` elsewhere): a server's map process is
    part of the server's cost."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for children in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in children.read_text().split())
            except (OSError, ValueError):
                pass
    return out


def _rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` and its children (the map process), MiB (Linux /proc;
    psutil elsewhere when installed)."""
    total = 0.0
    for p in _tree(pid):
        total += _rss_one_mb(p)
    return total


def _rss_one_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:  # not Linux
        import psutil

        return float(psutil.Process(pid).memory_info().rss) / (1 << 20)
    except Exception:
        return float("nan")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds process ``pid`` and its children (the map process) have used
    (Linux /proc; NaN elsewhere)."""
    total = 0.0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            if p == pid:
                return float("nan")
    return total


def _loop_cpu_s(pid: int) -> tuple[float, float]:
    """Seconds the main thread of process ``pid`` (a server's asyncio event loop, which runs every
    stream's writes) has run on a CPU, and has waited, runnable, for one (Linux schedstat; NaN
    elsewhere). The first bounds how fast a fan-out can go; the second is time the host's other work
    (the map process, the bench's own clients) took from it."""
    try:
        run_ns, wait_ns, _ = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
        return int(run_ns) / 1e9, int(wait_ns) / 1e9
    except (OSError, ValueError):
        return float("nan"), float("nan")


def _minus(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return a[0] - b[0], a[1] - b[1]


@contextlib.asynccontextmanager
async def _process(
    *args: str, timeout_s: float = 180.0, output: list[str] | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """Starts ``python args…``, waits for its "listening on HOST:PORT" line; yields (process, port); stops it
    (SIGTERM, then SIGKILL after 15 s) unless it has already ended. Its output lines go to ``output``
    when given (all of them, to its end), else only the start-up is kept for the error message."""
    # The child imports the same sora_sdk as this process, wherever it is run from.
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env
    )
    assert proc.stdout is not None
    lines: list[str] = output if output is not None else []
    drainer: asyncio.Future[None] | None = None
    try:
        port = 0
        deadline = time.monotonic() + timeout_s
        while not port:
            line = await asyncio.wait_for(proc.stdout.readline(), max(0.1, deadline - time.monotonic()))
            if not line:
                raise RuntimeError(f"server exited before listening: {''.join(lines[-20:])}")
            text = line.decode(errors="replace")
            lines.append(text)
            if m := _LISTENING.search(text):
                port = int(m.group(1))

        async def drain() -> None:  # keep its pipe from filling
            assert proc.stdout is not None
            while line := await proc.stdout.readline():
                if output is not None:
                    output.append(line.decode(errors="replace"))

        drainer = asyncio.ensure_future(drain())
        yield proc, port
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if drainer is not None:  # the process has ended: read what it wrote last, then stop
            with contextlib.suppress(Exception):
                await asyncio.wait_for(drainer, 5)
            drainer.cancel()


def _serve_baseline(message_bytes: int, rate_hz: float, cpus: str = "") -> None:
    """The baseline server (``python -m sora_sdk.bench._load baseline BYTES HZ [CPUS]``): a bare grpc.aio fan-out.

    One publisher puts ``struct(publish time, sequence) + padding`` into a bounded queue per subscriber
    at ``rate_hz``; each subscriber's handler writes what its queue holds. Nothing else. On ``cpus``
    (a CPU list) when given, as ``sora serve --server-cpus`` puts Sora.
    """
    if cpus:
        pin_process(parse_cpu_list(cpus))
    import grpc

    async def main() -> None:
        queues: set[asyncio.Queue[bytes]] = set()

        async def watch(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
            q: asyncio.Queue[bytes] = asyncio.Queue(maxsize=512)
            queues.add(q)
            try:
                while True:
                    yield await q.get()
            finally:
                queues.discard(q)

        handler = grpc.method_handlers_generic_handler(
            "sora.bench.Fanout", {"Watch": grpc.unary_stream_rpc_method_handler(watch)}
        )
        server = grpc.aio.server(options=[("grpc.max_send_message_length", 64 << 20)])
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        print(f"baseline listening on 127.0.0.1:{port}", flush=True)
        pad = b"\x00" * max(0, message_bytes - 16)
        period, seq, next_t = 1.0 / rate_hz, 0, time.monotonic()
        while True:
            next_t += period
            await asyncio.sleep(max(0.0, next_t - time.monotonic()))
            seq += 1
            msg = struct.pack("<dQ", time.time(), seq) + pad
            for q in list(queues):
                if q.full():  # the same policy as Sora's ordered streams would be: the laggard is cut
                    continue
                q.put_nowait(msg)

    asyncio.run(main())


# ---- subscribers and drivers --------------------------------------------------------------------


async def _scene_subscriber(target: str, session_id: str, include_mesh: bool, sub: _Subscriber) -> None:
    import grpc

    from .._proto.sora.v1 import scene_pb2, scene_pb2_grpc

    async with grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
        stub = scene_pb2_grpc.SceneServiceStub(channel)
        req = scene_pb2.WatchSceneRequest(
            session_id=session_id, content=scene_pb2.SceneContent(exclude_mesh=not include_mesh)
        )
        try:
            async for msg in stub.WatchScene(req):
                now = time.time()
                u = msg.update
                if u.kind == scene_pb2.SCENE_UPDATE_KIND_DELTA and (u.upserted_anchors or u.removed_anchor_ids):
                    sub.commit_times_s.append(u.server_time_s)
                    sub.latencies_s.append(now - u.server_time_s)
                    sub.message_bytes.append(msg.ByteSize())
                    sub.anchor_ids.update(a.anchor_id for a in u.upserted_anchors)
                    sub.removed_ids.update(u.removed_anchor_ids)
                sub.ready.set()
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                sub.error = f"{err.code().name}: {err.details()}"
        finally:
            sub.ready.set()


async def _perception_subscriber(target: str, session_id: str, sub: _Subscriber) -> None:
    import grpc

    from .._proto.sora.v1 import perception_pb2, perception_pb2_grpc

    async with grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
        stub = perception_pb2_grpc.PerceptionServiceStub(channel)
        call = stub.WatchPerception(perception_pb2.WatchPerceptionRequest(session_id=session_id, exclude_gaze=True))
        sub.ready.set()  # WatchPerception sends nothing until something happens
        try:
            async for msg in call:
                if msg.WhichOneof("item") == "hands" and msg.hands.capture_time_s > 0:
                    # The hand's capture time is the driver's wall clock at sending: sensor in -> subscriber.
                    t = msg.hands.capture_time_s
                    sub.commit_times_s.append(t)
                    sub.latencies_s.append(time.time() - t)
                    sub.message_bytes.append(msg.ByteSize())
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                sub.error = f"{err.code().name}: {err.details()}"


async def _baseline_subscriber(target: str, sub: _Subscriber) -> None:
    import grpc

    async with grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
        call = channel.unary_stream(_BASELINE_METHOD)(b"")
        try:
            async for msg in call:
                now = time.time()
                sent, _seq = struct.unpack_from("<dQ", msg)
                sub.commit_times_s.append(sent)
                sub.latencies_s.append(now - sent)
                sub.message_bytes.append(len(msg))
                sub.ready.set()
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                sub.error = f"{err.code().name}: {err.details()}"
        finally:
            sub.ready.set()


def _synthetic_frames(n: int) -> list[Any]:
    """``n`` rendered 160 x 120 depth frames around the generated room, encoded once (raw uint16)."""
    from ..client import encode_camera_frame
    from ..datasets import generate_room, orbit_trajectory, render, synthetic_intrinsics

    room = generate_room(0)
    frames = render(room, orbit_trajectory(room, n), synthetic_intrinsics(160, 120))
    out = []
    for f in frames:
        msg = encode_camera_frame(f, color="raw", depth="raw")
        msg.ClearField("color")  # depth only: the bench loads fusion and fan-out, not camera hands
        out.append(msg)
    return out


async def _periodic(rate_hz: float, stop: asyncio.Event, tick: Callable[[int], Any]) -> None:
    """Calls ``tick(i)`` every ``1 / rate_hz`` s on a fixed schedule (a late tick does not shift the rest)."""
    period, i, next_t = 1.0 / rate_hz, 0, time.monotonic()
    while not stop.is_set():
        await tick(i)
        i += 1
        next_t += period
        delay = next_t - time.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        else:
            await asyncio.sleep(0)


# ---- the two runs -------------------------------------------------------------------------------


async def _run_sora(
    subscribers: int,
    perception_subscribers: int,
    rate_hz: float,
    ingest_streams: int,
    duration_s: float,
    include_mesh: bool,
    settle_s: float,
    anchor_window: int,
    server_args: Sequence[str],
    log: Callable[[str], None],
) -> tuple[_Side, _Side | None]:
    import grpc

    from .._proto.sora.v1 import scene_pb2, scene_pb2_grpc, sensor_pb2, sensor_pb2_grpc, session_pb2, session_pb2_grpc
    from ..client import encode_sensor_item
    from ..client._codec import encode_pose
    from ..core.geometry import Pose

    frames = _synthetic_frames(30) if ingest_streams else []
    data_dir = tempfile.mkdtemp(prefix="sora-bench-load-")
    args = [
        "-m", "sora_sdk.cli.main", "serve", "--port", "0", "--server-data-dir", data_dir,
        # One client process plays every subscriber: the per-client quotas would (rightly) stop it.
        "--server-quota-streams-per-client", "0", "--server-quota-subscriptions-per-session", "0",
        "--server-quota-frames-per-s", "0", "--server-quota-ingest-bytes-per-s", "0", *server_args
    ]  # fmt: skip
    log("starting the Sora server ...")
    async with _process(*args) as (proc, port):
        target = f"127.0.0.1:{port}"
        async with grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS) as channel:
            sessions = session_pb2_grpc.SessionServiceStub(channel)
            scene = scene_pb2_grpc.SceneServiceStub(channel)
            sensor = sensor_pb2_grpc.SensorServiceStub(channel)
            sid = (
                await sessions.CreateSession(session_pb2.CreateSessionRequest(display_name="bench"))
            ).session.session_id

            async def stats() -> Any:
                return (await sessions.GetSession(session_pb2.GetSessionRequest(session_id=sid))).session.stats

            subs = [_Subscriber() for _ in range(subscribers)]
            psubs = [_Subscriber() for _ in range(perception_subscribers)]
            log(f"connecting {subscribers} scene + {perception_subscribers} perception subscribers ...")
            tasks = [asyncio.ensure_future(_scene_subscriber(target, sid, include_mesh, s)) for s in subs]
            tasks += [asyncio.ensure_future(_perception_subscriber(target, sid, s)) for s in psubs]
            # Ready once the snapshot arrived (scene) or the call is placed (perception).
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subs)), 60)
            await asyncio.gather(*(s.ready.wait() for s in psubs))
            stop = asyncio.Event()
            created: list[tuple[float, str]] = []
            deleted: list[tuple[float, str]] = []  # (time the deletion was acknowledged, anchor ID)
            live: deque[str] = deque()  # created and not (being) deleted, oldest first
            creating = [0]  # creations not answered yet: with them the window would overshoot
            errors = {"driver": 0}
            pending: set[asyncio.Future[Any]] = set()
            anchor_pose = encode_pose(Pose.identity())

            async def create(i: int) -> None:
                async def one() -> None:
                    try:
                        r = await scene.CreateAnchor(
                            scene_pb2.CreateAnchorRequest(session_id=sid, pose_world_anchor=anchor_pose, label=f"a{i}")
                        )
                        created.append((r.anchor.created_time_s, r.anchor.anchor_id))
                        live.append(r.anchor.anchor_id)
                    except grpc.aio.AioRpcError:
                        errors["driver"] += 1
                    finally:
                        creating[0] -= 1

                async def delete(anchor_id: str) -> None:
                    try:
                        await scene.DeleteAnchor(scene_pb2.DeleteAnchorRequest(session_id=sid, anchor_id=anchor_id))
                        deleted.append((time.time(), anchor_id))
                    except grpc.aio.AioRpcError:
                        errors["driver"] += 1

                # Create, or keep the scene at its window: delete the oldest (creations and deletions alternate).
                if anchor_window and live and len(live) + creating[0] >= anchor_window:
                    work = delete(live.popleft())
                else:
                    creating[0] += 1
                    work = one()
                fut = asyncio.ensure_future(work)  # do not wait: a slow answer must not slow the schedule
                pending.add(fut)
                fut.add_done_callback(pending.discard)

            hand_pose = Pose.from_rotation_translation(np.eye(3), np.array([0.1, -0.3, -0.4]))

            async def ingest(k: int) -> None:
                queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=4)

                async def requests() -> AsyncIterator[Any]:
                    yield sensor_pb2.StreamSensorDataRequest(
                        config=sensor_pb2.SensorStreamConfig(session_id=sid, stream_name=f"bench{k}",
                                                             ingest_mode=sensor_pb2.INGEST_MODE_REALTIME)
                    )  # fmt: skip
                    while (item := await queue.get()) is not None:
                        yield item

                call = sensor.StreamSensorData(requests())

                async def tick(i: int) -> None:
                    now = time.time()
                    msg = sensor_pb2.CameraFrame()
                    msg.CopyFrom(frames[i % len(frames)])
                    msg.sequence, msg.capture_time_s = i + 1, now
                    await queue.put(sensor_pb2.StreamSensorDataRequest(camera_frame=msg))
                    if k == 0 and psubs:  # a hand, so perception subscribers have something to receive
                        from ..perception import SyntheticHand, synthetic_hand_joints

                        hand = synthetic_hand_joints(SyntheticHand(), hand_pose, capture_time_s=now)
                        await queue.put(encode_sensor_item(hand))

                try:
                    await _periodic(rate_hz, stop, tick)
                finally:
                    await queue.put(None)
                    try:
                        await call
                    except grpc.aio.AioRpcError:
                        errors["driver"] += 1

            drivers = [asyncio.ensure_future(_periodic(rate_hz, stop, create))]
            drivers += [asyncio.ensure_future(ingest(k)) for k in range(ingest_streams)]
            log(
                f"driving {rate_hz:g} anchors/s and {ingest_streams} x {rate_hz:g} frames/s; warm-up {WARMUP_S:g} s ..."
            )
            await asyncio.sleep(WARMUP_S)
            settled = await _settle(proc.pid, settle_s, log) if settle_s > 0 else (0.0, 0.0, 0.0)
            fused0 = await stats()
            t0, rss0, cpu0, loop0 = time.time(), _rss_mb(proc.pid), _cpu_s(proc.pid), _loop_cpu_s(proc.pid)
            log(f"measuring {duration_s:g} s ...")
            rss_samples = [rss0]  # at each quarter of the window: filling levels off, a leak does not
            # And every few seconds, each process on its own: one reading can fall on a transient (an
            # autosave's copy of the map), and the trace says which process grew.
            trace: list[tuple[float, float, float]] = []
            step = max(0.5, min(5.0, duration_s / 40))
            for quarter in range(1, 5):
                while (now := time.time()) < t0 + duration_s * quarter / 4 - 1e-3:
                    server, *children = _tree(proc.pid)
                    trace.append((now - t0, _rss_one_mb(server), sum(_rss_one_mb(c) for c in children)))
                    await asyncio.sleep(min(step, t0 + duration_s * quarter / 4 - now))
                rss_samples.append(_rss_mb(proc.pid))
            t1, rss1, cpu1, loop1 = time.time(), rss_samples[-1], _cpu_s(proc.pid), _loop_cpu_s(proc.pid)
            fused1 = await stats()
            stop.set()
            await asyncio.gather(*drivers)
            await asyncio.gather(*pending, return_exceptions=True)
            await asyncio.sleep(GRACE_S)  # what was committed in the window is still on its way
            info = await stats()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    expected = {aid for ts, aid in created if t0 <= ts < t1}
    removed = {aid for ts, aid in deleted if t0 <= ts < t1}  # acknowledged, so committed before ts
    side = _Side(subs, (t0, t1), (rss0, rss1), cpu1 - cpu0, _minus(loop1, loop0), errors["driver"], expected, removed,
                 extra={"frames_received": int(info.frames_received), "frames_integrated": int(info.frames_integrated),
                        "frames_received_per_s": (fused1.frames_received - fused0.frames_received) / (t1 - t0),
                        "frames_fused_per_s": (fused1.frames_integrated - fused0.frames_integrated) / (t1 - t0),
                        "anchors_created": len(created), "anchors_deleted": len(deleted),
                        "anchors_live": len(live), "rss_samples_mb": rss_samples,
                        "rss_trace": trace, "rss_drift_median_mb": _median_drift_mb(trace),
                        "settle_s": settled[0], "settle_rss_mb": [settled[1], settled[2]]})  # fmt: skip
    perception = _Side(psubs, (t0, t1), (rss0, rss1), cpu1 - cpu0, _minus(loop1, loop0)) if psubs else None
    return side, perception


async def _run_baseline(subscribers: int, rate_hz: float, message_bytes: int, duration_s: float,
                        log: Callable[[str], None], cpus: str = "") -> _Side:  # fmt: skip
    log(f"starting the bare grpc.aio fan-out ({message_bytes} B messages) ...")
    args = ["-m", "sora_sdk.bench._load", "baseline", str(message_bytes), str(rate_hz), cpus]
    async with _process(*args) as (proc, port):
        target = f"127.0.0.1:{port}"
        subs = [_Subscriber() for _ in range(subscribers)]
        tasks = [asyncio.ensure_future(_baseline_subscriber(target, s)) for s in subs]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subs)), 60)
        await asyncio.sleep(WARMUP_S)
        t0, rss0, cpu0, loop0 = time.time(), _rss_mb(proc.pid), _cpu_s(proc.pid), _loop_cpu_s(proc.pid)
        log(f"measuring {duration_s:g} s ...")
        await asyncio.sleep(duration_s)
        t1, rss1, cpu1, loop1 = time.time(), _rss_mb(proc.pid), _cpu_s(proc.pid), _loop_cpu_s(proc.pid)
        await asyncio.sleep(GRACE_S)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return _Side(subs, (t0, t1), (rss0, rss1), cpu1 - cpu0, _minus(loop1, loop0))


#: The issue's bound on commit -> subscriber p99 latency with 100 subscribers at 30 Hz on 2 cores.
P99_TARGET_MS = 20.0


def split_cpus(spec: str) -> tuple[set[int], set[int]] | None:
    """(the servers' CPUs, the clients' CPUs) for ``pin_cpus``; None: nothing pinned.

    ``"auto"``: the first half of the CPUs this process may use for the servers, the rest for the clients
    (None with fewer than 2, or without CPU affinity: not Linux); ``"none"``; or ``"SERVERS:CLIENTS"``, two
    CPU lists (``"0-3:4-7"``).
    """
    if spec == "none":
        return None
    if spec == "auto":
        if not hasattr(os, "sched_getaffinity"):
            return None
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return None
        half = len(cpus) // 2
        return set(cpus[:half]), set(cpus[half:])
    servers, sep, clients = spec.partition(":")
    if not sep:
        raise ValueError(f"pin_cpus {spec!r}: auto, none or SERVERS:CLIENTS (0:1, 0-3:4-7)")
    pair = parse_cpu_list(servers), parse_cpu_list(clients)
    if not pair[0] or not pair[1]:
        raise ValueError(f"pin_cpus {spec!r}: both the servers' and the clients' CPUs are needed")
    return pair


def bench_load(
    subscribers: int = 100,
    rate_hz: float = 30.0,
    ingest_streams: int = 2,
    duration_s: float = 10.0,
    *,
    perception_subscribers: int = 0,
    include_mesh: bool = False,
    settle_s: float | None = None,
    anchor_window: int | None = None,
    server_args: Sequence[str] = (),
    pin_cpus: str = "auto",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Runs Sora and the bare fan-out baseline, one after the other; returns both and their ratios.

    ``settle_s``: at most this long, Sora's load runs before its window opens, until its RSS levels off
    (default :func:`settle_default_s`), so the drift is measured at steady state, not while it fills.
    ``anchor_window``: the most anchors the driver keeps (default: ten seconds' worth, ``10 * rate_hz``;
    0 keeps every one, so the scene grows for as long as the run lasts). ``server_args``: more ``sora serve``
    flags (``--server-background-nice 5``), to measure a configuration. ``pin_cpus``: where the servers and
    the clients run (:func:`split_cpus`; a ``--server-cpus`` in ``server_args`` wins for Sora).

    Keys: ``setup``; ``sora`` and ``baseline`` (see :meth:`_Side.summary`: ``delivered_hz_mean``,
    ``latency_p50_ms``, ``latency_p99_ms``, ``errors``, ``rss_drift_mb`` …); ``perception`` when
    perception subscribers ran; ``ratios`` (Sora / baseline); ``errors`` (Sora's, total).
    """
    if subscribers < 1 or rate_hz <= 0 or duration_s <= 0:
        raise ValueError("subscribers >= 1, rate_hz > 0 and duration_s > 0")
    settle = settle_default_s(duration_s) if settle_s is None else max(0.0, float(settle_s))
    window = round(10 * rate_hz) if anchor_window is None else max(0, int(anchor_window))
    split = split_cpus(pin_cpus)
    server_cpus = format_cpu_list(split[0]) if split else ""
    server_args = tuple(server_args)
    if server_cpus and not any(a.startswith("--server-cpus") for a in server_args):
        server_args += ("--server-cpus", server_cpus)
    with pinned(split[1]) if split else contextlib.nullcontext():
        sora_side, perception_side = asyncio.run(
            _run_sora(
                subscribers,
                perception_subscribers,
                rate_hz,
                ingest_streams,
                duration_s,
                include_mesh,
                settle,
                window,
                server_args,
                log,
            )
        )
        sora = sora_side.summary(rate_hz)
        size = max(16, round(sora["message_bytes_mean"]) or 64)
        baseline_s = min(duration_s, BASELINE_MAX_S)
        baseline = asyncio.run(_run_baseline(subscribers, rate_hz, size, baseline_s, log, server_cpus))
    baseline = baseline.summary(rate_hz)

    def ratio(key: str) -> float:
        b = baseline[key]
        return float(sora[key] / b) if b else float("nan")

    result: dict[str, Any] = {
        "setup": {
            "subscribers": subscribers,
            "perception_subscribers": perception_subscribers,
            "rate_hz": rate_hz,
            "ingest_streams": ingest_streams,
            "duration_s": duration_s,
            "include_mesh": include_mesh,
            "settle_s": settle,
            "anchor_window": window,
            "server_args": list(server_args),
            "cpus": f"servers {server_cpus}, clients {format_cpu_list(split[1])}" if split else "shared",
            "baseline_s": baseline_s,
            "message_bytes": size,
        },
        "sora": sora,
        "baseline": baseline,
        "ratios": {
            k: ratio(k)
            for k in ("delivered_hz_mean", "latency_p50_ms", "latency_p99_ms", "cpu_s_per_s", "loop_cpu_s_per_s")
        },
        "errors": sora["errors"] + (perception_side.summary(rate_hz)["streams_ended"] if perception_side else 0),
    }
    if perception_side is not None:
        result["perception"] = perception_side.summary(rate_hz)
    return result


def run_load(
    subscribers: int = 100,
    rate_hz: float = 30.0,
    ingest_streams: int = 2,
    duration_s: float = 10.0,
    *,
    perception_subscribers: int = 0,
    include_mesh: bool = False,
    settle_s: float | None = None,
    anchor_window: int | None = None,
    server_args: Sequence[str] = (),
    pin_cpus: str = "auto",
    log: Callable[[str], None] = print,
) -> tuple[Report, dict[str, Any]]:
    """:func:`bench_load` as a :class:`Report` (``sora bench load``), with the raw result."""
    from ._report import machine_info

    r = bench_load(
        subscribers,
        rate_hz,
        ingest_streams,
        duration_s,
        perception_subscribers=perception_subscribers,
        include_mesh=include_mesh,
        settle_s=settle_s,
        anchor_window=anchor_window,
        server_args=server_args,
        pin_cpus=pin_cpus,
        log=log,
    )
    s, b = r["sora"], r["baseline"]
    report = Report("load", machine_info("CPU:0"), setup=dict(r["setup"]))
    note = "baseline: bare grpc.aio fan-out of same-sized messages to as many subscribers, same run"
    report.add(
        Metric(
            "delivered_rate",
            "updates/s each subscriber received (mean)",
            s["delivered_hz_mean"],
            b["delivered_hz_mean"],
            "1/s",
            r["ratios"]["delivered_hz_mean"],
            0.95,
            "min",
            note=note,
            details={
                "sora_min_hz": s["delivered_hz_min"],
                "baseline_min_hz": b["delivered_hz_min"],
                "target_hz": rate_hz,
            },
        )
    )
    report.add(
        Metric(
            "latency_p50",
            "commit -> subscriber latency, p50",
            s["latency_p50_ms"],
            b["latency_p50_ms"],
            "ms",
            r["ratios"]["latency_p50_ms"],
            note="one host, one clock",
        )
    )
    report.add(
        Metric(
            "latency_p99",
            "commit -> subscriber latency, p99",
            s["latency_p99_ms"],
            b["latency_p99_ms"],
            "ms",
            r["ratios"]["latency_p99_ms"],
            note=f"absolute target < {P99_TARGET_MS:g} ms: {'PASS' if s['latency_p99_ms'] < P99_TARGET_MS else 'MISS'}",
            details={
                "sora_max_ms": s["latency_max_ms"],
                "baseline_max_ms": b["latency_max_ms"],
                "target_ms": P99_TARGET_MS,
            },
        )
    )
    report.add(
        Metric(
            "server_cpu",
            "server CPU seconds per second",
            s["cpu_s_per_s"],
            b["cpu_s_per_s"],
            "s/s",
            r["ratios"]["cpu_s_per_s"],
            note=f"Sora also fuses the ingest streams' frames: {s.get('frames_fused_per_s', 0.0):.1f} of "
            f"{s.get('frames_received_per_s', 0.0):.1f} a second in the window (REALTIME streams drop what the map "
            "cannot keep up with)",
            details={
                "frames_fused_per_s": s.get("frames_fused_per_s", 0.0),
                "frames_received_per_s": s.get("frames_received_per_s", 0.0),
            },
        )
    )
    report.add(
        Metric(
            "loop_cpu",
            "serving event loop CPU seconds per second",
            s["loop_cpu_s_per_s"],
            b["loop_cpu_s_per_s"],
            "s/s",
            r["ratios"]["loop_cpu_s_per_s"],
            note="the server's main thread, which runs every stream's writes (Sora's also takes in the frames): "
            "near 1 s/s, each update waits for the whole fan-out of the one before; runnable but waiting for a CPU: "
            f"{s['loop_runqueue_s_per_s']:.2f} s/s (baseline {b['loop_runqueue_s_per_s']:.2f})",
            details={
                "sora_runqueue_s_per_s": s["loop_runqueue_s_per_s"],
                "baseline_runqueue_s_per_s": b["loop_runqueue_s_per_s"],
            },
        )
    )
    drift_ratio = (s["rss_drift_mb"] + 1.0) / (abs(b["rss_drift_mb"]) + 1.0)
    report.add(
        Metric(
            "rss_drift",
            "server RSS drift over the window",
            s["rss_drift_mb"],
            b["rss_drift_mb"],
            "MiB",
            drift_ratio,
            ratio_is="(drift + 1) / (|baseline drift| + 1)",
            note=f"{100 * s['rss_drift_mb'] / max(s['rss_start_mb'], 1e-9):.1f} % of the starting RSS (soak: < 5 %); "
            f"second half of the window {_second_half_mb(s['rss_samples_mb']):+.0f} MiB; median of the window's "
            "last tenth less its first: serving process {:+.0f}, map process {:+.0f} MiB".format(
                *s.get("rss_drift_median_mb", [float("nan")] * 2)
            )
            + (
                f"; window opened after a {s['settle_s']:.0f} s warm-up in which RSS filled "
                f"{s['settle_rss_mb'][0]:.0f} -> {s['settle_rss_mb'][1]:.0f} MiB"
                if s["settle_s"]
                else "; no warm-up to steady state (runs under 60 s; --settle-s)"
            ),
            details={
                "sora_rss_mb": [s["rss_start_mb"], s["rss_end_mb"]],
                "sora_rss_samples_mb": s["rss_samples_mb"],
                "sora_rss_drift_median_mb": s.get("rss_drift_median_mb"),
                "sora_rss_trace": s.get("rss_trace"),  # (s into the window, serving MiB, map process MiB)
                "settle_s": s["settle_s"],
                "settle_rss_mb": s["settle_rss_mb"],
                "baseline_rss_mb": [b["rss_start_mb"], b["rss_end_mb"]],
            },
        )
    )
    errors = float(r["errors"])
    report.add(
        Metric(
            "errors",
            "errors (ended streams, failed calls, missed updates)",
            errors,
            float(b["errors"]),
            "",
            errors + 1.0,
            1.0,
            "max",
            ratio_is="errors + 1",
            details={
                "streams_ended": s["streams_ended"],
                "driver_errors": s["driver_errors"],
                "missing_updates": s["missing_updates"],
                "stream_errors": s["stream_errors"],
            },
        )
    )
    if "perception" in r:
        p = r["perception"]
        report.add(
            Metric(
                "perception_latency_p50",
                "hand sample in -> perception subscriber, p50",
                p["latency_p50_ms"],
                b["latency_p50_ms"],
                "ms",
                p["latency_p50_ms"] / b["latency_p50_ms"],
                note=f"{p['subscribers']} subscribers; latest-wins, {p['delivered_hz_mean']:.1f}/s each",
                details=p,
            )
        )
    return report, r


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "baseline":
        _serve_baseline(int(sys.argv[2]), float(sys.argv[3]), *sys.argv[4:])
    else:
        sys.exit("usage: python -m sora_sdk.bench._load baseline MESSAGE_BYTES RATE_HZ [CPUS]")
