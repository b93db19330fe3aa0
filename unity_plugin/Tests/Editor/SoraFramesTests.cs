using System.Collections.Generic;
using NUnit.Framework;
using Sora.Core;
using UnityEngine;
using Proto = Sora.V1;

namespace Sora.Unity.Editor.Tests
{
    /// <summary>The Unity-typed adapters agree with the core conversion (edit mode).</summary>
    public class SoraFramesTests
    {
        [Test]
        public void PointToUnity_Should_MapSoraUpToUnityUp_When_GivenAProtoVector()
        {
            Vector3 v = SoraFrames.PointToUnity(new Proto.Vector3 { X = 1, Y = 2, Z = 3 });
            Assert.AreEqual(new Vector3(1, 3, 2), v);
        }

        [Test]
        public void CameraPoseFromUnity_Should_LookAlongSoraPlusY_When_CameraLooksAlongUnityForward()
        {
            Proto.Pose p = SoraFrames.CameraPoseFromUnity(Vector3.zero, Quaternion.identity);
            Quat q = SoraFrames.ToCore(p.Orientation);
            Vec3 optical = q.Rotate(new Vec3(0, 0, 1));
            Assert.That(optical.Y, Is.EqualTo(1f).Within(1e-5));
        }

        [Test]
        public void PoseToUnity_Should_AgreeWithUnityRotationMath_When_PlaneIsTilted()
        {
            var sora = new Proto.Pose
            {
                PositionM = new Proto.Vector3 { X = 1, Y = 2, Z = 0.5f },
                Orientation = SoraFrames.ToProto(Quat.AxisAngle(new Vec3(1, 0, 0), 0.3)),
            };
            Vector3 position;
            Quaternion rotation;
            SoraFrames.PoseToUnity(sora, out position, out rotation);
            Vec3 normalSora = SoraFrames.ToCore(sora.Orientation).Rotate(new Vec3(0, 0, 1));
            Vector3 expected = SoraFrames.ToVector3(SoraCoordinates.ToUnity(normalSora));
            Assert.That(Vector3.Distance(expected, rotation * Vector3.up), Is.LessThan(1e-5f));
            Assert.AreEqual(new Vector3(1, 0.5f, 2), position);
        }

        [Test]
        public void BuildMesh_Should_FaceLocalUp_When_PlaneHasABoundary()
        {
            var plane = new Proto.Plane { PlaneId = "p" };
            plane.BoundaryPlaneM.Add(new Proto.Vector2 { X = 0, Y = 0 });
            plane.BoundaryPlaneM.Add(new Proto.Vector2 { X = 1, Y = 0 });
            plane.BoundaryPlaneM.Add(new Proto.Vector2 { X = 1, Y = 1 });
            plane.BoundaryPlaneM.Add(new Proto.Vector2 { X = 0, Y = 1 });
            Mesh mesh = SoraPlaneVisualizer.BuildMesh(plane);
            Assert.AreEqual(6, mesh.triangles.Length);
            foreach (Vector3 n in mesh.normals) Assert.That(n.y, Is.EqualTo(1f).Within(1e-5));
        }
    }

    public class VisemeMappingTests
    {
        private static SkinnedMeshRenderer FaceWith(params string[] shapes)
        {
            var mesh = new Mesh { vertices = new Vector3[3], triangles = new[] { 0, 1, 2 } };
            foreach (string s in shapes) mesh.AddBlendShapeFrame(s, 100f, new Vector3[3], null, null);
            var go = new GameObject("face");
            var r = go.AddComponent<SkinnedMeshRenderer>();
            r.sharedMesh = mesh;
            return r;
        }

        [Test]
        public void Apply_Should_SetOculusVisemeBlendshapes_When_UsingTheDefaults()
        {
            SkinnedMeshRenderer face = FaceWith("viseme_aa", "viseme_O", "jawOpen");
            VisemeMapping m = VisemeMapping.CreateOculusDefaults();
            var w = new float[VisemeScheduler.SlotCount];
            w[(int)Viseme.AA] = 0.5f;
            m.Apply(face, w, new Dictionary<string, float> { { "jawOpen", 0.25f } });
            Assert.That(face.GetBlendShapeWeight(0), Is.EqualTo(50f).Within(1e-3));
            Assert.AreEqual(0f, face.GetBlendShapeWeight(1));
            Assert.That(face.GetBlendShapeWeight(2), Is.EqualTo(25f).Within(1e-3));
            Object.DestroyImmediate(face.gameObject);
        }

        [Test]
        public void Apply_Should_ReleaseBlendshapes_When_NoLongerDriven()
        {
            SkinnedMeshRenderer face = FaceWith("viseme_aa");
            VisemeMapping m = VisemeMapping.CreateOculusDefaults();
            var w = new float[VisemeScheduler.SlotCount];
            w[(int)Viseme.AA] = 1f;
            m.Apply(face, w, null);
            w[(int)Viseme.AA] = 0f;
            m.Apply(face, w, null);
            Assert.AreEqual(0f, face.GetBlendShapeWeight(0));
            Object.DestroyImmediate(face.gameObject);
        }

        [Test]
        public void Fill_Should_FindOculusNames_When_MeshUsesThem()
        {
            SkinnedMeshRenderer face = FaceWith("viseme_sil", "viseme_PP", "viseme_aa");
            var m = ScriptableObject.CreateInstance<VisemeMapping>();
            VisemeMappingEditor.Fill(m, face.sharedMesh);
            Assert.AreEqual(0, m.MissingOn(face.sharedMesh).Count);
            Assert.AreEqual(15, m.visemes.Count);
            Object.DestroyImmediate(face.gameObject);
        }
    }
}
