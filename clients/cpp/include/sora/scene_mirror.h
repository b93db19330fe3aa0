// A local copy of a session's scene, kept exact by applying WatchScene updates in order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "sora/mesh.h"
#include "sora/v1/scene.pb.h"
#include "sora/v1/types.pb.h"

namespace sora {

/// What applying an update did.
enum class ApplyResult {
  kApplied,    ///< the update changed the mirror
  kDuplicate,  ///< a delta at or before the current position (a replay after a resume): ignored
};

/// Applies SNAPSHOT_BEGIN / SNAPSHOT_PART / DELTA updates in order, as an engine client does
/// with the stream. A delta that skips a version is a protocol violation and throws
/// std::logic_error; the caller re-subscribes without `resume_from` to get a fresh snapshot.
/// Not thread-safe: apply from one thread (the watch callback) and read under your own lock.
class SceneMirror {
 public:
  ApplyResult Apply(const v1::SceneUpdate& update);

  const std::map<BlockKey, DecodedChunk>& chunks() const noexcept { return chunks_; }
  const std::map<std::string, v1::Plane>& planes() const noexcept { return planes_; }
  const std::map<std::string, v1::Anchor>& anchors() const noexcept { return anchors_; }
  const std::map<std::string, v1::SceneObject>& objects() const noexcept { return objects_; }

  /// The last complete position applied (after a delta or a finished snapshot).
  const std::optional<v1::StreamPosition>& position() const noexcept { return position_; }
  bool snapshot_in_progress() const noexcept { return in_snapshot_; }
  std::uint64_t snapshots() const noexcept { return snapshots_; }
  std::uint64_t deltas() const noexcept { return deltas_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }

  std::uint64_t vertex_count() const noexcept;
  std::uint64_t triangle_count() const noexcept;

  /// Whether the mirror has applied everything up to `target` (same epoch, sequence >= target's).
  bool Reached(const v1::StreamPosition& target) const noexcept;

 private:
  std::map<BlockKey, DecodedChunk> chunks_;
  std::map<std::string, v1::Plane> planes_;
  std::map<std::string, v1::Anchor> anchors_;
  std::map<std::string, v1::SceneObject> objects_;
  std::optional<v1::StreamPosition> position_;
  bool in_snapshot_ = false;
  std::uint64_t snapshots_ = 0;
  std::uint64_t deltas_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace sora
