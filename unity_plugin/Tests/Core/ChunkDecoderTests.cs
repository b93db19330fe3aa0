using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class ChunkDecoderTests
    {
        /// <summary>A chunk with one triangle in the Sora plane z = 0, facing +Z (up), wound CCW seen from above.</summary>
        internal static ChunkPayload UpwardTriangle(BlockKey key, ulong version = 1, IndexFormat format = IndexFormat.U16)
        {
            var q = new List<ushort> { 0, 0, 0, 100, 0, 0, 0, 100, 0 };
            var pos = new byte[q.Count * 2];
            for (int i = 0; i < q.Count; i++)
            {
                pos[2 * i] = (byte)(q[i] & 0xff);
                pos[2 * i + 1] = (byte)(q[i] >> 8);
            }
            int[] tri = { 0, 1, 2 };
            byte[] idx;
            if (format == IndexFormat.U32)
            {
                idx = new byte[12];
                for (int i = 0; i < 3; i++) BitConverter.GetBytes((uint)tri[i]).CopyTo(idx, 4 * i);
            }
            else
            {
                idx = new byte[6];
                for (int i = 0; i < 3; i++) BitConverter.GetBytes((ushort)tri[i]).CopyTo(idx, 2 * i);
            }
            return new ChunkPayload
            {
                Block = key,
                Version = version,
                OriginWorldM = new Vec3(1f, 2f, 0.5f),
                BlockSizeM = 0.32f,
                PositionStepM = 0.001f,
                VertexCount = 3,
                TriangleCount = 1,
                PositionsU16 = pos,
                NormalsI8 = new byte[] { 0, 0, 127, 0, 0, 127, 0, 0, 127 },
                ColorsRgb8 = new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255 },
                IndexFormat = format,
                Indices = idx,
            };
        }

        private static Vec3 Vertex(DecodedChunk d, int i) { return new Vec3(d.Positions[3 * i], d.Positions[3 * i + 1], d.Positions[3 * i + 2]); }

        [Test]
        public void Decode_Should_DequantiseIntoUnityFrame_When_PositionsAreU16()
        {
            DecodedChunk d = ChunkDecoder.Decode(UpwardTriangle(new BlockKey(1, 2, 3)));
            Assert.AreEqual(3, d.VertexCount);
            Assert.AreEqual(1, d.TriangleCount);
            // Sora (1.1, 2, 0.5) -> Unity (1.1, 0.5, 2).
            TestMath.AreClose(new Vec3(1.1f, 0.5f, 2f), Vertex(d, 1));
            TestMath.AreClose(new Vec3(1f, 0.5f, 2.1f), Vertex(d, 2));
            TestMath.AreClose(new Vec3(1f, 0.5f, 2f), d.BoundsMin);
            TestMath.AreClose(new Vec3(1.1f, 0.5f, 2.1f), d.BoundsMax);
        }

        [Test]
        public void Decode_Should_FaceOutwardForUnity_When_WireTriangleIsCounterClockwiseFromOutside()
        {
            DecodedChunk d = ChunkDecoder.Decode(UpwardTriangle(new BlockKey(0, 0, 0)));
            Vec3 a = Vertex(d, d.Triangles[0]), b = Vertex(d, d.Triangles[1]), c = Vertex(d, d.Triangles[2]);
            // Unity's front face is where cross(b - a, c - a) points; the surface faces Sora +Z = Unity +Y.
            Vec3 front = Vec3.Cross(b - a, c - a).Normalized();
            TestMath.AreClose(new Vec3(0, 1, 0), front);
            TestMath.AreClose(new Vec3(0, 1, 0), new Vec3(d.Normals[0], d.Normals[1], d.Normals[2]));
        }

        [Test]
        public void Decode_Should_ReadU32Indices_When_IndexFormatIsU32()
        {
            DecodedChunk d = ChunkDecoder.Decode(UpwardTriangle(new BlockKey(0, 0, 0), 1, IndexFormat.U32));
            CollectionAssert.AreEqual(new[] { 0, 2, 1 }, d.Triangles);
        }

        [Test]
        public void Decode_Should_PassColoursWithOpaqueAlpha_When_ChunkHasColours()
        {
            DecodedChunk d = ChunkDecoder.Decode(UpwardTriangle(new BlockKey(0, 0, 0)));
            CollectionAssert.AreEqual(new byte[] { 255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255 }, d.ColorsRgba);
        }

        [Test]
        public void Decode_Should_UseWhite_When_ChunkHasNoColours()
        {
            ChunkPayload p = UpwardTriangle(new BlockKey(0, 0, 0));
            p.ColorsRgb8 = new byte[0];
            p.NormalsI8 = new byte[0];
            DecodedChunk d = ChunkDecoder.Decode(p);
            Assert.IsTrue(Array.TrueForAll(d.ColorsRgba, v => v == 255));
            Assert.IsTrue(Array.TrueForAll(d.Normals, v => v == 0f));
        }

        [Test]
        public void Decode_Should_Throw_When_PositionBytesDisagreeWithVertexCount()
        {
            ChunkPayload p = UpwardTriangle(new BlockKey(4, 5, 6));
            p.VertexCount = 4;
            var e = Assert.Throws<ChunkFormatException>(() => ChunkDecoder.Decode(p));
            StringAssert.Contains("(4, 5, 6)", e.Message);
        }

        [Test]
        public void Decode_Should_Throw_When_AnIndexIsOutOfRange()
        {
            ChunkPayload p = UpwardTriangle(new BlockKey(0, 0, 0));
            p.Indices[4] = 9;
            Assert.Throws<ChunkFormatException>(() => ChunkDecoder.Decode(p));
        }

        [Test]
        public void Decode_Should_Throw_When_IndexFormatIsUnset()
        {
            ChunkPayload p = UpwardTriangle(new BlockKey(0, 0, 0));
            p.IndexFormat = IndexFormat.Unspecified;
            Assert.Throws<ChunkFormatException>(() => ChunkDecoder.Decode(p));
        }

        [Test]
        public void Decode_Should_ReturnEmptyArrays_When_ChunkIsEmpty()
        {
            var p = new ChunkPayload { Block = new BlockKey(0, 0, 0), Version = 2 };
            DecodedChunk d = ChunkDecoder.Decode(p);
            Assert.AreEqual(0, d.VertexCount);
            Assert.AreEqual(0, d.TriangleCount);
        }
    }
}
