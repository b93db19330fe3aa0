using UnityEngine;

namespace Sora.Unity
{
    /// <summary>
    /// Default materials. The shaders live in the package's Resources folder, so players include
    /// them even though nothing references them from a scene.
    /// </summary>
    public static class SoraMaterials
    {
        private static Material _vertexColor;

        /// <summary>Vertex-coloured, lightly shaded: the scanned mesh.</summary>
        public static Material VertexColor
        {
            get
            {
                if (_vertexColor == null) _vertexColor = new Material(Load("SoraVertexColor")) { name = "Sora Vertex Color" };
                return _vertexColor;
            }
        }

        /// <summary>A new translucent, double-sided material of one colour (planes, boxes).</summary>
        public static Material Overlay(Color color)
        {
            var m = new Material(Load("SoraOverlay")) { name = "Sora Overlay" };
            m.SetColor("_Color", color);
            return m;
        }

        private static Shader Load(string name)
        {
            var shader = Resources.Load<Shader>(name);
            if (shader == null)
            {
                Debug.LogWarning("[Sora] shader " + name + " not found in Resources; falling back to Unlit/Color");
                shader = Shader.Find("Unlit/Color");
            }
            return shader;
        }
    }
}
