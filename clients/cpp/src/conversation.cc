#include "sora/conversation.h"

#include <utility>

#include "sora/errors.h"

namespace sora {

Conversation::Conversation(
    std::unique_ptr<grpc::ClientContext> context,
    std::unique_ptr<grpc::ClientReaderWriter<v1::ConverseRequest, v1::ConverseResponse>> stream)
    : context_(std::move(context)), stream_(std::move(stream)) {}

Conversation::~Conversation() {
  if (!finished_) {
    context_->TryCancel();
    stream_->Finish();  // collects the CANCELLED status so the call's resources are released
  }
}

void Conversation::Write(const v1::ConverseRequest& request) {
  std::lock_guard<std::mutex> lock(write_mutex_);
  if (writes_done_) throw FailedPreconditionError("conversation: DoneSending() was called");
  if (!stream_->Write(request)) {
    throw UnavailableError("conversation: the stream is closed (call Finish() for the reason)");
  }
}

void Conversation::Say(const std::string& text) {
  v1::ConverseRequest r;
  r.mutable_text()->set_text(text);
  Write(r);
}

void Conversation::SendAudio(const std::vector<std::int16_t>& pcm16, std::uint32_t sample_rate_hz,
                             bool end_of_utterance) {
  v1::ConverseRequest r;
  auto* audio = r.mutable_audio();
  audio->set_sample_rate_hz(sample_rate_hz);
  audio->set_end_of_utterance(end_of_utterance);
  std::string bytes(pcm16.size() * 2, '\0');
  for (std::size_t i = 0; i < pcm16.size(); ++i) {  // little-endian on the wire
    const auto v = static_cast<std::uint16_t>(pcm16[i]);
    bytes[i * 2] = static_cast<char>(v & 0xff);
    bytes[i * 2 + 1] = static_cast<char>(v >> 8);
  }
  audio->set_pcm16(std::move(bytes));
  Write(r);
}

void Conversation::Interrupt(const std::string& reason) {
  v1::ConverseRequest r;
  r.mutable_interrupt()->set_reason(reason);
  Write(r);
}

void Conversation::DoneSending() {
  std::lock_guard<std::mutex> lock(write_mutex_);
  if (!writes_done_) {
    writes_done_ = true;
    stream_->WritesDone();
  }
}

bool Conversation::Next(v1::ConverseResponse* event) {
  if (finished_ || !stream_->Read(event)) return false;
  std::lock_guard<std::mutex> lock(position_mutex_);
  position_ = event->position();
  return true;
}

std::vector<v1::ConverseResponse> Conversation::Turn(const std::string& text) {
  Say(text);
  std::vector<v1::ConverseResponse> events;
  v1::ConverseResponse event;
  while (Next(&event)) {
    events.push_back(event);
    if (event.event_case() == v1::ConverseResponse::kTurnEnd) return events;
  }
  Finish();  // throws why the stream ended early
  throw UnavailableError("conversation ended before the turn did");
}

void Conversation::Finish() {
  if (finished_) return;
  DoneSending();  // the server ends the call only after the client half-closes
  finished_ = true;
  ThrowIfError(stream_->Finish());
}

void Conversation::Cancel() { context_->TryCancel(); }

std::optional<v1::StreamPosition> Conversation::position() const {
  std::lock_guard<std::mutex> lock(position_mutex_);
  return position_;
}

}  // namespace sora
