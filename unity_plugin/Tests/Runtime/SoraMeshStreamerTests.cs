using System.Collections;
using System.Collections.Generic;
using Google.Protobuf;
using NUnit.Framework;
using Sora.Core;
using UnityEngine;
using UnityEngine.TestTools;
using Proto = Sora.V1;

namespace Sora.Unity.Tests
{
    /// <summary>Play-mode tests of the mesh streamer's main-thread side, fed without a server.</summary>
    public class SoraMeshStreamerTests
    {
        private GameObject _go;
        private SoraMeshStreamer _streamer;

        [SetUp]
        public void SetUp()
        {
            // The streamer subscribes on enable; keep it inactive so no connection is attempted.
            _go = new GameObject("streamer");
            _go.SetActive(false);
            _streamer = _go.AddComponent<SoraMeshStreamer>();
        }

        [TearDown]
        public void TearDown() { Object.DestroyImmediate(_go); }

        private static Proto.MeshChunk Triangle(int x, ulong version)
        {
            var positions = new byte[] { 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0 };
            return new Proto.MeshChunk
            {
                Block = new Proto.BlockIndex { X = x },
                Version = version,
                OriginWorldM = new Proto.Vector3 { X = x * 0.32f },
                BlockSizeM = 0.32f,
                PositionStepM = 0.001f,
                VertexCount = 3,
                TriangleCount = 1,
                PositionsU16 = ByteString.CopyFrom(positions),
                IndexFormat = Proto.IndexFormat.U16,
                Indices = ByteString.CopyFrom(new byte[] { 0, 0, 1, 0, 2, 0 }),
            };
        }

        private void Feed(Proto.SceneUpdate update, SceneApplier<Proto.Plane, Proto.SceneObject, Proto.Anchor> applier)
        {
            var changes = applier.Apply(SoraMeshStreamer.ToData(update));
            var meshes = new List<SoraMeshStreamer.ChunkMeshData>();
            foreach (DecodedChunk d in changes.ChunksToBuild) meshes.Add(SoraMeshStreamer.ChunkMeshData.From(d));
            _streamer.ApplyOnMainThread(changes, meshes, new SoraSceneStats { Chunks = applier.ChunkCount });
            _streamer.FlushBuilds();
        }

        [Test]
        public void ApplyOnMainThread_Should_CreateOneGameObjectPerChunk_When_SnapshotArrives()
        {
            var applier = new SceneApplier<Proto.Plane, Proto.SceneObject, Proto.Anchor>();
            var snapshot = new Proto.SceneUpdate
            {
                Kind = Proto.SceneUpdateKind.SnapshotBegin,
                SnapshotComplete = true,
                Position = new Proto.StreamPosition { Epoch = 1, Sequence = 3 },
            };
            snapshot.UpsertedChunks.Add(Triangle(0, 1));
            snapshot.UpsertedChunks.Add(Triangle(1, 1));
            Feed(snapshot, applier);
            Assert.AreEqual(2, _streamer.ChunkCount);
            Assert.AreEqual(2, _streamer.ChunkRoot.childCount);
            Mesh mesh = _streamer.ChunkRoot.GetChild(0).GetComponent<MeshFilter>().sharedMesh;
            Assert.AreEqual(3, mesh.vertexCount);
        }

        [Test]
        public void ApplyOnMainThread_Should_DestroyTheChunk_When_ADeltaRemovesIt()
        {
            var applier = new SceneApplier<Proto.Plane, Proto.SceneObject, Proto.Anchor>();
            var snapshot = new Proto.SceneUpdate
            {
                Kind = Proto.SceneUpdateKind.SnapshotBegin,
                SnapshotComplete = true,
                Position = new Proto.StreamPosition { Epoch = 1, Sequence = 3 },
            };
            snapshot.UpsertedChunks.Add(Triangle(0, 1));
            Feed(snapshot, applier);
            var delta = new Proto.SceneUpdate { Kind = Proto.SceneUpdateKind.Delta, Position = new Proto.StreamPosition { Epoch = 1, Sequence = 4 } };
            delta.RemovedChunks.Add(new Proto.BlockIndex { X = 0 });
            Feed(delta, applier);
            Assert.AreEqual(0, _streamer.ChunkCount);
        }

        [Test]
        public void BuiltChunk_Should_SitWhereTheSoraPointMaps_When_Converted()
        {
            var applier = new SceneApplier<Proto.Plane, Proto.SceneObject, Proto.Anchor>();
            var snapshot = new Proto.SceneUpdate
            {
                Kind = Proto.SceneUpdateKind.SnapshotBegin,
                SnapshotComplete = true,
                Position = new Proto.StreamPosition { Epoch = 1, Sequence = 1 },
            };
            snapshot.UpsertedChunks.Add(Triangle(0, 1));
            Feed(snapshot, applier);
            Mesh mesh = _streamer.ChunkRoot.GetChild(0).GetComponent<MeshFilter>().sharedMesh;
            // Sora (0, 0.1, 0) is 10 cm along Sora +Y: Unity +Z.
            Assert.That(Vector3.Distance(new Vector3(0f, 0f, 0.1f), mesh.vertices[2]), Is.LessThan(1e-4f));
        }
    }

    /// <summary>Stream callbacks reach GameObjects only on the main thread.</summary>
    public class MainThreadMarshallingTests
    {
        [UnityTest]
        public IEnumerator RunOnMainThread_Should_RunOnTheMainThread_When_PostedFromAWorker()
        {
            var go = new GameObject("host");
            go.SetActive(false);
            var host = go.AddComponent<SoraChannelHost>();
            host.ConnectOnStart = false;  // no server in this test
            go.SetActive(true);
            int mainThread = System.Threading.Thread.CurrentThread.ManagedThreadId;
            int ranOn = -1;
            var worker = new System.Threading.Thread(() => host.RunOnMainThread(() => ranOn = System.Threading.Thread.CurrentThread.ManagedThreadId));
            worker.Start();
            worker.Join();
            yield return null;
            yield return null;
            Assert.AreEqual(mainThread, ranOn);
            Object.Destroy(go);
        }
    }
}
