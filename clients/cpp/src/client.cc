#include "sora/client.h"

#include <fstream>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace sora {

// The channel and one stub per service, shared by a client and its sessions.
struct Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::SessionService::Stub> session;
  std::unique_ptr<v1::SensorService::Stub> sensor;
  std::unique_ptr<v1::SceneService::Stub> scene;
  std::unique_ptr<v1::PerceptionService::Stub> perception;
  std::unique_ptr<v1::AvatarService::Stub> avatar;
  ClientOptions options;

  // Unary calls get a deadline; streams live until they end or are cancelled.
  std::unique_ptr<grpc::ClientContext> Context(bool unary) const {
    auto context = std::make_unique<grpc::ClientContext>();
    for (const auto& [key, value] : options.metadata) context->AddMetadata(key, value);
    if (unary) context->set_deadline(std::chrono::system_clock::now() + options.unary_timeout);
    return context;
  }
};

namespace {

// Runs one unary call and throws its error.
template <typename Call>
void Unary(const Stubs& stubs, Call&& call) {
  auto context = stubs.Context(true);
  ThrowIfError(call(context.get()));
}

// A scene or perception subscription over one of the server-streaming methods.
class StreamWatch final : public Watch {
 public:
  template <typename Request, typename Response, typename Open, typename OnMessage>
  static std::unique_ptr<Watch> Create(std::shared_ptr<Stubs> stubs, WatchOptions options, Request request,
                                       Open open, OnMessage on_message) {
    std::unique_ptr<StreamWatch> watch(new StreamWatch());
    StreamWatch* self = watch.get();
    auto attempt = [self, stubs, request, open, on_message](
                       grpc::ClientContext& context, const std::optional<v1::StreamPosition>& from) {
      Request r = request;
      if (from) *r.mutable_resume_from() = *from;
      auto reader = open(*stubs, &context, r);
      Response message;
      while (reader->Read(&message)) {
        self->MarkHealthy();
        std::optional<v1::StreamPosition> resumable = on_message(message);
        if (resumable) self->SetPosition(*resumable);
      }
      return reader->Finish();
    };
    self->Start(std::move(options), std::move(attempt), [stubs] { return stubs->Context(false); });
    return watch;
  }

 private:
  StreamWatch() = default;
};

std::string DropName(v1::DropReason reason) {
  switch (reason) {
    case v1::DROP_REASON_QUEUE_FULL: return "queue_full";
    case v1::DROP_REASON_DUPLICATE: return "duplicate";
    case v1::DROP_REASON_TRACKING_LOST: return "tracking_lost";
    case v1::DROP_REASON_NO_DEPTH: return "no_depth";
    case v1::DROP_REASON_FUSION_RATE: return "fusion_rate";
    default: return "unspecified";
  }
}

}  // namespace

// ---- SensorStream ---------------------------------------------------------------------------

SensorStream::SensorStream(std::unique_ptr<grpc::ClientContext> context,
                           std::unique_ptr<v1::StreamSensorDataResponse> response,
                           std::unique_ptr<grpc::ClientWriter<v1::StreamSensorDataRequest>> writer)
    : context_(std::move(context)), response_(std::move(response)), writer_(std::move(writer)) {}

SensorStream::~SensorStream() {
  if (!finished_) {
    context_->TryCancel();
    writer_->Finish();
  }
}

bool SensorStream::Write(const v1::StreamSensorDataRequest& request) { return writer_->Write(request); }

bool SensorStream::Write(const v1::CameraFrame& frame) {
  v1::StreamSensorDataRequest r;
  *r.mutable_camera_frame() = frame;
  return Write(r);
}
bool SensorStream::Write(const v1::HeadPoseSample& sample) {
  v1::StreamSensorDataRequest r;
  *r.mutable_head_pose() = sample;
  return Write(r);
}
bool SensorStream::Write(const v1::HandJointsSample& sample) {
  v1::StreamSensorDataRequest r;
  *r.mutable_hand_joints() = sample;
  return Write(r);
}
bool SensorStream::Write(const v1::EyeGazeSample& sample) {
  v1::StreamSensorDataRequest r;
  *r.mutable_eye_gaze() = sample;
  return Write(r);
}
bool SensorStream::Write(const v1::AudioChunk& chunk) {
  v1::StreamSensorDataRequest r;
  *r.mutable_audio_chunk() = chunk;
  return Write(r);
}

