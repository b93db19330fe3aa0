#!/usr/bin/env bash
# Creates the virtual environment and installs Sora with everything the embedded defaults need.
# Usage: scripts/setup.sh PYTHON VENV
set -euo pipefail
PY=${1:-python3.11}
VENV=${2:-.venv}

need_apt=()
# Open3D's import fails without libusb-1.0 (NOTES.md); libgomp for its OpenMP kernels.
for pkg in libusb-1.0-0 libgomp1; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing system libraries: ${need_apt[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq || true; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null; }
  else
    echo "missing ${need_apt[*]}: install them with your package manager" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip

# torch: the CPU build on a machine without an NVIDIA GPU, so a laptop does not download a
# multi-GB CUDA build (pip's default index serves CUDA builds on Linux x86_64). Nothing on the
# embedded default path needs torch yet; it is installed for the GPU paths and optional backends.
# Set SORA_TORCH_SPEC to choose another build (e.g. "torch==2.13.0" on a GPU host).
TORCH_VERSION=2.13.0
if [ -n "${SORA_TORCH_SPEC:-}" ]; then
  "$VENV/bin/pip" install -q "$SORA_TORCH_SPEC"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  "$VENV/bin/pip" install -q "torch==$TORCH_VERSION"
elif ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  "$VENV/bin/pip" install -q "torch==$TORCH_VERSION+cpu" 2>/dev/null \
    || echo "note: no CPU build of torch $TORCH_VERSION in the configured package indexes; skipped" \
            "(optional: install it from PyTorch's CPU wheel index, or set SORA_TORCH_SPEC)"
fi

"$VENV/bin/pip" install -q -e ".[dev]"
# Compile the mesher's marching cubes and the planes' segmentation once (numba caches them beside
# their modules), so that neither the first map a server meshes nor the first test that meshes one
# waits ~10 s per variant for them.
"$VENV/bin/python" -c "from sora_sdk.mapping._marching_cubes import warm_up; warm_up()"
"$VENV/bin/python" -c "from sora_sdk.mapping._planes import warm_up; warm_up()"

# The engine clients' tests (Unity core under Mono/NUnit, the C++ client against this server) need
# protoc, gRPC C++ and Mono from Debian.
bash "$(dirname "$0")/engine_clients/setup.sh"
"$VENV/bin/python" -c "import open3d, mediapipe, grpc, sora_sdk; print('sora-sdk ready:', sora_sdk.__version__)"
