#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "bus/event.hpp"

namespace emporium::bus {

// Handles one delivered event. Returning false or throwing fails this
// delivery: it is retried after a backoff and dead-lettered after
// RetryPolicy::max_attempts failures.
//
// Consumers get every event at least once and sometimes more (a relay resends
// after a crash, a broker redelivers after a lost connection, a retry follows
// a failure that had done part of its work). The bus does not dedupe: the
// handler's owner does, by Event::id (e.g. a processed_events table written in
// the same transaction as the handler's changes), and checks Event::version.
using Handler = std::function<bool(const Event&)>;

// When a failed delivery is tried again, and when it is given up.
struct RetryPolicy {
  int max_attempts = 5;  // deliveries in all; the last failure dead-letters
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};

  // Delay after the n-th failed attempt (n >= 1): initial_backoff * 2^(n-1),
  // at most max_backoff.
  std::chrono::milliseconds backoff(int failed_attempts) const noexcept;
};

// Runs `handler`. Returns nullopt on success, else why it failed ("returned
// false" or the exception's message). Never throws.
std::optional<std::string> run_handler(const Handler& handler, const Event& event) noexcept;

}  // namespace emporium::bus
