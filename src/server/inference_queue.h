// The queue in front of inference: request threads hand model work to one
// worker thread and never touch the model themselves, so that health,
// search and document routes stay responsive while a model generates.
// Jobs run in arrival order (fair between concurrent chats); a full queue
// refuses new work instead of letting requests pile up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace ragd::server {

class InferenceQueue {
 public:
  explicit InferenceQueue(size_t max_waiting);
  ~InferenceQueue();
  // Queues job; false when max_waiting jobs are already waiting.
  bool Submit(std::function<void()> job);
  size_t waiting() const;

 private:
  void Run();
  const size_t max_waiting_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread worker_;
};

// Pieces of a streamed answer passed from the worker to the request thread:
// each one an OpenAI chat-completion delta ({"content": …} or
// {"tool_calls": [{index, id, function}]}).
struct StreamChannel {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<nlohmann::json> pieces;
  bool done = false;
  std::atomic<bool> cancelled{false};  // the client went away

  void Push(nlohmann::json delta) {
    std::lock_guard<std::mutex> l(mu);
    pieces.push_back(std::move(delta));
    cv.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> l(mu);
    done = true;
    cv.notify_all();
  }
  // On the request thread: hands each piece to send as it comes, until the
  // worker closes the channel. False (and cancelled set, so the worker stops
  // at its next token) when send fails: the client went away.
  bool Drain(const std::function<bool(const nlohmann::json&)>& send) {
    while (true) {
      std::deque<nlohmann::json> batch;
      bool closed;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return done || !pieces.empty(); });
        batch.swap(pieces);
        closed = done;
      }
      for (auto& p : batch)
        if (!send(p)) {
          cancelled = true;
          return false;
        }
      if (closed) return true;
    }
  }
};

}  // namespace ragd::server
