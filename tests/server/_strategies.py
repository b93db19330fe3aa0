"""Hypothesis strategies for Sora's request messages, shared by the hostile-input and validator tests.

:func:`messages` builds any message of a generated class from its descriptor (every field set or not,
one member or none of each oneof, numbers from the nasty end of their type, unknown enum values, odd
strings, random bytes); the strategies after it build requests that get past the first check (camera
frames whose declared sizes agree, so pixels are really decoded; unit quaternions; 26-joint hands).

Reproducible by default: ``FUZZ`` derandomizes (the same examples on every run, in CI too) and bounds
the count. ``SORA_FUZZ_RANDOM=1`` explores fresh examples; ``SORA_FUZZ_EXAMPLES=N`` sets the count.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

from sora_sdk._proto.sora.v1 import avatar_pb2, sensor_pb2, types_pb2

EXAMPLES = int(os.environ.get("SORA_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("SORA_FUZZ_RANDOM"),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# ---- strategies: any message from its descriptor ---------------------------------------------------

NAN, INF = float("nan"), float("inf")
_NASTY_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-9, 1e9, 3.4e38, -3.4e38, 1e300, -1e300, 5e-324, INF, -INF, NAN]


def floats(width: int) -> st.SearchStrategy[float]:
    nasty = [x for x in _NASTY_FLOATS if width == 64 or not math.isfinite(x) or abs(x) < 3.4e38]
    return st.one_of(st.sampled_from(nasty), st.floats(width=width, allow_nan=True, allow_infinity=True))


def ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    edges = sorted(x for x in {lo, hi, 0, 1, 2, 26, 100_000, 2**31, 2**32 - 1} if lo <= x <= hi)
    return st.one_of(st.sampled_from(edges), st.integers(lo, hi))


TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "a" * 129, "ü" * 300, "x" * 4001, "../../etc/passwd", "%s%n", "\ud7ff" * 3]),
)
F = FieldDescriptor
_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    F.TYPE_DOUBLE: floats(64),
    F.TYPE_FLOAT: floats(32),
    F.TYPE_INT32: ints(-(2**31), 2**31 - 1),
    F.TYPE_SINT32: ints(-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: ints(-(2**31), 2**31 - 1),
    F.TYPE_UINT32: ints(0, 2**32 - 1),
    F.TYPE_FIXED32: ints(0, 2**32 - 1),
    F.TYPE_INT64: ints(-(2**63), 2**63 - 1),
    F.TYPE_SINT64: ints(-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: ints(-(2**63), 2**63 - 1),
    F.TYPE_UINT64: ints(0, 2**64 - 1),
    F.TYPE_FIXED64: ints(0, 2**64 - 1),
    F.TYPE_BOOL: st.booleans(),
    F.TYPE_STRING: TEXT,
    F.TYPE_BYTES: st.binary(max_size=300),
}


def messages(
    cls: type[Message], *, depth: int = 4, special: dict[str, st.SearchStrategy[Any]] | None = None
) -> st.SearchStrategy[Message]:
    """Any message of ``cls``: each field set or not, one member (or none) of each oneof, values from
    the nasty end of their type. ``special`` maps a message or field full name to its own strategy."""
    special = special or {}

    @st.composite
    def build(draw: Callable[..., Any]) -> Message:
        msg = cls()
        desc = msg.DESCRIPTOR
        chosen = {o.full_name: draw(st.sampled_from([None, *o.fields])) for o in desc.oneofs}
        for f in desc.fields:
            if f.containing_oneof is not None:
                if chosen[f.containing_oneof.full_name] is not f:
                    continue
            elif not draw(st.booleans()):
                continue
            value = _field_value(draw, msg, f, depth, special)
            if f.label == F.LABEL_REPEATED:
                target = getattr(msg, f.name)
                for v in value:
                    if f.type == F.TYPE_MESSAGE:
                        target.add().CopyFrom(v)
                    else:
                        target.append(v)
            elif f.type == F.TYPE_MESSAGE:
                getattr(msg, f.name).CopyFrom(value)
            else:
                setattr(msg, f.name, value)
        return msg

    name = cls.DESCRIPTOR.full_name
    return special[name] if name in special else build()


def _field_value(draw: Any, msg: Message, f: FieldDescriptor, depth: int, special: dict[str, Any]) -> Any:
    if f.full_name in special:
        return draw(special[f.full_name])
    if f.type == F.TYPE_MESSAGE:
        sample = getattr(msg, f.name)
        sub = type(sample.add()) if f.label == F.LABEL_REPEATED else type(sample)
        if f.label == F.LABEL_REPEATED:
            msg.ClearField(f.name)
        one = messages(sub, depth=depth - 1, special=special) if depth > 0 else st.just(sub())
    elif f.type == F.TYPE_ENUM:
        values = [v.number for v in f.enum_type.values]
        one = st.one_of(st.sampled_from(values), st.integers(-5, 1000))
    else:
        one = _SCALARS[f.type]
    if f.label == F.LABEL_REPEATED:
        return draw(st.lists(one, max_size=3))
    return draw(one)


# ---- strategies: requests that get past the first check ---------------------------------------------


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG")
    return buf.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width x height`` (a decompression bomb's header) over 1x1 of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )


#: True three times in four (hypothesis' integers lean to 0, so ``integers(0, 3)`` would not be).
_MOSTLY = st.sampled_from([True, True, True, False])
_DIMS = st.one_of(st.integers(1, 24), st.sampled_from([0, 1, 4097, 16384, 100_000, 2**32 - 1]))
_SMALL = st.integers(1, 24)


@st.composite
def _image(draw: Any, w: int, h: int, kind: str, *, wellformed: bool) -> tuple[int, bytes]:
    """(encoding, data) for a colour or depth image declared ``w x h``.

    Well-formed: raw bytes of exactly the declared layout (float depth with NaN/inf/huge values), or a
    PNG/JPEG of that size, with random pixels. Otherwise also: other sizes, truncated or bit-flipped
    files, a PNG header claiming 100000 pixels a side, random bytes, unknown encodings.
    """
    color = kind == "color"
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    small = 0 < w <= 64 and 0 < h <= 64
    choices = ["raw", "raw_f32", "png", "jpeg"] if color is False else ["raw", "raw", "png", "jpeg"]
    if not wellformed:
        choices += ["wrong_size", "truncated", "bitflip", "bomb", "bytes"]
    choice = draw(st.sampled_from(choices)) if small else draw(st.sampled_from(["bomb", "bytes"]))
    if choice == "jpeg" and not color:
        choice = "png"
    if choice == "raw" and color:
        ch = draw(st.sampled_from([3, 4]))
        return (3 if ch == 3 else 4), rng.integers(0, 256, (h, w, ch), dtype=np.uint8).tobytes()
    if choice == "raw":
        return 2, rng.integers(0, 65536, (h, w), dtype=np.uint16).astype("<u2").tobytes()
    if choice == "raw_f32":
        d = rng.uniform(-1, 10, (h, w)).astype(np.float32)
        d[rng.random((h, w)) < 0.2] = draw(st.sampled_from([NAN, INF, -INF, 0.0, -0.0, 3.4e38, 1e-45]))
        return 3, d.astype("<f4").tobytes()
    if choice == "bomb":
        return (2 if color else 1), png_header_claiming(draw(st.sampled_from([w or 1, 65535, 100_000])), h or 1)
    if choice == "bytes":
        return draw(st.integers(-3, 9)), draw(st.binary(max_size=200))
    ew, eh = (w, h) if choice != "wrong_size" else (max(1, w + draw(st.integers(-2, 2))), max(1, h - 1))
    if color:
        shape = (eh, ew, 3) if draw(st.booleans()) else (eh, ew)  # RGB, or greyscale
        arr = rng.integers(0, 256, shape, dtype=np.uint8)
        encoding, data = (1, _jpeg(arr)) if choice == "jpeg" else (2, _png(arr))
    else:  # 16-bit depth, or an 8-bit RGB PNG sent as depth
        arr = (
            rng.integers(0, 65536, (eh, ew), dtype=np.uint16)
            if wellformed or draw(_MOSTLY)
            else rng.integers(0, 256, (eh, ew, 3), dtype=np.uint8)
        )
        encoding, data = 1, _png(arr)
    if choice == "truncated":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif choice == "bitflip":
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] ^= 1 << draw(st.integers(0, 7))
        data = bytes(raw)
    return encoding, data


@st.composite
def unit_poses(draw: Any) -> types_pb2.Pose:
    q = np.array([draw(st.floats(-1, 1)) for _ in range(4)]) + np.array([0, 0, 0, 1e-3])
    q = q / np.linalg.norm(q)
    t = [draw(st.floats(-100, 100)) for _ in range(3)]
    return types_pb2.Pose(
        position_m=types_pb2.Vector3(x=t[0], y=t[1], z=t[2]),
        orientation=types_pb2.Quaternion(x=q[0], y=q[1], z=q[2], w=q[3]),
    )


def poses() -> st.SearchStrategy[types_pb2.Pose]:
    """A rotation and a translation half the time; any Pose message (NaN, non-unit, empty) otherwise."""
    return st.one_of(unit_poses(), messages(types_pb2.Pose))


@st.composite
def camera_frames(draw: Any, plausible: bool | None = None) -> sensor_pb2.CameraFrame:
    """Plausible (sizes agree, so pixels are really decoded and often fused) or anything; half each by default."""
    if plausible is None:
        plausible = draw(st.booleans())
    w, h = (draw(_SMALL), draw(_SMALL)) if plausible else (draw(_DIMS), draw(_DIMS))
    f = sensor_pb2.CameraFrame(
        sequence=draw(ints(0, 2**64 - 1)),
        capture_time_s=draw(st.floats(0, 1e6)) if plausible or draw(st.booleans()) else draw(floats(64)),
    )
    if plausible or draw(_MOSTLY):
        if plausible or draw(st.booleans()):
            cx, cy, fx = w / 2, h / 2, float(w)
        else:
            cx, cy, fx = draw(floats(64)), draw(floats(64)), draw(floats(64))
        f.intrinsics.CopyFrom(
            types_pb2.CameraIntrinsics(width_px=w, height_px=h, fx_px=fx, fy_px=fx, cx_px=cx, cy_px=cy)
        )
    if plausible or draw(_MOSTLY):
        f.pose_world_camera.CopyFrom(draw(unit_poses() if plausible else poses()))
    if draw(_MOSTLY):
        dw, dh = (w, h) if plausible or draw(_MOSTLY) else (draw(_DIMS), draw(_DIMS))
        encoding, data = draw(_image(dw, dh, "depth", wellformed=plausible))
        scale = draw(st.sampled_from([0.001, 0.0002, 0.0])) if plausible else draw(floats(64))
        f.depth.CopyFrom(
            sensor_pb2.DepthImage(encoding=encoding, width_px=dw, height_px=dh, m_per_unit=scale, data=data)
        )
    if draw(st.booleans()):
        cw, ch = (
            (w, h)
            if draw(st.booleans())
            else (draw(_SMALL if plausible else _DIMS), draw(_SMALL if plausible else _DIMS))
        )
        encoding, data = draw(_image(cw, ch, "color", wellformed=plausible))
        f.color.CopyFrom(sensor_pb2.ColorImage(encoding=encoding, width_px=cw, height_px=ch, data=data))
    return f


@st.composite
def hand_samples(draw: Any) -> sensor_pb2.HandJointsSample:
    s = sensor_pb2.HandJointsSample(capture_time_s=draw(floats(64)), handedness=draw(st.integers(-1, 4)))
    for _ in range(draw(st.sampled_from([0, 26, 26, 25, 27]))):
        j = s.joints.add(radius_m=draw(floats(32)), valid=draw(st.booleans()))
        j.pose_world_joint.CopyFrom(draw(poses()))
    return s


_SENSOR_SPECIAL: dict[str, st.SearchStrategy[Any]] = {
    "sora.v1.CameraFrame": camera_frames(),
    "sora.v1.HandJointsSample": hand_samples(),
    "sora.v1.Pose": poses(),
}


def sensor_requests() -> st.SearchStrategy[Message]:
    """Any sensor message; camera frames (the largest attack surface) three times in four, plausible
    ones (which the server accepts more often than not, so the rest of a stream is reached) half the time."""

    def frame(plausible: bool | None) -> st.SearchStrategy[Message]:
        return camera_frames(plausible).map(lambda f: sensor_pb2.StreamSensorDataRequest(camera_frame=f))

    return st.sampled_from(["plausible", "plausible", "frame", "any"]).flatmap(
        lambda kind: (
            frame(True)
            if kind == "plausible"
            else frame(None)
            if kind == "frame"
            else messages(sensor_pb2.StreamSensorDataRequest, special=_SENSOR_SPECIAL)
        )
    )


@st.composite
def sensor_configs(draw: Any) -> sensor_pb2.SensorStreamConfig:
    """Mostly a config the server accepts (so the payloads behind it are what gets tested), else anything."""
    if not draw(_MOSTLY):
        return draw(messages(sensor_pb2.SensorStreamConfig))
    # A fresh stream name: frame sequences are per stream, and a repeated one is skipped as a retry.
    config = sensor_pb2.SensorStreamConfig(
        stream_name=f"s{draw(st.integers(0, 2**40))}", ingest_mode=draw(st.sampled_from([0, 1, 2, 7]))
    )
    if draw(st.booleans()):
        w, h = draw(st.integers(1, 24)), draw(st.integers(1, 24))
        config.default_intrinsics.CopyFrom(
            types_pb2.CameraIntrinsics(width_px=w, height_px=h, fx_px=w, fy_px=w, cx_px=w / 2, cy_px=h / 2)
        )
    return config


@st.composite
def conversation_configs(draw: Any) -> avatar_pb2.ConversationConfig:
    """Mostly a config the server accepts (so the turns behind it are what gets tested), else anything."""
    config = draw(messages(avatar_pb2.ConversationConfig))
    if draw(_MOSTLY):
        config.output_sample_rate_hz = draw(st.sampled_from([0, 8000, 16000, 48000]))
        for name in ("persona", "avatar_name", "voice", "language"):
            setattr(config, name, getattr(config, name)[:100])
    return config


@st.composite
def _user_audio(draw: Any) -> avatar_pb2.ConverseRequest:
    """Speech input: sample rates at and beyond the limits, odd byte counts, silence, noise or a tone."""
    rate = draw(st.sampled_from([0, 8000, 16000, 44100, 48000, 7999, 48001, 2**32 - 1]))
    n = draw(st.sampled_from([0, 1, 160, 1600, 8000]))
    kind = draw(st.sampled_from(["zeros", "noise", "tone", "extremes"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "zeros":
        pcm = np.zeros(n, np.int16)
    elif kind == "noise":
        pcm = rng.integers(-32768, 32768, n, dtype=np.int16)
    elif kind == "tone":
        pcm = (8000 * np.sin(np.arange(n) * 2 * np.pi * 220 / max(rate, 8000))).astype(np.int16)
    else:
        pcm = np.where(np.arange(n) % 2, 32767, -32768).astype(np.int16)
    data = pcm.astype("<i2").tobytes() + (b"\x01" if not draw(_MOSTLY) else b"")
    audio = avatar_pb2.UserAudio(sample_rate_hz=rate, pcm16=data, end_of_utterance=draw(st.booleans()))
    return avatar_pb2.ConverseRequest(audio=audio)


def converse_requests() -> st.SearchStrategy[Message]:
    """Turns of a conversation: text (empty, long, odd), speech, interrupts, or any ConverseRequest."""
    return st.one_of(
        TEXT.map(lambda t: avatar_pb2.ConverseRequest(text=avatar_pb2.UserText(text=t))),
        _user_audio(),
        messages(avatar_pb2.ConverseRequest),
    )
