"""``sora serve`` sets Python's cyclic collector for a long-running server (sora_sdk/core/_gc.py).

Run in a fresh interpreter: the setting is process-wide, and the test process must keep its own."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import gc, json
from sora_sdk.server import tune_gc_for_serving  # and what a server keeps alive for its life
before = [gc.get_freeze_count(), list(gc.get_threshold()), tune_gc_for_serving(0), list(gc.get_threshold())]
alive = len(gc.get_objects())
tuned = tune_gc_for_serving(10_000)
after = [gc.get_freeze_count(), list(gc.get_threshold()), len(gc.get_objects())]
a, b = [], []
a.append(b); b.append(a)  # a cycle made after start-up is still found
del a, b
print(json.dumps({"before": before, "alive": alive, "tuned": tuned, "after": after, "collected": gc.collect()}))
"""


def test_the_start_up_heap_is_frozen_and_young_collections_wait_longer() -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    frozen0, threshold0, untouched, threshold_off = r["before"]
    assert frozen0 == 0 and untouched is False and threshold_off == threshold0  # 0 changes nothing
    assert r["tuned"] is True
    frozen, threshold, walked = r["after"]
    assert frozen >= 0.9 * r["alive"]  # the libraries' objects are out of every later collection
    assert walked < 0.1 * r["alive"]
    assert threshold == [10_000, threshold0[1], threshold0[2]]
    assert r["collected"] >= 2
