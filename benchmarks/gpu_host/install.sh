# There (the GPU host), from the repository root: assemble and install open3d into /tmp/site and
# unpack its libraries into /tmp/gl. The parts o3d_00..o3d_06 were moved to /tmp/w by earlier calls
# of the same warm machine; o3d_07 travels with this one.
set -e
if ! [ -d /tmp/site/open3d ]; then
  cat /tmp/w/o3d_0* .gpu/o3d_07 > /tmp/open3d-0.20.0-cp312-cp312-manylinux_2_35_x86_64.whl
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
      /tmp/open3d-0.20.0-cp312-cp312-manylinux_2_35_x86_64.whl .gpu/trimesh-*.whl
  mkdir -p /tmp/gl && for f in .gpu/debs/*.deb; do dpkg -x "$f" /tmp/gl; done
fi
