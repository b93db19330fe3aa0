// Mesh chunk payloads off the wire, decoded into arrays an engine mesh takes directly.
using System;

namespace Sora.Core
{
    /// <summary>Integer coordinates of a TSDF block; one block is one mesh chunk.</summary>
    public struct BlockKey : IEquatable<BlockKey>, IComparable<BlockKey>
    {
        public readonly int X;
        public readonly int Y;
        public readonly int Z;

        public BlockKey(int x, int y, int z)
        {
            X = x;
            Y = y;
            Z = z;
        }

        public bool Equals(BlockKey other) { return X == other.X && Y == other.Y && Z == other.Z; }
        public override bool Equals(object obj) { return obj is BlockKey && Equals((BlockKey)obj); }
        public override int GetHashCode() { return unchecked((X * 73856093) ^ (Y * 19349663) ^ (Z * 83492791)); }

        public int CompareTo(BlockKey other)
        {
            if (X != other.X) return X.CompareTo(other.X);
            if (Y != other.Y) return Y.CompareTo(other.Y);
            return Z.CompareTo(other.Z);
        }

        public static bool operator ==(BlockKey a, BlockKey b) { return a.Equals(b); }
        public static bool operator !=(BlockKey a, BlockKey b) { return !a.Equals(b); }
        public override string ToString() { return string.Format("({0}, {1}, {2})", X, Y, Z); }
    }

    /// <summary>How triangle indices are packed (values of sora.v1.IndexFormat).</summary>
    public enum IndexFormat
    {
        Unspecified = 0,
        U16 = 1,
        U32 = 2,
    }

    /// <summary>
    /// One MeshChunk as plain data (the Unity layer copies the proto's fields here, so the core
    /// needs no protobuf runtime). Byte layouts as in scene.proto: positions little-endian uint16
    /// x, y, z per vertex relative to <see cref="OriginWorldM"/> in steps of
    /// <see cref="PositionStepM"/>; normals int8 x, y, z (value / 127); colours RGB8; indices
    /// uint16 or uint32 triples, counter-clockwise seen from outside.
    /// </summary>
    public sealed class ChunkPayload
    {
        public BlockKey Block;
        public ulong Version;
        public Vec3 OriginWorldM;
        public float BlockSizeM;
        public float PositionStepM;
        public int VertexCount;
        public int TriangleCount;
        public byte[] PositionsU16 = new byte[0];
        public byte[] NormalsI8 = new byte[0];
        public byte[] ColorsRgb8 = new byte[0];
        public IndexFormat IndexFormat;
        public byte[] Indices = new byte[0];
    }

    /// <summary>
    /// A decoded chunk in Unity's frame (see SoraCoordinates): flat arrays, three floats per
    /// vertex, four bytes (RGBA, alpha 255) per colour, three indices per triangle wound for
    /// Unity's front faces.
    /// </summary>
    public sealed class DecodedChunk
    {
        public BlockKey Block;
        public ulong Version;
        /// <summary>(n * 3) positions, Unity world metres.</summary>
        public float[] Positions;
        /// <summary>(n * 3) unit normals, Unity frame (zeros when the chunk has none).</summary>
        public float[] Normals;
        /// <summary>(n * 4) RGBA32, alpha 255 (white when the chunk has no colours).</summary>
        public byte[] ColorsRgba;
        /// <summary>(t * 3) vertex indices.</summary>
        public int[] Triangles;
        /// <summary>Axis-aligned bounds, Unity world metres.</summary>
        public Vec3 BoundsMin;
        public Vec3 BoundsMax;

        public int VertexCount { get { return Positions.Length / 3; } }
        public int TriangleCount { get { return Triangles.Length / 3; } }
        /// <summary>Chunks with 65536 or more vertices need 32-bit index buffers in Unity.</summary>
        public bool NeedsUInt32Indices { get { return VertexCount > 65535; } }
    }

    /// <summary>A chunk whose buffers disagree with its declared counts.</summary>
    public sealed class ChunkFormatException : Exception
    {
        public ChunkFormatException(BlockKey block, string message)
            : base(string.Format("mesh chunk {0}: {1}", block, message))
        {
        }
    }

