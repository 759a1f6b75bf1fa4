#pragma once

// Internal to lib/bus (RabbitPublisher, RabbitConsumer): one rabbitmq-c
// connection with channel 1 open. Include only from lib/bus/*.cpp.

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace emporium::bus::detail {

using Clock = std::chrono::steady_clock;

struct AmqpUrl {
  std::string host{};
  int port = 5672;
  std::string user{};
  std::string password{};
  std::string vhost{};
  std::string redacted{};  // amqp://user:***@host:port/vhost, for messages
  bool tls = false;        // amqps://: TLS, the peer's certificate and host name verified
  std::string ca_file{};   // for tls: the CA certificates (PEM) to trust
};

// Parses amqp://user:pass@host:port[/vhost] and amqps://... (TLS, default
// port 5671; `ca_file` names the CA certificates to trust and must be
// readable; the host must be a name the certificate lists, not an IP
// address). Throws std::invalid_argument (without the password) when it is
// malformed.
AmqpUrl parse_amqp_url(const std::string& url, const std::string& ca_file = {});

struct Header {
  std::string key{};
  std::variant<std::int64_t, std::string> value;
};

// True when a TCP connection to the broker opens within `timeout` (closed at
// once, before any AMQP handshake).
bool tcp_reachable(const AmqpUrl& url, std::chrono::milliseconds timeout);

// A persistent message to publish.
struct Message {
  std::string_view exchange{};
  std::string_view routing_key{};
  std::string_view body{};
  std::string_view message_id{};
  std::string_view type{};
  std::string_view content_type = "application/json";
  std::string_view expiration{};  // per-message TTL in ms as text; empty: none
  std::vector<Header> headers{};
};

// Reads header `key` of a delivered message as an integer (any integer kind);
// `fallback` when absent or not an integer.
std::int64_t header_int(const amqp_basic_properties_t& props, std::string_view key,
                        std::int64_t fallback);

// The bytes of a delivered message property, or "" when unset.
std::string property(const amqp_basic_properties_t& props, amqp_flags_t flag,
                     const amqp_bytes_t& value);

class AmqpConnection {
 public:
  // Opens the TCP connection, logs in (`heartbeat` seconds, 0: none) and
  // opens channel 1, each step within `timeout`, which also becomes the
  // deadline of every later RPC. Throws core::Error (transient; timeout()
  // when a deadline passed).
  AmqpConnection(const AmqpUrl& url, std::chrono::milliseconds timeout, int heartbeat,
                 const std::string& name);
  // Closes the channel and connection politely unless the connection broke.
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  amqp_connection_state_t get() const noexcept { return conn_; }
  bool broken() const noexcept { return broken_; }

  // Marks the connection broken and throws core::Error (transient) naming the
  // broker and `what`.
  [[noreturn]] void fail(const std::string& what, bool timeout = false);
  // Throws as fail() unless `reply` is normal.
  void check(const amqp_rpc_reply_t& reply, std::string_view what);

  void declare_exchange(std::string_view name);  // durable topic exchange
  // A durable queue; `args` are string-valued queue arguments.
  void declare_queue(std::string_view name,
                     const std::vector<std::pair<std::string, std::string>>& args = {});
  void bind(std::string_view queue, std::string_view exchange, std::string_view pattern);
  void qos(std::uint16_t prefetch);
  void consume(std::string_view queue);  // manual acks
  void confirm_select();

  // Publishes on channel 1 and, in confirm mode, waits for the broker's ack
  // until `deadline`. Throws as fail(): on a nack, a closed channel or
  // connection, or the deadline.
  void publish(const Message& m, Clock::time_point deadline);

 private:
  void connect(const AmqpUrl& url, std::chrono::milliseconds timeout, int heartbeat,
               const std::string& name);
  void wait_confirm(std::uint64_t tag, Clock::time_point deadline);

  amqp_connection_state_t conn_ = nullptr;
  std::string where_{};
  std::uint64_t next_tag_ = 0;
  bool confirms_ = false;
  bool broken_ = false;
};

}  // namespace emporium::bus::detail
