using System;
using System.Threading;
using System.Threading.Tasks;
using Sora.Core;
using UnityEngine;
using UnityEngine.Events;
using Proto = Sora.V1;

namespace Sora.Unity
{
    /// <summary>What a gaze or pointing ray rests on, in Unity's frame.</summary>
    [Serializable]
    public struct SoraTarget
    {
        public Proto.TargetKind Kind;
        /// <summary>Plane, object or anchor ID when <see cref="Kind"/> names one.</summary>
        public string Id;
        public string Label;
        public Vector3 Point;
        public Vector3 Normal;
        public float DistanceM;

        public bool IsHit { get { return Kind != Proto.TargetKind.Unspecified; } }

        public static SoraTarget From(Proto.SceneTarget t)
        {
            if (t == null) return new SoraTarget { Id = "", Label = "" };
            return new SoraTarget
            {
                Kind = t.Kind,
                Id = t.Id,
                Label = t.Label,
                Point = SoraFrames.PointToUnity(t.PointWorldM),
                Normal = SoraFrames.PointToUnity(t.NormalWorld),
                DistanceM = t.DistanceM,
            };
        }

        public bool SameAs(SoraTarget other) { return Kind == other.Kind && Id == other.Id; }
    }

    [Serializable]
    public struct SoraGestureEvent
    {
        public uint HandId;
        public Proto.Handedness Handedness;
        public Proto.GestureType Gesture;
        public Proto.EventPhase Phase;
        public float Confidence;
        /// <summary>Pinch strength for pinches, 0..1.</summary>
        public float Strength;
        /// <summary>Hand displacement since the gesture started (drags, swipes), Unity world metres.</summary>
        public Vector3 Displacement;
        public double StartTimeS;
        public double TimeS;
    }

    [Serializable]
    public struct SoraPointingEvent
    {
        public uint HandId;
        public Proto.EventPhase Phase;
        public Ray Ray;
        public SoraTarget Target;
        public double TimeS;
    }

    [Serializable]
    public struct SoraGaze
    {
        public Proto.GazeSource Source;
        public Ray Ray;
        public float Confidence;
        public SoraTarget Target;
        public float DwellS;
        public bool Fixating;
        public double TimeS;
    }

    [Serializable]
    public struct SoraFixationEvent
    {
        public Proto.EventPhase Phase;
        public SoraTarget Target;
        public double StartTimeS;
        public float DurationS;
        public Proto.GazeSource Source;
    }

    [Serializable]
    public struct SoraInteractionEvent
    {
        public uint HandId;
        public Proto.InteractionType Interaction;
        public Proto.EventPhase Phase;
        public string ObjectId;
        public float DistanceM;
        public double TimeS;
    }

    /// <summary>One tracked hand (21 landmarks, MediaPipe order), Unity world.</summary>
    [Serializable]
    public sealed class SoraHand
    {
        public uint HandId;
        public Proto.Handedness Handedness;
        public Proto.HandSource Source;
        public float Confidence;
        public Proto.GestureType Gesture;
        public float PinchStrength;
        public Vector3[] Landmarks = new Vector3[0];
        public Ray PointingRay;
    }

    [Serializable] public sealed class SoraGestureUnityEvent : UnityEvent<SoraGestureEvent> { }
    [Serializable] public sealed class SoraPointingUnityEvent : UnityEvent<SoraPointingEvent> { }
    [Serializable] public sealed class SoraGazeUnityEvent : UnityEvent<SoraGaze> { }
    [Serializable] public sealed class SoraTargetUnityEvent : UnityEvent<SoraTarget> { }
    [Serializable] public sealed class SoraFixationUnityEvent : UnityEvent<SoraFixationEvent> { }
    [Serializable] public sealed class SoraInteractionUnityEvent : UnityEvent<SoraInteractionEvent> { }
    [Serializable] public sealed class SoraHandsUnityEvent : UnityEvent<SoraHand[]> { }

