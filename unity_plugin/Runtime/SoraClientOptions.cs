using System;
using System.Collections.Generic;
using Sora.Core;

namespace Sora.Unity
{
    /// <summary>
    /// How to reach a Sora server. Immutable: build a new one to change anything, and hand it to
    /// <see cref="SoraChannelHost.Connect(SoraClientOptions)"/>.
    /// </summary>
    public sealed class SoraClientOptions
    {
        /// <param name="address">"http://host:50051" (HTTP/2 over cleartext, LAN only) or "https://host" (TLS).</param>
        /// <param name="rootCertificatesPem">PEM root certificates for a private CA; null for the built-in roots.</param>
        /// <param name="headers">Metadata sent with every call, e.g. {"authorization", "Bearer ..."}.</param>
        /// <param name="backoff">Reconnect backoff; <see cref="BackoffPolicy.Default"/> when null.</param>
        /// <param name="keepAliveInterval">HTTP/2 PING interval, so a dead link is noticed while streams are idle.</param>
        public SoraClientOptions(
            string address,
            string rootCertificatesPem = null,
            IDictionary<string, string> headers = null,
            BackoffPolicy backoff = null,
            TimeSpan? keepAliveInterval = null,
            int maxReceiveMessageBytes = 64 << 20)
        {
            if (string.IsNullOrEmpty(address)) throw new ArgumentException("address is required");
            Uri uri;
            if (!Uri.TryCreate(address, UriKind.Absolute, out uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                throw new ArgumentException("address must be http://host:port or https://host[:port], got " + address);
            }
            Address = uri;
            RootCertificatesPem = rootCertificatesPem;
            Headers = new Dictionary<string, string>(headers ?? new Dictionary<string, string>());
            Backoff = backoff ?? BackoffPolicy.Default;
            KeepAliveInterval = keepAliveInterval ?? TimeSpan.FromSeconds(10);
            MaxReceiveMessageBytes = maxReceiveMessageBytes;
        }

        public Uri Address { get; private set; }
        public bool UseTls { get { return Address.Scheme == "https"; } }
        public string RootCertificatesPem { get; private set; }
        public IReadOnlyDictionary<string, string> Headers { get; private set; }
        public BackoffPolicy Backoff { get; private set; }
        public TimeSpan KeepAliveInterval { get; private set; }
        public int MaxReceiveMessageBytes { get; private set; }
    }
}
