"""Generate the C# API of the Unity package from protos/sora/v1 (committed; `--check` for drift).

    .venv/bin/python scripts/engine_clients/gen_csharp.py           # write unity_plugin/Runtime/Generated
    .venv/bin/python scripts/engine_clients/gen_csharp.py --check   # fail when the committed C# differs

Two kinds of output:

- Message classes: protoc's own C# generator (``--csharp_out``), from the system ``protoc``
  (Debian 12's protobuf-compiler, libprotoc 3.21). One change is made to its output: protoc puts
  ``#if !GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE`` inside each message class's base list,
  which tree-sitter's C# grammar cannot parse; the optional ``pb::IBufferMessage`` base moves
  into a second ``partial`` declaration under the same ``#if``. A C# compiler sees the same types.
- Client stubs: Debian packages no grpc_csharp_plugin, so this script writes them from the proto
  descriptors (a FileDescriptorSet from ``protoc --descriptor_set_out``), in the shape and with
  the names grpc_csharp_plugin gives client-only stubs (``GrpcServices="Client"``):
  ``static partial class XxxService`` with marshallers and ``grpc::Method`` fields, and
  ``XxxServiceClient : grpc::ClientBase<XxxServiceClient>`` with blocking, async and streaming
  calls. They need Grpc.Core.Api (which Grpc.Net.Client brings) and Google.Protobuf.

The output depends on the protoc version, so ``--check`` reports a version mismatch when it sees
one instead of only listing the files that differ.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "protos"
OUT = ROOT / "unity_plugin" / "Runtime" / "Generated"
#: The protoc the committed output was made with (Debian 12's protobuf-compiler).
EXPECTED_PROTOC = "libprotoc 3.21"

_COMPAT = "GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE"
_BASE_LIST_IF = re.compile(
    r"^(?P<indent>[ ]*)(?P<decl>public sealed partial class (?P<name>\w+) : pb::IMessage<(?P=name)>)\n"
    r"(?P=indent)#if !" + _COMPAT + r"\n"
    r"(?P=indent)    , pb::IBufferMessage\n"
    r"(?P=indent)#endif\n",
    re.MULTILINE,
)


# ---- protoc ---------------------------------------------------------------------------------


def find_protoc() -> str:
    protoc = shutil.which("protoc")
    if protoc is None:
        raise SystemExit("protoc not found: run `bash scripts/engine_clients/setup.sh`")
    return protoc


def protoc_version(protoc: str) -> str:
    return subprocess.run([protoc, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def _protos() -> list[str]:
    return [str(p.relative_to(PROTO_ROOT)) for p in sorted(PROTO_ROOT.glob("sora/v1/*.proto"))]


def descriptor_set(protoc: str) -> descriptor_pb2.FileDescriptorSet:
    """The protos' descriptors with their comments (source info)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sora.pb"
        subprocess.run(
            [protoc, f"-I{PROTO_ROOT}", "--include_source_info", f"--descriptor_set_out={out}", *_protos()],
            check=True,
        )
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def generate_messages(protoc: str, out: Path) -> list[Path]:
    subprocess.run([protoc, f"-I{PROTO_ROOT}", f"--csharp_out={out}", *_protos()], check=True)
    files = sorted(out.glob("*.cs"))
    for path in files:
        text = path.read_text()
        names = [m.group("name") for m in _BASE_LIST_IF.finditer(text)]
        text = _BASE_LIST_IF.sub(lambda m: f"{m.group('indent')}{m.group('decl')}\n", text)
        if names:
            parts = "\n".join(f"  public sealed partial class {n} : pb::IBufferMessage {{ }}" for n in names)
            block = (
                f"\n  #if !{_COMPAT}\n"
                "  // Moved out of the base lists above by scripts/engine_clients/gen_csharp.py (tree-sitter's\n"
                "  // C# grammar cannot parse a directive inside a base list); the same types either way.\n"
                f"{parts}\n"
                "  #endif\n"
            )
            # The namespace's closing brace is the last line before the designer region ends.
            tail = "\n}\n\n#endregion Designer generated code\n"
            if not text.endswith(tail):
                raise SystemExit(f"{path.name}: unexpected protoc output layout; update gen_csharp.py")
            text = text[: -len(tail)] + block + tail
        path.write_text(text)
    return files


# ---- client stubs ---------------------------------------------------------------------------


