"""Proto -> core for sensor input, validating every field before anything is decoded.

Sizes are checked against the declared layout first (raw byte counts, encoded image headers), so a
malformed or hostile frame costs a few comparisons, never a large allocation. Every problem is an
InvalidArgumentError whose FieldViolation names the proto field path.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image

from .._proto.sora.v1 import sensor_pb2, types_pb2
from ..core.errors import FieldViolation, InvalidArgumentError
from ..core.geometry import Intrinsics, Pose, quaternion_to_matrix
from ..core.sensors import (
    OPENXR_HAND_JOINT_COUNT,
    AudioChunk,
    CameraFrame,
    EyeGazeSample,
    HandJointsSample,
    HeadPoseSample,
    SensorReading,
)

__all__ = [
    "decode_audio",
    "decode_camera_frame",
    "decode_eye_gaze",
    "decode_hand_joints",
    "decode_head_pose",
    "decode_intrinsics",
    "decode_pose",
    "decode_sensor_reading",
    "decode_vector3",
]

MAX_IMAGE_PIXELS = 4096 * 4096
#: Colour is resized to the intrinsics' size; it may be at most this much smaller on each axis. Without a
#: bound, a 1x1 colour image with 16384x16384 intrinsics made the server allocate 805 MB (hypothesis found it).
MAX_COLOR_UPSCALE = 4
MAX_AUDIO_CHUNK_S = 10.0
# A unit quaternion from a float32 client may be off by round-off; anything further is not a rotation.
QUATERNION_NORM_TOLERANCE = 0.1


def _bad(field: str, description: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{field}: {description}", violations=[FieldViolation(field, description)])


def _finite(field: str, value: float) -> float:
    if not math.isfinite(value):
        raise _bad(field, f"must be finite, got {value}")
    return float(value)


def decode_vector3(v: types_pb2.Vector3, field: str) -> np.ndarray:
    for axis in ("x", "y", "z"):
        _finite(f"{field}.{axis}", getattr(v, axis))
    return np.array([v.x, v.y, v.z], dtype=np.float64)


def decode_pose(p: types_pb2.Pose, field: str) -> Pose:
    """A proto Pose -> core Pose; rejects non-finite values and non-unit quaternions."""
    t = decode_vector3(p.position_m, f"{field}.position_m")
    q = np.array([p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w], dtype=np.float64)
    if not np.all(np.isfinite(q)):
        raise _bad(f"{field}.orientation", f"must be finite, got {q.tolist()}")
    norm = float(np.linalg.norm(q))
    if abs(norm - 1.0) > QUATERNION_NORM_TOLERANCE:
        raise _bad(f"{field}.orientation", f"must be a unit quaternion, norm is {norm:.4g}")
    m = np.eye(4)
    m[:3, :3] = quaternion_to_matrix(q)
    m[:3, 3] = t
    return Pose(m)


def decode_intrinsics(k: types_pb2.CameraIntrinsics, field: str) -> Intrinsics:
    intr = Intrinsics(int(k.width_px), int(k.height_px), k.fx_px, k.fy_px, k.cx_px, k.cy_px)
    problems = intr.problems()
    if problems:
        raise InvalidArgumentError(
            "; ".join(f"{field}.{f}: {d}" for f, d in problems),
            violations=[FieldViolation(f"{field}.{f}", d) for f, d in problems],
        )
    # Frames are decoded (and colour resized) to this size: the same pixel limit as images.
    _check_dims(intr.width_px, intr.height_px, field)
    return intr


def _check_dims(width: int, height: int, field: str) -> None:
    if width <= 0 or height <= 0:
        raise _bad(f"{field}.width_px", f"image size must be positive, got {width}x{height}")
    if width * height > MAX_IMAGE_PIXELS:
        raise _bad(f"{field}.width_px", f"{width}x{height} exceeds the limit of {MAX_IMAGE_PIXELS} pixels")


def _open_encoded(data: bytes, width: int, height: int, field: str, kind: str) -> Image.Image:
    """Opens an encoded image reading only its header, and checks its size against the declaration."""
    if not data:
        raise _bad(f"{field}.data", "is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format
    except Exception as exc:
        raise _bad(f"{field}.data", f"is not a readable {kind} image ({type(exc).__name__})") from None
    if (fmt or "").upper() != kind:
        raise _bad(f"{field}.encoding", f"declared {kind} but the data is {fmt}")
    if img.size != (width, height):
        raise _bad(f"{field}.data", f"decodes to {img.size[0]}x{img.size[1]}, declared {width}x{height}")
    return img


def _decode_color(c: sensor_pb2.ColorImage, field: str) -> np.ndarray:
    w, h = int(c.width_px), int(c.height_px)
    _check_dims(w, h, field)
    enc = c.encoding
    if enc == sensor_pb2.COLOR_ENCODING_RAW_RGB8 or enc == sensor_pb2.COLOR_ENCODING_RAW_RGBA8:
        ch = 3 if enc == sensor_pb2.COLOR_ENCODING_RAW_RGB8 else 4
        if len(c.data) != w * h * ch:
            raise _bad(f"{field}.data", f"has {len(c.data)} bytes, expected {w * h * ch} for {w}x{h}x{ch}")
        arr = np.frombuffer(c.data, dtype=np.uint8).reshape(h, w, ch)
        return np.ascontiguousarray(arr[:, :, :3])
    if enc in (sensor_pb2.COLOR_ENCODING_JPEG, sensor_pb2.COLOR_ENCODING_PNG):
        kind = "JPEG" if enc == sensor_pb2.COLOR_ENCODING_JPEG else "PNG"
        img = _open_encoded(c.data, w, h, field, kind)
        try:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
        except Exception as exc:
            raise _bad(f"{field}.data", f"{kind} data is corrupt ({type(exc).__name__})") from None
    raise _bad(f"{field}.encoding", f"unsupported colour encoding {enc}")


def _decode_depth(d: sensor_pb2.DepthImage, field: str) -> tuple[np.ndarray, float]:
    w, h = int(d.width_px), int(d.height_px)
    _check_dims(w, h, field)
    enc = d.encoding
    scale = d.m_per_unit or 0.001
    if enc in (sensor_pb2.DEPTH_ENCODING_PNG_U16, sensor_pb2.DEPTH_ENCODING_RAW_U16):
        if not (math.isfinite(scale) and 1e-6 <= scale <= 1.0):
            raise _bad(f"{field}.m_per_unit", f"must be in 1e-6..1 m per unit, got {d.m_per_unit}")
    if enc == sensor_pb2.DEPTH_ENCODING_RAW_U16:
        if len(d.data) != w * h * 2:
            raise _bad(f"{field}.data", f"has {len(d.data)} bytes, expected {w * h * 2} for {w}x{h} uint16")
        return np.frombuffer(d.data, dtype="<u2").reshape(h, w).astype(np.uint16), scale
    if enc == sensor_pb2.DEPTH_ENCODING_RAW_F32:
        if len(d.data) != w * h * 4:
            raise _bad(f"{field}.data", f"has {len(d.data)} bytes, expected {w * h * 4} for {w}x{h} float32")
        return np.frombuffer(d.data, dtype="<f4").reshape(h, w).astype(np.float32), 1.0
    if enc == sensor_pb2.DEPTH_ENCODING_PNG_U16:
        img = _open_encoded(d.data, w, h, field, "PNG")
        if img.mode not in ("I;16", "I;16B", "I;16L", "I"):
            raise _bad(f"{field}.data", f"PNG must be 16-bit greyscale, got mode {img.mode}")
        try:
            arr = np.asarray(img)
        except Exception as exc:
            raise _bad(f"{field}.data", f"PNG data is corrupt ({type(exc).__name__})") from None
        return arr.astype(np.uint16), scale
    raise _bad(f"{field}.encoding", f"unsupported depth encoding {enc}")


def decode_camera_frame(
    f: sensor_pb2.CameraFrame,
    *,
    default_intrinsics: Intrinsics | None,
    pose_required: bool,
    field: str = "camera_frame",
) -> CameraFrame:
    """Validates and decodes one frame. Colour of another size than depth is resized to depth's."""
    t = _finite(f"{field}.capture_time_s", f.capture_time_s)
    if t < 0:
        raise _bad(f"{field}.capture_time_s", f"must not be negative, got {t}")
    if f.HasField("intrinsics"):
        intr = decode_intrinsics(f.intrinsics, f"{field}.intrinsics")
    elif default_intrinsics is not None:
        intr = default_intrinsics
    else:
        raise _bad(f"{field}.intrinsics", "is required (no default_intrinsics in the stream config)")
    pose = None
    if f.HasField("pose_world_camera"):
        pose = decode_pose(f.pose_world_camera, f"{field}.pose_world_camera")
    elif pose_required and f.HasField("depth"):
        raise _bad(f"{field}.pose_world_camera", "is required with depth in sessions with POSE_SOURCE_CLIENT")
    depth = None
    scale = 0.001
    if f.HasField("depth"):
        if (f.depth.width_px, f.depth.height_px) != (intr.width_px, intr.height_px):
            raise _bad(
                f"{field}.depth.width_px",
                f"depth is {f.depth.width_px}x{f.depth.height_px} but intrinsics are for "
                f"{intr.width_px}x{intr.height_px}",
            )
        depth, scale = _decode_depth(f.depth, f"{field}.depth")
    color = None
    if f.HasField("color"):
        cw, ch = int(f.color.width_px), int(f.color.height_px)
        if cw > 0 and ch > 0 and (intr.width_px > MAX_COLOR_UPSCALE * cw or intr.height_px > MAX_COLOR_UPSCALE * ch):
            raise _bad(
                f"{field}.color.width_px",
                f"colour {cw}x{ch} is more than {MAX_COLOR_UPSCALE}x smaller than the intrinsics' "
                f"{intr.width_px}x{intr.height_px} it would be resized to",
            )
        color = _decode_color(f.color, f"{field}.color")
        if color.shape[:2] != (intr.height_px, intr.width_px):
            color = np.asarray(Image.fromarray(color).resize((intr.width_px, intr.height_px), Image.BILINEAR))
    if depth is None and color is None:
        raise _bad(field, "carries neither colour nor depth")
    return CameraFrame(
        sequence=int(f.sequence),
        capture_time_s=t,
        intrinsics=intr,
        pose_world_camera=pose,
        color=color,
        depth=depth,
        depth_m_per_unit=scale,
    )


