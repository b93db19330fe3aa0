"""``sora bench perception``: camera hands against bare MediaPipe, gesture latency, gaze throughput.

(a) the service's camera-hand tracker (tracking, IDs, 3D lifting) per frame over the bare
    ``mp.solutions.hands`` call on the same frames (target <= 1.10x);
(b) frame-in to gesture-event latency through a real server on loopback: device-hand samples go in
    on a sensor stream, the time until the matching GestureEvent START arrives on WatchPerception
    (p50, p99), against the bare loopback round trip of a unary call in the same run;
(c) gaze-target resolutions per second on the CPU (target >= 20,000/s), against a bare
    ``RaycastingScene`` ray cast of the same rays (the floor the tracker's bookkeeping adds to).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from ._report import Metric, Report, machine_info

__all__ = ["run_perception"]

_IMAGES = Path(__file__).resolve().parents[2] / "tests" / "data" / "images"


def _video_frames(n: int) -> list[np.ndarray]:
    """``hands.jpg`` drifting a few pixels per frame: a stream MediaPipe tracks, not re-detects."""
    image = np.asarray(Image.open(_IMAGES / "hands.jpg").convert("RGB"))
    return [np.roll(image, shift=(i % 10) * 3, axis=1) for i in range(n)]


async def _gesture_latency(samples: int) -> tuple[list[float], list[float]]:
    from sora_sdk.client import SoraClient
    from sora_sdk.core.config import SoraConfig
    from sora_sdk.core.geometry import Pose
    from sora_sdk.perception import SyntheticHand, synthetic_hand_joints
    from sora_sdk.server import create_server

    config = SoraConfig()
    config = config.with_overrides({"server.port": 0, "session.camera_hands": False})
    running = await create_server(config)
    latencies: list[float] = []
    rtts: list[float] = []
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            session = await client.create_session()
            for _ in range(20):
                t0 = time.perf_counter()
                await client.health()
                rtts.append(time.perf_counter() - t0)
            fist = SyntheticHand(curls=(1.0, 1.0, 1.0, 1.0, 1.0))
            palm = SyntheticHand()
            pose = Pose.from_rotation_translation(np.eye(3), np.array([0.1, -0.3, -0.4]))
            stream = session.watch_perception(include_hands=False, include_gaze=False)
            queue: asyncio.Queue[float] = asyncio.Queue()

            async def listen() -> None:
                async for msg in stream:
                    if msg.WhichOneof("item") == "gesture" and msg.gesture.phase == 1:
                        queue.put_nowait(time.perf_counter())

            listener = asyncio.create_task(listen())
            t = 0.0
            for i in range(samples):
                hand = fist if i % 2 else palm
                # Hold each pose long enough for the hysteresis to accept it, then time the switch.
                warm = [synthetic_hand_joints(hand, pose, capture_time_s=t + k * 0.02) for k in range(6)]
                t += 0.2
                sent = time.perf_counter()
                await session.stream_sensor_data(warm, stream_name=f"hand{i}")
                try:
                    arrived = await asyncio.wait_for(queue.get(), 5)
                    latencies.append(arrived - sent)
                except TimeoutError:
                    pass
                while not queue.empty():
                    queue.get_nowait()
            listener.cancel()
    finally:
        await running.stop(0.2)
    return latencies, rtts


def _bare_raycasts(n: int) -> float:
    import open3d as o3d
    import open3d.core as o3c

    scene = o3d.t.geometry.RaycastingScene()
    for k in range(5):
        box = o3d.t.geometry.TriangleMesh.from_legacy(o3d.geometry.TriangleMesh.create_box(0.1, 0.1, 0.1))
        box.translate(o3c.Tensor([k * 0.3 - 0.6, 0.7, -1.5], dtype=o3c.float32))
        scene.add_triangles(box)
    rays = np.zeros((1, 6), np.float32)
    rays[0, 1], rays[0, 5] = 1.5, -1.0
    t = o3c.Tensor(rays)
    t0 = time.perf_counter()
    for _ in range(n):
        scene.cast_rays(t)
    return n / (time.perf_counter() - t0)


def run_perception(frames: int = 40, *, log: Callable[[str], None] = print) -> Report:
    from sora_sdk.perception import bench_camera_hands, bench_gaze

    report = Report("perception", machine_info("CPU:0"), setup={"video_frames": frames, "image": "hands.jpg"})
    log(f"(a) camera hands on {frames} frames: tracker vs bare MediaPipe ...")
    hands = bench_camera_hands(_video_frames(frames))
    report.add(
        Metric(
            "hands_per_frame",
            "camera hands per frame (tracker / bare MediaPipe)",
            hands["tracker_ms"],
            hands["mediapipe_ms"],
            "ms",
            hands["ratio"],
            1.10,
            "max",
        )
    )
    log("(b) frame-in to gesture-event latency through the server ...")
    lat, rtt = asyncio.run(_gesture_latency(max(10, frames // 2)))
    if lat:
        p50, p99 = float(np.percentile(lat, 50)) * 1e3, float(np.percentile(lat, 99)) * 1e3
        base = float(np.median(rtt)) * 1e3
        report.add(Metric("gesture_latency_p50", "sensor stream in -> GestureEvent out, p50", p50, base, "ms",
                          p50 / base, None, "info", note=f"{len(lat)} events; baseline: unary round trip"))  # fmt: skip
        report.add(Metric("gesture_latency_p99", "sensor stream in -> GestureEvent out, p99", p99, base, "ms",
                          p99 / base, None, "info"))  # fmt: skip
    log("(c) gaze-target resolutions per second ...")
    rate = bench_gaze(20000)
    bare = _bare_raycasts(20000)
    report.add(
        Metric(
            "gaze_resolutions",
            "gaze resolutions per second (target >= 20,000/s)",
            rate,
            20000.0,
            "1/s",
            rate / 20000.0,
            1.0,
            "min",
            note=f"bare Open3D single-ray cast: {bare:,.0f}/s",
        )
    )
    return report
