#include "bus/consumer.hpp"

#include <stdexcept>

#include "bus/amqp_connection.hpp"
#include "core/error.hpp"
#include "obs/log.hpp"

namespace emporium::bus {
namespace {

using namespace std::chrono_literals;
using detail::AmqpConnection;

constexpr auto kPoll = 200ms;  // how often the consume loop looks for a stop
constexpr std::size_t kMaxErrorText = 1000;

std::string body_of(const amqp_envelope_t& env) {
  const auto& b = env.message.body;
  return b.len == 0 ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

std::string routing_key_of(const amqp_envelope_t& env) {
  const auto& b = env.routing_key;
  return b.len == 0 ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

timeval poll_timeval() {
  timeval tv{};
  tv.tv_usec = std::chrono::duration_cast<std::chrono::microseconds>(kPoll).count();
  return tv;
}

// The exchange, the queue and its retry and dead-letter queues, the bindings.
void declare_topology(AmqpConnection& conn, const ConsumerOptions& options) {
  const std::string& q = options.queue;
  conn.declare_exchange(options.exchange);
  conn.declare_queue(q);
  conn.declare_queue(q + ".retry",
                     {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", q}});
  conn.declare_queue(q + ".dead");
  for (const auto& pattern : options.bindings) {
    conn.bind(q, options.exchange, pattern);
  }
}

// Frees a consumed envelope's memory when the delivery is done with.
struct EnvelopeRelease {
  amqp_envelope_t& env;
  ~EnvelopeRelease() { amqp_destroy_envelope(&env); }
};

// A method frame other than basic.deliver is waiting: reads it. Throws
// (AmqpConnection::fail) when the broker closed the channel or the
// connection or cancelled the subscription, or the read failed.
void read_pending_frame(AmqpConnection& conn) {
  amqp_frame_t frame{};
  timeval tv = poll_timeval();
  const int rc = amqp_simple_wait_frame_noblock(conn.get(), &frame, &tv);
  if (rc == AMQP_STATUS_TIMEOUT) {
    return;
  }
  if (rc != AMQP_STATUS_OK) {
    conn.fail(std::string("reading a frame: ") + amqp_error_string2(rc));
  }
  if (frame.frame_type == AMQP_FRAME_METHOD) {
    switch (frame.payload.method.id) {
      case AMQP_CHANNEL_CLOSE_METHOD:
        conn.fail("the broker closed the channel");
      case AMQP_CONNECTION_CLOSE_METHOD:
        conn.fail("the broker closed the connection");
      case AMQP_BASIC_CANCEL_METHOD:
        conn.fail("the broker cancelled the subscription (queue deleted?)");
      default:
        break;
    }
  }
}

// Waits up to kPoll for a delivery. True with `env` filled in (to be
// destroyed by the caller); false when none came or another frame was read
// instead. Throws (AmqpConnection::fail) when the connection failed.
bool next_delivery(AmqpConnection& conn, amqp_envelope_t& env) {
  timeval tv = poll_timeval();
  const auto reply = amqp_consume_message(conn.get(), &env, &tv, 0);
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      reply.library_error == AMQP_STATUS_TIMEOUT) {
    return false;
  }
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
    read_pending_frame(conn);
    return false;
  }
  conn.check(reply, "consume");
  return true;
}

}  // namespace

void declare_queue(const ConsumerOptions& options) {
  AmqpConnection conn(detail::parse_amqp_url(options.url, options.ca_file), options.timeout, 0,
                      options.connection_name + " (set-up)");
  declare_topology(conn, options);
}

// One connection's worth of state: the consuming connection and, created on
// the first failure, a second one in confirm mode for retries and dead letters.
struct RabbitConsumer::Session {
  const ConsumerOptions& options;
  const detail::AmqpUrl& url;
  AmqpConnection conn;
  std::unique_ptr<AmqpConnection> side;

  Session(const ConsumerOptions& o, const detail::AmqpUrl& u)
      : options(o), url(u), conn(u, o.timeout, o.heartbeat_seconds, o.connection_name) {}

  void republish(const detail::Message& m) {
    try {
      if (side == nullptr || side->broken()) {
        side.reset();
        auto s = std::make_unique<AmqpConnection>(url, options.timeout, 0,
                                                  options.connection_name + " (retries)");
        s->confirm_select();
        side = std::move(s);
      }
      side->publish(m, detail::Clock::now() + options.timeout);
    } catch (...) {
      side.reset();
      throw;
    }
  }

  void ack(std::uint64_t tag) {
    const int rc = amqp_basic_ack(conn.get(), 1, tag, 0);
    if (rc != AMQP_STATUS_OK) {
      conn.fail(std::string("basic.ack: ") + amqp_error_string2(rc));
    }
  }
};

RabbitConsumer::RabbitConsumer(ConsumerOptions options, Handler handler, Metrics& metrics)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      consumed_(metrics.consumed.with({options_.queue})),
      failed_(metrics.failed.with({options_.queue})),
      dead_lettered_(metrics.dead_lettered.with({options_.queue})) {
  detail::parse_amqp_url(options_.url, options_.ca_file);  // throws when malformed
  if (options_.queue.empty() || options_.queue.size() > 240) {
    throw std::invalid_argument("RabbitConsumer: the queue name must have 1 to 240 characters");
  }
  if (options_.bindings.empty()) {
    throw std::invalid_argument("RabbitConsumer: queue " + options_.queue +
                                " has no binding pattern");
  }
  for (const auto& p : options_.bindings) {
    validate_pattern(p);
  }
  if (options_.retry.max_attempts < 1) {
    throw std::invalid_argument("RabbitConsumer: max_attempts must be >= 1");
  }
  if (!handler_) {
    throw std::invalid_argument("RabbitConsumer: no handler");
  }
  worker_.emplace("amqp:" + options_.queue, [this](core::Worker& w) { run(w); });
}

RabbitConsumer::~RabbitConsumer() {
  stop();
}

void RabbitConsumer::stop() noexcept {
  if (worker_) {
    worker_->stop();
  }
}

void RabbitConsumer::run(core::Worker& worker) {
  auto wait = options_.reconnect_min;
  while (worker.running()) {
    try {
      session(worker);
    } catch (const std::exception& e) {
      obs::warn("RabbitMQ consumer disconnected; reconnecting",
                {{"queue", options_.queue},
                 {"error", e.what()},
                 {"retry_in_ms", static_cast<std::int64_t>(wait.count())}});
      if (connected_.exchange(false)) {
        wait = options_.reconnect_min;  // it had worked: start the backoff over
      }
    }
    connected_ = false;
    worker.sleep_for(wait);
    wait = std::min(wait * 2, options_.reconnect_max);
  }
}

// A delivery taken off the queue and not yet settled, and, once the handler
// did not take it, why.
struct RabbitConsumer::Delivery {
  const amqp_envelope_t& env;
  std::string body;
  std::int64_t previous_failures = 0;  // its x-attempts header
  Event event{};                       // decoded from body unless malformed
  std::string error{};                 // at most kMaxErrorText characters
  bool malformed = false;              // the body is not a valid envelope
};

void RabbitConsumer::session(const core::Worker& worker) {
  const auto url = detail::parse_amqp_url(options_.url, options_.ca_file);
  Session s(options_, url);
  subscribe(s);
  while (worker.running()) {
    amqp_maybe_release_buffers(s.conn.get());
    amqp_envelope_t env{};
    if (!next_delivery(s.conn, env)) {
      continue;
    }
    const EnvelopeRelease release{env};
    Delivery d{.env = env,
               .body = body_of(env),
               .previous_failures = detail::header_int(env.message.properties, "x-attempts", 0)};
    handle(s, d);
  }
}

void RabbitConsumer::subscribe(Session& s) {
  declare_topology(s.conn, options_);
  s.conn.qos(options_.prefetch);
  s.conn.consume(options_.queue);
  connected_ = true;
  obs::info("RabbitMQ consumer subscribed",
            {{"queue", options_.queue}, {"broker", s.url.redacted}});
}

void RabbitConsumer::handle(Session& s, Delivery& d) {
  try {
    d.event = decode(d.body);
  } catch (const std::invalid_argument& e) {
    d.malformed = true;
    d.error = std::string("malformed envelope: ") + e.what();
  }
  if (!d.malformed) {
    const auto failure = run_handler(handler_, d.event);
    if (!failure) {
      s.ack(d.env.delivery_tag);
      consumed_.inc();
      return;
    }
    d.error = *failure;
    failed_.inc();
  }
  if (d.error.size() > kMaxErrorText) {
    d.error.resize(kMaxErrorText);
  }
  retry_or_dead_letter(s, d);
}

void RabbitConsumer::retry_or_dead_letter(Session& s, const Delivery& d) {
  const auto& props = d.env.message.properties;
  const std::string& q = options_.queue;
  const std::int64_t failures = d.previous_failures + 1;
  const bool give_up = d.malformed || failures >= options_.retry.max_attempts;
  const std::string target = q + (give_up ? ".dead" : ".retry");
  const std::string expiration =
      give_up ? std::string()
              : std::to_string(options_.retry.backoff(static_cast<int>(failures)).count());
  const std::string message_id =
      d.malformed ? detail::property(props, AMQP_BASIC_MESSAGE_ID_FLAG, props.message_id)
                  : d.event.id;
  const detail::Message m{
      .exchange = "",
      .routing_key = target,
      .body = d.body,
      .message_id = message_id,
      .type = d.event.type,
      .content_type = "application/json",
      .expiration = expiration,
      .headers = {{"x-attempts", failures},
                  {"x-last-error", d.error},
                  {"x-original-routing-key", d.malformed ? routing_key_of(d.env) : d.event.type}}};
  try {
    s.republish(m);
  } catch (...) {
    // Back to the queue, to be tried again once the broker is reachable.
    amqp_basic_nack(s.conn.get(), 1, d.env.delivery_tag, 0, 1);
    throw;
  }
  s.ack(d.env.delivery_tag);
  if (give_up) {
    dead_lettered_.inc();
    obs::warn("event dead-lettered",
              {{"queue", q}, {"event_id", message_id}, {"attempts", failures}, {"error", d.error}});
  } else {
    obs::debug(
        "event handler failed; retrying",
        {{"queue", q}, {"event_id", message_id}, {"attempts", failures}, {"error", d.error}});
  }
}

}  // namespace emporium::bus
