// STAND-INS, NOT THE REAL API: declarations of the Google.Protobuf (and the two System.Buffers types its API mentions) members the Sora Unity package
// uses, with empty bodies, so tests/engine_clients/test_csharp_sources.py can compile the package's C#
// under Mono and catch inconsistencies in it (a renamed core method, a missing using, a type
// mismatch). They are written from the libraries' documentation; a mistake here can hide a
// mistake there, so the package still needs a real Unity build before a release.
using System;
using System.Collections;
using System.Collections.Generic;
namespace Google.Protobuf {
  public interface IMessage { int CalculateSize(); }
  public interface IMessage<T> : IMessage where T : IMessage<T> { }
  public interface IBufferMessage : IMessage { }
  public sealed class MessageParser<T> where T : IMessage<T> {
    public T ParseFrom(byte[] data) { throw null; }
    public T ParseFrom(System.Buffers.ReadOnlySequence<byte> data) { throw null; }
  }
  public static class MessageExtensions {
    public static void WriteTo(this IMessage message, System.Buffers.IBufferWriter<byte> output) { }
    public static byte[] ToByteArray(this IMessage message) { throw null; }
  }
  public sealed class ByteString {
    public static ByteString CopyFrom(byte[] bytes) { throw null; }
    public static ByteString Empty { get { return null; } }
    public byte[] ToByteArray() { throw null; }
    public int Length { get { return 0; } }
  }
}
namespace Google.Protobuf.Collections {
  public sealed class RepeatedField<T> : IList<T> {
    public T this[int i] { get { throw null; } set { } }
    public int Count { get { return 0; } }
    public bool IsReadOnly { get { return false; } }
    public void Add(T item) { }
    public void AddRange(IEnumerable<T> items) { }
    public void Clear() { }
    public bool Contains(T item) { return false; }
    public void CopyTo(T[] a, int i) { }
    public int IndexOf(T item) { return 0; }
    public void Insert(int i, T item) { }
    public bool Remove(T item) { return false; }
    public void RemoveAt(int i) { }
    public IEnumerator<T> GetEnumerator() { throw null; }
    IEnumerator IEnumerable.GetEnumerator() { throw null; }
  }
}
namespace Google.Protobuf.Reflection {
  public sealed class ServiceDescriptor { }
  public sealed class FileDescriptor { public IList<ServiceDescriptor> Services { get { return null; } } }
}
namespace System.Buffers {
  public struct ReadOnlySequence<T> { }
  public interface IBufferWriter<T> { }
}
