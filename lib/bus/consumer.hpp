#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bus/handler.hpp"
#include "bus/metrics.hpp"
#include "bus/publisher.hpp"
#include "core/worker.hpp"

namespace emporium::bus {

struct ConsumerOptions {
  std::string url{};      // amqp://user:pass@host:port[/vhost], as RabbitOptions::url
  std::string ca_file{};  // for amqps://, as RabbitOptions::ca_file
  // The service's durable queue, e.g. "notification.orders". Also declared:
  // "<queue>.retry" (failed deliveries wait there, then dead-letter back into
  // <queue>) and "<queue>.dead" (deliveries given up on).
  std::string queue{};
  std::vector<std::string> bindings{};  // topic patterns on `exchange`, e.g. {"order.*"}
  std::string exchange{kExchange};
  RetryPolicy retry{};
  std::uint16_t prefetch = 8;  // unacknowledged deliveries in flight
  // Deadline of connecting, each RPC and each publisher confirm (retry and
  // dead-letter publishes). stop() can take this long when it catches a
  // connect in progress.
  std::chrono::milliseconds timeout{1'000};
  std::chrono::milliseconds reconnect_min{200};  // first wait after a failure
  std::chrono::milliseconds reconnect_max{5'000};
  // AMQP heartbeat. Heartbeats go out only between deliveries: a handler
  // running longer than about twice this loses the connection, and its
  // delivery comes again.
  int heartbeat_seconds = 30;
  std::string connection_name = "emporium";
};

// Declares what a RabbitConsumer with `options` declares when it subscribes:
// the exchange, the durable queue with its "<queue>.retry" and
// "<queue>.dead" queues, and the bindings; idempotent. For deploy-time set-up
// (emporium migrate), so that events published before the consumer first
// runs wait in its queue instead of being dropped as unroutable. Throws
// core::Error (transient) when the broker cannot be reached.
void declare_queue(const ConsumerOptions& options);

// Consumes a durable queue bound to the exchange, with manual acks, on a
// thread of its own, calling `handler` once per delivery.
//
// - Success: the delivery is acked.
// - Failure (false or an exception): the message is republished to
//   "<queue>.retry" with header x-attempts = failures so far and a
//   per-message TTL of RetryPolicy::backoff; when it expires the broker
//   dead-letters it back to "<queue>" (a message expires only at the head of
//   the retry queue, so a short delay can wait behind a longer one). After
//   the max_attempts-th failure it goes to "<queue>.dead" instead (headers
//   x-attempts, x-last-error, x-original-routing-key) for an operator to look
//   at or shovel back. A body that is not a valid envelope goes there at once.
//   Either way the original is acked only after the broker confirmed the
//   republish, so nothing is lost; a crash in between duplicates.
// - The broker gone: the consumer reconnects with backoff (reconnect_min
//   doubling to reconnect_max) and resumes; unacked deliveries are redelivered.
//
// There is no deduplication here: the handler's owner dedupes by Event::id
// (see Handler).
class RabbitConsumer {
 public:
  // Starts the thread, which connects (and keeps retrying) on its own.
  // Throws std::invalid_argument for a bad URL, queue name, pattern or policy.
  RabbitConsumer(ConsumerOptions options, Handler handler, Metrics& metrics);
  ~RabbitConsumer();  // stop()
  RabbitConsumer(const RabbitConsumer&) = delete;
  RabbitConsumer& operator=(const RabbitConsumer&) = delete;

  // Stops consuming and joins the thread, within about 200 ms plus the
  // running handler (or up to `timeout` during a connect). Deliveries not yet
  // acked are redelivered by the broker later. Idempotent.
  void stop() noexcept;

  // True while subscribed to the queue (for readiness checks and tests).
  bool connected() const noexcept { return connected_.load(); }

 private:
  struct Session;   // one connection to the broker
  struct Delivery;  // one message taken off the queue, not yet settled
  // Reconnects with backoff until stopped.
  void run(core::Worker& worker);
  // One connection: subscribes, then takes deliveries until stopped; throws
  // when the connection fails.
  void session(const core::Worker& worker);
  // Declares the topology and starts consuming on `s`.
  void subscribe(Session& s);
  // Runs the handler on `d`: acks it when taken, else retries or dead-letters it.
  void handle(Session& s, Delivery& d);
  // Republishes `d` to "<queue>.retry", or to "<queue>.dead" when malformed or
  // out of attempts, then acks it (nacks it back to the queue and throws when
  // the republish fails).
  void retry_or_dead_letter(Session& s, const Delivery& d);

  ConsumerOptions options_;
  Handler handler_;
  obs::Counter& consumed_;
  obs::Counter& failed_;
  obs::Counter& dead_lettered_;
  std::atomic<bool> connected_{false};
  // Last, started once the options are validated.
  std::optional<core::Worker> worker_;
};

}  // namespace emporium::bus
