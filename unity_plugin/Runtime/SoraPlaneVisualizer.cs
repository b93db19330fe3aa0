using System;
using System.Collections.Generic;
using Sora.Core;
using UnityEngine;
using Proto = Sora.V1;

namespace Sora.Unity
{
    /// <summary>
    /// Draws the session's semantic planes (floor, walls, tables …) from a <see cref="SoraMeshStreamer"/>:
    /// one GameObject per plane at its pose, meshed from its boundary polygon, coloured by label.
    /// The plane's normal is the GameObject's local +Y (see Sora.Core.SoraCoordinates).
    /// </summary>
    [AddComponentMenu("Sora/Sora Plane Visualizer")]
    public sealed class SoraPlaneVisualizer : MonoBehaviour
    {
        [Serializable]
        public struct LabelColor
        {
            public Proto.PlaneLabel label;
            public Color color;
        }

        [SerializeField] private SoraMeshStreamer streamer;
        [SerializeField] private bool showLabels = true;
        [Tooltip("Lift along the normal so planes do not z-fight with the mesh, metres.")]
        [SerializeField] private float normalOffsetM = 0.005f;
        [SerializeField] private List<LabelColor> colors = new List<LabelColor>
        {
            new LabelColor { label = Proto.PlaneLabel.Floor, color = new Color(0.2f, 0.8f, 0.3f, 0.35f) },
            new LabelColor { label = Proto.PlaneLabel.Wall, color = new Color(0.3f, 0.5f, 1f, 0.3f) },
            new LabelColor { label = Proto.PlaneLabel.Ceiling, color = new Color(0.7f, 0.7f, 0.7f, 0.25f) },
            new LabelColor { label = Proto.PlaneLabel.Table, color = new Color(1f, 0.6f, 0.1f, 0.4f) },
            new LabelColor { label = Proto.PlaneLabel.Seat, color = new Color(0.9f, 0.3f, 0.8f, 0.4f) },
        };

        private readonly Dictionary<string, GameObject> _planes = new Dictionary<string, GameObject>();
        private readonly Dictionary<Proto.PlaneLabel, Material> _materials = new Dictionary<Proto.PlaneLabel, Material>();

        public int PlaneCount { get { return _planes.Count; } }

        /// <summary>The GameObject of a plane, if shown.</summary>
        public bool TryGetPlane(string planeId, out GameObject plane) { return _planes.TryGetValue(planeId, out plane); }

        private void OnEnable()
        {
            if (streamer == null) streamer = FindObjectOfType<SoraMeshStreamer>();
            if (streamer != null) streamer.ElementsChanged += OnChanged;
            else Debug.LogWarning("[Sora] SoraPlaneVisualizer needs a SoraMeshStreamer in the scene");
        }

        private void OnDisable()
        {
            if (streamer != null) streamer.ElementsChanged -= OnChanged;
        }

        private void OnChanged(SceneChanges<Proto.Plane, Proto.SceneObject, Proto.Anchor> changes)
        {
            foreach (string id in changes.PlanesToRemove)
            {
                GameObject go;
                if (!_planes.TryGetValue(id, out go)) continue;
                _planes.Remove(id);
                Destroy(go);
            }
            foreach (Proto.Plane p in changes.PlanesToBuild) Show(p);
        }

        /// <summary>Creates or updates the GameObject of one plane.</summary>
        public GameObject Show(Proto.Plane plane)
        {
            GameObject go;
            if (!_planes.TryGetValue(plane.PlaneId, out go))
            {
                go = new GameObject("Plane", typeof(MeshFilter), typeof(MeshRenderer));
                go.transform.SetParent(transform, false);
                _planes[plane.PlaneId] = go;
            }
            go.name = "Plane " + plane.Label + " " + plane.PlaneId;
            Vector3 position;
            Quaternion rotation;
            SoraFrames.PoseToUnity(plane.PoseWorldPlane, out position, out rotation);
            go.transform.SetPositionAndRotation(position + rotation * Vector3.up * normalOffsetM, rotation);
            go.GetComponent<MeshFilter>().sharedMesh = BuildMesh(plane, go.GetComponent<MeshFilter>().sharedMesh);
            go.GetComponent<MeshRenderer>().sharedMaterial = MaterialFor(plane.Label);
            if (showLabels) SoraLabels.Set(go.transform, plane.Label.ToString(), Vector3.up * 0.02f);
            return go;
        }

        /// <summary>
        /// The plane's outline in its local frame (plane coordinates (x, y) -> Unity local (x, 0, y)),
        /// triangulated and wound to face local +Y.
        /// </summary>
        public static Mesh BuildMesh(Proto.Plane plane, Mesh reuse = null)
        {
            var outline = new List<Vector2>();
            foreach (Proto.Vector2 p in plane.BoundaryPlaneM) outline.Add(new Vector2(p.X, p.Y));
            if (outline.Count < 3 && plane.ExtentM != null)
            {
                float hx = plane.ExtentM.X / 2, hy = plane.ExtentM.Y / 2;
                outline.Clear();
                outline.Add(new Vector2(-hx, -hy));
                outline.Add(new Vector2(hx, -hy));
                outline.Add(new Vector2(hx, hy));
                outline.Add(new Vector2(-hx, hy));
            }
            var xy = new List<float>(outline.Count * 2);
            var vertices = new Vector3[outline.Count];
            for (int i = 0; i < outline.Count; i++)
            {
                xy.Add(outline[i].x);
                xy.Add(outline[i].y);
                vertices[i] = SoraFrames.PlanePointToUnityLocal(new Proto.Vector2 { X = outline[i].x, Y = outline[i].y });
            }
            int[] triangles = PolygonTriangulator.Triangulate(xy);
            // Counter-clockwise in plane coordinates is the wire's winding; Unity's is the reverse.
            SoraCoordinates.FlipWinding(triangles);
            Mesh mesh = reuse != null ? reuse : new Mesh { name = "Sora plane" };
            mesh.Clear();
            mesh.vertices = vertices;
            mesh.triangles = triangles;
            mesh.RecalculateNormals();
            mesh.RecalculateBounds();
            return mesh;
        }

        private Material MaterialFor(Proto.PlaneLabel label)
        {
            Material m;
            if (_materials.TryGetValue(label, out m)) return m;
            Color color = new Color(0.8f, 0.8f, 0.8f, 0.25f);
            foreach (LabelColor lc in colors)
            {
                if (lc.label == label) color = lc.color;
            }
            m = SoraMaterials.Overlay(color);
            _materials[label] = m;
            return m;
        }
    }
}
