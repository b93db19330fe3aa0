// Build rules of the Sora SDK plugin module. The Sora C++ client (clients/cpp) and its generated
// gRPC stubs are compiled into this module; gRPC and protobuf come from the engine's own
// third-party modules, or from a prebuilt SDK when SORA_GRPC_ROOT is set. See docs/unreal.md.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using UnrealBuildTool;

public class SoraSdk : ModuleRules
{
	public SoraSdk(ReadOnlyTargetRules Target) : base(Target)
	{
		// The generated stubs and the client are plain C++: keep them out of unity builds and
		// shared PCHs, where Unreal's macros (check, verify) would collide with gRPC's headers.
		PCHUsage = PCHUsageMode.NoPCHs;
		bUseUnity = false;
		// The Sora C++ client reports failed calls as exceptions; the wrapper catches them.
		bEnableExceptions = true;
		CppStandard = CppStandardVersion.Cpp17;
		// protobuf and gRPC headers test undefined macros and shadow names.
		UndefinedIdentifierWarningLevel = WarningLevel.Off;
		ShadowVariableWarningLevel = WarningLevel.Off;

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine", "ProceduralMeshComponent" });

		string client = Path.Combine(ModuleDirectory, "Private", "SoraClient");
		if (!Directory.Exists(Path.Combine(client, "gen", "sora", "v1")))
		{
			throw new BuildException(
				"SoraSdk: the C++ client and its stubs are not staged into " + client + ". Run " +
				"scripts/engine_clients/stage_unreal_plugin.py with the protoc and grpc_cpp_plugin that match " +
				"the gRPC/protobuf you link (docs/unreal.md).");
		}
		PrivateIncludePaths.Add(Path.Combine(client, "include"));
		PrivateIncludePaths.Add(Path.Combine(client, "gen"));

		string prebuilt = Environment.GetEnvironmentVariable("SORA_GRPC_ROOT");
		if (!string.IsNullOrEmpty(prebuilt))
		{
			AddPrebuiltGrpc(prebuilt);
		}
		else
		{
			AddEngineGrpc(Target);
		}
	}

	// The engine's third-party modules: SORA_GRPC_MODULES (comma-separated module names) when set,
	// else every module under Engine/Source/ThirdParty whose Build.cs names gRPC or protobuf.
	private void AddEngineGrpc(ReadOnlyTargetRules Target)
	{
		string named = Environment.GetEnvironmentVariable("SORA_GRPC_MODULES");
		List<string> modules;
		if (!string.IsNullOrEmpty(named))
		{
			modules = named.Split(',').Select(m => m.Trim()).Where(m => m.Length > 0).ToList();
		}
		else
		{
			string thirdParty = Path.Combine(EngineDirectory, "Source", "ThirdParty");
			modules = FindModules(thirdParty, "grpc").Concat(FindModules(thirdParty, "protobuf")).Distinct().ToList();
			bool hasGrpc = modules.Any(m => m.IndexOf("grpc", StringComparison.OrdinalIgnoreCase) >= 0);
			bool hasProtobuf = modules.Any(m => m.IndexOf("protobuf", StringComparison.OrdinalIgnoreCase) >= 0);
			if (!hasGrpc || !hasProtobuf)
			{
				throw new BuildException(
					"SoraSdk: no gRPC and protobuf modules found under " + thirdParty + ". Set SORA_GRPC_MODULES to " +
					"your engine's module names (e.g. \"GRPC,Protobuf\") or SORA_GRPC_ROOT to a prebuilt gRPC " +
					"(include/ and lib/), see docs/unreal.md.");
			}
		}
		AddEngineThirdPartyPrivateStaticDependencies(Target, modules.ToArray());
	}

	private static IEnumerable<string> FindModules(string root, string keyword)
	{
		if (!Directory.Exists(root)) return Enumerable.Empty<string>();
		return Directory.GetFiles(root, "*.Build.cs", SearchOption.AllDirectories)
			.Select(f => Path.GetFileName(f))
			.Select(f => f.Substring(0, f.Length - ".Build.cs".Length))
			.Where(m => m.IndexOf(keyword, StringComparison.OrdinalIgnoreCase) >= 0);
	}

	// A prebuilt gRPC (e.g. `vcpkg install grpc` for the target triplet, or a CMake install):
	// headers in include/, static libraries in lib/.
	private void AddPrebuiltGrpc(string root)
	{
		PublicIncludePaths.Add(Path.Combine(root, "include"));
		string lib = Path.Combine(root, "lib");
		string pattern = Target.Platform == UnrealTargetPlatform.Win64 ? "*.lib" : "*.a";
		foreach (string library in Directory.GetFiles(lib, pattern))
		{
			PublicAdditionalLibraries.Add(library);
		}
		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			PublicSystemLibraries.AddRange(new string[] { "ws2_32.lib", "crypt32.lib", "iphlpapi.lib" });
		}
	}
}
