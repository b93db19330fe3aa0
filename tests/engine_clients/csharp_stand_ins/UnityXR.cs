// STAND-INS, NOT THE REAL API: declarations of the AR Foundation, XR Hands, the Input System and Unity.Collections members the Sora Unity package
// uses, with empty bodies, so tests/engine_clients/test_csharp_sources.py can compile the package's C#
// under Mono and catch inconsistencies in it (a renamed core method, a missing using, a type
// mismatch). They are written from the libraries' documentation; a mistake here can hide a
// mistake there, so the package still needs a real Unity build before a release.
using System;
using System.Collections.Generic;
using UnityEngine;
namespace Unity.Collections {
  public enum Allocator { Temp }
  public struct NativeArray<T> : IDisposable where T : struct { public NativeArray(int n, Allocator a) { } public T[] ToArray() { return null; } public void Dispose() { } }
}
namespace UnityEngine.XR.ARSubsystems {
  public struct XRCameraIntrinsics { public Vector2 focalLength { get { return default(Vector2); } } public Vector2 principalPoint { get { return default(Vector2); } } public Vector2Int resolution { get { return default(Vector2Int); } } }
  public struct XRCpuImage : IDisposable {
    public enum Transformation { None, MirrorX, MirrorY }
    public enum Format { Unknown, DepthFloat32, DepthUint16 }
    public struct ConversionParams { public ConversionParams(XRCpuImage image, TextureFormat format, Transformation transformation) : this() { } public Vector2Int outputDimensions { get; set; } }
    public struct Plane { public Unity.Collections.NativeArray<byte> data { get { return default(Unity.Collections.NativeArray<byte>); } } public int rowStride { get { return 0; } } public int pixelStride { get { return 0; } } }
    public int width { get { return 0; } } public int height { get { return 0; } } public int planeCount { get { return 0; } } public Format format { get { return 0; } }
    public Plane GetPlane(int i) { return default(Plane); } public int GetConvertedDataSize(ConversionParams p) { return 0; } public void Convert(ConversionParams p, Unity.Collections.NativeArray<byte> dest) { } public void Dispose() { }
  }
}
namespace UnityEngine.XR.ARFoundation {
  public sealed class ARCameraManager : MonoBehaviour { public bool TryGetIntrinsics(out UnityEngine.XR.ARSubsystems.XRCameraIntrinsics k) { k = default(UnityEngine.XR.ARSubsystems.XRCameraIntrinsics); return false; } public bool TryAcquireLatestCpuImage(out UnityEngine.XR.ARSubsystems.XRCpuImage i) { i = default(UnityEngine.XR.ARSubsystems.XRCpuImage); return false; } }
  public sealed class AROcclusionManager : MonoBehaviour { public bool TryAcquireEnvironmentDepthCpuImage(out UnityEngine.XR.ARSubsystems.XRCpuImage i) { i = default(UnityEngine.XR.ARSubsystems.XRCpuImage); return false; } }
}
namespace UnityEngine.XR.Hands {
  public enum XRHandJointID { Invalid = 0, BeginMarker = 1, Wrist = 1, Palm = 2, ThumbMetacarpal = 3, LittleTip = 26, EndMarker = 27 }
  public struct XRHandJoint { public bool TryGetPose(out Pose p) { p = default(Pose); return false; } public bool TryGetRadius(out float r) { r = 0; return false; } }
  public struct XRHand { public bool isTracked { get { return false; } } public XRHandJoint GetJoint(XRHandJointID id) { return default(XRHandJoint); } }
  public class XRHandSubsystem { public bool running { get { return false; } } public XRHand leftHand { get { return default(XRHand); } } public XRHand rightHand { get { return default(XRHand); } } }
}
namespace UnityEngine { public static class SubsystemManager { public static void GetSubsystems<T>(List<T> s) { } } }
namespace UnityEngine.InputSystem {
  public sealed class InputAction { public void Enable() { } public bool enabled { get { return false; } } public T ReadValue<T>() where T : struct { return default(T); } }
  public struct InputActionProperty { public InputAction action { get { return null; } } }
  public class ButtonControl { public bool isPressed { get { return false; } } }
  public class Vector2Control { public Vector2 ReadValue() { return default(Vector2); } }
  public sealed class Keyboard { public static Keyboard current { get { return null; } } public ButtonControl aKey, dKey, eKey, qKey, sKey, wKey; }
  public sealed class Mouse { public static Mouse current { get { return null; } } public ButtonControl rightButton; public Vector2Control delta; }
}