def decode_head_pose(h: sensor_pb2.HeadPoseSample, field: str = "head_pose") -> HeadPoseSample:
    t = _finite(f"{field}.capture_time_s", h.capture_time_s)
    if not h.HasField("pose_world_head"):
        raise _bad(f"{field}.pose_world_head", "is required")
    return HeadPoseSample(t, decode_pose(h.pose_world_head, f"{field}.pose_world_head"))


_HANDEDNESS = {types_pb2.HANDEDNESS_LEFT: "left", types_pb2.HANDEDNESS_RIGHT: "right"}


def decode_hand_joints(s: sensor_pb2.HandJointsSample, field: str = "hand_joints") -> HandJointsSample:
    t = _finite(f"{field}.capture_time_s", s.capture_time_s)
    hand = _HANDEDNESS.get(s.handedness)
    if hand is None:
        raise _bad(f"{field}.handedness", "must be HANDEDNESS_LEFT or HANDEDNESS_RIGHT")
    n = len(s.joints)
    if n not in (0, OPENXR_HAND_JOINT_COUNT):
        raise _bad(f"{field}.joints", f"must hold {OPENXR_HAND_JOINT_COUNT} OpenXR joints (or none), got {n}")
    pos = np.zeros((n, 3), np.float32)
    quats = np.zeros((n, 4), np.float32)
    radii = np.zeros(n, np.float32)
    valid = np.zeros(n, bool)
    for i, j in enumerate(s.joints):
        p = decode_pose(j.pose_world_joint, f"{field}.joints[{i}].pose_world_joint")
        pos[i] = p.translation
        quats[i] = p.quaternion_xyzw
        radii[i] = _finite(f"{field}.joints[{i}].radius_m", j.radius_m)
        valid[i] = j.valid
    return HandJointsSample(t, hand, pos, radii, valid, quats)


