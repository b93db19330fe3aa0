"""``bench_objects`` runs end to end and reports well-formed results (it asserts no speed target)."""

from __future__ import annotations

import math

import pytest

from sora_sdk.objects.bench import bench_objects

METRICS = ("discovery_incremental", "update_vs_map_size", "association", "update_ms")


@pytest.mark.slow
def test_objects_bench_reports_every_metric() -> None:
    lines: list[str] = []
    results = bench_objects(8, every=4, revisits=2, counts=(12, 24), log=lines.append)
    assert [r["key"] for r in results] == list(METRICS)
    for r in results:
        for field in ("value", "baseline", "ratio"):
            assert isinstance(r[field], float) and math.isfinite(r[field]) and r[field] > 0, (r["key"], field)
        assert r["unit"] and r["title"] and r["verdict"] in ("PASS", "MISS", "INFO")
        assert r["target"] > 0
    assert results[1]["details"]["large_chunks"] > 2 * results[1]["details"]["small_chunks"]
    assert set(results[2]["details"]) == {"n12", "n24"}
    assert lines
