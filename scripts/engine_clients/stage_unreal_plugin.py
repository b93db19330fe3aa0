"""Stage the Sora Unreal plugin into a project: the plugin skeleton, the C++ client and its stubs.

    .venv/bin/python scripts/engine_clients/stage_unreal_plugin.py --out MyProject/Plugins/SoraSdk \
        --protoc /path/to/protoc --grpc-cpp-plugin /path/to/grpc_cpp_plugin

Copies clients/unreal/SoraSdk, then puts the C++ client (clients/cpp/include and src) and stubs
generated from protos/sora/v1 under Source/SoraSdk/Private/SoraClient, where the module's
Build.cs expects them. Sources get the .cpp extension Unreal Build Tool compiles.

The stubs must come from the protoc and grpc_cpp_plugin of the gRPC and protobuf the plugin links
(the engine's third-party modules, or the SDK at SORA_GRPC_ROOT): generated code only compiles
against the protobuf release that generated it. The versions used are written to
SoraClient/STAGED.txt. See docs/unreal.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "clients" / "unreal" / "SoraSdk"
CLIENT = ROOT / "clients" / "cpp"
PROTOS = ROOT / "protos"


def _tool(path: str | None, name: str) -> str:
    found = path or shutil.which(name)
    if not found:
        raise SystemExit(
            f"{name} not found: pass --{name.replace('_', '-')} (it must match the gRPC/protobuf you link)"
        )
    return found


def stage(out: Path, protoc: str, grpc_plugin: str) -> Path:
    """Stages the plugin into `out`; returns the SoraClient folder."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PLUGIN, out, dirs_exist_ok=True)
    client = out / "Source" / "SoraSdk" / "Private" / "SoraClient"
    if client.exists():
        shutil.rmtree(client)
    shutil.copytree(CLIENT / "include", client / "include")
    (client / "src").mkdir(parents=True)
    for src in sorted((CLIENT / "src").glob("*.cc")):
        shutil.copyfile(src, client / "src" / (src.stem + ".cpp"))
    gen = client / "gen"
    gen.mkdir()
    protos = [str(p.relative_to(PROTOS)) for p in sorted(PROTOS.glob("sora/v1/*.proto"))]
    subprocess.run(
        [
            protoc,
            f"-I{PROTOS}",
            f"--cpp_out={gen}",
            f"--grpc_out={gen}",
            f"--plugin=protoc-gen-grpc={grpc_plugin}",
            *protos,
        ],
        check=True,
    )
    for cc in gen.rglob("*.cc"):
        cc.rename(cc.with_suffix(".cpp"))
    version = subprocess.run([protoc, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    (client / "STAGED.txt").write_text(
        "Staged by scripts/engine_clients/stage_unreal_plugin.py; do not edit (re-stage instead).\n"
        f"protoc: {protoc} ({version})\ngrpc_cpp_plugin: {grpc_plugin}\n"
    )
    return client


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="the plugin folder, e.g. MyProject/Plugins/SoraSdk")
    ap.add_argument("--protoc", help="protoc of the protobuf you link (default: protoc on PATH)")
    ap.add_argument("--grpc-cpp-plugin", help="grpc_cpp_plugin of the gRPC you link (default: on PATH)")
    a = ap.parse_args()
    client = stage(a.out, _tool(a.protoc, "protoc"), _tool(a.grpc_cpp_plugin, "grpc_cpp_plugin"))
    print(f"staged the Sora plugin into {a.out} (client and stubs in {client})")
    print((client / "STAGED.txt").read_text().strip())


if __name__ == "__main__":
    main()