IngestSummary SensorStream::Finish() {
  if (finished_) throw FailedPreconditionError("sensor stream already finished");
  finished_ = true;
  writer_->WritesDone();
  ThrowIfError(writer_->Finish());
  IngestSummary s;
  s.messages_received = response_->messages_received();
  s.frames_integrated = response_->frames_integrated();
  for (const auto& d : response_->drops()) s.drops[DropName(d.reason())] += d.count();
  s.scene_position = response_->scene_position();
  return s;
}

// ---- Session --------------------------------------------------------------------------------

Session::Session(std::shared_ptr<Stubs> stubs, v1::Session info) : stubs_(std::move(stubs)), info_(std::move(info)) {}

const v1::Session& Session::Refresh() {
  v1::GetSessionRequest req;
  req.set_session_id(id());
  v1::GetSessionResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->session->GetSession(c, req, &resp); });
  info_ = resp.session();
  return info_;
}

void Session::Close(bool delete_map, bool delete_memory) {
  v1::CloseSessionRequest req;
  req.set_session_id(id());
  req.set_delete_map(delete_map);
  req.set_delete_memory(delete_memory);
  v1::CloseSessionResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->session->CloseSession(c, req, &resp); });
  info_ = resp.session();
}

std::unique_ptr<SensorStream> Session::OpenSensorStream(const SensorStreamOptions& options) {
  auto context = stubs_->Context(false);
  auto response = std::make_unique<v1::StreamSensorDataResponse>();
  auto writer = stubs_->sensor->StreamSensorData(context.get(), response.get());
  auto stream = std::make_unique<SensorStream>(std::move(context), std::move(response), std::move(writer));
  v1::StreamSensorDataRequest config;
  auto* c = config.mutable_config();
  c->set_session_id(id());
  c->set_stream_name(options.stream_name);
  c->set_ingest_mode(options.lossless ? v1::INGEST_MODE_LOSSLESS : v1::INGEST_MODE_REALTIME);
  if (options.default_intrinsics) *c->mutable_default_intrinsics() = *options.default_intrinsics;
  if (!stream->Write(config)) stream->Finish();  // throws why the server refused the stream
  return stream;
}

IngestSummary Session::StreamFrames(const std::vector<v1::CameraFrame>& frames, const SensorStreamOptions& options) {
  auto stream = OpenSensorStream(options);
  for (const auto& f : frames) {
    if (!stream->Write(f)) break;  // Finish() reports why
  }
  return stream->Finish();
}

std::unique_ptr<Watch> Session::WatchScene(const SceneWatchOptions& options,
                                           std::function<void(const v1::SceneUpdate&)> on_update) {
  v1::WatchSceneRequest request;
  request.set_session_id(id());
  auto* content = request.mutable_content();
  content->set_exclude_mesh(!options.include_mesh);
  content->set_exclude_planes(!options.include_planes);
  content->set_exclude_objects(!options.include_objects);
  content->set_exclude_anchors(!options.include_anchors);
  if (options.max_mesh_bytes_per_s > 0) {
    // Looked up by name: the field is newer than the first sora.v1 release.
    if (const auto* f = v1::WatchSceneRequest::descriptor()->FindFieldByName("max_mesh_bytes_per_s")) {
      request.GetReflection()->SetUInt32(&request, f, options.max_mesh_bytes_per_s);
    }
  }
  return StreamWatch::Create<v1::WatchSceneRequest, v1::WatchSceneResponse>(
      stubs_, options, request,
      [](Stubs& s, grpc::ClientContext* c, const v1::WatchSceneRequest& r) { return s.scene->WatchScene(c, r); },
      [on_update = std::move(on_update)](const v1::WatchSceneResponse& m) -> std::optional<v1::StreamPosition> {
        on_update(m.update());
        // A snapshot is resumable only once complete; until then a reconnect starts it again.
        if (m.update().kind() == v1::SCENE_UPDATE_KIND_DELTA || m.update().snapshot_complete()) {
          return m.update().position();
        }
        return std::nullopt;
      });
}

