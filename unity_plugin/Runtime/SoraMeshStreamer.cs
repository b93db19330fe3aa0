using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sora.Core;
using UnityEngine;
using UnityEngine.Events;
using Proto = Sora.V1;

namespace Sora.Unity
{
    /// <summary>Mesh statistics after a scene update.</summary>
    [Serializable]
    public struct SoraSceneStats
    {
        public int Chunks;
        public long Triangles;
        public ulong Epoch;
        public ulong Sequence;
    }

    [Serializable]
    public sealed class SoraSceneStatsEvent : UnityEvent<SoraSceneStats>
    {
    }

    /// <summary>
    /// Mirrors the session's scene (SceneService.WatchScene): one GameObject per mesh chunk, built
    /// and replaced as chunks change and destroyed when they are removed, optionally with mesh
    /// colliders. Planes, objects and anchors are handed to the visualisers through
    /// <see cref="ElementsChanged"/>. Decoding and the Sora-to-Unity conversion happen off the main
    /// thread; the main thread only uploads at most <see cref="maxChunkBuildsPerFrame"/> meshes a frame.
    /// </summary>
    [AddComponentMenu("Sora/Sora Mesh Streamer")]
    public sealed class SoraMeshStreamer : MonoBehaviour
    {
        [Tooltip("Material for chunks; vertex colours are the scanned colours. Default: Sora/VertexColor.")]
        [SerializeField] private Material chunkMaterial;
        [SerializeField] private bool generateColliders = true;
        [Tooltip("Layer of the chunk GameObjects (e.g. a 'SoraMesh' layer for raycasts and occlusion).")]
        [SerializeField] private int chunkLayer = 0;
        [SerializeField] private bool includePlanes = true;
        [SerializeField] private bool includeObjects = true;
        [SerializeField] private bool includeAnchors = true;
        [Tooltip("Mesh bandwidth budget in bytes per second (0: none). With a budget the server sends the nearest chunks first.")]
        [SerializeField] private int maxMeshBytesPerSecond = 0;
        [SerializeField] private int maxChunkBuildsPerFrame = 16;

        public SoraSceneStatsEvent onSceneChanged = new SoraSceneStatsEvent();

        /// <summary>Planes, objects and anchors that changed (main thread).</summary>
        public event Action<SceneChanges<Proto.Plane, Proto.SceneObject, Proto.Anchor>> ElementsChanged;

        private readonly Dictionary<BlockKey, GameObject> _chunkObjects = new Dictionary<BlockKey, GameObject>();
        private readonly Dictionary<BlockKey, ChunkMeshData> _pendingBuilds = new Dictionary<BlockKey, ChunkMeshData>();
        private readonly Queue<BlockKey> _buildOrder = new Queue<BlockKey>();
        private readonly Stack<GameObject> _pool = new Stack<GameObject>();
        // Touched only on the stream's thread.
        private readonly SceneApplier<Proto.Plane, Proto.SceneObject, Proto.Anchor> _applier =
            new SceneApplier<Proto.Plane, Proto.SceneObject, Proto.Anchor>();
        private SoraSceneStats _stats;
        private ManagedStream _stream;
        private Transform _root;

        public int ChunkCount { get { return _chunkObjects.Count; } }
        public SoraSceneStats Stats { get { return _stats; } }
        public Transform ChunkRoot { get { return EnsureRoot(); } }

        /// <summary>Vertices, normals, colours and indices ready for a UnityEngine.Mesh (built off the main thread).</summary>
        internal sealed class ChunkMeshData
        {
            public BlockKey Block;
            public Vector3[] Vertices;
            public Vector3[] Normals;
            public Color32[] Colors;
            public int[] Triangles;
            public bool UInt32Indices;
            public bool HasNormals;

            public static ChunkMeshData From(DecodedChunk d)
            {
                int n = d.VertexCount;
                var m = new ChunkMeshData
                {
                    Block = d.Block,
                    Vertices = new Vector3[n],
                    Normals = new Vector3[n],
                    Colors = new Color32[n],
                    Triangles = d.Triangles,
                    UInt32Indices = d.NeedsUInt32Indices,
                };
                for (int i = 0; i < n; i++)
                {
                    m.Vertices[i] = new Vector3(d.Positions[3 * i], d.Positions[3 * i + 1], d.Positions[3 * i + 2]);
                    m.Normals[i] = new Vector3(d.Normals[3 * i], d.Normals[3 * i + 1], d.Normals[3 * i + 2]);
                    m.Colors[i] = new Color32(d.ColorsRgba[4 * i], d.ColorsRgba[4 * i + 1], d.ColorsRgba[4 * i + 2], d.ColorsRgba[4 * i + 3]);
                    if (!m.HasNormals && m.Normals[i] != Vector3.zero) m.HasNormals = true;
                }
                return m;
            }
        }

