using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Google.Protobuf;
using Sora.Core;
using UnityEngine;
using UnityEngine.Events;
using Debug = UnityEngine.Debug;
using Proto = Sora.V1;

namespace Sora.Unity
{
    [Serializable]
    public struct SoraTurnEnd
    {
        public string TurnId;
        public Proto.TurnEndReason Reason;
        public string SpokenText;
        public double SpokenS;
        public float SpokenFraction;
        public string Detail;
    }

    [Serializable]
    public struct SoraEmotionCue
    {
        public Proto.Emotion Emotion;
        public float Intensity;
    }

    [Serializable]
    public struct SoraTranscript
    {
        public string Text;
        public bool IsFinal;
        public float Confidence;
    }

    [Serializable] public sealed class SoraTurnEndEvent : UnityEvent<SoraTurnEnd> { }
    [Serializable] public sealed class SoraEmotionEvent : UnityEvent<SoraEmotionCue> { }
    [Serializable] public sealed class SoraBodyGestureEvent : UnityEvent<Proto.BodyGesture> { }
    [Serializable] public sealed class SoraTranscriptEvent : UnityEvent<SoraTranscript> { }

    /// <summary>
    /// Drives an avatar from AvatarService.Converse: plays the streamed speech through an
    /// AudioSource without gaps, moves the face's viseme blendshapes (through a
    /// <see cref="VisemeMapping"/>) in step with the audio actually played, turns look-at cues
    /// into a look target, and raises text, emotion and body-cue events on the main thread.
    /// Send turns with <see cref="Say"/>; <see cref="Interrupt"/> stops the current answer.
    /// The conversation resumes from its last event after a disconnect.
    /// </summary>
    [AddComponentMenu("Sora/Sora Avatar Controller")]
    public sealed class SoraAvatarController : MonoBehaviour
    {
        [Header("Conversation")]
        [SerializeField] private string avatarName = "Sora";
        [TextArea] [SerializeField] private string persona = "";
        [Tooltip("espeak-ng voice name on the server.")]
        [SerializeField] private string voice = "en-us";
        [SerializeField] private string language = "";
        [SerializeField] private Proto.DialogueEngine engine = Proto.DialogueEngine.Embedded;
        [SerializeField] private Proto.ResponseStyle style = Proto.ResponseStyle.Normal;
        [SerializeField] private bool speech = true;

        [Header("Voice")]
        [SerializeField] private AudioSource voiceSource;
        [Tooltip("Audio held back before a turn starts playing, to ride out network jitter.")]
        [SerializeField] private float prebufferS = 0.15f;
        [Tooltip("Added to the estimated output latency when timing the mouth; raise it if lips lead the sound.")]
        [SerializeField] private float lipSyncOffsetS = 0.0f;

        [Header("Face")]
        [SerializeField] private SkinnedMeshRenderer face;
        [SerializeField] private VisemeMapping visemeMapping;
        [Tooltip("Crossfade between mouth shapes, seconds.")]
        [Min(0.01f)] [SerializeField] private float visemeBlendS = 0.06f;

        [Header("Look")]
        [Tooltip("Moved to what the avatar looks at (wire it to a look-at / aim constraint).")]
        [SerializeField] private Transform lookTarget;
        [SerializeField] private float lookSpeed = 6f;

        [Header("Events")]
        public SoraStringEvent onTurnStarted = new SoraStringEvent();
        public SoraStringEvent onText = new SoraStringEvent();
        public SoraTranscriptEvent onTranscript = new SoraTranscriptEvent();
        public SoraTurnEndEvent onTurnEnded = new SoraTurnEndEvent();
        public SoraEmotionEvent onEmotion = new SoraEmotionEvent();
        public SoraBodyGestureEvent onBodyGesture = new SoraBodyGestureEvent();
        public SoraTargetUnityEvent onLookAt = new SoraTargetUnityEvent();
        public SoraTargetUnityEvent onPointAt = new SoraTargetUnityEvent();

        private static readonly Stopwatch Wall = Stopwatch.StartNew();

