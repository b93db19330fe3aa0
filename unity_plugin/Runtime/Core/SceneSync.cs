// Chunk and scene-element bookkeeping for WatchScene: which updates to apply, which chunks to
// (re)build or destroy, and the position to resume from. Plain C#; the Unity mesh streamer
// feeds it proto data converted to SceneUpdateData and acts on the SceneChanges it returns.
using System;
using System.Collections.Generic;

namespace Sora.Core
{
    /// <summary>Kinds of scene update (values of sora.v1.SceneUpdateKind).</summary>
    public enum SceneUpdateKind
    {
        Unspecified = 0,
        SnapshotBegin = 1,
        SnapshotPart = 2,
        Delta = 3,
    }

    /// <summary>What to do with one update.</summary>
    public enum UpdateDecision
    {
        /// <summary>Apply its contents.</summary>
        Apply,
        /// <summary>A replay of something already applied (after a resume): ignore it.</summary>
        Skip,
        /// <summary>The stream broke its ordering (a gap, an epoch change without a snapshot):
        /// drop the stream and subscribe again without <c>resume_from</c> for a fresh snapshot.</summary>
        Resubscribe,
    }

    /// <summary>
    /// Follows one scene stream's position and snapshot state. A snapshot is applied as it
    /// arrives but is resumable only once complete; a delta must follow the applied position by
    /// one, except coalesced deltas (byte-budgeted streams), which may skip versions and may
    /// repeat the current position.
    /// </summary>
    public sealed class SceneStreamCursor
    {
        private StreamPosition? _applied;

        /// <param name="resumeFrom">A position applied earlier (e.g. persisted by the app), or null.</param>
        public SceneStreamCursor(StreamPosition? resumeFrom = null)
        {
            _applied = resumeFrom;
        }

        /// <summary>The last complete position applied: send it as <c>resume_from</c>.</summary>
        public StreamPosition? Applied { get { return _applied; } }
        public bool InSnapshot { get; private set; }
        public int Snapshots { get; private set; }
        public int Deltas { get; private set; }
        public int Skipped { get; private set; }

        public UpdateDecision Check(SceneUpdateKind kind, StreamPosition position, bool coalesced)
        {
            switch (kind)
            {
                case SceneUpdateKind.SnapshotBegin:
                    return UpdateDecision.Apply;
                case SceneUpdateKind.SnapshotPart:
                    return InSnapshot ? UpdateDecision.Apply : UpdateDecision.Resubscribe;
                default:
                    if (InSnapshot) return UpdateDecision.Resubscribe;
                    if (!_applied.HasValue) return UpdateDecision.Apply;
                    StreamPosition a = _applied.Value;
                    if (position.Epoch != a.Epoch) return UpdateDecision.Resubscribe;
                    if (position.Sequence < a.Sequence || (position.Sequence == a.Sequence && !coalesced))
                    {
                        Skipped++;
                        return UpdateDecision.Skip;
                    }
                    if (position.Sequence > a.Sequence + 1 && !coalesced) return UpdateDecision.Resubscribe;
                    return UpdateDecision.Apply;
            }
        }

        /// <summary>Records an applied update (after <see cref="Check"/> said Apply).</summary>
        public void Commit(SceneUpdateKind kind, StreamPosition position, bool snapshotComplete)
        {
            if (kind == SceneUpdateKind.SnapshotBegin)
            {
                InSnapshot = true;
                Snapshots++;
            }
            if (kind == SceneUpdateKind.Delta)
            {
                Deltas++;
                _applied = position;
            }
            else if (snapshotComplete)
            {
                InSnapshot = false;
                _applied = position;
            }
        }

        /// <summary>Forgets the position: the next subscription starts with a fresh snapshot.</summary>
        public void Reset()
        {
            _applied = null;
            InSnapshot = false;
        }
    }

