"""The atheris target (``scripts/fuzz_requests.py``), run without atheris: seeds, their mutations, random bytes."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_requests.py"
EXAMPLES = int(os.environ.get("SORA_FUZZ_EXAMPLES", "25"))


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_requests", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_requests"] = module
    spec.loader.exec_module(module)
    return module


fuzz = _load()


def test_the_script_runs_without_atheris_installed() -> None:
    assert "atheris" not in sys.modules or sys.modules["atheris"] is not None
    assert callable(fuzz.main) and callable(fuzz.fuzz_one)


def test_every_seed_is_handled() -> None:
    seeds = fuzz.seed_inputs()
    assert len(seeds) == len(fuzz.TARGETS)
    for data in seeds:
        fuzz.fuzz_one(data)


@st.composite
def _mutated_seeds(draw: st.DrawFn) -> bytes:
    """A seed with a few bytes flipped, inserted or cut, as a fuzzer's first mutations would make."""
    data = bytearray(draw(st.sampled_from(fuzz.seed_inputs())))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "cut"]))
        at = draw(st.integers(1, max(1, len(data) - 1)))
        if op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at : at + draw(st.integers(1, 8))]
    return bytes(data)


@settings(
    max_examples=EXAMPLES * 4,
    derandomize=not os.environ.get("SORA_FUZZ_RANDOM"),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.one_of(_mutated_seeds(), st.binary(max_size=200)))
def test_mutated_and_random_inputs_are_handled(data: bytes) -> None:
    fuzz.fuzz_one(data)


def test_a_mishandled_input_is_reported() -> None:
    """The target raises when the server answers INTERNAL: a fuzzer would see the crash."""
    from sora_sdk._proto.sora.v1 import scene_pb2

    harness = fuzz._get_harness()
    original = harness.scene.ListAnchors

    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    index = len(fuzz.TARGETS)
    fuzz.TARGETS.append((scene_pb2.ListAnchorsRequest, lambda h, m: fuzz._call(boom_servicer, m)))
    from sora_sdk.server._errors import handle_errors

    class _Boom:
        @handle_errors
        async def ListAnchors(self, request: object, context: object) -> None:
            boom()

    boom_servicer = _Boom().ListAnchors
    try:
        with pytest.raises(fuzz.FuzzFailure, match="INTERNAL|logged an error"):
            fuzz.fuzz_one(bytes([index]) + scene_pb2.ListAnchorsRequest(session_id="x").SerializeToString())
    finally:
        fuzz.TARGETS.pop()
        harness.scene.ListAnchors = original
        harness.errors.records.clear()
