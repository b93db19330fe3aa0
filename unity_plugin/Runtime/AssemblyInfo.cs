using System.Runtime.CompilerServices;

// The package's tests drive internals (the mesh streamer's main-thread side) without a server.
[assembly: InternalsVisibleTo("Sora.Sdk.Tests")]
[assembly: InternalsVisibleTo("Sora.Sdk.Editor.Tests")]
