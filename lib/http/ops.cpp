#include "http/ops.hpp"

#include <boost/json.hpp>

namespace emporium::http {

void Readiness::add_check(std::string name, Check check, bool required) {
  std::lock_guard lock(mutex_);
  checks_.push_back(Entry{std::move(name), std::move(check), required});
}

Readiness::Report Readiness::evaluate() const {
  Report r;
  if (shutting_down()) {
    r.ready = false;
    r.checks.emplace_back("shutdown", false);
    return r;
  }
  std::lock_guard lock(mutex_);
  for (const auto& e : checks_) {
    const bool ok = e.check();
    if (!ok) {
      if (e.required) {
        r.ready = false;
      } else {
        r.degraded = true;
      }
    }
    r.checks.emplace_back(e.name, ok);
  }
  r.degraded = r.ready && r.degraded;
  return r;
}

void add_probe_routes(Router& router, const Readiness& readiness) {
  router.add(
      "GET", "/healthz", [](Request&) { return Response::json(200, R"({"status":"ok"})"); },
      RouteOptions{.blocking = false});
  router.add(
      "GET", "/readyz",
      [&readiness](Request&) {
        const auto report = readiness.evaluate();
        boost::json::object checks;
        for (const auto& [name, ok] : report.checks) {
          checks[name] = ok ? "ok" : "failing";
        }
        const char* status = !report.ready ? "not ready" : report.degraded ? "degraded" : "ready";
        boost::json::object body{{"status", status}, {"checks", std::move(checks)}};
        return Response::json(report.ready ? 200 : 503, boost::json::serialize(body));
      },
      RouteOptions{.blocking = true});
}

void add_metrics_route(Router& router, const obs::Registry& metrics) {
  router.add(
      "GET", "/metrics",
      [&metrics](Request&) {
        return Response::text(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
      },
      RouteOptions{.blocking = true});
}

void add_ops_routes(Router& router, const Readiness& readiness, const obs::Registry& metrics) {
  add_probe_routes(router, readiness);
  add_metrics_route(router, metrics);
}

}  // namespace emporium::http
