using System;
using System.Threading;
using System.Threading.Tasks;
using Grpc.Core;
using Sora.Core;
using UnityEngine;

namespace Sora.Unity
{
    /// <summary>Thrown by a stream's attempt to drop its position and start over with a fresh snapshot.</summary>
    public sealed class ResubscribeException : Exception
    {
        public ResubscribeException(string message) : base(message)
        {
        }
    }

    /// <summary>
    /// One long-lived call (scene, perception, conversation, sensors) kept open by the channel
    /// host: it is re-opened with backoff when it fails and resumes from the last position its
    /// attempt reported through <see cref="Delivered"/>. The attempt runs on the thread pool.
    /// </summary>
    public sealed class ManagedStream
    {
        private readonly SoraChannelHost _host;
        private readonly Func<ManagedStream, CancellationToken, Task> _attempt;
        private readonly bool _endless;
        private CancellationTokenSource _cts;
        private Task _loop;

        internal ManagedStream(SoraChannelHost host, string name, Func<ManagedStream, CancellationToken, Task> attempt,
                               bool endless, StreamPosition? resumeFrom)
        {
            _host = host;
            Name = name;
            _attempt = attempt;
            _endless = endless;
            Resume = new ResumableStreamState(host.Options.Backoff, null, resumeFrom);
        }

        public string Name { get; private set; }
        /// <summary>Position and backoff state; <see cref="ResumableStreamState.ResumeFrom"/> is what the next attempt sends.</summary>
        public ResumableStreamState Resume { get; private set; }
        public bool IsRunning { get { return _loop != null && !_loop.IsCompleted; } }
        public Exception LastError { get; private set; }

        /// <summary>Raised on the main thread when the stream gives up (an error retrying cannot fix).</summary>
        public event Action<Exception> Failed;

        public void Start()
        {
            // A loop that was told to stop may still be winding down; it exits on its own.
            if (IsRunning && _cts != null && !_cts.IsCancellationRequested) return;
            _cts = new CancellationTokenSource();
            CancellationToken ct = _cts.Token;
            // Task.Run: the loop and its awaits stay off Unity's main-thread synchronisation context.
            _loop = Task.Run(() => Loop(ct));
        }

        /// <summary>Cancels the call; the position is kept, so <see cref="Start"/> resumes.</summary>
        public void Stop()
        {
            if (_cts != null) _cts.Cancel();
        }

        /// <summary>Called by the attempt for every message; <paramref name="resumable"/> is its position when resuming from it is safe.</summary>
        public void Delivered(StreamPosition? resumable)
        {
            Resume.OnMessage(resumable);
            _host.NotifyHealthy();
        }

        private async Task Loop(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                RpcCode code;
                try
                {
                    await _attempt(this, ct).ConfigureAwait(false);
                    code = RpcCode.OK;
                }
                catch (RpcException e)
                {
                    code = (RpcCode)(int)e.StatusCode;
                    LastError = e;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    code = RpcCode.Cancelled;
                }
                catch (ResubscribeException e)
                {
                    Resume.ForgetPosition();
                    code = RpcCode.Unavailable;
                    LastError = e;
                }
                catch (Exception e)
                {
                    // Transport failures (HttpRequestException, IOException) and our own bugs: retry
                    // with backoff, and say so in the log.
                    code = RpcCode.Unknown;
                    LastError = e;
                }
                RetryDecision decision = Resume.OnEnded(code, ct.IsCancellationRequested, _endless);
                _host.OnStreamEnded(this, decision);
                if (decision.Action == StreamAction.Stop) return;
                if (decision.Action == StreamAction.Fail)
                {
                    Exception error = LastError;
                    _host.RunOnMainThread(() =>
                    {
                        Action<Exception> failed = Failed;
                        if (failed != null) failed(error);
                    });
                    return;
                }
                try
                {
                    await Task.Delay(decision.Delay, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public override string ToString() { return Name + (IsRunning ? " (running)" : " (stopped)"); }

        internal static void LogDecision(ManagedStream s, RetryDecision d)
        {
            if (d.Action == StreamAction.Stop) return;
            string error = s.LastError == null ? "" : ": " + s.LastError.Message;
            if (d.Action == StreamAction.Fail) Debug.LogError("[Sora] " + s.Name + " failed" + error);
            else Debug.LogWarning("[Sora] " + s.Name + " ended" + error + "; " + d);
        }
    }
}
