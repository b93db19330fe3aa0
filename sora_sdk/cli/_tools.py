"""``sora chat`` (talk to the avatar from a terminal) and ``sora perceive`` (perception over files)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf import json_format
from PIL import Image

from ..core.config import SoraConfig
from ..core.geometry import Intrinsics
from ..core.sensors import CameraFrame
from ._replay import embedded_or_remote

__all__ = ["run_chat", "run_perceive"]


def _read_wav(path: str) -> tuple[np.ndarray, int]:
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise SystemExit(f"{path}: only 16-bit PCM WAV files are supported")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())[:, 0]
        return pcm.astype(np.int16), w.getframerate()


async def run_chat(args: argparse.Namespace, config: SoraConfig) -> int:
    """Text turns from the command line or stdin, or a WAV file as speech; prints the streamed answer
    and saves the avatar's audio (WAV) and viseme track (JSON) to ``--out``."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    async with embedded_or_remote(config, args.server) as client:
        session = await (client.session(args.session) if args.session else client.create_session(display_name="chat"))
        conv = session.converse(speech=not args.no_speech)
        pcm: list[np.ndarray] = []
        visemes: list[dict[str, Any]] = []
        offset = 0.0

        async def answer() -> None:
            nonlocal offset
            turn_s = 0.0
            async for ev in conv.events():
                kind = ev.WhichOneof("event")
                if kind == "transcript":
                    print(f"you (heard): {ev.transcript.text}", flush=True)
                elif kind == "text_delta":
                    print(ev.text_delta.text, end="", flush=True)
                elif kind == "audio":
                    pcm.append(np.frombuffer(ev.audio.pcm16, dtype="<i2"))
                    turn_s = ev.audio.start_s + len(ev.audio.pcm16) / 2 / ev.audio.sample_rate_hz
                elif kind == "visemes":
                    visemes.extend(
                        {"viseme": k.viseme, "start_s": offset + k.start_s, "weight": k.weight} for k in ev.visemes.keys
                    )
                elif kind == "turn_end":
                    print(flush=True)
                    offset += turn_s
                    return

        if args.wav:
            audio, rate = _read_wav(args.wav)
            await conv.send_audio(audio, rate, end_of_utterance=True)
            await answer()
        texts = [args.text] if args.text else ([] if args.wav else None)
        if texts is None:
            print("type a message (empty line or Ctrl-D to quit)", file=sys.stderr)
            texts = []
            for line in sys.stdin:
                if not line.strip():
                    break
                await conv.say(line.strip())
                await answer()
        for text in texts:
            await conv.say(text)
            await answer()
        await conv.done_sending()
        conv.cancel()
    if pcm:
        with wave.open(str(out / "avatar.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            w.writeframes(np.concatenate(pcm).astype("<i2").tobytes())
    (out / "visemes.json").write_text(json.dumps(visemes))
    print(f"saved {out / 'avatar.wav'} ({offset:.1f} s) and {out / 'visemes.json'}", file=sys.stderr)
    return 0


def _frames_from(path: Path, fmt: str | None) -> list[CameraFrame]:
    if path.is_dir():
        from ..datasets import open_dataset

        return list(open_dataset(path, format=fmt))
    if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"):
        images = [np.asarray(Image.open(path).convert("RGB"))]
        rate = 1.0
    else:
        import cv2

        cap = cv2.VideoCapture(str(path))
        rate = cap.get(cv2.CAP_PROP_FPS) or 30.0
        images = []
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            images.append(bgr[:, :, ::-1].copy())
        cap.release()
        if not images:
            raise SystemExit(f"{path}: no frames could be read")
    h, w = images[0].shape[:2]
    # No calibration for a plain image or video: a 60-degree horizontal field of view.
    f = 0.5 * w / np.tan(np.radians(30))
    k = Intrinsics(w, h, f, f, (w - 1) / 2, (h - 1) / 2)
    return [CameraFrame(i + 1, i / rate, k, None, img, None) for i, img in enumerate(images)]


async def run_perceive(args: argparse.Namespace, config: SoraConfig) -> int:
    """Runs the service's perception over an image, a video or a dataset and writes every result."""
    frames = _frames_from(Path(args.path), args.format)
    results: list[dict[str, Any]] = []
    async with embedded_or_remote(config, args.server) as client:
        session = await client.create_session(display_name=f"perceive {Path(args.path).name}")
        stream = session.watch_perception(include_gaze=False)
        last_t = frames[-1].capture_time_s

        async def collect() -> None:
            async for msg in stream:
                results.append(json_format.MessageToDict(msg, preserving_proto_field_name=True))
                if msg.WhichOneof("item") == "hands" and msg.hands.capture_time_s >= last_t:
                    return

        collector = asyncio.create_task(collect())
        # One frame at a time: camera hands follow the newest frame, so wait for each to be seen.
        for frame in frames:
            await session.stream_frames([frame], lossless=True, color_encoding="png", stream_name="perceive")
        try:
            await asyncio.wait_for(collector, 30)
        except TimeoutError:
            collector.cancel()
        await session.close()
    hands = [r for r in results if "hands" in r]
    events = [r for r in results if "hands" not in r]
    print(f"{len(frames)} frames: {len(hands)} hand updates, {len(events)} events")
    for r in hands[-1:]:
        for h in r["hands"].get("hands", []):
            print(f"  hand {h.get('hand_id')} {h.get('handedness', '')} gesture {h.get('gesture', 'none')}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
        print(f"results: {args.json}")
    return 0
