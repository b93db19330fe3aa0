using System;
using System.Collections.Generic;
using System.Threading;
using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class MainThreadQueueTests
    {
        [Test]
        public void Drain_Should_RunActionsOnTheDrainingThreadInOrder_When_PostedFromOtherThreads()
        {
            var q = new MainThreadQueue();
            var ran = new List<int>();
            var threads = new List<int>();
            var poster = new Thread(() =>
            {
                for (int i = 0; i < 5; i++)
                {
                    int n = i;
                    q.Post(() =>
                    {
                        ran.Add(n);
                        threads.Add(Thread.CurrentThread.ManagedThreadId);
                    });
                }
            });
            poster.Start();
            poster.Join();
            Assert.AreEqual(5, q.Drain());
            CollectionAssert.AreEqual(new[] { 0, 1, 2, 3, 4 }, ran);
            Assert.IsTrue(threads.TrueForAll(t => t == Thread.CurrentThread.ManagedThreadId));
        }

        [Test]
        public void Drain_Should_StopAtTheLimit_When_MoreActionsAreQueued()
        {
            var q = new MainThreadQueue();
            int count = 0;
            for (int i = 0; i < 10; i++) q.Post(() => count++);
            Assert.AreEqual(3, q.Drain(3));
            Assert.AreEqual(7, q.Pending);
        }

        [Test]
        public void Drain_Should_ReportErrorsAndKeepGoing_When_AnActionThrows()
        {
            var q = new MainThreadQueue();
            var errors = new List<Exception>();
            q.Error += errors.Add;
            bool after = false;
            q.Post(() => { throw new InvalidOperationException("boom"); });
            q.Post(() => after = true);
            q.Drain();
            Assert.AreEqual(1, errors.Count);
            Assert.IsTrue(after);
        }
    }
}
