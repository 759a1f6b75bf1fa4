#include <deque>
#include <map>
#include <optional>
#include <stdexcept>

#include "bus/publisher.hpp"
#include "core/error.hpp"
#include "core/worker.hpp"
#include "obs/log.hpp"

namespace emporium::bus {

namespace {
using namespace std::chrono_literals;

constexpr std::size_t kDeadLettersKept = 1000;
// How long an idle worker waits before it looks again (publish() and stop()
// end the wait early).
constexpr auto kIdleWait = 1h;
using Clock = std::chrono::steady_clock;

struct Pending {
  Event event;
  int attempts = 0;  // failed deliveries so far
};
}  // namespace

struct LocalBus::Queue {
  std::string name;
  std::vector<std::string> patterns;
  Handler handler;
  RetryPolicy retry;
  std::deque<Pending> ready;
  std::multimap<Clock::time_point, Pending> delayed;  // awaiting a retry
  std::deque<DeadLetter> dead;
  bool busy = false;  // a handler runs
  obs::Counter* consumed = nullptr;
  obs::Counter* failed = nullptr;
  obs::Counter* dead_lettered = nullptr;
  std::optional<core::Worker> worker;  // last: stopped before the rest goes

  std::size_t waiting() const noexcept { return ready.size() + delayed.size(); }
  bool matches(std::string_view type) const noexcept {
    for (const auto& p : patterns) {
      if (topic_matches(p, type)) {
        return true;
      }
    }
    return false;
  }
};

LocalBus::LocalBus(Metrics& metrics, std::size_t max_queued)
    : metrics_(metrics), max_queued_(max_queued) {}

LocalBus::~LocalBus() {
  stop();
}

void LocalBus::subscribe(std::string queue, std::vector<std::string> patterns, Handler handler,
                         RetryPolicy retry) {
  if (queue.empty()) {
    throw std::invalid_argument("LocalBus: empty queue name");
  }
  if (patterns.empty()) {
    throw std::invalid_argument("LocalBus: queue " + queue + " has no binding pattern");
  }
  for (const auto& p : patterns) {
    validate_pattern(p);
  }
  if (retry.max_attempts < 1) {
    throw std::invalid_argument("LocalBus: max_attempts must be >= 1");
  }
  if (!handler) {
    throw std::invalid_argument("LocalBus: queue " + queue + " has no handler");
  }
  auto q = std::make_unique<Queue>();
  q->name = std::move(queue);
  q->patterns = std::move(patterns);
  q->handler = std::move(handler);
  q->retry = retry;
  q->consumed = &metrics_.consumed.with({q->name});
  q->failed = &metrics_.failed.with({q->name});
  q->dead_lettered = &metrics_.dead_lettered.with({q->name});

  std::lock_guard lock(mutex_);
  if (stopped_) {
    throw std::invalid_argument("LocalBus: subscribe after stop");
  }
  for (const auto& other : queues_) {
    if (other->name == q->name) {
      throw std::invalid_argument("LocalBus: duplicate queue " + q->name);
    }
  }
  // Room first, then the worker, then the queue is listed: a thread that
  // cannot start leaves no queue without a worker behind, and the listing
  // cannot throw once the worker runs (it waits for this lock).
  queues_.reserve(queues_.size() + 1);
  auto& ref = *q;
  ref.worker.emplace("bus:" + ref.name, [this, &ref](core::Worker& w) { work(ref, w); });
  queues_.push_back(std::move(q));
}

void LocalBus::publish(const Event& event) {
  validate(event);
  std::lock_guard lock(mutex_);
  if (stopped_) {
    throw core::Error("local bus stopped", true);
  }
  std::vector<Queue*> targets;
  for (const auto& q : queues_) {
    if (q->matches(event.type)) {
      if (q->waiting() >= max_queued_) {
        throw core::Error("local bus queue " + q->name + " is full", true);
      }
      targets.push_back(q.get());
    }
  }
  for (auto* q : targets) {
    q->ready.push_back({event, 0});
    q->worker->wake();
  }
}

void LocalBus::work(Queue& q, core::Worker& worker) {
  std::unique_lock lock(mutex_);
  while (true) {
    // Retries that are due join the back of the queue, as RabbitMQ's
    // dead-lettering from a retry queue does.
    const auto now = Clock::now();
    while (!q.delayed.empty() && q.delayed.begin()->first <= now) {
      q.ready.push_back(std::move(q.delayed.begin()->second));
      q.delayed.erase(q.delayed.begin());
    }
    if (stopped_) {
      return;
    }
    if (q.ready.empty()) {
      // publish() wakes the worker after adding an event under the lock; a
      // wake() between unlock() and wait_for() ends the wait at once.
      const auto pause =
          q.delayed.empty()
              ? std::chrono::milliseconds(kIdleWait)
              : std::chrono::ceil<std::chrono::milliseconds>(q.delayed.begin()->first - now);
      lock.unlock();
      worker.wait_for(pause);
      lock.lock();
      continue;
    }
    Pending p = std::move(q.ready.front());
    q.ready.pop_front();
    q.busy = true;
    lock.unlock();
    const auto error = run_handler(q.handler, p.event);
    lock.lock();
    q.busy = false;
    if (!error) {
      q.consumed->inc();
    } else {
      q.failed->inc();
      ++p.attempts;
      if (p.attempts >= q.retry.max_attempts) {
        q.dead_lettered->inc();
        obs::warn("event dead-lettered", {{"queue", q.name},
                                          {"event_id", p.event.id},
                                          {"type", p.event.type},
                                          {"attempts", std::int64_t{p.attempts}},
                                          {"error", *error}});
        q.dead.push_back({std::move(p.event), p.attempts, *error});
        if (q.dead.size() > kDeadLettersKept) {
          q.dead.pop_front();
        }
      } else {
        obs::debug("event handler failed; retrying", {{"queue", q.name},
                                                      {"event_id", p.event.id},
                                                      {"attempts", std::int64_t{p.attempts}},
                                                      {"error", *error}});
        q.delayed.emplace(Clock::now() + q.retry.backoff(p.attempts), std::move(p));
      }
    }
    idle_.notify_all();
  }
}

std::vector<DeadLetter> LocalBus::dead_letters(std::string_view queue) const {
  std::lock_guard lock(mutex_);
  for (const auto& q : queues_) {
    if (q->name == queue) {
      return {q->dead.begin(), q->dead.end()};
    }
  }
  return {};
}

bool LocalBus::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] {
    for (const auto& q : queues_) {
      if (q->busy || q->waiting() > 0) {
        return false;
      }
    }
    return true;
  });
}

void LocalBus::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
    for (auto& q : queues_) {
      if (q->waiting() > 0) {
        obs::warn("local bus stopped with events queued",
                  {{"queue", q->name}, {"events", static_cast<std::int64_t>(q->waiting())}});
      }
    }
  }
  for (auto& q : queues_) {
    q->worker->stop();
  }
  idle_.notify_all();
}

}  // namespace emporium::bus
