using UnityEditor;
using UnityEngine;

namespace Sora.Unity.Editor
{
    /// <summary>GameObject > Sora menu: the channel host and ready-made rigs.</summary>
    internal static class SoraMenu
    {
        [MenuItem("GameObject/Sora/Channel Host", false, 10)]
        private static void CreateHost()
        {
            if (Object.FindObjectOfType<SoraChannelHost>() != null)
            {
                EditorUtility.DisplayDialog("Sora", "The scene already has a Sora Channel Host (one per app).", "OK");
                return;
            }
            Select(new GameObject("Sora Channel Host", typeof(SoraChannelHost)));
        }

        [MenuItem("GameObject/Sora/Room Scan Rig", false, 11)]
        private static void CreateScanRig()
        {
            if (Object.FindObjectOfType<SoraChannelHost>() == null) new GameObject("Sora Channel Host", typeof(SoraChannelHost));
            var rig = new GameObject("Sora Scene", typeof(SoraMeshStreamer), typeof(SoraPlaneVisualizer), typeof(SoraObjectVisualizer));
            var sensors = new GameObject("Sora Sensors", typeof(SoraSensorPublisher));
            sensors.transform.SetParent(rig.transform, false);
            Select(rig);
        }

        [MenuItem("GameObject/Sora/Perception Events", false, 12)]
        private static void CreatePerception() { Select(new GameObject("Sora Perception", typeof(SoraPerceptionEvents))); }

        private static void Select(GameObject go)
        {
            Undo.RegisterCreatedObjectUndo(go, "Create " + go.name);
            Selection.activeGameObject = go;
        }
    }
}
