"""The Unity package's engine-independent core compiles under Mono and passes its NUnit tests.

unity_plugin/Runtime/Core (chunk bookkeeping and decoding, the coordinate conversion, viseme
scheduling against the audio clock, gapless streamed audio, reconnect-and-resume state, main-
thread marshalling, sensor budgets) is plain C# with no Unity or gRPC dependency; its tests in
unity_plugin/Tests/Core use only NUnit API that NUnit 2.6 (Debian's runner, here) and Unity's
NUnit 3 share, so the same files run in Unity's Test Runner.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from engine_client_support import UNITY, nunit_framework, require_tool, run

CORE = UNITY / "Runtime" / "Core"
CORE_TESTS = UNITY / "Tests" / "Core"


def test_core_has_no_unity_or_grpc_dependency() -> None:
    offending = [
        f"{p.name}:{n}: {line.strip()}"
        for p in sorted(CORE.glob("*.cs"))
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\b(UnityEngine|UnityEditor|Grpc|Google\.Protobuf)\b", line)
        and not line.lstrip().startswith("//")
    ]
    assert not offending, "the core must stay engine- and transport-free:\n" + "\n".join(offending)


def test_core_compiles_and_passes_its_nunit_tests_under_mono(tmp_path: Path) -> None:
    mcs = require_tool("mcs")
    console = require_tool("nunit-console")
    framework = nunit_framework()
    core_dll = tmp_path / "Sora.Sdk.Core.dll"
    tests_dll = tmp_path / "Sora.Sdk.Core.Tests.dll"
    sources = sorted(str(p) for p in CORE.glob("*.cs"))
    test_sources = sorted(str(p) for p in CORE_TESTS.glob("*.cs"))
    assert sources and test_sources

    # Warnings are errors: the core is small enough to keep clean, and Unity shows them to users.
    run([mcs, "-target:library", "-warnaserror+", f"-out:{core_dll}", *sources])
    run(
        [
            mcs,
            "-target:library",
            "-warnaserror+",
            f"-out:{tests_dll}",
            f"-r:{core_dll}",
            f"-r:{framework}",
            *test_sources,
        ]
    )

    result = tmp_path / "TestResult.xml"
    proc = subprocess.run(
        [console, "-nologo", "-noshadow", f"-xml={result}", str(tests_dll)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.is_file(), f"nunit-console wrote no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    root = ET.parse(result).getroot()
    failed = [
        f"{case.get('name')}: {(case.findtext('failure/message') or '').strip()}"
        for case in root.iter("test-case")
        if case.get("success") == "False" or case.get("executed") == "False"
    ]
    assert not failed, "NUnit failures:\n" + "\n".join(failed) + "\n" + proc.stdout[-3000:]
    total = int(root.get("total", "0"))
    for attribute in ("errors", "failures", "not-run", "inconclusive", "ignored", "skipped", "invalid"):
        assert root.get(attribute, "0") == "0", f"{attribute}={root.get(attribute)}\n{proc.stdout[-3000:]}"
    assert total >= 80, f"expected the whole core suite to run, ran {total}"
    assert proc.returncode == 0, proc.stdout[-3000:]
