"""The C++ client against the Python server on loopback: frames in, mesh chunks and avatar events out.

The C++ client shares no code with the Python SDK: its stubs are generated at build time by
protoc and grpc_cpp_plugin, and it decodes mesh chunks itself. The test builds it with CMake
(into build/engine_clients/cpp, reused between runs), runs its dataset example against a real
server, and checks the example's scene mirror against the server's own scene (GetScene through
the Python client): the same chunks at the same versions, the same counts and bounds.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from engine_client_support import BUILD, CPP, ROOT, require_tool, run

from sora_sdk.client import SoraClient, decode_chunk
from sora_sdk.server import SoraServer, create_server

TUM = ROOT / "tests" / "data" / "tum_fr1_desk_9frames"
REDWOOD = ROOT / "tests" / "data" / "redwood_livingroom1_5frames"

EXAMPLE = BUILD / "cpp" / "sora_stream_dataset"
UNIT_TESTS = BUILD / "cpp" / "sora_client_unit_tests"
_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


@dataclass(frozen=True)
class Line:
    topic: str
    fields: dict[str, str]


def _parse(stdout: str) -> list[Line]:
    lines = []
    for raw in stdout.splitlines():
        words = raw.split(" ", 2)
        topic = " ".join(w for w in words[:2] if "=" not in w)
        fields = {k: (v[1:-1].replace('\\"', '"') if v.startswith('"') else v) for k, v in _FIELD.findall(raw)}
        lines.append(Line(topic, fields))
    return lines


def _position(text: str) -> tuple[int, int]:
    epoch, seq = text.split(":")
    return int(epoch), int(seq)


@pytest.fixture(scope="module")
def cpp_example() -> Path:
    """Configures (once) and builds the C++ client and its example."""
    require_tool("cmake")
    require_tool("protoc")
    require_tool("grpc_cpp_plugin")
    build = BUILD / "cpp"
    if not (build / "CMakeCache.txt").is_file():
        run(["cmake", "-S", str(CPP), "-B", str(build), "-DCMAKE_BUILD_TYPE="], timeout_s=120)
    run(["cmake", "--build", str(build), "-j2"], timeout_s=400)
    assert EXAMPLE.is_file() and UNIT_TESTS.is_file()
    return EXAMPLE


def test_cpp_client_unit_tests_pass(cpp_example: Path) -> None:
    """Chunk decoding, the scene mirror's ordering rules and the Unreal coordinate conversion."""
    out = run([str(UNIT_TESTS)], timeout_s=60).stdout
    assert "0 failed" in out and "FAIL" not in out, out


@pytest.fixture
async def speech_server() -> AsyncIterator[SoraServer]:
    """A server that synthesises speech as fast as it can (not paced at playback speed)."""
    from tests.conftest import test_config

    running = await create_server(test_config(dialogue={"realtime_speech": False}))
    yield running
    await running.stop(0.2)


@pytest.fixture
async def token_server(tmp_path: Path) -> AsyncIterator[SoraServer]:
    """A server that wants `authorization: Bearer cpp-client-secret-0001` on every call."""
    from tests.conftest import test_config

    tokens = tmp_path / "tokens.toml"
    tokens.write_text('[[tokens]]\ntoken = "cpp-client-secret-0001"\nprincipal = "cpp"\n')
    running = await create_server(test_config(server={"auth_tokens_file": str(tokens)}))
    yield running
    await running.stop(0.2)


async def _run_example(exe: Path, port: int, *args: str, timeout_s: float = 120, expect_rc: int = 0) -> list[Line]:
    cmd = [str(exe), "--server", f"127.0.0.1:{port}", "--timeout-s", "60", *args]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"{shlex.join(cmd)} did not finish in {timeout_s} s")
    stdout = out.decode()
    assert proc.returncode == expect_rc, (
        f"{shlex.join(cmd)} exited {proc.returncode}\n{stdout[-4000:]}\n{err.decode()[-4000:]}"
    )
    return _parse(stdout)


async def _check_against_server(lines: list[Line], port: int) -> dict[str, str]:
    """The example's final mirror equals the server's scene; returns the `scene final` fields."""
    session_id = next(ln.fields["id"] for ln in lines if ln.topic == "session")
    final = next(ln.fields for ln in lines if ln.topic == "scene final")
    chunks = {
        (ln.fields["block"], int(ln.fields["version"]), int(ln.fields["vertices"]), int(ln.fields["triangles"]))
        for ln in lines
        if ln.topic == "scene chunk"
    }
    async with SoraClient(f"127.0.0.1:{port}") as client:
        session = await client.session(session_id)
        scene = await session.get_scene(include_mesh=True)

    assert _position(final["position"]) == (scene.position.epoch, scene.position.sequence)
    assert int(final["chunks"]) == len(scene.chunks) > 0
    assert int(final["triangles"]) == sum(c.triangle_count for c in scene.chunks) > 0
    assert int(final["vertices"]) == sum(c.vertex_count for c in scene.chunks)
    expected = {
        (f"{c.block.x},{c.block.y},{c.block.z}", c.version, c.vertex_count, c.triangle_count) for c in scene.chunks
    }
    assert chunks == expected

    # The C++ decoder (quantised uint16 positions) agrees with the Python one.
    vertices = np.concatenate([decode_chunk(c).vertices for c in scene.chunks])
    bounds = next(ln.fields for ln in lines if ln.topic == "scene bounds")
    np.testing.assert_allclose([float(v) for v in bounds["min"].split(",")], vertices.min(axis=0), atol=1e-3)
    np.testing.assert_allclose([float(v) for v in bounds["max"].split(",")], vertices.max(axis=0), atol=1e-3)
    return final


