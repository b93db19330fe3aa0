"""The ``sora`` command line: serve (with SIGTERM drain), replay, record, config flags."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from sora_sdk.cli.main import build_parser, main
from sora_sdk.client import SoraClient, encode_sensor_item
from sora_sdk.core.config import SoraConfig, load_config
from sora_sdk.datasets import RecordingReader, read_tum
from tests.conftest import TUM


def test_every_config_option_is_a_documented_serve_flag() -> None:
    help_text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    import dataclasses

    cfg = SoraConfig()
    for section in dataclasses.fields(cfg):
        for f in dataclasses.fields(getattr(cfg, section.name)):
            flag = f"--{section.name}-{f.name.replace('_', '-')}"
            assert flag in help_text, flag
            assert f.metadata.get("help"), f"{section.name}.{f.name} has no help"


def test_toml_config_and_overrides(tmp_path: Path) -> None:
    p = tmp_path / "sora.toml"
    p.write_text("[server]\nport = 6000\n[mapper]\nvoxel_size_m = 0.01\n")
    cfg = load_config(p, {"server.host": "0.0.0.0"})
    assert (cfg.server.port, cfg.server.host, cfg.mapper.voxel_size_m) == (6000, "0.0.0.0", 0.01)
    p.write_text("[mapper]\nvoxel_size = 0.01\n")
    with pytest.raises(ValueError, match="unknown option mapper.voxel_size"):
        load_config(p)


def test_serve_drains_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sora_sdk.cli.main", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"listening on ([\d.]+):(\d+)", line)
        assert m, line
        port = int(m.group(2))

        async def scenario() -> tuple[str, str]:
            async with SoraClient(f"127.0.0.1:{port}") as client:
                session = await client.create_session()
                stream = session.watch_scene(auto_resume=False)
                await stream.__anext__()
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(stream.__anext__(), 10)
                    return "no error", ""
                except Exception as exc:  # the stream must end, resumably
                    return type(exc).__name__, getattr(exc, "reason", "")

        kind, reason = asyncio.run(scenario())
        assert kind in ("UnavailableError",), kind
        assert reason == "SERVER_DRAINING"
        assert proc.wait(15) == 0
        out = proc.stdout.read()
        assert "draining" in out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_record_then_replay_is_bit_exact_and_exports(tmp_path: Path, capsys) -> None:
    rec = tmp_path / "desk.sorarec"
    assert main(["record", str(TUM), "--out", str(rec), "--frames", "0:5"]) == 0
    frames = list(read_tum(TUM, frames=slice(0, 5)))
    messages = list(RecordingReader(rec))
    assert len(messages) == 6  # config + 5 frames
    for raw, frame in zip(messages[1:], frames, strict=True):
        assert raw == encode_sensor_item(frame, color="png", depth="png").SerializeToString()

    mesh_a, scene_a = tmp_path / "a.ply", tmp_path / "a.json"
    mesh_b = tmp_path / "b.ply"
    assert (
        main(["replay", str(rec), "--no-progress", "--export-mesh", str(mesh_a), "--export-scene", str(scene_a)]) == 0
    )
    assert main(["replay", str(TUM), "--frames", "0:5", "--no-progress", "--export-mesh", str(mesh_b)]) == 0
    a, b = trimesh.load(mesh_a), trimesh.load(mesh_b)
    assert len(a.faces) > 5000
    # The recording carries exactly what replaying the dataset sends, so the maps are identical.
    assert len(a.faces) == len(b.faces)
    np.testing.assert_allclose(np.sort(a.vertices, axis=0), np.sort(b.vertices, axis=0), atol=1e-6)
    scene = json.loads(scene_a.read_text())
    assert int(scene["session"]["stats"]["frames_integrated"]) == 5
    assert "fused 5/5 frames" in capsys.readouterr().out


async def test_a_session_that_opted_in_is_recorded_and_replays_bit_exact(server, client, tum_frames) -> None:
    session = await client.create_session(recording_enabled=True)
    await session.stream_frames(tum_frames[:3], lossless=True, stream_name="head cam", color_encoding="jpeg")
    root = server.config.server.resolved_data_dir() / "recordings" / session.session_id
    (rec,) = list(root.iterdir())
    messages = list(RecordingReader(rec))
    assert len(messages) == 4 and RecordingReader(rec).header["stream_name"] == "head cam"
    for raw, frame in zip(messages[1:], tum_frames[:3], strict=True):
        assert raw == encode_sensor_item(frame, color="jpeg", depth="png").SerializeToString()
    # A session that did not opt in leaves nothing on disk.
    other = await client.create_session()
    await other.stream_frames(tum_frames[:1], lossless=True)
    assert not (root.parent / other.session_id).exists()


def test_perceive_an_image_writes_every_result(tmp_path: Path, capsys) -> None:
    out = tmp_path / "hands.json"
    assert main(["perceive", str(TUM.parent / "images" / "hands.jpg"), "--json", str(out),
                 "--server-data-dir", str(tmp_path)]) == 0  # fmt: skip
    results = json.loads(out.read_text())
    hands = [r["hands"]["hands"] for r in results if "hands" in r]
    assert hands and len(hands[-1]) == 2
    assert all(len(h["landmarks_px"]) == 21 for h in hands[-1])


def test_chat_answers_text_and_speech_and_saves_the_voice(tmp_path: Path, capsys) -> None:
    import wave

    from sora_sdk.dialogue import synthesize

    pcm, rate, _ = synthesize("what do you see")
    wav = tmp_path / "question.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate([np.zeros(rate // 2, np.int16), pcm, np.zeros(rate, np.int16)]).tobytes())
    out = tmp_path / "chat"
    args = ["--out", str(out), "--server-data-dir", str(tmp_path), "--dialogue-realtime-speech", "false"]
    assert main(["chat", "--wav", str(wav), *args]) == 0
    printed = capsys.readouterr().out
    assert "you (heard): what do you see" in printed
    with wave.open(str(out / "avatar.wav")) as w:
        assert w.getnframes() > w.getframerate() // 2  # the answer was spoken
    visemes = json.loads((out / "visemes.json").read_text())
    assert visemes and [v["start_s"] for v in visemes] == sorted(v["start_s"] for v in visemes)
