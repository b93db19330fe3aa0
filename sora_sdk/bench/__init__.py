"""Benchmarks that print ratios against baselines measured in the same run (``sora bench SUITE``).

Benchmarks measure; tests do not assert their speed targets. Each suite prints one line per metric
(measured value, baseline, ratio, target, PASS / MISS / INFO) and can write the same as JSON.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from ._report import Metric, Report

__all__ = ["Metric", "Report", "run_bench"]

SUITES = ("mapping", "perception", "avatar", "load", "objects")


def run_bench(args: argparse.Namespace) -> int:
    """Run ``args.suite`` with ``args.frames`` frames (``load``: ``args.subscribers``, ``rate_hz``,
    ``ingest_streams``, ``duration_s``, ``perception_subscribers``, ``include_mesh``); write ``args.json`` when set.

    Returns 0 when the suite ran (a missed target is reported, not an error), 2 for an unknown suite.
    """
    suite = getattr(args, "suite", "mapping")
    frames = int(getattr(args, "frames", None) or 40)
    json_path = getattr(args, "json", None)
    if suite not in SUITES:
        print(f"unknown benchmark suite {suite!r}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f} s] {line}", file=sys.stderr, flush=True)

    if suite == "avatar":
        import json

        from ..dialogue import bench_avatar

        result = bench_avatar()
        log("done")
        print(result.format(), flush=True)
        if json_path:
            with open(json_path, "w") as f:
                json.dump(result.as_dict(), f, indent=2)
        return 0
    if suite == "load":
        from ._load import run_load

        ingest = getattr(args, "ingest_streams", None)
        report, _ = run_load(
            subscribers=int(getattr(args, "subscribers", None) or 100),
            rate_hz=float(getattr(args, "rate_hz", None) or 30.0),
            ingest_streams=2 if ingest is None else int(ingest),
            duration_s=float(getattr(args, "duration_s", None) or 10.0),
            perception_subscribers=int(getattr(args, "perception_subscribers", None) or 0),
            include_mesh=bool(getattr(args, "include_mesh", False)),
            settle_s=getattr(args, "settle_s", None),
            anchor_window=getattr(args, "anchor_window", None),
            server_args=shlex.split(getattr(args, "server_flags", None) or ""),
            pin_cpus=getattr(args, "pin_cpus", None) or "auto",
            log=log,
        )
    elif suite == "objects":
        from ..objects.bench import objects_report

        report = objects_report(frames, log=log)
    elif suite == "perception":
        from ._perception import run_perception

        report = run_perception(frames, log=log)
    else:
        from ._mapping import run_mapping

        report = run_mapping(frames, log=log)
    log("done")
    print(report.format(), flush=True)
    if json_path:
        print(f"results written to {report.write_json(json_path)}", file=sys.stderr)
    return 0
