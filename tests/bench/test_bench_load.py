"""``sora bench load`` runs end to end (a short version) and reports sane numbers.

Benchmarks check speed; this test checks that the load bench runs against a real server and the
baseline in subprocesses, that nothing failed (no ended stream, failed call or missed update) and
that every number is plausible. It asserts no speed target.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import pytest

from sora_sdk.bench import run_bench
from sora_sdk.bench._load import split_cpus
from sora_sdk.core._threads import format_cpu_list

RATE_HZ = 20.0


@pytest.mark.slow
def test_load_bench_runs_without_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sora_sdk.bench._load import bench_load

    window = 10  # half a second of anchors: the driver then alternates deletions of the oldest with creations
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    r = bench_load(
        subscribers=20, rate_hz=RATE_HZ, ingest_streams=1, duration_s=3.0, perception_subscribers=3,
        anchor_window=window, log=lambda _: None,
    )  # fmt: skip
    sora, base = r["sora"], r["baseline"]
    assert r["errors"] == 0, sora
    assert sora["subscribers"] == base["subscribers"] == 20
    for side in (sora, base):
        assert side["errors"] == 0 and side["streams_ended"] == 0, side
        # Every subscriber got the driven updates, at about the driven rate (the client sets the pace).
        assert 0.5 * RATE_HZ < side["delivered_hz_min"] <= side["delivered_hz_mean"] + 1e-9, side
        assert side["delivered_hz_mean"] < 1.5 * RATE_HZ, side
        assert side["messages"] >= 20 * RATE_HZ * 3.0 * 0.5
        for key in ("latency_p50_ms", "latency_p99_ms", "latency_max_ms"):
            assert math.isfinite(side[key]) and 0 < side[key] < 10_000, (key, side[key])
        assert side["latency_p50_ms"] <= side["latency_p99_ms"] <= side["latency_max_ms"]
        assert side["rss_start_mb"] > 10 and side["rss_end_mb"] > 10
        assert side["cpu_s_per_s"] >= 0
    # Every creation and deletion in the window reached every subscriber; the scene stayed bounded.
    assert sora["missing_updates"] == 0 and sora["anchors_created"] >= RATE_HZ * 3.0 / 2
    assert sora["anchors_deleted"] >= RATE_HZ * 3.0 / 2 - window and sora["anchors_live"] <= window
    assert sora["frames_received"] > 0
    # The event loop's own CPU, within the whole tree's; RSS traced through the window, process by process.
    assert 0 < sora["loop_cpu_s_per_s"] <= sora["cpu_s_per_s"] + 0.05 and sora["loop_runqueue_s_per_s"] >= 0
    trace = sora["rss_trace"]
    assert len(trace) >= 4 and trace[-1][0] > 0.6 * 3.0 and all(t[1] > 10 and t[2] > 10 for t in trace), trace
    assert all(math.isfinite(v) for v in sora["rss_drift_median_mb"])
    assert r["setup"]["message_bytes"] == round(sora["message_bytes_mean"]) > 16
    # The servers ran on their half of the CPUs, the clients on the other; this process got its CPUs back.
    split = split_cpus("auto")
    if split is not None:
        assert r["setup"]["cpus"] == f"servers {format_cpu_list(split[0])}, clients {format_cpu_list(split[1])}"
        assert r["setup"]["server_args"][-2:] == ["--server-cpus", format_cpu_list(split[0])]
    if affinity is not None:
        assert os.sched_getaffinity(0) == affinity
    assert all(math.isfinite(v) and v > 0 for v in r["ratios"].values()), r["ratios"]
    p = r["perception"]
    assert p["streams_ended"] == 0 and p["messages"] > 0 and math.isfinite(p["latency_p50_ms"])


@pytest.mark.slow
def test_sora_bench_load_prints_and_writes_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "load.json"
    args = argparse.Namespace(
        suite="load", frames=None, json=str(out), subscribers=5, rate_hz=10.0, ingest_streams=0, duration_s=1.5,
        perception_subscribers=0, include_mesh=False,
    )  # fmt: skip
    assert run_bench(args) == 0
    printed = capsys.readouterr().out
    metrics = json.loads(out.read_text())["metrics"]
    assert {"delivered_rate", "latency_p50", "latency_p99", "server_cpu", "loop_cpu", "rss_drift", "errors"} <= set(
        metrics
    )
    trace = metrics["rss_drift"]["details"]["sora_rss_trace"]  # for reading a soak's memory afterwards
    assert trace and all(len(t) == 3 and t[1] > 10 for t in trace)
    assert metrics["errors"]["value"] == 0 and metrics["errors"]["verdict"] == "PASS"
    assert metrics["delivered_rate"]["title"] in printed and "sora bench load" in printed


def test_the_cli_knows_the_load_suite() -> None:
    from sora_sdk.cli.main import build_parser

    args = build_parser().parse_args(["bench", "load", "--subscribers", "7", "--rate-hz", "5", "--duration-s", "2"])
    assert (args.suite, args.subscribers, args.rate_hz, args.duration_s, args.ingest_streams) == (
        "load",
        7,
        5.0,
        2.0,
        2,
    )
    assert args.pin_cpus == "auto"
    assert build_parser().parse_args(["bench", "load", "--pin-cpus", "none"]).pin_cpus == "none"


def test_the_cpus_split_between_servers_and_clients() -> None:
    assert split_cpus("none") is None
    assert split_cpus("0-3:4-7") == ({0, 1, 2, 3}, {4, 5, 6, 7})
    for bad in ("0", "0:", ":1", "a:b"):
        with pytest.raises(ValueError):
            split_cpus(bad)
    auto = split_cpus("auto")
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2:
        assert auto is not None
        servers, clients = auto
        assert servers and clients and not servers & clients and servers | clients == os.sched_getaffinity(0)
        assert max(servers) < min(clients) and len(servers) == len(os.sched_getaffinity(0)) // 2
    else:
        assert auto is None  # one CPU, or no affinity: nothing is pinned
