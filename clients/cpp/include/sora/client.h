// The Sora C++ client: the shape of the Python SDK (sora_sdk.client) over the generated stubs.
//
//   sora::Client client("127.0.0.1:50051");
//   sora::CreateSessionOptions options;
//   options.display_name = "desk";
//   sora::Session session = client.CreateSession(options);
//   sora::SceneMirror mirror;  // guard with a mutex when another thread reads it
//   auto watch = session.WatchScene({}, [&](const sora::v1::SceneUpdate& u) { mirror.Apply(u); });
//   auto stream = session.OpenSensorStream();
//   for (const auto& frame : frames) stream->Write(frame);
//   sora::IngestSummary summary = stream->Finish();
//   auto conversation = session.Converse({});
//   for (const auto& event : conversation->Turn("what is on the table?")) { ... }
//
// Unary calls throw the error classes of sora/errors.h. Watches resume by themselves from the
// last position they delivered (see sora/watch.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include "sora/conversation.h"
#include "sora/errors.h"
#include "sora/watch.h"
#include "sora/v1/avatar.grpc.pb.h"
#include "sora/v1/perception.grpc.pb.h"
#include "sora/v1/scene.grpc.pb.h"
#include "sora/v1/sensor.grpc.pb.h"
#include "sora/v1/session.grpc.pb.h"

namespace sora {

struct ClientOptions {
  /// TLS with the system roots, or `root_certs_pem` when given.
  bool use_tls = false;
  std::string root_certs_pem;
  /// Largest message accepted (a scene snapshot part can be several MB).
  int max_receive_message_bytes = 64 << 20;
  int max_send_message_bytes = 32 << 20;
  /// HTTP/2 keepalive pings while streams are open; a frozen peer is noticed within about
  /// keepalive_time_ms + keepalive_timeout_ms.
  int keepalive_time_ms = 10000;
  int keepalive_timeout_ms = 5000;
  /// Metadata sent with every call (e.g. {"authorization", "Bearer ..."}).
  std::vector<std::pair<std::string, std::string>> metadata;
  /// Deadline of unary calls.
  std::chrono::milliseconds unary_timeout{30000};
};

struct CreateSessionOptions {
  std::string display_name;
  std::string user_id;
  std::string space_id;
  v1::PoseSource pose_source = v1::POSE_SOURCE_CLIENT;
  /// 0 for the server default.
  float voxel_size_m = 0.0f;
  /// 0 for the server default.
  float depth_max_m = 0.0f;
  bool recording_enabled = false;
};

/// Summary the server sends when a sensor stream is closed.
struct IngestSummary {
  std::uint64_t messages_received = 0;
  std::uint64_t frames_integrated = 0;
  /// Drops by reason ("queue_full", "duplicate", "tracking_lost", "no_depth").
  std::map<std::string, std::uint64_t> drops;
  /// Scene position after the last fused frame was meshed.
  v1::StreamPosition scene_position;
};

struct SensorStreamOptions {
  std::string stream_name = "cpp";
  /// LOSSLESS fuses every frame (replays); REALTIME drops stale frames when busy (live devices).
  bool lossless = true;
  /// Intrinsics for frames that carry none.
  std::optional<v1::CameraIntrinsics> default_intrinsics;
};

/// An open SensorService.StreamSensorData call; the config went out when it was opened.
class SensorStream {
 public:
  SensorStream(std::unique_ptr<grpc::ClientContext> context, std::unique_ptr<v1::StreamSensorDataResponse> response,
               std::unique_ptr<grpc::ClientWriter<v1::StreamSensorDataRequest>> writer);
  ~SensorStream();
  SensorStream(const SensorStream&) = delete;
  SensorStream& operator=(const SensorStream&) = delete;

