#include "bus/publisher.hpp"

#include <atomic>

#include "bus/amqp_connection.hpp"
#include "core/error.hpp"
#include "obs/log.hpp"

namespace emporium::bus {

struct RabbitPublisher::Impl {
  RabbitOptions options;
  detail::AmqpUrl url;
  std::mutex mutex;
  std::unique_ptr<detail::AmqpConnection> conn;
  // The outcome of the last connect or publish; false before the first.
  std::atomic<bool> last_ok{false};

  // Caller holds the mutex.
  void ensure_connected() {
    if (conn != nullptr && conn->broken()) {
      conn.reset();
    }
    if (conn == nullptr) {
      auto c = std::make_unique<detail::AmqpConnection>(url, options.timeout, 0,
                                                        options.connection_name);
      c->confirm_select();
      c->declare_exchange(options.exchange);
      conn = std::move(c);
      obs::info("connected to RabbitMQ", {{"broker", url.redacted}, {"role", "publisher"}});
    }
  }
};

RabbitPublisher::RabbitPublisher(RabbitOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->url = detail::parse_amqp_url(options.url, options.ca_file);
  impl_->options = std::move(options);
}

RabbitPublisher::~RabbitPublisher() = default;

void RabbitPublisher::connect() {
  std::lock_guard lock(impl_->mutex);
  try {
    impl_->ensure_connected();
  } catch (const core::Error&) {
    impl_->last_ok = false;
    throw;
  }
  impl_->last_ok = true;
}

bool RabbitPublisher::probe(std::chrono::milliseconds timeout) {
  if (impl_->last_ok.load()) {
    return detail::tcp_reachable(impl_->url, timeout);
  }
  try {
    connect();
    return true;
  } catch (const core::Error&) {
    return false;
  }
}

void RabbitPublisher::publish(const Event& event) {
  const std::string body = encode(event);  // validates
  detail::Message m{.exchange = impl_->options.exchange,
                    .routing_key = event.type,
                    .body = body,
                    .message_id = event.id,
                    .type = event.type,
                    .content_type = "application/json",
                    .expiration = {},
                    .headers = {}};
  std::lock_guard lock(impl_->mutex);
  const auto deadline = detail::Clock::now() + impl_->options.timeout;
  for (int attempt = 0;; ++attempt) {
    // A connection kept from an earlier publish may have died meanwhile
    // (broker restart): that failure earns one more try on a fresh one.
    const bool reused = impl_->conn != nullptr && !impl_->conn->broken();
    try {
      impl_->ensure_connected();
      impl_->conn->publish(m, deadline);
      impl_->last_ok = true;
      return;
    } catch (const core::Error& e) {
      impl_->conn.reset();
      if (!(reused && attempt == 0 && !e.timeout() && detail::Clock::now() < deadline)) {
        impl_->last_ok = false;
        throw;
      }
    }
  }
}

}  // namespace emporium::bus
