#pragma once

#include "obs/metrics.hpp"

namespace emporium::bus {

// The bus's metric families. Create one per Registry (a Registry does not
// merge families registered twice under one name) and pass it to every
// OutboxRelay, RabbitConsumer and LocalBus of the process.
//
//   emporium_outbox_backlog{outbox}                      unsent rows
//   emporium_outbox_oldest_unsent_age_seconds{outbox}    age of the oldest
//   emporium_outbox_published_total{outbox,type}         rows published
//   emporium_outbox_publish_failures_total{outbox,type}  failed publishes
//   emporium_bus_consumed_total{queue}        events handled successfully
//   emporium_bus_failed_total{queue}          failed deliveries (each attempt)
//   emporium_bus_dead_lettered_total{queue}   events given up on
struct Metrics {
  explicit Metrics(obs::Registry& registry);

  obs::Family<obs::Gauge>& outbox_backlog;
  obs::Family<obs::Gauge>& outbox_oldest_age;
  obs::Family<obs::Counter>& outbox_published;
  obs::Family<obs::Counter>& outbox_failed;
  obs::Family<obs::Counter>& consumed;
  obs::Family<obs::Counter>& failed;
  obs::Family<obs::Counter>& dead_lettered;
};

}  // namespace emporium::bus