def _pascal(name: str) -> str:
    """protoc's C# naming for file and package segments: foo_bar -> FooBar."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-]", name) if part)


def _namespace(f: descriptor_pb2.FileDescriptorProto) -> str:
    if f.options.HasField("csharp_namespace"):
        return f.options.csharp_namespace
    return ".".join(_pascal(seg) for seg in f.package.split("."))


def _reflection_class(f: descriptor_pb2.FileDescriptorProto) -> str:
    stem = Path(f.name).stem
    return f"{_pascal(stem)}Reflection"


@dataclass(frozen=True)
class _TypeName:
    csharp: str  # global::Sora.V1.Foo
    marshaller: str  # __Marshaller_sora_v1_Foo


def _type_index(files: list[descriptor_pb2.FileDescriptorProto]) -> dict[str, _TypeName]:
    """Proto full name (.sora.v1.Foo) -> C# type; nested messages live in `Outer.Types.Inner`."""
    index: dict[str, _TypeName] = {}

    def add(f: descriptor_pb2.FileDescriptorProto, msg: descriptor_pb2.DescriptorProto, outer: list[str]) -> None:
        proto_name = ".".join([*outer, msg.name])
        cs_path = ".".join([*(f"{o}.Types" for o in outer), msg.name])
        full = f".{f.package}.{proto_name}" if f.package else f".{proto_name}"
        marshaller = "__Marshaller_" + "_".join([*f.package.split("."), *outer, msg.name]).replace(".", "_")
        index[full] = _TypeName(f"global::{_namespace(f)}.{cs_path}", marshaller)
        for nested in msg.nested_type:
            if not nested.options.map_entry:
                add(f, nested, [*outer, msg.name])

    for f in files:
        for msg in f.message_type:
            add(f, msg, [])
    return index


