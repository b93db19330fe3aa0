// Streams a TUM or Redwood RGB-D folder to a Sora server, mirrors the scene it builds, then talks
// to the avatar, printing one event per line:
//
//   sora_stream_dataset [--server HOST:PORT] [--token TOKEN] [--max-frames N] [--resume-after N]
//                       [--say TEXT]... [--speech] [--timeout-s S] DATASET_FOLDER
//
// Lines are `topic key=value ...` (strings quoted), stable for scripts:
//   session id=...
//   scene update kind=delta position=EPOCH:SEQ upserted=N removed=N planes=N objects=N
//   ingest messages=N integrated=N position=EPOCH:SEQ
//   scene final position=... chunks=N vertices=N triangles=N snapshots=N deltas=N ...
//   scene chunk block=X,Y,Z version=N vertices=N triangles=N
//   avatar text turn=ID text="..."      (and audio, visemes, emotion, look_at, body, turn_end)
//
// --resume-after N streams N frames, stops watching, streams the rest, and resumes the scene
// watch from the last position it applied: the missed versions arrive as deltas, no snapshot.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "dataset.h"
#include "sora/sora.h"

namespace {

namespace v1 = sora::v1;

std::mutex g_print_mutex;

void Print(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_print_mutex);
  std::cout << line << '\n' << std::flush;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "\"";
}

std::string Pos(const v1::StreamPosition& p) { return std::to_string(p.epoch()) + ":" + std::to_string(p.sequence()); }

std::string Lower(std::string s, const std::string& prefix) {
  if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Args {
  std::string server = "127.0.0.1:50051";
  std::string token;
  std::string dataset;
  std::size_t max_frames = 0;
  std::size_t resume_after = 0;
  std::vector<std::string> say;
  bool speech = false;
  int timeout_s = 60;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--server") a.server = value();
    else if (arg == "--token") a.token = value();
    else if (arg == "--max-frames") a.max_frames = std::stoul(value());
    else if (arg == "--resume-after") a.resume_after = std::stoul(value());
    else if (arg == "--say") a.say.push_back(value());
    else if (arg == "--speech") a.speech = true;
    else if (arg == "--timeout-s") a.timeout_s = std::stoi(value());
    else if (arg == "-h" || arg == "--help") throw std::invalid_argument("");
    else if (!arg.empty() && arg[0] == '-') throw std::invalid_argument("unknown option " + arg);
    else a.dataset = arg;
  }
  if (a.dataset.empty()) throw std::invalid_argument("no dataset folder given");
  return a;
}

// The scene mirror, shared between the watch thread (writer) and main (reader).
struct MirrorState {
  std::mutex mutex;
  std::condition_variable changed;
  sora::SceneMirror mirror;
  bool have_first_after_resume = false;
  bool resumed = false;
  std::string first_after_resume;
};

void OnSceneUpdate(MirrorState& state, const v1::SceneUpdate& u) {
  std::ostringstream line;
  line << "scene update kind=" << Lower(v1::SceneUpdateKind_Name(u.kind()), "SCENE_UPDATE_KIND_")
       << " position=" << Pos(u.position()) << " upserted=" << u.upserted_chunks_size()
       << " removed=" << u.removed_chunks_size() << " planes=" << u.upserted_planes_size()
       << " objects=" << u.upserted_objects_size();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (state.resumed && !state.have_first_after_resume) {
      state.have_first_after_resume = true;
      state.first_after_resume = "kind=" + Lower(v1::SceneUpdateKind_Name(u.kind()), "SCENE_UPDATE_KIND_") +
                                 " position=" + Pos(u.position());
    }
    if (state.mirror.Apply(u) == sora::ApplyResult::kDuplicate) line << " duplicate=1";
    Print(line.str());  // under the lock, so it precedes whatever main prints once woken
  }
  state.changed.notify_all();
}

void OnPerception(const v1::WatchPerceptionResponse& m) {
  std::ostringstream line;
  line << "perception ";
  switch (m.item_case()) {
    case v1::WatchPerceptionResponse::kHands:
      line << "hands count=" << m.hands().hands_size();
      break;
    case v1::WatchPerceptionResponse::kGaze:
      line << "gaze target=" << Lower(v1::TargetKind_Name(m.gaze().target().kind()), "TARGET_KIND_")
           << " label=" << Quote(m.gaze().target().label());
      break;
    case v1::WatchPerceptionResponse::kGesture:
      line << "gesture type=" << Lower(v1::GestureType_Name(m.gesture().gesture()), "GESTURE_TYPE_")
           << " phase=" << Lower(v1::EventPhase_Name(m.gesture().phase()), "EVENT_PHASE_");
      break;
    case v1::WatchPerceptionResponse::kPointing:
      line << "pointing target=" << Lower(v1::TargetKind_Name(m.pointing().target().kind()), "TARGET_KIND_")
           << " label=" << Quote(m.pointing().target().label());
      break;
    case v1::WatchPerceptionResponse::kFixation:
      line << "fixation phase=" << Lower(v1::EventPhase_Name(m.fixation().phase()), "EVENT_PHASE_")
           << " label=" << Quote(m.fixation().target().label());
      break;
    case v1::WatchPerceptionResponse::kInteraction:
      line << "interaction object=" << m.interaction().object_id();
      break;
    default:
      line << "unknown";
  }
  line << " position=" << Pos(m.position());
  Print(line.str());
}

