// Lip-sync scheduled against the audio clock: the mouth shape at time t of the turn's audio is
// a pure function of the keys and t, so it stays in step with what the listener hears however
// the frame rate or the network jitters.
using System;
using System.Collections.Generic;

namespace Sora.Core
{
    /// <summary>Oculus' 15 visemes (values of sora.v1.Viseme).</summary>
    public enum Viseme
    {
        Unspecified = 0,
        Sil = 1,
        PP = 2,
        FF = 3,
        TH = 4,
        DD = 5,
        KK = 6,
        CH = 7,
        SS = 8,
        NN = 9,
        RR = 10,
        AA = 11,
        E = 12,
        I = 13,
        O = 14,
        U = 15,
    }

    /// <summary>One viseme key: a mouth shape from <see cref="StartS"/> (seconds of the turn's audio).</summary>
    public struct VisemeKey
    {
        public Viseme Viseme;
        public double StartS;
        public float Weight;

        public VisemeKey(Viseme viseme, double startS, float weight)
        {
            Viseme = viseme;
            StartS = startS;
            Weight = weight;
        }
    }

    /// <summary>
    /// Viseme keys and blendshape frames of one turn, evaluated at the audio clock.
    /// A key holds until the next one starts; each new key fades in over <see cref="BlendS"/>
    /// while the previous one fades out; after the last key the mouth closes over
    /// <see cref="BlendS"/> once <see cref="HoldS"/> has passed. Keys may arrive in pieces and
    /// repeat (a track covers "the audio sent so far"): they are merged by start time.
    /// </summary>
    public sealed class VisemeScheduler
    {
        /// <summary>Weight slots, indexed by (int)Viseme; slot 0 is unused.</summary>
        public const int SlotCount = 16;

        private readonly List<VisemeKey> _keys = new List<VisemeKey>();
        private readonly List<KeyValuePair<double, Dictionary<string, float>>> _frames =
            new List<KeyValuePair<double, Dictionary<string, float>>>();

        public VisemeScheduler(double blendS = 0.06, double holdS = 0.12)
        {
            if (blendS <= 0) throw new ArgumentException("blendS must be positive");
            BlendS = blendS;
            HoldS = holdS;
        }

        public double BlendS { get; private set; }
        public double HoldS { get; private set; }
        public int KeyCount { get { return _keys.Count; } }
        public int FrameCount { get { return _frames.Count; } }

        /// <summary>Forgets the previous turn.</summary>
        public void BeginTurn()
        {
            _keys.Clear();
            _frames.Clear();
        }

        /// <summary>Merges keys, keeping start order; a key equal in start and viseme to a stored one is a repeat.</summary>
        public void AddKeys(IEnumerable<VisemeKey> keys)
        {
            foreach (VisemeKey k in keys)
            {
                int i = LowerBound(k.StartS);
                bool repeat = false;
                for (int j = i; j < _keys.Count && _keys[j].StartS == k.StartS; j++)
                {
                    if (_keys[j].Viseme == k.Viseme)
                    {
                        _keys[j] = k;
                        repeat = true;
                        break;
                    }
                }
                if (!repeat) _keys.Insert(UpperBound(k.StartS), k);
            }
        }

        /// <summary>Adds a blendshape frame (ARKit names -> 0..1) at <paramref name="timeS"/>; a frame at an existing time replaces it.</summary>
        public void AddBlendshapeFrame(double timeS, IEnumerable<KeyValuePair<string, float>> weights)
        {
            var d = new Dictionary<string, float>();
            foreach (KeyValuePair<string, float> kv in weights) d[kv.Key] = kv.Value;
            int i = 0;
            while (i < _frames.Count && _frames[i].Key < timeS) i++;
            if (i < _frames.Count && _frames[i].Key == timeS) _frames[i] = new KeyValuePair<double, Dictionary<string, float>>(timeS, d);
            else _frames.Insert(i, new KeyValuePair<double, Dictionary<string, float>>(timeS, d));
        }

