using UnityEngine;

namespace Sora.Unity
{
    /// <summary>Keeps a label facing the main camera.</summary>
    public sealed class SoraBillboard : MonoBehaviour
    {
        private void LateUpdate()
        {
            Camera cam = Camera.main;
            if (cam == null) return;
            transform.rotation = Quaternion.LookRotation(transform.position - cam.transform.position, Vector3.up);
        }
    }
}