        private void OnEnable()
        {
            if (_stream != null)
            {
                _stream.Start();
                return;
            }
            SoraChannelHost host = SoraChannelHost.GetOrCreate();
            _stream = host.StartStream("scene", Watch);
        }

        private void OnDisable()
        {
            if (_stream != null) _stream.Stop();
        }

        private void OnDestroy()
        {
            if (SoraChannelHost.Instance != null) SoraChannelHost.Instance.StopStream(_stream);
            _stream = null;
        }

        private void Update()
        {
            int built = 0;
            while (built < maxChunkBuildsPerFrame && _buildOrder.Count > 0)
            {
                BlockKey key = _buildOrder.Dequeue();
                ChunkMeshData data;
                if (!_pendingBuilds.TryGetValue(key, out data)) continue;  // removed since
                _pendingBuilds.Remove(key);
                BuildChunk(data);
                built++;
            }
        }

        /// <summary>Destroys every chunk object (the stream keeps running and refills them).</summary>
        public void ClearChunks()
        {
            foreach (GameObject go in _chunkObjects.Values) Destroy(go);
            _chunkObjects.Clear();
            _pendingBuilds.Clear();
            _buildOrder.Clear();
        }

        // ---- stream thread ----

        private async Task Watch(ManagedStream stream, CancellationToken ct)
        {
            SoraChannelHost host = SoraChannelHost.Instance;
            string sessionId = await host.GetSessionIdAsync(ct).ConfigureAwait(false);
            var request = new Proto.WatchSceneRequest
            {
                SessionId = sessionId,
                Content = new Proto.SceneContent
                {
                    ExcludePlanes = !includePlanes,
                    ExcludeObjects = !includeObjects,
                    ExcludeAnchors = !includeAnchors,
                },
                MaxMeshBytesPerS = (uint)Math.Max(0, maxMeshBytesPerSecond),
            };
            StreamPosition? from = stream.Resume.ResumeFrom;
            if (from.HasValue) request.ResumeFrom = SoraFrames.ToProto(from.Value);
            _applier.Restart(from);

            using (var call = host.Scene.WatchScene(request, host.CallOptions(ct)))
            {
                while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                {
                    Proto.SceneUpdate u = call.ResponseStream.Current.Update;
                    SceneChanges<Proto.Plane, Proto.SceneObject, Proto.Anchor> changes = _applier.Apply(ToData(u));
                    if (changes.Decision == UpdateDecision.Resubscribe)
                    {
                        throw new ResubscribeException("scene stream out of order at " + u.Position);
                    }
                    bool complete = u.Kind == Proto.SceneUpdateKind.Delta || u.SnapshotComplete;
                    stream.Delivered(complete ? _applier.Cursor.Applied : null);
                    if (changes.Decision != UpdateDecision.Apply) continue;

                    var meshes = new List<ChunkMeshData>(changes.ChunksToBuild.Count);
                    foreach (DecodedChunk d in changes.ChunksToBuild) meshes.Add(ChunkMeshData.From(d));
                    var stats = new SoraSceneStats
                    {
                        Chunks = _applier.ChunkCount,
                        Triangles = _applier.TriangleCount,
                        Epoch = u.Position == null ? 0 : u.Position.Epoch,
                        Sequence = u.Position == null ? 0 : u.Position.Sequence,
                    };
                    host.RunOnMainThread(() => ApplyOnMainThread(changes, meshes, stats));
                }
            }
        }

