#include "http/call_policy.hpp"

#include <random>
#include <stdexcept>

namespace emporium::http {

void throw_exception_from_error(const ClientError& e, const boost::source_location&) {
  throw std::runtime_error("http client: " + e.message);
}

namespace {

// Methods safe to send twice. PUT and DELETE are idempotent in HTTP's sense,
// but the API's DELETE answers 409 or 404 the second time, so they are
// retried only with an Idempotency-Key.
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

bool retryable_status(int status) {
  return status == 502 || status == 503 || status == 504;
}

}  // namespace

CallPolicy::CallPolicy(const ClientOptions& options, obs::Registry* metrics) : options_(options) {
  if (metrics != nullptr) {
    calls_ = &metrics->counter("emporium_http_client_calls_total",
                               "Calls to upstream services, by upstream and outcome.",
                               {"upstream", "outcome"});
    breaker_open_ =
        &metrics
             ->gauge("emporium_http_client_breaker_open",
                     "1 while the circuit breaker to an upstream is open.", {"upstream"})
             .with({options_.name});
  }
}

bool CallPolicy::may_retry(std::string_view method, const CallOptions& options) {
  return idempotent(method) || options.headers.has("Idempotency-Key");
}

ClientError CallPolicy::deadline_passed() {
  return ClientError{ClientErrc::timeout, "deadline passed before the first attempt"};
}

BreakerState CallPolicy::state() const {
  std::lock_guard lock(mutex_);
  if (state_ == BreakerState::open && std::chrono::steady_clock::now() >= open_until_) {
    return BreakerState::half_open;
  }
  return state_;
}

bool CallPolicy::admit() {
  std::lock_guard lock(mutex_);
  if (state_ == BreakerState::closed) {
    return true;
  }
  if (state_ == BreakerState::open) {
    if (std::chrono::steady_clock::now() < open_until_) {
      return false;
    }
    state_ = BreakerState::half_open;
    probe_in_flight_ = false;
  }
  if (probe_in_flight_) {
    return false;
  }
  probe_in_flight_ = true;
  return true;
}

ClientError CallPolicy::circuit_open() {
  if (calls_ != nullptr) {
    calls_->with({options_.name, "circuit_open"}).inc();
  }
  return ClientError{ClientErrc::circuit_open, "circuit open for " + options_.name};
}

void CallPolicy::record(bool success) {
  std::lock_guard lock(mutex_);
  if (success) {
    consecutive_failures_ = 0;
    state_ = BreakerState::closed;
    probe_in_flight_ = false;
  } else {
    ++consecutive_failures_;
    if (state_ == BreakerState::half_open || consecutive_failures_ >= options_.breaker_threshold) {
      state_ = BreakerState::open;
      open_until_ = std::chrono::steady_clock::now() + options_.breaker_open_for;
      probe_in_flight_ = false;
    }
  }
  if (breaker_open_ != nullptr) {
    breaker_open_->set(state_ == BreakerState::open ? 1.0 : 0.0);
  }
}

void CallPolicy::finished(const ClientResult& result) {
  const bool failed = !result.has_value() || result->status >= 500;
  record(!failed);
  if (calls_ != nullptr) {
    calls_->with({options_.name, !result.has_value() ? "error" : failed ? "5xx" : "ok"}).inc();
  }
}

std::optional<std::chrono::milliseconds> CallPolicy::pause_before_retry(
    const ClientResult& result, bool may_retry, int n,
    std::chrono::steady_clock::time_point deadline) const {
  const bool retry = may_retry && (!result.has_value() || retryable_status(result->status));
  if (!retry || n + 1 >= options_.max_attempts) {
    return std::nullopt;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto cap = std::min<std::int64_t>(options_.backoff_max.count(),
                                          options_.backoff_base.count() << std::min(n, 20));
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(0, cap));
  const auto pause = std::chrono::milliseconds(jitter(rng));
  if (std::chrono::steady_clock::now() + pause >= deadline) {
    return std::nullopt;
  }
  return pause;
}

}  // namespace emporium::http
