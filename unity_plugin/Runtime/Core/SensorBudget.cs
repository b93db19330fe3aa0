// Frame-rate and resolution budgets of the sensor publisher, and the image conversions it needs
// before a frame goes on the wire.
using System;

namespace Sora.Core
{
    /// <summary>Pinhole intrinsics in pixels, OpenCV convention (top-left pixel centre at (0, 0)).</summary>
    public struct CameraIntrinsics
    {
        public int WidthPx;
        public int HeightPx;
        public double FxPx;
        public double FyPx;
        public double CxPx;
        public double CyPx;

        public CameraIntrinsics(int widthPx, int heightPx, double fxPx, double fyPx, double cxPx, double cyPx)
        {
            WidthPx = widthPx;
            HeightPx = heightPx;
            FxPx = fxPx;
            FyPx = fyPx;
            CxPx = cxPx;
            CyPx = cyPx;
        }

        /// <summary>The same camera at another resolution (pixel centres kept: c' = (c + 0.5) s - 0.5).</summary>
        public CameraIntrinsics Scaled(int widthPx, int heightPx)
        {
            double sx = (double)widthPx / WidthPx, sy = (double)heightPx / HeightPx;
            return new CameraIntrinsics(widthPx, heightPx, FxPx * sx, FyPx * sy, (CxPx + 0.5) * sx - 0.5, (CyPx + 0.5) * sy - 0.5);
        }
    }

    /// <summary>
    /// Decides which frames go out: at most <see cref="MaxFps"/>, and none while
    /// <see cref="MaxInFlight"/> are encoding or waiting on flow control (a slow link drops frames
    /// at the source instead of queueing stale ones). Thread-safe.
    /// </summary>
    public sealed class FrameBudget
    {
        private readonly object _lock = new object();
        private double _lastSentS = double.NegativeInfinity;
        private int _inFlight;

        public FrameBudget(double maxFps, int maxInFlight = 2, int maxWidthPx = 640)
        {
            if (maxFps <= 0) throw new ArgumentException("maxFps must be positive");
            if (maxInFlight < 1) throw new ArgumentException("maxInFlight must be >= 1");
            MaxFps = maxFps;
            MaxInFlight = maxInFlight;
            MaxWidthPx = maxWidthPx;
        }

        public double MaxFps { get; private set; }
        public int MaxInFlight { get; private set; }
        /// <summary>Frames wider than this are downscaled (0: never).</summary>
        public int MaxWidthPx { get; private set; }
        public int Skipped { get; private set; }
        public int InFlight { get { lock (_lock) return _inFlight; } }

        /// <summary>Claims a slot for a frame captured at <paramref name="nowS"/>; call <see cref="Release"/> once it is sent or dropped.</summary>
        public bool TryAcquire(double nowS)
        {
            lock (_lock)
            {
                // A small tolerance, so 30 fps capture under a 30 fps budget is not halved by jitter.
                if (nowS - _lastSentS < 0.9 / MaxFps || _inFlight >= MaxInFlight)
                {
                    Skipped++;
                    return false;
                }
                _lastSentS = nowS;
                _inFlight++;
                return true;
            }
        }

        public void Release()
        {
            lock (_lock)
            {
                if (_inFlight > 0) _inFlight--;
            }
        }

        /// <summary>The size to send a widthPx x heightPx image at (aspect kept, even sizes).</summary>
        public void TargetSize(int widthPx, int heightPx, out int outWidthPx, out int outHeightPx)
        {
            if (MaxWidthPx <= 0 || widthPx <= MaxWidthPx)
            {
                outWidthPx = widthPx;
                outHeightPx = heightPx;
                return;
            }
            outWidthPx = MaxWidthPx & ~1;
            outHeightPx = Math.Max(2, (int)Math.Round(heightPx * (double)outWidthPx / widthPx) & ~1);
        }
    }

    /// <summary>Row and depth conversions between engine images and the wire layouts.</summary>
    public static class ImageRows
    {
        /// <summary>
        /// Reverses the row order in place: Unity textures start at the bottom row, the wire (OpenCV)
        /// at the top.
        /// </summary>
        public static void FlipVertically(byte[] pixels, int widthPx, int heightPx, int bytesPerPixel)
        {
            int stride = widthPx * bytesPerPixel;
            if (pixels.Length < stride * heightPx) throw new ArgumentException("pixels smaller than width * height * bytesPerPixel");
            var row = new byte[stride];
            for (int top = 0, bottom = heightPx - 1; top < bottom; top++, bottom--)
            {
                Buffer.BlockCopy(pixels, top * stride, row, 0, stride);
                Buffer.BlockCopy(pixels, bottom * stride, pixels, top * stride, stride);
                Buffer.BlockCopy(row, 0, pixels, bottom * stride, stride);
            }
        }

        /// <summary>
        /// Depth in metres (float32, 0 or NaN for none) -> little-endian uint16 at
        /// <paramref name="mPerUnit"/> (0.001 for millimetres), rows flipped when
        /// <paramref name="flipRows"/>. Values beyond the uint16 range become 0 (no measurement)
        /// rather than a wrong, clamped distance.
        /// </summary>
        public static byte[] MetresToU16(float[] metres, int widthPx, int heightPx, double mPerUnit, bool flipRows)
        {
            if (metres.Length != widthPx * heightPx) throw new ArgumentException("metres.Length != width * height");
            var bytes = new byte[metres.Length * 2];
            for (int y = 0; y < heightPx; y++)
            {
                int src = (flipRows ? heightPx - 1 - y : y) * widthPx;
                int dst = y * widthPx * 2;
                for (int x = 0; x < widthPx; x++)
                {
                    float m = metres[src + x];
                    int u = 0;
                    if (m > 0 && !float.IsNaN(m) && !float.IsInfinity(m))
                    {
                        double v = Math.Round(m / mPerUnit);
                        u = v <= 65535 ? (int)v : 0;
                    }
                    bytes[dst + 2 * x] = (byte)(u & 0xff);
                    bytes[dst + 2 * x + 1] = (byte)(u >> 8);
                }
            }
            return bytes;
        }
    }
}
