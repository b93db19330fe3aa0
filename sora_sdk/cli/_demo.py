"""``sora demo``: the main job on the embedded defaults, end to end over real gRPC.

Generates the sample room, starts an embedded server, streams the room's RGB-D frames with their
poses like a headset would, watches the mesh arrive chunk by chunk, looks at the table with a
scripted eye-gaze ray, asks the avatar what it sees, and writes the mesh and a picture of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..client import SceneMirror, SoraClient
from ..core.config import SoraConfig
from ..core.geometry import Intrinsics
from ..core.sensors import EyeGazeSample
from ..datasets import generate_room, orbit_trajectory, render
from ..server import create_server
from ._picture import render_mesh_picture
from ._replay import one_shot, scene_json, watch_into

__all__ = ["run_demo"]


def _write_wav(path: Path, pcm: np.ndarray, rate: int) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


def _say(text: str) -> None:
    print(text, flush=True)


def describe_objects(scene: Any) -> list[str]:
    """One line per object: label, colour, where it is, its size, and what it stands on."""
    planes = {p.plane_id: p.label for p in scene.planes}
    names = {o.object_id: o.label for o in scene.objects}
    from sora_sdk._proto.sora.v1 import scene_pb2

    plane_label = {v: k.removeprefix("PLANE_LABEL_").lower() for k, v in scene_pb2.PlaneLabel.items()}
    on: dict[str, str] = {}
    for r in scene.relations:
        if r.predicate == scene_pb2.RELATION_TYPE_ON:
            target = r.object_id
            label = plane_label.get(planes.get(target, 0), "")
            if label in ("", "other", "unspecified"):
                label = "raised surface"  # a shelf board or ledge: no floor, table or seat
            on[r.subject_id] = names.get(target) or label
    lines = []
    for o in sorted(scene.objects, key=lambda o: o.object_id):
        c = o.box.pose_world_box.position_m
        sz = o.box.size_m
        colour = f"{o.color_name} " if o.color_name and o.color_name not in o.label else ""
        support = f" on the {on[o.object_id]}" if o.object_id in on else ""
        lines.append(
            f"{o.object_id}  {colour}{o.label:<18} at ({c.x:+.2f}, {c.y:+.2f}, {c.z:+.2f}) m, "
            f"{sz.x * 100:.0f}x{sz.y * 100:.0f}x{sz.z * 100:.0f} cm{support}"
        )
    return lines


async def run_demo(args: argparse.Namespace, config: SoraConfig) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    _say(f"1/5 generating the sample room (seed {args.seed}) and rendering {args.frames} RGB-D frames …")
    room = generate_room(args.seed)
    w = args.width
    h = w * 3 // 4
    intr = Intrinsics(w, h, 0.8 * w, 0.8 * w, (w - 1) / 2, (h - 1) / 2)
    frames = render(room, orbit_trajectory(room, n_frames=args.frames), intr)
    _say(f"    {len(frames)} frames of {w}x{h} in {time.perf_counter() - t_start:.1f} s")

    running = await create_server(one_shot(config))
    _say(f"2/5 embedded Sora server on 127.0.0.1:{running.port} (CPU: the embedded defaults)")
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            caps = await client.capabilities()
            session = await client.create_session(display_name="demo room", user_id="demo")
            mirror = SceneMirror()
            ready = asyncio.Event()
            watcher = asyncio.create_task(watch_into(session, mirror, ready))
            await asyncio.wait_for(ready.wait(), 10)

            _say("3/5 streaming frames with camera poses; the mesh arrives as versioned chunks:")
            bar = None
            if not args.no_progress:
                from tqdm import tqdm

                bar = tqdm(total=len(frames), unit="frame", desc="    fusing", dynamic_ncols=True)

            def sent(_: object) -> None:
                if bar is not None:
                    bar.set_postfix(chunks=len(mirror.chunks), tris=mirror.triangle_count, v=mirror.deltas)
                    bar.update(1)

            t0 = time.perf_counter()
            summary = await session.stream_frames(frames, lossless=True, color_encoding="jpeg", on_sent=sent)
            fuse_s = time.perf_counter() - t0
            while mirror.position is None or mirror.position.sequence < summary.scene_position.sequence:
                await asyncio.sleep(0.01)
            if bar is not None:
                bar.set_postfix(chunks=len(mirror.chunks), tris=mirror.triangle_count, v=mirror.deltas)
                bar.close()
            _say(
                f"    fused {summary.frames_integrated} frames in {fuse_s:.1f} s "
                f"({summary.frames_integrated / max(fuse_s, 1e-9):.1f} frames/s); the subscriber received "
                f"{mirror.deltas} scene versions, {len(mirror.chunks)} chunks, {mirror.triangle_count} triangles"
            )

            scene_now = await session.get_scene()
            _say(
                f"    objects: {len(scene_now.objects)} found (the room holds {len(room.objects)}), "
                f"{len(scene_now.relations)} relations"
            )
            for line in describe_objects(scene_now):
                _say("      " + line)

            _say("4/5 looking at the table (scripted eye gaze) and asking the avatar:")
            table = np.asarray(room.table_center_world_m, dtype=np.float64)
            eye = np.asarray(frames[0].pose_world_camera.translation if frames[0].pose_world_camera else [0, 0, 1.5])
            perception = session.watch_perception(include_hands=False)
            gazes = [
                EyeGazeSample(100.0 + 0.1 * i, eye, (table - eye) / np.linalg.norm(table - eye), 0.95) for i in range(8)
            ]
            await session.stream_sensor_data(gazes, stream_name="eyes")
            last = None
            async for msg in perception:
                if msg.WhichOneof("item") == "gaze":
                    last = msg.gaze
                    if last.capture_time_s >= gazes[-1].capture_time_s:
                        break
            await perception.aclose()
            if last is not None and last.target.kind:
                _say(
                    f"    gaze hits the map {last.target.distance_m:.2f} m away at "
                    f"({last.target.point_world_m.x:.2f}, {last.target.point_world_m.y:.2f}, "
                    f"{last.target.point_world_m.z:.2f}); dwell {last.dwell_s:.1f} s"
                )
            conversation = session.converse(speech=True)
            answers = []
            pcm: list[np.ndarray] = []
            visemes: list[dict[str, object]] = []
            offset_s = 0.0
            questions = ["Hello!", "What do you see?", "What am I looking at?"]
            if scene_now.objects:
                questions.append("What is on the table?")
            for question in questions:
                events = await conversation.turn(question)
                answer = "".join(e.text_delta.text for e in events if e.WhichOneof("event") == "text_delta").strip()
                answers.append({"user": question, "avatar": answer})
                _say(f"    you: {question}\n    avatar: {answer}")
                turn_s = 0.0
                for e in events:
                    kind = e.WhichOneof("event")
                    if kind == "audio":
                        pcm.append(np.frombuffer(e.audio.pcm16, dtype="<i2"))
                        turn_s = e.audio.start_s + len(e.audio.pcm16) / 2 / e.audio.sample_rate_hz
                    elif kind == "visemes":
                        visemes += [{"viseme": k.viseme, "start_s": offset_s + k.start_s, "weight": k.weight}
                                    for k in e.visemes.keys]  # fmt: skip
                offset_s += turn_s
            await conversation.done_sending()
            conversation.cancel()
            _write_wav(out / "avatar.wav", np.concatenate(pcm) if pcm else np.zeros(0, np.int16), 22050)
            (out / "visemes.json").write_text(json.dumps(visemes))
            _say(f"    the avatar spoke {offset_s:.1f} s with {len(visemes)} viseme keys")

            _say("5/5 writing outputs …")
            mesh_path = out / "mesh.ply"
            await session.export_map(str(mesh_path))
            await session.export_map(str(out / "mesh.glb"))
            v, c, t = mirror.mesh_arrays()
            picture = out / "mesh.png"
            render_mesh_picture(v, c, t, str(picture))
            scene = await scene_json(session)
            scene["conversation"] = answers
            (out / "scene.json").write_text(json.dumps(scene, indent=2))
            watcher.cancel()
            info = await session.refresh()
            st = info.stats
            _say("")
            _say("What the service understood")
            _say(f"  device          {caps.device_name} ({'CUDA' if caps.device == 2 else 'CPU'})")
            _say(f"  frames          {st.frames_integrated} fused, {st.frames_dropped} dropped")
            _say(f"  mesh            {st.mesh_chunks} chunks, {st.mesh_triangles} triangles")
            _say(f"  fusion          {st.integrate_time_s * 1000:.1f} ms/frame, mesh update "
                 f"{st.mesh_update_time_s * 1000:.1f} ms")  # fmt: skip
            _say(f"  objects         {len(scene_now.objects)} tracked, {len(scene_now.relations)} relations")
            _say(f"  scene version   {st.scene_position.sequence}")
            _say(f"  outputs         {mesh_path}, {out / 'mesh.glb'}, {picture}, {out / 'scene.json'},")
            _say(f"                  {out / 'avatar.wav'}, {out / 'visemes.json'}")
            _say(f"  total time      {time.perf_counter() - t_start:.1f} s")
            await session.close()
    finally:
        await running.stop(0.5)
    return 0
