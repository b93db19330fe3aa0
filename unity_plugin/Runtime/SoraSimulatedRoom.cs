using UnityEngine;

namespace Sora.Unity
{
    /// <summary>
    /// A furnished test room of primitives with colliders (floor, walls, a table, a mug, a box,
    /// a chair), for scanning with <see cref="SoraRaycastCameraSource"/> in the Editor or on a
    /// desktop. The room's renderers can be hidden so only the scanned mesh shows.
    /// </summary>
    [AddComponentMenu("Sora/Simulation/Sora Simulated Room")]
    public sealed class SoraSimulatedRoom : MonoBehaviour
    {
        [SerializeField] private Vector3 sizeM = new Vector3(4f, 2.6f, 5f);
        [SerializeField] private bool visible = true;

        private Transform _root;

        public bool Visible
        {
            get { return visible; }
            set
            {
                visible = value;
                if (_root == null) return;
                foreach (Renderer r in _root.GetComponentsInChildren<Renderer>()) r.enabled = value;
            }
        }

        private void Awake() { Build(); }

        /// <summary>Builds the room (once) under this GameObject.</summary>
        public void Build()
        {
            if (_root != null) return;
            _root = new GameObject("Simulated Room").transform;
            _root.SetParent(transform, false);
            float w = sizeM.x, h = sizeM.y, d = sizeM.z;
            Box("Floor", new Vector3(0, -0.05f, 0), new Vector3(w, 0.1f, d), new Color(0.55f, 0.45f, 0.35f));
            Box("Ceiling", new Vector3(0, h + 0.05f, 0), new Vector3(w, 0.1f, d), new Color(0.9f, 0.9f, 0.9f));
            Box("Wall north", new Vector3(0, h / 2, d / 2), new Vector3(w, h, 0.1f), new Color(0.8f, 0.8f, 0.75f));
            Box("Wall south", new Vector3(0, h / 2, -d / 2), new Vector3(w, h, 0.1f), new Color(0.75f, 0.8f, 0.8f));
            Box("Wall east", new Vector3(w / 2, h / 2, 0), new Vector3(0.1f, h, d), new Color(0.8f, 0.75f, 0.8f));
            Box("Wall west", new Vector3(-w / 2, h / 2, 0), new Vector3(0.1f, h, d), new Color(0.7f, 0.75f, 0.7f));
            Box("Table top", new Vector3(0.4f, 0.72f, 1.2f), new Vector3(1.2f, 0.04f, 0.7f), new Color(0.45f, 0.3f, 0.2f));
            foreach (float x in new[] { -0.15f, 0.95f })
            {
                foreach (float z in new[] { 0.9f, 1.5f }) Box("Table leg", new Vector3(x, 0.35f, z), new Vector3(0.05f, 0.7f, 0.05f), new Color(0.3f, 0.2f, 0.1f));
            }
            GameObject mug = GameObject.CreatePrimitive(PrimitiveType.Cylinder);
            Place(mug, "Red mug", new Vector3(0.2f, 0.79f, 1.1f), new Vector3(0.08f, 0.05f, 0.08f), new Color(0.85f, 0.1f, 0.1f));
            Box("Blue box", new Vector3(0.7f, 0.82f, 1.3f), new Vector3(0.2f, 0.16f, 0.15f), new Color(0.1f, 0.3f, 0.9f));
            Box("Chair seat", new Vector3(-0.9f, 0.45f, 0.6f), new Vector3(0.45f, 0.05f, 0.45f), new Color(0.2f, 0.5f, 0.3f));
            Box("Chair back", new Vector3(-0.9f, 0.75f, 0.38f), new Vector3(0.45f, 0.6f, 0.05f), new Color(0.2f, 0.5f, 0.3f));
            Visible = visible;
        }

        private void Box(string name, Vector3 position, Vector3 size, Color color)
        {
            Place(GameObject.CreatePrimitive(PrimitiveType.Cube), name, position, size, color);
        }

        private void Place(GameObject go, string name, Vector3 position, Vector3 size, Color color)
        {
            go.name = name;
            go.transform.SetParent(_root, false);
            go.transform.localPosition = position;
            go.transform.localScale = size;
            Renderer r = go.GetComponent<Renderer>();
            // Each primitive gets its own material: the raycast source reads colours from
            // materials (not property blocks), and the shared default must stay untouched.
            var material = new Material(r.sharedMaterial) { name = name };
            if (material.HasProperty("_BaseColor")) material.SetColor("_BaseColor", color);
            if (material.HasProperty("_Color")) material.SetColor("_Color", color);
            r.sharedMaterial = material;
        }
    }
}
