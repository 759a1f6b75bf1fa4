#include "bus/metrics.hpp"

namespace emporium::bus {

Metrics::Metrics(obs::Registry& r)
    : outbox_backlog(
          r.gauge("emporium_outbox_backlog", "Outbox rows not yet published.", {"outbox"})),
      outbox_oldest_age(r.gauge("emporium_outbox_oldest_unsent_age_seconds",
                                "Age of the oldest outbox row not yet published (0 when none).",
                                {"outbox"})),
      outbox_published(r.counter("emporium_outbox_published_total",
                                 "Outbox rows published and marked sent.", {"outbox", "type"})),
      outbox_failed(r.counter("emporium_outbox_publish_failures_total",
                              "Failed attempts to publish an outbox row.", {"outbox", "type"})),
      consumed(r.counter("emporium_bus_consumed_total", "Events handled successfully.", {"queue"})),
      failed(r.counter("emporium_bus_failed_total",
                       "Failed deliveries of events to a handler (every attempt).", {"queue"})),
      dead_lettered(r.counter("emporium_bus_dead_lettered_total",
                              "Events moved to the dead-letter queue after their last attempt.",
                              {"queue"})) {}

}  // namespace emporium::bus
