using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class SoraCoordinatesTests
    {
        [Test]
        public void ToUnity_Should_MapSoraUpToUnityUp_When_ConvertingPoints()
        {
            TestMath.AreClose(new Vec3(0, 1, 0), SoraCoordinates.ToUnity(new Vec3(0, 0, 1)));
            TestMath.AreClose(new Vec3(0, 0, 1), SoraCoordinates.ToUnity(new Vec3(0, 1, 0)));
            TestMath.AreClose(new Vec3(1, 0, 0), SoraCoordinates.ToUnity(new Vec3(1, 0, 0)));
        }

        [Test]
        public void FromUnity_Should_UndoToUnity_When_AppliedAfterIt()
        {
            var p = new Vec3(1.5f, -2f, 0.25f);
            TestMath.AreClose(p, SoraCoordinates.FromUnity(SoraCoordinates.ToUnity(p)));
        }

        [Test]
        public void FromUnity_Should_GiveRightHandedAxes_When_ConvertingUnityAxes()
        {
            // Unity right x forward = down in a left-handed frame; in Sora, right x forward must be up.
            Vec3 right = SoraCoordinates.FromUnity(new Vec3(1, 0, 0));
            Vec3 forward = SoraCoordinates.FromUnity(new Vec3(0, 0, 1));
            Vec3 up = SoraCoordinates.FromUnity(new Vec3(0, 1, 0));
            TestMath.AreClose(up, Vec3.Cross(right, forward));
            TestMath.AreClose(new Vec3(0, 0, 1), up);
        }

        [Test]
        public void CameraRotationFromUnity_Should_LookAlongSoraForward_When_UnityCameraIsIdentity()
        {
            Quat q = SoraCoordinates.CameraRotationFromUnity(Quat.Identity);
            // OpenCV camera: +z optical axis, +y down, +x right.
            TestMath.AreClose(new Vec3(0, 1, 0), q.Rotate(new Vec3(0, 0, 1)));
            TestMath.AreClose(new Vec3(0, 0, -1), q.Rotate(new Vec3(0, 1, 0)));
            TestMath.AreClose(new Vec3(1, 0, 0), q.Rotate(new Vec3(1, 0, 0)));
        }

        [Test]
        public void CameraRotationFromUnity_Should_EqualMRF_When_RotationIsArbitrary()
        {
            var rng = new System.Random(7);
            for (int i = 0; i < 50; i++)
            {
                Quat qu = TestMath.RandomRotation(rng);
                float[,] expected = TestMath.Mul(TestMath.Mul(TestMath.M, qu.ToMatrix()), TestMath.F);
                TestMath.SameRotation(Quat.FromMatrix(expected), SoraCoordinates.CameraRotationFromUnity(qu));
            }
        }

        [Test]
        public void CameraRotationToUnity_Should_InvertCameraRotationFromUnity_When_RoundTripped()
        {
            var rng = new System.Random(11);
            for (int i = 0; i < 50; i++)
            {
                Quat qu = TestMath.RandomRotation(rng);
                TestMath.SameRotation(qu, SoraCoordinates.CameraRotationToUnity(SoraCoordinates.CameraRotationFromUnity(qu)));
            }
        }

        [Test]
        public void CameraPoseFromUnity_Should_PutSeenPointsInTheSamePlace_When_ProjectedThroughEitherFrame()
        {
            // A point the Unity camera sees at p_cam (Unity camera axes) lies at T_u p_cam in Unity's world.
            // Sora's pose of the same camera must put the OpenCV-axes point F p_cam at the converted place.
            var rng = new System.Random(3);
            for (int i = 0; i < 50; i++)
            {
                var unityPose = new RigidPose(TestMath.RandomVector(rng), TestMath.RandomRotation(rng));
                Vec3 pCamUnity = TestMath.RandomVector(rng, 2f);
                Vec3 worldUnity = unityPose.TransformPoint(pCamUnity);

                RigidPose soraPose = SoraCoordinates.CameraPoseFromUnity(unityPose);
                Vec3 pCamCv = SoraCoordinates.CameraVectorFromUnity(pCamUnity);
                TestMath.AreClose(new Vec3(pCamUnity.X, -pCamUnity.Y, pCamUnity.Z), pCamCv);
                TestMath.AreClose(SoraCoordinates.FromUnity(worldUnity), soraPose.TransformPoint(pCamCv), 1e-4f);
            }
        }

        [Test]
        public void RotationToUnity_Should_EqualMRM_When_RotationIsArbitrary()
        {
            var rng = new System.Random(5);
            for (int i = 0; i < 50; i++)
            {
                Quat qs = TestMath.RandomRotation(rng);
                float[,] expected = TestMath.Mul(TestMath.Mul(TestMath.M, qs.ToMatrix()), TestMath.M);
                TestMath.SameRotation(Quat.FromMatrix(expected), SoraCoordinates.RotationToUnity(qs));
            }
        }

        [Test]
        public void RotationToUnity_Should_TurnPlaneNormalIntoLocalUp_When_ConvertingPlanePoses()
        {
            var rng = new System.Random(9);
            for (int i = 0; i < 50; i++)
            {
                Quat qs = TestMath.RandomRotation(rng);
                Vec3 normalSora = qs.Rotate(new Vec3(0, 0, 1));
                Quat qu = SoraCoordinates.RotationToUnity(qs);
                TestMath.AreClose(SoraCoordinates.ToUnity(normalSora), qu.Rotate(new Vec3(0, 1, 0)));
            }
        }

        [Test]
        public void PoseToUnity_Should_MapObjectCornersConsistently_When_BoxIsRotated()
        {
            // A box corner in the object's local frame maps to the same place through either frame.
            var rng = new System.Random(13);
            for (int i = 0; i < 20; i++)
            {
                var sora = new RigidPose(TestMath.RandomVector(rng), TestMath.RandomRotation(rng));
                var size = new Vec3(0.2f, 0.4f, 0.8f);
                var cornerSora = new Vec3(size.X / 2, -size.Y / 2, size.Z / 2);
                RigidPose unity = SoraCoordinates.PoseToUnity(sora);
                // Local axes convert like the world's, so the corner's local coordinates do too,
                // and they lie at half the converted size along each Unity local axis.
                Vec3 cornerUnity = SoraCoordinates.ToUnity(cornerSora);
                Vec3 half = SoraCoordinates.SizeToUnity(size) * 0.5f;
                TestMath.AreClose(half, new Vec3(System.Math.Abs(cornerUnity.X), System.Math.Abs(cornerUnity.Y), System.Math.Abs(cornerUnity.Z)));
                TestMath.AreClose(SoraCoordinates.ToUnity(sora.TransformPoint(cornerSora)), unity.TransformPoint(cornerUnity), 1e-4f);
            }
        }

        [Test]
        public void FlipWinding_Should_SwapSecondAndThirdIndex_When_GivenTriangles()
        {
            var t = new[] { 0, 1, 2, 3, 4, 5 };
            SoraCoordinates.FlipWinding(t);
            CollectionAssert.AreEqual(new[] { 0, 2, 1, 3, 5, 4 }, t);
        }
    }
}
