using System;
using System.Collections.Generic;
using System.Linq;
using UnityEditor;
using UnityEngine;

namespace Sora.Unity.Editor
{
    /// <summary>
    /// Says which transport libraries are missing. It lives in its own assembly with no
    /// references, so it compiles (and can explain) while the rest of the package cannot.
    /// </summary>
    [InitializeOnLoad]
    internal static class SoraDependencyCheck
    {
        private static readonly KeyValuePair<string, string>[] Required =
        {
            new KeyValuePair<string, string>("Google.Protobuf.IMessage", "Google.Protobuf (NuGet)"),
            new KeyValuePair<string, string>("Grpc.Core.CallInvoker", "Grpc.Core.Api (NuGet; comes with Grpc.Net.Client)"),
            new KeyValuePair<string, string>("Grpc.Net.Client.GrpcChannel", "Grpc.Net.Client (NuGet)"),
            new KeyValuePair<string, string>("Cysharp.Net.Http.YetAnotherHttpHandler", "YetAnotherHttpHandler (UPM git package, plus System.IO.Pipelines and System.Runtime.CompilerServices.Unsafe from NuGet)"),
        };

        static SoraDependencyCheck()
        {
            EditorApplication.delayCall += () =>
            {
                List<string> missing = Missing();
                if (missing.Count > 0)
                {
                    Debug.LogWarning("[Sora] missing transport libraries:\n  " + string.Join("\n  ", missing.ToArray()) +
                                     "\nSee Packages/Sora SDK/Documentation~/index.md (Install) or menu Sora > Check Dependencies.");
                }
            };
        }

        [MenuItem("Sora/Check Dependencies")]
        private static void CheckFromMenu()
        {
            List<string> missing = Missing();
            string message = missing.Count == 0
                ? "Google.Protobuf, Grpc.Core.Api, Grpc.Net.Client and YetAnotherHttpHandler are all present."
                : "Missing:\n\n" + string.Join("\n", missing.ToArray()) +
                  "\n\n1. Install NuGetForUnity (https://github.com/GlitchEnzo/NuGetForUnity).\n" +
                  "2. NuGet > Manage NuGet Packages: install Grpc.Net.Client, Google.Protobuf, System.IO.Pipelines, System.Runtime.CompilerServices.Unsafe.\n" +
                  "3. Package Manager > Add package from git URL: https://github.com/Cysharp/YetAnotherHttpHandler.git?path=src/YetAnotherHttpHandler";
            EditorUtility.DisplayDialog("Sora SDK dependencies", message, "OK");
        }

        private static List<string> Missing()
        {
            var assemblies = AppDomain.CurrentDomain.GetAssemblies();
            var missing = new List<string>();
            foreach (KeyValuePair<string, string> r in Required)
            {
                bool found = assemblies.Any(a => a.GetType(r.Key, false) != null);
                if (!found) missing.Add(r.Value);
            }
            return missing;
        }
    }
}
