using UnityEditor;
using UnityEngine;

namespace Sora.Unity.Editor
{
    /// <summary>Shows the live connection state and session of the channel host in Play mode.</summary>
    [CustomEditor(typeof(SoraChannelHost))]
    internal sealed class SoraChannelHostEditor : UnityEditor.Editor
    {
        public override void OnInspectorGUI()
        {
            DrawDefaultInspector();
            var host = (SoraChannelHost)target;
            if (!Application.isPlaying) return;
            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Live", EditorStyles.boldLabel);
            EditorGUILayout.LabelField("State", host.State.ToString());
            EditorGUILayout.LabelField("Session", host.SessionId ?? "(none yet)");
            EditorGUILayout.LabelField("Main-thread queue", host.MainThread.Pending.ToString());
            if (!string.IsNullOrEmpty(host.SessionId) && GUILayout.Button("Copy session ID"))
            {
                EditorGUIUtility.systemCopyBuffer = host.SessionId;
            }
            Repaint();
        }
    }
}