void PrintAvatarEvent(const v1::ConverseResponse& e) {
  std::ostringstream line;
  line << "avatar ";
  switch (e.event_case()) {
    case v1::ConverseResponse::kTranscript:
      line << "transcript text=" << Quote(e.transcript().text()) << " final=" << e.transcript().is_final();
      break;
    case v1::ConverseResponse::kTextDelta:
      line << "text text=" << Quote(e.text_delta().text());
      break;
    case v1::ConverseResponse::kAudio:
      line << "audio samples=" << e.audio().pcm16().size() / 2 << " rate=" << e.audio().sample_rate_hz()
           << " start_s=" << e.audio().start_s();
      break;
    case v1::ConverseResponse::kVisemes:
      line << "visemes keys=" << e.visemes().keys_size() << " blendshapes=" << e.visemes().blendshapes_size();
      break;
    case v1::ConverseResponse::kEmotion:
      line << "emotion emotion=" << Lower(v1::Emotion_Name(e.emotion().emotion()), "EMOTION_")
           << " intensity=" << e.emotion().intensity();
      break;
    case v1::ConverseResponse::kLookAt:
      line << "look_at target=" << Lower(v1::TargetKind_Name(e.look_at().target().kind()), "TARGET_KIND_")
           << " label=" << Quote(e.look_at().target().label());
      break;
    case v1::ConverseResponse::kPointAt:
      line << "point_at target=" << Lower(v1::TargetKind_Name(e.point_at().target().kind()), "TARGET_KIND_")
           << " label=" << Quote(e.point_at().target().label());
      break;
    case v1::ConverseResponse::kBody:
      line << "body gesture=" << Lower(v1::BodyGesture_Name(e.body().gesture()), "BODY_GESTURE_");
      break;
    case v1::ConverseResponse::kTurnEnd:
      line << "turn_end reason=" << Lower(v1::TurnEndReason_Name(e.turn_end().reason()), "TURN_END_REASON_")
           << " spoken_s=" << e.turn_end().spoken_s() << " spoken_text=" << Quote(e.turn_end().spoken_text());
      break;
    default:
      line << "unknown";
  }
  line << " turn=" << e.turn_id() << " position=" << Pos(e.position());
  Print(line.str());
}

// Streams frames [begin, end) on one sensor stream.
sora::IngestSummary StreamRange(sora::Session& session, const example::Dataset& data, std::size_t begin,
                                std::size_t end) {
  sora::SensorStreamOptions options;
  options.stream_name = "cpp-example";
  options.lossless = true;
  auto stream = session.OpenSensorStream(options);
  for (std::size_t i = begin; i < end; ++i) {
    if (!stream->Write(example::LoadFrame(data, data.frames[i]))) break;  // Finish() says why
  }
  sora::IngestSummary s = stream->Finish();
  std::ostringstream line;
  line << "ingest messages=" << s.messages_received << " integrated=" << s.frames_integrated
       << " position=" << Pos(s.scene_position);
  for (const auto& [reason, count] : s.drops) line << " dropped_" << reason << "=" << count;
  Print(line.str());
  return s;
}

bool WaitFor(MirrorState& state, const v1::StreamPosition& target, const sora::Watch& watch, int timeout_s) {
  std::unique_lock<std::mutex> lock(state.mutex);
  return state.changed.wait_for(lock, std::chrono::seconds(timeout_s),
                                [&] { return state.mirror.Reached(target) || watch.done(); }) &&
         state.mirror.Reached(target);
}

