"""A configured 2D detector labels the service's objects: the real ONNX path from config to GetScene.

The model is the tests' own colour detector (tests/objects/detector_helpers.py: an Ultralytics-layout
segmentation model that finds red, green and blue regions), exported to ONNX here; no download.
"""

from __future__ import annotations

import numpy as np

from sora_sdk.client import SoraClient
from sora_sdk.datasets import generate_room, orbit_trajectory, render, synthetic_intrinsics
from sora_sdk.server import create_server
from tests.conftest import test_config
from tests.objects.detector_helpers import NAMES_METADATA, ColorBlobYolo, export_onnx


async def test_detector_labels_reach_the_objects_of_a_session(tmp_path) -> None:
    model = export_onnx(tmp_path / "colors.onnx", ColorBlobYolo(segment=True), dynamic=True, metadata=NAMES_METADATA)
    config = test_config(objects={"detector_model": str(model), "detector_interval_s": 0.0, "interval_s": 0.2})
    room = generate_room(0)
    frames = render(room, orbit_trajectory(room, 20), synthetic_intrinsics(320, 240))
    running = await create_server(config)
    try:
        async with SoraClient(f"127.0.0.1:{running.port}") as client:
            caps = await client.capabilities()
            assert [(b.component, b.name, b.active) for b in caps.backends if b.component == "object-labels"] == [
                ("object-labels", "onnx-yolo", True)
            ]
            session = await client.create_session()
            await session.stream_frames(frames, lossless=True, color_encoding="raw", depth_encoding="raw")
            objects = list((await session.get_scene()).objects)
    finally:
        await running.stop(0.2)
    by_label = {}
    for o in objects:
        by_label.setdefault(o.label, []).append(o)
    # Ground truth: every object painted one of the detector's colours, and found, carries its label.
    want = [g for g in room.objects if g.color_name in ("red", "green", "blue")]
    assert want, "the room has objects of the detector's colours"
    labelled = 0
    for g in want:
        p = np.array(g.centroid_world_m)
        xy = {o.object_id: np.array([o.box.pose_world_box.position_m.x, o.box.pose_world_box.position_m.y])
              for o in objects}  # fmt: skip
        near = [o for o in objects if np.linalg.norm(xy[o.object_id] - p[:2]) < 0.08]
        if near and near[0].label == g.color_name:
            assert near[0].label_confidence > 0.3
            labelled += 1
    # Every one: a detection made before the map held enough of its object to find it waits for the
    # update that does (before it did, the colours seen first in the scan's early frames went unlabelled).
    assert labelled == len(want), (labelled, [g.color_name for g in want])
    # Nothing else got a colour class it does not have.
    for label in ("red", "green", "blue"):
        for o in by_label.get(label, []):
            assert o.color_name in (label, ""), (label, o.color_name)
