using Sora.Unity;
using UnityEngine;

namespace Sora.Samples
{
    /// <summary>
    /// Room scan: streams RGB-D frames and head pose to a Sora server and shows the fused mesh,
    /// planes and objects as they arrive. With no camera source assigned it scans a simulated room
    /// (raycast depth from an orbiting camera), so it runs in the Editor with no AR hardware; on a
    /// device, assign an AR Foundation (or headset) camera source. Everything is created at run
    /// time, so the scene only needs this component.
    /// </summary>
    public sealed class RoomScanSample : MonoBehaviour
    {
        [Tooltip("Your Sora server: http://<LAN IP>:50051 for a server started with `sora serve --host 0.0.0.0 --insecure`.")]
        [SerializeField] private string serverAddress = "http://127.0.0.1:50051";
        [Tooltip("An ISoraCameraSource (e.g. SoraARFoundationCameraSource); empty: scan a simulated room.")]
        [SerializeField] private MonoBehaviour cameraSource;
        [SerializeField] private float maxCameraFps = 4f;

        private SoraChannelHost _host;
        private SoraMeshStreamer _streamer;
        private SoraSensorPublisher _publisher;
        private SoraSimulatedRoom _room;
        private SoraFlyCamera _fly;

        private void Awake()
        {
            _host = SoraChannelHost.GetOrCreate();
            _host.ConnectOnStart = false;
            _host.Connect(new SoraClientOptions(serverAddress));

            Camera cam = Camera.main;
            if (cam == null)
            {
                cam = new GameObject("Main Camera", typeof(Camera), typeof(AudioListener)).GetComponent<Camera>();
                cam.tag = "MainCamera";
                cam.transform.position = new Vector3(0f, 1.4f, -1f);
                cam.backgroundColor = new Color(0.1f, 0.1f, 0.12f);
                cam.clearFlags = CameraClearFlags.SolidColor;
            }
            if (FindObjectOfType<Light>() == null)
            {
                var light = new GameObject("Light", typeof(Light)).GetComponent<Light>();
                light.type = LightType.Directional;
                light.transform.rotation = Quaternion.Euler(50f, -30f, 0f);
            }

            if (cameraSource == null)
            {
                _room = new GameObject("Sora Simulated Room").AddComponent<SoraSimulatedRoom>();
                cameraSource = cam.gameObject.AddComponent<SoraRaycastCameraSource>();
                _fly = cam.gameObject.AddComponent<SoraFlyCamera>();
            }

            // Inactive while wiring, so OnEnable sees the configured fields.
            var scene = new GameObject("Sora Scene");
            scene.SetActive(false);
            _streamer = scene.AddComponent<SoraMeshStreamer>();
            scene.AddComponent<SoraPlaneVisualizer>();
            scene.AddComponent<SoraObjectVisualizer>();
            _publisher = scene.AddComponent<SoraSensorPublisher>();
            _publisher.CameraSource = (ISoraCameraSource)cameraSource;
            _publisher.MaxCameraFps = maxCameraFps;
            scene.SetActive(true);
        }

        private void OnGUI()
        {
            GUILayout.BeginArea(new Rect(10, 10, 380, 220), GUI.skin.box);
            GUILayout.Label("Sora room scan — " + _host.State + "  " + (_host.SessionId ?? ""));
            GUILayout.Label("frames sent " + _publisher.FramesSent + ", skipped by budget " + _publisher.FramesSkipped);
            SoraSceneStats s = _streamer.Stats;
            GUILayout.Label("mesh: " + s.Chunks + " chunks, " + s.Triangles + " triangles, version " + s.Epoch + ":" + s.Sequence);
            if (_room != null) _room.Visible = GUILayout.Toggle(_room.Visible, "show the simulated room (hide it to see only the scan)");
            if (_fly != null) _fly.orbit = GUILayout.Toggle(_fly.orbit, "orbit automatically (off: WASD/QE + right mouse)");
            GUILayout.EndArea();
        }
    }
}
