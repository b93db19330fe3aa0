// Server-streaming subscriptions (scene, perception) that resume by themselves.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <grpcpp/client_context.h>

#include "sora/v1/types.pb.h"

namespace sora {

struct WatchOptions {
  /// Continue after this position (the last one the caller applied); unset for a fresh start.
  std::optional<v1::StreamPosition> resume_from;
  /// Re-subscribe from the last delivered position when the stream ends with UNAVAILABLE or
  /// RESOURCE_EXHAUSTED (server restart, drain, a subscriber that fell behind).
  bool auto_resume = true;
  /// Consecutive failed attempts before giving up.
  int max_retries = 20;
  /// Backoff: 50 ms doubling per retry up to this, with +-50 % jitter.
  std::chrono::milliseconds max_backoff{2000};
};

/// A running subscription. Callbacks run on the watch's own thread, one at a time, in order.
/// Destroying the watch stops it.
class Watch {
 public:
  virtual ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  /// Cancels the stream and joins the thread. Idempotent.
  void Stop();
  /// Blocks until the stream ends; rethrows the error that ended it (never after Stop()).
  void Wait();
  /// Whether the stream has ended.
  bool done() const noexcept { return done_.load(); }
  /// The last position delivered that a resume would continue from.
  std::optional<v1::StreamPosition> position() const;
  /// How many times the stream was re-opened after an error.
  int reconnects() const noexcept { return reconnects_.load(); }

 protected:
  Watch() = default;
  /// One attempt: open the stream on `context` from `resume_from`, deliver messages, return the
  /// status it ended with. Implementations call SetPosition() as messages are delivered.
  using Attempt = std::function<grpc::Status(grpc::ClientContext& context,
                                             const std::optional<v1::StreamPosition>& resume_from)>;
  void Start(WatchOptions options, Attempt attempt,
             std::function<std::unique_ptr<grpc::ClientContext>()> make_context);
  void SetPosition(const v1::StreamPosition& position);
  /// Resets the retry counter (a message arrived, so the connection works).
  void MarkHealthy() noexcept { retries_ = 0; }

 private:
  void Run(WatchOptions options, Attempt attempt,
           std::function<std::unique_ptr<grpc::ClientContext>()> make_context);

  mutable std::mutex mutex_;
  std::condition_variable stopped_cv_;
  grpc::ClientContext* context_ = nullptr;  // the live attempt's, guarded by mutex_
  std::optional<v1::StreamPosition> position_;
  std::exception_ptr error_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<int> reconnects_{0};
  int retries_ = 0;
};

}  // namespace sora
