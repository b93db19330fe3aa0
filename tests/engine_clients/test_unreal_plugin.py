"""The Unreal plugin skeleton stages into a project folder with the C++ client and its stubs.

No Unreal Engine runs here: the staged layout, the plugin descriptor and the module's Build.cs
(C#, parsed with tree-sitter) are checked; the C++ it wraps is the client test_cpp_interop.py
builds and runs, and the coordinate conversion is in its unit tests.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import tree_sitter_c_sharp
from engine_client_support import ROOT, require_tool
from tree_sitter import Language, Parser

PLUGIN = ROOT / "clients" / "unreal" / "SoraSdk"


def _stage_tool():
    spec = importlib.util.spec_from_file_location(
        "sora_stage_unreal", ROOT / "scripts" / "engine_clients" / "stage_unreal_plugin.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_plugin_descriptor_declares_the_runtime_module() -> None:
    plugin = json.loads((PLUGIN / "SoraSdk.uplugin").read_text())
    assert [m["Name"] for m in plugin["Modules"]] == ["SoraSdk"]
    assert plugin["Modules"][0]["Type"] == "Runtime"
    assert {"Name": "ProceduralMeshComponent", "Enabled": True} in plugin["Plugins"]


def test_build_rules_parse_as_csharp() -> None:
    source = (PLUGIN / "Source" / "SoraSdk" / "SoraSdk.Build.cs").read_bytes()
    tree = Parser(Language(tree_sitter_c_sharp.language())).parse(source)
    assert not tree.root_node.has_error
    assert b"class SoraSdk : ModuleRules" in source


def test_wrapper_exposes_delegates_for_scene_gesture_gaze_and_avatar_events() -> None:
    header = (PLUGIN / "Source" / "SoraSdk" / "Public" / "SoraSession.h").read_text()
    for delegate in ("OnChunkUpdated", "OnChunkRemoved", "OnGesture", "OnGazeTargetChanged", "OnAvatarText",
                     "OnAvatarAudio", "OnAvatarVisemes", "OnAvatarTurnEnd"):  # fmt: skip
        assert f"{delegate};" in header, delegate
    assert "UCLASS(BlueprintType)" in header


def test_stage_copies_client_and_generates_stubs(tmp_path: Path) -> None:
    protoc = require_tool("protoc")
    plugin = require_tool("grpc_cpp_plugin")
    client = _stage_tool().stage(tmp_path / "SoraSdk", protoc, plugin)
    assert (tmp_path / "SoraSdk" / "SoraSdk.uplugin").is_file()
    assert (client / "include" / "sora" / "client.h").is_file()
    assert (client / "include" / "sora" / "unreal_coordinates.h").is_file()
    assert {p.name for p in (client / "src").glob("*.cpp")} >= {"client.cpp", "watch.cpp", "unreal_coordinates.cpp"}
    gen = client / "gen" / "sora" / "v1"
    for name in ("types", "session", "sensor", "scene", "perception", "avatar"):
        for suffix in (".pb.h", ".pb.cpp", ".grpc.pb.h", ".grpc.pb.cpp"):
            assert (gen / f"{name}{suffix}").is_file(), f"{name}{suffix}"
    assert "libprotoc" in (client / "STAGED.txt").read_text()