        // Shared between the stream thread, the audio thread (the buffer locks itself) and the main thread.
        private readonly object _sync = new object();
        private VisemeScheduler _visemes = new VisemeScheduler();
        private readonly CueTimeline<Proto.ConverseResponse> _cues = new CueTimeline<Proto.ConverseResponse>();
        private readonly TurnClock _clock = new TurnClock();
        private readonly ConcurrentQueue<Proto.ConverseRequest> _outbox = new ConcurrentQueue<Proto.ConverseRequest>();
        private readonly SemaphoreSlim _outboxSignal = new SemaphoreSlim(0);
        private StreamingAudioBuffer _audio;
        private string _turnId = "";
        private string _interruptedTurnId = "";
        private double _outputLatencyS;
        private int _outputRate;

        private readonly float[] _weights = new float[VisemeScheduler.SlotCount];
        private readonly Dictionary<string, float> _arkit = new Dictionary<string, float>();
        private Vector3 _lookGoal;
        private bool _hasLookGoal;
        private ManagedStream _stream;
        private AudioClip _clip;

        /// <summary>Whether the avatar is producing a turn (audio queued or playing).</summary>
        public bool IsSpeaking { get { return _audio != null && (_audio.IsPlaying || _audio.BufferedS > 0); } }
        public string CurrentTurnId { get { lock (_sync) return _turnId; } }
        /// <summary>Viseme weights of this frame, indexed by (int)Sora.Core.Viseme (main thread, read-only).</summary>
        public float[] CurrentVisemeWeights { get { return _weights; } }
        /// <summary>ARKit mouth blendshape weights of this frame (main thread, read-only).</summary>
        public IReadOnlyDictionary<string, float> CurrentBlendshapes { get { return _arkit; } }
        /// <summary>Times the voice ran dry mid-turn (network starvation).</summary>
        public int AudioUnderruns { get { return _audio == null ? 0 : _audio.Underruns; } }

        private void Awake()
        {
            if (voiceSource == null) voiceSource = GetComponent<AudioSource>();
            if (voiceSource == null) voiceSource = gameObject.AddComponent<AudioSource>();
            if (visemeMapping == null) visemeMapping = VisemeMapping.CreateOculusDefaults();
            _visemes = new VisemeScheduler(visemeBlendS);
        }

        private void Start()
        {
            int rate = AudioSettings.outputSampleRate;
            _outputRate = rate;
            _audio = new StreamingAudioBuffer(rate, prebufferS);
            int bufferLength, bufferCount;
            AudioSettings.GetDSPBufferSize(out bufferLength, out bufferCount);
            // Samples leave the buffer this long before they are heard: the DSP buffers plus the streamed clip's read-ahead.
            _outputLatencyS = (double)bufferLength * bufferCount / rate + lipSyncOffsetS;
            // A looping streamed clip whose reader pulls from the buffer: silence when nothing is due.
            _clip = AudioClip.Create("Sora voice", rate, 1, rate, true, OnAudioRead);
            voiceSource.clip = _clip;
            voiceSource.loop = true;
            voiceSource.Play();
            _stream = SoraChannelHost.GetOrCreate().StartStream("conversation", Converse);
        }

        private void OnDestroy()
        {
            if (SoraChannelHost.Instance != null) SoraChannelHost.Instance.StopStream(_stream);
            if (voiceSource != null) voiceSource.Stop();
        }

        /// <summary>Sends a user turn as text (queued while disconnected).</summary>
        public void Say(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) return;
            Send(new Proto.ConverseRequest { Text = new Proto.UserText { Text = text } });
        }

        /// <summary>Sends user speech (16-bit mono PCM); set <paramref name="endOfUtterance"/> on the last chunk.</summary>
        public void SendAudio(byte[] pcm16le, int sampleRateHz, bool endOfUtterance)
        {
            Send(new Proto.ConverseRequest
            {
                Audio = new Proto.UserAudio { SampleRateHz = (uint)sampleRateHz, Pcm16 = ByteString.CopyFrom(pcm16le), EndOfUtterance = endOfUtterance },
            });
        }

        /// <summary>Stops the current answer now: the audio stops here and the server ends the turn as interrupted.</summary>
        public void Interrupt(string reason = "user")
        {
            if (_audio != null) _audio.BeginTurn();
            lock (_sync)
            {
                // What is still in flight for this turn must not play after the interrupt.
                _interruptedTurnId = _turnId;
                _visemes.BeginTurn();
                _cues.Clear();
            }
            Send(new Proto.ConverseRequest { Interrupt = new Proto.Interrupt { Reason = reason } });
        }

