"""The Unity package's C#: every file parses, compiles against stand-in APIs, and the generated
API matches the protos.

No Unity editor or .NET SDK runs here. The engine-independent core is compiled and unit-tested
for real (test_unity_core_nunit.py); the rest is checked in two ways: every file parses with
tree-sitter's C# grammar, and every assembly compiles under Mono against stand-ins of UnityEngine,
Grpc.Core/Grpc.Net.Client, YetAnotherHttpHandler and Google.Protobuf (csharp_stand_ins/, plus
message stand-ins generated from the protos), which catches inconsistencies within the package
but not mistakes about the real libraries. The generated message classes and client stubs are
regenerated into a temporary folder by scripts/engine_clients/gen_csharp.py and must equal the
committed ones.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import tree_sitter_c_sharp
from engine_client_support import ROOT, UNITY, nunit_framework, require_tool, run
from tree_sitter import Language, Node, Parser

CSHARP = Language(tree_sitter_c_sharp.language())


def _problems(node: Node, source: bytes, path: Path, out: list[str]) -> None:
    if node.type == "ERROR" or node.is_missing:
        line = source.splitlines()[node.start_point[0]].decode(errors="replace").strip() if source else ""
        what = f"missing {node.type}" if node.is_missing else "syntax error"
        out.append(
            f"{path.relative_to(ROOT)}:{node.start_point[0] + 1}:{node.start_point[1] + 1}: {what}: {line[:120]}"
        )
        return
    if node.has_error:
        for child in node.children:
            _problems(child, source, path, out)


def _cs_files() -> list[Path]:
    return sorted(UNITY.rglob("*.cs"))


def test_every_csharp_file_parses_without_errors() -> None:
    files = _cs_files()
    # The package's parts must all be here: runtime, core, generated API, editor, tests, samples.
    folders = {p.relative_to(UNITY).parts[0] + "/" + p.relative_to(UNITY).parts[1] for p in files}
    for expected in ("Runtime/Core", "Runtime/Generated", "Tests/Core", "Tests/Runtime", "Tests/Editor"):
        assert expected in folders, f"no C# under unity_plugin/{expected}"
    assert any(p.parts[-3] == "Samples~" for p in files)
    parser = Parser(CSHARP)
    problems: list[str] = []
    for path in files:
        source = path.read_bytes()
        tree = parser.parse(source)
        _problems(tree.root_node, source, path, problems)
    assert not problems, f"{len(problems)} parse problems:\n" + "\n".join(problems[:50])


def _codegen():
    path = ROOT / "scripts" / "engine_clients" / "gen_csharp.py"
    spec = importlib.util.spec_from_file_location("sora_gen_csharp", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_generated_csharp_matches_the_protos() -> None:
    require_tool("protoc")
    problems = _codegen().check()
    assert not problems, (
        "unity_plugin/Runtime/Generated is stale; run `.venv/bin/python scripts/engine_clients/gen_csharp.py`\n"
        + "\n".join(problems)
    )


def test_generated_stubs_cover_every_service_and_method() -> None:
    from google.protobuf import descriptor_pb2  # noqa: F401  (the generator needs protobuf)

    gen = _codegen()
    fds = gen.descriptor_set(gen.find_protoc())
    for f in fds.file:
        for service in f.service:
            stub = (UNITY / "Runtime" / "Generated" / f"{gen._pascal(Path(f.name).stem)}Grpc.cs").read_text()
            assert f"public partial class {service.name}Client : grpc::ClientBase<{service.name}Client>" in stub
            for m in service.method:
                assert f'"{m.name}"' in stub, f"{service.name}.{m.name} has no stub"


@pytest.mark.parametrize(
    "snippet",
    [
        "class A : B\n#if X\n, C\n#endif\n{ }",  # the construct gen_csharp.py rewrites
    ],
)
def test_parser_flags_a_directive_inside_a_base_list(snippet: str) -> None:
    # Guards the rewrite in gen_csharp.py: should the grammar learn this, the rewrite can go.
    tree = Parser(CSHARP).parse(snippet.encode())
    assert tree.root_node.has_error


# ---- compile check against stand-in APIs ---------------------------------------------------

STAND_INS = Path(__file__).parent / "csharp_stand_ins"


def _message_stand_ins(gen) -> str:
    """C# classes with the public surface protoc gives the messages (properties, repeated fields,
    enums, oneof cases), generated from the same descriptors, for compiling code that uses them."""
    from google.protobuf import descriptor_pb2

    t = descriptor_pb2.FieldDescriptorProto
    scalar = {
        t.TYPE_DOUBLE: "double", t.TYPE_FLOAT: "float", t.TYPE_INT64: "long", t.TYPE_UINT64: "ulong",
        t.TYPE_INT32: "int", t.TYPE_UINT32: "uint", t.TYPE_BOOL: "bool", t.TYPE_STRING: "string",
        t.TYPE_BYTES: "pb::ByteString", t.TYPE_SINT32: "int", t.TYPE_SINT64: "long",
        t.TYPE_FIXED32: "uint", t.TYPE_FIXED64: "ulong",
    }  # fmt: skip

    def prop(name: str) -> str:  # protoc's C# property naming: capitalise after "_" and digits
        out, cap = [], True
        for ch in name:
            if ch == "_":
                cap = True
            elif ch.isdigit():
                out.append(ch)
                cap = True
            else:
                out.append(ch.upper() if cap else ch)
                cap = False
        return "".join(out)

    def enum_value(enum: str, value: str) -> str:
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum).upper() + "_"
        rest = value.removeprefix(prefix)
        return "".join(p.capitalize() for p in rest.split("_") if p)

    def ftype(f) -> str:
        if f.type in (t.TYPE_MESSAGE, t.TYPE_ENUM):
            return "global::Sora.V1." + f.type_name.split(".")[-1]
        return scalar[f.type]

    lines = ["using pb = global::Google.Protobuf;", "namespace Sora.V1 {"]
    for f in gen.descriptor_set(gen.find_protoc()).file:
        descriptor = "public static pb::Reflection.FileDescriptor Descriptor { get { return null; } }"
        lines.append(f"public static class {gen._reflection_class(f)} {{ {descriptor} }}")
        for e in f.enum_type:
            values = ", ".join(f"{enum_value(e.name, v.name)} = {v.number}" for v in e.value)
            lines.append(f"public enum {e.name} {{ {values} }}")
        for m in f.message_type:
            lines.append(f"public sealed partial class {m.name} : pb::IMessage<{m.name}>, pb::IBufferMessage {{")
            lines.append(f"  public static pb::MessageParser<{m.name}> Parser {{ get {{ return null; }} }}")
            lines.append("  public int CalculateSize() { return 0; }")
            oneofs: dict[int, list[tuple[str, int]]] = {}
            for fl in m.field:
                if fl.label == t.LABEL_REPEATED:
                    repeated = f"global::Google.Protobuf.Collections.RepeatedField<{ftype(fl)}>"
                    lines.append(f"  public {repeated} {prop(fl.name)} {{ get {{ return null; }} }}")
                else:
                    lines.append(f"  public {ftype(fl)} {prop(fl.name)} {{ get; set; }}")
                if fl.HasField("oneof_index") and not fl.proto3_optional:
                    oneofs.setdefault(fl.oneof_index, []).append((prop(fl.name), fl.number))
            for index, fields in oneofs.items():
                case = prop(m.oneof_decl[index].name)
                values = ", ".join(["None = 0", *(f"{n} = {num}" for n, num in fields)])
                lines.append(f"  public enum {case}OneofCase {{ {values} }}")
                lines.append(f"  public {case}OneofCase {case}Case {{ get {{ return default({case}OneofCase); }} }}")
            lines.append("}")
    lines.append("}")
    return "\n".join(lines)


def test_stand_ins_mirror_the_generated_message_api() -> None:
    # The stand-ins must offer every property and enum value the real generated classes have.
    gen = _codegen()
    stand_ins = _message_stand_ins(gen)
    declared = set(re.findall(r"public [\w.:<>]+ (\w+) \{", stand_ins)) | set(re.findall(r"(\w+) = \d+", stand_ins))
    real: set[str] = set()
    for path in (UNITY / "Runtime" / "Generated").glob("*.cs"):
        if path.name.endswith("Grpc.cs"):
            continue
        text = path.read_text()
        real |= set(
            re.findall(
                r"^    public (?:global::[\w.]+|pbc::RepeatedField<[^>]+>|pb::ByteString|\w+) (\w+) \{", text, re.M
            )
        )
        real |= set(re.findall(r'\[pbr::OriginalName\("[A-Z0-9_]+"\)\] (\w+) =', text))
    assert real - declared == set()


def test_package_compiles_against_stand_in_apis(tmp_path: Path) -> None:
    """Every assembly of the package compiles with mcs against stand-ins of the libraries it uses
    (and with the optional AR Foundation / XR Hands / Input System / Android code switched on)."""
    mcs = require_tool("mcs")
    gen = _codegen()
    (tmp_path / "Messages.cs").write_text(_message_stand_ins(gen))
    stand = {p.stem: str(p) for p in STAND_INS.glob("*.cs")}

    def build(name: str, sources: list[str], refs: list[str], defines: tuple[str, ...] = ()) -> str:
        out = str(tmp_path / f"{name}.dll")
        cmd = [mcs, "-target:library", "-nowarn:0414,0649,1591", f"-out:{out}", *(f"-d:{d}" for d in defines)]
        run([*cmd, *(f"-r:{r}" for r in refs), *sources])
        return out

    def cs(folder: str) -> list[str]:
        return sorted(str(p) for p in (UNITY / folder).glob("*.cs"))

    unity = build("UnityEngine", [stand["UnityEngine"]], [])
    editor_api = build("UnityEditor", [stand["UnityEditor"]], [unity])
    xr = build("UnityXR", [stand["UnityXR"]], [unity])
    core = build("Sora.Sdk.Core", cs("Runtime/Core"), [])
    stubs = sorted(str(p) for p in (UNITY / "Runtime" / "Generated").glob("*Grpc.cs"))
    api = build("Sora.Sdk.Api", [stand["GoogleProtobuf"], stand["Grpc"], str(tmp_path / "Messages.cs"), *stubs], [])
    base = [unity, editor_api, core, api]
    build("Sora.Sdk.Optional", cs("Runtime"), [*base, xr],
          ("SORA_AR_FOUNDATION", "SORA_XR_HANDS", "SORA_INPUT_SYSTEM", "UNITY_ANDROID"))  # fmt: skip
    runtime = build("Sora.Sdk", cs("Runtime"), base)
    sdk_editor = build("Sora.Sdk.Editor", cs("Editor"), [*base, runtime])
    build("Sora.Sdk.Editor.Setup", cs("Editor/Setup"), [unity, editor_api, "System.Core.dll"])
    nunit = nunit_framework()
    build("Sora.Sdk.Tests", cs("Tests/Runtime"), [*base, runtime, nunit])
    build("Sora.Sdk.Editor.Tests", cs("Tests/Editor"), [*base, runtime, sdk_editor, nunit])
    for sample in ("RoomScan", "GesturesAndGaze", "TalkingAvatar"):
        build(f"Sora.Samples.{sample}", cs(f"Samples~/{sample}"), [*base, runtime])
