using System;
using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class ResumableStreamStateTests
    {
        private static readonly BackoffPolicy Policy = new BackoffPolicy(TimeSpan.FromSeconds(0.25), TimeSpan.FromSeconds(4));

        // random = 0.5 is the jitter's midpoint: the delay is exactly the exponential step.
        private static ResumableStreamState State(StreamPosition? from = null, BackoffPolicy policy = null)
        {
            return new ResumableStreamState(policy ?? Policy, () => 0.5, from);
        }

        [Test]
        public void OnEnded_Should_ResumeWithGrowingDelays_When_ServerIsUnavailable()
        {
            var s = State(new StreamPosition(1, 7));
            double[] expected = { 0.25, 0.5, 1, 2, 4, 4 };
            foreach (double e in expected)
            {
                RetryDecision d = s.OnEnded(RpcCode.Unavailable, false);
                Assert.AreEqual(StreamAction.Resume, d.Action);
                Assert.That(d.Delay.TotalSeconds, Is.EqualTo(e).Within(1e-9));
            }
            Assert.AreEqual(new StreamPosition(1, 7), s.ResumeFrom.Value);
            Assert.AreEqual(6, s.Reconnects);
        }

        [Test]
        public void OnMessage_Should_ResetTheBackoff_When_TheStreamWorksAgain()
        {
            var s = State();
            s.OnEnded(RpcCode.Unavailable, false);
            s.OnEnded(RpcCode.Unavailable, false);
            s.OnMessage(new StreamPosition(3, 1));
            RetryDecision d = s.OnEnded(RpcCode.ResourceExhausted, false);
            Assert.That(d.Delay.TotalSeconds, Is.EqualTo(0.25).Within(1e-9));
            Assert.AreEqual(new StreamPosition(3, 1), s.ResumeFrom.Value);
        }

        [Test]
        public void OnMessage_Should_KeepTheResumePosition_When_MessageIsNotResumable()
        {
            var s = State(new StreamPosition(2, 4));
            s.OnMessage(null);  // a latest-wins hands update, or a snapshot part
            Assert.AreEqual(new StreamPosition(2, 4), s.ResumeFrom.Value);
        }

        [Test]
        public void OnEnded_Should_StartFresh_When_ResumePositionIsNoLongerRetained()
        {
            var s = State(new StreamPosition(2, 4));
            RetryDecision d = s.OnEnded(RpcCode.OutOfRange, false);
            Assert.AreEqual(StreamAction.StartFresh, d.Action);
            Assert.IsFalse(s.ResumeFrom.HasValue);
        }

        [TestCase(RpcCode.InvalidArgument)]
        [TestCase(RpcCode.NotFound)]
        [TestCase(RpcCode.PermissionDenied)]
        [TestCase(RpcCode.Unauthenticated)]
        [TestCase(RpcCode.FailedPrecondition)]
        [TestCase(RpcCode.Unimplemented)]
        public void OnEnded_Should_Fail_When_RetryingCannotHelp(RpcCode code)
        {
            Assert.AreEqual(StreamAction.Fail, State().OnEnded(code, false).Action);
        }

        [Test]
        public void OnEnded_Should_Stop_When_TheClientCancelled()
        {
            Assert.AreEqual(StreamAction.Stop, State().OnEnded(RpcCode.Cancelled, true).Action);
        }

        [Test]
        public void OnEnded_Should_Stop_When_ServerEndsAWatchNormally()
        {
            Assert.AreEqual(StreamAction.Stop, State().OnEnded(RpcCode.OK, false).Action);
        }

        [Test]
        public void OnEnded_Should_GiveUp_When_MaxAttemptsAreUsed()
        {
            var s = State(null, new BackoffPolicy(TimeSpan.FromSeconds(0.1), TimeSpan.FromSeconds(1), 2, 0.5, 2));
            Assert.AreEqual(StreamAction.Resume, s.OnEnded(RpcCode.Unavailable, false).Action);
            Assert.AreEqual(StreamAction.Resume, s.OnEnded(RpcCode.Unavailable, false).Action);
            Assert.AreEqual(StreamAction.Fail, s.OnEnded(RpcCode.Unavailable, false).Action);
        }

        [Test]
        public void DelayFor_Should_StayWithinJitterBounds_When_RandomVaries()
        {
            var p = new BackoffPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), 2, 0.5);
            Assert.That(p.DelayFor(1, 0.0).TotalSeconds, Is.EqualTo(0.5).Within(1e-9));
            Assert.That(p.DelayFor(1, 0.999999).TotalSeconds, Is.EqualTo(1.5).Within(1e-5));
            Assert.That(p.DelayFor(3, 0.5).TotalSeconds, Is.EqualTo(4).Within(1e-9));
        }

        [Test]
        public void Constructor_Should_Reject_When_DelaysAreInconsistent()
        {
            Assert.Throws<ArgumentException>(() => new BackoffPolicy(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
        }
    }
}
