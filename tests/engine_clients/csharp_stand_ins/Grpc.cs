// STAND-INS, NOT THE REAL API: declarations of the Grpc.Core.Api, Grpc.Net.Client and YetAnotherHttpHandler members the Sora Unity package
// uses, with empty bodies, so tests/engine_clients/test_csharp_sources.py can compile the package's C#
// under Mono and catch inconsistencies in it (a renamed core method, a missing using, a type
// mismatch). They are written from the libraries' documentation; a mistake here can hide a
// mistake there, so the package still needs a real Unity build before a release.
using System;
using System.Threading;
using System.Threading.Tasks;
namespace Grpc.Core {
  public enum StatusCode { OK = 0, Cancelled = 1, Unknown = 2, InvalidArgument = 3, DeadlineExceeded = 4, NotFound = 5, AlreadyExists = 6, PermissionDenied = 7, ResourceExhausted = 8, FailedPrecondition = 9, Aborted = 10, OutOfRange = 11, Unimplemented = 12, Internal = 13, Unavailable = 14, DataLoss = 15, Unauthenticated = 16 }
  public struct Status { public StatusCode StatusCode { get { return 0; } } public string Detail { get { return null; } } }
  public class RpcException : Exception { public Status Status { get { return default(Status); } } public StatusCode StatusCode { get { return 0; } } }
  public sealed class Metadata { public void Add(string k, string v) { } }
  public struct CallOptions { public CallOptions(Metadata headers = null, DateTime? deadline = null, CancellationToken cancellationToken = default(CancellationToken)) { } }
  public enum MethodType { Unary, ClientStreaming, ServerStreaming, DuplexStreaming }
  public abstract class SerializationContext { public virtual void SetPayloadLength(int n) { } public virtual System.Buffers.IBufferWriter<byte> GetBufferWriter() { return null; } public virtual void Complete() { } public virtual void Complete(byte[] payload) { } }
  public abstract class DeserializationContext { public virtual System.Buffers.ReadOnlySequence<byte> PayloadAsReadOnlySequence() { throw null; } public virtual byte[] PayloadAsNewBuffer() { throw null; } }
  public class Marshaller<T> { }
  public static class Marshallers { public static Marshaller<T> Create<T>(Action<T, SerializationContext> serializer, Func<DeserializationContext, T> deserializer) { return null; } }
  public class Method<TRequest, TResponse> { public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller, Marshaller<TResponse> responseMarshaller) { } }
  public interface IAsyncStreamReader<T> { T Current { get; } Task<bool> MoveNext(CancellationToken cancellationToken); }
  public interface IAsyncStreamWriter<T> { Task WriteAsync(T message); }
  public interface IClientStreamWriter<T> : IAsyncStreamWriter<T> { Task CompleteAsync(); }
  public sealed class AsyncUnaryCall<T> : IDisposable { public Task<T> ResponseAsync { get { return null; } } public void Dispose() { } }
  public sealed class AsyncServerStreamingCall<T> : IDisposable { public IAsyncStreamReader<T> ResponseStream { get { return null; } } public void Dispose() { } }
  public sealed class AsyncClientStreamingCall<TReq, TResp> : IDisposable { public IClientStreamWriter<TReq> RequestStream { get { return null; } } public Task<TResp> ResponseAsync { get { return null; } } public void Dispose() { } }
  public sealed class AsyncDuplexStreamingCall<TReq, TResp> : IDisposable { public IClientStreamWriter<TReq> RequestStream { get { return null; } } public IAsyncStreamReader<TResp> ResponseStream { get { return null; } } public void Dispose() { } }
  public abstract class CallInvoker {
    public abstract TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request) where TRequest : class where TResponse : class;
    public abstract AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request) where TRequest : class where TResponse : class;
    public abstract AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request) where TRequest : class where TResponse : class;
    public abstract AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options) where TRequest : class where TResponse : class;
    public abstract AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options) where TRequest : class where TResponse : class;
  }
  public abstract class ChannelBase { }
  public abstract class ClientBase { }
  public abstract class ClientBase<T> : ClientBase where T : ClientBase<T> {
    protected ClientBase() { } protected ClientBase(ChannelBase channel) { } protected ClientBase(CallInvoker callInvoker) { } protected ClientBase(ClientBaseConfiguration configuration) { }
    protected CallInvoker CallInvoker { get { return null; } }
    protected abstract T NewInstance(ClientBaseConfiguration configuration);
    protected internal class ClientBaseConfiguration { }
  }
}
namespace Grpc.Net.Client {
  public sealed class GrpcChannelOptions { public System.Net.Http.HttpMessageHandler HttpHandler { get; set; } public bool DisposeHttpClient { get; set; } public int? MaxReceiveMessageSize { get; set; } }
  public sealed class GrpcChannel : Grpc.Core.ChannelBase, IDisposable { public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions options) { return null; } public void Dispose() { } }
}
namespace System.Net.Http { public abstract class HttpMessageHandler : IDisposable { public void Dispose() { } } }
namespace Cysharp.Net.Http {
  public class YetAnotherHttpHandler : System.Net.Http.HttpMessageHandler { public bool Http2Only { get; set; } public TimeSpan? Http2KeepAliveInterval { get; set; } public TimeSpan? Http2KeepAliveTimeout { get; set; } public bool? Http2KeepAliveWhileIdle { get; set; } public string RootCertificates { get; set; } }
}
