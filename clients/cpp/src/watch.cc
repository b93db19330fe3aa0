#include "sora/watch.h"

#include <algorithm>
#include <random>
#include <utility>

#include "sora/errors.h"

namespace sora {

Watch::~Watch() { Stop(); }

void Watch::Start(WatchOptions options, Attempt attempt,
                  std::function<std::unique_ptr<grpc::ClientContext>()> make_context) {
  position_ = options.resume_from;
  thread_ = std::thread([this, options = std::move(options), attempt = std::move(attempt),
                         make_context = std::move(make_context)]() mutable {
    try {
      Run(std::move(options), std::move(attempt), std::move(make_context));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stop_) error_ = std::current_exception();
    }
    done_ = true;
  });
}

void Watch::Run(WatchOptions options, Attempt attempt,
                std::function<std::unique_ptr<grpc::ClientContext>()> make_context) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  while (!stop_) {
    std::unique_ptr<grpc::ClientContext> context = make_context();
    std::optional<v1::StreamPosition> from;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      context_ = context.get();
      from = position_;
    }
    grpc::Status status = attempt(*context, from);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      context_ = nullptr;
    }
    if (stop_ || status.ok()) return;
    if (!options.auto_resume || !IsResumable(status.error_code()) || retries_ >= options.max_retries) {
      ThrowIfError(status);
    }
    ++retries_;
    ++reconnects_;
    const double base_ms = std::min<double>(static_cast<double>(options.max_backoff.count()), 50.0 * (1 << std::min(retries_, 16)));
    const auto delay = std::chrono::milliseconds(static_cast<long>(base_ms * jitter(rng)));
    std::unique_lock<std::mutex> lock(mutex_);
    stopped_cv_.wait_for(lock, delay, [this] { return stop_.load(); });
  }
}

void Watch::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  stopped_cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Watch::Wait() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

std::optional<v1::StreamPosition> Watch::position() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return position_;
}

void Watch::SetPosition(const v1::StreamPosition& position) {
  std::lock_guard<std::mutex> lock(mutex_);
  position_ = position;
}

}  // namespace sora
