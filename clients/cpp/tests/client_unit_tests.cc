// Unit tests of the parts of the C++ client that need no server: mesh chunk decoding, the scene
// mirror's ordering rules, and the Unreal coordinate conversion. Plain asserts, no framework;
// prints one line per test and exits non-zero on the first failure.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sora/errors.h"
#include "sora/mesh.h"
#include "sora/scene_mirror.h"
#include "sora/unreal_coordinates.h"

namespace {

namespace v1 = sora::v1;
namespace ue = sora::unreal;

int g_failures = 0;

#define EXPECT(cond)                                                                  \
  do {                                                                                \
    if (!(cond)) throw std::runtime_error(std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #cond); \
  } while (0)

void Near(const ue::Vec3& a, const ue::Vec3& b, double tol = 1e-9) {
  for (int i = 0; i < 3; ++i) {
    if (std::abs(a[i] - b[i]) > tol) {
      throw std::runtime_error("vectors differ: (" + std::to_string(a[0]) + ", " + std::to_string(a[1]) + ", " +
                               std::to_string(a[2]) + ") vs (" + std::to_string(b[0]) + ", " + std::to_string(b[1]) +
                               ", " + std::to_string(b[2]) + ")");
    }
  }
}

void Run(const char* name, const std::function<void()>& test) {
  try {
    test();
    std::printf("ok   %s\n", name);
  } catch (const std::exception& e) {
    std::printf("FAIL %s: %s\n", name, e.what());
    ++g_failures;
  }
}

ue::Quat RandomRotation(std::mt19937& rng) {
  std::normal_distribution<double> n;
  ue::Quat q = {n(rng), n(rng), n(rng), n(rng)};
  const double len = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& x : q) x /= len;
  return q;
}

ue::Vec3 RandomVector(std::mt19937& rng, double scale) {
  std::uniform_real_distribution<double> u(-scale, scale);
  return {u(rng), u(rng), u(rng)};
}

ue::Vec3 Add(const ue::Vec3& a, const ue::Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }

v1::MeshChunk Triangle() {
  v1::MeshChunk c;
  c.mutable_block()->set_x(1);
  c.set_version(3);
  c.mutable_origin_world_m()->set_x(1.0f);
  c.set_position_step_m(0.001f);
  c.set_vertex_count(3);
  c.set_triangle_count(1);
  const unsigned char pos[] = {0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0};
  c.set_positions_u16(std::string(reinterpret_cast<const char*>(pos), sizeof pos));
  c.set_normals_i8(std::string("\0\0\x7f\0\0\x7f\0\0\x7f", 9));
  c.set_index_format(v1::INDEX_FORMAT_U16);
  c.set_indices(std::string("\0\0\1\0\2\0", 6));
  return c;
}

v1::SceneUpdate Update(v1::SceneUpdateKind kind, std::uint64_t seq, bool complete = false) {
  v1::SceneUpdate u;
  u.set_kind(kind);
  u.mutable_position()->set_epoch(7);
  u.mutable_position()->set_sequence(seq);
  u.set_snapshot_complete(complete);
  return u;
}

}  // namespace

