"""Synthetic recordings on disk: frames and ground truth in one folder.

Layout (``save_synthetic`` writes it, ``load_synthetic`` / ``read_synthetic`` read it)::

    synthetic.json     format marker, intrinsics, depth scale, per frame: time, T_W_C (4x4), files
    color/000000.png   (h, w, 3) uint8 RGB
    depth/000000.png   (h, w) uint16, depth_m_per_unit from synthetic.json (0.001 when rendered)
    groundtruth.txt    TUM-style "timestamp tx ty tz qx qy qz qw" (T_W_C) for trajectory tools
    ground_truth.json  room size, seed, objects, planes, the triangle range of every element
    room.ply           the room mesh, float32 vertices, per-face RGBA colours
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from PIL import Image

from sora_sdk.core.errors import DataLossError, InvalidArgumentError, NotFoundError
from sora_sdk.core.geometry import Intrinsics, Pose
from sora_sdk.core.scene import PlaneLabel
from sora_sdk.core.sensors import CameraFrame

from ._ground_truth import GroundTruthObject, GroundTruthPlane, SyntheticRoom
from ._sequence import FrameRecord, RgbdSequence
from ._synthetic_render import synthetic_intrinsics

__all__ = ["SYNTHETIC_FORMAT", "load_synthetic", "read_synthetic", "save_synthetic"]

#: The ``format`` value of ``synthetic.json``; its presence marks a synthetic recording.
SYNTHETIC_FORMAT = "sora-synthetic"
_FORMAT_VERSION = 1
_SEQUENCE_FILE = "synthetic.json"
_GROUND_TRUTH_FILE = "ground_truth.json"
_MESH_FILE = "room.ply"


def save_synthetic(room: SyntheticRoom, frames: Sequence[CameraFrame], folder: str | Path) -> Path:
    """Write ``frames`` and ``room``'s ground truth into ``folder`` (created if needed) -> the folder.

    All frames must share one intrinsics and depth scale; depth must be uint16.
    """
    root = Path(folder)
    (root / "color").mkdir(parents=True, exist_ok=True)
    (root / "depth").mkdir(parents=True, exist_ok=True)
    if frames:
        intrinsics, scale = frames[0].intrinsics, frames[0].depth_m_per_unit
    else:
        intrinsics, scale = None, 0.001
    entries = []
    for frame in frames:
        if frame.intrinsics != intrinsics or frame.depth_m_per_unit != scale:
            raise InvalidArgumentError.field("frames", "all frames must share intrinsics and depth scale")
        entry: dict[str, Any] = {
            "sequence": frame.sequence,
            "capture_time_s": frame.capture_time_s,
            "pose_world_camera": None if frame.pose_world_camera is None else frame.pose_world_camera.matrix.tolist(),
            "color": None,
            "depth": None,
        }
        if frame.color is not None:
            entry["color"] = f"color/{frame.sequence:06d}.png"
            Image.fromarray(frame.color).save(root / entry["color"], compress_level=1)
        if frame.depth is not None:
            if frame.depth.dtype != np.uint16:
                raise InvalidArgumentError.field("frames", "depth must be uint16 to be stored")
            entry["depth"] = f"depth/{frame.sequence:06d}.png"
            Image.fromarray(frame.depth).save(root / entry["depth"], compress_level=1)
        entries.append(entry)

    sequence = {
        "format": SYNTHETIC_FORMAT,
        "format_version": _FORMAT_VERSION,
        "intrinsics": None if intrinsics is None else _intrinsics_to_json(intrinsics),
        "depth_m_per_unit": scale,
        "frames": entries,
    }
    (root / _SEQUENCE_FILE).write_text(json.dumps(sequence, indent=1))
    lines = ["# timestamp tx ty tz qx qy qz qw"]
    for frame in frames:
        if frame.pose_world_camera is not None:
            t, q = frame.pose_world_camera.translation, frame.pose_world_camera.quaternion_xyzw
            lines.append(" ".join(f"{v:.9f}" for v in (frame.capture_time_s, *t, *q)))
    (root / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    (root / _GROUND_TRUTH_FILE).write_text(json.dumps(_room_to_json(room), indent=1))
    room.to_trimesh().export(root / _MESH_FILE)
    return root


def read_synthetic(path: str | Path, *, frames: slice | None = None) -> RgbdSequence:
    """The frames of a synthetic recording, decoded lazily (see :class:`RgbdSequence`)."""
    root = Path(path)
    meta = _read_json(root / _SEQUENCE_FILE)
    if meta.get("format") != SYNTHETIC_FORMAT:
        raise DataLossError(f"{root / _SEQUENCE_FILE} is not a {SYNTHETIC_FORMAT} file")
    try:
        intrinsics = Intrinsics(**meta["intrinsics"]) if meta["intrinsics"] else synthetic_intrinsics()
        records = tuple(
            FrameRecord(
                sequence=int(e["sequence"]),
                capture_time_s=float(e["capture_time_s"]),
                pose_world_camera=None if e["pose_world_camera"] is None else Pose(np.array(e["pose_world_camera"])),
                color_path=None if e["color"] is None else root / e["color"],
                depth_path=None if e["depth"] is None else root / e["depth"],
            )
            for e in meta["frames"]
        )
        scale = float(meta["depth_m_per_unit"])
    except (KeyError, TypeError, ValueError) as e:
        raise DataLossError(f"{root / _SEQUENCE_FILE}: malformed ({e})") from e
    if frames is not None:
        records = records[frames]
    return RgbdSequence(root.name, "synthetic", root, intrinsics, scale, records)


def load_synthetic(path: str | Path, *, frames: slice | None = None) -> tuple[SyntheticRoom, RgbdSequence]:
    """A synthetic recording: (the room with its ground truth and mesh, the frames)."""
    root = Path(path)
    sequence = read_synthetic(root, frames=frames)
    gt = _read_json(root / _GROUND_TRUTH_FILE)
    mesh_path = root / _MESH_FILE
    if not mesh_path.is_file():
        raise NotFoundError(f"room mesh {mesh_path} not found")
    mesh = trimesh.load(mesh_path, process=False, force="mesh")
    visual = getattr(mesh, "visual", None)
    if not isinstance(mesh, trimesh.Trimesh) or not isinstance(visual, trimesh.visual.ColorVisuals):
        raise DataLossError(f"{mesh_path} is not a triangle mesh with face colours")
    try:
        room = _room_from_json(gt, mesh.vertices, mesh.faces, visual.face_colors)
    except (KeyError, TypeError, ValueError) as e:
        raise DataLossError(f"{root}: malformed ground truth ({e})") from e
    return room, sequence


def _intrinsics_to_json(k: Intrinsics) -> dict[str, Any]:
    return {
        "width_px": k.width_px, "height_px": k.height_px,
        "fx_px": k.fx_px, "fy_px": k.fy_px, "cx_px": k.cx_px, "cy_px": k.cy_px,
    }  # fmt: skip


def _room_to_json(room: SyntheticRoom) -> dict[str, Any]:
    elements = []
    for i, element_id in enumerate(room.element_ids):
        (idx,) = np.nonzero(room.triangle_elements == i)
        first = int(idx[0]) if idx.size else 0
        elements.append({"element_id": element_id, "first_triangle": first, "triangle_count": int(idx.size)})
    return {
        "format": SYNTHETIC_FORMAT,
        "format_version": _FORMAT_VERSION,
        "seed": room.seed,
        "size_m": room.size_m.tolist(),
        "elements": elements,
        "objects": [
            {
                "object_id": o.object_id,
                "label": o.label,
                "class_name": o.class_name,
                "color_name": o.color_name,
                "color_rgb": list(o.color_rgb),
                "pose_world_box": o.pose_world_box.matrix.tolist(),
                "size_m": o.size_m.tolist(),
                "centroid_world_m": o.centroid_world_m.tolist(),
                "support_id": o.support_id,
            }
            for o in room.objects
        ],
        "planes": [
            {
                "plane_id": p.plane_id,
                "label": p.label.value,
                "normal_world": p.normal_world.tolist(),
                "offset_m": p.offset_m,
                "polygon_world_m": p.polygon_world_m.tolist(),
            }
            for p in room.planes
        ],
    }


def _room_from_json(
    gt: dict[str, Any], vertices: np.ndarray, faces: np.ndarray, face_colors: np.ndarray
) -> SyntheticRoom:
    triangles = np.asarray(faces, dtype=np.int32)
    elements = np.full(len(triangles), -1, dtype=np.int32)
    for i, e in enumerate(gt["elements"]):
        elements[e["first_triangle"] : e["first_triangle"] + e["triangle_count"]] = i
    if np.any(elements < 0) or sum(e["triangle_count"] for e in gt["elements"]) != len(triangles):
        raise ValueError("element triangle ranges do not cover the mesh")
    objects = tuple(
        GroundTruthObject(
            object_id=o["object_id"],
            label=o["label"],
            class_name=o["class_name"],
            color_name=o["color_name"],
            color_rgb=(int(o["color_rgb"][0]), int(o["color_rgb"][1]), int(o["color_rgb"][2])),
            pose_world_box=Pose(np.array(o["pose_world_box"], dtype=np.float64)),
            size_m=np.array(o["size_m"], dtype=np.float64),
            centroid_world_m=np.array(o["centroid_world_m"], dtype=np.float64),
            support_id=o["support_id"],
        )
        for o in gt["objects"]
    )
    planes = tuple(
        GroundTruthPlane(
            plane_id=p["plane_id"],
            label=PlaneLabel(p["label"]),
            normal_world=np.array(p["normal_world"], dtype=np.float64),
            offset_m=float(p["offset_m"]),
            polygon_world_m=np.array(p["polygon_world_m"], dtype=np.float64),
        )
        for p in gt["planes"]
    )
    return SyntheticRoom(
        seed=int(gt["seed"]),
        size_m=np.array(gt["size_m"], dtype=np.float64),
        objects=objects,
        planes=planes,
        element_ids=tuple(e["element_id"] for e in gt["elements"]),
        vertices=np.asarray(vertices, dtype=np.float64),
        triangles=triangles,
        triangle_colors=np.ascontiguousarray(np.asarray(face_colors)[:, :3], dtype=np.uint8),
        triangle_elements=elements,
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise NotFoundError(f"{path} not found")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise DataLossError(f"{path}: not JSON ({e})") from e
    if not isinstance(data, dict):
        raise DataLossError(f"{path}: expected a JSON object")
    return data
