#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event.hpp"
#include "bus/handler.hpp"
#include "bus/metrics.hpp"

namespace emporium::core {
class Worker;
}  // namespace emporium::core

namespace emporium::bus {

// Where an OutboxRelay sends events: RabbitMQ in the split shape, the
// in-process LocalBus in the all-in-one shape.
class Publisher {
 public:
  virtual ~Publisher() = default;

  // Returns once the event is safely with the bus (RabbitMQ: confirmed by the
  // broker). Throws core::Error, transient, when it may not be (the event
  // must then be sent again; it may have arrived, so this can duplicate), and
  // std::invalid_argument for an invalid event.
  virtual void publish(const Event& event) = 0;
};

// The topic exchange every service publishes to.
inline constexpr std::string_view kExchange = "emporium.events";

struct RabbitOptions {
  // amqp://user:pass@host:port[/vhost] (percent-encoded). Without a path the
  // vhost is "/"; a URL ending in "/" means the vhost "", which RabbitMQ
  // refuses.
  std::string url{};
  // For amqps:// URLs: the CA certificates (PEM file) that sign the broker's
  // certificate (required, readable).
  std::string ca_file{};
  std::string exchange{kExchange};
  // Deadline of connecting (TCP and AMQP handshake), of each RPC, and of the
  // broker's confirmation of each message.
  std::chrono::milliseconds timeout{5'000};
  std::string connection_name = "emporium";  // shown by rabbitmqctl list_connections
};

// Publishes to a durable topic exchange (declared on connect) with the event
// type as routing key, as persistent (delivery_mode 2) application/json
// messages whose message_id is the event id and whose type property is the
// event type; the body is the JSON envelope (encode()). The channel is in
// confirm mode: publish() returns only after the broker's basic.ack.
//
// Connects lazily on the first publish and again after any failure (the next
// publish reconnects). An unconfirmed publish on a connection that turns out
// dead is tried once more on a fresh one within the same deadline. Thread-safe:
// a mutex serialises publishers.
class RabbitPublisher final : public Publisher {
 public:
  // Does not connect. Throws std::invalid_argument for a malformed URL.
  explicit RabbitPublisher(RabbitOptions options);
  ~RabbitPublisher() override;
  RabbitPublisher(const RabbitPublisher&) = delete;
  RabbitPublisher& operator=(const RabbitPublisher&) = delete;

  void publish(const Event& event) override;

  // Connects (and declares the exchange) unless connected: a start-up or
  // readiness check. Throws core::Error (transient) on failure.
  void connect();

  // For a background readiness probe (it may block up to the connect
  // timeout, or behind a publish in progress; never call it from a request):
  // until a connect or publish has succeeded, and after one failed, a full
  // connect (TCP, TLS, login, exchange); otherwise a TCP connection to the
  // broker within `timeout`. True when that worked.
  bool probe(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A dead-lettered event of a LocalBus queue.
struct DeadLetter {
  Event event{};
  int attempts = 0;
  std::string error{};  // why the last attempt failed
};

// The in-process bus of the all-in-one shape, with the semantics of
// RabbitPublisher + RabbitConsumer: each subscriber is a queue bound to topic
// patterns, with its own FIFO and worker thread, so publish() never waits for
// a handler; a failed delivery is retried after RetryPolicy::backoff (other
// events of the queue go on meanwhile) and dead-lettered after max_attempts.
//
// Queues live in memory: events accepted by publish() but not yet handled are
// lost if the process dies (the outbox row is already marked sent then).
class LocalBus final : public Publisher {
 public:
  // `max_queued`: per queue, events waiting (ready or delayed for a retry)
  // above which publish() refuses new ones.
  explicit LocalBus(Metrics& metrics, std::size_t max_queued = 10'000);
  ~LocalBus() override;  // stop()
  LocalBus(const LocalBus&) = delete;
  LocalBus& operator=(const LocalBus&) = delete;

  // Adds queue `queue` bound to `patterns` (see topic_matches) and starts its
  // worker. Events published before are not delivered to it: subscribe before
  // starting relays. Throws std::invalid_argument for an empty or duplicate
  // queue name, no or a bad pattern, or max_attempts < 1.
  void subscribe(std::string queue, std::vector<std::string> patterns, Handler handler,
                 RetryPolicy retry = {});

  // Appends the event to every matching queue (none: dropped, as RabbitMQ
  // drops an unroutable message) and returns. All or nothing: throws
  // core::Error (transient) when a matching queue is full or the bus stopped,
  // std::invalid_argument for an invalid event.
  void publish(const Event& event) override;

  // The events `queue` gave up on, oldest first (the last 1000 are kept).
  std::vector<DeadLetter> dead_letters(std::string_view queue) const;

  // Waits until no queue holds an event (ready or awaiting a retry) and no
  // handler runs. Returns false when `timeout` passed first.
  bool wait_idle(std::chrono::milliseconds timeout) const;

  // Stops accepting events, lets running handlers finish, joins the workers.
  // Events still queued are dropped (and logged). Idempotent.
  void stop() noexcept;

 private:
  struct Queue;
  void work(Queue& q, core::Worker& worker);

  Metrics& metrics_;
  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  mutable std::condition_variable idle_;
  bool stopped_ = false;
  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace emporium::bus
