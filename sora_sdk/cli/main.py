"""The ``sora`` command line: serve, demo, replay, record, chat, perceive, bench."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from typing import Any

from ..core.config import SoraConfig, load_config

__all__ = ["build_parser", "main"]


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    """One flag per config field (``--mapper-voxel-size-m``), documented from the dataclasses."""
    p.add_argument(
        "--config", metavar="FILE", help="TOML config file (sections [server], [mapper], [scene], [session])"
    )
    defaults = SoraConfig()
    for section in dataclasses.fields(defaults):
        group = p.add_argument_group(f"[{section.name}] options")
        for f in dataclasses.fields(getattr(defaults, section.name)):
            default = f.default
            flag = f"--{section.name}-{f.name.replace('_', '-')}"
            group.add_argument(
                flag,
                dest=f"cfg__{section.name}__{f.name}",
                type=_parse_bool if isinstance(default, bool) else type(default),
                default=None,
                metavar=type(default).__name__.upper(),
                help=f"{f.metadata.get('help', '')} (default: {default})",
            )


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def config_from_args(args: argparse.Namespace, **extra: Any) -> SoraConfig:
    overrides = {
        k.removeprefix("cfg__").replace("__", "."): v
        for k, v in vars(args).items()
        if k.startswith("cfg__") and v is not None
    }
    overrides.update({k: v for k, v in extra.items() if v is not None})
    return load_config(getattr(args, "config", None), overrides)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="sora", description="Sora SDK: spatial companion service")
    ap.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = ap.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the gRPC server until SIGTERM/SIGINT")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default 50051; 0 picks one)")
    s.add_argument("--insecure", action="store_true", help="allow serving beyond loopback without TLS")
    _add_config_flags(s)

    d = sub.add_parser("demo", help="stream the generated sample room to an embedded server and show the result")
    d.add_argument("--out", default="sora_output/demo", help="folder for the mesh, picture and summary")
    d.add_argument("--frames", type=int, default=48, help="frames along the camera path")
    d.add_argument("--width", type=int, default=480, help="rendered image width, pixels")
    d.add_argument("--seed", type=int, default=0, help="room generator seed")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_config_flags(d)

    r = sub.add_parser("replay", help="stream a dataset or recording to a server")
    r.add_argument("path", help="dataset folder (TUM, Redwood, synthetic) or .sorarec recording")
    r.add_argument("--format", choices=["tum", "redwood", "synthetic", "sora"], help="detected when omitted")
    r.add_argument("--frames", help="A:B slice of frames")
    r.add_argument("--server", help="HOST:PORT of a running server; an embedded one when omitted")
    r.add_argument("--export-mesh", metavar="FILE", help="write the fused mesh (.ply, .glb, .obj)")
    r.add_argument("--export-scene", metavar="FILE.json", help="write planes, anchors, objects and stats as JSON")
    r.add_argument("--no-progress", action="store_true")
    _add_config_flags(r)

    rec = sub.add_parser("record", help="write a dataset as a Sora recording (the exact messages replay sends)")
    rec.add_argument("path", help="dataset folder")
    rec.add_argument("--out", required=True, help="output .sorarec file")
    rec.add_argument("--format", choices=["tum", "redwood", "synthetic"])
    rec.add_argument("--frames", help="A:B slice of frames")

    c = sub.add_parser("chat", help="talk to the avatar from a terminal (text, or a WAV file as speech)")
    c.add_argument("text", nargs="?", help="one message; omit to read lines from stdin")
    c.add_argument("--wav", help="a 16-bit PCM WAV file to send as the user's speech")
    c.add_argument("--server", help="HOST:PORT of a running server; an embedded one when omitted")
    c.add_argument("--session", help="converse in an existing session (its scene grounds the answers)")
    c.add_argument("--no-speech", action="store_true", help="text only, no audio or visemes")
    c.add_argument("--out", default="sora_output/chat", help="folder for avatar.wav and visemes.json")
    _add_config_flags(c)

    pr = sub.add_parser("perceive", help="run hands and gestures over an image, a video or a dataset")
    pr.add_argument("path", help="image (.jpg/.png), video, or dataset folder")
    pr.add_argument("--format", choices=["tum", "redwood", "synthetic"], help="dataset format when a folder")
    pr.add_argument("--server", help="HOST:PORT of a running server; an embedded one when omitted")
    pr.add_argument("--json", metavar="FILE", help="write every hands update and event as JSON")
    _add_config_flags(pr)

    b = sub.add_parser("bench", help="benchmarks that print ratios against a baseline measured in the same run")
    b.add_argument("suite", choices=["mapping", "perception", "avatar", "load", "objects"], help="which benchmark")
    b.add_argument("--frames", type=int, default=40, help="frames per measurement")
    b.add_argument("--subscribers", type=int, default=100, help="load: WatchScene subscribers on one session")
    b.add_argument("--perception-subscribers", type=int, default=0, help="load: WatchPerception subscribers too")
    b.add_argument("--rate-hz", type=float, default=30.0, help="load: scene updates (anchors) and frames per second")
    b.add_argument("--ingest-streams", type=int, default=2, help="load: sensor streams of synthetic depth frames")
    b.add_argument("--duration-s", type=float, default=10.0, help="load: measured seconds, per server")
    b.add_argument("--include-mesh", action="store_true", help="load: subscribers also receive mesh chunks")
    b.add_argument(
        "--settle-s",
        type=float,
        default=None,
        help="load: at most this long the load runs before the window, until the server's RSS levels off "
        "(default: 0 under 60 s, else a quarter of the window up to 300 s)",
    )
    b.add_argument(
        "--anchor-window",
        type=int,
        default=None,
        help="load: anchors the driver keeps; past them it deletes the oldest (default 10 s worth; 0 keeps all)",
    )
    b.add_argument(
        "--server-flags",
        default="",
        help='load: more flags for the measured `sora serve`, e.g. "--server-background-nice 5"',
    )
    b.add_argument(
        "--pin-cpus",
        default="auto",
        help="load: CPUs of the servers and of the clients: auto (the servers on the first half, the clients, "
        "which stand for headsets on other machines, on the rest), none (shared), or SERVERS:CLIENTS (0-3:4-7)",
    )
    b.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return ap


def _slice(text: str | None) -> slice | None:
    if not text:
        return None
    a, _, b = text.partition(":")
    return slice(int(a) if a else None, int(b) if b else None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    if args.command == "serve":
        from ..server import serve

        config = config_from_args(args, **{"server.host": args.host, "server.port": args.port})
        asyncio.run(serve(config, insecure=args.insecure))
        return 0
    if args.command == "demo":
        from ._demo import run_demo

        # The demo writes its audio to a file: no need to pace speech at playback speed.
        demo_cfg = config_from_args(args, **{"server.port": 0, "dialogue.realtime_speech": False})
        return asyncio.run(run_demo(args, demo_cfg))
    if args.command == "replay":
        from ._replay import run_replay

        return asyncio.run(run_replay(args, config_from_args(args, **{"server.port": 0}), _slice(args.frames)))
    if args.command == "record":
        from ._replay import run_record

        return run_record(args, _slice(args.frames))
    if args.command == "chat":
        from ._tools import run_chat

        return asyncio.run(run_chat(args, config_from_args(args, **{"server.port": 0})))
    if args.command == "perceive":
        from ._tools import run_perceive

        return asyncio.run(run_perceive(args, config_from_args(args, **{"server.port": 0})))
    if args.command == "bench":
        from ..bench import run_bench

        return run_bench(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
