#include "core/worker.hpp"

#include <pthread.h>

namespace emporium::core {

Worker::Worker(std::string name, Body body)
    : name_(std::move(name)), body_(std::move(body)), thread_([this] {
        self_ = std::this_thread::get_id();
        pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
        body_(*this);
      }) {}

Worker::~Worker() {
  stop();
}

void Worker::stop() noexcept {
  stop_.request_stop();
  cv_.notify_all();
  if (std::this_thread::get_id() == self_.load()) {
    return;  // from the body: it returns by itself now
  }
  // Callers on several threads at once: one joins, the others wait for it.
  std::lock_guard lock(join_mutex_);
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Worker::wake() noexcept {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool Worker::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, stop_.get_token(), d, [this] { return woken_; });
  woken_ = false;
  return running();
}

bool Worker::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, stop_.get_token(), d, [] { return false; });
  return running();
}

}  // namespace emporium::core
