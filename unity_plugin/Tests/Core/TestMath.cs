using NUnit.Framework;

namespace Sora.Core.Tests
{
    /// <summary>Assertions on vectors, quaternions and matrices shared by the core tests.</summary>
    internal static class TestMath
    {
        public static void AreClose(Vec3 expected, Vec3 actual, float tol = 1e-5f)
        {
            Assert.That(actual.X, Is.EqualTo(expected.X).Within(tol), "x of " + actual);
            Assert.That(actual.Y, Is.EqualTo(expected.Y).Within(tol), "y of " + actual);
            Assert.That(actual.Z, Is.EqualTo(expected.Z).Within(tol), "z of " + actual);
        }

        /// <summary>Same rotation (q and -q are the same rotation).</summary>
        public static void SameRotation(Quat expected, Quat actual, float tol = 1e-5f)
        {
            float dot = expected.X * actual.X + expected.Y * actual.Y + expected.Z * actual.Z + expected.W * actual.W;
            Assert.That(System.Math.Abs(dot), Is.EqualTo(1f).Within(tol), expected + " vs " + actual);
        }

        public static float[,] Mul(float[,] a, float[,] b)
        {
            var r = new float[3, 3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 3; k++)
                        r[i, j] += a[i, k] * b[k, j];
            return r;
        }

        /// <summary>The Y/Z swap M.</summary>
        public static readonly float[,] M = { { 1, 0, 0 }, { 0, 0, 1 }, { 0, 1, 0 } };

        /// <summary>Unity camera axes -> OpenCV camera axes, F = diag(1, -1, 1).</summary>
        public static readonly float[,] F = { { 1, 0, 0 }, { 0, -1, 0 }, { 0, 0, 1 } };

        public static Quat RandomRotation(System.Random rng)
        {
            var q = new Quat((float)(rng.NextDouble() * 2 - 1), (float)(rng.NextDouble() * 2 - 1),
                             (float)(rng.NextDouble() * 2 - 1), (float)(rng.NextDouble() * 2 - 1));
            return q.Normalized();
        }

        public static Vec3 RandomVector(System.Random rng, float scale = 3f)
        {
            return new Vec3((float)(rng.NextDouble() * 2 - 1) * scale, (float)(rng.NextDouble() * 2 - 1) * scale,
                            (float)(rng.NextDouble() * 2 - 1) * scale);
        }
    }
}
