using System.Collections.Generic;
using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class VisemeSchedulerTests
    {
        private static VisemeScheduler WithKeys(params VisemeKey[] keys)
        {
            var s = new VisemeScheduler(0.1, 0.2);
            s.AddKeys(keys);
            return s;
        }

        private static float[] At(VisemeScheduler s, double t)
        {
            var w = new float[VisemeScheduler.SlotCount];
            s.Evaluate(t, w);
            return w;
        }

        [Test]
        public void Evaluate_Should_BeNeutral_When_BeforeTheFirstKey()
        {
            var s = WithKeys(new VisemeKey(Viseme.AA, 0.5, 1f));
            CollectionAssert.AreEqual(new float[VisemeScheduler.SlotCount], At(s, 0.2));
        }

        [Test]
        public void Evaluate_Should_HoldTheKeyWeight_When_ItsBlendIsDone()
        {
            var s = WithKeys(new VisemeKey(Viseme.AA, 0.0, 0.8f), new VisemeKey(Viseme.O, 1.0, 1f));
            float[] w = At(s, 0.5);
            Assert.That(w[(int)Viseme.AA], Is.EqualTo(0.8f).Within(1e-6));
            Assert.AreEqual(0f, w[(int)Viseme.O]);
        }

        [Test]
        public void Evaluate_Should_Crossfade_When_ANewKeyStarts()
        {
            var s = WithKeys(new VisemeKey(Viseme.AA, 0.0, 1f), new VisemeKey(Viseme.O, 1.0, 1f));
            float[] w = At(s, 1.05);  // halfway through a 0.1 s blend
            Assert.That(w[(int)Viseme.O], Is.EqualTo(0.5f).Within(1e-5));
            Assert.That(w[(int)Viseme.AA], Is.EqualTo(0.5f).Within(1e-5));
        }

        [Test]
        public void Evaluate_Should_CloseTheMouth_When_PastTheLastKeyAndHold()
        {
            var s = WithKeys(new VisemeKey(Viseme.E, 0.0, 1f));
            // blend 0.1 s, hold 0.2 s after the last key
            Assert.That(At(s, 0.15)[(int)Viseme.E], Is.EqualTo(1f).Within(1e-6), "held");
            Assert.That(At(s, 0.25)[(int)Viseme.E], Is.EqualTo(0.5f).Within(1e-5), "closing");
            Assert.AreEqual(0f, At(s, 1.0)[(int)Viseme.E], "closed");
        }

        [Test]
        public void AddKeys_Should_MergeRepeats_When_TracksCoverTheAudioSentSoFar()
        {
            var s = new VisemeScheduler();
            var first = new[] { new VisemeKey(Viseme.PP, 0.0, 1f), new VisemeKey(Viseme.AA, 0.1, 1f) };
            var cumulative = new[] { first[0], first[1], new VisemeKey(Viseme.SS, 0.3, 1f) };
            s.AddKeys(first);
            s.AddKeys(cumulative);
            Assert.AreEqual(3, s.KeyCount);
        }

        [Test]
        public void AddKeys_Should_OrderKeysByStart_When_TheyArriveOutOfOrder()
        {
            var s = new VisemeScheduler(0.01, 0.5);
            s.AddKeys(new[] { new VisemeKey(Viseme.O, 0.4, 1f) });
            s.AddKeys(new[] { new VisemeKey(Viseme.AA, 0.1, 1f) });
            Assert.That(At(s, 0.2)[(int)Viseme.AA], Is.EqualTo(1f).Within(1e-6));
            Assert.That(At(s, 0.45)[(int)Viseme.O], Is.EqualTo(1f).Within(1e-6));
        }

        [Test]
        public void EvaluateBlendshapes_Should_Interpolate_When_BetweenFrames()
        {
            var s = new VisemeScheduler(0.1, 0.2);
            s.AddBlendshapeFrame(0.0, new[] { new KeyValuePair<string, float>("jawOpen", 0f) });
            s.AddBlendshapeFrame(0.2, new[] { new KeyValuePair<string, float>("jawOpen", 1f), new KeyValuePair<string, float>("mouthFunnel", 0.4f) });
            var w = new Dictionary<string, float>();
            s.EvaluateBlendshapes(0.1, w);
            Assert.That(w["jawOpen"], Is.EqualTo(0.5f).Within(1e-5));
            Assert.That(w["mouthFunnel"], Is.EqualTo(0.2f).Within(1e-5));
            s.EvaluateBlendshapes(-1, w);
            Assert.AreEqual(0, w.Count);
        }

        [Test]
        public void Evaluate_Should_FollowTheAudioClock_When_PlaybackStalls()
        {
            // The mouth follows audio actually played: while the buffer starves, the clock (and the mouth) stand still.
            var audio = new StreamingAudioBuffer(16000, 0.0);
            var s = WithKeys(new VisemeKey(Viseme.AA, 0.0, 1f), new VisemeKey(Viseme.O, 0.04, 1f));
            audio.Enqueue(new byte[2 * 800], 16000, 0.0);  // 50 ms of audio
            var block = new float[400];
            audio.Read(block, 0, 400);
            float[] before = At(s, audio.PlayedS);
            audio.Read(block, 0, 400);
            audio.Read(block, 0, 400);  // starved: nothing more to play
            Assert.That(audio.PlayedS, Is.EqualTo(0.05).Within(1e-9));
            Assert.AreEqual(1, audio.Underruns);
            Assert.AreNotEqual(before[(int)Viseme.O], At(s, audio.PlayedS)[(int)Viseme.O]);
            float[] stalled = At(s, audio.PlayedS);
            audio.Read(block, 0, 400);
            CollectionAssert.AreEqual(stalled, At(s, audio.PlayedS));
        }
    }

    [TestFixture]
    public class CueTimelineTests
    {
        [Test]
        public void TakeDue_Should_ReturnCuesInTimeOrderOnce_When_ClockPassesThem()
        {
            var t = new CueTimeline<string>();
            t.Add(0.5, "nod");
            t.Add(0.0, "happy");
            t.Add(0.5, "look");
            CollectionAssert.AreEqual(new[] { "happy" }, t.TakeDue(0.1));
            CollectionAssert.AreEqual(new[] { "nod", "look" }, t.TakeDue(0.6));
            Assert.AreEqual(0, t.TakeDue(10).Count);
        }

        [Test]
        public void Now_Should_UseWallTime_When_TurnHasNoAudio()
        {
            var c = new TurnClock();
            c.BeginTurn(100.0);
            Assert.That(c.Now(100.4, 0.0), Is.EqualTo(0.4).Within(1e-9));
            c.OnAudio();
            Assert.That(c.Now(100.4, 0.1), Is.EqualTo(0.1).Within(1e-9));
        }
    }
}
