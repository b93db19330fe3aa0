using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Cysharp.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;
using Sora.Core;
using UnityEngine;
using UnityEngine.Events;
using Proto = Sora.V1;

namespace Sora.Unity
{
    public enum SoraConnectionState
    {
        Disconnected,
        Connecting,
        Connected,
        Reconnecting,
        Failed,
    }

    [Serializable]
    public sealed class SoraConnectionStateEvent : UnityEvent<SoraConnectionState>
    {
    }

    [Serializable]
    public sealed class SoraStringEvent : UnityEvent<string>
    {
    }

    /// <summary>
    /// The one gRPC channel of the app: a MonoBehaviour that survives scene loads, owns the
    /// session, keeps every stream open (reconnecting with backoff and resuming each from its
    /// last position), marshals stream callbacks to the main thread, and shuts the channel down
    /// on quit. Transport: Grpc.Net.Client over Cysharp's YetAnotherHttpHandler (HTTP/2 on
    /// Android/Quest, iOS and desktop).
    /// </summary>
    [DefaultExecutionOrder(-1000)]
    [DisallowMultipleComponent]
    [AddComponentMenu("Sora/Sora Channel Host")]
    public sealed class SoraChannelHost : MonoBehaviour
    {
        [Header("Server")]
        [Tooltip("http://host:50051 for HTTP/2 over cleartext on a LAN; https://host for TLS.")]
        [SerializeField] private string serverAddress = "http://127.0.0.1:50051";
        [Tooltip("PEM root certificate(s) of a private CA (TLS only); empty for the built-in roots.")]
        [SerializeField] private TextAsset rootCertificates;
        [Tooltip("Sent as 'authorization: Bearer <key>' when set.")]
        [SerializeField] private string apiKey = "";
        [SerializeField] private bool connectOnStart = true;

        [Header("Session")]
        [Tooltip("Join this session instead of creating one.")]
        [SerializeField] private string existingSessionId = "";
        [SerializeField] private string displayName = "Unity";
        [SerializeField] private string userId = "";
        [SerializeField] private string spaceId = "";
        [Tooltip("Client: every camera frame carries the device's tracked pose. Server odometry: depth cameras without tracking.")]
        [SerializeField] private Proto.PoseSource poseSource = Proto.PoseSource.Client;
        [Tooltip("TSDF voxel size in metres; 0 for the server default.")]
        [SerializeField] private float voxelSizeM = 0f;

        [Header("Main thread")]
        [Tooltip("Milliseconds per frame spent applying stream results (mesh chunks, events).")]
        [SerializeField] private float mainThreadBudgetMs = 4f;

        [Header("Events")]
        public SoraConnectionStateEvent onStateChanged = new SoraConnectionStateEvent();
        public SoraStringEvent onSessionReady = new SoraStringEvent();

        private readonly MainThreadQueue _mainThread = new MainThreadQueue();
        private readonly List<ManagedStream> _streams = new List<ManagedStream>();
        private readonly List<ManagedStream> _pausedStreams = new List<ManagedStream>();
        private readonly object _lock = new object();
        private GrpcChannel _channel;
        private Metadata _headers = new Metadata();
        // Completes when the session is open; streams started before Connect simply wait on it.
        private TaskCompletionSource<string> _session = NewSessionSource();
        private CancellationTokenSource _lifetime = new CancellationTokenSource();
        private SoraConnectionState _state = SoraConnectionState.Disconnected;

        /// <summary>The host of the running app (null before Awake and after shutdown).</summary>
        public static SoraChannelHost Instance { get; private set; }

        public SoraConnectionState State { get { return _state; } }

        /// <summary>Connect with the inspector's options in Start (set before the host is enabled to change it).</summary>
        public bool ConnectOnStart
        {
            get { return connectOnStart; }
            set { connectOnStart = value; }
        }
        public SoraClientOptions Options { get; private set; }
        /// <summary>The session ID once created or joined; null before.</summary>
        public string SessionId { get; private set; }
        public MainThreadQueue MainThread { get { return _mainThread; } }

        public Proto.SessionService.SessionServiceClient Sessions { get; private set; }
        public Proto.SensorService.SensorServiceClient Sensors { get; private set; }
        public Proto.SceneService.SceneServiceClient Scene { get; private set; }
        public Proto.PerceptionService.PerceptionServiceClient Perception { get; private set; }
        public Proto.AvatarService.AvatarServiceClient Avatar { get; private set; }

        /// <summary>The host in the scene, or a new one on its own GameObject.</summary>
        public static SoraChannelHost GetOrCreate()
        {
            if (Instance != null) return Instance;
            var existing = FindObjectOfType<SoraChannelHost>();
            if (existing != null) return existing;
            return new GameObject("Sora Channel Host").AddComponent<SoraChannelHost>();
        }

