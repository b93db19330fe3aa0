// AvatarService.Converse: a bidirectional stream of user turns and ordered avatar events.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include "sora/v1/avatar.grpc.pb.h"

namespace sora {

struct ConversationOptions {
  std::string persona;
  std::string avatar_name = "Sora";
  /// espeak-ng voice name.
  std::string voice = "en-us";
  /// BCP-47 tag; empty for the server default.
  std::string language;
  v1::DialogueEngine engine = v1::DIALOGUE_ENGINE_EMBEDDED;
  v1::ResponseStyle style = v1::RESPONSE_STYLE_UNSPECIFIED;
  /// Synthesise speech audio and visemes; text only when false.
  bool speech = false;
  /// Output sample rate, Hz; 0 for the synthesiser's own.
  std::uint32_t output_sample_rate_hz = 0;
  /// Continue the event stream after a disconnect.
  std::optional<v1::StreamPosition> resume_from;
};

/// One conversation. Writes (Say, SendAudio, Interrupt, DoneSending) may come from one thread
/// while another reads events with Next(); the destructor cancels the call if it is still open.
class Conversation {
 public:
  Conversation(std::unique_ptr<grpc::ClientContext> context,
               std::unique_ptr<grpc::ClientReaderWriter<v1::ConverseRequest, v1::ConverseResponse>> stream);
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  /// Sends a text turn.
  void Say(const std::string& text);
  /// Sends user speech (little-endian int16 mono); `end_of_utterance` on the last chunk.
  void SendAudio(const std::vector<std::int16_t>& pcm16, std::uint32_t sample_rate_hz, bool end_of_utterance);
  /// Asks the avatar to stop its current turn (it ends with TURN_END_REASON_INTERRUPTED).
  void Interrupt(const std::string& reason = {});
  /// Half-closes the stream: no more turns. Events already owed still arrive.
  void DoneSending();

  /// Blocks for the next event; false when the stream has ended (then call Finish()).
  bool Next(v1::ConverseResponse* event);
  /// Says `text` and collects the answer's events up to and including its turn_end.
  std::vector<v1::ConverseResponse> Turn(const std::string& text);
  /// Waits for the end of the stream; throws the error it ended with.
  void Finish();
  /// Cancels the call.
  void Cancel();

  /// Position of the last event read: pass it as `resume_from` to continue after a disconnect.
  std::optional<v1::StreamPosition> position() const;

  /// Sends the ConversationConfig; Session::Converse does this once, first.
  void SendConfig(const v1::ConverseRequest& config) { Write(config); }

 private:
  void Write(const v1::ConverseRequest& request);

  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ConverseRequest, v1::ConverseResponse>> stream_;
  mutable std::mutex write_mutex_;
  mutable std::mutex position_mutex_;
  std::optional<v1::StreamPosition> position_;
  bool writes_done_ = false;
  bool finished_ = false;
};

}  // namespace sora
