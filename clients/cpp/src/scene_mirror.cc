#include "sora/scene_mirror.h"

#include <stdexcept>
#include <string>

#include <google/protobuf/descriptor.h>

namespace sora {
namespace {

std::string Str(const v1::StreamPosition& p) {
  return std::to_string(p.epoch()) + ":" + std::to_string(p.sequence());
}

// `coalesced` (a byte-budgeted stream merged several versions into one message) is looked up by
// name so the client builds against sora.v1 protos from before the field existed.
bool Coalesced(const v1::SceneUpdate& u) {
  static const google::protobuf::FieldDescriptor* field = v1::SceneUpdate::descriptor()->FindFieldByName("coalesced");
  return field != nullptr && u.GetReflection()->GetBool(u, field);
}

}  // namespace

ApplyResult SceneMirror::Apply(const v1::SceneUpdate& u) {
  switch (u.kind()) {
    case v1::SCENE_UPDATE_KIND_SNAPSHOT_BEGIN:
      chunks_.clear();
      planes_.clear();
      anchors_.clear();
      objects_.clear();
      in_snapshot_ = true;
      ++snapshots_;
      break;
    case v1::SCENE_UPDATE_KIND_SNAPSHOT_PART:
      if (!in_snapshot_) throw std::logic_error("scene stream: SNAPSHOT_PART without SNAPSHOT_BEGIN");
      break;
    default:  // DELTA
      if (in_snapshot_) throw std::logic_error("scene stream: delta inside an unfinished snapshot");
      if (position_ && u.position().epoch() == position_->epoch()) {
        const bool coalesced = Coalesced(u);
        // A coalesced message carries every change through its position, so it may skip
        // versions, and may repeat the current position when it only completes changes.
        if (u.position().sequence() < position_->sequence() ||
            (u.position().sequence() == position_->sequence() && !coalesced)) {
          ++duplicates_;
          return ApplyResult::kDuplicate;
        }
        if (!coalesced && u.position().sequence() != position_->sequence() + 1) {
          throw std::logic_error("gap in scene stream: " + Str(*position_) + " -> " + Str(u.position()));
        }
      } else if (position_) {
        throw std::logic_error("scene epoch changed without a snapshot: " + Str(*position_) + " -> " +
                               Str(u.position()));
      }
      ++deltas_;
      break;
  }
  for (const auto& c : u.upserted_chunks()) chunks_[KeyOf(c.block())] = DecodeChunk(c);
  for (const auto& b : u.removed_chunks()) chunks_.erase(KeyOf(b));
  for (const auto& p : u.upserted_planes()) planes_[p.plane_id()] = p;
  for (const auto& id : u.removed_plane_ids()) planes_.erase(id);
  for (const auto& a : u.upserted_anchors()) anchors_[a.anchor_id()] = a;
  for (const auto& id : u.removed_anchor_ids()) anchors_.erase(id);
  for (const auto& o : u.upserted_objects()) objects_[o.object_id()] = o;
  for (const auto& id : u.removed_object_ids()) objects_.erase(id);
  if (u.kind() == v1::SCENE_UPDATE_KIND_DELTA || u.snapshot_complete()) {
    in_snapshot_ = false;
    position_ = u.position();
  }
  return ApplyResult::kApplied;
}

std::uint64_t SceneMirror::vertex_count() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [key, chunk] : chunks_) n += chunk.vertex_count();
  return n;
}

std::uint64_t SceneMirror::triangle_count() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [key, chunk] : chunks_) n += chunk.triangle_count();
  return n;
}

bool SceneMirror::Reached(const v1::StreamPosition& target) const noexcept {
  return position_ && !in_snapshot_ && position_->epoch() == target.epoch() &&
         position_->sequence() >= target.sequence();
}

}  // namespace sora
