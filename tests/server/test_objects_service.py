"""Objects through the service: discovered live while frames stream, queried, and removed when taken away.

The synthetic room is streamed over gRPC like a headset would; its ground truth says what should be
found. Thresholds here are looser than tests/objects' (fewer, smaller frames keep this test short):
they check the service carries what the object layer finds, not the layer's accuracy.
"""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest

from sora_sdk import InvalidArgumentError
from sora_sdk._proto.sora.v1 import scene_pb2
from sora_sdk.client import SoraClient
from sora_sdk.core.geometry import Pose
from sora_sdk.datasets import generate_room, orbit_trajectory, render, synthetic_intrinsics
from sora_sdk.datasets._synthetic import rearrange_room
from sora_sdk.server import create_server
from tests.conftest import test_config


def _centroid(o: scene_pb2.SceneObject) -> np.ndarray:
    p = o.box.pose_world_box.position_m
    return np.array([p.x, p.y, p.z])


def _nearest(objects, point: np.ndarray) -> tuple[scene_pb2.SceneObject | None, float]:
    best, dist = None, np.inf
    for o in objects:
        d = float(np.linalg.norm(_centroid(o)[:2] - point[:2]))
        if d < dist:
            best, dist = o, d
    return best, dist


@pytest.fixture
async def server():
    """The orbit below renders 24 views 15 degrees apart, so each object is in 2-4 of them: an object is
    published once its surface was seen in 2 frames (``objects.confirm_frames``; 8 by default, for a
    30 Hz stream), not after as many object updates as the streaming happened to leave time for."""
    running = await create_server(test_config(objects={"confirm_frames": 2.0}))
    yield running
    await running.stop(0.2)


@pytest.fixture(scope="module")
def rooms():
    room = generate_room(3)
    gone = next(o.object_id for o in room.objects if o.support_id == "table_top")
    changed = rearrange_room(room, remove=[gone])
    k = synthetic_intrinsics(320, 240)
    before = render(room, orbit_trajectory(room, 24), k, depth_noise_std_m=0.003, noise_seed=1)
    after = render(
        changed, orbit_trajectory(changed, 16, start_angle_rad=0.4), k, depth_noise_std_m=0.003, noise_seed=2
    )
    after = [dataclasses.replace(f, sequence=100 + i, capture_time_s=100.0 + i) for i, f in enumerate(after)]
    return room, gone, before, after


async def test_objects_stream_live_answer_queries_and_leave_when_taken_away(client: SoraClient, rooms) -> None:
    room, gone, before, after = rooms
    session = await client.create_session()
    seen: dict[str, scene_pb2.SceneObject] = {}
    removed: list[str] = []
    relations_added = 0

    async def watch() -> None:
        nonlocal relations_added
        async for u in session.watch_scene(include_mesh=False):
            for o in u.message.upserted_objects:
                seen[o.object_id] = o
            removed.extend(u.message.removed_object_ids)
            relations_added += len(u.message.added_relations)

    watcher = asyncio.create_task(watch())
    await session.stream_frames(before, lossless=True, color_encoding="raw", depth_encoding="raw")

    scene = await session.get_scene()
    objects = list(scene.objects)
    big = [o for o in room.objects if float(np.max(o.size_m)) > 0.08]
    found = [g for g in big if _nearest(objects, g.centroid_world_m)[1] < 0.08]
    assert len(found) >= 0.8 * len(big), (len(found), len(big))
    await asyncio.sleep(0.3)
    assert {o.object_id for o in objects} <= set(seen)  # every object reached the subscriber as an upsert
    assert relations_added >= len(objects)  # at least each object's support

    # Queries: by label, by region, by relation to the table, by meaning, and bad ones.
    some = objects[0]
    assert some.object_id in {o.object_id for o in await session.find_objects(label=some.label.upper())}
    c = _centroid(some)
    inside = await session.find_objects(region=(Pose.from_rotation_translation(np.eye(3), c), [0.1, 0.1, 0.1]))
    assert [o.object_id for o in inside] == [some.object_id]
    table = next(p for p in scene.planes if p.label == scene_pb2.PLANE_LABEL_TABLE)
    on_table = await session.find_objects(relation="on", related_id=table.plane_id)
    gt_on_table = [g for g in big if g.support_id == "table_top"]
    assert len(on_table) >= 0.8 * len(gt_on_table)
    assert all(o.support_plane_id == table.plane_id for o in on_table)
    reds = [o for o in objects if o.color_name == "red"]
    if reds:
        best = await session.find_objects(text="the red thing", max_results=1)
        assert best and best[0].color_name == "red", best
    with pytest.raises(InvalidArgumentError) as e:
        await session.get_scene(related_id=some.object_id)
    assert e.value.violations[0].field == "object_query.related_id"
    with pytest.raises(InvalidArgumentError) as e:
        await session.find_objects(region=(Pose.from_rotation_translation(np.eye(3), c), [0.1, -1.0, 0.1]))
    assert e.value.violations[0].field == "object_query.region.size_m"

    # The user takes one object away; the map sees free space there and the track is removed.
    gt_gone = next(o for o in room.objects if o.object_id == gone)
    track, dist = _nearest(objects, gt_gone.centroid_world_m)
    assert track is not None and dist < 0.08
    await session.stream_frames(after, lossless=True, color_encoding="raw", depth_encoding="raw")
    for _ in range(100):
        if track.object_id in removed:
            break
        await asyncio.sleep(0.05)
    assert track.object_id in removed
    now = list((await session.get_scene()).objects)
    assert track.object_id not in {o.object_id for o in now}
    ghost, ghost_dist = _nearest(now, gt_gone.centroid_world_m)
    assert ghost is None or ghost_dist > 0.06  # no ghost where it stood
    watcher.cancel()


async def test_a_hand_reaching_an_object_gives_interaction_events(client: SoraClient, rooms) -> None:
    """Device hand joints come close to a discovered object: near, then touch, naming the object."""
    from tests.perception.perception_helpers import device_hand

    _room, _gone, before, _after = rooms
    session = await client.create_session()
    await session.stream_frames(before, lossless=True, color_encoding="raw", depth_encoding="raw")
    target = max((await session.get_scene()).objects, key=lambda o: o.box.pose_world_box.position_m.z)
    c = _centroid(target)
    top = c + np.array([0.0, 0.0, target.box.size_m.z / 2])  # the object's top face centre
    probe = device_hand("point", 0.0)
    tip = probe.positions_world_m[10]  # OpenXR index tip
    # The fingertip comes down from 30 cm above the top face to touching it.
    heights = np.concatenate([np.linspace(0.30, 0.005, 30), np.full(10, 0.005)])
    samples = [device_hand("point", 0.03 * i, offset=top + np.array([0, 0, h]) - tip) for i, h in enumerate(heights)]
    stream = session.watch_perception(include_hands=False, include_gaze=False)
    seen = []

    async def collect() -> None:
        async for m in stream:
            if m.WhichOneof("item") == "interaction" and m.interaction.object_id == target.object_id:
                seen.append(m.interaction.interaction)
                if m.interaction.interaction == 2:  # INTERACTION_TYPE_TOUCH
                    return

    task = asyncio.create_task(collect())
    await asyncio.sleep(0.3)  # subscribed before the hand moves
    await session.stream_sensor_data(samples, stream_name="hands")
    await asyncio.wait_for(task, 20)
    await stream.aclose()
    from sora_sdk._proto.sora.v1 import perception_pb2

    assert seen[0] == perception_pb2.INTERACTION_TYPE_NEAR and perception_pb2.INTERACTION_TYPE_TOUCH in seen
