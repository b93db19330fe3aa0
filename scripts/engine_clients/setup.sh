#!/usr/bin/env bash
# System packages for the engine clients (Unity core tests under Mono, C# code generation, the C++
# client). Idempotent: checks what is there and installs only what is missing.
#
#   bash scripts/engine_clients/setup.sh
#
# Package                  why
#   protobuf-compiler        protoc: C# message classes (--csharp_out), descriptor sets, C++ messages
#   protobuf-compiler-grpc   grpc_cpp_plugin for the C++ stubs (Debian ships no grpc_csharp_plugin;
#                            scripts/engine_clients/gen_csharp.py writes the C# client stubs instead)
#   libprotobuf-dev          protobuf 3.21 headers and library for the C++ client
#   libgrpc++-dev            gRPC 1.51 C++ headers and library
#   cmake, g++, make, pkgconf  to build clients/cpp
#   mono-mcs                 the C# compiler for the engine-independent Unity core
#   nunit-console            NUnit 2.6.4 console runner (pulls in the NUnit framework assemblies)
#   libnunit-cil-dev         nunit.framework.dll at a fixed path to compile the tests against
set -euo pipefail

packages=(
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  cmake g++ make pkgconf
  mono-mcs nunit-console libnunit-cil-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "engine clients: system packages present"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "engine clients: missing ${missing[*]}; install them with your package manager" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "engine clients: missing ${missing[*]}; run this script as root" >&2
    exit 1
  fi
fi

echo "engine clients: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A stale or absent package index is the usual reason for "Unable to locate package"; refresh it,
# but carry on with the index we have when the refresh fails (offline mirrors).
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  "${SUDO[@]}" apt-get update -qq || echo "engine clients: apt-get update failed; using the current index" >&2
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "engine clients: system packages installed"