v1::GetSceneResponse Session::GetScene(bool include_mesh, const std::string& label) {
  v1::GetSceneRequest req;
  req.set_session_id(id());
  req.set_include_mesh(include_mesh);
  if (!label.empty()) req.mutable_object_query()->set_label(label);
  v1::GetSceneResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->GetScene(c, req, &resp); });
  return resp;
}

std::optional<v1::RaycastResponse> Session::Raycast(const v1::Ray& ray_world, float max_distance_m) {
  v1::RaycastRequest req;
  req.set_session_id(id());
  *req.mutable_ray_world() = ray_world;
  req.set_max_distance_m(max_distance_m);
  v1::RaycastResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->Raycast(c, req, &resp); });
  if (!resp.hit()) return std::nullopt;
  return resp;
}

v1::Anchor Session::CreateAnchor(const v1::Pose& pose_world_anchor, const std::string& label) {
  v1::CreateAnchorRequest req;
  req.set_session_id(id());
  *req.mutable_pose_world_anchor() = pose_world_anchor;
  req.set_label(label);
  v1::CreateAnchorResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->CreateAnchor(c, req, &resp); });
  return resp.anchor();
}

v1::Anchor Session::CreateAnchor(const v1::Ray& ray_world, const std::string& label) {
  v1::CreateAnchorRequest req;
  req.set_session_id(id());
  *req.mutable_ray_world() = ray_world;
  req.set_label(label);
  v1::CreateAnchorResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->CreateAnchor(c, req, &resp); });
  return resp.anchor();
}

std::vector<v1::Anchor> Session::ListAnchors() {
  v1::ListAnchorsRequest req;
  req.set_session_id(id());
  v1::ListAnchorsResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->ListAnchors(c, req, &resp); });
  return {resp.anchors().begin(), resp.anchors().end()};
}

void Session::DeleteAnchor(const std::string& anchor_id) {
  v1::DeleteAnchorRequest req;
  req.set_session_id(id());
  req.set_anchor_id(anchor_id);
  v1::DeleteAnchorResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->DeleteAnchor(c, req, &resp); });
}

v1::SaveMapResponse Session::SaveMap(const std::string& map_name) {
  v1::SaveMapRequest req;
  req.set_session_id(id());
  req.set_map_name(map_name);
  v1::SaveMapResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->SaveMap(c, req, &resp); });
  return resp;
}

v1::LoadMapResponse Session::LoadMap(const std::string& map_name) {
  v1::LoadMapRequest req;
  req.set_session_id(id());
  req.set_map_name(map_name);
  v1::LoadMapResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->scene->LoadMap(c, req, &resp); });
  return resp;
}

std::uint64_t Session::ExportMap(const std::string& path, v1::MeshFormat format) {
  v1::ExportMapRequest req;
  req.set_session_id(id());
  req.set_format(format);
  auto context = stubs_->Context(false);
  auto reader = stubs_->scene->ExportMap(context.get(), req);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(grpc::StatusCode::UNKNOWN, "cannot write " + path);
  std::uint64_t size = 0;
  v1::ExportMapResponse piece;
  while (reader->Read(&piece)) {
    out.write(piece.data().data(), static_cast<std::streamsize>(piece.data().size()));
    size += piece.data().size();
  }
  ThrowIfError(reader->Finish());
  return size;
}

