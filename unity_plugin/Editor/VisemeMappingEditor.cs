using System.Collections.Generic;
using Sora.Core;
using UnityEditor;
using UnityEngine;

namespace Sora.Unity.Editor
{
    /// <summary>Fills a viseme mapping from a face mesh's blendshape names and lists names the mesh lacks.</summary>
    [CustomEditor(typeof(VisemeMapping))]
    internal sealed class VisemeMappingEditor : UnityEditor.Editor
    {
        private SkinnedMeshRenderer _face;

        // Name fragments that identify each viseme's blendshape across common naming schemes
        // (Oculus "viseme_aa", Reallusion "V_Open", ARKit-only rigs have none and use the ARKit frames).
        private static readonly Dictionary<Viseme, string[]> Patterns = new Dictionary<Viseme, string[]>
        {
            { Viseme.Sil, new[] { "viseme_sil", "sil" } },
            { Viseme.PP, new[] { "viseme_pp", "v_explosive", "_pp" } },
            { Viseme.FF, new[] { "viseme_ff", "v_dental_lip", "_ff" } },
            { Viseme.TH, new[] { "viseme_th", "_th" } },
            { Viseme.DD, new[] { "viseme_dd", "_dd" } },
            { Viseme.KK, new[] { "viseme_kk", "_kk" } },
            { Viseme.CH, new[] { "viseme_ch", "v_affricate", "_ch" } },
            { Viseme.SS, new[] { "viseme_ss", "_ss" } },
            { Viseme.NN, new[] { "viseme_nn", "_nn" } },
            { Viseme.RR, new[] { "viseme_rr", "_rr" } },
            { Viseme.AA, new[] { "viseme_aa", "v_open", "_aa" } },
            { Viseme.E, new[] { "viseme_e", "v_wide", "_e" } },
            { Viseme.I, new[] { "viseme_i", "_ih", "_i" } },
            { Viseme.O, new[] { "viseme_o", "v_tight_o", "_oh", "_o" } },
            { Viseme.U, new[] { "viseme_u", "v_tight", "_ou", "_u" } },
        };

        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var mapping = (VisemeMapping)target;
            EditorGUILayout.Space();
            _face = (SkinnedMeshRenderer)EditorGUILayout.ObjectField("Face mesh", _face, typeof(SkinnedMeshRenderer), true);
            if (_face == null || _face.sharedMesh == null) return;
            if (GUILayout.Button("Fill from face mesh blendshape names"))
            {
                Undo.RecordObject(mapping, "Fill viseme mapping");
                Fill(mapping, _face.sharedMesh);
                EditorUtility.SetDirty(mapping);
            }
            List<string> missing = mapping.MissingOn(_face.sharedMesh);
            if (missing.Count > 0) EditorGUILayout.HelpBox("Not on this mesh: " + string.Join(", ", missing.ToArray()), MessageType.Warning);
        }

        internal static void Fill(VisemeMapping mapping, Mesh mesh)
        {
            mapping.visemes.Clear();
            foreach (KeyValuePair<Viseme, string[]> kv in Patterns)
            {
                var entry = new VisemeMapping.Entry { viseme = kv.Key };
                string found = Find(mesh, kv.Value);
                if (found != null) entry.targets.Add(new VisemeMapping.Target { blendShape = found, weight = 1f });
                mapping.visemes.Add(entry);
            }
        }

        private static string Find(Mesh mesh, string[] fragments)
        {
            foreach (string fragment in fragments)
            {
                for (int i = 0; i < mesh.blendShapeCount; i++)
                {
                    string name = mesh.GetBlendShapeName(i);
                    if (name.ToLowerInvariant().EndsWith(fragment)) return name;
                }
            }
            return null;
        }
    }
}
