#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

namespace emporium::core {

// One background loop on a thread of its own (task runners, outbox relays,
// consumers, probes). The body runs once and loops while running(), pausing
// with wait_for() (which wake() ends early) or sleep_for() (which only a stop
// ends). Destroying the worker, or stop(), asks the body to stop, ends any
// wait at once and joins; the body must then return promptly.
class Worker {
 public:
  using Body = std::function<void(Worker&)>;

  // Starts the thread, named `name` (the first 15 characters, as `ps -L`
  // and debuggers show it). `body` must not throw: an exception escaping it
  // ends the process (std::terminate), as any escaping thread's does.
  Worker(std::string name, Body body);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Idempotent, and safe from several threads at once; returns once the
  // body has returned (at once when called from the body itself).
  void stop() noexcept;
  // Ends the current wait_for(), or the next one if none is in progress.
  void wake() noexcept;

  // For the body: false once a stop was requested.
  bool running() const noexcept { return !stop_.stop_requested(); }
  // For the body: waits `d`, or less after wake() or a stop; returns running().
  bool wait_for(std::chrono::milliseconds d);
  // For the body: waits `d`, or less after a stop (wake() does not end it,
  // as fits a backoff); returns running().
  bool sleep_for(std::chrono::milliseconds d);

  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
  Body body_;
  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable_any cv_;
  bool woken_ = false;
  std::mutex join_mutex_;
  std::atomic<std::thread::id> self_{};  // the body's thread, once it runs
  std::jthread thread_;                  // last: starts once everything above exists
};

}  // namespace emporium::core