        /// <summary>Viseme weights at <paramref name="audioTimeS"/> into <paramref name="weights"/> (length >= SlotCount).</summary>
        public void Evaluate(double audioTimeS, float[] weights)
        {
            if (weights == null || weights.Length < SlotCount) throw new ArgumentException("weights needs " + SlotCount + " slots");
            Array.Clear(weights, 0, SlotCount);
            int i = UpperBound(audioTimeS) - 1;  // the key in force
            if (i < 0) return;
            VisemeKey cur = _keys[i];
            double since = audioTimeS - cur.StartS;
            float fadeIn = (float)Math.Min(1.0, since / BlendS);
            if (i == _keys.Count - 1)
            {
                // Past the last key: hold, then close the mouth.
                double closing = since - HoldS;
                if (closing > 0) fadeIn *= (float)Math.Max(0.0, 1.0 - closing / BlendS);
            }
            Accumulate(weights, cur.Viseme, cur.Weight * fadeIn);
            if (i > 0 && fadeIn < 1f)
            {
                VisemeKey prev = _keys[i - 1];
                Accumulate(weights, prev.Viseme, prev.Weight * (1f - fadeIn));
            }
        }

        /// <summary>Blendshape weights at <paramref name="timeS"/>, interpolated between the frames around it (a name absent from a frame counts as 0).</summary>
        public void EvaluateBlendshapes(double timeS, IDictionary<string, float> result)
        {
            result.Clear();
            if (_frames.Count == 0) return;
            int after = 0;
            while (after < _frames.Count && _frames[after].Key <= timeS) after++;
            if (after == 0)
            {
                return;  // before the first frame: neutral
            }
            KeyValuePair<double, Dictionary<string, float>> a = _frames[after - 1];
            if (after == _frames.Count)
            {
                // After the last frame: hold it, then release like visemes.
                float fade = (float)Math.Max(0.0, 1.0 - Math.Max(0.0, timeS - a.Key - HoldS) / BlendS);
                foreach (KeyValuePair<string, float> kv in a.Value) result[kv.Key] = kv.Value * fade;
                return;
            }
            KeyValuePair<double, Dictionary<string, float>> b = _frames[after];
            float s = (float)((timeS - a.Key) / (b.Key - a.Key));
            foreach (KeyValuePair<string, float> kv in a.Value)
            {
                float other;
                b.Value.TryGetValue(kv.Key, out other);
                result[kv.Key] = kv.Value + (other - kv.Value) * s;
            }
            foreach (KeyValuePair<string, float> kv in b.Value)
            {
                if (!a.Value.ContainsKey(kv.Key)) result[kv.Key] = kv.Value * s;
            }
        }

        private static void Accumulate(float[] weights, Viseme v, float w)
        {
            int slot = (int)v;
            if (slot <= 0 || slot >= SlotCount) return;
            weights[slot] = Math.Min(1f, weights[slot] + w);
        }

        // First index whose start is >= t.
        private int LowerBound(double t)
        {
            int lo = 0, hi = _keys.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (_keys[mid].StartS < t) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        // First index whose start is > t.
        private int UpperBound(double t)
        {
            int lo = 0, hi = _keys.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (_keys[mid].StartS <= t) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }

    /// <summary>
    /// Cues (emotion, look-at, point-at, body gestures) due at a time of the turn's audio, handed
    /// out once each, in time order.
    /// </summary>
    public sealed class CueTimeline<T>
    {
        private readonly List<KeyValuePair<double, T>> _pending = new List<KeyValuePair<double, T>>();

        public int PendingCount { get { return _pending.Count; } }

        public void Add(double startS, T cue)
        {
            int i = 0;
            while (i < _pending.Count && _pending[i].Key <= startS) i++;
            _pending.Insert(i, new KeyValuePair<double, T>(startS, cue));
        }

        /// <summary>Removes and returns the cues whose start is at or before <paramref name="clockS"/>.</summary>
        public List<T> TakeDue(double clockS)
        {
            var due = new List<T>();
            int n = 0;
            while (n < _pending.Count && _pending[n].Key <= clockS)
            {
                due.Add(_pending[n].Value);
                n++;
            }
            _pending.RemoveRange(0, n);
            return due;
        }

        public void Clear() { _pending.Clear(); }
    }

    /// <summary>
    /// The clock a turn's visemes and cues run on: the audio actually played when the turn has
    /// audio, wall time since the turn began when it is text only (speech disabled).
    /// </summary>
    public sealed class TurnClock
    {
        private double _turnStartWallS;

        public bool HasAudio { get; private set; }

        public void BeginTurn(double wallNowS)
        {
            _turnStartWallS = wallNowS;
            HasAudio = false;
        }

        public void OnAudio() { HasAudio = true; }

        /// <param name="wallNowS">A monotonic wall clock, seconds.</param>
        /// <param name="audioPlayedS">Seconds of this turn's audio played so far.</param>
        public double Now(double wallNowS, double audioPlayedS)
        {
            return HasAudio ? audioPlayedS : Math.Max(0.0, wallNowS - _turnStartWallS);
        }
    }
}
