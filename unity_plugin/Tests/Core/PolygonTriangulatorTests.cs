using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class PolygonTriangulatorTests
    {
        private static float Area(float[] xy, int[] tris)
        {
            float total = 0;
            for (int t = 0; t < tris.Length; t += 3)
            {
                var tri = new[] { xy[2 * tris[t]], xy[2 * tris[t] + 1], xy[2 * tris[t + 1]], xy[2 * tris[t + 1] + 1], xy[2 * tris[t + 2]], xy[2 * tris[t + 2] + 1] };
                float a = PolygonTriangulator.SignedArea(tri);
                Assert.Greater(a, 0f, "every triangle counter-clockwise");
                total += a;
            }
            return total;
        }

        [Test]
        public void Triangulate_Should_GiveTwoTriangles_When_PolygonIsASquare()
        {
            var sq = new float[] { 0, 0, 1, 0, 1, 1, 0, 1 };
            int[] t = PolygonTriangulator.Triangulate(sq);
            Assert.AreEqual(6, t.Length);
            Assert.That(Area(sq, t), Is.EqualTo(1f).Within(1e-5));
        }

        [Test]
        public void Triangulate_Should_CoverAConcaveOutlineExactly_When_FloorIsLShaped()
        {
            var l = new float[] { 0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2 };
            int[] t = PolygonTriangulator.Triangulate(l);
            Assert.AreEqual(12, t.Length);
            Assert.That(Area(l, t), Is.EqualTo(3f).Within(1e-5));
        }

        [Test]
        public void Triangulate_Should_OutputCounterClockwise_When_InputIsClockwise()
        {
            var cw = new float[] { 0, 0, 0, 1, 1, 1, 1, 0 };
            Assert.That(Area(cw, PolygonTriangulator.Triangulate(cw)), Is.EqualTo(1f).Within(1e-5));
        }

        [Test]
        public void Triangulate_Should_ReturnNothing_When_FewerThanThreePoints()
        {
            Assert.AreEqual(0, PolygonTriangulator.Triangulate(new float[] { 0, 0, 1, 1 }).Length);
        }
    }
}
