"""Paths and helpers shared by the engine-client tests (Unity package, C# codegen, C++ client).

These tests need the system packages of scripts/engine_clients/setup.sh (protoc,
grpc_cpp_plugin, the gRPC/protobuf C++ development files, CMake, Mono's mcs and NUnit's console
runner). A missing tool fails the test with the setup command to run; nothing is skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITY = ROOT / "unity_plugin"
CPP = ROOT / "clients" / "cpp"
BUILD = ROOT / "build" / "engine_clients"
SETUP_HINT = "run `bash scripts/engine_clients/setup.sh` (as root) to install it"


def require_tool(name: str) -> str:
    """The tool's path; fails the test when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` not found: {SETUP_HINT}")
    return path


def run(cmd: list[str], *, cwd: Path | None = None, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs a command and fails the test with its output when it exits non-zero."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited with {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
        )
    return proc


def nunit_framework() -> str:
    """nunit.framework.dll of Debian's NUnit 2.6 (libnunit-cil-dev), via its pkg-config file."""
    try:
        libs = subprocess.run(
            ["pkg-config", "--libs", "nunit"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        libs = ""
    for ref in re.findall(r"-r:(\S+)", libs):
        if ref.endswith("nunit.framework.dll") and Path(ref).is_file():
            return ref
    found = sorted(Path("/usr/lib/cli").glob("nunit.framework-*/nunit.framework.dll"))
    if not found:
        pytest.fail("nunit.framework.dll not found: run `bash scripts/engine_clients/setup.sh` (libnunit-cil-dev)")
    return str(found[-1])
