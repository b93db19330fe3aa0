"""The public API is frozen: changing it must be a deliberate edit of this test."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import sora_sdk
from sora_sdk.client import Conversation, Session, SoraClient

ROOT = Path(__file__).resolve().parents[1]


def test_top_level_all_is_frozen() -> None:
    assert sorted(sora_sdk.__all__) == sorted([
        "AlreadyExistsError", "CameraFrame", "DataLossError", "FailedPreconditionError", "FieldViolation",
        "InternalError", "Intrinsics", "InvalidArgumentError", "NotFoundError", "OutOfRangeError",
        "PermissionDeniedError", "Pose", "ResourceExhaustedError", "SoraConfig", "SoraError",
        "UnauthenticatedError", "UnavailableError", "__version__", "load_config",
    ])  # fmt: skip
    for name in sora_sdk.__all__:
        assert hasattr(sora_sdk, name)


def _public_methods(cls: type) -> list[str]:
    return sorted(n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_"))


def test_client_methods_are_frozen() -> None:
    assert _public_methods(SoraClient) == [
        "capabilities", "close", "create_session", "health", "list_sessions", "session", "wait_ready",
    ]  # fmt: skip
    assert _public_methods(Session) == [
        "close", "converse", "create_anchor", "delete_anchor", "export_map", "find_objects", "get_scene",
        "list_anchors", "load_map", "raycast", "refresh", "save_map", "stream_frames", "stream_sensor_data",
        "watch_perception", "watch_scene",
    ]  # fmt: skip
    assert _public_methods(Conversation) == [
        "cancel", "done_sending", "events", "interrupt", "say", "send_audio", "turn",
    ]  # fmt: skip


def test_errors_share_one_root() -> None:
    for name in sora_sdk.__all__:
        obj = getattr(sora_sdk, name)
        if name.endswith("Error"):
            assert issubclass(obj, sora_sdk.SoraError)


def test_protos_pass_buf_lint() -> None:
    buf = Path(sys.executable).with_name("buf")
    res = subprocess.run([str(buf), "lint"], cwd=ROOT / "protos", capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_generated_stubs_match_the_protos() -> None:
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--check"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr
