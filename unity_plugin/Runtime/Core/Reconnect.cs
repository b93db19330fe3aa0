// Reconnect-and-resume state of one long-lived stream: when to retry, how long to wait, and
// where to resume from. The Unity channel host runs one per stream.
using System;

namespace Sora.Core
{
    /// <summary>gRPC status codes, numbered as gRPC numbers them (so Grpc.Core.StatusCode casts directly).</summary>
    public enum RpcCode
    {
        OK = 0,
        Cancelled = 1,
        Unknown = 2,
        InvalidArgument = 3,
        DeadlineExceeded = 4,
        NotFound = 5,
        AlreadyExists = 6,
        PermissionDenied = 7,
        ResourceExhausted = 8,
        FailedPrecondition = 9,
        Aborted = 10,
        OutOfRange = 11,
        Unimplemented = 12,
        Internal = 13,
        Unavailable = 14,
        DataLoss = 15,
        Unauthenticated = 16,
    }

    /// <summary>What to do after a stream ended.</summary>
    public enum StreamAction
    {
        /// <summary>Open it again from <see cref="ResumableStreamState.ResumeFrom"/> after the delay.</summary>
        Resume,
        /// <summary>Open it again without a position (a fresh snapshot) after the delay.</summary>
        StartFresh,
        /// <summary>It ended on purpose (we cancelled, or the server finished it): do nothing.</summary>
        Stop,
        /// <summary>It cannot succeed by retrying (bad request, unknown session, auth): report the error.</summary>
        Fail,
    }

    public struct RetryDecision
    {
        public StreamAction Action;
        public TimeSpan Delay;
        public string Reason;

        public override string ToString() { return Action + " after " + Delay.TotalSeconds.ToString("F2") + " s (" + Reason + ")"; }
    }

    /// <summary>Exponential backoff with jitter. Immutable.</summary>
    public sealed class BackoffPolicy
    {
        public BackoffPolicy(TimeSpan initialDelay, TimeSpan maxDelay, double multiplier = 2.0, double jitter = 0.5,
                             int maxAttempts = int.MaxValue)
        {
            if (initialDelay < TimeSpan.Zero || maxDelay < initialDelay) throw new ArgumentException("need 0 <= initialDelay <= maxDelay");
            if (multiplier < 1.0) throw new ArgumentException("multiplier must be >= 1");
            if (jitter < 0.0 || jitter > 1.0) throw new ArgumentException("jitter must be in [0, 1]");
            if (maxAttempts < 1) throw new ArgumentException("maxAttempts must be >= 1");
            InitialDelay = initialDelay;
            MaxDelay = maxDelay;
            Multiplier = multiplier;
            Jitter = jitter;
            MaxAttempts = maxAttempts;
        }

        /// <summary>0.25 s doubling to 10 s, +-50 % jitter, retrying for ever (a headset may sleep for hours).</summary>
        public static readonly BackoffPolicy Default = new BackoffPolicy(TimeSpan.FromSeconds(0.25), TimeSpan.FromSeconds(10));

        public TimeSpan InitialDelay { get; private set; }
        public TimeSpan MaxDelay { get; private set; }
        public double Multiplier { get; private set; }
        public double Jitter { get; private set; }
        public int MaxAttempts { get; private set; }

        /// <summary>The wait before retry number <paramref name="attempt"/> (1 for the first), given a uniform random number in [0, 1).</summary>
        public TimeSpan DelayFor(int attempt, double random01)
        {
            double baseS = InitialDelay.TotalSeconds * Math.Pow(Multiplier, Math.Max(0, attempt - 1));
            baseS = Math.Min(baseS, MaxDelay.TotalSeconds);
            double factor = 1.0 - Jitter + 2.0 * Jitter * random01;
            return TimeSpan.FromSeconds(Math.Min(baseS * factor, MaxDelay.TotalSeconds));
        }
    }

    /// <summary>
    /// Reconnect-and-resume state of one stream (scene, perception, conversation). Call
    /// <see cref="OnMessage"/> for every message (with its position when it is resumable) and
    /// <see cref="OnEnded"/> when the call ends; reopen with <see cref="ResumeFrom"/> as told.
    /// </summary>
    public sealed class ResumableStreamState
    {
        private readonly BackoffPolicy _policy;
        private readonly Func<double> _random;
        private StreamPosition? _resumeFrom;

        /// <param name="random">Uniform [0, 1) source for jitter; injectable for tests.</param>
        public ResumableStreamState(BackoffPolicy policy, Func<double> random = null, StreamPosition? resumeFrom = null)
        {
            _policy = policy ?? BackoffPolicy.Default;
            if (random == null)
            {
                var rng = new Random();
                random = () => rng.NextDouble();
            }
            _random = random;
            _resumeFrom = resumeFrom;
        }

        /// <summary>Where the next subscription continues from; null for a fresh start.</summary>
        public StreamPosition? ResumeFrom { get { return _resumeFrom; } }
        /// <summary>Consecutive failures since the last message.</summary>
        public int Attempt { get; private set; }
        /// <summary>Re-openings so far.</summary>
        public int Reconnects { get; private set; }

        /// <summary>A message arrived: the connection works. <paramref name="resumable"/> is its position when resuming from it is safe.</summary>
        public void OnMessage(StreamPosition? resumable)
        {
            Attempt = 0;
            if (resumable.HasValue) _resumeFrom = resumable;
        }

        /// <summary>Drops the position: the next subscription gets a fresh snapshot.</summary>
        public void ForgetPosition() { _resumeFrom = null; }

        /// <param name="code">The status the call ended with.</param>
        /// <param name="cancelledByClient">We cancelled it (shutdown, component disabled).</param>
        /// <param name="endlessStream">Whether the stream only ends on error (watches); an OK end then means the server closed it for good.</param>
        public RetryDecision OnEnded(RpcCode code, bool cancelledByClient, bool endlessStream = true)
        {
            if (cancelledByClient) return Decide(StreamAction.Stop, TimeSpan.Zero, "cancelled by the client");
            switch (code)
            {
                case RpcCode.OK:
                    return Decide(StreamAction.Stop, TimeSpan.Zero, endlessStream ? "the server ended the stream" : "completed");
                case RpcCode.OutOfRange:
                    // The position is older than the history the server keeps.
                    ForgetPosition();
                    return Retry(StreamAction.StartFresh, "resume position no longer retained");
                case RpcCode.Unavailable:
                case RpcCode.ResourceExhausted:
                case RpcCode.DeadlineExceeded:
                case RpcCode.Aborted:
                case RpcCode.Cancelled:
                case RpcCode.Unknown:
                case RpcCode.Internal:
                    // Network loss, server restart or drain, a subscriber that fell behind, and the
                    // transport failures grpc-dotnet reports as Unknown/Internal.
                    return Retry(StreamAction.Resume, code.ToString());
                default:
                    return Decide(StreamAction.Fail, TimeSpan.Zero, code.ToString());
            }
        }

        private RetryDecision Retry(StreamAction action, string reason)
        {
            Attempt++;
            if (Attempt > _policy.MaxAttempts) return Decide(StreamAction.Fail, TimeSpan.Zero, reason + "; gave up after " + _policy.MaxAttempts + " attempts");
            Reconnects++;
            return Decide(action, _policy.DelayFor(Attempt, _random()), reason);
        }

        private static RetryDecision Decide(StreamAction action, TimeSpan delay, string reason)
        {
            return new RetryDecision { Action = action, Delay = delay, Reason = reason };
        }
    }
}
