"""SceneStore and its delivery policies, without the network."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sora_sdk import OutOfRangeError, ResourceExhaustedError
from sora_sdk.core.config import SceneConfig
from sora_sdk.core.geometry import Pose
from sora_sdk.core.scene import Anchor, MeshChunk, StreamPosition
from sora_sdk.scene import LatestSlot, OrderedLog, SceneDelta, SceneStore


def _chunk(key, n_vertices: int = 100, version: int = 1) -> MeshChunk:
    v = np.zeros((n_vertices, 3), np.float32)
    return MeshChunk(key, version, np.zeros(3), 0.32, v, v, np.zeros((n_vertices, 3), np.uint8),
                     np.zeros((n_vertices // 3, 3), np.int32))  # fmt: skip


def _anchor(i: int) -> Anchor:
    return Anchor(f"a{i}", i, Pose.identity(), label=str(i))


async def test_snapshot_is_split_by_size_and_marks_its_end() -> None:
    store = SceneStore(SceneConfig(snapshot_batch_bytes=5000), epoch=7)
    store.commit(SceneDelta(upserted_chunks=[_chunk((i, 0, 0)) for i in range(10)]))
    parts = store.snapshot()
    assert parts[0].kind.value == "snapshot_begin"
    assert all(p.kind.value == "snapshot_part" for p in parts[1:])
    assert [p.snapshot_complete for p in parts] == [False] * (len(parts) - 1) + [True]
    assert len(parts) >= 3
    assert sum(len(p.delta.upserted_chunks) for p in parts) == 10
    assert {p.position for p in parts} == {StreamPosition(7, 1)}


async def test_resume_yields_exactly_the_missed_versions_and_strict_resume_refuses_old_ones() -> None:
    store = SceneStore(SceneConfig(history_versions=5), epoch=1)
    for i in range(3):
        store.commit(SceneDelta(upserted_anchors=[_anchor(i)]))
    got = []
    agen = store.watch(StreamPosition(1, 1))
    for _ in range(2):
        got.append(await agen.__anext__())
    assert [u.position.sequence for u in got] == [2, 3]
    assert all(u.kind.value == "delta" for u in got)
    await agen.aclose()
    for i in range(3, 12):
        store.commit(SceneDelta(upserted_anchors=[_anchor(i)]))
    with pytest.raises(OutOfRangeError):
        await store.watch(StreamPosition(1, 2), strict_resume=True).__anext__()
    first = await store.watch(StreamPosition(1, 2)).__anext__()
    assert first.kind.value == "snapshot_begin" and len(first.delta.upserted_anchors) == 12


async def test_a_lagging_reader_is_flagged_the_moment_it_falls_behind() -> None:
    log: OrderedLog[int] = OrderedLog(epoch=1, capacity=100, max_lag=3)
    reader = log.reader(log.position)
    for i in range(3):
        log.append(i)
    assert not reader.lagged
    log.append(3)
    assert reader.lagged
    assert reader not in log._readers  # released at once: a stalled stream pins nothing while its write waits
    with pytest.raises(ResourceExhaustedError) as e:
        await reader.next_batch()
    assert e.value.metadata == {"resume_epoch": "1", "resume_sequence": "0"}


async def test_a_cancelled_waiter_leaves_the_others_waiting() -> None:
    log: OrderedLog[int] = OrderedLog(epoch=1, capacity=100, max_lag=10)
    readers = [log.reader(log.position) for _ in range(3)]
    waits = [asyncio.ensure_future(r.next_batch()) for r in readers]
    await asyncio.sleep(0)
    waits[0].cancel()
    await asyncio.sleep(0)
    assert waits[0].cancelled() and not waits[1].done() and not waits[2].done()
    assert len(log._signal._waiters) == 2  # the cancelled one's future is gone, not kept until the next append
    log.append(7)
    assert [[i.value for i in await w] for w in waits[1:]] == [[7], [7]]


async def test_latest_slot_skips_stale_values() -> None:
    slot: LatestSlot[int] = LatestSlot()
    for i in range(100):
        slot.publish(i)
    version, value = await slot.wait_newer(0)
    assert (version, value) == (100, 99)
    waiter = asyncio.ensure_future(slot.wait_newer(version))
    await asyncio.sleep(0)
    assert not waiter.done()
    slot.publish(100)
    assert (await waiter)[1] == 100


async def test_epoch_restart_sends_watchers_a_fresh_snapshot() -> None:
    from sora_sdk.scene import SceneState

    store = SceneStore(SceneConfig(), epoch=1)
    store.commit(SceneDelta(upserted_anchors=[_anchor(0)]))
    agen = store.watch()
    assert (await agen.__anext__()).kind.value == "snapshot_begin"
    state = SceneState()
    state.apply(SceneDelta(upserted_anchors=[_anchor(5), _anchor(6)]))
    store.restart(2, state)
    again = await asyncio.wait_for(agen.__anext__(), 2)
    assert again.kind.value == "snapshot_begin" and again.position.epoch == 2
    assert sorted(a.anchor_id for a in again.delta.upserted_anchors) == ["a5", "a6"]


async def test_history_is_bounded_by_memory_as_well_as_by_versions() -> None:
    # Each chunk of 300 vertices and 100 triangles holds 300*12*2 + 300*3 + 100*12 = 9,300 B of arrays.
    store = SceneStore(SceneConfig(history_versions=1000, history_bytes=50_000), epoch=1)
    for i in range(20):
        store.commit(SceneDelta(upserted_chunks=[_chunk((i, 0, 0), n_vertices=300)]))
    log = store._log
    assert 40_000 <= log.kept_bytes <= 50_000  # five deltas of ~9.5 kB, not twenty
    assert log.oldest_sequence == 16 and store.position.sequence == 20
    # A position older than the kept history resumes with a snapshot; a kept one with exactly the rest.
    first = await store.watch(StreamPosition(1, 10)).__anext__()
    assert first.kind.value == "snapshot_begin" and len(first.delta.upserted_chunks) == 20
    kept = await store.watch(StreamPosition(1, 15)).__anext__()
    assert kept.kind.value == "delta" and kept.position.sequence == 16
    # One delta larger than the whole bound is still kept (the newest always is).
    store.commit(SceneDelta(upserted_chunks=[_chunk((j, 1, 0), n_vertices=300) for j in range(10)]))
    assert log.oldest_sequence == 21 and log.kept_bytes > 50_000