std::unique_ptr<Watch> Session::WatchPerception(
    const PerceptionWatchOptions& options, std::function<void(const v1::WatchPerceptionResponse&)> on_event) {
  v1::WatchPerceptionRequest request;
  request.set_session_id(id());
  request.set_exclude_hands(!options.include_hands);
  request.set_exclude_gaze(!options.include_gaze);
  return StreamWatch::Create<v1::WatchPerceptionRequest, v1::WatchPerceptionResponse>(
      stubs_, options, request,
      [](Stubs& s, grpc::ClientContext* c, const v1::WatchPerceptionRequest& r) {
        return s.perception->WatchPerception(c, r);
      },
      [on_event = std::move(on_event)](const v1::WatchPerceptionResponse& m) -> std::optional<v1::StreamPosition> {
        on_event(m);
        // Latest-wins hands and gaze carry the latest event position but are not events.
        if (m.item_case() == v1::WatchPerceptionResponse::kHands ||
            m.item_case() == v1::WatchPerceptionResponse::kGaze) {
          return std::nullopt;
        }
        return m.position();
      });
}

std::unique_ptr<Conversation> Session::Converse(const ConversationOptions& options) {
  auto context = stubs_->Context(false);
  auto stream = stubs_->avatar->Converse(context.get());
  auto conversation = std::make_unique<Conversation>(std::move(context), std::move(stream));
  v1::ConverseRequest first;
  auto* c = first.mutable_config();
  c->set_session_id(id());
  c->set_persona(options.persona);
  c->set_avatar_name(options.avatar_name);
  c->set_voice(options.voice);
  c->set_language(options.language);
  c->set_engine(options.engine);
  c->set_style(options.style);
  c->set_speech_enabled(options.speech);
  c->set_output_sample_rate_hz(options.output_sample_rate_hz);
  if (options.resume_from) *c->mutable_resume_from() = *options.resume_from;
  // The config is a ConverseRequest like any turn; Conversation has no public raw write.
  conversation->SendConfig(first);
  return conversation;
}

// ---- Client ---------------------------------------------------------------------------------

Client::Client(const std::string& target, ClientOptions options) : target_(target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options.max_send_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.use_tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.root_certs_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  auto stubs = std::make_shared<Stubs>();
  stubs->channel = grpc::CreateCustomChannel(target, credentials, args);
  stubs->session = v1::SessionService::NewStub(stubs->channel);
  stubs->sensor = v1::SensorService::NewStub(stubs->channel);
  stubs->scene = v1::SceneService::NewStub(stubs->channel);
  stubs->perception = v1::PerceptionService::NewStub(stubs->channel);
  stubs->avatar = v1::AvatarService::NewStub(stubs->channel);
  stubs->options = std::move(options);
  stubs_ = std::move(stubs);
}

std::shared_ptr<grpc::Channel> Client::channel() const { return stubs_->channel; }

bool Client::WaitReady(std::chrono::milliseconds timeout) {
  return stubs_->channel->WaitForConnected(std::chrono::system_clock::now() + timeout);
}

v1::GetCapabilitiesResponse Client::Capabilities() {
  v1::GetCapabilitiesResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) {
    return stubs_->session->GetCapabilities(c, v1::GetCapabilitiesRequest(), &resp);
  });
  return resp;
}

Session Client::CreateSession(const CreateSessionOptions& options) {
  v1::CreateSessionRequest req;
  req.set_display_name(options.display_name);
  req.set_user_id(options.user_id);
  req.set_space_id(options.space_id);
  auto* o = req.mutable_options();
  o->set_pose_source(options.pose_source);
  o->set_voxel_size_m(options.voxel_size_m);
  o->set_depth_max_m(options.depth_max_m);
  o->set_recording_enabled(options.recording_enabled);
  v1::CreateSessionResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->session->CreateSession(c, req, &resp); });
  return Session(stubs_, resp.session());
}

Session Client::OpenSession(const std::string& session_id) {
  v1::GetSessionRequest req;
  req.set_session_id(session_id);
  v1::GetSessionResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->session->GetSession(c, req, &resp); });
  return Session(stubs_, resp.session());
}

std::vector<v1::Session> Client::ListSessions(bool include_closed) {
  v1::ListSessionsRequest req;
  req.set_include_closed(include_closed);
  v1::ListSessionsResponse resp;
  Unary(*stubs_, [&](grpc::ClientContext* c) { return stubs_->session->ListSessions(c, req, &resp); });
  return {resp.sessions().begin(), resp.sessions().end()};
}

}  // namespace sora