    /// <summary>
    /// Keyed, versioned elements (chunks, planes, objects, anchors) with snapshot staging: during a
    /// snapshot the old elements stay (no flicker on a reconnect) and those the snapshot did not
    /// mention are removed when it completes; an unchanged version is not rebuilt.
    /// </summary>
    public sealed class VersionedTable<TKey, TValue>
    {
        private struct Entry
        {
            public ulong Version;
            public TValue Value;
        }

        private readonly Dictionary<TKey, Entry> _entries = new Dictionary<TKey, Entry>();
        private readonly HashSet<TKey> _stale = new HashSet<TKey>();
        private bool _replaceAll;

        public int Count { get { return _entries.Count; } }
        public IEnumerable<TKey> Keys { get { return _entries.Keys; } }

        public bool TryGetValue(TKey key, out TValue value)
        {
            Entry e;
            bool found = _entries.TryGetValue(key, out e);
            value = found ? e.Value : default(TValue);
            return found;
        }

        public bool TryGetVersion(TKey key, out ulong version)
        {
            Entry e;
            bool found = _entries.TryGetValue(key, out e);
            version = found ? e.Version : 0UL;
            return found;
        }

        /// <summary>Whether an upsert of <paramref name="key"/> at <paramref name="version"/> changes anything.</summary>
        public bool NeedsUpdate(TKey key, ulong version)
        {
            Entry e;
            if (!_entries.TryGetValue(key, out e)) return true;
            return _replaceAll && _stale.Contains(key) || version > e.Version;
        }

        /// <summary>Adds or replaces; false (and nothing stored) when the stored version is as new.</summary>
        public bool Upsert(TKey key, ulong version, TValue value)
        {
            bool changed = NeedsUpdate(key, version);
            _stale.Remove(key);
            if (changed) _entries[key] = new Entry { Version = version, Value = value };
            return changed;
        }

        /// <summary>Keeps a stale element through the running snapshot (it was mentioned unchanged).</summary>
        public void Touch(TKey key) { _stale.Remove(key); }

        public bool Remove(TKey key)
        {
            _stale.Remove(key);
            return _entries.Remove(key);
        }

        /// <summary>
        /// Starts a snapshot: every element is stale until the snapshot mentions it. With
        /// <paramref name="sameEpoch"/> false (a new server history, whose versions restart) every
        /// element the snapshot mentions is replaced whatever its version.
        /// </summary>
        public void BeginSnapshot(bool sameEpoch)
        {
            _stale.Clear();
            foreach (TKey k in _entries.Keys) _stale.Add(k);
            _replaceAll = !sameEpoch;
        }

        /// <summary>Ends a snapshot: removes and returns the elements it did not mention.</summary>
        public List<TKey> EndSnapshot()
        {
            var gone = new List<TKey>(_stale);
            foreach (TKey k in gone) _entries.Remove(k);
            _stale.Clear();
            _replaceAll = false;
            return gone;
        }

        /// <summary>Abandons a snapshot that will not complete (its stream broke): nothing is removed.</summary>
        public void AbortSnapshot()
        {
            _stale.Clear();
            _replaceAll = false;
        }

        public void Clear()
        {
            _entries.Clear();
            _stale.Clear();
            _replaceAll = false;
        }
    }

    /// <summary>An element with an ID and a version (planes, objects, anchors).</summary>
    public struct Versioned<T>
    {
        public string Id;
        public ulong Version;
        public T Value;

        public Versioned(string id, ulong version, T value)
        {
            Id = id;
            Version = version;
            Value = value;
        }
    }

