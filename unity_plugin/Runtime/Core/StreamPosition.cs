using System;

namespace Sora.Core
{
    /// <summary>
    /// A position in a versioned stream (sora.v1.StreamPosition): <see cref="Epoch"/> changes when
    /// the server's history restarts (server restart, map load); <see cref="Sequence"/> counts
    /// within an epoch. A client resumes a stream by sending the last position it applied.
    /// </summary>
    public struct StreamPosition : IEquatable<StreamPosition>
    {
        public readonly ulong Epoch;
        public readonly ulong Sequence;

        public StreamPosition(ulong epoch, ulong sequence)
        {
            Epoch = epoch;
            Sequence = sequence;
        }

        public bool Equals(StreamPosition other) { return Epoch == other.Epoch && Sequence == other.Sequence; }
        public override bool Equals(object obj) { return obj is StreamPosition && Equals((StreamPosition)obj); }
        public override int GetHashCode() { return Epoch.GetHashCode() * 31 + Sequence.GetHashCode(); }
        public static bool operator ==(StreamPosition a, StreamPosition b) { return a.Equals(b); }
        public static bool operator !=(StreamPosition a, StreamPosition b) { return !a.Equals(b); }
        public override string ToString() { return Epoch + ":" + Sequence; }
    }
}