        private void Awake()
        {
            if (Instance != null && Instance != this)
            {
                // One host per app: a second one (a scene that also has one) gives way.
                Destroy(gameObject);
                return;
            }
            Instance = this;
            DontDestroyOnLoad(gameObject);
            _mainThread.Error += e => Debug.LogException(e);
            if (Options == null) Options = BuildInspectorOptions();
        }

        private void Start()
        {
            if (connectOnStart && _channel == null) Connect(Options ?? BuildInspectorOptions());
        }

        private void Update()
        {
            _mainThread.Drain(int.MaxValue, mainThreadBudgetMs);
        }

        private void OnApplicationPause(bool paused)
        {
            // Mobile OSes freeze sockets in the background; close the streams cleanly and resume
            // each from its position when the app returns.
            lock (_lock)
            {
                if (paused)
                {
                    _pausedStreams.Clear();
                    foreach (ManagedStream s in _streams)
                    {
                        if (!s.IsRunning) continue;
                        _pausedStreams.Add(s);
                        s.Stop();
                    }
                }
                else
                {
                    foreach (ManagedStream s in _pausedStreams) s.Start();
                    _pausedStreams.Clear();
                }
            }
        }

        private void OnApplicationQuit() { Shutdown(); }

        private void OnDestroy()
        {
            if (Instance == this) Shutdown();
        }

        /// <summary>Options from the inspector fields.</summary>
        public SoraClientOptions BuildInspectorOptions()
        {
            var headers = new Dictionary<string, string>();
            if (!string.IsNullOrEmpty(apiKey)) headers["authorization"] = "Bearer " + apiKey;
            return new SoraClientOptions(serverAddress, rootCertificates != null ? rootCertificates.text : null, headers);
        }

        /// <summary>(Re)creates the channel and the session; streams that were running restart on the new channel.</summary>
        public void Connect(SoraClientOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            List<ManagedStream> running;
            lock (_lock)
            {
                running = _streams.FindAll(s => s.IsRunning);
                foreach (ManagedStream s in running) s.Stop();
            }
            DisposeChannel();
            Options = options;
            _lifetime.Cancel();  // a session still being opened on the old channel gives up
            _lifetime = new CancellationTokenSource();
            _headers = new Metadata();
            foreach (KeyValuePair<string, string> h in options.Headers) _headers.Add(h.Key, h.Value);

            var handler = new YetAnotherHttpHandler
            {
                // h2c needs HTTP/2 from the first byte; with TLS, ALPN negotiates it.
                Http2Only = !options.UseTls,
                Http2KeepAliveInterval = options.KeepAliveInterval,
                Http2KeepAliveTimeout = TimeSpan.FromSeconds(5),
                Http2KeepAliveWhileIdle = true,
            };
            if (!string.IsNullOrEmpty(options.RootCertificatesPem)) handler.RootCertificates = options.RootCertificatesPem;
            _channel = GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = options.MaxReceiveMessageBytes,
            });
            Sessions = new Proto.SessionService.SessionServiceClient(_channel);
            Sensors = new Proto.SensorService.SensorServiceClient(_channel);
            Scene = new Proto.SceneService.SceneServiceClient(_channel);
            Perception = new Proto.PerceptionService.PerceptionServiceClient(_channel);
            Avatar = new Proto.AvatarService.AvatarServiceClient(_channel);

