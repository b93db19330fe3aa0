// Type adapters between UnityEngine, the generated protos and the core's Vec3/Quat. They copy
// fields only; every change of axes or handedness is delegated to Sora.Core.SoraCoordinates,
// the one place that documents and performs it.
using Sora.Core;
using UnityEngine;
using Proto = Sora.V1;

namespace Sora.Unity
{
    public static class SoraFrames
    {
        // ---- plain field copies (no axis change) ----

        public static Vec3 ToCore(Vector3 v) { return new Vec3(v.x, v.y, v.z); }
        public static Vector3 ToVector3(Vec3 v) { return new Vector3(v.X, v.Y, v.Z); }
        public static Quat ToCore(Quaternion q) { return new Quat(q.x, q.y, q.z, q.w); }
        public static Quaternion ToQuaternion(Quat q) { return new Quaternion(q.X, q.Y, q.Z, q.W); }
        public static Vec3 ToCore(Proto.Vector3 v) { return v == null ? Vec3.Zero : new Vec3(v.X, v.Y, v.Z); }
        public static Proto.Vector3 ToProto(Vec3 v) { return new Proto.Vector3 { X = v.X, Y = v.Y, Z = v.Z }; }
        public static Quat ToCore(Proto.Quaternion q) { return q == null ? Quat.Identity : new Quat(q.X, q.Y, q.Z, q.W); }
        public static Proto.Quaternion ToProto(Quat q) { return new Proto.Quaternion { X = q.X, Y = q.Y, Z = q.Z, W = q.W }; }

        // ---- Sora world -> Unity ----

        /// <summary>A Sora world point or direction as a Unity vector.</summary>
        public static Vector3 PointToUnity(Proto.Vector3 sora) { return ToVector3(SoraCoordinates.ToUnity(ToCore(sora))); }

        /// <summary>A world object's pose (plane, object, anchor) as a Unity position and rotation.</summary>
        public static void PoseToUnity(Proto.Pose sora, out Vector3 position, out Quaternion rotation)
        {
            if (sora == null)
            {
                position = Vector3.zero;
                rotation = Quaternion.identity;
                return;
            }
            RigidPose p = SoraCoordinates.PoseToUnity(new RigidPose(ToCore(sora.PositionM), ToCore(sora.Orientation)));
            position = ToVector3(p.Position);
            rotation = ToQuaternion(p.Rotation);
        }

        /// <summary>Box edge lengths along the object's local axes, as a Unity local scale.</summary>
        public static Vector3 SizeToUnity(Proto.Vector3 sora) { return ToVector3(SoraCoordinates.SizeToUnity(ToCore(sora))); }

        /// <summary>A point in a plane's 2D coordinates as a Unity point in the plane's local frame.</summary>
        public static Vector3 PlanePointToUnityLocal(Proto.Vector2 p) { return ToVector3(SoraCoordinates.PlanePointToUnityLocal(p.X, p.Y)); }

        // ---- Unity -> Sora world ----

        public static Proto.Vector3 PointFromUnity(Vector3 unity) { return ToProto(SoraCoordinates.FromUnity(ToCore(unity))); }

        /// <summary>A Unity camera's (or head's) world pose as Sora's <c>pose_world_camera</c> (OpenCV axes).</summary>
        public static Proto.Pose CameraPoseFromUnity(Vector3 position, Quaternion rotation)
        {
            RigidPose p = SoraCoordinates.CameraPoseFromUnity(new RigidPose(ToCore(position), ToCore(rotation)));
            return new Proto.Pose { PositionM = ToProto(p.Position), Orientation = ToProto(p.Rotation) };
        }

        /// <summary>A Unity world object's pose (a hand joint, an anchor to create) as a Sora pose.</summary>
        public static Proto.Pose PoseFromUnity(Vector3 position, Quaternion rotation)
        {
            RigidPose p = SoraCoordinates.PoseFromUnity(new RigidPose(ToCore(position), ToCore(rotation)));
            return new Proto.Pose { PositionM = ToProto(p.Position), Orientation = ToProto(p.Rotation) };
        }

        /// <summary>A Unity world ray as a Sora ray.</summary>
        public static Proto.Ray RayFromUnity(Ray ray)
        {
            return new Proto.Ray { OriginM = PointFromUnity(ray.origin), Direction = PointFromUnity(ray.direction) };
        }

        // ---- protos -> core (no axis change) ----

        public static StreamPosition? ToCore(Proto.StreamPosition p)
        {
            return p == null ? (StreamPosition?)null : new StreamPosition(p.Epoch, p.Sequence);
        }

        public static Proto.StreamPosition ToProto(StreamPosition p) { return new Proto.StreamPosition { Epoch = p.Epoch, Sequence = p.Sequence }; }

        /// <summary>A wire mesh chunk as the core's plain payload (copies the byte buffers).</summary>
        public static ChunkPayload ToPayload(Proto.MeshChunk c)
        {
            return new ChunkPayload
            {
                Block = new BlockKey(c.Block == null ? 0 : c.Block.X, c.Block == null ? 0 : c.Block.Y, c.Block == null ? 0 : c.Block.Z),
                Version = c.Version,
                OriginWorldM = ToCore(c.OriginWorldM),
                BlockSizeM = c.BlockSizeM,
                PositionStepM = c.PositionStepM,
                VertexCount = (int)c.VertexCount,
                TriangleCount = (int)c.TriangleCount,
                PositionsU16 = c.PositionsU16.ToByteArray(),
                NormalsI8 = c.NormalsI8.ToByteArray(),
                ColorsRgb8 = c.ColorsRgb8.ToByteArray(),
                IndexFormat = (IndexFormat)(int)c.IndexFormat,
                Indices = c.Indices.ToByteArray(),
            };
        }
    }
}
