using System;
using NUnit.Framework;

namespace Sora.Core.Tests
{
    [TestFixture]
    public class SensorBudgetTests
    {
        [Test]
        public void TryAcquire_Should_LimitTheFrameRate_When_CaptureIsFaster()
        {
            var b = new FrameBudget(10, 100);
            int sent = 0;
            for (int i = 0; i < 60; i++)
            {
                if (b.TryAcquire(i / 60.0))
                {
                    sent++;
                    b.Release();
                }
            }
            Assert.AreEqual(10, sent);
            Assert.AreEqual(50, b.Skipped);
        }

        [Test]
        public void TryAcquire_Should_Refuse_When_TooManyFramesAreInFlight()
        {
            var b = new FrameBudget(1000, 2);
            Assert.IsTrue(b.TryAcquire(0));
            Assert.IsTrue(b.TryAcquire(1));
            Assert.IsFalse(b.TryAcquire(2));
            b.Release();
            Assert.IsTrue(b.TryAcquire(3));
        }

        [Test]
        public void TargetSize_Should_DownscaleKeepingAspect_When_WiderThanTheBudget()
        {
            var b = new FrameBudget(30, 2, 640);
            int w, h;
            b.TargetSize(1920, 1440, out w, out h);
            Assert.AreEqual(640, w);
            Assert.AreEqual(480, h);
            b.TargetSize(320, 240, out w, out h);
            Assert.AreEqual(320, w);
        }

        [Test]
        public void Scaled_Should_KeepPixelCentres_When_Halving()
        {
            var k = new CameraIntrinsics(640, 480, 517.3, 516.5, 318.6, 255.3).Scaled(320, 240);
            Assert.That(k.FxPx, Is.EqualTo(258.65).Within(1e-9));
            Assert.That(k.CxPx, Is.EqualTo((318.6 + 0.5) / 2 - 0.5).Within(1e-9));
        }

        [Test]
        public void FlipVertically_Should_ReverseRows_When_ImageHasThreeRows()
        {
            var px = new byte[] { 1, 1, 2, 2, 3, 3 };
            ImageRows.FlipVertically(px, 1, 3, 2);
            CollectionAssert.AreEqual(new byte[] { 3, 3, 2, 2, 1, 1 }, px);
        }

        [Test]
        public void MetresToU16_Should_EncodeMillimetres_When_GivenMetres()
        {
            byte[] b = ImageRows.MetresToU16(new[] { 1.234f, float.NaN, 0f, 70f }, 2, 2, 0.001, false);
            Assert.AreEqual(1234, BitConverter.ToUInt16(b, 0));
            Assert.AreEqual(0, BitConverter.ToUInt16(b, 2), "NaN is no measurement");
            Assert.AreEqual(0, BitConverter.ToUInt16(b, 6), "out of range is no measurement, not a clamped distance");
        }

        [Test]
        public void MetresToU16_Should_FlipRows_When_Asked()
        {
            byte[] b = ImageRows.MetresToU16(new[] { 1f, 2f }, 1, 2, 0.001, true);
            Assert.AreEqual(2000, BitConverter.ToUInt16(b, 0));
        }
    }
}
