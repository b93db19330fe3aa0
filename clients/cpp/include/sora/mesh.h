// Mesh chunks off the wire: quantised positions, int8 normals and RGB8 colours to float arrays.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sora/v1/scene.pb.h"

namespace sora {

/// Integer coordinates of a TSDF block (x, y, z); one block is one mesh chunk.
using BlockKey = std::array<int32_t, 3>;

/// A decoded mesh chunk. Positions are in the session's world frame (right-handed, metres, as
/// the sending client defined it); triangles are counter-clockwise seen from outside.
struct DecodedChunk {
  BlockKey key{};
  uint64_t version = 0;
  /// Quantisation origin, world metres.
  std::array<double, 3> origin_world_m{};
  float block_size_m = 0.0f;
  /// (n*3) float, world metres.
  std::vector<float> vertices;
  /// (n*3) float, unit length (or zero when the chunk carries no normals).
  std::vector<float> normals;
  /// (n*3) uint8 RGB (empty when the chunk carries no colours).
  std::vector<uint8_t> colors;
  /// (t*3) vertex indices.
  std::vector<uint32_t> triangles;

  std::size_t vertex_count() const noexcept { return vertices.size() / 3; }
  std::size_t triangle_count() const noexcept { return triangles.size() / 3; }
};

/// Decodes one chunk: position = origin_world_m + q * position_step_m, normal = n / 127
/// (normalised), indices uint16 or uint32 per `index_format`. Throws DataLossError when a
/// buffer's size disagrees with the declared counts or an index is out of range.
DecodedChunk DecodeChunk(const v1::MeshChunk& chunk);

/// The block index of a chunk as a map key.
BlockKey KeyOf(const v1::BlockIndex& block) noexcept;

}  // namespace sora
