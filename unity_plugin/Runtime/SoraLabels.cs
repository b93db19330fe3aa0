using UnityEngine;

namespace Sora.Unity
{
    /// <summary>Small world-space text labels (TextMesh, so no UI package is needed).</summary>
    public static class SoraLabels
    {
        public static TextMesh Set(Transform parent, string text, Vector3 localOffset)
        {
            Transform t = parent.Find("Sora Label");
            TextMesh mesh;
            if (t == null)
            {
                var go = new GameObject("Sora Label");
                go.transform.SetParent(parent, false);
                mesh = go.AddComponent<TextMesh>();
                mesh.characterSize = 0.02f;
                mesh.fontSize = 48;
                mesh.anchor = TextAnchor.LowerCenter;
                mesh.color = Color.white;
                go.AddComponent<SoraBillboard>();
            }
            else
            {
                mesh = t.GetComponent<TextMesh>();
            }
            mesh.transform.localPosition = localOffset;
            mesh.text = text;
            return mesh;
        }
    }
}
