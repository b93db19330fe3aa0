using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class SceneApplierTests
    {
        private const ulong Epoch = 42;

        private static SceneUpdateData<string, string, string> Update(SceneUpdateKind kind, ulong epoch, ulong seq, bool complete = false)
        {
            return new SceneUpdateData<string, string, string>
            {
                Kind = kind,
                Position = new StreamPosition(epoch, seq),
                SnapshotComplete = complete,
            };
        }

        private static SceneUpdateData<string, string, string> Snapshot(ulong epoch, ulong seq, params ChunkPayload[] chunks)
        {
            var u = Update(SceneUpdateKind.SnapshotBegin, epoch, seq, true);
            u.UpsertedChunks.AddRange(chunks);
            return u;
        }

        private static SceneUpdateData<string, string, string> Delta(ulong seq, params ChunkPayload[] chunks)
        {
            var u = Update(SceneUpdateKind.Delta, Epoch, seq);
            u.UpsertedChunks.AddRange(chunks);
            return u;
        }

        private static ChunkPayload Chunk(int x, ulong version) { return ChunkDecoderTests.UpwardTriangle(new BlockKey(x, 0, 0), version); }

        [Test]
        public void Apply_Should_BuildEveryChunk_When_FirstSnapshotArrives()
        {
            var a = new SceneApplier<string, string, string>();
            var c = a.Apply(Snapshot(Epoch, 5, Chunk(0, 1), Chunk(1, 1)));
            Assert.AreEqual(UpdateDecision.Apply, c.Decision);
            Assert.AreEqual(2, c.ChunksToBuild.Count);
            Assert.AreEqual(2, a.ChunkCount);
            Assert.AreEqual(2, a.TriangleCount);
            Assert.AreEqual(new StreamPosition(Epoch, 5), a.Cursor.Applied.Value);
        }

        [Test]
        public void Apply_Should_KeepOldChunksUntilSnapshotCompletes_When_SnapshotIsSplit()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5, Chunk(0, 1), Chunk(1, 1), Chunk(2, 1)));
            a.ResetPosition();  // a fresh subscription after a broken stream

            var begin = Update(SceneUpdateKind.SnapshotBegin, Epoch, 9);
            begin.UpsertedChunks.Add(Chunk(0, 1));
            var c1 = a.Apply(begin);
            Assert.AreEqual(0, c1.ChunksToRemove.Count, "nothing disappears mid-snapshot");
            Assert.IsFalse(a.Cursor.Applied.HasValue, "an unfinished snapshot is not resumable");

            var part = Update(SceneUpdateKind.SnapshotPart, Epoch, 9, true);
            part.UpsertedChunks.Add(Chunk(1, 2));
            var c2 = a.Apply(part);
            CollectionAssert.AreEqual(new[] { new BlockKey(2, 0, 0) }, c2.ChunksToRemove);
            Assert.AreEqual(2, a.ChunkCount);
            Assert.AreEqual(2, a.TriangleCount);
            Assert.AreEqual(new StreamPosition(Epoch, 9), a.Cursor.Applied.Value);
        }

        [Test]
        public void Apply_Should_SkipUnchangedChunks_When_SnapshotOfSameEpochRepeatsThem()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5, Chunk(0, 1), Chunk(1, 1)));
            a.ResetPosition();
            var c = a.Apply(Snapshot(Epoch, 8, Chunk(0, 1), Chunk(1, 3)));
            CollectionAssert.AreEqual(new[] { new BlockKey(1, 0, 0) }, c.ChunksToBuild.Select(d => d.Block).ToArray());
            Assert.AreEqual(0, c.ChunksToRemove.Count);
        }

        [Test]
        public void Apply_Should_RebuildEverything_When_SnapshotStartsANewEpoch()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5, Chunk(0, 1), Chunk(1, 1)));
            var c = a.Apply(Snapshot(Epoch + 1, 1, Chunk(0, 1)));
            Assert.AreEqual(1, c.ChunksToBuild.Count, "versions restart with a new history");
            CollectionAssert.AreEqual(new[] { new BlockKey(1, 0, 0) }, c.ChunksToRemove);
        }

        [Test]
        public void Apply_Should_ApplyDeltasInOrder_When_EachFollowsTheLast()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5, Chunk(0, 1)));
            var c6 = a.Apply(Delta(6, Chunk(0, 2), Chunk(1, 1)));
            Assert.AreEqual(2, c6.ChunksToBuild.Count);
            var d7 = Delta(7);
            d7.RemovedChunks.Add(new BlockKey(0, 0, 0));
            var c7 = a.Apply(d7);
            CollectionAssert.AreEqual(new[] { new BlockKey(0, 0, 0) }, c7.ChunksToRemove);
            Assert.AreEqual(1, a.ChunkCount);
            Assert.AreEqual(1, a.TriangleCount);
            Assert.AreEqual(2, a.Cursor.Deltas);
        }

        [Test]
        public void Apply_Should_SkipReplayedDeltas_When_ResumedStreamRepeatsThem()
        {
            var a = new SceneApplier<string, string, string>(new StreamPosition(Epoch, 10));
            var c = a.Apply(Delta(10, Chunk(0, 1)));
            Assert.AreEqual(UpdateDecision.Skip, c.Decision);
            Assert.IsTrue(c.IsEmpty);
            Assert.AreEqual(UpdateDecision.Apply, a.Apply(Delta(11, Chunk(0, 1))).Decision);
        }

        [Test]
        public void Apply_Should_AskForAFreshSnapshot_When_DeltaSkipsAVersion()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5));
            Assert.AreEqual(UpdateDecision.Resubscribe, a.Apply(Delta(7, Chunk(0, 1))).Decision);
            Assert.AreEqual(0, a.ChunkCount);
        }

        [Test]
        public void Apply_Should_AskForAFreshSnapshot_When_DeltaComesFromAnotherEpoch()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5));
            var d = Update(SceneUpdateKind.Delta, Epoch + 1, 6);
            Assert.AreEqual(UpdateDecision.Resubscribe, a.Apply(d).Decision);
        }

        [Test]
        public void Apply_Should_AcceptCoalescedDelta_When_ItCoversSeveralVersions()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5));
            var d = Delta(9, Chunk(0, 4));
            d.Coalesced = true;
            Assert.AreEqual(UpdateDecision.Apply, a.Apply(d).Decision);
            var same = Delta(9, Chunk(1, 1));
            same.Coalesced = true;
            Assert.AreEqual(UpdateDecision.Apply, a.Apply(same).Decision, "a coalesced message may complete the current position");
            Assert.AreEqual(new StreamPosition(Epoch, 9), a.Cursor.Applied.Value);
            Assert.AreEqual(2, a.ChunkCount);
        }

        [Test]
        public void Apply_Should_AskForAFreshSnapshot_When_SnapshotPartArrivesWithoutBegin()
        {
            var a = new SceneApplier<string, string, string>();
            Assert.AreEqual(UpdateDecision.Resubscribe, a.Apply(Update(SceneUpdateKind.SnapshotPart, Epoch, 1, true)).Decision);
        }

        [Test]
        public void Apply_Should_TrackPlanesObjectsAndAnchors_When_UpdatesNameThem()
        {
            var a = new SceneApplier<string, string, string>();
            var s = Snapshot(Epoch, 1);
            s.UpsertedPlanes.Add(new Versioned<string>("floor", 1, "floor v1"));
            s.UpsertedObjects.Add(new Versioned<string>("cup", 1, "cup v1"));
            s.UpsertedAnchors.Add(new Versioned<string>("a1", 1, "anchor"));
            var c = a.Apply(s);
            CollectionAssert.AreEqual(new[] { "floor v1" }, c.PlanesToBuild);
            CollectionAssert.AreEqual(new[] { "cup v1" }, c.ObjectsToBuild);
            CollectionAssert.AreEqual(new[] { "anchor" }, c.AnchorsToBuild);

            var d = Delta(2);
            d.UpsertedPlanes.Add(new Versioned<string>("floor", 1, "floor v1 again"));
            d.UpsertedObjects.Add(new Versioned<string>("cup", 2, "cup v2"));
            d.RemovedAnchorIds.Add("a1");
            var c2 = a.Apply(d);
            Assert.AreEqual(0, c2.PlanesToBuild.Count, "same version: nothing to rebuild");
            CollectionAssert.AreEqual(new[] { "cup v2" }, c2.ObjectsToBuild);
            CollectionAssert.AreEqual(new[] { "a1" }, c2.AnchorsToRemove);
            Assert.AreEqual(0, a.AnchorCount);
        }

        [Test]
        public void Restart_Should_AbandonAnUnfinishedSnapshot_When_TheStreamBreaksMidway()
        {
            var a = new SceneApplier<string, string, string>();
            a.Apply(Snapshot(Epoch, 5, Chunk(0, 1), Chunk(1, 1)));
            var begin = Update(SceneUpdateKind.SnapshotBegin, Epoch, 9);
            begin.UpsertedChunks.Add(Chunk(0, 2));
            a.Apply(begin);  // the stream dies before the rest of this snapshot

            a.Restart(new StreamPosition(Epoch, 5));
            Assert.IsFalse(a.Cursor.InSnapshot);
            var c = a.Apply(Delta(6, Chunk(1, 2)));
            Assert.AreEqual(UpdateDecision.Apply, c.Decision, "resumed deltas apply after an abandoned snapshot");
            Assert.AreEqual(0, c.ChunksToRemove.Count);
            Assert.AreEqual(2, a.ChunkCount);
        }

        [Test]
        public void Apply_Should_PropagateFormatErrors_When_AChunkIsMalformed()
        {
            var a = new SceneApplier<string, string, string>();
            ChunkPayload bad = Chunk(0, 1);
            bad.TriangleCount = 2;
            Assert.Throws<ChunkFormatException>(() => a.Apply(Snapshot(Epoch, 1, bad)));
        }
    }

    [TestFixture]
    public class VersionedTableTests
    {
        [Test]
        public void Upsert_Should_IgnoreOlderVersions_When_OutsideASnapshot()
        {
            var t = new VersionedTable<string, int>();
            Assert.IsTrue(t.Upsert("a", 2, 20));
            Assert.IsFalse(t.Upsert("a", 1, 10));
            int v;
            t.TryGetValue("a", out v);
            Assert.AreEqual(20, v);
        }

        [Test]
        public void EndSnapshot_Should_ReturnOnlyUnmentionedKeys_When_SnapshotTouchesSome()
        {
            var t = new VersionedTable<string, int>();
            t.Upsert("a", 1, 1);
            t.Upsert("b", 1, 1);
            t.Upsert("c", 1, 1);
            t.BeginSnapshot(true);
            t.Upsert("a", 1, 1);
            t.Touch("b");
            List<string> gone = t.EndSnapshot();
            CollectionAssert.AreEquivalent(new[] { "c" }, gone);
            Assert.AreEqual(2, t.Count);
        }
    }
}
