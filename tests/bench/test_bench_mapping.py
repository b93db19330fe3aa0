"""``sora bench mapping`` runs end to end and reports well-formed results.

Benchmarks check speed; this test only checks that the bench runs (with the shortest camera loops)
and that every metric carries positive, finite numbers and a verdict. It asserts no speed target.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest

from sora_sdk.bench import run_bench

METRICS = (
    "integrate_overhead",
    "mesh_update_flat",
    "incremental_vs_full",
    "bytes_streamed",
    "integrate_ms",
    "mesh_update_ms",
    "peak_memory",
)
JUDGED = ("integrate_overhead", "mesh_update_flat", "incremental_vs_full")


@pytest.mark.slow
def test_mapping_bench_reports_every_metric(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    rc = run_bench(argparse.Namespace(suite="mapping", frames=4, json=str(out)))
    assert rc == 0

    printed = capsys.readouterr().out
    results = json.loads(out.read_text())
    assert results["suite"] == "mapping"
    assert {"cpu", "device", "open3d"} <= set(results["machine"])
    metrics = results["metrics"]
    assert set(METRICS) <= set(metrics)
    for key in METRICS:
        m = metrics[key]
        for field in ("value", "baseline", "ratio"):
            assert isinstance(m[field], float) and math.isfinite(m[field]) and m[field] > 0, (key, field, m[field])
        assert m["unit"] and m["title"] in printed
        assert m["verdict"] in ("PASS", "MISS", "INFO")
    for key in JUDGED:  # these carry a target and are judged on every machine
        assert metrics[key]["target"] > 0 and metrics[key]["verdict"] in ("PASS", "MISS")
    flat = metrics["mesh_update_flat"]["details"]
    assert flat["large_blocks"] > flat["small_blocks"] > 0
    assert metrics["bytes_streamed"]["details"]["chunks_sent"] > 0


def test_unknown_suite_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bench(argparse.Namespace(suite="nope", frames=4, json=None)) == 2
    assert "unknown benchmark suite" in capsys.readouterr().err
