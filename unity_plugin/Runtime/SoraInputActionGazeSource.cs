#if SORA_INPUT_SYSTEM
using UnityEngine;
using UnityEngine.InputSystem;

namespace Sora.Unity
{
    /// <summary>
    /// An eye-gaze ray from Input System actions: bind the position and rotation actions to
    /// &lt;EyeGaze&gt;/pose/position and &lt;EyeGaze&gt;/pose/rotation (OpenXR Eye Gaze
    /// Interaction profile, XR_EXT_eye_gaze_interaction). Poses are relative to the XR Origin.
    /// Without eye tracking, leave this out: the server falls back to head gaze from the head pose.
    /// Compiled only when com.unity.inputsystem 1.4+ is installed.
    /// </summary>
    [AddComponentMenu("Sora/Sources/Sora Input Action Gaze Source")]
    public sealed class SoraInputActionGazeSource : MonoBehaviour, ISoraGazeSource
    {
        [SerializeField] private InputActionProperty gazePosition;
        [SerializeField] private InputActionProperty gazeRotation;
        [SerializeField] private Transform xrOrigin;

        private void OnEnable()
        {
            if (gazePosition.action != null) gazePosition.action.Enable();
            if (gazeRotation.action != null) gazeRotation.action.Enable();
        }

        public bool TryGetGaze(out Ray gaze, out float confidence)
        {
            gaze = default(Ray);
            confidence = 0f;
            InputAction p = gazePosition.action, r = gazeRotation.action;
            if (p == null || r == null || !p.enabled || !r.enabled) return false;
            Quaternion rotation = r.ReadValue<Quaternion>();
            if (rotation == new Quaternion(0f, 0f, 0f, 0f)) return false;  // not tracking
            Vector3 position = p.ReadValue<Vector3>();
            if (xrOrigin != null)
            {
                position = xrOrigin.TransformPoint(position);
                rotation = xrOrigin.rotation * rotation;
            }
            gaze = new Ray(position, rotation * Vector3.forward);
            confidence = 1f;
            return true;
        }
    }
}
#endif