    /// <summary>
    /// The user's hands and gaze as UnityEvents (PerceptionService.WatchPerception). Gestures,
    /// pointing, fixations and interactions arrive in order and resume after a disconnect; hands
    /// and gaze are latest-wins and raised at most once a frame. Every event is raised on the main
    /// thread, with rays and points in Unity's frame.
    /// </summary>
    [AddComponentMenu("Sora/Sora Perception Events")]
    public sealed class SoraPerceptionEvents : MonoBehaviour
    {
        [SerializeField] private bool receiveHands = true;
        [SerializeField] private bool receiveGaze = true;

        public SoraGestureUnityEvent onGesture = new SoraGestureUnityEvent();
        public SoraPointingUnityEvent onPointing = new SoraPointingUnityEvent();
        [Tooltip("Raised when what the user looks at changes (a different plane, object, anchor or nothing).")]
        public SoraTargetUnityEvent onGazeTargetChanged = new SoraTargetUnityEvent();
        [Tooltip("Every gaze update (latest-wins, at most once a frame).")]
        public SoraGazeUnityEvent onGaze = new SoraGazeUnityEvent();
        public SoraFixationUnityEvent onFixation = new SoraFixationUnityEvent();
        public SoraInteractionUnityEvent onInteraction = new SoraInteractionUnityEvent();
        [Tooltip("The tracked hands (latest-wins, at most once a frame).")]
        public SoraHandsUnityEvent onHands = new SoraHandsUnityEvent();

        private ManagedStream _stream;
        private readonly object _latestLock = new object();
        private Proto.HandsUpdate _latestHands;
        private Proto.GazeUpdate _latestGaze;
        private SoraTarget _gazeTarget;

        /// <summary>The latest gaze (main thread).</summary>
        public SoraGaze LatestGaze { get; private set; }
        public SoraHand[] LatestHands { get; private set; }

        private void OnEnable()
        {
            if (_stream != null)
            {
                _stream.Start();
                return;
            }
            _stream = SoraChannelHost.GetOrCreate().StartStream("perception", Watch);
        }

        private void OnDisable()
        {
            if (_stream != null) _stream.Stop();
        }

        private void OnDestroy()
        {
            if (SoraChannelHost.Instance != null) SoraChannelHost.Instance.StopStream(_stream);
        }

        private void Update()
        {
            Proto.HandsUpdate hands;
            Proto.GazeUpdate gaze;
            lock (_latestLock)
            {
                hands = _latestHands;
                gaze = _latestGaze;
                _latestHands = null;
                _latestGaze = null;
            }
            if (hands != null)
            {
                LatestHands = ToHands(hands);
                onHands.Invoke(LatestHands);
            }
            if (gaze != null)
            {
                LatestGaze = ToGaze(gaze);
                onGaze.Invoke(LatestGaze);
                if (!LatestGaze.Target.SameAs(_gazeTarget))
                {
                    _gazeTarget = LatestGaze.Target;
                    onGazeTargetChanged.Invoke(_gazeTarget);
                }
            }
        }

        private async Task Watch(ManagedStream stream, CancellationToken ct)
        {
            SoraChannelHost host = SoraChannelHost.Instance;
            string sessionId = await host.GetSessionIdAsync(ct).ConfigureAwait(false);
            var request = new Proto.WatchPerceptionRequest
            {
                SessionId = sessionId,
                ExcludeHands = !receiveHands,
                ExcludeGaze = !receiveGaze,
            };
            if (stream.Resume.ResumeFrom.HasValue) request.ResumeFrom = SoraFrames.ToProto(stream.Resume.ResumeFrom.Value);
            using (var call = host.Perception.WatchPerception(request, host.CallOptions(ct)))
            {
                while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                {
                    Proto.WatchPerceptionResponse m = call.ResponseStream.Current;
                    switch (m.ItemCase)
                    {
                        case Proto.WatchPerceptionResponse.ItemOneofCase.Hands:
                            // Latest-wins items carry the latest event position but are not events themselves.
                            stream.Delivered(null);
                            lock (_latestLock) _latestHands = m.Hands;
                            break;
                        case Proto.WatchPerceptionResponse.ItemOneofCase.Gaze:
                            stream.Delivered(null);
                            lock (_latestLock) _latestGaze = m.Gaze;
                            break;
                        default:
                            stream.Delivered(SoraFrames.ToCore(m.Position));
                            host.RunOnMainThread(() => RaiseEvent(m));
                            break;
                    }
                }
            }
        }