  /// Sends one camera frame. Blocks under flow control (LOSSLESS); returns false when the
  /// server has ended the stream, after which Finish() reports why.
  bool Write(const v1::CameraFrame& frame);
  bool Write(const v1::HeadPoseSample& sample);
  bool Write(const v1::HandJointsSample& sample);
  bool Write(const v1::EyeGazeSample& sample);
  bool Write(const v1::AudioChunk& chunk);
  bool Write(const v1::StreamSensorDataRequest& request);
  /// Half-closes and waits until every frame is fused; throws the error the stream ended with.
  IngestSummary Finish();

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<v1::StreamSensorDataResponse> response_;
  std::unique_ptr<grpc::ClientWriter<v1::StreamSensorDataRequest>> writer_;
  bool finished_ = false;
};

struct SceneWatchOptions : WatchOptions {
  /// Mesh bandwidth budget, bytes per second; 0 for none. With a budget the server merges
  /// pending chunk changes (nearest first) and may send coalesced updates. Ignored by servers
  /// whose protocol predates the field.
  std::uint32_t max_mesh_bytes_per_s = 0;
  bool include_mesh = true;
  bool include_planes = true;
  bool include_objects = true;
  bool include_anchors = true;
};

struct PerceptionWatchOptions : WatchOptions {
  bool include_hands = true;
  bool include_gaze = true;
};

struct Stubs;

/// A server session seen from the client. Cheap to copy; copies share the channel.
class Session {
 public:
  Session(std::shared_ptr<Stubs> stubs, v1::Session info);

  const std::string& id() const noexcept { return info_.session_id(); }
  const v1::Session& info() const noexcept { return info_; }
  /// Fetches the session again (live statistics).
  const v1::Session& Refresh();
  void Close(bool delete_map = false, bool delete_memory = false);

  // ---- sensors ----
  std::unique_ptr<SensorStream> OpenSensorStream(const SensorStreamOptions& options = {});
  /// Streams `frames` on one stream and returns the summary (every frame fused when lossless).
  IngestSummary StreamFrames(const std::vector<v1::CameraFrame>& frames, const SensorStreamOptions& options = {});

  // ---- scene ----
  /// Snapshot, then one update per version; `on_update` runs on the watch's thread.
  std::unique_ptr<Watch> WatchScene(const SceneWatchOptions& options,
                                    std::function<void(const v1::SceneUpdate&)> on_update);
  v1::GetSceneResponse GetScene(bool include_mesh = false, const std::string& label = {});
  /// The nearest hit of a world ray, if any.
  std::optional<v1::RaycastResponse> Raycast(const v1::Ray& ray_world, float max_distance_m = 10.0f);
  v1::Anchor CreateAnchor(const v1::Pose& pose_world_anchor, const std::string& label = {});
  v1::Anchor CreateAnchor(const v1::Ray& ray_world, const std::string& label = {});
  std::vector<v1::Anchor> ListAnchors();
  void DeleteAnchor(const std::string& anchor_id);
  v1::SaveMapResponse SaveMap(const std::string& map_name);
  v1::LoadMapResponse LoadMap(const std::string& map_name);
  /// Writes the fused mesh to `path`; returns its size in bytes.
  std::uint64_t ExportMap(const std::string& path, v1::MeshFormat format = v1::MESH_FORMAT_PLY);

  // ---- perception and avatar ----
  /// Hands and gaze (latest-wins) and ordered events; events resume after a disconnect.
  std::unique_ptr<Watch> WatchPerception(const PerceptionWatchOptions& options,
                                         std::function<void(const v1::WatchPerceptionResponse&)> on_event);
  /// Opens a conversation grounded in this session's scene.
  std::unique_ptr<Conversation> Converse(const ConversationOptions& options = {});

 private:
  std::shared_ptr<Stubs> stubs_;
  v1::Session info_;
};

/// One channel to a Sora server and its service stubs.
class Client {
 public:
  explicit Client(const std::string& target, ClientOptions options = {});

  const std::string& target() const noexcept { return target_; }
  std::shared_ptr<grpc::Channel> channel() const;

  /// Waits until the channel is connected; false on timeout.
  bool WaitReady(std::chrono::milliseconds timeout);
  v1::GetCapabilitiesResponse Capabilities();
  Session CreateSession(const CreateSessionOptions& options = {});
  /// An existing session by ID (NotFoundError when unknown).
  Session OpenSession(const std::string& session_id);
  std::vector<v1::Session> ListSessions(bool include_closed = false);

 private:
  std::string target_;
  std::shared_ptr<Stubs> stubs_;
};

}  // namespace sora
