"""The Unity package's C#: every file parses, and the generated API matches the protos.

No Unity editor or .NET SDK runs here, so the C# outside the engine-independent core (which
test_unity_core_nunit.py compiles and tests) is checked for syntax with tree-sitter's C# grammar.
The generated message classes and client stubs are regenerated into a temporary folder by
scripts/engine_clients/gen_csharp.py and must equal the committed ones.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import tree_sitter_c_sharp
from engine_client_support import ROOT, UNITY, require_tool
from tree_sitter import Language, Node, Parser

CSHARP = Language(tree_sitter_c_sharp.language())


def _problems(node: Node, source: bytes, path: Path, out: list[str]) -> None:
    if node.type == "ERROR" or node.is_missing:
        line = source.splitlines()[node.start_point[0]].decode(errors="replace").strip() if source else ""
        what = f"missing {node.type}" if node.is_missing else "syntax error"
        out.append(f"{path.relative_to(ROOT)}:{node.start_point[0] + 1}:{node.start_point[1] + 1}: {what}: {line[:120]}")
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