int main() {
  Run("DecodeChunk dequantises positions and reads u16 indices", [] {
    sora::DecodedChunk d = sora::DecodeChunk(Triangle());
    EXPECT(d.vertex_count() == 3 && d.triangle_count() == 1);
    Near({d.vertices[3], d.vertices[4], d.vertices[5]}, {1.1, 0.0, 0.0}, 1e-6);
    Near({d.normals[0], d.normals[1], d.normals[2]}, {0, 0, 1}, 1e-6);
    EXPECT(d.triangles == (std::vector<std::uint32_t>{0, 1, 2}));
  });

  Run("DecodeChunk rejects sizes that disagree with the counts", [] {
    v1::MeshChunk c = Triangle();
    c.set_vertex_count(4);
    bool threw = false;
    try {
      sora::DecodeChunk(c);
    } catch (const sora::DataLossError&) {
      threw = true;
    }
    EXPECT(threw);
  });

  Run("SceneMirror applies a snapshot then consecutive deltas and skips replays", [] {
    sora::SceneMirror m;
    v1::SceneUpdate s = Update(v1::SCENE_UPDATE_KIND_SNAPSHOT_BEGIN, 4, true);
    *s.add_upserted_chunks() = Triangle();
    EXPECT(m.Apply(s) == sora::ApplyResult::kApplied);
    EXPECT(m.chunks().size() == 1 && m.triangle_count() == 1);
    v1::SceneUpdate d = Update(v1::SCENE_UPDATE_KIND_DELTA, 5);
    *d.add_removed_chunks() = Triangle().block();
    EXPECT(m.Apply(d) == sora::ApplyResult::kApplied);
    EXPECT(m.chunks().empty());
    EXPECT(m.Apply(Update(v1::SCENE_UPDATE_KIND_DELTA, 5)) == sora::ApplyResult::kDuplicate);
    EXPECT(m.Reached(d.position()));
  });

  Run("SceneMirror refuses a delta that skips a version", [] {
    sora::SceneMirror m;
    m.Apply(Update(v1::SCENE_UPDATE_KIND_SNAPSHOT_BEGIN, 4, true));
    bool threw = false;
    try {
      m.Apply(Update(v1::SCENE_UPDATE_KIND_DELTA, 6));
    } catch (const std::logic_error&) {
      threw = true;
    }
    EXPECT(threw);
  });

  Run("Unreal: an identity camera looks along Sora +X with image down = Sora -Z", [] {
    const ue::Quat q = ue::CameraRotationFromUnreal({0, 0, 0, 1});
    Near(ue::Rotate(q, {0, 0, 1}), {1, 0, 0});   // optical axis = Unreal forward
    Near(ue::Rotate(q, {0, 1, 0}), {0, 0, -1});  // image down = world down
    Near(ue::Rotate(q, {1, 0, 0}), {0, -1, 0});  // image right = Unreal +Y = Sora -Y
  });

  Run("Unreal: the streamed world is right-handed and Z-up", [] {
    const ue::Vec3 forward = ue::DirectionFromUnreal({1, 0, 0});
    const ue::Vec3 left = ue::DirectionFromUnreal({0, -1, 0});
    const ue::Vec3 up = {forward[1] * left[2] - forward[2] * left[1], forward[2] * left[0] - forward[0] * left[2],
                         forward[0] * left[1] - forward[1] * left[0]};
    Near(up, ue::DirectionFromUnreal({0, 0, 1}));
    Near(up, {0, 0, 1});
    Near(ue::PointFromUnreal({100, 200, 300}), {1, -2, 3});
  });

  Run("Unreal: a point the camera sees lands in the same place through either frame", [] {
    std::mt19937 rng(5);
    for (int i = 0; i < 100; ++i) {
      const ue::Quat q_ue = RandomRotation(rng);
      const ue::Vec3 t_ue = RandomVector(rng, 300.0);
      const ue::Vec3 p_cam_ue = RandomVector(rng, 200.0);  // Unreal camera axes: x fwd, y right, z up (cm)
      const ue::Vec3 world_ue = Add(t_ue, ue::Rotate(q_ue, p_cam_ue));
      // The same point in OpenCV camera axes, metres: x = right, y = down, z = forward.
      const ue::Vec3 p_cv = {p_cam_ue[1] / 100.0, -p_cam_ue[2] / 100.0, p_cam_ue[0] / 100.0};
      const ue::Vec3 world_sora = Add(ue::PointFromUnreal(t_ue), ue::Rotate(ue::CameraRotationFromUnreal(q_ue), p_cv));
      Near(world_sora, ue::PointFromUnreal(world_ue), 1e-9);
    }
  });

  Run("Unreal: CameraRotationToUnreal undoes CameraRotationFromUnreal", [] {
    std::mt19937 rng(9);
    for (int i = 0; i < 100; ++i) {
      const ue::Quat q = RandomRotation(rng);
      const ue::Quat back = ue::CameraRotationToUnreal(ue::CameraRotationFromUnreal(q));
      const double dot = q[0] * back[0] + q[1] * back[1] + q[2] * back[2] + q[3] * back[3];
      EXPECT(std::abs(std::abs(dot) - 1.0) < 1e-9);
    }
  });

  Run("Unreal: a Sora plane's normal is the Unreal plane's local +Z", [] {
    std::mt19937 rng(3);
    for (int i = 0; i < 100; ++i) {
      const ue::Quat q = RandomRotation(rng);
      Near(ue::Rotate(ue::RotationToUnreal(q), {0, 0, 1}), ue::DirectionToUnreal(ue::Rotate(q, {0, 0, 1})));
    }
  });

  Run("Unreal: FlipWinding swaps the second and third index", [] {
    std::vector<int> t = {0, 1, 2, 3, 4, 5};
    ue::FlipWinding(t.data(), t.size());
    EXPECT(t == (std::vector<int>{0, 2, 1, 3, 5, 4}));
  });

  std::printf("%d failed\n", g_failures);
  return g_failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
