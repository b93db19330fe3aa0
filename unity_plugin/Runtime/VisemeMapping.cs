using System;
using System.Collections.Generic;
using Sora.Core;
using UnityEngine;

namespace Sora.Unity
{
    /// <summary>
    /// Which blendshapes of a face mesh each of Oculus' 15 visemes drives, and whether the
    /// server's ARKit-named mouth blendshapes (jawOpen, mouthFunnel …) drive blendshapes of the
    /// same name. One asset serves every avatar that shares a naming scheme; the
    /// "Oculus visemes" preset matches meshes with viseme_sil … viseme_U blendshapes (Ready
    /// Player Me, Oculus Lipsync models).
    /// </summary>
    [CreateAssetMenu(fileName = "VisemeMapping", menuName = "Sora/Viseme Mapping")]
    public sealed class VisemeMapping : ScriptableObject
    {
        [Serializable]
        public struct Target
        {
            [Tooltip("Blendshape name on the face mesh.")]
            public string blendShape;
            [Range(0f, 1f)] public float weight;
        }

        [Serializable]
        public sealed class Entry
        {
            public Viseme viseme;
            public List<Target> targets = new List<Target>();
        }

        public List<Entry> visemes = new List<Entry>();
        [Tooltip("Apply the server's ARKit blendshape frames to blendshapes named prefix + ARKit name.")]
        public bool applyArkitBlendshapes = true;
        public string arkitPrefix = "";
        [Tooltip("Unity blendshape weights run 0..100 for most imported meshes.")]
        public float weightScale = 100f;

        // Blendshape indices per mesh: names are looked up once, not every frame.
        [NonSerialized] private readonly Dictionary<Mesh, Dictionary<string, int>> _indices = new Dictionary<Mesh, Dictionary<string, int>>();
        [NonSerialized] private readonly Dictionary<SkinnedMeshRenderer, HashSet<int>> _touched = new Dictionary<SkinnedMeshRenderer, HashSet<int>>();
        [NonSerialized] private readonly Dictionary<int, float> _frame = new Dictionary<int, float>();

        /// <summary>A mapping for meshes with Oculus-named viseme blendshapes (viseme_sil, viseme_PP, …).</summary>
        public static VisemeMapping CreateOculusDefaults()
        {
            var m = CreateInstance<VisemeMapping>();
            m.name = "Oculus visemes";
            string[] names = { "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U" };
            for (int i = 0; i < names.Length; i++)
            {
                var e = new Entry { viseme = (Viseme)(i + 1) };
                e.targets.Add(new Target { blendShape = "viseme_" + names[i], weight = 1f });
                m.visemes.Add(e);
            }
            return m;
        }

        /// <summary>
        /// Sets the face's blendshapes from viseme weights (indexed by (int)Viseme) and ARKit
        /// weights; blendshapes driven last frame and not now go back to 0. Missing names are skipped.
        /// </summary>
        public void Apply(SkinnedMeshRenderer face, float[] visemeWeights, IDictionary<string, float> arkitWeights)
        {
            if (face == null || face.sharedMesh == null) return;
            Dictionary<string, int> index = IndexOf(face.sharedMesh);
            _frame.Clear();
            foreach (Entry e in visemes)
            {
                int slot = (int)e.viseme;
                float w = visemeWeights != null && slot > 0 && slot < visemeWeights.Length ? visemeWeights[slot] : 0f;
                if (w <= 0f) continue;
                foreach (Target t in e.targets)
                {
                    int i;
                    if (string.IsNullOrEmpty(t.blendShape) || !index.TryGetValue(t.blendShape, out i)) continue;
                    float v;
                    _frame.TryGetValue(i, out v);
                    _frame[i] = Mathf.Min(1f, v + w * t.weight);
                }
            }
            if (applyArkitBlendshapes && arkitWeights != null)
            {
                foreach (KeyValuePair<string, float> kv in arkitWeights)
                {
                    int i;
                    if (!index.TryGetValue(arkitPrefix + kv.Key, out i)) continue;
                    float v;
                    _frame.TryGetValue(i, out v);
                    _frame[i] = Mathf.Max(v, kv.Value);
                }
            }
            HashSet<int> touched;
            if (!_touched.TryGetValue(face, out touched))
            {
                touched = new HashSet<int>();
                _touched[face] = touched;
            }
            foreach (int i in touched)
            {
                if (!_frame.ContainsKey(i)) face.SetBlendShapeWeight(i, 0f);
            }
            touched.Clear();
            foreach (KeyValuePair<int, float> kv in _frame)
            {
                face.SetBlendShapeWeight(kv.Key, Mathf.Clamp01(kv.Value) * weightScale);
                touched.Add(kv.Key);
            }
        }

        /// <summary>Blendshape names of the mapping that the mesh lacks (shown by the editor).</summary>
        public List<string> MissingOn(Mesh mesh)
        {
            var missing = new List<string>();
            Dictionary<string, int> index = IndexOf(mesh);
            foreach (Entry e in visemes)
            {
                foreach (Target t in e.targets)
                {
                    if (!string.IsNullOrEmpty(t.blendShape) && !index.ContainsKey(t.blendShape)) missing.Add(t.blendShape);
                }
            }
            return missing;
        }

        private Dictionary<string, int> IndexOf(Mesh mesh)
        {
            Dictionary<string, int> index;
            if (_indices.TryGetValue(mesh, out index)) return index;
            index = new Dictionary<string, int>();
            for (int i = 0; i < mesh.blendShapeCount; i++) index[mesh.GetBlendShapeName(i)] = i;
            _indices[mesh] = index;
            return index;
        }
    }
}