def _check_speech(lines: list[Line]) -> None:
    """Speech audio tiles each turn's timeline without gaps or overlaps, with lip-sync alongside."""
    turns: dict[str, list[Line]] = {}
    for ln in lines:
        if ln.topic in ("avatar audio", "avatar visemes", "avatar turn_end"):
            turns.setdefault(ln.fields["turn"], []).append(ln)
    assert turns
    for events in turns.values():
        audio = [ln.fields for ln in events if ln.topic == "avatar audio"]
        assert audio, "a spoken turn streams audio"
        assert any(ln.topic == "avatar visemes" and int(ln.fields["keys"]) > 0 for ln in events)
        end_s = 0.0
        for chunk in audio:
            assert float(chunk["start_s"]) == pytest.approx(end_s, abs=2e-3)
            end_s = float(chunk["start_s"]) + int(chunk["samples"]) / int(chunk["rate"])
        turn_end = next(ln.fields for ln in events if ln.topic == "avatar turn_end")
        assert float(turn_end["spoken_s"]) == pytest.approx(end_s, abs=0.05)


def _check_avatar(lines: list[Line], turns: int) -> None:
    events = [ln for ln in lines if ln.topic.startswith("avatar ") and ln.topic != "avatar say"]
    ends = [ln for ln in events if ln.topic == "avatar turn_end"]
    assert len(ends) == turns
    assert all(e.fields["reason"] == "completed" for e in ends)
    assert any(ln.topic == "avatar text" and ln.fields["text"].strip() for ln in events)
    # Ordered and resumable: positions increase by one within the conversation's epoch.
    seqs = [_position(ln.fields["position"])[1] for ln in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    # Every turn's events share its turn_id and end with its turn_end.
    assert events[-1].topic == "avatar turn_end"
    assert len({ln.fields["turn"] for ln in events}) == turns


async def test_cpp_example_streams_tum_and_resumes_scene_watch_and_talks(
    cpp_example: Path, speech_server: SoraServer
) -> None:
    server = speech_server
    lines = await _run_example(
        cpp_example,
        server.port,
        "--resume-after",
        "4",
        "--speech",
        "--say",
        "What do you see?",
        "--say",
        "Hello there",
        str(TUM),
    )
    assert lines[-1].topic == "done"
    assert next(ln.fields for ln in lines if ln.topic == "dataset") == {"format": "tum", "frames": "9"}
    ingests = [ln.fields for ln in lines if ln.topic == "ingest"]
    assert [int(i["integrated"]) for i in ingests] == [4, 5]

    final = await _check_against_server(lines, server.port)
    # One snapshot for the whole run: the second watch resumed with deltas from where the first stopped.
    assert final["snapshots"] == "1" and final["duplicates"] == "0"
    stopped = _position(next(ln.fields["position"] for ln in lines if ln.topic == "scene watch"))
    resumed = next(ln.fields for ln in lines if ln.topic == "scene resumed")
    assert resumed["kind"] == "delta"
    assert _position(resumed["position"]) == (stopped[0], stopped[1] + 1)
    assert _position(final["position"]) == _position(ingests[-1]["position"])

    _check_avatar(lines, turns=2)
    _check_speech(lines)


async def test_cpp_example_streams_redwood_jpeg_colour(cpp_example: Path, server: SoraServer) -> None:
    lines = await _run_example(cpp_example, server.port, "--say", "Hello", str(REDWOOD))
    assert lines[-1].topic == "done"
    ingest = next(ln.fields for ln in lines if ln.topic == "ingest")
    assert ingest["integrated"] == "5" and ingest["messages"] == "6"
    final = await _check_against_server(lines, server.port)
    assert final["snapshots"] == "1"
    _check_avatar(lines, turns=1)


async def test_cpp_example_sends_the_bearer_token_and_maps_the_refusal(
    cpp_example: Path, token_server: SoraServer
) -> None:
    refused = await _run_example(cpp_example, token_server.port, "--max-frames", "2", str(TUM), expect_rc=1)
    error = next(ln.fields for ln in refused if ln.topic == "error")
    assert error["code"] == "16" and error["reason"] == "NO_TOKEN"  # UNAUTHENTICATED, with the server's ErrorInfo
    accepted = await _run_example(
        cpp_example, token_server.port, "--token", "cpp-client-secret-0001", "--max-frames", "2", str(TUM)
    )
    assert accepted[-1].topic == "done"
    assert next(ln.fields for ln in accepted if ln.topic == "ingest")["integrated"] == "2"
