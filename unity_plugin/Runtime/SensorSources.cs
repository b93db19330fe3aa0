using System.Collections.Generic;
using Sora.Core;
using UnityEngine;
using Proto = Sora.V1;

namespace Sora.Unity
{
    /// <summary>
    /// One RGB-D capture in Unity terms. Images are top row first (the wire's order); the pose is
    /// the Unity camera's world pose (Unity camera axes: +Z forward, +Y up) at capture; intrinsics
    /// are OpenCV-style at the depth image's resolution (or the colour's when there is no depth).
    /// The publisher converts the pose to Sora's OpenCV camera convention.
    /// </summary>
    public struct SoraCameraCapture
    {
        public Vector3 CameraPosition;
        public Quaternion CameraRotation;
        public CameraIntrinsics Intrinsics;
        /// <summary>RGB24, top row first; null when <see cref="EncodedColor"/> is set or there is no colour.</summary>
        public byte[] ColorRgb24;
        public int ColorWidth;
        public int ColorHeight;
        /// <summary>Already-encoded JPEG or PNG, when the platform hands one out.</summary>
        public byte[] EncodedColor;
        public Proto.ColorEncoding EncodedColorEncoding;
        /// <summary>Depth in metres, top row first, 0 or NaN for no measurement; null for none.</summary>
        public float[] DepthMetres;
        public int DepthWidth;
        public int DepthHeight;
    }

    /// <summary>A camera the publisher samples on the main thread (AR Foundation, a headset SDK, a simulation).</summary>
    public interface ISoraCameraSource
    {
        /// <summary>False when no new frame is ready.</summary>
        bool TryCapture(out SoraCameraCapture capture);
    }

    /// <summary>One hand joint in Unity world space.</summary>
    public struct SoraHandJoint
    {
        public Vector3 Position;
        public Quaternion Rotation;
        public float RadiusM;
        public bool Valid;
    }

    /// <summary>Device hand tracking: OpenXR's 26 joints (XR_EXT_hand_tracking order, palm first).</summary>
    public interface ISoraHandSource
    {
        /// <summary>Fills <paramref name="joints"/> with 26 joints when the hand is tracked; false (and empty) when lost.</summary>
        bool TryGetJoints(Proto.Handedness hand, List<SoraHandJoint> joints);
    }

    /// <summary>Device eye tracking: a combined gaze ray in Unity world space.</summary>
    public interface ISoraGazeSource
    {
        bool TryGetGaze(out Ray gaze, out float confidence);
    }
}
