"""The sensor decoders (``sora_sdk/server/_validate.py``) under hypothesis: any message either decodes to
arrays of the declared shape or is refused naming its field, and memory stays bounded by the declared
size, never by what a header claims; a declared 100000 x 100000 image is refused before anything is
allocated for it."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sora_sdk._proto.sora.v1 import sensor_pb2, types_pb2
from sora_sdk.core.errors import InvalidArgumentError
from sora_sdk.server._validate import (
    MAX_AUDIO_CHUNK_S,
    MAX_COLOR_UPSCALE,
    MAX_IMAGE_PIXELS,
    decode_audio,
    decode_camera_frame,
    decode_eye_gaze,
    decode_hand_joints,
    decode_head_pose,
    decode_intrinsics,
    decode_sensor_reading,
)
from tests.server._strategies import (
    FUZZ,
    camera_frames,
    floats,
    hand_samples,
    ints,
    messages,
    png_header_claiming,
    unit_poses,
)

MiB = 1 << 20


def _refused_naming(err: InvalidArgumentError, prefix: str) -> None:
    assert err.violations, err
    for v in err.violations:
        assert v.field == prefix or v.field.startswith(prefix + "."), (v.field, prefix)
        assert v.description
    assert err.violations[0].field in err.message


def _traced(fn: Callable[[], Any]) -> tuple[Any, int]:
    """(result or the InvalidArgumentError raised, peak bytes allocated meanwhile; numpy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        try:
            out: Any = fn()
        except InvalidArgumentError as err:
            out = err
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _declared_pixels(f: sensor_pb2.CameraFrame) -> int:
    dims = [(f.intrinsics.width_px, f.intrinsics.height_px), (f.depth.width_px, f.depth.height_px)]
    dims.append((f.color.width_px, f.color.height_px))
    return min(MAX_IMAGE_PIXELS, max(w * h for w, h in dims))


@FUZZ
@given(
    frame=camera_frames(),
    pose_required=st.booleans(),
    default=st.sampled_from([None, (4, 3), (16, 12)]),
)
def test_a_frame_decodes_to_its_declared_shape_or_is_refused_naming_a_field(
    frame: sensor_pb2.CameraFrame, pose_required: bool, default: tuple[int, int] | None
) -> None:
    from sora_sdk.core.geometry import Intrinsics

    intr = None if default is None else Intrinsics(default[0], default[1], 10.0, 10.0, default[0] / 2, default[1] / 2)
    out, peak = _traced(lambda: decode_camera_frame(frame, default_intrinsics=intr, pose_required=pose_required))
    # Memory follows the declared pixels (capped), plus the message itself: never a header's claim.
    assert peak <= 40 * _declared_pixels(frame) + 4 * frame.ByteSize() + MiB, peak
    if isinstance(out, InvalidArgumentError):
        _refused_naming(out, "camera_frame")
        return
    k = out.intrinsics
    assert k.width_px * k.height_px <= MAX_IMAGE_PIXELS
    if out.depth is not None:
        assert out.depth.shape == (k.height_px, k.width_px) and out.depth.dtype in (np.uint16, np.float32)
        assert 1e-6 <= out.depth_m_per_unit <= 1.0
    if out.color is not None:
        assert out.color.shape == (k.height_px, k.width_px, 3) and out.color.dtype == np.uint8
    assert out.depth is not None or out.color is not None
    if out.pose_world_camera is not None:
        assert np.all(np.isfinite(out.pose_world_camera.matrix))
    assert np.isfinite(out.capture_time_s) and out.capture_time_s >= 0


def _frame(w: int, h: int, *, depth: tuple[int, bytes] | None = None, color: tuple[int, bytes] | None = None,
           intr: tuple[int, int] | None = None) -> sensor_pb2.CameraFrame:  # fmt: skip
    iw, ih = intr or (w, h)
    f = sensor_pb2.CameraFrame(
        capture_time_s=1.0,
        intrinsics=types_pb2.CameraIntrinsics(width_px=iw, height_px=ih, fx_px=100, fy_px=100, cx_px=iw / 2,
                                              cy_px=ih / 2),
        pose_world_camera=types_pb2.Pose(orientation=types_pb2.Quaternion(w=1.0)),
    )  # fmt: skip
    if depth is not None:
        f.depth.CopyFrom(sensor_pb2.DepthImage(encoding=depth[0], width_px=w, height_px=h, data=depth[1]))
    if color is not None:
        f.color.CopyFrom(sensor_pb2.ColorImage(encoding=color[0], width_px=w, height_px=h, data=color[1]))
    return f


HUGE = 100_000


@pytest.mark.parametrize(
    "name, frame, field",
    [
        ("raw colour", _frame(HUGE, HUGE, color=(3, b"\x00" * 30), intr=(64, 64)), "camera_frame.color.width_px"),
        ("raw depth", _frame(HUGE, HUGE, depth=(2, b"\x00" * 30), intr=(64, 64)), "camera_frame.depth.width_px"),
        ("png colour", _frame(HUGE, HUGE, color=(2, png_header_claiming(HUGE, HUGE)), intr=(64, 64)),
         "camera_frame.color.width_px"),
        ("png depth", _frame(HUGE, HUGE, depth=(1, png_header_claiming(HUGE, HUGE)), intr=(64, 64)),
         "camera_frame.depth.width_px"),
        ("intrinsics", _frame(HUGE, HUGE, depth=(2, b"\x00" * 30)), "camera_frame.intrinsics.width_px"),
        ("4097 x 4097 intrinsics", _frame(4097, 4097, color=(3, b"\x00" * 3)), "camera_frame.intrinsics.width_px"),
        ("png header bigger than declared", _frame(64, 64, color=(2, png_header_claiming(HUGE, HUGE))),
         "camera_frame.color.data"),
        ("png depth header bigger than declared", _frame(64, 64, depth=(1, png_header_claiming(HUGE, HUGE))),
         "camera_frame.depth.data"),
        ("1x1 colour, 4096 x 4096 intrinsics", _frame(1, 1, color=(3, b"\x00" * 3), intr=(4096, 4096)),
         "camera_frame.color.width_px"),
    ],
)  # fmt: skip
def test_a_huge_declared_image_is_refused_before_it_is_allocated(name: str, frame: Any, field: str) -> None:
    t0 = time.perf_counter()
    out, peak = _traced(lambda: decode_camera_frame(frame, default_intrinsics=None, pose_required=False))
    assert isinstance(out, InvalidArgumentError), name
    assert out.violations[0].field == field, (name, out.violations)
    assert peak < MiB, (name, peak)
    assert time.perf_counter() - t0 < 0.5, name


def test_colour_may_be_resized_up_to_its_limit() -> None:
    w, h = 16, 12
    f = _frame(w, h, color=(3, b"\x80" * (w * h * 3)), intr=(w * MAX_COLOR_UPSCALE, h * MAX_COLOR_UPSCALE))
    out = decode_camera_frame(f, default_intrinsics=None, pose_required=False)
    assert out.color is not None and out.color.shape == (h * MAX_COLOR_UPSCALE, w * MAX_COLOR_UPSCALE, 3)


@FUZZ
@given(k=messages(types_pb2.CameraIntrinsics))
def test_intrinsics(k: types_pb2.CameraIntrinsics) -> None:
    try:
        intr = decode_intrinsics(k, "intrinsics")
    except InvalidArgumentError as err:
        _refused_naming(err, "intrinsics")
        return
    assert 0 < intr.width_px * intr.height_px <= MAX_IMAGE_PIXELS
    assert all(np.isfinite([intr.fx_px, intr.fy_px, intr.cx_px, intr.cy_px])) and intr.fx_px > 0


@st.composite
def audio_chunks(draw: Any) -> sensor_pb2.AudioChunk:
    if draw(st.booleans()):
        return draw(messages(sensor_pb2.AudioChunk))
    rate = draw(st.sampled_from([7999, 8000, 16000, 44100, 48000, 48001, 0]))
    channels = draw(st.sampled_from([0, 1, 2, 8, 9]))
    frames = draw(st.sampled_from([0, 1, 160, int(MAX_AUDIO_CHUNK_S * max(rate, 1)) + 1]))
    extra = draw(st.sampled_from([0, 0, 1]))
    pcm = bytes(2 * frames * max(channels, 1) + extra)
    return sensor_pb2.AudioChunk(capture_time_s=draw(floats(64)), sample_rate_hz=rate, channels=channels, pcm16=pcm)


@FUZZ
@given(a=audio_chunks())
def test_audio(a: sensor_pb2.AudioChunk) -> None:
    out, peak = _traced(lambda: decode_audio(a))
    assert peak <= 4 * len(a.pcm16) + MiB
    if isinstance(out, InvalidArgumentError):
        _refused_naming(out, "audio_chunk")
        return
    assert out.samples.dtype == np.int16 and out.samples.ndim == 1
    assert len(out.samples) <= MAX_AUDIO_CHUNK_S * out.sample_rate_hz
    assert 8000 <= out.sample_rate_hz <= 48000 and np.isfinite(out.capture_time_s)


@FUZZ
@given(
    hands=st.one_of(hand_samples(), messages(sensor_pb2.HandJointsSample)),
    gaze=messages(sensor_pb2.EyeGazeSample),
    head=st.one_of(messages(sensor_pb2.HeadPoseSample), unit_poses().map(
        lambda p: sensor_pb2.HeadPoseSample(capture_time_s=1.0, pose_world_head=p))),
    reading=messages(sensor_pb2.SensorReading),
    seconds=ints(0, 10),
)  # fmt: skip
def test_device_samples(hands: Any, gaze: Any, head: Any, reading: Any, seconds: int) -> None:
    def check(fn: Callable[[], Any], prefix: str) -> Any:
        try:
            return fn()
        except InvalidArgumentError as err:
            _refused_naming(err, prefix)
            return None

    h = check(lambda: decode_hand_joints(hands), "hand_joints")
    if h is not None:
        assert len(h.positions_world_m) in (0, 26) and np.all(np.isfinite(h.positions_world_m))
        assert np.all(np.isfinite(h.radii_m))
    g = check(lambda: decode_eye_gaze(gaze), "eye_gaze")
    if g is not None:
        assert np.isclose(np.linalg.norm(g.direction_world), 1.0) and np.all(np.isfinite(g.origin_world_m))
        assert 0.0 <= g.confidence <= 1.0
    p = check(lambda: decode_head_pose(head), "head_pose")
    if p is not None:
        assert np.all(np.isfinite(p.pose_world_head.matrix))
    r = check(lambda: decode_sensor_reading(reading), "sensor_reading")
    if r is not None:
        assert np.isfinite(r.value) and 0 < len(r.name) <= 128
