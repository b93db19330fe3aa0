using System.Collections.Generic;
using Sora.Unity;
using UnityEngine;
using Proto = Sora.V1;

namespace Sora.Samples
{
    /// <summary>
    /// Gestures and gaze: a reticle sits where the user looks (device eye tracking, or head gaze
    /// the server derives from the head pose), the object looked or pointed at is highlighted,
    /// tracked hands are drawn as landmark dots, and recent gestures are listed. Wire
    /// SoraPerceptionEvents' UnityEvents to your own handlers the same way.
    /// </summary>
    public sealed class GesturesAndGazeSample : MonoBehaviour
    {
        [SerializeField] private string serverAddress = "http://127.0.0.1:50051";
        [Tooltip("ISoraCameraSource for frames (camera hands need them); empty: the simulated room.")]
        [SerializeField] private MonoBehaviour cameraSource;
        [Tooltip("ISoraHandSource (e.g. SoraXRHandsSource) for device hand joints; optional.")]
        [SerializeField] private MonoBehaviour handSource;
        [Tooltip("ISoraGazeSource (e.g. SoraInputActionGazeSource) for eye tracking; optional.")]
        [SerializeField] private MonoBehaviour gazeSource;

        private readonly List<string> _log = new List<string>();
        private readonly List<Transform> _landmarks = new List<Transform>();
        private SoraChannelHost _host;
        private SoraObjectVisualizer _objects;
        private Transform _reticle;
        private string _gazeLabel = "nothing";
        private GameObject _highlighted;

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
            }
            if (cameraSource == null)
            {
                new GameObject("Sora Simulated Room").AddComponent<SoraSimulatedRoom>();
                cameraSource = cam.gameObject.AddComponent<SoraRaycastCameraSource>();
                cam.gameObject.AddComponent<SoraFlyCamera>().orbit = false;
                cam.transform.position = new Vector3(0.3f, 1.5f, 0.1f);
            }

            var rig = new GameObject("Sora Perception Rig");
            rig.SetActive(false);
            rig.AddComponent<SoraMeshStreamer>();
            _objects = rig.AddComponent<SoraObjectVisualizer>();
            var publisher = rig.AddComponent<SoraSensorPublisher>();
            publisher.CameraSource = (ISoraCameraSource)cameraSource;
            publisher.HandSource = handSource as ISoraHandSource;
            publisher.GazeSource = gazeSource as ISoraGazeSource;
            var events = rig.AddComponent<SoraPerceptionEvents>();
            events.onGazeTargetChanged.AddListener(OnGazeTarget);
            events.onGaze.AddListener(g => MoveReticle(g.Target));
            events.onPointing.AddListener(OnPointing);
            events.onGesture.AddListener(OnGesture);
            events.onHands.AddListener(DrawHands);
            rig.SetActive(true);

            _reticle = GameObject.CreatePrimitive(PrimitiveType.Sphere).transform;
            Destroy(_reticle.GetComponent<Collider>());
            _reticle.localScale = Vector3.one * 0.04f;
            _reticle.GetComponent<Renderer>().sharedMaterial = SoraMaterials.Overlay(new Color(1f, 1f, 0.2f, 0.8f));
            _reticle.gameObject.SetActive(false);
        }

        private void MoveReticle(SoraTarget target)
        {
            _reticle.gameObject.SetActive(target.IsHit);
            if (target.IsHit) _reticle.position = target.Point;
        }

        private void OnGazeTarget(SoraTarget target)
        {
            _gazeLabel = target.IsHit ? target.Kind + " " + (string.IsNullOrEmpty(target.Label) ? target.Id : target.Label) : "nothing";
            Highlight(target);
        }

        private void OnPointing(SoraPointingEvent e)
        {
            Add("pointing " + e.Phase + " at " + (e.Target.IsHit ? e.Target.Label : "nothing"));
            if (e.Phase != Proto.EventPhase.End) Highlight(e.Target);
        }

        private void OnGesture(SoraGestureEvent e)
        {
            Add(e.Handedness + " " + e.Gesture + " " + e.Phase + " (" + e.Confidence.ToString("0.00") + ")");
        }

        private void Highlight(SoraTarget target)
        {
            if (_highlighted != null) _highlighted.transform.localScale = Vector3.one;
            _highlighted = null;
            GameObject go;
            if (target.Kind == Proto.TargetKind.Object && _objects.TryGetObject(target.Id, out go))
            {
                _highlighted = go;
                go.transform.localScale = Vector3.one * 1.15f;
            }
        }

        private void DrawHands(SoraHand[] hands)
        {
            int needed = 0;
            foreach (SoraHand h in hands) needed += h.Landmarks.Length;
            while (_landmarks.Count < needed)
            {
                Transform dot = GameObject.CreatePrimitive(PrimitiveType.Sphere).transform;
                Destroy(dot.GetComponent<Collider>());
                dot.localScale = Vector3.one * 0.012f;
                _landmarks.Add(dot);
            }
            int i = 0;
            foreach (SoraHand h in hands)
            {
                foreach (Vector3 p in h.Landmarks)
                {
                    _landmarks[i].gameObject.SetActive(true);
                    _landmarks[i++].position = p;
                }
            }
            for (; i < _landmarks.Count; i++) _landmarks[i].gameObject.SetActive(false);
        }

        private void Add(string line)
        {
            _log.Insert(0, line);
            if (_log.Count > 8) _log.RemoveAt(_log.Count - 1);
        }

        private void OnGUI()
        {
            GUILayout.BeginArea(new Rect(10, 10, 420, 260), GUI.skin.box);
            GUILayout.Label("Sora gestures & gaze — " + _host.State);
            GUILayout.Label("looking at: " + _gazeLabel);
            foreach (string line in _log) GUILayout.Label(line);
            GUILayout.EndArea();
        }
    }
}
