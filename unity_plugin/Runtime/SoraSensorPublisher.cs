using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Google.Protobuf;
using Sora.Core;
using UnityEngine;
using UnityEngine.Experimental.Rendering;
using Proto = Sora.V1;

namespace Sora.Unity
{
    /// <summary>
    /// Streams what the device senses (SensorService.StreamSensorData): RGB-D frames from an
    /// <see cref="ISoraCameraSource"/> within a frame-rate, in-flight and resolution budget, the
    /// head pose, OpenXR hand joints and eye gaze when sources are present, and the microphone
    /// when enabled. Capture happens on the main thread, encoding on the thread pool, and one
    /// writer task owns the call; the stream reopens with backoff if it fails.
    /// </summary>
    [AddComponentMenu("Sora/Sora Sensor Publisher")]
    public sealed class SoraSensorPublisher : MonoBehaviour
    {
        public enum ColorFormat
        {
            Jpeg,
            RawRgb8,
        }

        [Header("Stream")]
        [SerializeField] private string streamName = "unity";
        [Tooltip("Realtime: the server drops stale frames when busy (live devices). Lossless: every frame is fused (replays).")]
        [SerializeField] private bool realtime = true;

        [Header("Camera budget")]
        [Tooltip("A component implementing ISoraCameraSource (AR Foundation, simulation, your headset SDK).")]
        [SerializeField] private MonoBehaviour cameraSource;
        [SerializeField] private float maxCameraFps = 5f;
        [SerializeField] private int maxFramesInFlight = 2;
        [SerializeField] private ColorFormat colorFormat = ColorFormat.Jpeg;
        [Range(1, 100)] [SerializeField] private int jpegQuality = 80;

        [Header("Head, hands, gaze")]
        [Tooltip("The head (usually the XR camera); Camera.main when empty.")]
        [SerializeField] private Transform head;
        [SerializeField] private float headPoseHz = 30f;
        [SerializeField] private MonoBehaviour handSource;
        [SerializeField] private float handJointsHz = 30f;
        [SerializeField] private MonoBehaviour gazeSource;
        [SerializeField] private float gazeHz = 30f;

        [Header("Microphone")]
        [SerializeField] private bool sendMicrophone = false;
        [SerializeField] private int microphoneRateHz = 16000;

        private const int MaxQueued = 256;
        private readonly ConcurrentQueue<Proto.StreamSensorDataRequest> _outbox = new ConcurrentQueue<Proto.StreamSensorDataRequest>();
        private readonly SemaphoreSlim _signal = new SemaphoreSlim(0);
        private readonly List<SoraHandJoint> _joints = new List<SoraHandJoint>(26);
        private FrameBudget _budget;
        private ManagedStream _stream;
        private long _sequence;
        private double _nextHeadS, _nextHandsS, _nextGazeS;
        private AudioClip _mic;
        private int _micPosition;

        public int FramesSent { get { return (int)Interlocked.Read(ref _framesSent); } }
        public int FramesSkipped { get { return _budget == null ? 0 : _budget.Skipped; } }
        private long _framesSent;

        public ISoraCameraSource CameraSource
        {
            get { return cameraSource as ISoraCameraSource; }
            set { cameraSource = value as MonoBehaviour; }
        }

        /// <summary>Camera frames per second at most (takes effect when the component is next enabled).</summary>
        public float MaxCameraFps
        {
            get { return maxCameraFps; }
            set { maxCameraFps = value; }
        }

        public ISoraHandSource HandSource
        {
            get { return handSource as ISoraHandSource; }
            set { handSource = value as MonoBehaviour; }
        }

        public ISoraGazeSource GazeSource
        {
            get { return gazeSource as ISoraGazeSource; }
            set { gazeSource = value as MonoBehaviour; }
        }

        private static double Now { get { return Time.realtimeSinceStartupAsDouble; } }

        private void OnEnable()
        {
            _budget = new FrameBudget(maxCameraFps, maxFramesInFlight, 0);
            if (sendMicrophone) StartMicrophone();
            if (_stream != null)
            {
                _stream.Start();
                return;
            }
            _stream = SoraChannelHost.GetOrCreate().StartStream("sensors", Publish, endless: false);
        }

        private void OnDisable()
        {
            if (_stream != null) _stream.Stop();
            if (_mic != null) Microphone.End(null);
            _mic = null;
        }

        private void OnDestroy()
        {
            if (SoraChannelHost.Instance != null) SoraChannelHost.Instance.StopStream(_stream);
        }

        private void Update()
        {
            double now = Now;
            SampleCamera(now);
            SampleHead(now);
            SampleHands(now);
            SampleGaze(now);
            SampleMicrophone(now);
        }

        // ---- main thread: sampling ----