int Run(const Args& args) {
  example::Dataset data = example::ReadDataset(args.dataset);
  // Frames without a pose cannot be fused with client poses; leave them out.
  data.frames.erase(std::remove_if(data.frames.begin(), data.frames.end(),
                                   [](const auto& f) { return !f.pose_world_camera; }),
                    data.frames.end());
  if (args.max_frames > 0 && data.frames.size() > args.max_frames) data.frames.resize(args.max_frames);
  if (data.frames.empty()) throw std::runtime_error("no posed frames in " + args.dataset);
  Print("dataset format=" + data.format + " frames=" + std::to_string(data.frames.size()));

  sora::ClientOptions client_options;
  if (!args.token.empty()) client_options.metadata.emplace_back("authorization", "Bearer " + args.token);
  sora::Client client(args.server, client_options);
  if (!client.WaitReady(std::chrono::seconds(args.timeout_s))) {
    throw sora::UnavailableError("no Sora server at " + args.server);
  }
  sora::CreateSessionOptions session_options;
  session_options.display_name = "cpp-example";
  sora::Session session = client.CreateSession(session_options);
  Print("session id=" + session.id());

  MirrorState state;
  auto on_update = [&state](const v1::SceneUpdate& u) { OnSceneUpdate(state, u); };
  auto scene_watch = session.WatchScene({}, on_update);
  auto perception_watch = session.WatchPerception({}, OnPerception);

  const std::size_t split = std::min(args.resume_after, data.frames.size());
  v1::StreamPosition target;
  if (split > 0 && split < data.frames.size()) {
    target = StreamRange(session, data, 0, split).scene_position;
    if (!WaitFor(state, target, *scene_watch, args.timeout_s)) throw std::runtime_error("scene watch did not catch up");
    scene_watch->Stop();
    v1::StreamPosition applied;
    {
      std::lock_guard<std::mutex> lock(state.mutex);
      applied = *state.mirror.position();
      state.resumed = true;
    }
    Print("scene watch stopped position=" + Pos(applied));
    target = StreamRange(session, data, split, data.frames.size()).scene_position;
    sora::SceneWatchOptions resume;
    resume.resume_from = applied;
    scene_watch = session.WatchScene(resume, on_update);
  } else {
    target = StreamRange(session, data, 0, data.frames.size()).scene_position;
  }
  if (!WaitFor(state, target, *scene_watch, args.timeout_s)) {
    scene_watch->Wait();  // rethrows the stream's error, if that is why
    throw std::runtime_error("scene watch did not reach " + Pos(target));
  }
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const auto& m = state.mirror;
    if (state.resumed) Print("scene resumed " + state.first_after_resume);
    std::ostringstream line;
    line << "scene final position=" << Pos(*m.position()) << " chunks=" << m.chunks().size()
         << " vertices=" << m.vertex_count() << " triangles=" << m.triangle_count() << " planes=" << m.planes().size()
         << " objects=" << m.objects().size() << " snapshots=" << m.snapshots() << " deltas=" << m.deltas()
         << " duplicates=" << m.duplicates() << " reconnects=" << scene_watch->reconnects();
    Print(line.str());
    float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
    for (const auto& [key, chunk] : m.chunks()) {
      std::ostringstream c;
      c << "scene chunk block=" << key[0] << "," << key[1] << "," << key[2] << " version=" << chunk.version
        << " vertices=" << chunk.vertex_count() << " triangles=" << chunk.triangle_count();
      Print(c.str());
      for (std::size_t i = 0; i < chunk.vertices.size(); ++i) {
        lo[i % 3] = std::min(lo[i % 3], chunk.vertices[i]);
        hi[i % 3] = std::max(hi[i % 3], chunk.vertices[i]);
      }
    }
    char bounds[200];
    std::snprintf(bounds, sizeof bounds, "scene bounds min=%.4f,%.4f,%.4f max=%.4f,%.4f,%.4f", lo[0], lo[1], lo[2],
                  hi[0], hi[1], hi[2]);
    Print(bounds);
  }

  if (!args.say.empty()) {
    sora::ConversationOptions conversation_options;
    conversation_options.speech = args.speech;
    auto conversation = session.Converse(conversation_options);
    for (const auto& text : args.say) {
      Print("avatar say text=" + Quote(text));
      for (const auto& event : conversation->Turn(text)) PrintAvatarEvent(event);
    }
    conversation->DoneSending();
    v1::ConverseResponse rest;
    while (conversation->Next(&rest)) PrintAvatarEvent(rest);
    conversation->Finish();
  }
  scene_watch->Stop();
  perception_watch->Stop();
  Print("done");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = Parse(argc, argv);
  } catch (const std::exception& e) {
    if (*e.what()) std::cerr << "error: " << e.what() << "\n";
    std::cerr << "usage: sora_stream_dataset [--server HOST:PORT] [--token TOKEN] [--max-frames N]\n"
                 "                           [--resume-after N] [--say TEXT]... [--speech] [--timeout-s S]\n"
                 "                           DATASET_FOLDER\n";
    return 2;
  }
  try {
    return Run(args);
  } catch (const sora::Error& e) {
    Print("error code=" + std::to_string(static_cast<int>(e.code())) + " reason=" + e.reason() +
          " message=" + Quote(e.what()));
  } catch (const std::exception& e) {
    Print(std::string("error message=") + Quote(e.what()));
  }
  return 1;
}
