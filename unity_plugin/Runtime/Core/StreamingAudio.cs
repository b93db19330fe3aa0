// Gapless playback of streamed speech: chunks are placed on the turn's timeline by their start
// time (gaps filled with silence, overlaps from a resumed stream trimmed), a short pre-buffer
// absorbs network jitter, and the clock counts only samples actually handed to the audio
// device, which is what visemes and cues are scheduled against.
using System;

namespace Sora.Core
{
    /// <summary>
    /// A mono PCM queue between the network thread (<see cref="Enqueue"/>) and the audio thread
    /// (<see cref="Read"/>), resampling to the output rate. Thread-safe.
    /// </summary>
    public sealed class StreamingAudioBuffer
    {
        private readonly object _lock = new object();
        private float[] _ring = new float[1 << 16];
        private int _head;   // next sample to read
        private int _count;  // samples queued
        private long _writtenSamples;  // timeline samples placed this turn (silence fill included)
        private long _playedSamples;   // timeline samples handed to the device this turn
        private bool _playing;
        private bool _turnEnded;

        /// <param name="outputSampleRate">The device rate (AudioSettings.outputSampleRate in Unity).</param>
        /// <param name="prebufferS">Audio held back before playback starts, and again after an underrun.</param>
        public StreamingAudioBuffer(int outputSampleRate, double prebufferS = 0.12)
        {
            if (outputSampleRate < 8000) throw new ArgumentException("outputSampleRate must be >= 8000");
            OutputSampleRate = outputSampleRate;
            PrebufferS = prebufferS;
        }

        public int OutputSampleRate { get; private set; }
        public double PrebufferS { get; private set; }

        /// <summary>Seconds of this turn's audio handed to the device: the clock visemes follow.</summary>
        public double PlayedS { get { lock (_lock) return _playedSamples / (double)OutputSampleRate; } }
        public double BufferedS { get { lock (_lock) return _count / (double)OutputSampleRate; } }
        /// <summary>Times playback ran dry mid-turn.</summary>
        public int Underruns { get; private set; }
        public bool IsPlaying { get { lock (_lock) return _playing; } }

        /// <summary>Starts a turn (or drops the current one on an interrupt): empties the queue and resets the clock.</summary>
        public void BeginTurn()
        {
            lock (_lock)
            {
                _head = 0;
                _count = 0;
                _writtenSamples = 0;
                _playedSamples = 0;
                _playing = false;
                _turnEnded = false;
            }
        }

        /// <summary>No more audio in this turn: play out what is queued without waiting for the pre-buffer.</summary>
        public void EndTurn()
        {
            lock (_lock) _turnEnded = true;
        }

        /// <summary>
        /// Queues little-endian int16 mono PCM whose first sample is at <paramref name="startS"/> of
        /// the turn's audio. Returns the samples queued (after resampling and trimming).
        /// </summary>
        public int Enqueue(byte[] pcm16le, int sampleRate, double startS)
        {
            if (sampleRate <= 0) throw new ArgumentException("sampleRate must be positive");
            float[] samples = Resample(pcm16le, sampleRate, OutputSampleRate);
            long at = (long)Math.Round(startS * OutputSampleRate);
            long tolerance = OutputSampleRate / 1000;  // 1 ms of rounding between chunk boundaries
            lock (_lock)
            {
                int skip = 0;
                if (at > _writtenSamples + tolerance)
                {
                    // A gap on the timeline (a chunk never came): silence keeps later audio in place.
                    long gap = at - _writtenSamples;
                    Push(new float[gap], 0, (int)gap);
                }
                else if (at < _writtenSamples - tolerance)
                {
                    // Audio we already have (a resumed stream repeats its tail): keep only the new part.
                    skip = (int)Math.Min(samples.Length, _writtenSamples - at);
                }
                Push(samples, skip, samples.Length - skip);
                return samples.Length - skip;
            }
        }

        /// <summary>
        /// Fills <paramref name="dest"/> (audio thread); silence where nothing is due. Returns the
        /// number of timeline samples written.
        /// </summary>
        public int Read(float[] dest, int offset, int count)
        {
            lock (_lock)
            {
                if (!_playing)
                {
                    bool ready = _count >= (int)(PrebufferS * OutputSampleRate) || (_turnEnded && _count > 0);
                    if (!ready)
                    {
                        Array.Clear(dest, offset, count);
                        return 0;
                    }
                    _playing = true;
                }
                int n = Math.Min(count, _count);
                int first = Math.Min(n, _ring.Length - _head);
                Array.Copy(_ring, _head, dest, offset, first);
                Array.Copy(_ring, 0, dest, offset + first, n - first);
                _head = (_head + n) % _ring.Length;
                _count -= n;
                _playedSamples += n;
                if (n < count)
                {
                    Array.Clear(dest, offset + n, count - n);
                    if (!_turnEnded) Underruns++;
                    _playing = false;  // wait for the pre-buffer again rather than stutter
                }
                return n;
            }
        }

        private void Push(float[] src, int start, int n)
        {
            if (n <= 0) return;
            if (_count + n > _ring.Length)
            {
                int size = _ring.Length;
                while (size < _count + n) size *= 2;
                var bigger = new float[size];
                int first = Math.Min(_count, _ring.Length - _head);
                Array.Copy(_ring, _head, bigger, 0, first);
                Array.Copy(_ring, 0, bigger, first, _count - first);
                _ring = bigger;
                _head = 0;
            }
            int tail = (_head + _count) % _ring.Length;
            int part = Math.Min(n, _ring.Length - tail);
            Array.Copy(src, start, _ring, tail, part);
            Array.Copy(src, start + part, _ring, 0, n - part);
            _count += n;
            _writtenSamples += n;
        }

        /// <summary>int16 little-endian -> float [-1, 1), linearly resampled.</summary>
        public static float[] Resample(byte[] pcm16le, int fromRate, int toRate)
        {
            int n = pcm16le.Length / 2;
            var input = new float[n];
            for (int i = 0; i < n; i++) input[i] = (short)(pcm16le[2 * i] | (pcm16le[2 * i + 1] << 8)) / 32768f;
            if (fromRate == toRate || n == 0) return input;
            int m = (int)Math.Round(n * (double)toRate / fromRate);
            var output = new float[m];
            double step = (double)fromRate / toRate;
            for (int j = 0; j < m; j++)
            {
                double x = j * step;
                int i0 = (int)x;
                int i1 = Math.Min(i0 + 1, n - 1);
                float t = (float)(x - i0);
                output[j] = input[Math.Min(i0, n - 1)] * (1f - t) + input[i1] * t;
            }
            return output;
        }
    }
}
