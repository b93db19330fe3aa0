#include "sora/mesh.h"

#include <cmath>
#include <string>

#include "sora/errors.h"

namespace sora {
namespace {

// Explicit little-endian reads: the wire format is little-endian whatever the host is.
inline std::uint16_t U16(const std::string& b, std::size_t i) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(b[i]) | (static_cast<std::uint8_t>(b[i + 1]) << 8));
}
inline std::uint32_t U32(const std::string& b, std::size_t i) {
  return static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i])) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i + 1])) << 8) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i + 2])) << 16) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i + 3])) << 24);
}

[[noreturn]] void Malformed(const v1::MeshChunk& c, const std::string& what) {
  throw DataLossError("mesh chunk (" + std::to_string(c.block().x()) + ", " + std::to_string(c.block().y()) + ", " +
                      std::to_string(c.block().z()) + "): " + what);
}

}  // namespace

BlockKey KeyOf(const v1::BlockIndex& block) noexcept { return {block.x(), block.y(), block.z()}; }

DecodedChunk DecodeChunk(const v1::MeshChunk& c) {
  DecodedChunk out;
  out.key = KeyOf(c.block());
  out.version = c.version();
  out.origin_world_m = {c.origin_world_m().x(), c.origin_world_m().y(), c.origin_world_m().z()};
  out.block_size_m = c.block_size_m();
  const std::size_t n = c.vertex_count();
  const std::size_t t = c.triangle_count();

  if (c.positions_u16().size() != n * 6) Malformed(c, "positions_u16 holds " + std::to_string(c.positions_u16().size()) + " bytes, expected " + std::to_string(n * 6));
  if (!c.normals_i8().empty() && c.normals_i8().size() != n * 3) Malformed(c, "normals_i8 size disagrees with vertex_count");
  if (!c.colors_rgb8().empty() && c.colors_rgb8().size() != n * 3) Malformed(c, "colors_rgb8 size disagrees with vertex_count");
  const bool wide = c.index_format() == v1::INDEX_FORMAT_U32;
  if (t > 0 && !wide && c.index_format() != v1::INDEX_FORMAT_U16) Malformed(c, "index_format not set");
  const std::size_t index_bytes = wide ? 4 : 2;
  if (c.indices().size() != t * 3 * index_bytes) Malformed(c, "indices size disagrees with triangle_count");

  const double step = c.position_step_m();
  out.vertices.resize(n * 3);
  for (std::size_t i = 0; i < n * 3; ++i) {
    out.vertices[i] = static_cast<float>(out.origin_world_m[i % 3] + U16(c.positions_u16(), i * 2) * step);
  }
  out.normals.assign(n * 3, 0.0f);
  if (!c.normals_i8().empty()) {
    for (std::size_t v = 0; v < n; ++v) {
      float x = static_cast<std::int8_t>(c.normals_i8()[v * 3]) / 127.0f;
      float y = static_cast<std::int8_t>(c.normals_i8()[v * 3 + 1]) / 127.0f;
      float z = static_cast<std::int8_t>(c.normals_i8()[v * 3 + 2]) / 127.0f;
      const float len = std::sqrt(x * x + y * y + z * z);
      if (len > 0.0f) x /= len, y /= len, z /= len;
      out.normals[v * 3] = x;
      out.normals[v * 3 + 1] = y;
      out.normals[v * 3 + 2] = z;
    }
  }
  out.colors.assign(c.colors_rgb8().begin(), c.colors_rgb8().end());
  out.triangles.resize(t * 3);
  for (std::size_t i = 0; i < t * 3; ++i) {
    const std::uint32_t index = wide ? U32(c.indices(), i * 4) : U16(c.indices(), i * 2);
    if (index >= n) Malformed(c, "index " + std::to_string(index) + " out of range");
    out.triangles[i] = index;
  }
  return out;
}

}  // namespace sora
