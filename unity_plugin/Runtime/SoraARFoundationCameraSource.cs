#if SORA_AR_FOUNDATION
using Sora.Core;
using Unity.Collections;
using UnityEngine;
using UnityEngine.XR.ARFoundation;
using UnityEngine.XR.ARSubsystems;

namespace Sora.Unity
{
    /// <summary>
    /// RGB-D frames from AR Foundation: the CPU camera image, environment depth from the
    /// AROcclusionManager where the platform has it (ARCore Depth API, LiDAR iPhones/iPads), the
    /// camera intrinsics, and the AR camera's tracked pose. Colour is converted at the depth
    /// image's resolution so both share one set of intrinsics.
    /// Compiled only when com.unity.xr.arfoundation 5+ is installed.
    /// </summary>
    [AddComponentMenu("Sora/Sources/Sora AR Foundation Camera Source")]
    public sealed class SoraARFoundationCameraSource : MonoBehaviour, ISoraCameraSource
    {
        [SerializeField] private ARCameraManager cameraManager;
        [SerializeField] private AROcclusionManager occlusionManager;
        [Tooltip("Rotate the pose about the optical axis to the CPU image's axes by Screen.orientation (the CPU image is in sensor orientation).")]
        [SerializeField] private bool rotateForScreenOrientation = true;
        [Tooltip("Extra rotation about the optical axis, degrees, for devices whose sensor is mounted differently.")]
        [SerializeField] private float extraImageRotationDegrees = 0f;

        private void Reset()
        {
            cameraManager = FindObjectOfType<ARCameraManager>();
            occlusionManager = FindObjectOfType<AROcclusionManager>();
        }

        public bool TryCapture(out SoraCameraCapture capture)
        {
            capture = default(SoraCameraCapture);
            if (cameraManager == null) return false;
            XRCameraIntrinsics k;
            if (!cameraManager.TryGetIntrinsics(out k)) return false;
            XRCpuImage color;
            if (!cameraManager.TryAcquireLatestCpuImage(out color)) return false;
            using (color)
            {
                float[] depth = null;
                int width = color.width, height = color.height;
                XRCpuImage depthImage;
                if (occlusionManager != null && occlusionManager.TryAcquireEnvironmentDepthCpuImage(out depthImage))
                {
                    using (depthImage)
                    {
                        depth = ReadDepth(depthImage);
                        if (depth != null)
                        {
                            width = depthImage.width;
                            height = depthImage.height;
                        }
                    }
                }
                // Transformation.None keeps the sensor's row order: top row first, as the wire wants.
                var conversion = new XRCpuImage.ConversionParams(color, TextureFormat.RGB24, XRCpuImage.Transformation.None)
                {
                    outputDimensions = new Vector2Int(width, height),
                };
                var buffer = new NativeArray<byte>(color.GetConvertedDataSize(conversion), Allocator.Temp);
                try
                {
                    color.Convert(conversion, buffer);
                    capture.ColorRgb24 = buffer.ToArray();
                }
                finally
                {
                    buffer.Dispose();
                }
                capture.ColorWidth = width;
                capture.ColorHeight = height;
                capture.DepthMetres = depth;
                capture.DepthWidth = width;
                capture.DepthHeight = height;
                capture.Intrinsics = new CameraIntrinsics(k.resolution.x, k.resolution.y, k.focalLength.x, k.focalLength.y,
                                                          k.principalPoint.x, k.principalPoint.y).Scaled(width, height);
            }
            Transform t = cameraManager.transform;
            capture.CameraPosition = t.position;
            capture.CameraRotation = t.rotation * Quaternion.AngleAxis(ImageRotationDegrees(), Vector3.forward);
            return true;
        }

        private float ImageRotationDegrees()
        {
            float degrees = extraImageRotationDegrees;
            if (!rotateForScreenOrientation) return degrees;
            switch (Screen.orientation)
            {
                case ScreenOrientation.Portrait: return degrees + 90f;
                case ScreenOrientation.LandscapeRight: return degrees + 180f;
                case ScreenOrientation.PortraitUpsideDown: return degrees + 270f;
                default: return degrees;
            }
        }

        // DepthFloat32 (ARKit) is metres; DepthUint16 (ARCore) is millimetres.
        private static float[] ReadDepth(XRCpuImage image)
        {
            if (image.planeCount < 1) return null;
            XRCpuImage.Plane plane = image.GetPlane(0);
            byte[] bytes = plane.data.ToArray();
            int w = image.width, h = image.height;
            var metres = new float[w * h];
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int at = y * plane.rowStride + x * plane.pixelStride;
                    if (image.format == XRCpuImage.Format.DepthFloat32) metres[y * w + x] = System.BitConverter.ToSingle(bytes, at);
                    else if (image.format == XRCpuImage.Format.DepthUint16) metres[y * w + x] = System.BitConverter.ToUInt16(bytes, at) / 1000f;
                    else return null;
                }
            }
            return metres;
        }
    }
}
#endif