        private void SampleCamera(double now)
        {
            var source = cameraSource as ISoraCameraSource;
            if (source == null || !_budget.TryAcquire(now)) return;
            SoraCameraCapture capture;
            if (!source.TryCapture(out capture))
            {
                _budget.Release();
                return;
            }
            // Unity API (the pose conversion touches none, but keep all of it here) before the worker runs.
            long sequence = ++_sequence;
            Proto.Pose pose = SoraFrames.CameraPoseFromUnity(capture.CameraPosition, capture.CameraRotation);
            ColorFormat format = colorFormat;
            int quality = jpegQuality;
            Task.Run(() =>
            {
                try
                {
                    Enqueue(new Proto.StreamSensorDataRequest { CameraFrame = Encode(capture, pose, sequence, now, format, quality) });
                    Interlocked.Increment(ref _framesSent);
                }
                catch (Exception e)
                {
                    Debug.LogWarning("[Sora] frame " + sequence + " not sent: " + e.Message);
                }
                finally
                {
                    _budget.Release();
                }
            });
        }

        private void SampleHead(double now)
        {
            if (headPoseHz <= 0 || now < _nextHeadS) return;
            _nextHeadS = now + 1.0 / headPoseHz;
            Transform h = head != null ? head : (Camera.main != null ? Camera.main.transform : null);
            if (h == null) return;
            Enqueue(new Proto.StreamSensorDataRequest
            {
                HeadPose = new Proto.HeadPoseSample { CaptureTimeS = now, PoseWorldHead = SoraFrames.CameraPoseFromUnity(h.position, h.rotation) },
            });
        }

        private void SampleHands(double now)
        {
            var source = handSource as ISoraHandSource;
            if (source == null || handJointsHz <= 0 || now < _nextHandsS) return;
            _nextHandsS = now + 1.0 / handJointsHz;
            foreach (Proto.Handedness hand in new[] { Proto.Handedness.Left, Proto.Handedness.Right })
            {
                _joints.Clear();
                var sample = new Proto.HandJointsSample { CaptureTimeS = now, Handedness = hand };
                if (source.TryGetJoints(hand, _joints))
                {
                    foreach (SoraHandJoint j in _joints)
                    {
                        sample.Joints.Add(new Proto.HandJoint { PoseWorldJoint = SoraFrames.PoseFromUnity(j.Position, j.Rotation), RadiusM = j.RadiusM, Valid = j.Valid });
                    }
                }
                Enqueue(new Proto.StreamSensorDataRequest { HandJoints = sample });
            }
        }

        private void SampleGaze(double now)
        {
            var source = gazeSource as ISoraGazeSource;
            if (source == null || gazeHz <= 0 || now < _nextGazeS) return;
            _nextGazeS = now + 1.0 / gazeHz;
            Ray ray;
            float confidence;
            if (!source.TryGetGaze(out ray, out confidence)) return;
            Enqueue(new Proto.StreamSensorDataRequest
            {
                EyeGaze = new Proto.EyeGazeSample { CaptureTimeS = now, GazeWorld = SoraFrames.RayFromUnity(ray), Confidence = confidence },
            });
        }

        private void StartMicrophone()
        {
#if UNITY_ANDROID && !UNITY_EDITOR
            if (!UnityEngine.Android.Permission.HasUserAuthorizedPermission(UnityEngine.Android.Permission.Microphone))
            {
                UnityEngine.Android.Permission.RequestUserPermission(UnityEngine.Android.Permission.Microphone);
                return;  // enable the component again once granted
            }
#endif
            if (Microphone.devices.Length == 0)
            {
                Debug.LogWarning("[Sora] no microphone");
                return;
            }
            _mic = Microphone.Start(null, true, 1, microphoneRateHz);
            _micPosition = 0;
        }

        private void SampleMicrophone(double now)
        {
            if (_mic == null) return;
            int position = Microphone.GetPosition(null);
            int available = (position - _micPosition + _mic.samples) % _mic.samples;
            if (available < microphoneRateHz / 10) return;  // 100 ms chunks
            var samples = new float[available];
            _mic.GetData(samples, _micPosition);  // wraps around the looping clip
            _micPosition = position;
            var pcm = new byte[available * 2];
            for (int i = 0; i < available; i++)
            {
                short v = (short)Mathf.Clamp(Mathf.RoundToInt(samples[i] * 32767f), -32768, 32767);
                pcm[2 * i] = (byte)(v & 0xff);
                pcm[2 * i + 1] = (byte)((v >> 8) & 0xff);
            }
            Enqueue(new Proto.StreamSensorDataRequest
            {
                AudioChunk = new Proto.AudioChunk
                {
                    CaptureTimeS = now - available / (double)microphoneRateHz,
                    SampleRateHz = (uint)microphoneRateHz,
                    Channels = 1,
                    Pcm16 = ByteString.CopyFrom(pcm),
                },
            });
        }

        // ---- worker threads ----

