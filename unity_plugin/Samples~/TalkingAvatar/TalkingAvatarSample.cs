using System.Text;
using Sora.Unity;
using UnityEngine;

namespace Sora.Samples
{
    /// <summary>
    /// Talking avatar: type a question, the avatar answers with streamed speech, lip-sync, emotion
    /// and gaze cues grounded in the scanned room. Assign a SkinnedMeshRenderer with viseme
    /// blendshapes (and a VisemeMapping) on the SoraAvatarController for a real face; without one a
    /// primitive head is built whose mouth and eyes follow the same signals.
    /// </summary>
    public sealed class TalkingAvatarSample : MonoBehaviour
    {
        [SerializeField] private string serverAddress = "http://127.0.0.1:50051";
        [Tooltip("An avatar with a SoraAvatarController; empty: a primitive head is created.")]
        [SerializeField] private SoraAvatarController avatar;

        private readonly StringBuilder _answer = new StringBuilder();
        private SoraChannelHost _host;
        private string _question = "What can you see in this room?";
        private string _status = "";

        private void Awake()
        {
            _host = SoraChannelHost.GetOrCreate();
            _host.ConnectOnStart = false;
            _host.Connect(new SoraClientOptions(serverAddress));
            if (Camera.main == null)
            {
                var cam = new GameObject("Main Camera", typeof(Camera), typeof(AudioListener)).GetComponent<Camera>();
                cam.tag = "MainCamera";
                cam.transform.position = new Vector3(0f, 1.6f, -1.2f);
            }
            if (avatar == null) avatar = PrimitiveHead.Create(new Vector3(0f, 1.6f, 0f));
            avatar.onTurnStarted.AddListener(_ => _answer.Length = 0);
            avatar.onText.AddListener(t => _answer.Append(t));
            avatar.onEmotion.AddListener(e => _status = "emotion: " + e.Emotion + " " + e.Intensity.ToString("0.0"));
            avatar.onBodyGesture.AddListener(g => _status = "gesture: " + g);
            avatar.onTurnEnded.AddListener(e => _status = "turn ended: " + e.Reason + (string.IsNullOrEmpty(e.Detail) ? "" : " — " + e.Detail));
        }

        private void OnGUI()
        {
            GUILayout.BeginArea(new Rect(10, Screen.height - 190, Mathf.Min(640, Screen.width - 20), 180), GUI.skin.box);
            GUILayout.Label("Sora avatar — " + _host.State + (avatar.IsSpeaking ? " — speaking" : ""));
            GUILayout.BeginHorizontal();
            _question = GUILayout.TextField(_question, GUILayout.ExpandWidth(true));
            if (GUILayout.Button("Say", GUILayout.Width(60))) avatar.Say(_question);
            if (GUILayout.Button("Stop", GUILayout.Width(60))) avatar.Interrupt();
            GUILayout.EndHorizontal();
            GUILayout.Label(_answer.ToString());
            GUILayout.Label(_status);
            GUILayout.EndArea();
        }
    }
}