            SetState(SoraConnectionState.Connecting);
            SessionId = null;
            // Waiters on a previous connection's session move on to this one (see GetSessionIdAsync).
            TaskCompletionSource<string> previous = _session;
            _session = NewSessionSource();
            previous.TrySetCanceled();
            TaskCompletionSource<string> session = _session;
            CancellationToken lifetime = _lifetime.Token;
            Task.Run(async () =>
            {
                try
                {
                    session.TrySetResult(await OpenSession(lifetime).ConfigureAwait(false));
                }
                catch (OperationCanceledException)
                {
                    session.TrySetCanceled();  // replaced by a newer Connect, or shut down
                }
                catch (Exception e)
                {
                    Debug.LogError("[Sora] " + e.Message);
                    session.TrySetException(e);
                }
            });
            foreach (ManagedStream s in running) s.Start();
        }

        /// <summary>Completes with the session ID once the session exists (created or joined); waits for Connect.</summary>
        public async Task<string> GetSessionIdAsync(CancellationToken ct = default(CancellationToken))
        {
            while (true)
            {
                Task<string> session = _session.Task;
                var cancelled = new TaskCompletionSource<bool>();
                using (ct.Register(() => cancelled.TrySetResult(true)))
                {
                    if (await Task.WhenAny(session, cancelled.Task).ConfigureAwait(false) != session) throw new OperationCanceledException(ct);
                }
                if (session.IsCanceled)
                {
                    // Replaced by a newer Connect: wait for that one. Otherwise the host shut down.
                    if (_session.Task != session) continue;
                    throw new OperationCanceledException("the Sora channel host shut down");
                }
                return await session.ConfigureAwait(false);
            }
        }

        private static TaskCompletionSource<string> NewSessionSource()
        {
            return new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        /// <summary>Call options with the configured headers.</summary>
        public CallOptions CallOptions(CancellationToken ct, DateTime? deadline = null)
        {
            return new CallOptions(_headers, deadline, ct);
        }

        /// <summary>
        /// Registers and starts a long-lived call. <paramref name="attempt"/> opens the call (reading
        /// <see cref="ManagedStream.Resume"/> for the position), reads until it ends, and reports each
        /// message through <see cref="ManagedStream.Delivered"/>. <paramref name="endless"/>: the call
        /// only ends on error (watches).
        /// </summary>
        public ManagedStream StartStream(string name, Func<ManagedStream, CancellationToken, Task> attempt, bool endless = true,
                                         StreamPosition? resumeFrom = null)
        {
            if (Options == null) Options = BuildInspectorOptions();
            var stream = new ManagedStream(this, name, attempt, endless, resumeFrom);
            lock (_lock) _streams.Add(stream);
            stream.Start();
            return stream;
        }

        /// <summary>Stops a stream and forgets it.</summary>
        public void StopStream(ManagedStream stream)
        {
            if (stream == null) return;
            stream.Stop();
            lock (_lock)
            {
                _streams.Remove(stream);
                _pausedStreams.Remove(stream);
            }
        }

        /// <summary>Runs <paramref name="action"/> on the main thread (next Update), from any thread.</summary>
        public void RunOnMainThread(Action action) { _mainThread.Post(action); }

        internal void NotifyHealthy()
        {
            if (_state != SoraConnectionState.Connected && _state != SoraConnectionState.Failed) SetState(SoraConnectionState.Connected);
        }

        internal void OnStreamEnded(ManagedStream stream, RetryDecision decision)
        {
            ManagedStream.LogDecision(stream, decision);
            if (decision.Action == StreamAction.Resume || decision.Action == StreamAction.StartFresh) SetState(SoraConnectionState.Reconnecting);
        }

        private async Task<string> OpenSession(CancellationToken ct)
        {
            var retry = new ResumableStreamState(Options.Backoff);
            while (true)
            {
                RpcCode code;
                try
                {
                    string id;
                    if (!string.IsNullOrEmpty(existingSessionId))
                    {
                        var got = await Sessions.GetSessionAsync(new Proto.GetSessionRequest { SessionId = existingSessionId },
                                                                 CallOptions(ct, DateTime.UtcNow.AddSeconds(15))).ResponseAsync.ConfigureAwait(false);
                        id = got.Session.SessionId;
                    }
                    else
                    {
                        var request = new Proto.CreateSessionRequest
                        {
                            DisplayName = displayName,
                            UserId = userId,
                            SpaceId = spaceId,
                            Options = new Proto.SessionOptions { PoseSource = poseSource, VoxelSizeM = voxelSizeM },
                        };
                        var created = await Sessions.CreateSessionAsync(request, CallOptions(ct, DateTime.UtcNow.AddSeconds(15))).ResponseAsync.ConfigureAwait(false);
                        id = created.Session.SessionId;
                    }
                    SessionId = id;
                    SetState(SoraConnectionState.Connected);
                    RunOnMainThread(() => onSessionReady.Invoke(id));
                    return id;
                }
                catch (RpcException e)
                {
                    code = (RpcCode)(int)e.StatusCode;
                    Debug.LogWarning("[Sora] session: " + e.Status.Detail + " (" + e.StatusCode + ")");
                }
                catch (OperationCanceledException)
                {
                    throw;
                }
                catch (Exception e)
                {
                    code = RpcCode.Unavailable;
                    Debug.LogWarning("[Sora] session: " + e.Message);
                }
                RetryDecision d = retry.OnEnded(code, ct.IsCancellationRequested, false);
                if (d.Action != StreamAction.Resume && d.Action != StreamAction.StartFresh)
                {
                    SetState(SoraConnectionState.Failed);
                    throw new InvalidOperationException("Sora session could not be opened: " + d.Reason);
                }
                SetState(SoraConnectionState.Reconnecting);
                await Task.Delay(d.Delay, ct).ConfigureAwait(false);
            }
        }

        private void SetState(SoraConnectionState state)
        {
            if (_state == state) return;
            _state = state;
            RunOnMainThread(() => onStateChanged.Invoke(state));
        }

        private void Shutdown()
        {
            lock (_lock)
            {
                foreach (ManagedStream s in _streams) s.Stop();
                _streams.Clear();
                _pausedStreams.Clear();
            }
            if (_lifetime != null) _lifetime.Cancel();
            DisposeChannel();
            _mainThread.Clear();
            SetStateSilently(SoraConnectionState.Disconnected);
            if (Instance == this) Instance = null;
        }

        private void SetStateSilently(SoraConnectionState state) { _state = state; }

        private void DisposeChannel()
        {
            if (_channel == null) return;
            try
            {
                _channel.Dispose();
            }
            catch (Exception e)
            {
                Debug.LogWarning("[Sora] channel shutdown: " + e.Message);
            }
            _channel = null;
        }
    }
}
