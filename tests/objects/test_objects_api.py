"""The object layer's public surface: exports, update bookkeeping, input checks, colours, boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sora_sdk.objects as objects
from sora_sdk.core import InvalidArgumentError, Pose
from sora_sdk.objects import PALETTE, ObjectMapper, ObjectsUpdate, UpBox, box_iou, color_name, describe, up_frame


def test_exports_are_frozen() -> None:
    mine = {
        "PALETTE", "PREDICATES", "Detection2D", "Detection3D", "DiscoveryResult", "FreeSpaceProbe",
        "ObjectDiscovery", "ObjectMapper", "ObjectOptions", "ObjectTracker", "ObjectVocabulary", "ObjectsUpdate",
        "Observation", "TrackUpdate", "UpBox", "UpdateStats", "box_iou", "color_name", "compute_relations",
        "describe", "diff_relations", "dominant_color", "spatial_relations", "up_frame", "view_relations",
    }  # fmt: skip
    assert mine <= set(objects.__all__)
    for name in objects.__all__:
        assert hasattr(objects, name), name


def test_an_empty_map_gives_empty_updates() -> None:
    om = ObjectMapper()
    u = om.update({}, {}, time_s=0.0)
    assert isinstance(u, ObjectsUpdate) and u.empty and u.version == 0
    assert om.objects == {} and om.relations == set() and om.query(text="") == []
    assert not ObjectsUpdate(removed_ids=["obj-0001"]).empty


def test_bad_input_is_refused() -> None:
    om = ObjectMapper()
    with pytest.raises(InvalidArgumentError):
        om.update({}, {}, time_s=math.nan)
    with pytest.raises(InvalidArgumentError):
        om.query(max_results=-1)
    with pytest.raises(InvalidArgumentError):
        om.query(relation="on_top_of")
    with pytest.raises(ValueError):
        up_frame(np.zeros(3))


def test_up_frame_is_a_rotation_with_up_third() -> None:
    for up in ([0, 0, 1], [0, 0, -2], [0.01, -0.06, 1.0], [1, 0, 0]):
        r = up_frame(np.asarray(up, dtype=float))
        assert np.allclose(r.T @ r, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
        assert np.allclose(r[:, 2], np.asarray(up) / np.linalg.norm(up))
    assert np.allclose(up_frame(None), np.eye(3))


def test_palette_colours_name_themselves_lit_and_shaded() -> None:
    for name, rgb in PALETTE.items():
        assert color_name(np.array(rgb)) == name
    # Faces turned from the light (the renderer's shading is 0.55-1): saturated colours keep their names.
    for name, rgb in PALETTE.items():
        if name in ("white", "gray", "black", "pink", "orange"):
            continue  # told by brightness, which shading changes
        assert color_name(np.array(rgb) * 0.75) == name, name


def test_descriptions() -> None:
    assert describe(np.array([0.1, 0.08, 0.05]), "red") == "small red object"
    assert describe(np.array([0.3, 0.2, 0.1]), "") == "medium object"
    assert describe(np.array([0.6, 0.2, 0.5]), "blue") == "large blue object"


def test_box_overlap() -> None:
    a = UpBox(np.array([0.0, 0.0, 0.5]), np.array([1.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    assert box_iou(a, a) == pytest.approx(1.0)
    b = UpBox(np.array([0.5, 0.0, 0.5]), np.array([1.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    assert box_iou(a, b) == pytest.approx(1.0 / 3.0)
    c = UpBox(np.array([0.0, 0.0, 0.5]), np.array([1.0, 1.0]), np.array([1.0, 1.0, 1.0]))  # turned 45 deg
    assert box_iou(a, c) == pytest.approx((math.sqrt(2) - 1) * 2 / (2 - (math.sqrt(2) - 1) * 2), rel=1e-6)
    far = UpBox(np.array([3.0, 0.0, 0.5]), np.array([1.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    assert box_iou(a, far) == 0.0 and a.gap_xy(far) == pytest.approx(2.0)
    pose = a.pose(np.eye(3))
    assert isinstance(pose, Pose) and np.allclose(UpBox.from_pose(pose, a.size, np.eye(3)).centre, a.centre)
