// Stream callbacks arrive on thread-pool threads; GameObjects may only be touched on Unity's
// main thread. Work is posted here from any thread and run by the main thread's Update.
using System;
using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sora.Core
{
    /// <summary>A queue of actions posted from any thread and drained on one (the main) thread.</summary>
    public sealed class MainThreadQueue
    {
        private readonly ConcurrentQueue<Action> _actions = new ConcurrentQueue<Action>();

        /// <summary>Called with any exception an action throws (the rest still run).</summary>
        public event Action<Exception> Error;

        public int Pending { get { return _actions.Count; } }

        public void Post(Action action)
        {
            if (action == null) throw new ArgumentNullException("action");
            _actions.Enqueue(action);
        }

        /// <summary>
        /// Runs queued actions in posting order until the queue is empty, <paramref name="maxActions"/>
        /// ran, or <paramref name="budgetMs"/> passed (so a burst of mesh chunks spreads over frames
        /// instead of stalling one). Returns how many ran.
        /// </summary>
        public int Drain(int maxActions = int.MaxValue, double budgetMs = double.PositiveInfinity)
        {
            var clock = Stopwatch.StartNew();
            int ran = 0;
            Action action;
            while (ran < maxActions && clock.Elapsed.TotalMilliseconds < budgetMs && _actions.TryDequeue(out action))
            {
                ran++;
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    Action<Exception> handler = Error;
                    if (handler != null) handler(e);
                }
            }
            return ran;
        }

        /// <summary>Drops everything queued (shutdown).</summary>
        public void Clear()
        {
            Action ignored;
            while (_actions.TryDequeue(out ignored))
            {
            }
        }
    }
}