        internal static SceneUpdateData<Proto.Plane, Proto.SceneObject, Proto.Anchor> ToData(Proto.SceneUpdate u)
        {
            var d = new SceneUpdateData<Proto.Plane, Proto.SceneObject, Proto.Anchor>
            {
                Kind = (SceneUpdateKind)(int)u.Kind,
                Position = u.Position == null ? new StreamPosition(0, 0) : new StreamPosition(u.Position.Epoch, u.Position.Sequence),
                SnapshotComplete = u.SnapshotComplete,
                Coalesced = u.Coalesced,
            };
            foreach (Proto.MeshChunk c in u.UpsertedChunks) d.UpsertedChunks.Add(SoraFrames.ToPayload(c));
            foreach (Proto.BlockIndex b in u.RemovedChunks) d.RemovedChunks.Add(new BlockKey(b.X, b.Y, b.Z));
            foreach (Proto.Plane p in u.UpsertedPlanes) d.UpsertedPlanes.Add(new Versioned<Proto.Plane>(p.PlaneId, p.Version, p));
            d.RemovedPlaneIds.AddRange(u.RemovedPlaneIds);
            foreach (Proto.SceneObject o in u.UpsertedObjects) d.UpsertedObjects.Add(new Versioned<Proto.SceneObject>(o.ObjectId, o.Version, o));
            d.RemovedObjectIds.AddRange(u.RemovedObjectIds);
            foreach (Proto.Anchor a in u.UpsertedAnchors) d.UpsertedAnchors.Add(new Versioned<Proto.Anchor>(a.AnchorId, a.Version, a));
            d.RemovedAnchorIds.AddRange(u.RemovedAnchorIds);
            return d;
        }

        // ---- main thread ----

        /// <summary>Applies one update's changes: removals now, builds queued under the per-frame budget.</summary>
        internal void ApplyOnMainThread(SceneChanges<Proto.Plane, Proto.SceneObject, Proto.Anchor> changes, List<ChunkMeshData> meshes,
                                        SoraSceneStats stats)
        {
            foreach (BlockKey key in changes.ChunksToRemove)
            {
                _pendingBuilds.Remove(key);
                GameObject go;
                if (_chunkObjects.TryGetValue(key, out go))
                {
                    _chunkObjects.Remove(key);
                    Return(go);
                }
            }
            foreach (ChunkMeshData m in meshes)
            {
                // A newer version replaces a pending one in place, keeping its turn in the queue.
                if (!_pendingBuilds.ContainsKey(m.Block)) _buildOrder.Enqueue(m.Block);
                _pendingBuilds[m.Block] = m;
            }
            _stats = stats;
            Action<SceneChanges<Proto.Plane, Proto.SceneObject, Proto.Anchor>> handler = ElementsChanged;
            if (handler != null) handler(changes);
            onSceneChanged.Invoke(stats);
        }

        /// <summary>Builds every queued chunk now (tests, and apps that want the whole mesh this frame).</summary>
        public void FlushBuilds()
        {
            int limit = maxChunkBuildsPerFrame;
            maxChunkBuildsPerFrame = int.MaxValue;
            Update();
            maxChunkBuildsPerFrame = limit;
        }

        private void BuildChunk(ChunkMeshData data)
        {
            GameObject go;
            if (!_chunkObjects.TryGetValue(data.Block, out go))
            {
                go = Rent();
                go.name = "Chunk " + data.Block;
                _chunkObjects[data.Block] = go;
            }
            var filter = go.GetComponent<MeshFilter>();
            Mesh mesh = filter.sharedMesh;
            if (mesh == null)
            {
                mesh = new Mesh { name = "Sora chunk" };
                mesh.MarkDynamic();
                filter.sharedMesh = mesh;
            }
            mesh.Clear();
            mesh.indexFormat = data.UInt32Indices ? UnityEngine.Rendering.IndexFormat.UInt32 : UnityEngine.Rendering.IndexFormat.UInt16;
            mesh.vertices = data.Vertices;
            mesh.colors32 = data.Colors;
            mesh.triangles = data.Triangles;
            if (data.HasNormals) mesh.normals = data.Normals;
            else mesh.RecalculateNormals();
            mesh.RecalculateBounds();
            if (generateColliders)
            {
                var collider = go.GetComponent<MeshCollider>();
                if (collider == null) collider = go.AddComponent<MeshCollider>();
                collider.sharedMesh = null;  // re-assigning re-cooks the collider
                collider.sharedMesh = data.Triangles.Length > 0 ? mesh : null;
            }
        }

        private GameObject Rent()
        {
            GameObject go = _pool.Count > 0 ? _pool.Pop() : null;
            if (go == null)
            {
                go = new GameObject("Chunk", typeof(MeshFilter), typeof(MeshRenderer));
                go.transform.SetParent(EnsureRoot(), false);
                go.GetComponent<MeshRenderer>().sharedMaterial = chunkMaterial != null ? chunkMaterial : SoraMaterials.VertexColor;
            }
            go.layer = chunkLayer;
            go.SetActive(true);
            return go;
        }

        private void Return(GameObject go)
        {
            go.SetActive(false);
            _pool.Push(go);
        }

        private Transform EnsureRoot()
        {
            if (_root == null)
            {
                _root = new GameObject("Sora Scene Mesh").transform;
                _root.SetParent(transform, false);
            }
            return _root;
        }
    }
}
