using System;
using System.Threading;
using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class StreamingAudioBufferTests
    {
        private const int Rate = 16000;

        /// <summary>n samples of value v (int16 LE).</summary>
        private static byte[] Pcm(int n, short v)
        {
            var b = new byte[2 * n];
            for (int i = 0; i < n; i++)
            {
                b[2 * i] = (byte)(v & 0xff);
                b[2 * i + 1] = (byte)((v >> 8) & 0xff);
            }
            return b;
        }

        [Test]
        public void Read_Should_OutputSilence_When_PrebufferIsNotReached()
        {
            var a = new StreamingAudioBuffer(Rate, 0.1);
            a.Enqueue(Pcm(800, 1000), Rate, 0.0);  // 50 ms < 100 ms pre-buffer
            var dest = new float[256];
            Assert.AreEqual(0, a.Read(dest, 0, 256));
            Assert.AreEqual(0.0, a.PlayedS);
            Assert.IsFalse(a.IsPlaying);
        }

        [Test]
        public void Read_Should_PlayChunksBackToBack_When_TheyAreContiguous()
        {
            var a = new StreamingAudioBuffer(Rate, 0.0);
            a.Enqueue(Pcm(160, 1000), Rate, 0.0);
            a.Enqueue(Pcm(160, 2000), Rate, 0.01);
            var dest = new float[320];
            Assert.AreEqual(320, a.Read(dest, 0, 320));
            Assert.That(dest[159], Is.EqualTo(1000 / 32768f).Within(1e-6));
            Assert.That(dest[160], Is.EqualTo(2000 / 32768f).Within(1e-6), "no gap between chunks");
            Assert.That(a.PlayedS, Is.EqualTo(0.02).Within(1e-9));
            Assert.AreEqual(0, a.Underruns);
        }

        [Test]
        public void Enqueue_Should_FillSilence_When_AChunkStartsAfterTheQueuedAudio()
        {
            var a = new StreamingAudioBuffer(Rate, 0.0);
            a.Enqueue(Pcm(160, 1000), Rate, 0.0);
            a.Enqueue(Pcm(160, 2000), Rate, 0.02);  // 10 ms missing
            var dest = new float[480];
            Assert.AreEqual(480, a.Read(dest, 0, 480));
            Assert.AreEqual(0f, dest[200]);
            Assert.That(dest[320], Is.EqualTo(2000 / 32768f).Within(1e-6), "later audio stays at its time");
        }

        [Test]
        public void Enqueue_Should_TrimRepeatedAudio_When_AResumedStreamOverlaps()
        {
            var a = new StreamingAudioBuffer(Rate, 0.0);
            a.Enqueue(Pcm(320, 1000), Rate, 0.0);
            int queued = a.Enqueue(Pcm(320, 2000), Rate, 0.01);  // first 160 samples already queued
            Assert.AreEqual(160, queued);
            Assert.That(a.BufferedS, Is.EqualTo(0.03).Within(1e-9));
        }

        [Test]
        public void Read_Should_PlayTheTail_When_TurnEndsBelowThePrebuffer()
        {
            var a = new StreamingAudioBuffer(Rate, 0.5);
            a.Enqueue(Pcm(160, 1000), Rate, 0.0);
            a.EndTurn();
            var dest = new float[320];
            Assert.AreEqual(160, a.Read(dest, 0, 320));
            Assert.AreEqual(0, a.Underruns, "the end of a turn is not an underrun");
        }

        [Test]
        public void Read_Should_PauseTheClockAndRebuffer_When_AudioRunsDry()
        {
            var a = new StreamingAudioBuffer(Rate, 0.01);
            a.Enqueue(Pcm(160, 1000), Rate, 0.0);
            var dest = new float[320];
            Assert.AreEqual(160, a.Read(dest, 0, 320));
            Assert.AreEqual(1, a.Underruns);
            a.Enqueue(Pcm(80, 1000), Rate, 0.01);  // 5 ms: below the pre-buffer again
            Assert.AreEqual(0, a.Read(dest, 0, 320));
            Assert.That(a.PlayedS, Is.EqualTo(0.01).Within(1e-9));
        }

        [Test]
        public void BeginTurn_Should_DropQueuedAudioAndResetTheClock_When_Interrupted()
        {
            var a = new StreamingAudioBuffer(Rate, 0.0);
            a.Enqueue(Pcm(1600, 1000), Rate, 0.0);
            a.Read(new float[160], 0, 160);
            a.BeginTurn();
            Assert.AreEqual(0.0, a.PlayedS);
            Assert.AreEqual(0.0, a.BufferedS);
        }

        [Test]
        public void Resample_Should_KeepDuration_When_RatesDiffer()
        {
            float[] up = StreamingAudioBuffer.Resample(Pcm(2205, 100), 22050, 48000);
            Assert.AreEqual(4800, up.Length);
            float[] down = StreamingAudioBuffer.Resample(Pcm(4800, 100), 48000, 16000);
            Assert.AreEqual(1600, down.Length);
            Assert.That(down[100], Is.EqualTo(100 / 32768f).Within(1e-6));
        }

        [Test]
        public void Enqueue_Should_PlaceResampledChunksGaplessly_When_StreamRateDiffersFromDevice()
        {
            var a = new StreamingAudioBuffer(48000, 0.0);
            for (int i = 0; i < 10; i++) a.Enqueue(Pcm(2205, 500), 22050, i * 0.1);
            Assert.That(a.BufferedS, Is.EqualTo(1.0).Within(2.0 / 48000));
        }

        [Test]
        public void ReadAndEnqueue_Should_LoseNoSamples_When_CalledFromTwoThreads()
        {
            var a = new StreamingAudioBuffer(Rate, 0.0);
            const int chunks = 200, per = 160;
            var producer = new Thread(() =>
            {
                for (int i = 0; i < chunks; i++) a.Enqueue(Pcm(per, 1), Rate, i * per / (double)Rate);
                a.EndTurn();
            });
            producer.Start();
            long played = 0;
            var dest = new float[97];
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (played < chunks * per && DateTime.UtcNow < deadline) played += a.Read(dest, 0, dest.Length);
            producer.Join();
            Assert.AreEqual(chunks * per, played);
        }
    }
}