    /// <summary>One SceneUpdate as plain data; element payloads are whatever the caller uses (protos in Unity).</summary>
    public sealed class SceneUpdateData<TPlane, TObject, TAnchor>
    {
        public SceneUpdateKind Kind;
        public StreamPosition Position;
        public bool SnapshotComplete;
        public bool Coalesced;
        public List<ChunkPayload> UpsertedChunks = new List<ChunkPayload>();
        public List<BlockKey> RemovedChunks = new List<BlockKey>();
        public List<Versioned<TPlane>> UpsertedPlanes = new List<Versioned<TPlane>>();
        public List<string> RemovedPlaneIds = new List<string>();
        public List<Versioned<TObject>> UpsertedObjects = new List<Versioned<TObject>>();
        public List<string> RemovedObjectIds = new List<string>();
        public List<Versioned<TAnchor>> UpsertedAnchors = new List<Versioned<TAnchor>>();
        public List<string> RemovedAnchorIds = new List<string>();
    }

    /// <summary>What the engine must do after one update: build, replace or destroy objects.</summary>
    public sealed class SceneChanges<TPlane, TObject, TAnchor>
    {
        public UpdateDecision Decision;
        /// <summary>Chunks to create or replace (decoded in Unity's frame).</summary>
        public List<DecodedChunk> ChunksToBuild = new List<DecodedChunk>();
        public List<BlockKey> ChunksToRemove = new List<BlockKey>();
        public List<TPlane> PlanesToBuild = new List<TPlane>();
        public List<string> PlanesToRemove = new List<string>();
        public List<TObject> ObjectsToBuild = new List<TObject>();
        public List<string> ObjectsToRemove = new List<string>();
        public List<TAnchor> AnchorsToBuild = new List<TAnchor>();
        public List<string> AnchorsToRemove = new List<string>();

        public bool IsEmpty
        {
            get
            {
                return ChunksToBuild.Count == 0 && ChunksToRemove.Count == 0 && PlanesToBuild.Count == 0 &&
                       PlanesToRemove.Count == 0 && ObjectsToBuild.Count == 0 && ObjectsToRemove.Count == 0 &&
                       AnchorsToBuild.Count == 0 && AnchorsToRemove.Count == 0;
            }
        }
    }

    /// <summary>
    /// The scene mirror of an engine client: applies updates in order (network thread; decoding
    /// happens here, off the main thread) and says what changed. Not thread-safe: one stream,
    /// one thread.
    /// </summary>
    public sealed class SceneApplier<TPlane, TObject, TAnchor>
    {
        private readonly VersionedTable<BlockKey, int> _chunks = new VersionedTable<BlockKey, int>();
        private readonly VersionedTable<string, TPlane> _planes = new VersionedTable<string, TPlane>();
        private readonly VersionedTable<string, TObject> _objects = new VersionedTable<string, TObject>();
        private readonly VersionedTable<string, TAnchor> _anchors = new VersionedTable<string, TAnchor>();
        // The epoch of what the tables hold; it outlives a reset cursor, so a fresh snapshot of
        // the same history keeps the chunks whose versions did not change.
        private ulong? _epoch;

        public SceneApplier(StreamPosition? resumeFrom = null)
        {
            Cursor = new SceneStreamCursor(resumeFrom);
            if (resumeFrom.HasValue) _epoch = resumeFrom.Value.Epoch;
        }

        public SceneStreamCursor Cursor { get; private set; }
        public int ChunkCount { get { return _chunks.Count; } }
        public int PlaneCount { get { return _planes.Count; } }
        public int ObjectCount { get { return _objects.Count; } }
        public int AnchorCount { get { return _anchors.Count; } }
        /// <summary>Triangles in the mirrored mesh.</summary>
        public long TriangleCount { get; private set; }
        public IEnumerable<BlockKey> ChunkKeys { get { return _chunks.Keys; } }

        public bool TryGetChunkVersion(BlockKey key, out ulong version) { return _chunks.TryGetVersion(key, out version); }

