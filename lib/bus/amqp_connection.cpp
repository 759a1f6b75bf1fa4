#include "bus/amqp_connection.hpp"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <fstream>
#include <stdexcept>

#include "core/error.hpp"

namespace emporium::bus::detail {
namespace {

constexpr amqp_channel_t kChannel = 1;

amqp_bytes_t bytes(std::string_view s) noexcept {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

std::string text(const amqp_bytes_t& b) {
  return b.len == 0 ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

timeval to_timeval(std::chrono::milliseconds ms) noexcept {
  if (ms.count() < 0) {
    ms = std::chrono::milliseconds(0);
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::chrono::milliseconds remaining(Clock::time_point deadline) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

// Describes an RPC reply that is not normal.
std::string describe(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD && r.reply.decoded != nullptr) {
        const auto* m = static_cast<const amqp_connection_close_t*>(r.reply.decoded);
        return "connection closed by the broker: " + std::to_string(m->reply_code) + " " +
               text(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD && r.reply.decoded != nullptr) {
        const auto* m = static_cast<const amqp_channel_close_t*>(r.reply.decoded);
        return "channel closed by the broker: " + std::to_string(m->reply_code) + " " +
               text(m->reply_text);
      }
      return "unexpected method from the broker";
    case AMQP_RESPONSE_NORMAL:
      break;
  }
  return "ok";
}

}  // namespace

AmqpUrl parse_amqp_url(const std::string& url, const std::string& ca_file) {
  std::vector<char> buf(url.begin(), url.end());
  buf.push_back('\0');
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (amqp_parse_url(buf.data(), &info) != AMQP_STATUS_OK) {
    // The URL may hold a password: name only its shape.
    throw std::invalid_argument(
        "malformed AMQP URL (expected amqp[s]://user:pass@host:port[/vhost])");
  }
  AmqpUrl u;
  u.host = info.host;
  u.port = info.port;
  u.user = info.user;
  u.password = info.password;
  u.vhost = info.vhost;
  u.tls = info.ssl != 0;
  u.ca_file = ca_file;
  if (u.tls) {
    // rabbitmq-c 0.11 verifies only against the CA file it is given.
    if (ca_file.empty()) {
      throw std::invalid_argument("amqps:// needs a CA file to verify the broker (amqp_ca_file)");
    }
    if (!std::ifstream(ca_file).good()) {
      throw std::invalid_argument("cannot read the CA file " + ca_file + " (amqp_ca_file)");
    }
  }
  u.redacted = std::string(u.tls ? "amqps://" : "amqp://") + u.user + ":***@" + u.host + ":" +
               std::to_string(u.port) + "/" + (u.vhost == "/" ? std::string() : u.vhost);
  return u;
}

std::int64_t header_int(const amqp_basic_properties_t& props, std::string_view key,
                        std::int64_t fallback) {
  if ((props._flags & AMQP_BASIC_HEADERS_FLAG) == 0) {
    return fallback;
  }
  for (int i = 0; i < props.headers.num_entries; ++i) {
    const auto& e = props.headers.entries[i];
    if (std::string_view(static_cast<const char*>(e.key.bytes), e.key.len) != key) {
      continue;
    }
    switch (e.value.kind) {
      case AMQP_FIELD_KIND_I8:
        return e.value.value.i8;
      case AMQP_FIELD_KIND_U8:
        return e.value.value.u8;
      case AMQP_FIELD_KIND_I16:
        return e.value.value.i16;
      case AMQP_FIELD_KIND_U16:
        return e.value.value.u16;
      case AMQP_FIELD_KIND_I32:
        return e.value.value.i32;
      case AMQP_FIELD_KIND_U32:
        return e.value.value.u32;
      case AMQP_FIELD_KIND_I64:
        return e.value.value.i64;
      case AMQP_FIELD_KIND_U64:
        return static_cast<std::int64_t>(e.value.value.u64);
      default:
        return fallback;
    }
  }
  return fallback;
}

std::string property(const amqp_basic_properties_t& props, amqp_flags_t flag,
                     const amqp_bytes_t& value) {
  return (props._flags & flag) != 0 ? text(value) : std::string();
}

bool tcp_reachable(const AmqpUrl& url, std::chrono::milliseconds timeout) {
  amqp_connection_state_t conn = amqp_new_connection();
  if (conn == nullptr) {
    return false;
  }
  amqp_socket_t* socket = amqp_tcp_socket_new(conn);
  timeval tv = to_timeval(timeout);
  const bool ok = socket != nullptr && amqp_socket_open_noblock(socket, url.host.c_str(), url.port,
                                                                &tv) == AMQP_STATUS_OK;
  amqp_destroy_connection(conn);  // closes the socket
  return ok;
}

AmqpConnection::AmqpConnection(const AmqpUrl& url, std::chrono::milliseconds timeout, int heartbeat,
                               const std::string& name)
    : where_(url.redacted) {
  try {
    connect(url, timeout, heartbeat, name);
  } catch (...) {
    if (conn_ != nullptr) {
      amqp_destroy_connection(conn_);
    }
    throw;
  }
}

void AmqpConnection::connect(const AmqpUrl& url, std::chrono::milliseconds timeout, int heartbeat,
                             const std::string& name) {
  conn_ = amqp_new_connection();
  if (conn_ == nullptr) {
    throw core::Error("amqp: out of memory", true);
  }
  amqp_socket_t* socket = url.tls ? amqp_ssl_socket_new(conn_) : amqp_tcp_socket_new(conn_);
  if (socket == nullptr) {
    fail("cannot create a socket");
  }
  if (url.tls) {
    amqp_ssl_socket_set_verify_peer(socket, 1);
    amqp_ssl_socket_set_verify_hostname(socket, 1);
    if (amqp_ssl_socket_set_cacert(socket, url.ca_file.c_str()) != AMQP_STATUS_OK) {
      fail("cannot read the CA certificates in " + url.ca_file);
    }
  }
  timeval tv = to_timeval(timeout);
  const int rc = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &tv);
  if (rc != AMQP_STATUS_OK) {
    fail(std::string("connect: ") + amqp_error_string2(rc), rc == AMQP_STATUS_TIMEOUT);
  }
  const int one = 1;
  ::setsockopt(amqp_socket_get_sockfd(socket), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);

  amqp_table_entry_t entry{};
  entry.key = amqp_cstring_bytes("connection_name");
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = bytes(name);
  amqp_table_t properties{1, &entry};
  check(amqp_login_with_properties(conn_, url.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, heartbeat,
                                   &properties, AMQP_SASL_METHOD_PLAIN, url.user.c_str(),
                                   url.password.c_str()),
        "login");
  amqp_channel_open(conn_, kChannel);
  check(amqp_get_rpc_reply(conn_), "channel.open");
}

AmqpConnection::~AmqpConnection() {
  if (conn_ == nullptr) {
    return;
  }
  if (!broken_) {
    // Short: a broker that stopped answering must not hold up shutdown.
    timeval tv = to_timeval(std::chrono::milliseconds(500));
    amqp_set_rpc_timeout(conn_, &tv);
    amqp_channel_close(conn_, kChannel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn_);
}

void AmqpConnection::fail(const std::string& what, bool timeout) {
  broken_ = true;
  throw core::Error("amqp " + where_ + ": " + what, true, timeout);
}

void AmqpConnection::check(const amqp_rpc_reply_t& reply, std::string_view what) {
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
    return;
  }
  const bool timeout = reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                       reply.library_error == AMQP_STATUS_TIMEOUT;
  fail(std::string(what) + ": " + describe(reply), timeout);
}

void AmqpConnection::declare_exchange(std::string_view name) {
  amqp_exchange_declare(conn_, kChannel, bytes(name), amqp_cstring_bytes("topic"), 0, 1, 0, 0,
                        amqp_empty_table);
  check(amqp_get_rpc_reply(conn_), "exchange.declare " + std::string(name));
}

void AmqpConnection::declare_queue(std::string_view name,
                                   const std::vector<std::pair<std::string, std::string>>& args) {
  std::vector<amqp_table_entry_t> entries(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    entries[i].key = bytes(args[i].first);
    entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[i].value.value.bytes = bytes(args[i].second);
  }
  const amqp_table_t table{static_cast<int>(entries.size()), entries.data()};
  amqp_queue_declare(conn_, kChannel, bytes(name), 0, 1, 0, 0, table);
  check(amqp_get_rpc_reply(conn_), "queue.declare " + std::string(name));
}

void AmqpConnection::bind(std::string_view queue, std::string_view exchange,
                          std::string_view pattern) {
  amqp_queue_bind(conn_, kChannel, bytes(queue), bytes(exchange), bytes(pattern), amqp_empty_table);
  check(amqp_get_rpc_reply(conn_), "queue.bind " + std::string(queue) + " " + std::string(pattern));
}

void AmqpConnection::qos(std::uint16_t prefetch) {
  amqp_basic_qos(conn_, kChannel, 0, prefetch, 0);
  check(amqp_get_rpc_reply(conn_), "basic.qos");
}

void AmqpConnection::consume(std::string_view queue) {
  amqp_basic_consume(conn_, kChannel, bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(conn_), "basic.consume " + std::string(queue));
}

void AmqpConnection::confirm_select() {
  amqp_confirm_select(conn_, kChannel);
  check(amqp_get_rpc_reply(conn_), "confirm.select");
  confirms_ = true;
  next_tag_ = 0;
}

void AmqpConnection::publish(const Message& m, Clock::time_point deadline) {
  std::vector<amqp_table_entry_t> entries(m.headers.size());
  for (std::size_t i = 0; i < m.headers.size(); ++i) {
    entries[i].key = bytes(m.headers[i].key);
    if (const auto* n = std::get_if<std::int64_t>(&m.headers[i].value)) {
      entries[i].value.kind = AMQP_FIELD_KIND_I64;
      entries[i].value.value.i64 = *n;
    } else {
      entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
      entries[i].value.value.bytes = bytes(std::get<std::string>(m.headers[i].value));
    }
  }
  amqp_basic_properties_t props{};
  props._flags =
      AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
  props.content_type = bytes(m.content_type);
  props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  props.timestamp =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  if (!m.message_id.empty()) {
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    props.message_id = bytes(m.message_id);
  }
  if (!m.type.empty()) {
    props._flags |= AMQP_BASIC_TYPE_FLAG;
    props.type = bytes(m.type);
  }
  if (!m.expiration.empty()) {
    props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    props.expiration = bytes(m.expiration);
  }
  if (!entries.empty()) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
  }
  const int rc = amqp_basic_publish(conn_, kChannel, bytes(m.exchange), bytes(m.routing_key), 0, 0,
                                    &props, bytes(m.body));
  if (rc != AMQP_STATUS_OK) {
    fail(std::string("basic.publish: ") + amqp_error_string2(rc));
  }
  if (confirms_) {
    wait_confirm(++next_tag_, deadline);
  }
  amqp_maybe_release_buffers(conn_);
}

void AmqpConnection::wait_confirm(std::uint64_t tag, Clock::time_point deadline) {
  while (true) {
    const auto left = remaining(deadline);
    if (left.count() <= 0) {
      fail("no publisher confirm before the deadline", true);
    }
    timeval tv = to_timeval(left);
    amqp_frame_t frame{};
    const int rc = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT) {
      fail("no publisher confirm before the deadline", true);
    }
    if (rc != AMQP_STATUS_OK) {
      fail(std::string("waiting for a publisher confirm: ") + amqp_error_string2(rc));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) {
      continue;  // content of a basic.return (unroutable messages are not returned)
    }
    switch (frame.payload.method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        const auto* ack = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
        if (ack->delivery_tag == tag || (ack->multiple != 0 && ack->delivery_tag >= tag)) {
          return;
        }
        break;
      }
      case AMQP_BASIC_NACK_METHOD: {
        const auto* nack = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
        if (nack->delivery_tag == tag || (nack->multiple != 0 && nack->delivery_tag >= tag)) {
          fail("the broker refused the message (basic.nack)");
        }
        break;
      }
      case AMQP_CHANNEL_CLOSE_METHOD: {
        const auto* m = static_cast<const amqp_channel_close_t*>(frame.payload.method.decoded);
        fail("channel closed by the broker: " + std::to_string(m->reply_code) + " " +
             text(m->reply_text));
      }
      case AMQP_CONNECTION_CLOSE_METHOD: {
        const auto* m = static_cast<const amqp_connection_close_t*>(frame.payload.method.decoded);
        fail("connection closed by the broker: " + std::to_string(m->reply_code) + " " +
             text(m->reply_text));
      }
      default:
        break;
    }
  }
}

}  // namespace emporium::bus::detail