def decode_eye_gaze(g: sensor_pb2.EyeGazeSample, field: str = "eye_gaze") -> EyeGazeSample:
    t = _finite(f"{field}.capture_time_s", g.capture_time_s)
    origin = decode_vector3(g.gaze_world.origin_m, f"{field}.gaze_world.origin_m")
    direction = decode_vector3(g.gaze_world.direction, f"{field}.gaze_world.direction")
    n = float(np.linalg.norm(direction))
    if n < 1e-6:
        raise _bad(f"{field}.gaze_world.direction", "must be non-zero")
    c = _finite(f"{field}.confidence", g.confidence)
    if not 0.0 <= c <= 1.0:
        raise _bad(f"{field}.confidence", f"must be in 0..1, got {c}")
    return EyeGazeSample(t, origin, direction / n, c)


def decode_audio(a: sensor_pb2.AudioChunk, field: str = "audio_chunk") -> AudioChunk:
    t = _finite(f"{field}.capture_time_s", a.capture_time_s)
    if not 8000 <= a.sample_rate_hz <= 48000:
        raise _bad(f"{field}.sample_rate_hz", f"must be in 8000..48000, got {a.sample_rate_hz}")
    ch = a.channels or 1
    if not 1 <= ch <= 8:
        raise _bad(f"{field}.channels", f"must be in 1..8, got {a.channels}")
    if len(a.pcm16) % (2 * ch):
        raise _bad(f"{field}.pcm16", f"{len(a.pcm16)} bytes is not a whole number of {ch}-channel int16 frames")
    frames = len(a.pcm16) // (2 * ch)
    if frames > MAX_AUDIO_CHUNK_S * a.sample_rate_hz:
        raise _bad(f"{field}.pcm16", f"chunk is longer than {MAX_AUDIO_CHUNK_S} s")
    samples = np.frombuffer(a.pcm16, dtype="<i2").reshape(frames, ch)[:, 0].astype(np.int16)
    return AudioChunk(t, int(a.sample_rate_hz), samples)


def decode_sensor_reading(r: sensor_pb2.SensorReading, field: str = "sensor_reading") -> SensorReading:
    t = _finite(f"{field}.capture_time_s", r.capture_time_s)
    if not 0 < len(r.name) <= 128:
        raise _bad(f"{field}.name", "must be 1..128 characters")
    return SensorReading(t, r.name, _finite(f"{field}.value", r.value), r.unit[:32])