        private void RaiseEvent(Proto.WatchPerceptionResponse m)
        {
            switch (m.ItemCase)
            {
                case Proto.WatchPerceptionResponse.ItemOneofCase.Gesture:
                    Proto.GestureEvent g = m.Gesture;
                    onGesture.Invoke(new SoraGestureEvent
                    {
                        HandId = g.HandId,
                        Handedness = g.Handedness,
                        Gesture = g.Gesture,
                        Phase = g.Phase,
                        Confidence = g.Confidence,
                        Strength = g.Strength,
                        Displacement = SoraFrames.PointToUnity(g.DisplacementM),
                        StartTimeS = g.StartTimeS,
                        TimeS = g.TimeS,
                    });
                    break;
                case Proto.WatchPerceptionResponse.ItemOneofCase.Pointing:
                    Proto.PointingEvent p = m.Pointing;
                    onPointing.Invoke(new SoraPointingEvent
                    {
                        HandId = p.HandId,
                        Phase = p.Phase,
                        Ray = ToRay(p.RayWorld),
                        Target = SoraTarget.From(p.Target),
                        TimeS = p.TimeS,
                    });
                    break;
                case Proto.WatchPerceptionResponse.ItemOneofCase.Fixation:
                    Proto.FixationEvent f = m.Fixation;
                    onFixation.Invoke(new SoraFixationEvent
                    {
                        Phase = f.Phase,
                        Target = SoraTarget.From(f.Target),
                        StartTimeS = f.StartTimeS,
                        DurationS = f.DurationS,
                        Source = f.Source,
                    });
                    break;
                case Proto.WatchPerceptionResponse.ItemOneofCase.Interaction:
                    Proto.InteractionEvent i = m.Interaction;
                    onInteraction.Invoke(new SoraInteractionEvent
                    {
                        HandId = i.HandId,
                        Interaction = i.Interaction,
                        Phase = i.Phase,
                        ObjectId = i.ObjectId,
                        DistanceM = i.DistanceM,
                        TimeS = i.TimeS,
                    });
                    break;
            }
        }

        private static Ray ToRay(Proto.Ray r)
        {
            if (r == null) return new Ray(Vector3.zero, Vector3.forward);
            return new Ray(SoraFrames.PointToUnity(r.OriginM), SoraFrames.PointToUnity(r.Direction));
        }

        private static SoraGaze ToGaze(Proto.GazeUpdate g)
        {
            return new SoraGaze
            {
                Source = g.Source,
                Ray = ToRay(g.GazeWorld),
                Confidence = g.Confidence,
                Target = SoraTarget.From(g.Target),
                DwellS = g.DwellS,
                Fixating = g.Fixating,
                TimeS = g.CaptureTimeS,
            };
        }

        private static SoraHand[] ToHands(Proto.HandsUpdate u)
        {
            var hands = new SoraHand[u.Hands.Count];
            for (int h = 0; h < hands.Length; h++)
            {
                Proto.Hand src = u.Hands[h];
                var landmarks = new Vector3[src.LandmarksWorldM.Count];
                for (int i = 0; i < landmarks.Length; i++) landmarks[i] = SoraFrames.PointToUnity(src.LandmarksWorldM[i]);
                hands[h] = new SoraHand
                {
                    HandId = src.HandId,
                    Handedness = src.Handedness,
                    Source = src.Source,
                    Confidence = src.Confidence,
                    Gesture = src.Gesture,
                    PinchStrength = src.PinchStrength,
                    Landmarks = landmarks,
                    PointingRay = ToRay(src.PointingRayWorld),
                };
            }
            return hands;
        }
    }
}