        private void Send(Proto.ConverseRequest request)
        {
            _outbox.Enqueue(request);
            _outboxSignal.Release();
        }

        // ---- audio thread ----

        private void OnAudioRead(float[] data)
        {
            if (_audio != null) _audio.Read(data, 0, data.Length);
            else Array.Clear(data, 0, data.Length);
        }

        // ---- main thread ----

        private void LateUpdate()
        {
            if (_audio == null) return;
            double heardS = Math.Max(0.0, _audio.PlayedS - _outputLatencyS);
            List<Proto.ConverseResponse> due;
            lock (_sync)
            {
                double t = _clock.Now(Wall.Elapsed.TotalSeconds, heardS);
                _visemes.Evaluate(t, _weights);
                _visemes.EvaluateBlendshapes(t, _arkit);
                due = _cues.TakeDue(t);
            }
            if (visemeMapping != null) visemeMapping.Apply(face, _weights, _arkit);
            foreach (Proto.ConverseResponse cue in due) ApplyCue(cue);
            if (lookTarget != null && _hasLookGoal)
            {
                lookTarget.position = Vector3.Lerp(lookTarget.position, _lookGoal, 1f - Mathf.Exp(-lookSpeed * Time.deltaTime));
            }
        }

        private void ApplyCue(Proto.ConverseResponse cue)
        {
            switch (cue.EventCase)
            {
                case Proto.ConverseResponse.EventOneofCase.Emotion:
                    onEmotion.Invoke(new SoraEmotionCue { Emotion = cue.Emotion.Emotion, Intensity = cue.Emotion.Intensity });
                    break;
                case Proto.ConverseResponse.EventOneofCase.Body:
                    onBodyGesture.Invoke(cue.Body.Gesture);
                    break;
                case Proto.ConverseResponse.EventOneofCase.LookAt:
                    SoraTarget look = SoraTarget.From(cue.LookAt.Target);
                    // The user is wherever the user's head is now, not where the server last saw it.
                    if (look.Kind == Proto.TargetKind.User && Camera.main != null) look.Point = Camera.main.transform.position;
                    _lookGoal = look.Point;
                    _hasLookGoal = true;
                    onLookAt.Invoke(look);
                    break;
                case Proto.ConverseResponse.EventOneofCase.PointAt:
                    onPointAt.Invoke(SoraTarget.From(cue.PointAt.Target));
                    break;
            }
        }

        // ---- stream thread ----

