using Sora.Core;
using Sora.Unity;
using UnityEngine;

namespace Sora.Samples
{
    /// <summary>A primitive head: the mouth opens with the jaw visemes, the eyes follow the look target.</summary>
    [DefaultExecutionOrder(100)]  // after SoraAvatarController's LateUpdate has evaluated this frame's weights
    public sealed class PrimitiveHead : MonoBehaviour
    {
        private SoraAvatarController _controller;
        private Transform _mouth, _lookTarget;
        private Transform[] _eyes;

        public static SoraAvatarController Create(Vector3 position)
        {
            var root = new GameObject("Sora Avatar");
            root.transform.position = position;
            root.SetActive(false);
            GameObject head = GameObject.CreatePrimitive(PrimitiveType.Sphere);
            head.transform.SetParent(root.transform, false);
            head.transform.localScale = new Vector3(0.3f, 0.36f, 0.3f);
            var h = root.AddComponent<PrimitiveHead>();
            h._mouth = Part(root.transform, PrimitiveType.Sphere, new Vector3(0f, -0.08f, -0.14f), new Vector3(0.1f, 0.01f, 0.03f), Color.black);
            h._eyes = new[]
            {
                Part(root.transform, PrimitiveType.Sphere, new Vector3(-0.06f, 0.04f, -0.13f), Vector3.one * 0.04f, Color.white),
                Part(root.transform, PrimitiveType.Sphere, new Vector3(0.06f, 0.04f, -0.13f), Vector3.one * 0.04f, Color.white),
            };
            h._lookTarget = new GameObject("Look Target").transform;
            h._lookTarget.position = position + Vector3.back;
            h._controller = root.AddComponent<SoraAvatarController>();
            // The controller's look target is a serialized field; point it here through the inspector
            // on a real avatar. The primitive head reads the controller's events instead.
            h._controller.onLookAt.AddListener(t => h._lookTarget.position = t.Point);
            root.SetActive(true);
            return h._controller;
        }

        private static Transform Part(Transform parent, PrimitiveType type, Vector3 position, Vector3 scale, Color color)
        {
            GameObject go = GameObject.CreatePrimitive(type);
            Destroy(go.GetComponent<Collider>());
            go.transform.SetParent(parent, false);
            go.transform.localPosition = position;
            go.transform.localScale = scale;
            go.GetComponent<Renderer>().material.color = color;
            return go.transform;
        }

        private void LateUpdate()
        {
            float[] w = _controller.CurrentVisemeWeights;
            float open = Mathf.Max(w[(int)Viseme.AA], Mathf.Max(w[(int)Viseme.O] * 0.8f, Mathf.Max(w[(int)Viseme.E] * 0.6f, w[(int)Viseme.U] * 0.5f)));
            float jaw;
            if (_controller.CurrentBlendshapes.TryGetValue("jawOpen", out jaw)) open = Mathf.Max(open, jaw);
            _mouth.localScale = new Vector3(0.1f, 0.01f + 0.06f * open, 0.03f);
            foreach (Transform eye in _eyes) eye.LookAt(_lookTarget);
        }
    }
}
