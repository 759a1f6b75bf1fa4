#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "obs/metrics.hpp"

namespace emporium::http {

// Whether this process should receive traffic: false once shutdown begins or
// while any required dependency check fails. A check that is not required
// (a dependency the process keeps working without, e.g. the message broker
// behind a transactional outbox) is reported but leaves the process ready:
// /readyz then answers 200 with status "degraded".
class Readiness {
 public:
  using Check = std::function<bool()>;

  // Adds a named dependency check (e.g. "database"); it must return quickly
  // and must not throw.
  void add_check(std::string name, Check check, bool required = true);
  void begin_shutdown() noexcept { shutting_down_.store(true); }
  bool shutting_down() const noexcept { return shutting_down_.load(); }

  struct Report {
    bool ready = true;
    bool degraded = false;  // ready, but a check that is not required fails
    std::vector<std::pair<std::string, bool>> checks;
  };
  Report evaluate() const;

 private:
  std::atomic<bool> shutting_down_{false};
  mutable std::mutex mutex_;
  struct Entry {
    std::string name;
    Check check;
    bool required;
  };
  std::vector<Entry> checks_;
};

// Registers GET /healthz (alive: 200 while the process serves) and GET
// /readyz (200 when ready, status "ready" or "degraded"; else 503 "not
// ready"; the body names every check as "ok" or "failing"): the probes,
// served on the public port.
void add_probe_routes(Router& router, const Readiness& readiness);

// Registers GET /metrics (Prometheus text format 0.0.4), for the admin
// listener only.
void add_metrics_route(Router& router, const obs::Registry& metrics);

// The probes and /metrics: what the admin listener serves.
void add_ops_routes(Router& router, const Readiness& readiness, const obs::Registry& metrics);

}  // namespace emporium::http
