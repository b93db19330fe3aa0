#!/usr/bin/env bash
# Here (a machine with the package registries): the files a GPU host without any registry needs to
# run the mapping bench and tests on CUDA, into .gpu/ (ignored): open3d 0.20.0 for its Python (3.12)
# split into 50 MiB parts (one per call of a 64 MiB transfer limit), trimesh, and the X/GL and
# libusb libraries open3d links against, as Debian packages to unpack (not install) there.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gpu/debs
grep -qx "/.gpu/" .git/info/exclude || echo "/.gpu/" >> .git/info/exclude
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_35_x86_64 -d .gpu/wheels open3d==0.20.0 trimesh==5.2.0
split -b 50M -d -a 2 .gpu/wheels/open3d-0.20.0-cp312-cp312-manylinux_2_35_x86_64.whl .gpu/o3d_
cp .gpu/wheels/trimesh-*.whl .gpu/
(cd .gpu/debs && apt-get download libegl1 libglvnd0 libgl1 libglx0 libx11-6 libxcb1 libxau6 libxdmcp6 \
    libbsd0 libmd0 libudev1 libx11-data libusb-1.0-0 && for f in *%3a*; do mv "$f" "${f//%3a/_}"; done)
cp -r benchmarks/gpu_host/stubs benchmarks/gpu_host/install.sh benchmarks/gpu_host/run.sh .gpu/
ls .gpu
