using System.Collections.Generic;
using Sora.Core;
using UnityEngine;
using Proto = Sora.V1;

namespace Sora.Unity
{
    /// <summary>
    /// Draws tracked objects (translucent oriented boxes with "label (confidence)") and spatial
    /// anchors (small spheres) from a <see cref="SoraMeshStreamer"/>. Box colour follows the
    /// track state: tentative grey, confirmed green, lost amber; removed objects disappear.
    /// </summary>
    [AddComponentMenu("Sora/Sora Object Visualizer")]
    public sealed class SoraObjectVisualizer : MonoBehaviour
    {
        [SerializeField] private SoraMeshStreamer streamer;
        [SerializeField] private bool showAnchors = true;
        [SerializeField] private Color tentative = new Color(0.7f, 0.7f, 0.7f, 0.25f);
        [SerializeField] private Color confirmed = new Color(0.2f, 1f, 0.4f, 0.3f);
        [SerializeField] private Color lost = new Color(1f, 0.7f, 0.1f, 0.25f);
        [SerializeField] private Color anchorColor = new Color(1f, 0.2f, 0.6f, 0.9f);

        private readonly Dictionary<string, GameObject> _objects = new Dictionary<string, GameObject>();
        private readonly Dictionary<string, GameObject> _anchors = new Dictionary<string, GameObject>();
        private readonly Dictionary<Proto.ObjectState, Material> _materials = new Dictionary<Proto.ObjectState, Material>();
        private Material _anchorMaterial;

        public int ObjectCount { get { return _objects.Count; } }
        public bool TryGetObject(string objectId, out GameObject go) { return _objects.TryGetValue(objectId, out go); }

        private void OnEnable()
        {
            if (streamer == null) streamer = FindObjectOfType<SoraMeshStreamer>();
            if (streamer != null) streamer.ElementsChanged += OnChanged;
            else Debug.LogWarning("[Sora] SoraObjectVisualizer needs a SoraMeshStreamer in the scene");
        }

        private void OnDisable()
        {
            if (streamer != null) streamer.ElementsChanged -= OnChanged;
        }

        private void OnChanged(SceneChanges<Proto.Plane, Proto.SceneObject, Proto.Anchor> changes)
        {
            foreach (string id in changes.ObjectsToRemove) Remove(_objects, id);
            foreach (Proto.SceneObject o in changes.ObjectsToBuild)
            {
                if (o.State == Proto.ObjectState.Removed) Remove(_objects, o.ObjectId);
                else Show(o);
            }
            foreach (string id in changes.AnchorsToRemove) Remove(_anchors, id);
            if (!showAnchors) return;
            foreach (Proto.Anchor a in changes.AnchorsToBuild) ShowAnchor(a);
        }

        /// <summary>Creates or updates one object's box; the box is a child so the label is not scaled with it.</summary>
        public GameObject Show(Proto.SceneObject o)
        {
            GameObject go;
            if (!_objects.TryGetValue(o.ObjectId, out go))
            {
                go = new GameObject("Object");
                go.transform.SetParent(transform, false);
                GameObject box = GameObject.CreatePrimitive(PrimitiveType.Cube);
                box.name = "Box";
                Destroy(box.GetComponent<Collider>());
                box.transform.SetParent(go.transform, false);
                _objects[o.ObjectId] = go;
            }
            go.name = "Object " + o.Label + " " + o.ObjectId;
            Vector3 position;
            Quaternion rotation;
            Proto.OrientedBox b = o.Box ?? new Proto.OrientedBox();
            SoraFrames.PoseToUnity(b.PoseWorldBox, out position, out rotation);
            go.transform.SetPositionAndRotation(position, rotation);
            Transform boxTransform = go.transform.Find("Box");
            boxTransform.localScale = b.SizeM != null ? SoraFrames.SizeToUnity(b.SizeM) : Vector3.one * 0.1f;
            boxTransform.GetComponent<MeshRenderer>().sharedMaterial = MaterialFor(o.State);
            string text = string.IsNullOrEmpty(o.Label) ? o.ObjectId : o.Label;
            if (o.LabelConfidence > 0) text += " (" + o.LabelConfidence.ToString("0.00") + ")";
            SoraLabels.Set(go.transform, text, Vector3.up * (boxTransform.localScale.y / 2 + 0.03f));
            return go;
        }

        private void ShowAnchor(Proto.Anchor a)
        {
            GameObject go;
            if (!_anchors.TryGetValue(a.AnchorId, out go))
            {
                go = GameObject.CreatePrimitive(PrimitiveType.Sphere);
                Destroy(go.GetComponent<Collider>());
                go.transform.SetParent(transform, false);
                go.transform.localScale = Vector3.one * 0.05f;
                if (_anchorMaterial == null) _anchorMaterial = SoraMaterials.Overlay(anchorColor);
                go.GetComponent<MeshRenderer>().sharedMaterial = _anchorMaterial;
                _anchors[a.AnchorId] = go;
            }
            go.name = "Anchor " + a.Label + " " + a.AnchorId;
            Vector3 position;
            Quaternion rotation;
            SoraFrames.PoseToUnity(a.PoseWorldAnchor, out position, out rotation);
            go.transform.SetPositionAndRotation(position, rotation);
        }

        private static void Remove(Dictionary<string, GameObject> table, string id)
        {
            GameObject go;
            if (!table.TryGetValue(id, out go)) return;
            table.Remove(id);
            Destroy(go);
        }

        private Material MaterialFor(Proto.ObjectState state)
        {
            Material m;
            if (_materials.TryGetValue(state, out m)) return m;
            Color c = state == Proto.ObjectState.Confirmed ? confirmed : state == Proto.ObjectState.Lost ? lost : tentative;
            m = SoraMaterials.Overlay(c);
            _materials[state] = m;
            return m;
        }
    }
}