        private async Task Converse(ManagedStream stream, CancellationToken ct)
        {
            SoraChannelHost host = SoraChannelHost.Instance;
            string sessionId = await host.GetSessionIdAsync(ct).ConfigureAwait(false);
            var config = new Proto.ConversationConfig
            {
                SessionId = sessionId,
                Persona = persona,
                AvatarName = avatarName,
                Voice = voice,
                Language = language,
                Engine = engine,
                Style = style,
                SpeechEnabled = speech,
                OutputSampleRateHz = (uint)_outputRate,  // resampled on the server, not here
            };
            if (stream.Resume.ResumeFrom.HasValue) config.ResumeFrom = SoraFrames.ToProto(stream.Resume.ResumeFrom.Value);

            using (var call = host.Avatar.Converse(host.CallOptions(ct)))
            using (var writerStop = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                await call.RequestStream.WriteAsync(new Proto.ConverseRequest { Config = config }).ConfigureAwait(false);
                Task writer = PumpOutbox(call.RequestStream, writerStop.Token);
                try
                {
                    while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                    {
                        Proto.ConverseResponse ev = call.ResponseStream.Current;
                        stream.Delivered(SoraFrames.ToCore(ev.Position));
                        Handle(ev);
                    }
                }
                finally
                {
                    writerStop.Cancel();
                    try
                    {
                        await writer.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                    catch (Exception e)
                    {
                        Debug.LogWarning("[Sora] conversation writer: " + e.Message);
                    }
                }
            }
        }

        // The only writer after the config (gRPC allows one write at a time). A turn leaves the
        // outbox only once written, so turns said while disconnected go out after the reconnect.
        private async Task PumpOutbox(Grpc.Core.IClientStreamWriter<Proto.ConverseRequest> writer, CancellationToken ct)
        {
            while (true)
            {
                Proto.ConverseRequest next;
                while (_outbox.TryPeek(out next))
                {
                    await writer.WriteAsync(next).ConfigureAwait(false);
                    _outbox.TryDequeue(out next);
                }
                await _outboxSignal.WaitAsync(ct).ConfigureAwait(false);
            }
        }

        private void Handle(Proto.ConverseResponse ev)
        {
            bool newTurn, interrupted;
            lock (_sync)
            {
                interrupted = ev.TurnId == _interruptedTurnId && !string.IsNullOrEmpty(ev.TurnId);
                newTurn = !string.IsNullOrEmpty(ev.TurnId) && ev.TurnId != _turnId;
                if (newTurn)
                {
                    _turnId = ev.TurnId;
                    _visemes.BeginTurn();
                    _cues.Clear();
                    _clock.BeginTurn(Wall.Elapsed.TotalSeconds);
                }
            }
            SoraChannelHost host = SoraChannelHost.Instance;
            if (newTurn)
            {
                _audio.BeginTurn();
                string id = ev.TurnId;
                host.RunOnMainThread(() => onTurnStarted.Invoke(id));
            }
            if (interrupted && ev.EventCase != Proto.ConverseResponse.EventOneofCase.TurnEnd) return;
            switch (ev.EventCase)
            {
                case Proto.ConverseResponse.EventOneofCase.Transcript:
                    var transcript = new SoraTranscript { Text = ev.Transcript.Text, IsFinal = ev.Transcript.IsFinal, Confidence = ev.Transcript.Confidence };
                    host.RunOnMainThread(() => onTranscript.Invoke(transcript));
                    break;
                case Proto.ConverseResponse.EventOneofCase.TextDelta:
                    string text = ev.TextDelta.Text;
                    host.RunOnMainThread(() => onText.Invoke(text));
                    break;
                case Proto.ConverseResponse.EventOneofCase.Audio:
                    _audio.Enqueue(ev.Audio.Pcm16.ToByteArray(), (int)ev.Audio.SampleRateHz, ev.Audio.StartS);
                    lock (_sync) _clock.OnAudio();
                    break;
                case Proto.ConverseResponse.EventOneofCase.Visemes:
                    lock (_sync)
                    {
                        var keys = new List<VisemeKey>(ev.Visemes.Keys.Count);
                        foreach (Proto.VisemeKey k in ev.Visemes.Keys) keys.Add(new VisemeKey((Viseme)(int)k.Viseme, k.StartS, k.Weight));
                        _visemes.AddKeys(keys);
                        foreach (Proto.BlendshapeFrame f in ev.Visemes.Blendshapes)
                        {
                            var weights = new List<KeyValuePair<string, float>>(f.Weights.Count);
                            foreach (Proto.BlendshapeWeight w in f.Weights) weights.Add(new KeyValuePair<string, float>(w.Name, w.Weight));
                            _visemes.AddBlendshapeFrame(f.TimeS, weights);
                        }
                    }
                    break;
                case Proto.ConverseResponse.EventOneofCase.Emotion:
                    lock (_sync) _cues.Add(ev.Emotion.StartS, ev);
                    break;
                case Proto.ConverseResponse.EventOneofCase.LookAt:
                    lock (_sync) _cues.Add(ev.LookAt.StartS, ev);
                    break;
                case Proto.ConverseResponse.EventOneofCase.PointAt:
                    lock (_sync) _cues.Add(ev.PointAt.StartS, ev);
                    break;
                case Proto.ConverseResponse.EventOneofCase.Body:
                    lock (_sync) _cues.Add(ev.Body.StartS, ev);
                    break;
                case Proto.ConverseResponse.EventOneofCase.TurnEnd:
                    _audio.EndTurn();
                    var end = new SoraTurnEnd
                    {
                        TurnId = ev.TurnId,
                        Reason = ev.TurnEnd.Reason,
                        SpokenText = ev.TurnEnd.SpokenText,
                        SpokenS = ev.TurnEnd.SpokenS,
                        SpokenFraction = ev.TurnEnd.SpokenFraction,
                        Detail = ev.TurnEnd.Detail,
                    };
                    host.RunOnMainThread(() => onTurnEnded.Invoke(end));
                    break;
            }
        }

    }
}
