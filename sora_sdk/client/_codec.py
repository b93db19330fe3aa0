"""Core <-> proto for the client side: frames out, scene updates in."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .._proto.sora.v1 import scene_pb2, sensor_pb2, types_pb2
from ..core.geometry import Intrinsics, Pose
from ..core.scene import MeshChunk, StreamPosition
from ..core.sensors import AudioChunk, CameraFrame, EyeGazeSample, HandJointsSample, HeadPoseSample, SensorReading

__all__ = [
    "decode_chunk",
    "encode_camera_frame",
    "encode_intrinsics",
    "encode_pose",
    "encode_sensor_item",
    "position_from_proto",
    "position_to_proto",
]


def vec3(v: np.ndarray | tuple[float, float, float]) -> types_pb2.Vector3:
    return types_pb2.Vector3(x=float(v[0]), y=float(v[1]), z=float(v[2]))


def encode_pose(p: Pose) -> types_pb2.Pose:
    q = p.quaternion_xyzw
    return types_pb2.Pose(
        position_m=vec3(p.translation),
        orientation=types_pb2.Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])),
    )


def encode_intrinsics(k: Intrinsics) -> types_pb2.CameraIntrinsics:
    return types_pb2.CameraIntrinsics(
        width_px=k.width_px, height_px=k.height_px, fx_px=k.fx_px, fy_px=k.fy_px, cx_px=k.cx_px, cy_px=k.cy_px
    )


def position_to_proto(p: StreamPosition) -> types_pb2.StreamPosition:
    return types_pb2.StreamPosition(epoch=p.epoch, sequence=p.sequence)


def position_from_proto(p: types_pb2.StreamPosition) -> StreamPosition:
    return StreamPosition(int(p.epoch), int(p.sequence))


def encode_camera_frame(
    f: CameraFrame, *, color: str = "jpeg", depth: str = "png", jpeg_quality: int = 90
) -> sensor_pb2.CameraFrame:
    """color: "jpeg" | "png" | "raw"; depth: "png" | "raw" (uint16 frames) — float32 depth is sent raw."""
    msg = sensor_pb2.CameraFrame(
        sequence=f.sequence, capture_time_s=f.capture_time_s, intrinsics=encode_intrinsics(f.intrinsics)
    )
    if f.pose_world_camera is not None:
        msg.pose_world_camera.CopyFrom(encode_pose(f.pose_world_camera))
    if f.color is not None:
        h, w = f.color.shape[:2]
        c = msg.color
        c.width_px, c.height_px = w, h
        if color == "raw":
            c.encoding = sensor_pb2.COLOR_ENCODING_RAW_RGB8
            c.data = np.ascontiguousarray(f.color, dtype=np.uint8).tobytes()
        else:
            buf = io.BytesIO()
            if color == "jpeg":
                Image.fromarray(f.color).save(buf, format="JPEG", quality=jpeg_quality)
                c.encoding = sensor_pb2.COLOR_ENCODING_JPEG
            else:
                Image.fromarray(f.color).save(buf, format="PNG", compress_level=1)
                c.encoding = sensor_pb2.COLOR_ENCODING_PNG
            c.data = buf.getvalue()
    if f.depth is not None:
        h, w = f.depth.shape[:2]
        d = msg.depth
        d.width_px, d.height_px = w, h
        if f.depth.dtype == np.float32:
            d.encoding = sensor_pb2.DEPTH_ENCODING_RAW_F32
            d.data = f.depth.astype("<f4").tobytes()
        elif depth == "raw":
            d.encoding = sensor_pb2.DEPTH_ENCODING_RAW_U16
            d.m_per_unit = f.depth_m_per_unit
            d.data = f.depth.astype("<u2").tobytes()
        else:
            buf = io.BytesIO()
            Image.fromarray(f.depth.astype(np.uint16)).save(buf, format="PNG", compress_level=1)
            d.encoding = sensor_pb2.DEPTH_ENCODING_PNG_U16
            d.m_per_unit = f.depth_m_per_unit
            d.data = buf.getvalue()
    return msg


_HAND = {"left": types_pb2.HANDEDNESS_LEFT, "right": types_pb2.HANDEDNESS_RIGHT}


def encode_sensor_item(item: object, *, color: str = "jpeg", depth: str = "png") -> sensor_pb2.StreamSensorDataRequest:
    """Any core sensor sample -> one StreamSensorDataRequest."""
    if isinstance(item, sensor_pb2.StreamSensorDataRequest):
        return item
    if isinstance(item, CameraFrame):
        return sensor_pb2.StreamSensorDataRequest(camera_frame=encode_camera_frame(item, color=color, depth=depth))
    if isinstance(item, HeadPoseSample):
        return sensor_pb2.StreamSensorDataRequest(
            head_pose=sensor_pb2.HeadPoseSample(
                capture_time_s=item.capture_time_s, pose_world_head=encode_pose(item.pose_world_head)
            )
        )
    if isinstance(item, HandJointsSample):
        joints = []
        quats = item.orientations_xyzw
        for i, p in enumerate(np.asarray(item.positions_world_m)):
            q = quats[i] if quats is not None else np.array([0.0, 0.0, 0.0, 1.0])
            joints.append(
                sensor_pb2.HandJoint(
                    pose_world_joint=types_pb2.Pose(
                        position_m=vec3(p),
                        orientation=types_pb2.Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])),
                    ),
                    radius_m=float(item.radii_m[i]),
                    valid=bool(item.valid[i]),
                )
            )
        return sensor_pb2.StreamSensorDataRequest(
            hand_joints=sensor_pb2.HandJointsSample(
                capture_time_s=item.capture_time_s, handedness=_HAND[item.handedness], joints=joints
            )
        )
    if isinstance(item, EyeGazeSample):
        return sensor_pb2.StreamSensorDataRequest(
            eye_gaze=sensor_pb2.EyeGazeSample(
                capture_time_s=item.capture_time_s,
                gaze_world=types_pb2.Ray(origin_m=vec3(item.origin_world_m), direction=vec3(item.direction_world)),
                confidence=item.confidence,
            )
        )
    if isinstance(item, AudioChunk):
        return sensor_pb2.StreamSensorDataRequest(
            audio_chunk=sensor_pb2.AudioChunk(
                capture_time_s=item.capture_time_s,
                sample_rate_hz=item.sample_rate_hz,
                channels=1,
                pcm16=np.asarray(item.samples, dtype="<i2").tobytes(),
            )
        )
    if isinstance(item, SensorReading):
        return sensor_pb2.StreamSensorDataRequest(
            sensor_reading=sensor_pb2.SensorReading(
                capture_time_s=item.capture_time_s, name=item.name, value=item.value, unit=item.unit
            )
        )
    raise TypeError(f"cannot send {type(item).__name__} on a sensor stream")


def decode_chunk(m: scene_pb2.MeshChunk) -> MeshChunk:
    """A wire chunk -> arrays (vertices float32 world metres, normals float32, colours uint8, triangles int32)."""
    n, t = int(m.vertex_count), int(m.triangle_count)
    origin = np.array([m.origin_world_m.x, m.origin_world_m.y, m.origin_world_m.z], dtype=np.float64)
    if n:
        q = np.frombuffer(m.positions_u16, dtype="<u2").reshape(n, 3).astype(np.float64)
        vertices = (origin + q * m.position_step_m).astype(np.float32)
        normals = np.frombuffer(m.normals_i8, dtype=np.int8).reshape(n, 3).astype(np.float32) / 127.0
        colors = np.frombuffer(m.colors_rgb8, dtype=np.uint8).reshape(n, 3).copy()
        dtype = "<u2" if m.index_format == scene_pb2.INDEX_FORMAT_U16 else "<u4"
        triangles = np.frombuffer(m.indices, dtype=dtype).reshape(t, 3).astype(np.int32)
    else:
        vertices = np.zeros((0, 3), np.float32)
        normals = np.zeros((0, 3), np.float32)
        colors = np.zeros((0, 3), np.uint8)
        triangles = np.zeros((0, 3), np.int32)
    key = (m.block.x, m.block.y, m.block.z)
    return MeshChunk(
        key=key,
        version=int(m.version),
        origin_world_m=np.asarray(key, dtype=np.float64) * float(m.block_size_m),  # the block's corner
        size_m=float(m.block_size_m),
        vertices=vertices,
        normals=normals,
        colors=colors,
        triangles=triangles,
    )