def _comments(f: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {tuple(loc.path): loc.leading_comments for loc in f.source_code_info.location if loc.leading_comments}


def _xml_doc(comment: str, indent: str) -> list[str]:
    if not comment.strip():
        return []
    body = [ln[1:] if ln.startswith(" ") else ln for ln in comment.rstrip("\n").split("\n")]
    esc = [ln.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for ln in body]
    return [f"{indent}/// <summary>", *(f"{indent}/// {ln}".rstrip() for ln in esc), f"{indent}/// </summary>"]


_GEN = '[global::System.CodeDom.Compiler.GeneratedCode("sora_gen_csharp", null)]'
_CALL_ARGS = (
    "grpc::Metadata headers = null, global::System.DateTime? deadline = null, "
    "global::System.Threading.CancellationToken cancellationToken = "
    "default(global::System.Threading.CancellationToken)"
)


def _service_stub(
    f: descriptor_pb2.FileDescriptorProto,
    service_index: int,
    service: descriptor_pb2.ServiceDescriptorProto,
    types: dict[str, _TypeName],
    comments: dict[tuple[int, ...], str],
) -> list[str]:
    full_service = f"{f.package}.{service.name}" if f.package else service.name
    client = f"{service.name}Client"
    lines = [
        *_xml_doc(comments.get((6, service_index), ""), "  "),
        f"  public static partial class {service.name}",
        "  {",
        f'    static readonly string __ServiceName = "{full_service}";',
        "",
        f"    {_GEN}",
        "    static void __Helper_SerializeMessage(global::Google.Protobuf.IMessage message, "
        "grpc::SerializationContext context)",
        "    {",
        "      #if !GRPC_DISABLE_PROTOBUF_BUFFER_SERIALIZATION",
        "      if (message is global::Google.Protobuf.IBufferMessage)",
        "      {",
        "        context.SetPayloadLength(message.CalculateSize());",
        "        global::Google.Protobuf.MessageExtensions.WriteTo(message, context.GetBufferWriter());",
        "        context.Complete();",
        "        return;",
        "      }",
        "      #endif",
        "      context.Complete(global::Google.Protobuf.MessageExtensions.ToByteArray(message));",
        "    }",
        "",
        f"    {_GEN}",
        "    static class __Helper_MessageCache<T>",
        "    {",
        "      public static readonly bool IsBufferMessage = global::System.Reflection.IntrospectionExtensions"
        ".GetTypeInfo(typeof(global::Google.Protobuf.IBufferMessage)).IsAssignableFrom(typeof(T));",
        "    }",
        "",
        f"    {_GEN}",
        "    static T __Helper_DeserializeMessage<T>(grpc::DeserializationContext context, "
        "global::Google.Protobuf.MessageParser<T> parser) where T : global::Google.Protobuf.IMessage<T>",
        "    {",
        "      #if !GRPC_DISABLE_PROTOBUF_BUFFER_SERIALIZATION",
        "      if (__Helper_MessageCache<T>.IsBufferMessage)",
        "      {",
        "        return parser.ParseFrom(context.PayloadAsReadOnlySequence());",
        "      }",
        "      #endif",
        "      return parser.ParseFrom(context.PayloadAsNewBuffer());",
        "    }",
        "",
    ]
    used: list[str] = []
    for m in service.method:
        for t in (m.input_type, m.output_type):
            if t not in used:
                used.append(t)
    for t in used:
        tn = types[t]
        lines += [
            f"    {_GEN}",
            f"    static readonly grpc::Marshaller<{tn.csharp}> {tn.marshaller} = grpc::Marshallers.Create("
            f"__Helper_SerializeMessage, context => __Helper_DeserializeMessage(context, {tn.csharp}.Parser));",
            "",
        ]
    for m in service.method:
        req, resp = types[m.input_type], types[m.output_type]
        kind = {
            (False, False): "Unary",
            (True, False): "ClientStreaming",
            (False, True): "ServerStreaming",
            (True, True): "DuplexStreaming",
        }[(m.client_streaming, m.server_streaming)]
        lines += [
            f"    {_GEN}",
            f"    static readonly grpc::Method<{req.csharp}, {resp.csharp}> __Method_{m.name} = "
            f"new grpc::Method<{req.csharp}, {resp.csharp}>(",
            f"        grpc::MethodType.{kind},",
            "        __ServiceName,",
            f'        "{m.name}",',
            f"        {req.marshaller},",
            f"        {resp.marshaller});",
            "",
        ]
    lines += [
        "    /// <summary>Service descriptor</summary>",
        "    public static global::Google.Protobuf.Reflection.ServiceDescriptor Descriptor",
        "    {",
        f"      get {{ return global::{_namespace(f)}.{_reflection_class(f)}.Descriptor.Services[{service_index}]; }}",
        "    }",
        "",
        f"    /// <summary>Client for {service.name}</summary>",
        f"    public partial class {client} : grpc::ClientBase<{client}>",
        "    {",
        f"      /// <summary>Creates a new client for {service.name}</summary>",
        '      /// <param name="channel">The channel to use to make remote calls.</param>',
        f"      {_GEN}",
        f"      public {client}(grpc::ChannelBase channel) : base(channel)",
        "      {",
        "      }",
        f"      /// <summary>Creates a new client for {service.name} that uses a custom <c>CallInvoker</c>.</summary>",
        '      /// <param name="callInvoker">The callInvoker to use to make remote calls.</param>',
        f"      {_GEN}",
        f"      public {client}(grpc::CallInvoker callInvoker) : base(callInvoker)",
        "      {",
        "      }",
        "      /// <summary>Protected parameterless constructor to allow creation of test doubles.</summary>",
        f"      {_GEN}",
        f"      protected {client}() : base()",
        "      {",
        "      }",
        "      /// <summary>Protected constructor to allow creation of configured clients.</summary>",
        '      /// <param name="configuration">The client configuration.</param>',
        f"      {_GEN}",
        f"      protected {client}(ClientBaseConfiguration configuration) : base(configuration)",
        "      {",
        "      }",
        "",
    ]
    for j, m in enumerate(service.method):
        req, resp = types[m.input_type], types[m.output_type]
        doc = _xml_doc(comments.get((6, service_index, 2, j), ""), "      ")
        if not m.client_streaming and not m.server_streaming:
            for name, ret, call in (
                (m.name, resp.csharp, "BlockingUnaryCall"),
                (f"{m.name}Async", f"grpc::AsyncUnaryCall<{resp.csharp}>", "AsyncUnaryCall"),
            ):
                lines += [
                    *doc,
                    f"      {_GEN}",
                    f"      public virtual {ret} {name}({req.csharp} request, {_CALL_ARGS})",
                    "      {",
                    f"        return {name}(request, new grpc::CallOptions(headers, deadline, cancellationToken));",
                    "      }",
                    *doc,
                    f"      {_GEN}",
                    f"      public virtual {ret} {name}({req.csharp} request, grpc::CallOptions options)",
                    "      {",
                    f"        return CallInvoker.{call}(__Method_{m.name}, null, options, request);",
                    "      }",
                ]
        elif m.server_streaming and not m.client_streaming:
            ret = f"grpc::AsyncServerStreamingCall<{resp.csharp}>"
            lines += [
                *doc,
                f"      {_GEN}",
                f"      public virtual {ret} {m.name}({req.csharp} request, {_CALL_ARGS})",
                "      {",
                f"        return {m.name}(request, new grpc::CallOptions(headers, deadline, cancellationToken));",
                "      }",
                *doc,
                f"      {_GEN}",
                f"      public virtual {ret} {m.name}({req.csharp} request, grpc::CallOptions options)",
                "      {",
                f"        return CallInvoker.AsyncServerStreamingCall(__Method_{m.name}, null, options, request);",
                "      }",
            ]
        else:
            if m.server_streaming:
                ret, call = f"grpc::AsyncDuplexStreamingCall<{req.csharp}, {resp.csharp}>", "AsyncDuplexStreamingCall"
            else:
                ret, call = f"grpc::AsyncClientStreamingCall<{req.csharp}, {resp.csharp}>", "AsyncClientStreamingCall"
            lines += [
                *doc,
                f"      {_GEN}",
                f"      public virtual {ret} {m.name}({_CALL_ARGS})",
                "      {",
                f"        return {m.name}(new grpc::CallOptions(headers, deadline, cancellationToken));",
                "      }",
                *doc,
                f"      {_GEN}",
                f"      public virtual {ret} {m.name}(grpc::CallOptions options)",
                "      {",
                f"        return CallInvoker.{call}(__Method_{m.name}, null, options);",
                "      }",
            ]
    lines += [
        "      /// <summary>Creates a new instance of client from given <c>ClientBaseConfiguration</c>.</summary>",
        f"      {_GEN}",
        f"      protected override {client} NewInstance(ClientBaseConfiguration configuration)",
        "      {",
        f"        return new {client}(configuration);",
        "      }",
        "    }",
        "  }",
    ]
    return lines


def generate_stubs(fds: descriptor_pb2.FileDescriptorSet, out: Path) -> list[Path]:
    files = list(fds.file)
    types = _type_index(files)
    written = []
    for f in files:
        if not f.service:
            continue
        comments = _comments(f)
        body: list[str] = [
            "// <auto-generated>",
            "//     Generated by scripts/engine_clients/gen_csharp.py from the proto descriptors. DO NOT EDIT!",
            f"//     source: {f.name}",
            "// </auto-generated>",
            "#pragma warning disable 0414, 1591, 8981, 0612",
            "#region Designer generated code",
            "",
            "using grpc = global::Grpc.Core;",
            "",
            f"namespace {_namespace(f)} {{",
        ]
        for i, service in enumerate(f.service):
            if i:
                body.append("")
            body += _service_stub(f, i, service, types, comments)
        body += ["}", "#endregion", ""]
        path = out / f"{_pascal(Path(f.name).stem)}Grpc.cs"
        path.write_text("\n".join(body))
        written.append(path)
    return written


# ---- entry points ---------------------------------------------------------------------------


def generate(out: Path, protoc: str | None = None) -> list[Path]:
    """Writes every generated .cs file into `out` (which must exist); returns them."""
    protoc = protoc or find_protoc()
    messages = generate_messages(protoc, out)
    stubs = generate_stubs(descriptor_set(protoc), out)
    return sorted(messages + stubs)


def check(out: Path = OUT, protoc: str | None = None) -> list[str]:
    """Problems that make the committed C# differ from a fresh generation (empty when none)."""
    protoc = protoc or find_protoc()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_text() for p in generate(Path(tmp), protoc)}
    committed = {p.name: p.read_text() for p in sorted(out.glob("*.cs"))} if out.is_dir() else {}
    problems = []
    for name in sorted(fresh.keys() - committed.keys()):
        problems.append(f"{name}: not committed")
    for name in sorted(committed.keys() - fresh.keys()):
        problems.append(f"{name}: committed but no longer generated")
    for name in sorted(fresh.keys() & committed.keys()):
        if fresh[name] != committed[name]:
            diff = difflib.unified_diff(
                committed[name].splitlines(), fresh[name].splitlines(), "committed", "generated", lineterm="", n=1
            )
            problems.append(f"{name} differs:\n" + "\n".join(list(diff)[:40]))
    if problems:
        version = protoc_version(protoc)
        if not version.startswith(EXPECTED_PROTOC):
            problems.insert(0, f"note: the committed C# was made with {EXPECTED_PROTOC}.x; this protoc is {version}")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail when the committed C# differs from the protos")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    a = ap.parse_args()
    if a.check:
        problems = check(a.out)
        if problems:
            print(
                "generated C# is stale (run `.venv/bin/python scripts/engine_clients/gen_csharp.py`):", file=sys.stderr
            )
            print("\n".join(problems), file=sys.stderr)
            raise SystemExit(1)
        print("generated C# up to date")
        return
    a.out.mkdir(parents=True, exist_ok=True)
    for old in a.out.glob("*.cs"):
        old.unlink()
    files = generate(a.out)
    print(f"wrote {len(files)} files to {a.out.relative_to(ROOT) if a.out.is_relative_to(ROOT) else a.out}")


if __name__ == "__main__":
    main()
