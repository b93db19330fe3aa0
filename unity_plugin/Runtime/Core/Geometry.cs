// Plain vector and quaternion types of the engine-independent core (no UnityEngine here, so the
// core compiles and is tested under Mono). The Unity layer copies fields to and from
// UnityEngine.Vector3/Quaternion without changing axes; axis conventions change only in
// SoraCoordinates.
using System;

namespace Sora.Core
{
    /// <summary>A 3D vector (metres for points).</summary>
    public struct Vec3 : IEquatable<Vec3>
    {
        public float X;
        public float Y;
        public float Z;

        public Vec3(float x, float y, float z)
        {
            X = x;
            Y = y;
            Z = z;
        }

        public static readonly Vec3 Zero = new Vec3(0f, 0f, 0f);

        public static Vec3 operator +(Vec3 a, Vec3 b) { return new Vec3(a.X + b.X, a.Y + b.Y, a.Z + b.Z); }
        public static Vec3 operator -(Vec3 a, Vec3 b) { return new Vec3(a.X - b.X, a.Y - b.Y, a.Z - b.Z); }
        public static Vec3 operator *(Vec3 a, float s) { return new Vec3(a.X * s, a.Y * s, a.Z * s); }

        public float Length { get { return (float)Math.Sqrt(X * X + Y * Y + Z * Z); } }

        public static float Dot(Vec3 a, Vec3 b) { return a.X * b.X + a.Y * b.Y + a.Z * b.Z; }

        public static Vec3 Cross(Vec3 a, Vec3 b)
        {
            return new Vec3(a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X);
        }

        public Vec3 Normalized()
        {
            float n = Length;
            return n > 1e-12f ? new Vec3(X / n, Y / n, Z / n) : Zero;
        }

        public bool Equals(Vec3 other) { return X == other.X && Y == other.Y && Z == other.Z; }
        public override bool Equals(object obj) { return obj is Vec3 && Equals((Vec3)obj); }
        public override int GetHashCode() { return X.GetHashCode() ^ (Y.GetHashCode() << 7) ^ (Z.GetHashCode() << 14); }
        public override string ToString() { return string.Format("({0:F4}, {1:F4}, {2:F4})", X, Y, Z); }
    }

    /// <summary>A rotation as a unit quaternion (x, y, z, w).</summary>
    public struct Quat : IEquatable<Quat>
    {
        public float X;
        public float Y;
        public float Z;
        public float W;

        public Quat(float x, float y, float z, float w)
        {
            X = x;
            Y = y;
            Z = z;
            W = w;
        }

        public static readonly Quat Identity = new Quat(0f, 0f, 0f, 1f);

        /// <summary>The rotation that applies <paramref name="b"/> first, then <paramref name="a"/>.</summary>
        public static Quat operator *(Quat a, Quat b)
        {
            return new Quat(
                a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
                a.W * b.Y - a.X * b.Z + a.Y * b.W + a.Z * b.X,
                a.W * b.Z + a.X * b.Y - a.Y * b.X + a.Z * b.W,
                a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z);
        }

        public Quat Conjugate() { return new Quat(-X, -Y, -Z, W); }

        public Quat Normalized()
        {
            double n = Math.Sqrt((double)X * X + (double)Y * Y + (double)Z * Z + (double)W * W);
            if (n < 1e-12) return Identity;
            return new Quat((float)(X / n), (float)(Y / n), (float)(Z / n), (float)(W / n));
        }

        public static Quat AxisAngle(Vec3 axis, double angleRad)
        {
            Vec3 a = axis.Normalized();
            float s = (float)Math.Sin(angleRad / 2);
            return new Quat(a.X * s, a.Y * s, a.Z * s, (float)Math.Cos(angleRad / 2));
        }

        /// <summary>Rotates a vector: q v q*.</summary>
        public Vec3 Rotate(Vec3 v)
        {
            // v' = v + 2w (u x v) + 2 u x (u x v), u = (x, y, z)
            var u = new Vec3(X, Y, Z);
            Vec3 t = Vec3.Cross(u, v) * 2f;
            return v + t * W + Vec3.Cross(u, t);
        }

        /// <summary>Row-major 3x3 rotation matrix.</summary>
        public float[,] ToMatrix()
        {
            Quat q = Normalized();
            float x = q.X, y = q.Y, z = q.Z, w = q.W;
            return new float[,]
            {
                { 1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w) },
                { 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w) },
                { 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y) },
            };
        }

        /// <summary>The quaternion of a proper rotation matrix (row-major 3x3).</summary>
        public static Quat FromMatrix(float[,] r)
        {
            double trace = r[0, 0] + r[1, 1] + r[2, 2];
            double x, y, z, w;
            if (trace > 0)
            {
                double s = 0.5 / Math.Sqrt(trace + 1.0);
                w = 0.25 / s;
                x = (r[2, 1] - r[1, 2]) * s;
                y = (r[0, 2] - r[2, 0]) * s;
                z = (r[1, 0] - r[0, 1]) * s;
            }
            else if (r[0, 0] > r[1, 1] && r[0, 0] > r[2, 2])
            {
                double s = 2.0 * Math.Sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]);
                w = (r[2, 1] - r[1, 2]) / s;
                x = 0.25 * s;
                y = (r[0, 1] + r[1, 0]) / s;
                z = (r[0, 2] + r[2, 0]) / s;
            }
            else if (r[1, 1] > r[2, 2])
            {
                double s = 2.0 * Math.Sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]);
                w = (r[0, 2] - r[2, 0]) / s;
                x = (r[0, 1] + r[1, 0]) / s;
                y = 0.25 * s;
                z = (r[1, 2] + r[2, 1]) / s;
            }
            else
            {
                double s = 2.0 * Math.Sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]);
                w = (r[1, 0] - r[0, 1]) / s;
                x = (r[0, 2] + r[2, 0]) / s;
                y = (r[1, 2] + r[2, 1]) / s;
                z = 0.25 * s;
            }
            return new Quat((float)x, (float)y, (float)z, (float)w).Normalized();
        }

        public bool Equals(Quat other) { return X == other.X && Y == other.Y && Z == other.Z && W == other.W; }
        public override bool Equals(object obj) { return obj is Quat && Equals((Quat)obj); }
        public override int GetHashCode() { return X.GetHashCode() ^ (Y.GetHashCode() << 5) ^ (Z.GetHashCode() << 10) ^ (W.GetHashCode() << 15); }
        public override string ToString() { return string.Format("({0:F4}, {1:F4}, {2:F4}, {3:F4})", X, Y, Z, W); }
    }

    /// <summary>A rigid transform: position in metres and orientation.</summary>
    public struct RigidPose
    {
        public Vec3 Position;
        public Quat Rotation;

        public RigidPose(Vec3 position, Quat rotation)
        {
            Position = position;
            Rotation = rotation;
        }

        /// <summary>Maps a point from the pose's frame into its parent frame.</summary>
        public Vec3 TransformPoint(Vec3 local) { return Rotation.Rotate(local) + Position; }
    }
}