        public SceneChanges<TPlane, TObject, TAnchor> Apply(SceneUpdateData<TPlane, TObject, TAnchor> u)
        {
            var changes = new SceneChanges<TPlane, TObject, TAnchor>();
            changes.Decision = Cursor.Check(u.Kind, u.Position, u.Coalesced);
            if (changes.Decision != UpdateDecision.Apply) return changes;

            if (u.Kind == SceneUpdateKind.SnapshotBegin)
            {
                bool sameEpoch = _epoch.HasValue && _epoch.Value == u.Position.Epoch;
                _chunks.BeginSnapshot(sameEpoch);
                _planes.BeginSnapshot(sameEpoch);
                _objects.BeginSnapshot(sameEpoch);
                _anchors.BeginSnapshot(sameEpoch);
            }
            foreach (ChunkPayload c in u.UpsertedChunks)
            {
                if (!_chunks.NeedsUpdate(c.Block, c.Version))
                {
                    _chunks.Touch(c.Block);
                    continue;
                }
                DecodedChunk d = ChunkDecoder.Decode(c);
                int old;
                if (_chunks.TryGetValue(c.Block, out old)) TriangleCount -= old;
                _chunks.Upsert(c.Block, c.Version, d.TriangleCount);
                TriangleCount += d.TriangleCount;
                changes.ChunksToBuild.Add(d);
            }
            foreach (BlockKey k in u.RemovedChunks)
            {
                int old;
                if (_chunks.TryGetValue(k, out old)) TriangleCount -= old;
                if (_chunks.Remove(k)) changes.ChunksToRemove.Add(k);
            }
            ApplyElements(_planes, u.UpsertedPlanes, u.RemovedPlaneIds, changes.PlanesToBuild, changes.PlanesToRemove);
            ApplyElements(_objects, u.UpsertedObjects, u.RemovedObjectIds, changes.ObjectsToBuild, changes.ObjectsToRemove);
            ApplyElements(_anchors, u.UpsertedAnchors, u.RemovedAnchorIds, changes.AnchorsToBuild, changes.AnchorsToRemove);

            bool completesSnapshot = u.Kind != SceneUpdateKind.Delta && u.SnapshotComplete;
            if (completesSnapshot)
            {
                foreach (BlockKey k in _chunks.EndSnapshot()) changes.ChunksToRemove.Add(k);
                changes.PlanesToRemove.AddRange(_planes.EndSnapshot());
                changes.ObjectsToRemove.AddRange(_objects.EndSnapshot());
                changes.AnchorsToRemove.AddRange(_anchors.EndSnapshot());
                RecountTriangles();
            }
            Cursor.Commit(u.Kind, u.Position, u.SnapshotComplete);
            _epoch = u.Position.Epoch;
            return changes;
        }

        /// <summary>Forgets the stream position (a fresh snapshot follows); the elements stay until it replaces them.</summary>
        public void ResetPosition() { Restart(null); }

        /// <summary>
        /// Prepares for a new subscription from <paramref name="resumeFrom"/> (null: a fresh
        /// snapshot). An unfinished snapshot of the previous one is abandoned: what it built stays,
        /// and the new stream's deltas or snapshot bring everything up to date.
        /// </summary>
        public void Restart(StreamPosition? resumeFrom)
        {
            Cursor = new SceneStreamCursor(resumeFrom);
            _chunks.AbortSnapshot();
            _planes.AbortSnapshot();
            _objects.AbortSnapshot();
            _anchors.AbortSnapshot();
        }

        private void RecountTriangles()
        {
            long total = 0;
            foreach (BlockKey k in _chunks.Keys)
            {
                int t;
                _chunks.TryGetValue(k, out t);
                total += t;
            }
            TriangleCount = total;
        }

        private static void ApplyElements<T>(VersionedTable<string, T> table, List<Versioned<T>> upserts, List<string> removals,
                                             List<T> build, List<string> remove)
        {
            foreach (Versioned<T> e in upserts)
            {
                if (table.Upsert(e.Id, e.Version, e.Value)) build.Add(e.Value);
            }
            foreach (string id in removals)
            {
                if (table.Remove(id)) remove.Add(id);
            }
        }
    }
}
