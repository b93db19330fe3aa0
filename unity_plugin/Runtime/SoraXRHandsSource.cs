#if SORA_XR_HANDS
using System.Collections.Generic;
using UnityEngine;
using UnityEngine.XR.Hands;
using Proto = Sora.V1;

namespace Sora.Unity
{
    /// <summary>
    /// OpenXR hand joints from the XR Hands package (XR_EXT_hand_tracking: Quest, Vision Pro via
    /// PolySpatial, HoloLens 2 …), in OpenXR order (palm, wrist, thumb … little tip), in Unity
    /// world space. Compiled only when com.unity.xr.hands 1.1+ is installed.
    /// </summary>
    [AddComponentMenu("Sora/Sources/Sora XR Hands Source")]
    public sealed class SoraXRHandsSource : MonoBehaviour, ISoraHandSource
    {
        [Tooltip("The XR Origin: joint poses are relative to it.")]
        [SerializeField] private Transform xrOrigin;

        private static readonly List<XRHandSubsystem> Subsystems = new List<XRHandSubsystem>();
        private static readonly XRHandJointID[] OpenXROrder = BuildOrder();
        private XRHandSubsystem _subsystem;

        private static XRHandJointID[] BuildOrder()
        {
            var order = new List<XRHandJointID> { XRHandJointID.Palm, XRHandJointID.Wrist };
            for (XRHandJointID id = XRHandJointID.ThumbMetacarpal; id <= XRHandJointID.LittleTip; id++) order.Add(id);
            return order.ToArray();
        }

        public bool TryGetJoints(Proto.Handedness hand, List<SoraHandJoint> joints)
        {
            if (_subsystem == null || !_subsystem.running)
            {
                SubsystemManager.GetSubsystems(Subsystems);
                _subsystem = null;
                foreach (XRHandSubsystem s in Subsystems)
                {
                    if (s.running) _subsystem = s;
                }
                if (_subsystem == null) return false;
            }
            XRHand h = hand == Proto.Handedness.Left ? _subsystem.leftHand : _subsystem.rightHand;
            if (!h.isTracked) return false;
            foreach (XRHandJointID id in OpenXROrder)
            {
                XRHandJoint joint = h.GetJoint(id);
                Pose pose;
                bool valid = joint.TryGetPose(out pose);
                float radius;
                if (!joint.TryGetRadius(out radius)) radius = 0f;
                Vector3 position = xrOrigin != null ? xrOrigin.TransformPoint(pose.position) : pose.position;
                Quaternion rotation = xrOrigin != null ? xrOrigin.rotation * pose.rotation : pose.rotation;
                joints.Add(new SoraHandJoint { Position = position, Rotation = rotation, RadiusM = radius, Valid = valid });
            }
            return true;
        }
    }
}
#endif