    /// <summary>Decodes chunk payloads; thread-safe (no state), so it runs off the main thread.</summary>
    public static class ChunkDecoder
    {
        /// <summary>
        /// Checks every size against the declared counts before reading (like the server does with
        /// images), then decodes and converts to Unity's frame.
        /// </summary>
        public static DecodedChunk Decode(ChunkPayload c)
        {
            int n = c.VertexCount, t = c.TriangleCount;
            if (n < 0 || t < 0) throw new ChunkFormatException(c.Block, "negative counts");
            if (c.PositionsU16.Length != n * 6)
                throw new ChunkFormatException(c.Block, string.Format("positions_u16 holds {0} bytes, expected {1}", c.PositionsU16.Length, n * 6));
            if (c.NormalsI8.Length != 0 && c.NormalsI8.Length != n * 3)
                throw new ChunkFormatException(c.Block, "normals_i8 size disagrees with vertex_count");
            if (c.ColorsRgb8.Length != 0 && c.ColorsRgb8.Length != n * 3)
                throw new ChunkFormatException(c.Block, "colors_rgb8 size disagrees with vertex_count");
            bool wide = c.IndexFormat == IndexFormat.U32;
            if (t > 0 && !wide && c.IndexFormat != IndexFormat.U16)
                throw new ChunkFormatException(c.Block, "index_format not set");
            int indexBytes = wide ? 4 : 2;
            if (c.Indices.Length != t * 3 * indexBytes)
                throw new ChunkFormatException(c.Block, "indices size disagrees with triangle_count");

            var d = new DecodedChunk
            {
                Block = c.Block,
                Version = c.Version,
                Positions = new float[n * 3],
                Normals = new float[n * 3],
                ColorsRgba = new byte[n * 4],
                Triangles = new int[t * 3],
            };
            double step = c.PositionStepM;
            var min = new Vec3(float.MaxValue, float.MaxValue, float.MaxValue);
            var max = new Vec3(float.MinValue, float.MinValue, float.MinValue);
            for (int v = 0; v < n; v++)
            {
                int o = v * 6;
                var sora = new Vec3(
                    (float)(c.OriginWorldM.X + ReadU16(c.PositionsU16, o) * step),
                    (float)(c.OriginWorldM.Y + ReadU16(c.PositionsU16, o + 2) * step),
                    (float)(c.OriginWorldM.Z + ReadU16(c.PositionsU16, o + 4) * step));
                Vec3 p = SoraCoordinates.ToUnity(sora);
                d.Positions[v * 3] = p.X;
                d.Positions[v * 3 + 1] = p.Y;
                d.Positions[v * 3 + 2] = p.Z;
                min = new Vec3(Math.Min(min.X, p.X), Math.Min(min.Y, p.Y), Math.Min(min.Z, p.Z));
                max = new Vec3(Math.Max(max.X, p.X), Math.Max(max.Y, p.Y), Math.Max(max.Z, p.Z));

                if (c.NormalsI8.Length != 0)
                {
                    var raw = new Vec3((sbyte)c.NormalsI8[v * 3] / 127f, (sbyte)c.NormalsI8[v * 3 + 1] / 127f, (sbyte)c.NormalsI8[v * 3 + 2] / 127f);
                    Vec3 nrm = SoraCoordinates.ToUnity(raw.Normalized());
                    d.Normals[v * 3] = nrm.X;
                    d.Normals[v * 3 + 1] = nrm.Y;
                    d.Normals[v * 3 + 2] = nrm.Z;
                }
                if (c.ColorsRgb8.Length != 0)
                {
                    d.ColorsRgba[v * 4] = c.ColorsRgb8[v * 3];
                    d.ColorsRgba[v * 4 + 1] = c.ColorsRgb8[v * 3 + 1];
                    d.ColorsRgba[v * 4 + 2] = c.ColorsRgb8[v * 3 + 2];
                }
                else
                {
                    d.ColorsRgba[v * 4] = d.ColorsRgba[v * 4 + 1] = d.ColorsRgba[v * 4 + 2] = 255;
                }
                d.ColorsRgba[v * 4 + 3] = 255;
            }
            for (int i = 0; i < t * 3; i++)
            {
                long index = wide ? (long)ReadU32(c.Indices, i * 4) : ReadU16(c.Indices, i * 2);
                if (index >= n) throw new ChunkFormatException(c.Block, string.Format("index {0} out of range ({1} vertices)", index, n));
                d.Triangles[i] = (int)index;
            }
            SoraCoordinates.FlipWinding(d.Triangles);
            d.BoundsMin = n > 0 ? min : Vec3.Zero;
            d.BoundsMax = n > 0 ? max : Vec3.Zero;
            return d;
        }

        // Explicit little-endian reads: the wire is little-endian whatever the device is.
        private static int ReadU16(byte[] b, int i) { return b[i] | (b[i + 1] << 8); }

        private static uint ReadU32(byte[] b, int i)
        {
            return (uint)(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) | ((uint)b[i + 3] << 24);
        }
    }
}
