using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Sora.Sdk.Editor.Tests")]
