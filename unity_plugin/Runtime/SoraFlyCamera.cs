using UnityEngine;
#if SORA_INPUT_SYSTEM && !ENABLE_LEGACY_INPUT_MANAGER
using UnityEngine.InputSystem;
#endif

namespace Sora.Unity
{
    /// <summary>
    /// Editor and desktop stand-in for a tracked head: WASD/QE to move, right mouse button to look,
    /// or an automatic slow orbit for hands-free scanning.
    /// </summary>
    [AddComponentMenu("Sora/Simulation/Sora Fly Camera")]
    public sealed class SoraFlyCamera : MonoBehaviour
    {
        [SerializeField] private float speedMps = 1.2f;
        [SerializeField] private float lookDegreesPerPixel = 0.2f;
        [Tooltip("Circle the room centre, looking around, with no input.")]
        public bool orbit = true;
        [SerializeField] private Vector3 orbitCentre = new Vector3(0f, 1.4f, 0.3f);
        [SerializeField] private float orbitRadiusM = 1.2f;
        [SerializeField] private float orbitDegreesPerSecond = 12f;

        private float _yaw, _pitch, _orbitAngle;

        private void Update()
        {
            if (orbit)
            {
                _orbitAngle += orbitDegreesPerSecond * Time.deltaTime;
                float a = _orbitAngle * Mathf.Deg2Rad;
                transform.position = orbitCentre + new Vector3(Mathf.Sin(a), 0f, -Mathf.Cos(a)) * orbitRadiusM;
                // Look outward and a little down, sweeping the walls, the table and the floor.
                Vector3 outward = new Vector3(Mathf.Sin(a * 1.7f), -0.35f + 0.25f * Mathf.Sin(a * 0.6f), Mathf.Cos(a * 1.7f));
                transform.rotation = Quaternion.LookRotation(outward, Vector3.up);
                return;
            }
            Vector3 move = Vector3.zero;
            Vector2 look = Vector2.zero;
            bool looking = false;
#if SORA_INPUT_SYSTEM && !ENABLE_LEGACY_INPUT_MANAGER
            Keyboard k = Keyboard.current;
            Mouse m = Mouse.current;
            if (k != null)
            {
                move.x = (k.dKey.isPressed ? 1 : 0) - (k.aKey.isPressed ? 1 : 0);
                move.z = (k.wKey.isPressed ? 1 : 0) - (k.sKey.isPressed ? 1 : 0);
                move.y = (k.eKey.isPressed ? 1 : 0) - (k.qKey.isPressed ? 1 : 0);
            }
            if (m != null && m.rightButton.isPressed)
            {
                looking = true;
                look = m.delta.ReadValue();
            }
#else
            move.x = (Input.GetKey(KeyCode.D) ? 1 : 0) - (Input.GetKey(KeyCode.A) ? 1 : 0);
            move.z = (Input.GetKey(KeyCode.W) ? 1 : 0) - (Input.GetKey(KeyCode.S) ? 1 : 0);
            move.y = (Input.GetKey(KeyCode.E) ? 1 : 0) - (Input.GetKey(KeyCode.Q) ? 1 : 0);
            if (Input.GetMouseButton(1))
            {
                looking = true;
                look = new Vector2(Input.GetAxis("Mouse X"), Input.GetAxis("Mouse Y")) * 10f;
            }
#endif
            if (looking)
            {
                _yaw += look.x * lookDegreesPerPixel;
                _pitch = Mathf.Clamp(_pitch - look.y * lookDegreesPerPixel, -85f, 85f);
                transform.rotation = Quaternion.Euler(_pitch, _yaw, 0f);
            }
            transform.position += transform.TransformDirection(move) * speedMps * Time.deltaTime;
        }
    }
}
