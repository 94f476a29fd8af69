#include "server/inference_queue.h"

namespace ragd::server {

InferenceQueue::InferenceQueue(size_t max_waiting) : max_waiting_(max_waiting), worker_([this] { Run(); }) {}

InferenceQueue::~InferenceQueue() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

bool InferenceQueue::Submit(std::function<void()> job) {
  std::lock_guard<std::mutex> l(mu_);
  if (jobs_.size() >= max_waiting_) return false;
  jobs_.push_back(std::move(job));
  cv_.notify_all();
  return true;
}

size_t InferenceQueue::waiting() const {
  std::lock_guard<std::mutex> l(mu_);
  return jobs_.size();
}

void InferenceQueue::Run() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace ragd::server