        internal static Proto.CameraFrame Encode(SoraCameraCapture c, Proto.Pose pose, long sequence, double timeS, ColorFormat format, int quality)
        {
            var frame = new Proto.CameraFrame
            {
                Sequence = (ulong)sequence,
                CaptureTimeS = timeS,
                PoseWorldCamera = pose,
                Intrinsics = new Proto.CameraIntrinsics
                {
                    WidthPx = (uint)c.Intrinsics.WidthPx,
                    HeightPx = (uint)c.Intrinsics.HeightPx,
                    FxPx = c.Intrinsics.FxPx,
                    FyPx = c.Intrinsics.FyPx,
                    CxPx = c.Intrinsics.CxPx,
                    CyPx = c.Intrinsics.CyPx,
                },
            };
            if (c.EncodedColor != null)
            {
                frame.Color = new Proto.ColorImage
                {
                    Encoding = c.EncodedColorEncoding,
                    WidthPx = (uint)c.ColorWidth,
                    HeightPx = (uint)c.ColorHeight,
                    Data = ByteString.CopyFrom(c.EncodedColor),
                };
            }
            else if (c.ColorRgb24 != null)
            {
                frame.Color = new Proto.ColorImage { WidthPx = (uint)c.ColorWidth, HeightPx = (uint)c.ColorHeight };
                if (format == ColorFormat.RawRgb8)
                {
                    frame.Color.Encoding = Proto.ColorEncoding.RawRgb8;
                    frame.Color.Data = ByteString.CopyFrom(c.ColorRgb24);
                }
                else
                {
                    // Unity's encoders take texture memory order (bottom row first); the capture is
                    // top row first, so hand them a flipped copy.
                    var bottomUp = (byte[])c.ColorRgb24.Clone();
                    ImageRows.FlipVertically(bottomUp, c.ColorWidth, c.ColorHeight, 3);
                    byte[] jpeg = ImageConversion.EncodeArrayToJPG(bottomUp, GraphicsFormat.R8G8B8_SRGB, (uint)c.ColorWidth, (uint)c.ColorHeight, 0, quality);
                    frame.Color.Encoding = Proto.ColorEncoding.Jpeg;
                    frame.Color.Data = ByteString.CopyFrom(jpeg);
                }
            }
            if (c.DepthMetres != null)
            {
                frame.Depth = new Proto.DepthImage
                {
                    Encoding = Proto.DepthEncoding.RawU16,
                    WidthPx = (uint)c.DepthWidth,
                    HeightPx = (uint)c.DepthHeight,
                    MPerUnit = 0.001,
                    Data = ByteString.CopyFrom(ImageRows.MetresToU16(c.DepthMetres, c.DepthWidth, c.DepthHeight, 0.001, false)),
                };
            }
            return frame;
        }

        private void Enqueue(Proto.StreamSensorDataRequest request)
        {
            // Live data goes stale: past the cap, the oldest queued sample gives way.
            Proto.StreamSensorDataRequest dropped;
            while (_outbox.Count >= MaxQueued && _outbox.TryDequeue(out dropped))
            {
            }
            _outbox.Enqueue(request);
            _signal.Release();
        }

        private static async Task Finish(Grpc.Core.AsyncClientStreamingCall<Proto.StreamSensorDataRequest, Proto.StreamSensorDataResponse> call)
        {
            try
            {
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                Task<Proto.StreamSensorDataResponse> response = call.ResponseAsync;
                if (await Task.WhenAny(response, Task.Delay(2000)).ConfigureAwait(false) == response)
                {
                    Proto.StreamSensorDataResponse r = response.Result;
                    Debug.Log("[Sora] sensor stream closed: " + r.MessagesReceived + " messages, " + r.FramesIntegrated + " frames fused");
                }
            }
            catch (Exception e)
            {
                Debug.LogWarning("[Sora] sensor stream close: " + e.Message);
            }
        }

        private async Task Publish(ManagedStream stream, CancellationToken ct)
        {
            SoraChannelHost host = SoraChannelHost.Instance;
            string sessionId = await host.GetSessionIdAsync(ct).ConfigureAwait(false);
            // Samples queued while disconnected are stale for a live stream.
            Proto.StreamSensorDataRequest stale;
            while (realtime && _outbox.TryDequeue(out stale))
            {
            }
            // Not bound to ct: when the component is disabled, our side half-closes so the server
            // fuses what it has and answers; disposing the call cancels it if it never does.
            using (var call = host.Sensors.StreamSensorData(host.CallOptions(CancellationToken.None)))
            {
                await call.RequestStream.WriteAsync(new Proto.StreamSensorDataRequest
                {
                    Config = new Proto.SensorStreamConfig
                    {
                        SessionId = sessionId,
                        StreamName = streamName,
                        IngestMode = realtime ? Proto.IngestMode.Realtime : Proto.IngestMode.Lossless,
                    },
                }).ConfigureAwait(false);
                stream.Delivered(null);
                try
                {
                    while (true)
                    {
                        await _signal.WaitAsync(ct).ConfigureAwait(false);
                        Proto.StreamSensorDataRequest next;
                        while (_outbox.TryDequeue(out next)) await call.RequestStream.WriteAsync(next).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    await Finish(call).ConfigureAwait(false);
                    throw;
                }
            }
        }
    }
}
