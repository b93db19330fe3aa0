using System.Collections.Generic;
using Sora.Core;
using UnityEngine;

namespace Sora.Unity
{
    /// <summary>
    /// A simulated RGB-D camera: depth by raycasting the scene's colliders through each pixel of a
    /// Unity camera, colour from what each ray hits. Lets a room be "scanned" in the Editor or on a
    /// desktop without AR hardware, and exercises the whole pipeline (capture, conversion to Sora's
    /// frames, fusion, streamed mesh back in the right place). The Sora mesh's own colliders are
    /// ignored, so the scan does not feed on itself.
    /// </summary>
    [AddComponentMenu("Sora/Sources/Sora Raycast Camera Source")]
    public sealed class SoraRaycastCameraSource : MonoBehaviour, ISoraCameraSource
    {
        [SerializeField] private Camera sourceCamera;
        [SerializeField] private int widthPx = 160;
        [SerializeField] private int heightPx = 120;
        [SerializeField] private float maxDepthM = 6f;
        [SerializeField] private LayerMask layers = ~0;
        [Tooltip("Shade colours by the angle to a fixed light so flat colours still show shape.")]
        [SerializeField] private bool shade = true;

        private readonly RaycastHit[] _hits = new RaycastHit[8];
        private readonly List<Transform> _ignoredRoots = new List<Transform>();

        /// <summary>The simulated camera's intrinsics (OpenCV convention, square pixels, vertical FOV from the camera).</summary>
        public CameraIntrinsics Intrinsics
        {
            get
            {
                Camera cam = CameraOrMain();
                float fov = cam != null ? cam.fieldOfView : 60f;
                double fy = heightPx / 2.0 / Mathf.Tan(fov * Mathf.Deg2Rad / 2f);
                return new CameraIntrinsics(widthPx, heightPx, fy, fy, (widthPx - 1) / 2.0, (heightPx - 1) / 2.0);
            }
        }

        public bool TryCapture(out SoraCameraCapture capture)
        {
            capture = default(SoraCameraCapture);
            Camera cam = CameraOrMain();
            if (cam == null) return false;
            _ignoredRoots.Clear();
            foreach (SoraMeshStreamer s in FindObjectsOfType<SoraMeshStreamer>()) _ignoredRoots.Add(s.ChunkRoot);

            CameraIntrinsics k = Intrinsics;
            Transform t = cam.transform;
            var depth = new float[widthPx * heightPx];
            var rgb = new byte[widthPx * heightPx * 3];
            Vector3 light = new Vector3(0.3f, 1f, 0.2f).normalized;
            for (int v = 0; v < heightPx; v++)
            {
                for (int u = 0; u < widthPx; u++)
                {
                    // The pixel's ray in OpenCV camera axes, then in the Unity camera's.
                    var ray = new Vec3((float)((u - k.CxPx) / k.FxPx), (float)((v - k.CyPx) / k.FyPx), 1f);
                    Vector3 local = SoraFrames.ToVector3(SoraCoordinates.CameraVectorToUnity(ray));
                    Vector3 dir = t.TransformDirection(local).normalized;
                    RaycastHit hit;
                    if (!Nearest(t.position, dir, out hit)) continue;
                    int i = v * widthPx + u;
                    depth[i] = hit.distance / local.magnitude;  // z-depth, not ray length
                    Color c = ColorOf(hit);
                    if (shade) c *= 0.65f + 0.35f * Mathf.Abs(Vector3.Dot(hit.normal, light));
                    rgb[3 * i] = (byte)(Mathf.Clamp01(c.r) * 255);
                    rgb[3 * i + 1] = (byte)(Mathf.Clamp01(c.g) * 255);
                    rgb[3 * i + 2] = (byte)(Mathf.Clamp01(c.b) * 255);
                }
            }
            capture = new SoraCameraCapture
            {
                CameraPosition = t.position,
                CameraRotation = t.rotation,
                Intrinsics = k,
                ColorRgb24 = rgb,
                ColorWidth = widthPx,
                ColorHeight = heightPx,
                DepthMetres = depth,
                DepthWidth = widthPx,
                DepthHeight = heightPx,
            };
            return true;
        }

        private bool Nearest(Vector3 origin, Vector3 dir, out RaycastHit nearest)
        {
            nearest = default(RaycastHit);
            int n = Physics.RaycastNonAlloc(origin, dir, _hits, maxDepthM, layers, QueryTriggerInteraction.Ignore);
            float best = float.MaxValue;
            for (int i = 0; i < n; i++)
            {
                if (_hits[i].distance >= best || Ignored(_hits[i].collider.transform)) continue;
                best = _hits[i].distance;
                nearest = _hits[i];
            }
            return best < float.MaxValue;
        }

        private bool Ignored(Transform t)
        {
            foreach (Transform root in _ignoredRoots)
            {
                if (root != null && t.IsChildOf(root)) return true;
            }
            return false;
        }

        private static Color ColorOf(RaycastHit hit)
        {
            var r = hit.collider.GetComponent<Renderer>();
            if (r == null || r.sharedMaterial == null) return Color.gray;
            Material m = r.sharedMaterial;
            if (m.HasProperty("_BaseColor")) return m.GetColor("_BaseColor");
            if (m.HasProperty("_Color")) return m.color;
            return Color.gray;
        }

        private Camera CameraOrMain() { return sourceCamera != null ? sourceCamera : Camera.main; }
    }
}
