"""The Unity package is a valid UPM package: manifest, one assembly definition per folder,
samples with READMEs, and a .meta file for every asset (an immutable git package needs them).

What a Unity editor would check on import, checked here without one.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys

from engine_client_support import ROOT, UNITY


def _meta_tool():
    spec = importlib.util.spec_from_file_location(
        "sora_unity_meta", ROOT / "scripts" / "engine_clients" / "unity_meta.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_manifest_names_the_package_unity_version_and_samples() -> None:
    manifest = json.loads((UNITY / "package.json").read_text())
    assert manifest["name"] == "com.sora.sdk"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert re.fullmatch(r"20\d\d\.\d+", manifest["unity"])  # the minimum editor version
    samples = {s["path"]: s for s in manifest["samples"]}
    assert set(samples) == {"Samples~/RoomScan", "Samples~/GesturesAndGaze", "Samples~/TalkingAvatar"}
    for path in samples:
        folder = UNITY / path
        assert (folder / "README.md").is_file(), f"{path} has no README"
        assert list(folder.glob("*.unity")), f"{path} has no scene"
        assert list(folder.glob("*.cs")), f"{path} has no script"
    for required in ("CHANGELOG.md", "Documentation~/index.md", "Runtime", "Editor", "Tests/Runtime", "Tests/Editor"):
        assert (UNITY / required).exists(), required


def _asmdefs() -> dict[str, dict]:
    return {p.relative_to(UNITY).parent.as_posix(): json.loads(p.read_text()) for p in UNITY.rglob("*.asmdef")}


def test_every_code_folder_has_exactly_one_assembly_definition() -> None:
    asmdefs = _asmdefs()
    for folder in ("Runtime", "Runtime/Core", "Runtime/Generated", "Editor", "Editor/Setup", "Tests/Core",
                   "Tests/Runtime", "Tests/Editor", "Samples~/RoomScan", "Samples~/GesturesAndGaze",
                   "Samples~/TalkingAvatar"):  # fmt: skip
        assert folder in asmdefs, f"unity_plugin/{folder} has no .asmdef"
        assert len(list((UNITY / folder).glob("*.asmdef"))) == 1
    names = [a["name"] for a in asmdefs.values()]
    assert len(names) == len(set(names)), "assembly names must be unique"


def test_assembly_references_resolve_and_keep_the_layers_apart() -> None:
    asmdefs = {a["name"]: a for a in _asmdefs().values()}
    unity_modules = {
        "UnityEngine.TestRunner",
        "UnityEditor.TestRunner",
        "Unity.XR.ARFoundation",
        "Unity.XR.ARSubsystems",
        "Unity.XR.Hands",
        "Unity.InputSystem",
    }
    for name, a in asmdefs.items():
        for ref in a["references"]:
            assert ref in asmdefs or ref in unity_modules, f"{name} references unknown assembly {ref}"
    core = asmdefs["Sora.Sdk.Core"]
    assert core["references"] == [] and core["noEngineReferences"] is True
    assert asmdefs["Sora.Sdk.Api"]["references"] == []
    for editor in ("Sora.Sdk.Editor", "Sora.Sdk.Editor.Setup", "Sora.Sdk.Editor.Tests", "Sora.Sdk.Core.Tests"):
        assert asmdefs[editor]["includePlatforms"] == ["Editor"]
    for tests in ("Sora.Sdk.Tests", "Sora.Sdk.Editor.Tests", "Sora.Sdk.Core.Tests"):
        assert "UNITY_INCLUDE_TESTS" in asmdefs[tests]["defineConstraints"]
        assert "nunit.framework.dll" in asmdefs[tests]["precompiledReferences"]
    # The dependency check must compile while the transport libraries are missing.
    assert asmdefs["Sora.Sdk.Editor.Setup"]["references"] == []


def test_every_asset_has_a_meta_file_with_a_unique_guid() -> None:
    problems = _meta_tool().problems()
    assert not problems, "run `.venv/bin/python scripts/engine_clients/unity_meta.py`:\n" + "\n".join(problems)


def test_sample_scenes_reference_their_scripts_by_guid() -> None:
    tool = _meta_tool()
    for scene in UNITY.glob("Samples~/*/*.unity"):
        text = scene.read_text()
        assert text.startswith("%YAML 1.1\n%TAG !u! tag:unity3d.com,2011:\n")
        guids = re.findall(r"m_Script: \{fileID: 11500000, guid: ([0-9a-f]{32}), type: 3\}", text)
        assert guids, f"{scene.name} has no script component"
        scripts = {tool.read_guid(cs): cs.name for cs in scene.parent.glob("*.cs")}
        for guid in guids:
            assert guid in scripts, f"{scene.name} references a script GUID {guid} not in its sample"


def test_the_coordinate_conversion_lives_in_one_place() -> None:
    # Axis swaps and winding flips happen only in Sora.Core.SoraCoordinates; the rest of the
    # package calls it. A second, hand-rolled conversion would drift.
    allowed = {"Runtime/Core/SoraCoordinates.cs"}
    pattern = re.compile(r"new Vec(tor)?3\(\s*\w+\.[Xx]\s*,\s*\w+\.[Zz]\s*,\s*\w+\.[Yy]\s*\)")
    offenders = [
        p.relative_to(UNITY).as_posix()
        for p in UNITY.rglob("*.cs")
        if "Generated" not in p.parts and "Tests" not in p.parts and pattern.search(p.read_text())
    ]
    assert set(offenders) <= allowed, f"Y/Z swaps outside SoraCoordinates: {offenders}"
